package score

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// gramEigMaxDim is the largest Gram matrix whose eigenvalues are computed exactly for the
// numerical rank; larger ones use a pivoted Cholesky factorisation (an estimate). The
// values alone cost the tridiagonal reduction (4/3 M³ flops, half of them memory-bound
// matrix–vector products): measured on the shared 2-core machine (load ≈ 9) 4.8 s at
// M = 2048 and 49 s at M = 4096, against 0.5 s and 2.6 s for the pivoted Cholesky, so the
// exact rank stays below 1000 (≈ 0.5 s) even with the divide-and-conquer eigensolver.
const gramEigMaxDim = 1000

// rangeEigMaxDim is the largest Gram matrix whose range pseudo-inverse is cheap from its
// eigendecomposition (linalg.WoodburyInverse, with a warning above). The regularisation
// ladder uses the pivoted one (pivotedRange) above it. With internal/eigen's divide and
// conquer the eigendecomposition takes 1.3 s at M = 1000 and 8–12 s at M = 2048 on the
// shared 2-core machine (OpenBLAS: 0.65 s and 5–7 s), against about a second for the pivoted
// one at 2048: a damped run's ladder would pay the difference, so the threshold stays 1000.
const rangeEigMaxDim = 1000

// covState is the noise covariance C(θ) in the representation of a solver, and the inverse
// of C_B = κ_B C that the scores use.
type covState struct {
	solver  Solver
	src     source
	theta   []float64
	d, m    int
	kappa   float64
	dense   *mat.SymDense  // C (SolverDense)
	fac     linalg.Factor  // U with C = UUᵀ (SolverWoodbury, SolverCG)
	gram    *mat.Dense     // UᵀU (SolverWoodbury)
	inv     linalg.Inverse // of C_B (+λI, or pseudo-inverse)
	work    []float64      // M² scratch (SolverWoodbury)
	gramMax float64        // λ_max(UᵀU) (SolverWoodbury, from spectrum)
	cg      *CGStats       // the damped CG solver's solves (SolverCG)
}

// newCovState forms C(θ) for the solver (without inverting it).
func newCovState(src source, theta []float64, solver Solver, kappa float64) *covState {
	cs := &covState{solver: solver, src: src, theta: theta, d: src.dim(), m: src.covExamples(), kappa: kappa}
	switch solver {
	case SolverDense:
		cs.dense = mat.NewSymDense(cs.d, nil)
		src.denseCov(cs.dense, theta)
	case SolverWoodbury:
		cs.fac = src.factor(theta)
		if mf, ok := cs.fac.(*modelFactor); ok {
			cs.gram = mf.gramMatrix() // shared, not copied: M² floats matter at scale
		} else {
			cs.gram = mat.NewDense(cs.m, cs.m, nil)
			cs.fac.Gram(cs.gram)
		}
	case SolverCG:
		cs.fac = src.factor(theta)
	default:
		panic("score: unknown solver")
	}
	return cs
}

// cb returns C_B = κ_B C (SolverDense).
func (cs *covState) cb() *mat.SymDense {
	c := mat.NewSymDense(cs.d, nil)
	c.ScaleSym(cs.kappa, cs.dense)
	return c
}

// applyC writes C x into dst.
func (cs *covState) applyC(dst, x []float64) {
	if cs.dense != nil {
		mat.NewVecDense(cs.d, dst).MulVec(cs.dense, mat.NewVecDense(cs.d, x))
		return
	}
	linalg.MulMulT(cs.fac, dst, make([]float64, cs.m), x, 1)
}

// cOperator is the SymOperator of C.
type cOperator struct{ cs *covState }

func (o cOperator) Dim() int               { return o.cs.d }
func (o cOperator) Apply(dst, x []float64) { o.cs.applyC(dst, x) }

// invert builds the inverse of C_B with the given settings. knownRank is the numerical rank
// of C when known (≥ 0), used to refuse a rank-deficient exact inverse before an expensive
// factorisation; probeSeed seeds the random choices; precExamples is the size of the subset
// behind the damped CG solver's preconditioner (≤ 0: plain CG).
func (cs *covState) invert(set *linalg.InverseSettings, knownRank int, probeSeed uint64, precExamples int) ([]string, error) {
	var warn []string
	exact := set.Damping == 0 && !set.Range
	switch cs.solver {
	case SolverDense:
		inv, err := linalg.NewDenseInverse(cs.cb(), set)
		if err != nil {
			return nil, err
		}
		cs.inv = inv
	case SolverWoodbury:
		switch {
		case exact && knownRank >= 0 && knownRank < cs.d:
			return nil, &linalg.RankDeficientError{Rank: knownRank, Dim: cs.d, RCond: set.RCond}
		case set.Damping > 0:
			inv, err := newCholWoodbury(cs.fac, cs.gram, cs.kappa, set.Damping, cs.scratch())
			if err != nil {
				return nil, err
			}
			cs.inv = inv
		default:
			if cs.m > rangeEigMaxDim {
				warn = append(warn, fmt.Sprintf("the pseudo-inverse needs an eigendecomposition of the %d×%d Gram matrix, which is slow; a damping (Cholesky) is much faster", cs.m, cs.m))
			}
			inv, err := linalg.NewWoodburyInverse(gramFactor{cs.fac, cs.gram}, cs.kappa, set)
			if err != nil {
				return nil, err
			}
			cs.inv = inv
		}
	case SolverCG:
		switch {
		case set.Range:
			return nil, errors.New("score: the range pseudo-inverse needs the Gram matrix or the dense covariance, which the CG solver never forms: use a damping, a covariance subset, or the Woodbury or dense solver")
		case exact && cs.m-1 < cs.d:
			return nil, &linalg.RankDeficientError{Rank: -1, Dim: cs.d, RCond: set.RCond}
		case set.Damping > 0:
			// Damped CG, preconditioned (precExamples > 0) by the shifted subset
			// preconditioner of a seeded subset of the covariance examples.
			kappa, lam := cs.kappa, set.Damping
			tol, maxIter := set.CGTol, set.CGMaxIter
			if tol == 0 {
				tol = linalg.DefaultCGTol
			}
			if maxIter == 0 {
				maxIter = max(2*cs.d, 100)
			}
			stats := &CGStats{Preconditioner: "none (plain CG)", Tol: tol}
			prec := func(dst, r []float64) error { // plain CG: M = λI, started from 0
				for i, v := range r {
					dst[i] = v / lam
				}
				return nil
			}
			plain := true
			var precMany func(dst, r [][]float64) error
			if precExamples > 0 {
				pf := cs.src.subsetFactor(cs.theta, precExamples, probeSeed)
				g := mat.NewDense(pf.Cols(), pf.Cols(), nil)
				pf.Gram(g)
				pre, err := newShiftedPrecond(pf, g, kappa, lam, probeSeed)
				if err != nil {
					return nil, err
				}
				prec, plain = pre.Solve, false
				precMany = pre.SolveMany
				stats.Preconditioner = pre.describe()
				stats.PreconditionerExamples, stats.Shift, stats.EffectiveDim, stats.EffectiveDimSE = pre.examples, pre.mu-lam, pre.effDim, pre.effDimSE
			}
			cs.cg = stats
			cs.inv = &pcgInverse{d: cs.d, tol: tol, maxIter: maxIter, prec: prec, precMany: precMany, stats: stats, zeroStart: plain,
				apply: func(dst, x []float64) {
					cs.applyC(dst, x)
					floats.Scale(kappa, dst)
					floats.AddScaled(dst, lam, x)
				}}
			return warn, nil
		}
		inv, err := linalg.NewCGInverse(linalg.CovOperator{U: cs.fac, Kappa: cs.kappa}, set)
		if err != nil {
			return nil, err
		}
		cs.inv = inv
		if exact {
			// CG on a right-hand side inside the range of a singular C_B never sees the null
			// space (it would return C_B⁺b silently). A random right-hand side has a
			// component there, which CG's Rayleigh-quotient test detects.
			rnd := rand.New(rand.NewPCG(probeSeed, streamCGProbe))
			b := make([]float64, cs.d)
			for i := range b {
				b[i] = rnd.NormFloat64()
			}
			if err := inv.Solve(make([]float64, cs.d), b); err != nil {
				return nil, err
			}
		}
	}
	return warn, nil
}

// pivotedRange sets the inverse to the pivoted range pseudo-inverse of C_B
// (linalg.PivotedRangeInverse, MATH.md §4), on the span of the pivot columns of the pivoted
// Cholesky factorisation of the Gram matrix at tolerance rcond·λ_max (the factorisation of
// the rank estimate Noise.Rank) (SolverWoodbury, after spectrum).
func (cs *covState) pivotedRange(rcond float64) error {
	if cs.solver != SolverWoodbury || !(cs.gramMax > 0) {
		panic("score: pivotedRange needs the Woodbury solver and the spectrum")
	}
	if rcond == 0 {
		rcond = linalg.DefaultRCond
	}
	inv, err := linalg.NewPivotedRangeInverse(cs.fac, cs.gram, cs.kappa, rcond, cs.gramMax, cs.scratch())
	if err != nil {
		return err
	}
	cs.inv = inv
	return nil
}

// gramFactor is a Factor whose Gram matrix is already known.
type gramFactor struct {
	linalg.Factor
	g *mat.Dense
}

func (f gramFactor) Gram(dst *mat.Dense) {
	if dst.IsEmpty() {
		r, c := f.g.Dims()
		dst.ReuseAs(r, c)
	}
	dst.Copy(f.g)
}

// spectrum fills the trace, rank and top eigenpairs of C into n. k is the number of top
// eigenpairs wanted (≥ 1).
func (cs *covState) spectrum(n *Noise, src source, k int, rcond float64, seed uint64) ([]string, error) {
	var warn []string
	k = min(k, cs.d)
	switch cs.solver {
	case SolverDense:
		n.Trace = mat.Trace(cs.dense)
		if n.Trace == 0 {
			return nil, errNoNoise
		}
		var es mat.EigenSym
		if !es.Factorize(cs.dense, true) {
			return nil, errors.New("score: eigendecomposition of C failed to converge")
		}
		vals := es.Values(nil)
		var vecs mat.Dense
		es.VectorsTo(&vecs)
		n.Rank = linalg.NumericalRank(vals, rcond)
		n.RankMethod = "eigenvalues"
		n.EigenMethod = "dense eigendecomposition"
		n.TopEigenvalues = make([]float64, k)
		n.TopVectors = mat.NewDense(cs.d, k, nil)
		for j := 0; j < k; j++ {
			i := cs.d - 1 - j
			n.TopEigenvalues[j] = vals[i]
			n.TopVectors.SetCol(j, mat.Col(nil, i, &vecs))
		}
	case SolverWoodbury:
		n.Trace = mat.Trace(cs.gram)
		if n.Trace == 0 {
			return nil, errNoNoise
		}
		k = min(k, cs.m)
		gs := cs.gramSym()
		vals := make([]float64, k)
		y := mat.NewDense(cs.m, k, nil)
		_, err := linalg.Lanczos(vals, y, linalg.FullSymOperator{A: cs.gram}, rand.NewPCG(seed, streamLanczosC), nil)
		if w := lanczosWarning("the top eigenvalues of C", err); w != "" {
			warn = append(warn, w)
		} else if err != nil {
			return nil, err
		}
		n.EigenMethod = "Lanczos on the Gram matrix"
		n.TopEigenvalues = vals
		cs.gramMax = vals[0]
		// Eigenvectors of C = UUᵀ: v = U y / √s for the Gram eigenpairs (s, y), s > 0.
		n.TopVectors = mat.NewDense(cs.d, k, nil)
		col := make([]float64, cs.d)
		for j := 0; j < k; j++ {
			if !(vals[j] > 0) {
				continue
			}
			cs.fac.Mul(col, mat.Col(nil, j, y))
			floats.Scale(1/math.Sqrt(vals[j]), col)
			n.TopVectors.SetCol(j, col)
		}
		if cs.m <= gramEigMaxDim {
			var es mat.EigenSym
			if !es.Factorize(gs, false) {
				return nil, errors.New("score: eigenvalues of the Gram matrix failed to converge")
			}
			n.Rank = linalg.NumericalRank(es.Values(nil), rcond)
			n.RankMethod = "eigenvalues"
		} else {
			n.Rank = pivotedRank(gs, rcond*max(vals[0], 0), cs.scratch())
			n.RankEstimated = true
			n.RankMethod = "pivoted Cholesky of the Gram matrix (estimate)"
		}
	case SolverCG:
		n.Trace = src.covTrace(cs.theta)
		if n.Trace == 0 {
			return nil, errNoNoise
		}
		vals := make([]float64, k)
		vecs := mat.NewDense(cs.d, k, nil)
		_, err := linalg.Lanczos(vals, vecs, cOperator{cs}, rand.NewPCG(seed, streamLanczosC), nil)
		if w := lanczosWarning("the top eigenvalues of C", err); w != "" {
			warn = append(warn, w)
		} else if err != nil {
			return nil, err
		}
		n.EigenMethod = "Lanczos on covariance products"
		n.TopEigenvalues = vals
		n.TopVectors = vecs
		n.Rank = min(cs.d, cs.m-1)
		n.RankEstimated = true
		n.RankMethod = "upper bound min(d, M−1) (estimate: no Gram matrix)"
	}
	n.TraceBatch = cs.kappa * n.Trace
	return warn, nil
}

// errNoNoise reports per-example gradients that are all equal.
var errNoNoise = errors.New("score: the per-example gradients are all equal (C = 0): there is no gradient noise")

// lanczosWarning turns a Lanczos non-convergence into a warning ("" for other errors).
func lanczosWarning(what string, err error) string {
	var nc *linalg.NotConvergedError
	if errors.As(err, &nc) {
		return fmt.Sprintf("Lanczos for %s stopped after %d steps before converging (relative residual %.2g): the values are approximate", what, nc.Iter, nc.Residual)
	}
	return ""
}

// gramSym returns the Gram matrix as a SymDense sharing its data (not to be modified).
func (cs *covState) gramSym() *mat.SymDense {
	raw := cs.gram.RawMatrix()
	if raw.Stride != cs.m {
		return mat.NewSymDense(cs.m, append([]float64(nil), denseData(cs.gram)...))
	}
	return mat.NewSymDense(cs.m, raw.Data[:cs.m*cs.m])
}

// scratch returns an M² work buffer, shared by the successive factorisations of the Gram
// matrix (the pivoted rank, then the damped Cholesky), so that at most one copy exists.
func (cs *covState) scratch() []float64 {
	if cs.work == nil {
		cs.work = make([]float64, cs.m*cs.m)
	}
	return cs.work
}

func denseData(a *mat.Dense) []float64 {
	r, c := a.Dims()
	out := make([]float64, 0, r*c)
	for i := 0; i < r; i++ {
		out = append(out, a.RawRowView(i)...)
	}
	return out
}

// pivotedRank estimates the numerical rank of the PSD matrix a by a Cholesky factorisation
// with complete pivoting, stopped when the largest remaining diagonal entry is ≤ tol
// (linalg.PivotedCholesky; Higham 1990). a is not modified; work (n² floats, or nil) is
// overwritten.
func pivotedRank(a *mat.SymDense, tol float64, work []float64) int {
	rank, _, _ := linalg.PivotedCholesky(a, tol, work)
	return rank
}
