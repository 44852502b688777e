package score

import (
	"fmt"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// solverPlan is the solver chosen for a computation, why, and what it costs (MATH.md §2,
// "Choosing a solver"). The counts are the dominant terms: for the dense solver the d×d
// covariance and its eigendecomposition (≈ 5d³ flops with eigenvectors); for the Woodbury
// solver the M×M Gram matrix and a scratch copy (2·8M² bytes) and its factorisation (M³/3
// flops for the damped Cholesky, ≈ 5M³ for the divide-and-conquer eigendecomposition of the
// range pseudo-inverse); for the CG solver one covariance product per iteration, ≈ 6Md flops
// (three products of the size of θ with each of the M examples' activations: the forward
// pass, Uᵀx and U(Uᵀx)).
type solverPlan struct {
	solver Solver
	// why is the deterministic explanation (Report.SolverChoice).
	why string
	// flops is the predicted flop count of the choice's set-up (dense, Woodbury) or of one
	// iteration (CG).
	flops float64
}

// covProductFlops is the flop count of one covariance product Cx over m examples of a
// d-parameter model, ≈ 6md, or 4md when the forward pass is cached (see solverPlan).
func covProductFlops(m, d int, cached bool) float64 {
	if cached {
		return 4 * float64(m) * float64(d)
	}
	return 6 * float64(m) * float64(d)
}

// woodburyBytes is the memory of the Woodbury solver's M×M Gram matrix and its scratch copy.
func woodburyBytes(m int) uint64 {
	b, _ := memlimit.MulInt(2, 8, m, m)
	return b
}

// woodburyFlops is the flop count of the Woodbury solver's factorisation of the M×M Gram
// matrix: M³/3 for the damped Cholesky, ≈ 5M³ for the eigendecomposition behind the range
// or exact inverse.
func woodburyFlops(m int, damped bool) float64 {
	f := float64(m) * float64(m) * float64(m)
	if damped {
		return f / 3
	}
	return 5 * f
}

// planSolver chooses the solver for d parameters and m covariance examples (set.Solver
// unless it is SolverAuto) and says why, with the cost of the choice and of the
// alternative. SolverAuto takes the dense solver for d ≤ DenseMaxDim; otherwise the
// Woodbury solver for m ≤ WoodburyMaxExamples when its 2·8M² bytes fit in the memory
// available; otherwise CG.
func planSolver(set *Settings, d, m int, cached bool) solverPlan {
	damped := set.Inverse.Damping > 0
	wb, wf := woodburyBytes(m), woodburyFlops(m, damped)
	cgf := covProductFlops(m, d, cached)
	woodbury := fmt.Sprintf("the %d×%d Gram matrix with a scratch copy needs %s, its factorisation ≈ %.2g flops", m, m, memlimit.Format(wb), wf)
	k := 6
	if cached {
		k = 4 // the forward pass kept
	}
	cg := fmt.Sprintf("each CG iteration is one covariance product, ≈ %d·M·d = %.2g flops", k, cgf)
	p := solverPlan{solver: set.Solver}
	switch set.Solver {
	case SolverDense:
		p.flops = 5 * float64(d) * float64(d) * float64(d)
		p.why = fmt.Sprintf("dense (as asked): the %d×%d covariance, eigendecomposition ≈ %.2g flops", d, d, p.flops)
		return p
	case SolverWoodbury:
		p.flops = wf
		p.why = "woodbury (as asked): " + woodbury
		return p
	case SolverCG:
		p.flops = cgf
		p.why = "cg (as asked): " + cg
		return p
	}
	switch {
	case d <= set.DenseMaxDim:
		p.solver = SolverDense
		p.flops = 5 * float64(d) * float64(d) * float64(d)
		p.why = fmt.Sprintf("dense: d = %d ≤ %d, the %d×%d covariance, eigendecomposition ≈ %.2g flops", d, set.DenseMaxDim, d, d, p.flops)
	case m <= set.WoodburyMaxExamples && memlimit.Need("", wb, "") == nil:
		p.solver, p.flops = SolverWoodbury, wf
		p.why = fmt.Sprintf("woodbury: M = %d ≤ %d examples; %s (instead, %s)", m, set.WoodburyMaxExamples, woodbury, cg)
	case m <= set.WoodburyMaxExamples:
		p.solver, p.flops = SolverCG, cgf
		p.why = fmt.Sprintf("cg: %s, more than the memory available; %s", woodbury, cg)
	default:
		p.solver, p.flops = SolverCG, cgf
		p.why = fmt.Sprintf("cg: M = %d > %d examples (%s); %s", m, set.WoodburyMaxExamples, woodbury, cg)
	}
	return p
}

// gemmRate measures this machine's matrix-product speed in flop/s, from the best of three
// 1024×768 by 768×128 products through blas64 (the shape of a first layer's products; a few
// milliseconds): the unit of the predicted times the progress reports show. Predictions
// never enter results.
func gemmRate() float64 {
	const m, k, n = 1024, 768, 128
	a := blas64.General{Rows: m, Cols: k, Stride: k, Data: make([]float64, m*k)}
	for i := range a.Data {
		a.Data[i] = float64(i%7) - 3
	}
	b := blas64.General{Rows: k, Cols: n, Stride: n, Data: make([]float64, k*n)}
	for i := range b.Data {
		b.Data[i] = float64(i%5) - 2
	}
	c := blas64.General{Rows: m, Cols: n, Stride: n, Data: make([]float64, m*n)}
	best := time.Duration(1 << 62)
	for range 3 {
		t0 := time.Now()
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, c)
		best = min(best, time.Since(t0))
	}
	return 2 * m * k * n / max(best.Seconds(), 1e-9)
}

// predict formats the predicted time of flops at the measured rate.
func predict(flops, rate float64) string {
	s := flops / rate
	switch {
	case s < 1:
		return "under a second"
	case s < 120:
		return fmt.Sprintf("≈ %.0f s", s)
	}
	return fmt.Sprintf("≈ %.0f min", s/60)
}
