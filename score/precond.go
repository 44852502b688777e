package score

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
	"github.com/sgdprior/sgdprior/linalg"
)

// shiftedPrecond is the preconditioner of the damped CG solver (SolverCG, MATH.md §2,
// "Shifted subset preconditioner"): from a seeded subset S of m covariance examples with
// factor U (C_S = U Uᵀ estimates C),
//
//	P = κ_B C_S + μI,  μ = λ + s_min,
//
// s_min the smallest eigenvalue of κ_B C_S off the centring direction (the subset's
// gradients are centred, so U 1 = 0), applied by the Woodbury identity through the Cholesky
// factor of μ/κ_B I + UᵀU (cholWoodbury). With μ = λ it is κ_B C_S + λI, the subset's estimate
// of A = C_B + λI; the shift treats the directions the subset misses, and the bottom of its
// spectrum where the subset's eigenvalues underestimate C_B's, as μ rather than λ, as the
// scaled randomized Nyström preconditioner of Frangella, Tropp & Udell (2023) treats those
// its sketch misses. s_min comes from Lanczos on (κ_B UᵀU + λI)⁻¹ off 1 through a first
// Cholesky factor (a few dozen pairs of triangular solves), which also gives the effective
// dimension d_eff(λ) = tr κ_B C_S (κ_B C_S + λI)⁻¹ by a Hutchinson estimate. Applying P⁻¹
// costs one product with Uᵀ and one with U (m/M of a full covariance product) and O(m²).
type shiftedPrecond struct {
	*cholWoodbury
	examples int     // m
	lam      float64 // λ
	mu       float64 // μ (λ when s_min ≤ shiftMinRel·λ)
	sMin     float64 // s_min, the estimate
	effDim   float64 // d_eff(λ), Hutchinson estimate
	effDimSE float64 // its standard error over the probes
}

// shiftMinRel is the smallest shift, relative to λ, for which the preconditioner is
// refactorised with μ = λ + s_min: a smaller one changes P by less than a part in a
// thousand, which changes CG's iterations by as little, and the second O(m³) Cholesky
// factorisation (about 2 s at m = 8192) would buy nothing.
const shiftMinRel = 1e-3

// effDimProbes is the number of Rademacher probes of the Hutchinson estimate of d_eff.
const effDimProbes = 16

// newShiftedPrecond builds the preconditioner from the subset factor u, its Gram matrix g =
// UᵀU (m×m, stride m), κ_B = kappa and the damping λ > 0; seed seeds the Lanczos start and
// the probes. The Cholesky factors are computed in g's own storage, so that only one m×m
// matrix exists (at m = 8192, 512 MiB instead of 1 GiB): on return the upper triangle of g
// holds the preconditioner's factor, and its strictly lower triangle still holds UᵀU
// (the factorisation reads and writes the upper triangle only); g must not be used after.
func newShiftedPrecond(u linalg.Factor, g *mat.Dense, kappa, damping float64, seed uint64) (*shiftedPrecond, error) {
	if !(damping > 0) {
		panic("score: shiftedPrecond needs damping > 0")
	}
	m := u.Cols()
	raw := g.RawMatrix()
	if raw.Rows != m || raw.Cols != m || raw.Stride != m {
		panic("score: shiftedPrecond: the Gram matrix must be m×m with stride m")
	}
	// The diagonal of UᵀU, overwritten by the first factor, for the second one.
	diag := make([]float64, m)
	for i := range diag {
		diag[i] = raw.Data[i*m+i]
	}
	base, err := newCholWoodbury(u, g, kappa, damping, raw.Data)
	if err != nil {
		return nil, err
	}
	// K = UᵀU + (λ/κ)I = RᵀR; x ↦ K⁻¹x off the centring vector 1.
	solveK := func(x []float64) {
		v := blas64.Vector{N: m, Inc: 1, Data: x}
		blas64.Trsv(blas.Trans, base.r, v)
		blas64.Trsv(blas.NoTrans, base.r, v)
	}
	p := &shiftedPrecond{examples: m, lam: damping, mu: damping}
	if m >= 3 {
		op := kinvOperator{m: m, solve: solveK}
		vals := make([]float64, 1)
		_, err := linalg.Lanczos(vals, nil, op, rand.NewPCG(seed, streamPrecondLanczos), &linalg.LanczosSettings{MaxIter: min(m-1, 40), Tol: 1e-3})
		var nc *linalg.NotConvergedError
		if err != nil && !errors.As(err, &nc) {
			return nil, err
		}
		// The largest eigenvalue of K⁻¹ off 1 is 1/(g_min + λ/κ); a Ritz value is at most
		// it, so s_min = κ(1/θ − λ/κ) is an estimate from above.
		if vals[0] > 0 {
			p.sMin = max(kappa/vals[0]-damping, 0)
		}
		if p.sMin > shiftMinRel*damping {
			p.mu = damping + p.sMin
		}
	}
	// d_eff(λ) = tr G̃(G̃ + λI)⁻¹ = m − (λ/κ) tr K⁻¹ for G̃ = κUᵀU, tr K⁻¹ by Hutchinson, the
	// probes' solves K⁻¹ z blocked together (the m×P matrix of probes, row-major).
	rnd := rand.New(rand.NewPCG(seed, streamEffDim))
	zs := make([]float64, m*effDimProbes)
	for k := 0; k < effDimProbes; k++ {
		for i := 0; i < m; i++ {
			zs[i*effDimProbes+k] = float64(1 - 2*int(rnd.Uint64()&1))
		}
	}
	ys := append([]float64(nil), zs...)
	kernel.TrsmLeft(blas.Upper, blas.Trans, blas.NonUnit, m, effDimProbes, 1, base.r.Data, base.r.Stride, ys, effDimProbes)
	kernel.TrsmLeft(blas.Upper, blas.NoTrans, blas.NonUnit, m, effDimProbes, 1, base.r.Data, base.r.Stride, ys, effDimProbes)
	est := make([]float64, effDimProbes)
	for k := range est {
		var s float64
		for i := 0; i < m; i++ {
			s += zs[i*effDimProbes+k] * ys[i*effDimProbes+k]
		}
		est[k] = float64(m) - damping/kappa*s
	}
	var mean, ss float64
	for _, e := range est {
		mean += e / effDimProbes
	}
	for _, e := range est {
		ss += (e - mean) * (e - mean)
	}
	p.effDim, p.effDimSE = mean, math.Sqrt(ss/(effDimProbes-1)/effDimProbes)
	if p.mu == damping {
		p.cholWoodbury = base
		return p, nil
	}
	// UᵀU again in the upper triangle: from the untouched lower one, and the saved diagonal.
	for i := 0; i < m; i++ {
		raw.Data[i*m+i] = diag[i]
		for j := i + 1; j < m; j++ {
			raw.Data[i*m+j] = raw.Data[j*m+i]
		}
	}
	p.cholWoodbury, err = newCholWoodbury(u, g, kappa, p.mu, raw.Data)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// kinvOperator is x ↦ Π K⁻¹ Π x with Π the projector off the vector of ones.
type kinvOperator struct {
	m     int
	solve func(x []float64)
}

func (o kinvOperator) Dim() int { return o.m }

func (o kinvOperator) Apply(dst, x []float64) {
	copy(dst, x)
	offOnes(dst)
	o.solve(dst)
	offOnes(dst)
}

// offOnes removes the mean of x (its component along the vector of ones).
func offOnes(x []float64) {
	var s float64
	for _, v := range x {
		s += v
	}
	s /= float64(len(x))
	for i := range x {
		x[i] -= s
	}
}

// describe says what the preconditioner is.
func (p *shiftedPrecond) describe() string {
	if p.mu == p.lam && p.sMin > 0 {
		return fmt.Sprintf("subset preconditioner κ_B C_S + λI from %d examples, not shifted (the smallest eigenvalue of κ_B C_S, %.3g by Lanczos, is below %g λ); d_eff(λ) of κ_B C_S ≈ %.0f ± %.0f", p.examples, p.sMin, shiftMinRel, p.effDim, p.effDimSE)
	}
	return fmt.Sprintf("shifted subset preconditioner κ_B C_S + μI from %d examples, μ = λ + %.3g (the smallest eigenvalue of κ_B C_S, Lanczos estimate); d_eff(λ) of κ_B C_S ≈ %.0f ± %.0f", p.examples, p.sMin, p.effDim, p.effDimSE)
}
