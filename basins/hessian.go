package basins

import (
	"errors"
	"math"
	"math/rand/v2"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"gonum.org/v1/gonum/mat"
)

// hessOp is the full-batch Hessian ∇²L(θ) = (1/N) Σ H_i + λI as a linalg.SymOperator
// (Hessian–vector products, MATH.md §1).
type hessOp struct {
	obj   model.Objective
	theta []float64
	b     model.Batch
}

func (h *hessOp) Dim() int               { return len(h.theta) }
func (h *hessOp) Apply(dst, x []float64) { h.obj.HessVec(dst, h.theta, h.b, x) }

// ApplyMany writes H v_k into dst[k] in one batched pass (model.HessVecs) plus λv_k.
func (h *hessOp) ApplyMany(dst, v [][]float64) {
	model.HessVecs(h.obj.Model, dst, h.theta, h.b, v)
	if l := h.obj.WeightDecay; l != 0 {
		for k := range dst {
			for j, x := range v[k] {
				dst[k][j] += l * x
			}
		}
	}
}

// applyMany writes h v_k into dst[k]: in one pass when h has an ApplyMany method (the
// model's batched HVPs), one Apply per direction otherwise.
func applyMany(h linalg.SymOperator, dst, v [][]float64) {
	if m, ok := h.(interface{ ApplyMany(dst, v [][]float64) }); ok {
		m.ApplyMany(dst, v)
		return
	}
	for k := range v {
		h.Apply(dst[k], v[k])
	}
}

// TopEigenvalues returns the k largest eigenvalues of the symmetric operator h, in decreasing
// order, by Lanczos with full reorthogonalisation (linalg.Lanczos, MATH.md §13); λ_max is
// the first. A run that stops before converging returns its Ritz values and notConverged.
func TopEigenvalues(h linalg.SymOperator, k int, src rand.Source) (vals []float64, notConverged bool, err error) {
	vals, _, notConverged, err = topEigen(h, k, src, false)
	return vals, notConverged, err
}

// topEigen is TopEigenvalues, with the eigenvectors (d×k columns) when vecs is true.
func topEigen(h linalg.SymOperator, k int, src rand.Source, vecs bool) (vals []float64, v *mat.Dense, notConverged bool, err error) {
	k = min(k, h.Dim())
	vals = make([]float64, k)
	if vecs {
		v = &mat.Dense{}
	}
	_, err = linalg.Lanczos(vals, v, h, src, nil)
	var nc *linalg.NotConvergedError
	if errors.As(err, &nc) {
		return vals, v, true, nil
	}
	return vals, v, false, err
}

// NoiseAlong returns c_k = v_kᵀC_Bv_k = κ_B (1/N) Σ_i ((g_i − ḡ)·v_k)² for each column v_k of
// V (MATH.md §2, §13): the mini-batch noise variance along v_k, from one batched pass of
// per-example gradient products (model.GradDots).
func NoiseAlong(m model.Model, theta []float64, b model.Batch, v *mat.Dense, kappa float64) []float64 {
	d, k := v.Dims()
	n := b.Len()
	u, dst := make([][]float64, k), make([][]float64, k)
	for j := range k {
		u[j] = make([]float64, d)
		mat.Col(u[j], j, v)
		dst[j] = make([]float64, n)
	}
	model.GradDots(m, dst, theta, b, u)
	c := make([]float64, k)
	for j := range k {
		mean := 0.0
		for _, x := range dst[j] {
			mean += x
		}
		mean /= float64(n)
		ss := 0.0
		for _, x := range dst[j] {
			ss += (x - mean) * (x - mean)
		}
		c[j] = kappa * ss / float64(n)
	}
	return c
}

// ExactTrace returns tr H = Σ_j e_jᵀ H e_j from d Hessian–vector products on the unit
// vectors (MATH.md §13), in batches of 32 directions.
func ExactTrace(h linalg.SymOperator) float64 {
	d := h.Dim()
	const chunk = 32
	tr := 0.0
	for j0 := 0; j0 < d; j0 += chunk {
		n := min(chunk, d-j0)
		v, dst := make([][]float64, n), make([][]float64, n)
		for k := range n {
			v[k], dst[k] = make([]float64, d), make([]float64, d)
			v[k][j0+k] = 1
		}
		applyMany(h, dst, v)
		for k := range n {
			tr += dst[k][j0+k]
		}
	}
	return tr
}

// HutchinsonTrace estimates tr H by the mean of m Rademacher quadratic forms zᵀHz (each
// unbiased: E zᵀHz = tr H) and returns the mean with its standard error s/√m, s the sample
// standard deviation of the forms (MATH.md §13; Hutchinson 1989). The probes are drawn from
// rng in order, so the estimate is a function of the stream alone.
func HutchinsonTrace(h linalg.SymOperator, m int, rng *rand.Rand) (mean, stderr float64) {
	d := h.Dim()
	const chunk = 16
	forms := make([]float64, 0, m)
	for k0 := 0; k0 < m; k0 += chunk {
		n := min(chunk, m-k0)
		v, dst := make([][]float64, n), make([][]float64, n)
		for k := range n {
			v[k], dst[k] = make([]float64, d), make([]float64, d)
			for j := range v[k] {
				if rng.Uint64()&1 == 0 {
					v[k][j] = 1
				} else {
					v[k][j] = -1
				}
			}
		}
		applyMany(h, dst, v)
		for k := range n {
			s := 0.0
			for j, x := range v[k] {
				s += x * dst[k][j]
			}
			forms = append(forms, s)
		}
	}
	mean, stderr = meanStderr(forms)
	return mean, stderr
}

// meanStderr returns the sample mean of x and its standard error s/√n (s with n − 1); the
// standard error is NaN for fewer than two values.
func meanStderr(x []float64) (mean, stderr float64) {
	n := float64(len(x))
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range x {
		mean += v
	}
	mean /= n
	if len(x) < 2 {
		return mean, math.NaN()
	}
	ss := 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / (n - 1) / n)
}

// SumLogTop returns Σ_k log h_k over the top-k eigenvalues, the log-volume factor of a
// Laplace approximation restricted to the top-k subspace (MATH.md §13); NaN when one is ≤ 0.
func SumLogTop(vals []float64) float64 {
	s := 0.0
	for _, v := range vals {
		if !(v > 0) {
			return math.NaN()
		}
		s += math.Log(v)
	}
	return s
}
