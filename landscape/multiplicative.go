package landscape

import (
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/sim"
)

// MultiplicativeSettings configures the multiplicative preset. Zero fields mean defaults.
type MultiplicativeSettings struct {
	// H is the curvature h > 0 of L = ½hθ²; default 1.
	H float64
	// V0 > 0 is the noise floor and V1 > 0 the multiplicative part of C(θ) = V0 + V1·θ²;
	// defaults 1 and 1.
	V0, V1 float64
	// N is the number of examples, at least 3; default 1000.
	N int
}

// Multiplicative is the multiplicative-noise quadratic preset, MATH.md §8:
// ℓ_i(θ) = ½hθ² + a_iθ + ½b_iθ², with (a, b) = (√v0·x, √v1·y) for the whitened point sets
// of whitenedPair (population means 0, Var a = v0, Var b = v1, Cov(a, b) = 0 exactly), so
// L = ½hθ² and C(θ) = v0 + v1θ².
type Multiplicative struct {
	h, v0, v1   float64
	a, b        []float64
	abar, bbar  float64
	va, vb, cab float64 // population moments of the set
}

// NewMultiplicative returns the multiplicative preset.
func NewMultiplicative(s MultiplicativeSettings) (*Multiplicative, error) {
	h, err := positive("hess", s.H, 1)
	if err != nil {
		return nil, err
	}
	v0, err := positive("var0", s.V0, 1)
	if err != nil {
		return nil, err
	}
	v1, err := positive("var1", s.V1, 1)
	if err != nil {
		return nil, err
	}
	n, err := numExamples(s.N, 3, 1000)
	if err != nil {
		return nil, err
	}
	x, y := whitenedPair(n)
	for i := range x {
		x[i] *= math.Sqrt(v0)
		y[i] *= math.Sqrt(v1)
	}
	m := &Multiplicative{h: h, v0: v0, v1: v1, a: x, b: y}
	m.abar, m.va = meanVar(x)
	m.bbar, m.vb = meanVar(y)
	m.cab = covariance(x, y)
	return m, nil
}

func (m *Multiplicative) Name() string { return "multiplicative" }
func (m *Multiplicative) Params() map[string]float64 {
	return map[string]float64{"h": m.h, "v0": m.v0, "v1": m.v1, "n": float64(len(m.a))}
}

// Defaults returns η = 0.2/h and B = 1; with the default v1 = h the exponent
// h/(ηκ_Bv1) is 5 and the exact and the note's variances are 1/9 and 1/7 of v0/v1.
func (m *Multiplicative) Defaults() (float64, int) { return 0.2 / m.h, 1 }
func (m *Multiplicative) Dim() int                 { return 1 }
func (m *Multiplicative) NumExamples() int         { return len(m.a) }

func (m *Multiplicative) MiniBatchGrad(dst, theta []float64, idx []int) {
	checkLen("dst", dst, 1)
	checkLen("theta", theta, 1)
	var sa, sb float64
	for _, i := range idx {
		sa += m.a[i]
		sb += m.b[i]
	}
	k := float64(len(idx))
	t := theta[0]
	dst[0] = m.h*t + sa/k + sb/k*t
}

func (m *Multiplicative) WeightedGrad(dst, theta []float64, w []float64) {
	checkLen("dst", dst, 1)
	checkLen("theta", theta, 1)
	checkLen("w", w, len(m.a))
	var sw, sa, sb float64
	for i, wi := range w {
		sw += wi
		sa += wi * m.a[i]
		sb += wi * m.b[i]
	}
	t := theta[0]
	dst[0] = m.h*t*sw + sa + sb*t
}

func (m *Multiplicative) RegGrad(dst, theta []float64) {}

func (m *Multiplicative) Loss(theta []float64) float64 {
	checkLen("theta", theta, 1)
	t := theta[0]
	return 0.5*(m.h+m.bbar)*t*t + m.abar*t
}

func (m *Multiplicative) Clone() sim.Problem { c := *m; return &c }

// Moments writes L'(θ) = (h + b̄)θ + ā and C(θ) = Var a + 2θ·Cov(a, b) + θ²·Var b from the
// example set's population moments (ā = b̄ = Cov(a, b) = 0 and Var a = v0, Var b = v1 to
// rounding).
func (m *Multiplicative) Moments(grad, cov, theta []float64) {
	checkLen("theta", theta, 1)
	t := theta[0]
	if grad != nil {
		checkLen("grad", grad, 1)
		grad[0] = (m.h+m.bbar)*t + m.abar
	}
	if cov != nil {
		checkLen("cov", cov, 1)
		cov[0] = m.va + 2*t*m.cab + t*t*m.vb
	}
}

func (m *Multiplicative) Hess(dst, theta []float64) {
	checkLen("dst", dst, 1)
	dst[0] = m.h + m.bbar
}

func (m *Multiplicative) Minima() [][]float64  { return [][]float64{{-m.abar / (m.h + m.bbar)}} }
func (m *Multiplicative) Saddles() [][]float64 { return nil }

// Exponents returns the powers of (v0 + v1θ²) in the exact SDE density and the note's
// density: p_exact ∝ (v0 + v1θ²)^−(1 + α), p_seed ∝ (v0 + v1θ²)^−α with
// α = h/(ηκ_Bv1) (MATH.md §8). They differ by exactly 1.
func (m *Multiplicative) Exponents(lr, kappa float64) (exact, note float64) {
	alpha := m.h / (lr * kappa * m.v1)
	return -(1 + alpha), -alpha
}

// Domain returns the interval where the note's density (v0 + v1θ²)^−α, whose tails are the
// heavier, exceeds 10⁻¹⁶ of its peak (wide when α is small), at most ±10⁴·√(v0/v1).
func (m *Multiplicative) Domain(lr, kappa float64) (lo, hi []float64) {
	_, e := m.Exponents(lr, kappa)
	// (1 + v1θ²/v0)^e = 1e-16  ⇒  θ² = (v0/v1)(10^(16/|e|) − 1).
	u := math.Pow(10, 16/math.Abs(e)) - 1
	x := math.Min(math.Sqrt(m.v0/m.v1*u), 1e4*math.Sqrt(m.v0/m.v1))
	return []float64{-x}, []float64{x}
}

// Variances returns the closed forms with α = h/(ηκ_Bv1): the SDE's
// ηκ_Bv0/(2h − ηκ_Bv1) (moment equation; infinite for α ≤ ½), the note's density's
// (v0/v1)/(2α − 3) (infinite for α ≤ 3/2), and discrete SGD's
// ηκ_Bv0/(h(2 − ηh) − ηκ_Bv1) (MATH.md §8; infinite when the denominator is ≤ 0).
func (m *Multiplicative) Variances(lr, kappa float64) Variances {
	var r Variances
	ek := lr * kappa
	if den := 2*m.h - ek*m.v1; den > 0 {
		r.SDE = []float64{ek * m.v0 / den}
	} else {
		r.Warnings = append(r.Warnings, fmt.Sprintf("SDE variance is infinite: 2h − ηκ_Bv1 = %.4g ≤ 0", den))
	}
	alpha := m.h / (ek * m.v1)
	if alpha > 1.5 {
		r.Note = []float64{m.v0 / m.v1 / (2*alpha - 3)}
	} else {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the note's density has infinite variance: exponent α = h/(ηκ_Bv1) = %.4g ≤ 3/2", alpha))
	}
	if den := m.h*(2-lr*m.h) - ek*m.v1; den > 0 {
		r.Discrete = []float64{ek * m.v0 / den}
	} else {
		r.Warnings = append(r.Warnings, fmt.Sprintf("discrete SGD variance is infinite: h(2 − ηh) − ηκ_Bv1 = %.4g ≤ 0", den))
	}
	return r
}
