package landscape

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

func TestNormalQuantiles(t *testing.T) {
	for _, n := range []int{2, 3, 10, 1001} {
		q := normalQuantiles(n)
		m, v := meanVar(q)
		if math.Abs(m) > 1e-15 || math.Abs(v-1) > 1e-14 {
			t.Errorf("n = %d: mean %g, variance %g, want 0 and 1", n, m, v)
		}
		for i := 1; i < n; i++ {
			if !(q[i] > q[i-1]) {
				t.Fatalf("n = %d: quantiles not increasing at %d", n, i)
			}
		}
	}
	// Before standardisation the points are Φ⁻¹((i − ½)/n): the rescaling is close to 1.
	q := normalQuantiles(1000)
	want := distuv.UnitNormal.Quantile(0.5 / 1000)
	if r := q[0] / want; math.Abs(r-1) > 0.05 {
		t.Errorf("first quantile %g, Φ⁻¹(1/2000) = %g", q[0], want)
	}
}

func TestWhitenedPair(t *testing.T) {
	for _, n := range []int{3, 4, 7, 10, 500, 1000} {
		x, y := whitenedPair(n)
		mx, vx := meanVar(x)
		my, vy := meanVar(y)
		c := covariance(x, y)
		if math.Abs(mx) > 1e-14 || math.Abs(my) > 1e-14 || math.Abs(vx-1) > 1e-13 || math.Abs(vy-1) > 1e-13 || math.Abs(c) > 1e-14 {
			t.Errorf("n = %d: means %g %g, variances %g %g, covariance %g", n, mx, my, vx, vy, c)
		}
	}
}

func TestGaussKronrodRules(t *testing.T) {
	// K15 is exact for degree ≤ 22, G7 for degree ≤ 13.
	for k := 0; k <= 23; k++ {
		want := 0.0
		if k%2 == 0 {
			want = 2 / float64(k+1)
		}
		var gk, g float64
		for j, x := range gkNodes {
			gk += gkWeights[j] * math.Pow(x, float64(k))
			g += gaussAt[j] * math.Pow(x, float64(k))
		}
		if k <= 22 && math.Abs(gk-want) > 1e-15 {
			t.Errorf("K15 on x^%d: %v, want %v", k, gk, want)
		}
		if k <= 13 && math.Abs(g-want) > 1e-15 {
			t.Errorf("G7 on x^%d: %v, want %v", k, g, want)
		}
	}
	// The cumulative matrix integrates degree ≤ 14 exactly from −1 to each node, and its
	// last row (up to x_14 < 1) plus the remainder matches the full rule.
	for k := 0; k <= 14; k++ {
		for j, x := range gkNodes {
			var s float64
			for m, xm := range gkNodes {
				s += gkCum[j][m] * math.Pow(xm, float64(k))
			}
			want := (math.Pow(x, float64(k+1)) - math.Pow(-1, float64(k+1))) / float64(k+1)
			if math.Abs(s-want) > 1e-13 {
				t.Errorf("cumulative row %d on x^%d: %v, want %v", j, k, s, want)
			}
		}
	}
}

func TestIntegrate(t *testing.T) {
	cases := []struct {
		name string
		f    func(float64) float64
		a, b float64
		want float64
	}{
		{"sin", math.Sin, 0, math.Pi, 2},
		{"reversed", math.Sin, math.Pi, 0, -2},
		{"gauss", func(x float64) float64 { return math.Exp(-x * x) }, -10, 10, math.Sqrt(math.Pi)},
		{"peak", func(x float64) float64 { return 1e-4 / (1e-8 + (x-0.3)*(x-0.3)) }, 0, 1, math.Atan(0.7/1e-4) + math.Atan(0.3/1e-4)},
		{"sqrt", math.Sqrt, 0, 1, 2.0 / 3},
	}
	for _, c := range cases {
		got, est, ok := Integrate(c.f, c.a, c.b, 1e-12, 1e-12, 2000)
		if !ok || math.Abs(got-c.want) > 1e-10*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s: %v (estimate %g, ok %v), want %v", c.name, got, est, ok, c.want)
		}
	}
}

func TestBrent(t *testing.T) {
	r, err := brent(func(x float64) float64 { return math.Cos(x) - x }, 0, 1, 1e-15)
	if err != nil || math.Abs(r-0.7390851332151607) > 1e-15 {
		t.Errorf("root of cos x = x: %v (%v)", r, err)
	}
	if _, err := brent(math.Exp, 0, 1, 1e-12); err == nil {
		t.Error("no error for an unbracketed root")
	}
	// Critical points of x⁴/4 − x²/2 (derivative x³ − x): minima ±1, maximum 0.
	mins, maxs := criticalPoints1D(func(x float64) float64 { return x*x*x - x }, -2, 2.1, 100)
	if len(mins) != 2 || len(maxs) != 1 || math.Abs(mins[0]+1) > 1e-13 || math.Abs(mins[1]-1) > 1e-13 || math.Abs(maxs[0]) > 1e-13 {
		t.Errorf("critical points: minima %v, maxima %v", mins, maxs)
	}
}

func TestBandLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, kl, ku int }{{1, 0, 0}, {5, 1, 1}, {30, 3, 5}, {40, 7, 2}, {60, 11, 11}} {
		b := newBand(c.n, c.kl, c.ku)
		dense := mat.NewDense(c.n, c.n, nil)
		for i := range c.n {
			for j := max(0, i-c.kl); j <= min(c.n-1, i+c.ku); j++ {
				v := rng.NormFloat64()
				if i == j && rng.IntN(3) == 0 {
					v *= 1e-3 // small diagonal entries force row interchanges
				}
				b.add(i, j, v)
				dense.Set(i, j, v)
			}
		}
		rhs := make([]float64, c.n)
		for i := range rhs {
			rhs[i] = rng.NormFloat64()
		}
		var want mat.VecDense
		if err := want.SolveVec(dense, mat.NewVecDense(c.n, append([]float64(nil), rhs...))); err != nil {
			t.Fatalf("%+v: dense solve: %v", c, err)
		}
		if err := b.factorize(); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		x := append([]float64(nil), rhs...)
		b.solve(x)
		for i := range x {
			if math.Abs(x[i]-want.AtVec(i)) > 1e-9*(1+math.Abs(want.AtVec(i))) {
				t.Errorf("%+v: x[%d] = %v, dense %v", c, i, x[i], want.AtVec(i))
				break
			}
		}
	}
	s := newBand(3, 1, 1)
	s.add(0, 0, 1)
	if err := s.factorize(); err == nil {
		t.Error("no error for a singular band matrix")
	}
}
