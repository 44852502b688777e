package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestZigguratTables checks the tables zigSetup computes against the published constants
// for 256 layers (Marsaglia & Tsang 2000: r = 3.6541528853610088, v = 4.92867323399e-3) and
// against their defining equations: every region has area v (the rectangles
// x_i (f(x_{i+1}) − f(x_i)), the base strip r f(r) + tail), to 1e-12 relative.
func TestZigguratTables(t *testing.T) {
	if math.Abs(zigR-3.6541528853610088) > 1e-12 {
		t.Errorf("r = %.17g, want 3.6541528853610088", zigR)
	}
	if math.Abs(zigV-4.92867323399e-3) > 1e-13 {
		t.Errorf("v = %.15g, want 4.92867323399e-3", zigV)
	}
	if a := zigX[0] * zigF[0]; math.Abs(a-zigV) > 1e-12*zigV {
		t.Errorf("base strip area %v, want v = %v", a, zigV)
	}
	for i := 1; i < zigLayers; i++ {
		a := zigX[i] * (zigF[i+1] - zigF[i])
		if math.Abs(a-zigV) > 1e-12*zigV {
			t.Errorf("region %d: area %v, want v = %v", i, a, zigV)
		}
		if !(zigX[i+1] < zigX[i]) || math.Abs(zigF[i]-zigGauss(zigX[i])) > 1e-15 {
			t.Errorf("region %d: x = %v, %v; f = %v", i, zigX[i], zigX[i+1], zigF[i])
		}
	}
}

// draws returns n normals from FillNormals on stream (seed, 1), in slices of 1000.
func draws(n int, seed uint64) []float64 {
	z := make([]float64, n)
	src := rand.NewPCG(seed, 1)
	for i := 0; i < n; i += 1000 {
		FillNormals(z[i:min(n, i+1000)], src)
	}
	return z
}

// TestNormalMoments: mean, variance, skewness and excess kurtosis of 2·10⁶ draws within 4
// standard errors of 0, 1, 0, 0 (SEs 1/√n, √(2/n), √(6/n), √(24/n)).
func TestNormalMoments(t *testing.T) {
	const n = 2_000_000
	z := draws(n, 11)
	var m1, m2, m3, m4 float64
	for _, v := range z {
		v2 := v * v
		m1 += v
		m2 += v2
		m3 += v2 * v
		m4 += v2 * v2
	}
	m1, m2, m3, m4 = m1/n, m2/n, m3/n, m4/n
	for _, c := range []struct {
		name      string
		got, want float64
		se        float64
	}{
		{"mean", m1, 0, math.Sqrt(1.0 / n)},
		{"variance", m2, 1, math.Sqrt(2.0 / n)},
		{"skewness", m3, 0, math.Sqrt(6.0 / n)},
		{"excess kurtosis", m4 - 3, 0, math.Sqrt(24.0 / n)},
	} {
		if math.Abs(c.got-c.want) > 4*c.se {
			t.Errorf("%s %v, want %v ± 4·%.2g", c.name, c.got, c.want, c.se)
		}
	}
}

// normCDF is Φ(x).
func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// TestNormalKS: the Kolmogorov–Smirnov statistic of 10⁵ draws against Φ; √n D must stay
// below 1.63, the asymptotic critical value at level 0.01.
func TestNormalKS(t *testing.T) {
	const n = 100_000
	z := draws(n, 12)
	slices.Sort(z)
	var d float64
	for i, v := range z {
		f := normCDF(v)
		d = max(d, math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f))
	}
	if s := math.Sqrt(n) * d; s > 1.63 {
		t.Errorf("√n·D = %.3f > 1.63 (level 0.01)", s)
	} else {
		t.Logf("√n·D = %.3f", s)
	}
}

// TestNormalChiSquare: 10⁶ draws in 200 equiprobable bins (edges Φ⁻¹(j/200)); the χ²
// statistic (199 degrees of freedom) must stay below 266.4, its 0.999 quantile
// (Wilson–Hilferty).
func TestNormalChiSquare(t *testing.T) {
	const n, bins = 1_000_000, 200
	z := draws(n, 13)
	count := make([]float64, bins)
	for _, v := range z {
		j := int(normCDF(v) * bins)
		count[min(j, bins-1)]++
	}
	var chi2 float64
	e := float64(n) / bins
	for _, c := range count {
		chi2 += (c - e) * (c - e) / e
	}
	if chi2 > 266.4 {
		t.Errorf("χ² = %.1f > 266.4 (level 0.001, 199 df)", chi2)
	} else {
		t.Logf("χ² = %.1f (199 df)", chi2)
	}
}

// TestNormalTails: the frequencies of |z| > 3 and |z| > 4 (the latter only from the
// base strip's tail path, r ≈ 3.654) in 4·10⁶ draws within 4 binomial SEs of erfc(t/√2).
func TestNormalTails(t *testing.T) {
	const n = 4_000_000
	z := draws(n, 14)
	for _, c := range []float64{3, 4, 5} {
		var k float64
		for _, v := range z {
			if math.Abs(v) > c {
				k++
			}
		}
		p := math.Erfc(c / math.Sqrt2)
		se := math.Sqrt(n * p * (1 - p))
		if math.Abs(k-n*p) > 4*se+1 {
			t.Errorf("#{|z| > %v} = %v, want %.1f ± 4·%.1f", c, k, n*p, se)
		}
	}
}

// TestZigguratPaths: over 10⁶ 64-bit draws, the first draw of a normal takes the base
// strip's tail path (layer 0, x ≥ r) and the wedge path (layer ≥ 1, x ≥ x_{i+1}) with
// frequencies within 4 binomial SEs of their probabilities (1/256)(1 − r/x_0) and
// (1/256) Σ_{i≥1} (1 − x_{i+1}/x_i), both hit; and the tail path's draws (zigTail) follow
// the conditional law P(Z > r + s | Z > r) (KS at level 0.01 on 2·10⁴ draws).
func TestZigguratPaths(t *testing.T) {
	const n = 1_000_000
	src := rand.NewPCG(15, 1)
	var tail, wedge float64
	for range n {
		i, _, un := zigSplit(src.Uint64())
		if x := un * zigX[i]; x >= zigX[i+1] {
			if i == 0 {
				tail++
			} else {
				wedge++
			}
		}
	}
	pTail := (1 - zigR/zigX[0]) / zigLayers
	var pWedge float64
	for i := 1; i < zigLayers; i++ {
		pWedge += (1 - zigX[i+1]/zigX[i]) / zigLayers
	}
	for _, c := range []struct {
		name string
		k, p float64
	}{{"tail", tail, pTail}, {"wedge", wedge, pWedge}} {
		se := math.Sqrt(n * c.p * (1 - c.p))
		if c.k == 0 || math.Abs(c.k-n*c.p) > 4*se {
			t.Errorf("%s path: %v of %d, want %.1f ± 4·%.1f", c.name, c.k, n, n*c.p, se)
		}
	}
	const m = 20_000
	x := make([]float64, m)
	for j := range x {
		x[j] = zigTail(src)
	}
	slices.Sort(x)
	if x[0] <= zigR {
		t.Fatalf("tail draw %v ≤ r = %v", x[0], zigR)
	}
	q := math.Erfc(zigR / math.Sqrt2)
	var d float64
	for i, v := range x {
		f := 1 - math.Erfc(v/math.Sqrt2)/q
		d = max(d, math.Abs(f-float64(i)/m), math.Abs(float64(i+1)/m-f))
	}
	if s := math.Sqrt(m) * d; s > 1.63 {
		t.Errorf("tail path: √n·D = %.3f > 1.63", s)
	}
}

// BenchmarkNormals: 569 normals (breast cancer's N) by FillNormals and by
// rand.Rand.NormFloat64, the previous generator.
func BenchmarkNormals(b *testing.B) {
	z := make([]float64, 569)
	b.Run("ziggurat", func(b *testing.B) {
		src := rand.NewPCG(1, 2)
		for range b.N {
			FillNormals(z, src)
		}
	})
	b.Run("lanes8", func(b *testing.B) {
		// fillNormals8 (AVX-512) on 8 streams, the layout of a lock-step group; one op is
		// 569 draws (an eighth of a call).
		if !useZig8 {
			b.Skip("no AVX-512")
		}
		ws := make([]float64, 8*len(z))
		var srcs [8]*rand.PCG
		for l := range srcs {
			srcs[l] = rand.NewPCG(1, uint64(l))
		}
		var sums [8]float64
		for i := 0; i < b.N; i += 8 {
			fillNormals8(ws, len(z), &srcs, &sums)
		}
	})
	b.Run("NormFloat64", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		for range b.N {
			for i := range z {
				z[i] = rng.NormFloat64()
			}
		}
	})
}

// fillNormalsRef is FillNormals as it was before fillNormalsSum (the draws alone).
func fillNormalsRef(dst []float64, src *rand.PCG) {
	for j := range dst {
		u := src.Uint64()
		i, _, un := zigSplit(u)
		x := un * zigX[i]
		if x >= zigX[i+1] {
			x = zigSlow(src, i, x)
		}
		dst[j] = math.Float64frombits(math.Float64bits(x) | (u&(1<<8))<<55)
	}
}

// TestFillNormalsSame: FillNormals and fillNormalsSum give the draws of fillNormalsRef bit
// for bit and leave the stream in the same state (the next outputs agree), over 2000 streams
// and lengths 0 to 3000 (so the slow paths, wedge and tail, are taken many times); the sum is
// the draws added in order.
func TestFillNormalsSame(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for k := range 2000 {
		n := r.IntN(3001)
		s1, s2 := r.Uint64(), r.Uint64()
		a, b := rand.NewPCG(s1, s2), rand.NewPCG(s1, s2)
		got, want := make([]float64, n), make([]float64, n)
		var sum float64
		if k%2 == 0 {
			FillNormals(got, a)
		} else {
			sum = fillNormalsSum(got, a)
		}
		fillNormalsRef(want, b)
		var ws float64
		for j := range want {
			if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
				t.Fatalf("stream (%d, %d), n = %d: draw %d = %v, want %v", s1, s2, n, j, got[j], want[j])
			}
			ws += want[j]
		}
		if k%2 == 1 && math.Float64bits(sum) != math.Float64bits(ws) {
			t.Fatalf("stream (%d, %d), n = %d: sum %v, want %v", s1, s2, n, sum, ws)
		}
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("stream (%d, %d), n = %d: next output %#x, want %#x", s1, s2, n, x, y)
		}
	}
}

// TestFillNormals8: fillNormals8 (AVX-512) gives each of its 8 streams the draws, the sum
// and the final state of fillNormalsSum on that stream alone, bit for bit, over 400 sets of
// streams (the all-zero and all-ones states among them) and lengths 0 to 3000, so that the
// slow paths (wedge and tail) are taken in many rows, several lanes at once among them.
func TestFillNormals8(t *testing.T) {
	if !useZig8 {
		t.Skip("no AVX-512 F+DQ on this CPU (or the purego build): fillNormals8 is not used")
	}
	r := rand.New(rand.NewPCG(3, 4))
	tailDraws := 0 // |z| ≥ r: drawn by zigTail, the slow path that can be told from the value
	for k := range 400 {
		n := r.IntN(3001)
		var srcs, refs [8]*rand.PCG
		for l := range srcs {
			s1, s2 := r.Uint64(), r.Uint64()
			switch k {
			case 0:
				s1, s2 = 0, 0
			case 1:
				s1, s2 = math.MaxUint64, math.MaxUint64
			}
			srcs[l], refs[l] = rand.NewPCG(s1, s2), rand.NewPCG(s1, s2)
		}
		dst := make([]float64, 8*n)
		var sums [8]float64
		fillNormals8(dst, n, &srcs, &sums)
		want := make([]float64, n)
		for l := range srcs {
			ws := fillNormalsSum(want, refs[l])
			for i := range n {
				if math.Float64bits(dst[8*i+l]) != math.Float64bits(want[i]) {
					t.Fatalf("set %d, n = %d, lane %d: draw %d = %v, want %v", k, n, l, i, dst[8*i+l], want[i])
				}
				if math.Abs(want[i]) >= zigX[1] {
					tailDraws++
				}
			}
			if math.Float64bits(sums[l]) != math.Float64bits(ws) {
				t.Fatalf("set %d, n = %d, lane %d: sum %v, want %v", k, n, l, sums[l], ws)
			}
			if x, y := srcs[l].Uint64(), refs[l].Uint64(); x != y {
				t.Fatalf("set %d, n = %d, lane %d: next output %#x, want %#x", k, n, l, x, y)
			}
		}
	}
	if tailDraws == 0 {
		t.Fatal("no draw came from the tail: the slow path was not exercised")
	}
}
