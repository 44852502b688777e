package landscape

import (
	"math"
	"testing"
)

func TestExact1DOU(t *testing.T) {
	o, _ := NewOU(OUSettings{H: 2, V: 0.7, N: 100})
	lr, kappa := 0.3, 0.25
	r, err := Exact1D(o, lr, kappa, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := o.Variances(lr, kappa).SDE[0] // ηκv/(2h)
	if math.Abs(r.VarExact/want-1) > 1e-9 || math.Abs(r.VarNote/want-1) > 1e-9 {
		t.Errorf("variances %v (exact) %v (seed), closed form %v", r.VarExact, r.VarNote, want)
	}
	m := o.Minima()[0][0]
	for i, x := range r.Centers {
		g := math.Exp(-(x-m)*(x-m)/(2*want)) / math.Sqrt(2*math.Pi*want)
		if g > 1e-6 && (math.Abs(r.Exact[i]/g-1) > 1e-9 || math.Abs(r.Note[i]/g-1) > 1e-9) {
			t.Fatalf("density at %v: %v (exact), %v (seed), Gaussian %v", x, r.Exact[i], r.Note[i], g)
		}
	}
	var sum float64
	for _, b := range r.BinExact {
		sum += b
	}
	if math.Abs(sum-1) > 1e-6 || len(r.MassExact) != 1 || math.Abs(r.MassExact[0]-1) > 1e-12 {
		t.Errorf("bins hold %v, well mass %v", sum, r.MassExact)
	}
	if len(r.Warnings) > 0 {
		t.Errorf("warnings: %v", r.Warnings)
	}
}

// TestExact1DMultiplicative checks the quadrature densities against the closed forms of
// MATH.md §8: the exact density ∝ (v0 + v1θ²)^−(1+α), the note's ∝ (v0 + v1θ²)^−α, so
// log p_exact − log p_seed regressed on log(v0 + v1θ²) has slope exactly −1.
func TestExact1DMultiplicative(t *testing.T) {
	m, _ := NewMultiplicative(MultiplicativeSettings{H: 1, V0: 0.5, V1: 2, N: 200})
	lr, kappa := 0.1, 0.5 // α = h/(ηκv1) = 10
	r, err := Exact1D(m, lr, kappa, nil)
	if err != nil {
		t.Fatal(err)
	}
	ee, es := m.Exponents(lr, kappa)
	if ee-es != -1 || math.Abs(es+10) > 1e-12 {
		t.Errorf("exponents %v %v", ee, es)
	}
	fit := func(y []float64) (slope, maxResid float64) {
		var x []float64
		for _, c := range r.Centers {
			x = append(x, math.Log(0.5+2*c*c))
		}
		mx, vx := meanVar(x)
		my, _ := meanVar(y)
		slope = covariance(x, y) / vx
		for i := range x {
			maxResid = math.Max(maxResid, math.Abs(y[i]-my-slope*(x[i]-mx)))
		}
		return slope, maxResid
	}
	diff := make([]float64, len(r.Centers))
	for i := range diff {
		diff[i] = r.LogExact[i] - r.LogNote[i]
	}
	if s, res := fit(diff); math.Abs(s+1) > 1e-9 || res > 1e-8 {
		t.Errorf("log p_exact − log p_seed: slope %v (want −1), max residual %g", s, res)
	}
	if s, res := fit(r.LogExact); math.Abs(s-ee) > 1e-9 || res > 1e-8 {
		t.Errorf("log p_exact: slope %v (want %v), max residual %g", s, ee, res)
	}
	if s, res := fit(r.LogNote); math.Abs(s-es) > 1e-9 || res > 1e-8 {
		t.Errorf("log p_seed: slope %v (want %v), max residual %g", s, es, res)
	}
	v := m.Variances(lr, kappa)
	if math.Abs(r.VarExact/v.SDE[0]-1) > 1e-7 || math.Abs(r.VarNote/v.Note[0]-1) > 1e-7 {
		t.Errorf("variances %v %v, closed forms %v %v", r.VarExact, r.VarNote, v.SDE[0], v.Note[0])
	}
	// Discrete SGD's variance is infinite when h(2 − ηh) ≤ ηκ_Bv1.
	if v := m.Variances(1.5, 1); v.Discrete != nil || len(v.Warnings) == 0 {
		t.Errorf("unstable discrete variance: %v, warnings %v", v.Discrete, v.Warnings)
	}
}

// fdMFPT solves ½D T” + μT' = −1 on [x_0, x_n] by central differences (n intervals), with
// T = 0 at each absorbing end and T' = 0 at a reflecting one, and returns T at x by linear
// interpolation: an independent check of Exact1D's escape times.
func fdMFPT(p Preset, lr, kappa, lo, hi float64, reflectLo, reflectHi bool, n int, x float64) float64 {
	h := (hi - lo) / float64(n)
	a, b, c, rhs := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	g, cv := make([]float64, 1), make([]float64, 1)
	for i := 0; i <= n; i++ {
		xi := lo + float64(i)*h
		p.Moments(g, cv, []float64{xi})
		D, mu := lr*lr*kappa*cv[0], -lr*g[0]
		a[i] = D/(2*h*h) - mu/(2*h)
		b[i] = -D / (h * h)
		c[i] = D/(2*h*h) + mu/(2*h)
		rhs[i] = -1
	}
	if reflectLo { // ghost T_{−1} = T_1
		c[0] += a[0]
		a[0] = 0
	} else {
		a[0], b[0], c[0], rhs[0] = 0, 1, 0, 0
	}
	if reflectHi {
		a[n] += c[n]
		c[n] = 0
	} else {
		a[n], b[n], c[n], rhs[n] = 0, 1, 0, 0
	}
	// Thomas algorithm.
	for i := 1; i <= n; i++ {
		w := a[i] / b[i-1]
		b[i] -= w * c[i-1]
		rhs[i] -= w * rhs[i-1]
	}
	T := make([]float64, n+1)
	T[n] = rhs[n] / b[n]
	for i := n - 1; i >= 0; i-- {
		T[i] = (rhs[i] - c[i]*T[i+1]) / b[i]
	}
	u := (x - lo) / h
	i := min(int(u), n-1)
	f := u - float64(i)
	return (1-f)*T[i] + f*T[i+1]
}

func TestExact1DEscapeFD(t *testing.T) {
	cases := []struct {
		name  string
		s     WellsSettings
		lr, k float64
	}{
		{"two wells", WellsSettings{N: 40}, 0.2, 1},
		{"three wells", WellsSettings{Wells: "-1.5:0.3:0.25,0:0.3:0.4,1.6:0.3:0.6", Balance: true, N: 40}, 0.2, 0.5},
	}
	for _, c := range cases {
		w, err := NewWells(c.s)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Exact1D(w, c.lr, c.k, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := r.Minima
		K := len(m)
		const n = 40000
		for k := range K {
			var want float64
			switch k {
			case 0:
				want = fdMFPT(w, c.lr, c.k, r.Lo, m[1], true, false, n, m[0])
			case K - 1:
				want = fdMFPT(w, c.lr, c.k, m[K-2], r.Hi, false, true, n, m[K-1])
			default:
				want = fdMFPT(w, c.lr, c.k, m[k-1], m[k+1], false, false, n, m[k])
			}
			t.Logf("%s: well %d: quadrature %v, differences %v, relative %.2g", c.name, k, r.Escape[k], want, r.Escape[k]/want-1)
			// Second-order differences with h ≈ 1e-4: relative error well below 1e-5.
			if math.Abs(r.Escape[k]/want-1) > 1e-5 {
				t.Errorf("%s: escape from well %d: quadrature %v, finite differences %v", c.name, k, r.Escape[k], want)
			}
		}
		var sum float64
		for _, v := range r.MassExact {
			sum += v
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%s: well masses sum to %v", c.name, sum)
		}
	}
}

// TestKramersHighBarrier: with constant noise (spread 0) Kramers' formula
// approaches the exact mean first-passage time as the barrier 2ΔL/(ηκ_B c) grows; the
// relative error is O(ηκ_B c/ΔL).
func TestKramersHighBarrier(t *testing.T) {
	w, err := NewWells(WellsSettings{Wells: "-1:1:0.4,1:1:0.6", Balance: true, Spread: ptr(0.0), Var0: 1, N: 4})
	if err != nil {
		t.Fatal(err)
	}
	dl := w.Loss(w.Saddles()[0]) - w.Loss(w.Minima()[0])
	prev := math.Inf(1)
	for _, barrier := range []float64{10, 20, 40} { // 2ΔL/(ηκc) with c = 1
		lr := 2 * dl / barrier
		r, err := Exact1D(w, lr, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for k := range r.Escape {
			worst = math.Max(worst, math.Abs(r.Kramers[k]/r.Escape[k]-1))
		}
		if worst >= prev {
			t.Errorf("barrier %v: Kramers' relative error %v did not decrease (was %v)", barrier, worst, prev)
		}
		prev = worst
		if barrier == 40 && worst > 0.05 {
			t.Errorf("barrier %v: Kramers %v vs exact %v", barrier, r.Kramers, r.Escape)
		}
		t.Logf("barrier %v: Kramers %v, exact %v", barrier, r.Kramers, r.Escape)
	}
}
