package landscape

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// gauss2 returns the N(0, Σ) density at (x, y) and Σ⁻¹ (row-major).
func gauss2(sig []float64, x, y float64) (float64, [4]float64) {
	det := sig[0]*sig[3] - sig[1]*sig[2]
	inv := [4]float64{sig[3] / det, -sig[1] / det, -sig[2] / det, sig[0] / det}
	q := x*(inv[0]*x+inv[1]*y) + y*(inv[2]*x+inv[3]*y)
	return math.Exp(-q/2) / (2 * math.Pi * math.Sqrt(det)), inv
}

// TestFP2DLyapunov checks the Fokker–Planck solver on ou2d against the exact answer: the
// Gaussian whose covariance Σ solves ηHΣ + ΣηH = D = η²κ_B C (HΣ + ΣH = ηκ_B C), with current
// J = p(−ηH + ½DΣ⁻¹)θ, non-zero and rotating when H and C do not commute.
func TestFP2DLyapunov(t *testing.T) {
	o, err := NewOU2D(OU2DSettings{H: [3]float64{1, 0, 4}, C: [3]float64{1, 0.6, 1}, N: 50})
	if err != nil {
		t.Fatal(err)
	}
	lr, kappa := 0.1, 0.5
	r, err := Stationary2DFP(o, lr, kappa, &FP2DSettings{NX: 100, NY: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) > 0 {
		t.Errorf("warnings: %v", r.Warnings)
	}
	sig := o.Variances(lr, kappa).SDE
	// Σ solves HΣ + ΣH = ηκC.
	H := mat.NewDense(2, 2, []float64{1, 0, 0, 4})
	S := mat.NewDense(2, 2, sig)
	var hs, sh mat.Dense
	hs.Mul(H, S)
	sh.Mul(S, H)
	for k, c := range []float64{1, 0.6, 0.6, 1} {
		if got := hs.RawMatrix().Data[k] + sh.RawMatrix().Data[k]; math.Abs(got-lr*kappa*c) > 1e-15 {
			t.Fatalf("Lyapunov residual: entry %d is %v, want %v", k, got, lr*kappa*c)
		}
	}
	// Covariance of the grid density (cell centres: the midpoint rule adds h²/12, ~0.1%
	// here) within 1%.
	var num, den float64
	for k := range sig {
		num += (r.Cov[k] - sig[k]) * (r.Cov[k] - sig[k])
		den += sig[k] * sig[k]
	}
	if e := math.Sqrt(num / den); e > 0.01 {
		t.Errorf("covariance %v, Lyapunov %v: relative error %.3g", r.Cov, sig, e)
	}
	// L1 distance, analytic current and rotation.
	D := []float64{lr * lr * kappa * 1, lr * lr * kappa * 0.6, lr * lr * kappa * 0.6, lr * lr * kappa * 1}
	var l1, jerr, jmax float64
	var pmax float64
	for _, v := range r.Density {
		pmax = math.Max(pmax, v)
	}
	sign := 0.0
	for i, x := range r.X {
		for j, y := range r.Y {
			k := i*r.NY + j
			g, inv := gauss2(sig, x, y)
			l1 += math.Abs(r.Density[k]-g) * r.HX * r.HY
			// ½DΣ⁻¹ − ηH applied to θ.
			ax := 0.5*(D[0]*inv[0]+D[1]*inv[2]) - lr*1
			bx := 0.5 * (D[0]*inv[1] + D[1]*inv[3])
			ay := 0.5 * (D[2]*inv[0] + D[3]*inv[2])
			by := 0.5*(D[2]*inv[1]+D[3]*inv[3]) - lr*4
			jx, jy := g*(ax*x+bx*y), g*(ay*x+by*y)
			jerr = math.Max(jerr, math.Hypot(r.JX[k]-jx, r.JY[k]-jy))
			jmax = math.Max(jmax, math.Hypot(jx, jy))
			if r.Density[k] > 1e-3*pmax {
				cross := x*r.JY[k] - y*r.JX[k] // sense of rotation about the minimum
				if sign == 0 {
					sign = math.Copysign(1, cross)
				} else if cross*sign < 0 && math.Abs(cross) > 1e-3*jmax*math.Hypot(x, y) {
					t.Fatalf("the current does not rotate one way: θ × J = %v at (%v, %v)", cross, x, y)
				}
			}
		}
	}
	t.Logf("covariance error %.3g, L1 %.3g, current error %.3g of max, current ratio %.3g", math.Sqrt(num/den), l1, jerr/jmax, r.Current)
	if l1 > 0.01 {
		t.Errorf("L1 distance to the Gaussian %v", l1)
	}
	if jerr > 0.05*jmax {
		t.Errorf("current: max error %v, max |J| %v", jerr, jmax)
	}
	if !(r.Current > 0.2) {
		t.Errorf("current ratio %v, want clearly non-zero", r.Current)
	}
	// The note's density is the Gaussian with precision sym((2/η)C_B⁻¹H) (MATH.md §6).
	note := o.Variances(lr, kappa).Note
	for k := range note {
		if math.Abs(r.NoteCov[k]-note[k]) > 1e-6*math.Abs(note[0]) {
			t.Errorf("seed covariance %v, closed form %v", r.NoteCov, note)
			break
		}
	}
	if !(r.NoteNonGradient > 0.1) {
		t.Errorf("seed field non-gradient part %v, want clearly non-zero", r.NoteNonGradient)
	}
}

// TestFP2DCommuting: the current vanishes (to discretisation error, O(h²)) exactly when H and
// C commute: here C = H/2 + I/4, and the note's field is a gradient.
func TestFP2DCommuting(t *testing.T) {
	o, err := NewOU2D(OU2DSettings{H: [3]float64{2, 0.5, 1}, C: [3]float64{1.25, 0.25, 0.75}, N: 50})
	if err != nil {
		t.Fatal(err)
	}
	var prev float64
	for _, n := range []int{50, 100} {
		r, err := Stationary2DFP(o, 0.1, 1, &FP2DSettings{NX: n, NY: n})
		if err != nil {
			t.Fatal(err)
		}
		if n == 100 && !(r.Current < 0.01 && r.Current < prev/3) {
			t.Errorf("commuting H, C: current ratio %v at %d², %v at half the resolution; want O(h²) → 0", r.Current, n, prev)
		}
		t.Logf("commuting, %d²: current ratio %.3g", n, r.Current)
		prev = r.Current
		if r.NoteNonGradient > 1e-10 {
			t.Errorf("commuting H, C: seed field non-gradient part %v", r.NoteNonGradient)
		}
		sig := o.Variances(0.1, 1)
		for k := range sig.SDE {
			if math.Abs(sig.SDE[k]-sig.Note[k]) > 1e-15 {
				t.Fatalf("commuting: Lyapunov %v and seed %v covariances differ", sig.SDE, sig.Note)
			}
		}
	}
}

// sepPreset is a 2-D landscape that decouples: L(x, y) = L_wells(x) + ½h y², C = diag(C_wells(x), c).
// Its x-marginal, well masses and escape times are exactly the 1-D answers.
type sepPreset struct {
	*Wells
	h, c float64
}

func (s sepPreset) Dim() int { return 2 }
func (s sepPreset) Moments(grad, cov, theta []float64) {
	var g, c []float64
	if grad != nil {
		g = grad[:1]
	}
	if cov != nil {
		c = cov[:1]
	}
	s.Wells.Moments(g, c, theta[:1])
	if grad != nil {
		grad[1] = s.h * theta[1]
	}
	if cov != nil {
		cov[1], cov[2], cov[3] = 0, 0, s.c
	}
}
func (s sepPreset) Hess(dst, theta []float64) {
	s.Wells.Hess(dst[:1], theta[:1])
	dst[1], dst[2], dst[3] = 0, 0, s.h
}
func (s sepPreset) Loss(theta []float64) float64 {
	return s.Wells.Loss(theta[:1]) + 0.5*s.h*theta[1]*theta[1]
}
func (s sepPreset) Minima() [][]float64 {
	var m [][]float64
	for _, x := range s.Wells.Minima() {
		m = append(m, []float64{x[0], 0})
	}
	return m
}
func (s sepPreset) Saddles() [][]float64 {
	var m [][]float64
	for _, x := range s.Wells.Saddles() {
		m = append(m, []float64{x[0], 0})
	}
	return m
}
func (s sepPreset) Domain(lr, kappa float64) (lo, hi []float64) {
	l, h := s.Wells.Domain(lr, kappa)
	sd := math.Sqrt(lr * kappa * s.c / (2 * s.h))
	return []float64{l[0], -8 * sd}, []float64{h[0], 8 * sd}
}

func TestFP2DSeparable(t *testing.T) {
	w, err := NewWells(WellsSettings{Wells: "-1:0.3:0.4,1.2:0.3:0.8", Balance: true, N: 40})
	if err != nil {
		t.Fatal(err)
	}
	p := sepPreset{w, 1, 0.5}
	lr, kappa := 0.2, 0.5
	ex, err := Exact1D(w, lr, kappa, nil)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := Stationary2DFP(p, lr, kappa, &FP2DSettings{NX: 400, NY: 16})
	if err != nil {
		t.Fatal(err)
	}
	// Discretisation (h ≈ 0.013 in x; observed errors ~2e-4 in mass, ~6e-4 relative in
	// escape time): tolerances 1e-3 and 0.3%.
	for k := range ex.MassExact {
		if math.Abs(fp.MassExact[k]-ex.MassExact[k]) > 1e-3 {
			t.Errorf("well %d: Fokker–Planck mass %v, quadrature %v", k, fp.MassExact[k], ex.MassExact[k])
		}
		if math.Abs(fp.MassNote[k]-ex.MassNote[k]) > 1e-3 {
			t.Errorf("well %d: Fokker–Planck seed mass %v, quadrature %v", k, fp.MassNote[k], ex.MassNote[k])
		}
		if math.Abs(fp.Escape[k]/ex.Escape[k]-1) > 3e-3 {
			t.Errorf("well %d: Fokker–Planck escape %v, quadrature %v", k, fp.Escape[k], ex.Escape[k])
		}
		t.Logf("well %d: mass %v / %v, seed %v / %v, escape %v / %v", k, fp.MassExact[k], ex.MassExact[k], fp.MassNote[k], ex.MassNote[k], fp.Escape[k], ex.Escape[k])
	}
	t.Logf("separable: current ratio %.3g", fp.Current)
	// The discrete equilibrium of a decoupled landscape has exactly zero face fluxes.
	if fp.Current > 1e-10 {
		t.Errorf("separable landscape: current ratio %v", fp.Current)
	}
}
