package noise

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
)

func TestParseSampling(t *testing.T) {
	for _, s := range []Sampling{With, Without, Reshuffle} {
		got, err := ParseSampling(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSampling(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseSampling("sometimes"); err == nil {
		t.Error("ParseSampling(sometimes): no error")
	}
}

func mustKappa(t *testing.T, s Sampling, n, b int) float64 {
	t.Helper()
	k, err := Kappa(s, n, b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKappa checks κ_B against the brute-force variance of the mean of a mini-batch drawn
// from a fixed population, enumerated exactly for every subset (without) and every tuple
// (with).
func TestKappa(t *testing.T) {
	pop := []float64{0.3, -1.2, 2.5, 0.7, -0.4}
	n := len(pop)
	var mean, c float64
	for _, v := range pop {
		mean += v / float64(n)
	}
	for _, v := range pop {
		c += (v - mean) * (v - mean) / float64(n)
	}
	for b := 1; b <= n; b++ {
		// Without: all subsets of size b.
		var s, s2 float64
		var count int
		for mask := 0; mask < 1<<n; mask++ {
			var m float64
			k := 0
			for i := range n {
				if mask&(1<<i) != 0 {
					m += pop[i]
					k++
				}
			}
			if k != b {
				continue
			}
			m /= float64(b)
			s += m
			s2 += m * m
			count++
		}
		v := s2/float64(count) - (s/float64(count))*(s/float64(count))
		if got := mustKappa(t, Without, n, b) * c; math.Abs(got-v) > 1e-12 {
			t.Errorf("without, B=%d: κ_B·C = %v, exact variance %v", b, got, v)
		}
		if got := mustKappa(t, Reshuffle, n, b); got != mustKappa(t, Without, n, b) {
			t.Errorf("reshuffle κ_B %v differs from without", got)
		}
		// With: all n^b tuples.
		s, s2, count = 0, 0, 0
		idx := make([]int, b)
		for {
			var m float64
			for _, i := range idx {
				m += pop[i]
			}
			m /= float64(b)
			s += m
			s2 += m * m
			count++
			j := 0
			for j < b {
				idx[j]++
				if idx[j] < n {
					break
				}
				idx[j] = 0
				j++
			}
			if j == b {
				break
			}
		}
		v = s2/float64(count) - (s/float64(count))*(s/float64(count))
		if got := mustKappa(t, With, n, b) * c; math.Abs(got-v) > 1e-12 {
			t.Errorf("with, B=%d: κ_B·C = %v, exact variance %v", b, got, v)
		}
	}
}

func TestKappaErrors(t *testing.T) {
	if _, err := Kappa(Without, 5, 6); field.As(err) == nil || field.As(err).Key != "batch" {
		t.Errorf("B > N: %v, want a batch field error", err)
	}
	if _, err := Kappa(Without, 1, 1); field.As(err) == nil || field.As(err).Key != "sampling" {
		t.Errorf("N = 1 without replacement: %v, want a sampling field error", err)
	}
	if k, err := Kappa(With, 1, 1); err != nil || k != 1 {
		t.Errorf("N = 1 with replacement: %v, %v", k, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Kappa(B = 0) did not panic")
		}
	}()
	Kappa(With, 5, 0)
}

// refBatches is the mini-batch draw sim used before Sampler (the reference sequences).
func refBatches(s Sampling, n, b, steps int, rng *rand.Rand) [][]int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	pos := n
	var out [][]int
	for range steps {
		idx := make([]int, b)
		switch s {
		case With:
			for j := range idx {
				idx[j] = rng.IntN(n)
			}
		case Without:
			for j := 0; j < b; j++ {
				i := j + rng.IntN(n-j)
				perm[j], perm[i] = perm[i], perm[j]
			}
			copy(idx, perm[:b])
		default:
			if pos+b > n {
				for j := n - 1; j > 0; j-- {
					i := rng.IntN(j + 1)
					perm[j], perm[i] = perm[i], perm[j]
				}
				pos = 0
			}
			copy(idx, perm[pos:pos+b])
			pos += b
		}
		out = append(out, idx)
	}
	return out
}

func TestSamplerSequences(t *testing.T) {
	for _, s := range []Sampling{With, Without, Reshuffle} {
		for _, nb := range [][2]int{{10, 3}, {7, 7}, {5, 1}, {12, 5}} {
			n, b := nb[0], nb[1]
			want := refBatches(s, n, b, 50, rand.New(rand.NewPCG(3, 4)))
			sp := NewSampler(s, n, b)
			rng := rand.New(rand.NewPCG(3, 4))
			for k, w := range want {
				got := sp.Next(rng)
				if !slices.Equal(got, w) {
					t.Fatalf("%v N=%d B=%d: batch %d = %v, want %v", s, n, b, k, got, w)
				}
			}
		}
	}
}

func TestSamplerRestore(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := NewSampler(Reshuffle, 9, 4)
	for range 3 {
		a.Next(rng)
	}
	perm, pos := a.State()
	b := NewSampler(Reshuffle, 9, 4)
	if err := b.Restore(perm, pos); err != nil {
		t.Fatal(err)
	}
	r1, r2 := rand.New(rand.NewPCG(5, 6)), rand.New(rand.NewPCG(5, 6))
	for k := range 10 {
		if x, y := a.Next(r1), b.Next(r2); !slices.Equal(x, y) {
			t.Fatalf("batch %d after restore: %v, want %v", k, y, x)
		}
	}
	for name, tc := range map[string]struct {
		perm []int
		pos  int
	}{
		"short":    {[]int{0, 1}, 0},
		"repeat":   {[]int{0, 0, 2, 3, 4, 5, 6, 7, 8}, 0},
		"position": {[]int{0, 1, 2, 3, 4, 5, 6, 7, 8}, 10},
	} {
		if err := b.Restore(tc.perm, tc.pos); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := NewSampler(With, 3, 2).Restore([]int{0, 1, 2}, 0); err == nil {
		t.Error("With: a permutation buffer was accepted")
	}
	if p, _ := NewSampler(With, 3, 2).State(); p != nil {
		t.Error("With has a permutation buffer")
	}
}

func TestCentreAndProjectedCovariance(t *testing.T) {
	g := mat.NewDense(4, 2, []float64{1, 2, 3, 5, -1, 0, 1, 1})
	a := mat.DenseCopyOf(g)
	SubtractMean(a, []float64{1, 2})
	CentreColumns(g)
	if !mat.Equal(a, g) {
		t.Fatalf("CentreColumns %v, SubtractMean %v", mat.Formatted(g), mat.Formatted(a))
	}
	gv := mat.NewDense(4, 2, []float64{1, 2, 3, 5, -1, 0, 1, 1})
	var dst mat.SymDense
	ProjectedCovariance(&dst, gv, 0.5)
	// (κ/N) Σ_i c_i c_iᵀ with c_i the centred rows: rows (0,0), (2,3), (−2,−2), (0,−1).
	want := mat.NewSymDense(2, []float64{0.5 * 8 / 4, 0.5 * 10 / 4, 0.5 * 10 / 4, 0.5 * 14 / 4})
	if !mat.EqualApprox(&dst, want, 1e-15) {
		t.Errorf("ProjectedCovariance = %v, want %v", mat.Formatted(&dst), mat.Formatted(want))
	}
}
