package landscape

import (
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/sim"
	"gonum.org/v1/gonum/mat"
)

// OU2DSettings configures the ou2d preset. Zero fields mean defaults.
type OU2DSettings struct {
	// H is the positive definite Hessian [h11, h12, h22]; default [1, 0, 4].
	H [3]float64
	// C is the positive definite per-example gradient covariance [c11, c12, c22]; default
	// [1, 0.6, 1], which does not commute with the default H.
	C [3]float64
	// N is the number of examples, at least 3; default 1000.
	N int
}

// OU2D is the 2-D quadratic with constant noise: ℓ_i(θ) = ½θᵀHθ + a_iᵀθ with
// a_i = R·w_i, R the Cholesky factor of C (C = RRᵀ) and w_i the whitened quantile points of
// whitenedPair (population mean 0 and covariance I exactly), so L = ½θᵀHθ and C(θ) = C
// exactly. H and C need not commute (MATH.md §8).
type OU2D struct {
	h, c   [3]float64
	a0, a1 []float64 // the two coordinates of a_i
	abar   [2]float64
	acov   [3]float64 // population covariance of a (C to rounding)
}

// NewOU2D returns the ou2d preset; it fails unless H and C are positive definite.
func NewOU2D(s OU2DSettings) (*OU2D, error) {
	h, c := s.H, s.C
	if h == ([3]float64{}) {
		h = [3]float64{1, 0, 4}
	}
	if c == ([3]float64{}) {
		c = [3]float64{1, 0.6, 1}
	}
	if !(h[0] > 0) || !(h[0]*h[2]-h[1]*h[1] > 0) {
		return nil, fmt.Errorf("landscape: ou2d: hessian %v is not positive definite", h)
	}
	if !(c[0] > 0) || !(c[0]*c[2]-c[1]*c[1] > 0) {
		return nil, fmt.Errorf("landscape: ou2d: covariance %v is not positive definite", c)
	}
	n, err := numExamples(s.N, 3, 1000)
	if err != nil {
		return nil, err
	}
	x, y := whitenedPair(n)
	r00 := math.Sqrt(c[0])
	r10 := c[1] / r00
	r11 := math.Sqrt(c[2] - r10*r10)
	o := &OU2D{h: h, c: c, a0: make([]float64, n), a1: make([]float64, n)}
	for i := range x {
		o.a0[i] = r00 * x[i]
		o.a1[i] = r10*x[i] + r11*y[i]
	}
	o.abar[0], o.acov[0] = meanVar(o.a0)
	o.abar[1], o.acov[2] = meanVar(o.a1)
	o.acov[1] = covariance(o.a0, o.a1)
	return o, nil
}

func (o *OU2D) Name() string { return "ou2d" }
func (o *OU2D) Params() map[string]float64 {
	return map[string]float64{"h11": o.h[0], "h12": o.h[1], "h22": o.h[2],
		"c11": o.c[0], "c12": o.c[1], "c22": o.c[2], "n": float64(len(o.a0))}
}

// Defaults returns η = 0.1/λ_max(H) and B = 1.
func (o *OU2D) Defaults() (float64, int) { return 0.1 / symEig2Max(o.h), 1 }
func (o *OU2D) Dim() int                 { return 2 }
func (o *OU2D) NumExamples() int         { return len(o.a0) }

func (o *OU2D) hv(dst, t []float64) {
	x, y := t[0], t[1]
	dst[0] = o.h[0]*x + o.h[1]*y
	dst[1] = o.h[1]*x + o.h[2]*y
}

func (o *OU2D) MiniBatchGrad(dst, theta []float64, idx []int) {
	checkLen("dst", dst, 2)
	checkLen("theta", theta, 2)
	var s0, s1 float64
	for _, i := range idx {
		s0 += o.a0[i]
		s1 += o.a1[i]
	}
	o.hv(dst, theta)
	k := float64(len(idx))
	dst[0] += s0 / k
	dst[1] += s1 / k
}

func (o *OU2D) WeightedGrad(dst, theta []float64, w []float64) {
	checkLen("dst", dst, 2)
	checkLen("theta", theta, 2)
	checkLen("w", w, len(o.a0))
	var sw, s0, s1 float64
	for i, wi := range w {
		sw += wi
		s0 += wi * o.a0[i]
		s1 += wi * o.a1[i]
	}
	o.hv(dst, theta)
	dst[0] = dst[0]*sw + s0
	dst[1] = dst[1]*sw + s1
}

func (o *OU2D) RegGrad(dst, theta []float64) {}

func (o *OU2D) Loss(theta []float64) float64 {
	checkLen("theta", theta, 2)
	var g [2]float64
	o.hv(g[:], theta)
	return 0.5*(theta[0]*g[0]+theta[1]*g[1]) + o.abar[0]*theta[0] + o.abar[1]*theta[1]
}

func (o *OU2D) Clone() sim.Problem { c := *o; return &c }

// Moments writes ∇L = Hθ + ā and C = Cov(a) from the example set.
func (o *OU2D) Moments(grad, cov, theta []float64) {
	checkLen("theta", theta, 2)
	if grad != nil {
		checkLen("grad", grad, 2)
		o.hv(grad, theta)
		grad[0] += o.abar[0]
		grad[1] += o.abar[1]
	}
	if cov != nil {
		checkLen("cov", cov, 4)
		cov[0], cov[1], cov[2], cov[3] = o.acov[0], o.acov[1], o.acov[1], o.acov[2]
	}
}

func (o *OU2D) Hess(dst, theta []float64) {
	checkLen("dst", dst, 4)
	dst[0], dst[1], dst[2], dst[3] = o.h[0], o.h[1], o.h[1], o.h[2]
}

func (o *OU2D) Minima() [][]float64 {
	det := o.h[0]*o.h[2] - o.h[1]*o.h[1]
	// θ* = −H⁻¹ā
	x := -(o.h[2]*o.abar[0] - o.h[1]*o.abar[1]) / det
	y := -(-o.h[1]*o.abar[0] + o.h[0]*o.abar[1]) / det
	return [][]float64{{x, y}}
}
func (o *OU2D) Saddles() [][]float64 { return nil }

// Domain returns ±8 marginal standard deviations of the continuous Lyapunov covariance.
func (o *OU2D) Domain(lr, kappa float64) (lo, hi []float64) {
	v := o.Variances(lr, kappa)
	m := o.Minima()[0]
	s0, s1 := 8*math.Sqrt(v.SDE[0]), 8*math.Sqrt(v.SDE[3])
	return []float64{m[0] - s0, m[1] - s1}, []float64{m[0] + s0, m[1] + s1}
}

// Variances returns the closed forms of MATH.md §6 with C_B = κ_B C: the SDE's continuous
// Lyapunov solution HΣ + ΣH = ηC_B, the discrete one Σ = (I − ηH)Σ(I − ηH) + η²C_B (nil
// unless 0 < ηλ_i < 2), and the note's Gaussian with precision the symmetric part of
// (2/η)C_B⁻¹H (nil when that is not positive definite).
func (o *OU2D) Variances(lr, kappa float64) Variances {
	var r Variances
	H := mat.NewSymDense(2, []float64{o.h[0], o.h[1], o.h[1], o.h[2]})
	cb := mat.NewSymDense(2, []float64{kappa * o.c[0], kappa * o.c[1], kappa * o.c[1], kappa * o.c[2]})
	r.SDE = lyapunov2(H, cb, lr, false)
	if lmax := symEig2Max(o.h); lr*lmax < 2 {
		r.Discrete = lyapunov2(H, cb, lr, true)
	} else {
		r.Warnings = append(r.Warnings, fmt.Sprintf("discrete SGD is unstable: ηλ_max = %.4g ≥ 2", lr*lmax))
	}
	// P = sym((2/η) C_B⁻¹ H).
	var ci, pm mat.Dense
	if err := ci.Inverse(cb); err == nil {
		pm.Mul(&ci, H)
		p := mat.NewSymDense(2, nil)
		for i := range 2 {
			for j := i; j < 2; j++ {
				p.SetSym(i, j, (pm.At(i, j)+pm.At(j, i))/lr)
			}
		}
		var ch mat.Cholesky
		if ch.Factorize(p) {
			var s mat.SymDense
			if err := ch.InverseTo(&s); err == nil {
				r.Note = []float64{s.At(0, 0), s.At(0, 1), s.At(1, 0), s.At(1, 1)}
			}
		}
	}
	if r.Note == nil {
		r.Warnings = append(r.Warnings, "the note's precision sym((2/η)C_B⁻¹H) is not positive definite: no seed covariance")
	}
	return r
}

// lyapunov2 solves, in H's eigenbasis, Σ̃_ij = η C̃_ij / (λ_i + λ_j) (continuous) or
// η C̃_ij / (λ_i + λ_j − ηλ_iλ_j) (discrete), MATH.md §6, and returns Σ row-major.
func lyapunov2(h *mat.SymDense, cb *mat.SymDense, lr float64, discrete bool) []float64 {
	var eig mat.EigenSym
	if !eig.Factorize(h, true) {
		panic("landscape: eigendecomposition of a 2×2 matrix failed")
	}
	lam := eig.Values(nil)
	var q mat.Dense
	eig.VectorsTo(&q)
	var ct, tmp mat.Dense
	tmp.Mul(q.T(), cb)
	ct.Mul(&tmp, &q)
	st := mat.NewDense(2, 2, nil)
	for i := range 2 {
		for j := range 2 {
			den := lam[i] + lam[j]
			if discrete {
				den -= lr * lam[i] * lam[j]
			}
			st.Set(i, j, lr*ct.At(i, j)/den)
		}
	}
	var s mat.Dense
	tmp.Mul(&q, st)
	s.Mul(&tmp, q.T())
	return []float64{s.At(0, 0), (s.At(0, 1) + s.At(1, 0)) / 2, (s.At(0, 1) + s.At(1, 0)) / 2, s.At(1, 1)}
}

// symEig2Max returns the largest eigenvalue of [[a, b], [b, c]] given as [a, b, c].
func symEig2Max(m [3]float64) float64 {
	tr, det := m[0]+m[2], m[0]*m[2]-m[1]*m[1]
	return tr/2 + math.Sqrt(math.Max(0, tr*tr/4-det))
}
