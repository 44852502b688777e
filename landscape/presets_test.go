package landscape

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/noise"
)

// testPresets returns small instances of every preset.
func testPresets(t *testing.T) []Preset {
	t.Helper()
	var ps []Preset
	add := func(p Preset, err error) {
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	add(NewOU(OUSettings{H: 2, V: 0.7, N: 50}))
	add(NewMultiplicative(MultiplicativeSettings{H: 1.5, V0: 0.8, V1: 0.3, N: 51}))
	add(NewWells(WellsSettings{N: 60}))
	add(NewOU2D(OU2DSettings{H: [3]float64{1, 0.3, 2}, C: [3]float64{1, -0.4, 0.5}, N: 40}))
	add(NewWells2D(Wells2DSettings{N: 60}))
	return ps
}

// exampleGrads returns every g_i(θ) through MiniBatchGrad with a one-example batch.
func exampleGrads(p Preset, theta []float64) [][]float64 {
	g := make([][]float64, p.NumExamples())
	for i := range g {
		g[i] = make([]float64, p.Dim())
		p.MiniBatchGrad(g[i], theta, []int{i})
	}
	return g
}

func testPoints(p Preset, rng *rand.Rand) [][]float64 {
	var pts [][]float64
	for range 5 {
		x := make([]float64, p.Dim())
		for a := range x {
			x[a] = 2 * rng.NormFloat64()
		}
		pts = append(pts, x)
	}
	return append(pts, p.Minima()...)
}

// TestMomentsNaive checks Moments (∇L and the exact population covariance C) against a naive
// loop over the examples' gradients.
func TestMomentsNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range testPresets(t) {
		d := p.Dim()
		for _, x := range testPoints(p, rng) {
			gs := exampleGrads(p, x)
			n := float64(len(gs))
			mean := make([]float64, d)
			for _, g := range gs {
				for a := range d {
					mean[a] += g[a] / n
				}
			}
			cov := make([]float64, d*d)
			for _, g := range gs {
				for a := range d {
					for b := range d {
						cov[a*d+b] += (g[a] - mean[a]) * (g[b] - mean[b]) / n
					}
				}
			}
			grad, c := make([]float64, d), make([]float64, d*d)
			p.Moments(grad, c, x)
			for a := range d {
				if math.Abs(grad[a]-mean[a]) > 1e-12*(1+math.Abs(mean[a])) {
					t.Errorf("%s at %v: ∇L[%d] = %v, naive %v", p.Name(), x, a, grad[a], mean[a])
				}
			}
			for k := range c {
				if math.Abs(c[k]-cov[k]) > 1e-11*(1+math.Abs(cov[k])) {
					t.Errorf("%s at %v: C[%d] = %v, naive %v", p.Name(), x, k, c[k], cov[k])
				}
			}
		}
	}
}

// TestGradHessFD checks ∇L against central differences of Loss and ∇²L against central
// differences of ∇L.
func TestGradHessFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const h = 1e-5
	for _, p := range testPresets(t) {
		d := p.Dim()
		for _, x := range testPoints(p, rng) {
			grad, hess := make([]float64, d), make([]float64, d*d)
			p.Moments(grad, nil, x)
			p.Hess(hess, x)
			for a := range d {
				xp, xm := append([]float64(nil), x...), append([]float64(nil), x...)
				xp[a] += h
				xm[a] -= h
				fd := (p.Loss(xp) - p.Loss(xm)) / (2 * h)
				if math.Abs(fd-grad[a]) > 1e-7*(1+math.Abs(grad[a])) {
					t.Errorf("%s at %v: ∂L/∂θ%d = %v, differences %v", p.Name(), x, a, grad[a], fd)
				}
				gp, gm := make([]float64, d), make([]float64, d)
				p.Moments(gp, nil, xp)
				p.Moments(gm, nil, xm)
				for b := range d {
					fd := (gp[b] - gm[b]) / (2 * h)
					if math.Abs(fd-hess[b*d+a]) > 1e-6*(1+math.Abs(hess[b*d+a])) {
						t.Errorf("%s at %v: H[%d,%d] = %v, differences %v", p.Name(), x, b, a, hess[b*d+a], fd)
					}
				}
			}
		}
	}
}

// TestProblemNaive checks MiniBatchGrad on a batch and WeightedGrad against loops over the
// examples' gradients, Loss against the per-example losses written out here, and Clone.
func TestProblemNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, p := range testPresets(t) {
		d, n := p.Dim(), p.NumExamples()
		for _, x := range testPoints(p, rng) {
			gs := exampleGrads(p, x)
			idx := []int{3, 1, 3, n - 1, 0}
			got := make([]float64, d)
			p.MiniBatchGrad(got, x, idx)
			w := make([]float64, n)
			for i := range w {
				w[i] = rng.NormFloat64()
			}
			wg := make([]float64, d)
			p.WeightedGrad(wg, x, w)
			cg := make([]float64, d)
			p.Clone().MiniBatchGrad(cg, x, idx)
			for a := range d {
				var want, wwant float64
				for _, i := range idx {
					want += gs[i][a] / float64(len(idx))
				}
				for i := range w {
					wwant += w[i] * gs[i][a]
				}
				if math.Abs(got[a]-want) > 1e-12*(1+math.Abs(want)) || cg[a] != got[a] {
					t.Errorf("%s: mini-batch gradient %v, naive %v, clone %v", p.Name(), got[a], want, cg[a])
				}
				if math.Abs(wg[a]-wwant) > 1e-11*(1+math.Abs(wwant)) {
					t.Errorf("%s: weighted gradient %v, naive %v", p.Name(), wg[a], wwant)
				}
			}
			var l float64
			switch q := p.(type) {
			case *OU:
				for _, a := range q.a {
					l += 0.5*q.h*x[0]*x[0] + a*x[0]
				}
			case *Multiplicative:
				for i := range q.a {
					l += 0.5*q.h*x[0]*x[0] + q.a[i]*x[0] + 0.5*q.b[i]*x[0]*x[0]
				}
			case *Wells:
				for i := range q.s {
					u, _, _ := q.u(x[0] - q.s[i])
					l += u + q.a[i]*x[0]
				}
			case *OU2D:
				hx := []float64{q.h[0]*x[0] + q.h[1]*x[1], q.h[1]*x[0] + q.h[2]*x[1]}
				for i := range q.a0 {
					l += 0.5*(x[0]*hx[0]+x[1]*hx[1]) + q.a0[i]*x[0] + q.a1[i]*x[1]
				}
			case *Wells2D:
				g := make([]float64, 2)
				for i := range q.a0 {
					l += q.gradU(g, nil, x[0]-q.s0[i/2], x[1]-q.s1[i/2]) + q.a0[i]*x[0] + q.a1[i]*x[1]
				}
			}
			l /= float64(n)
			if got := p.Loss(x); math.Abs(got-l) > 1e-12*(1+math.Abs(l)) {
				t.Errorf("%s at %v: Loss %v, mean of the per-example losses %v", p.Name(), x, got, l)
			}
		}
	}
}

// TestExampleSetMoments checks that the example sets carry exactly the requested moments.
func TestExampleSetMoments(t *testing.T) {
	o, _ := NewOU(OUSettings{V: 0.7, N: 999})
	if m, v := meanVar(o.a); math.Abs(m) > 1e-15 || math.Abs(v-0.7) > 1e-14 {
		t.Errorf("ou: mean %g, variance %g", m, v)
	}
	mu, _ := NewMultiplicative(MultiplicativeSettings{V0: 2, V1: 0.3, N: 1000})
	ma, va := meanVar(mu.a)
	mb, vb := meanVar(mu.b)
	if math.Abs(ma) > 1e-14 || math.Abs(mb) > 1e-14 || math.Abs(va-2) > 1e-13 || math.Abs(vb-0.3) > 1e-14 || math.Abs(covariance(mu.a, mu.b)) > 1e-14 {
		t.Errorf("multiplicative: means %g %g, variances %g %g, covariance %g", ma, mb, va, vb, covariance(mu.a, mu.b))
	}
	w, _ := NewWells(WellsSettings{Spread: ptr(0.2), Var0: 0.4, N: 1000})
	ms, vs := meanVar(w.s)
	mA, vA := meanVar(w.a)
	if math.Abs(ms) > 1e-15 || math.Abs(math.Sqrt(vs)-0.2) > 1e-14 || math.Abs(mA) > 0 || math.Abs(vA-0.4) > 1e-14 {
		t.Errorf("wells: shifts mean %g std %g, floor mean %g variance %g", ms, math.Sqrt(vs), mA, vA)
	}
	c := [3]float64{2, 0.7, 0.5}
	o2, _ := NewOU2D(OU2DSettings{C: c, N: 100})
	got := []float64{o2.acov[0], o2.acov[1], o2.acov[2]}
	for k := range got {
		if math.Abs(got[k]-c[k]) > 1e-14 {
			t.Errorf("ou2d: covariance %v, want %v", got, c)
		}
	}
	w2, _ := NewWells2D(Wells2DSettings{Spread: ptr(0.2), Var0: 0.4, N: 100})
	if _, v := meanVar(w2.s0); math.Abs(math.Sqrt(v)-0.2) > 1e-14 || math.Abs(w2.acov[0]-0.4) > 1e-14 || math.Abs(w2.acov[2]-0.4) > 1e-14 || math.Abs(w2.acov[1]) > 1e-15 {
		t.Errorf("wells2d: shift std %g, floor covariance %v", math.Sqrt(v), w2.acov)
	}
}

// TestWellsDefaults checks the properties the default wells landscape promises: two wells of
// equal depth in L, the flat one four times wider, noise larger in the sharp well, and
// every exact mean escape time under 10⁵ steps at the default η and B.
func TestWellsDefaults(t *testing.T) {
	w, err := NewWells(WellsSettings{})
	if err != nil {
		t.Fatal(err)
	}
	ws := w.Wells()
	if len(ws) != 2 || ws[1].Width != 4*ws[0].Width {
		t.Fatalf("default wells %v: want two, the second four times wider", ws)
	}
	m := w.Minima()
	if len(m) != 2 || len(w.Saddles()) != 1 {
		t.Fatalf("minima %v, saddles %v", m, w.Saddles())
	}
	l0, l1 := w.Loss(m[0]), w.Loss(m[1])
	if math.Abs(l0-l1) > 1e-10 {
		t.Errorf("L at the minima: %v and %v, want equal to 1e-10", l0, l1)
	}
	g, h, c := make([]float64, 1), make([]float64, 1), make([]float64, 2)
	for k, x := range m {
		w.Moments(g, c[k:k+1], x)
		w.Hess(h, x)
		if math.Abs(g[0]) > 1e-12 || !(h[0] > 0) {
			t.Errorf("minimum %v: L' = %g, L'' = %g", x, g[0], h[0])
		}
	}
	if !(c[0] > 1.5*c[1]) {
		t.Errorf("noise C = %v at the minima: want the sharp well's clearly larger", c)
	}
	w.Hess(h, w.Saddles()[0])
	if !(h[0] < 0) {
		t.Errorf("L'' = %g at the saddle", h[0])
	}
	lr, b := w.Defaults()
	ex, err := Exact1D(w, lr, mustKappa(t, noise.Without, w.NumExamples(), b), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, e := range ex.Escape {
		if !(e > 10 && e < 1e5) {
			t.Errorf("exact escape time from well %d: %g steps, want under 10⁵", k, e)
		}
	}
	if len(ex.Warnings) > 0 {
		t.Errorf("warnings: %v", ex.Warnings)
	}
	// The wells2d default (N = 1000) is balanced too.
	w2, err := NewWells2D(Wells2DSettings{})
	if err != nil {
		t.Fatal(err)
	}
	m2 := w2.Minima()
	if d := w2.Loss(m2[0]) - w2.Loss(m2[1]); math.Abs(d) > 1e-10 {
		t.Errorf("wells2d: L differs by %g at the minima", d)
	}
	hs := make([]float64, 4)
	w2.Hess(hs, w2.Saddles()[0])
	if !(hs[0]*hs[3]-hs[1]*hs[2] < 0) {
		t.Errorf("wells2d: Hessian %v at the saddle is not indefinite", hs)
	}
}

func TestPresetErrors(t *testing.T) {
	bad := []PresetSettings{
		{Name: "nope"},
		{Name: "ou", H: -1},
		{Name: "ou", N: 1},
		{Name: "multiplicative", V1: math.Inf(1)},
		{Name: "wells", N: 7},
		{Name: "wells", Wells: "0:1"},
		{Name: "wells", Wells: "0:1:0.5,0.1:1:0.5"}, // overlapping: one minimum
		{Name: "wells", Wells: "0:-1:1"},
		{Name: "ou2d", Hess2: "1,2,1"},
		{Name: "ou2d", Cov2: "1,x,1"},
		{Name: "wells2d", Wells: "0:0:1"},
	}
	for _, s := range bad {
		if _, err := NewPreset(s); err == nil {
			t.Errorf("%+v: no error", s)
		} else if !strings.HasPrefix(err.Error(), "landscape: ") {
			t.Errorf("%+v: error %q lacks the package prefix", s, err)
		}
	}
	for _, name := range PresetNames {
		p, err := NewPreset(PresetSettings{Name: name, N: 100})
		if err != nil || p.Name() != name {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestWellsConstruction: finding and balancing the minima works for every example count
// (Newton's line search must accept rounding-level changes of L near the minimum).
func TestWellsConstruction(t *testing.T) {
	for _, n := range []int{4, 6, 10, 200, 998, 2000} {
		w, err := NewWells(WellsSettings{N: n})
		if err != nil {
			t.Errorf("wells, N = %d: %v", n, err)
			continue
		}
		if m := w.Minima(); math.Abs(w.Loss(m[0])-w.Loss(m[1])) > 1e-12 {
			t.Errorf("wells, N = %d: unbalanced minima", n)
		}
		if n < 6 {
			continue
		}
		w2, err := NewWells2D(Wells2DSettings{N: n})
		if err != nil {
			t.Errorf("wells2d, N = %d: %v", n, err)
			continue
		}
		if m := w2.Minima(); math.Abs(w2.Loss(m[0])-w2.Loss(m[1])) > 1e-12 {
			t.Errorf("wells2d, N = %d: unbalanced minima", n)
		}
	}
}

func TestCoefficients(t *testing.T) {
	m, _ := NewMultiplicative(MultiplicativeSettings{H: 2, V0: 0.5, V1: 3, N: 30})
	mu, d := make([]float64, 1), make([]float64, 1)
	Coefficients(m, 0.1, 0.25, mu, d, []float64{0.7})
	// μ = −ηhθ, D = η²κ_B(v0 + v1θ²) (the set's moments are exact to rounding).
	if math.Abs(mu[0]+0.1*2*0.7) > 1e-14 || math.Abs(d[0]-0.01*0.25*(0.5+3*0.49)) > 1e-15 {
		t.Errorf("μ = %v, D = %v", mu[0], d[0])
	}
}
