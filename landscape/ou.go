package landscape

import (
	"math"

	"github.com/sgdprior/sgdprior/sim"
)

// OUSettings configures the ou preset. Zero fields mean defaults.
type OUSettings struct {
	// H is the curvature h > 0 of L = ½hθ²; default 1.
	H float64
	// V is the per-example gradient noise variance v > 0; default 1.
	V float64
	// N is the number of examples, at least 2; default 1000.
	N int
}

// OU is the constant-noise quadratic (Ornstein–Uhlenbeck) preset, MATH.md §8:
// ℓ_i(θ) = ½hθ² + a_iθ with a_i = √v·q_i, q the standardised normal quantiles (population
// mean 0 and variance 1 exactly), so L = ½hθ² and C(θ) = v exactly.
type OU struct {
	h, v  float64
	a     []float64
	abar  float64 // mean of a (0 to rounding)
	avar  float64 // population variance of a (v to rounding)
	lr    float64
	batch int
}

// NewOU returns the ou preset.
func NewOU(s OUSettings) (*OU, error) {
	h, err := positive("hess", s.H, 1)
	if err != nil {
		return nil, err
	}
	v, err := positive("var", s.V, 1)
	if err != nil {
		return nil, err
	}
	n, err := numExamples(s.N, 2, 1000)
	if err != nil {
		return nil, err
	}
	a := normalQuantiles(n)
	for i := range a {
		a[i] *= math.Sqrt(v)
	}
	o := &OU{h: h, v: v, a: a, lr: 0.5 / h, batch: 1}
	o.abar, o.avar = meanVar(a)
	return o, nil
}

func (o *OU) Name() string { return "ou" }
func (o *OU) Params() map[string]float64 {
	return map[string]float64{"h": o.h, "v": o.v, "n": float64(len(o.a))}
}

// Defaults returns η = 0.5/h (so ηh = ½ and the discrete and continuous variances differ
// by a third) and B = 1.
func (o *OU) Defaults() (float64, int) { return o.lr, o.batch }
func (o *OU) Dim() int                 { return 1 }
func (o *OU) NumExamples() int         { return len(o.a) }

func (o *OU) MiniBatchGrad(dst, theta []float64, idx []int) {
	checkLen("dst", dst, 1)
	checkLen("theta", theta, 1)
	var s float64
	for _, i := range idx {
		s += o.a[i]
	}
	dst[0] = o.h*theta[0] + s/float64(len(idx))
}

func (o *OU) WeightedGrad(dst, theta []float64, w []float64) {
	checkLen("dst", dst, 1)
	checkLen("theta", theta, 1)
	checkLen("w", w, len(o.a))
	var sw, sa float64
	for i, wi := range w {
		sw += wi
		sa += wi * o.a[i]
	}
	dst[0] = o.h*theta[0]*sw + sa
}

func (o *OU) RegGrad(dst, theta []float64) {}

func (o *OU) Loss(theta []float64) float64 {
	checkLen("theta", theta, 1)
	return 0.5*o.h*theta[0]*theta[0] + o.abar*theta[0]
}

func (o *OU) Clone() sim.Problem { c := *o; return &c }

func (o *OU) Moments(grad, cov, theta []float64) {
	checkLen("theta", theta, 1)
	if grad != nil {
		checkLen("grad", grad, 1)
		grad[0] = o.h*theta[0] + o.abar
	}
	if cov != nil {
		checkLen("cov", cov, 1)
		cov[0] = o.avar
	}
}

func (o *OU) Hess(dst, theta []float64) {
	checkLen("dst", dst, 1)
	dst[0] = o.h
}

func (o *OU) Minima() [][]float64  { return [][]float64{{-o.abar / o.h}} }
func (o *OU) Saddles() [][]float64 { return nil }

// Domain returns ±9 standard deviations of the wider of the SDE and discrete-SGD
// stationary laws (the SDE's alone when discrete SGD is unstable).
func (o *OU) Domain(lr, kappa float64) (lo, hi []float64) {
	v := o.Variances(lr, kappa)
	s := math.Sqrt(v.SDE[0])
	if v.Discrete != nil {
		s = math.Max(s, math.Sqrt(v.Discrete[0]))
	}
	m := o.Minima()[0][0]
	return []float64{m - 9*s}, []float64{m + 9*s}
}

// Variances returns the closed forms of MATH.md §8 for constant noise: the SDE's (and the
// note's, identical since D is constant) ηκ_Bv/(2h), and discrete SGD's ηκ_Bv/(h(2 − ηh)),
// which exists only for 0 < ηh < 2.
func (o *OU) Variances(lr, kappa float64) Variances {
	sde := lr * kappa * o.v / (2 * o.h)
	r := Variances{SDE: []float64{sde}, Note: []float64{sde}}
	if den := o.h * (2 - lr*o.h); den > 0 {
		r.Discrete = []float64{lr * kappa * o.v / den}
	} else {
		r.Warnings = append(r.Warnings, "discrete SGD variance is infinite: ηh ≥ 2 (SGD diverges)")
	}
	return r
}
