package score

import (
	"fmt"
	"time"

	"gonum.org/v1/gonum/floats"

	"github.com/sgdprior/sgdprior/linalg"
)

// pcgInverse solves the damped system (C_B + λI) x = b by conjugate gradients on
// matrix-free covariance products (SolverCG, MATH.md §2), preconditioned by the scaled
// subset preconditioner (nystromPrecond: it resolves the top of the spectrum of C_B, where
// plain CG spends its iterations) or plainly. It stops when ‖b − (C_B + λI)x‖ ≤ CGTol·‖b‖,
// and records each solve's iterations, residual and Ritz values in stats. It implements
// linalg.Inverse.
type pcgInverse struct {
	d     int
	apply func(dst, x []float64) // x ↦ (C_B + λI)x
	prec  func(dst, r []float64) error
	// precMany applies the preconditioner to several vectors (SolveMany); nil: prec on each.
	precMany func(dst, r [][]float64) error
	tol      float64
	maxIter  int
	stats    *CGStats // receives every solve's iterations and residual
	trace    linalg.PCGTrace
	longest  int // iterations of the longest solve so far
	// zeroStart starts each solve from x = 0 (plain CG) instead of from the preconditioner's
	// solution M⁻¹b.
	zeroStart bool
}

func (p *pcgInverse) Dim() int { return p.d }

// Rank returns d: the damped matrix has full rank.
func (p *pcgInverse) Rank() int { return p.d }

// RangeFraction returns 0: a damped inverse uses the whole space.
func (p *pcgInverse) RangeFraction(b []float64) float64 {
	if len(b) != p.d {
		panic("score: pcgInverse.RangeFraction: length mismatch")
	}
	return 0
}

// Solve writes (C_B + λI)⁻¹ b into dst, starting from the preconditioner's solution (from 0
// for plain CG), and records the solve in p.stats.
func (p *pcgInverse) Solve(dst, b []float64) error {
	if len(dst) != p.d || len(b) != p.d {
		panic("score: pcgInverse.Solve: length mismatch")
	}
	if sameSlice(dst, b) {
		b = append([]float64(nil), b...)
	}
	if p.zeroStart {
		clear(dst)
	} else if err := p.prec(dst, b); err != nil {
		return err
	}
	t0 := time.Now()
	it, err := linalg.PCG(dst, b, p.apply, p.tol, p.maxIter, linalg.PCGOptions{Precond: p.prec, Curvature: positiveCurvature, Trace: &p.trace})
	if err == nil && p.stats != nil {
		p.trueResidual(&p.trace, dst, b)
	}
	if p.stats != nil {
		p.stats.Seconds += time.Since(t0).Seconds()
	}
	p.record(it)
	return err
}

// SolveMany writes (C_B + λI)⁻¹ b[j] into dst[j] for every j by linalg.PCGMulti: one
// preconditioned CG run per right-hand side, in lock-step, so that each iteration applies the
// preconditioner to all running vectors at once (precMany: the shifted subset
// preconditioner's blocked triangular solves, cholWoodbury.SolveMany) (MATH.md §2, "Several
// right-hand sides"). Each run starts, stops and is recorded in p.stats as Solve's, with the
// same iteration counts up to rounding. dst[j] and b[j] may be the same slice.
func (p *pcgInverse) SolveMany(dst, b [][]float64) error {
	n := len(b)
	if len(dst) != n {
		panic("score: pcgInverse.SolveMany: length mismatch")
	}
	if n == 0 {
		return nil
	}
	bs := make([][]float64, n)
	for j := range b {
		if len(dst[j]) != p.d || len(b[j]) != p.d {
			panic("score: pcgInverse.SolveMany: length mismatch")
		}
		bs[j] = b[j]
		if sameSlice(dst[j], b[j]) {
			bs[j] = append([]float64(nil), b[j]...)
		}
	}
	prec := p.precMany
	if prec == nil {
		prec = func(dst, r [][]float64) error {
			for j := range r {
				if err := p.prec(dst[j], r[j]); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if p.zeroStart {
		for _, x := range dst {
			clear(x)
		}
	} else if err := prec(dst, bs); err != nil {
		return err
	}
	t0 := time.Now()
	apply := func(dst, v [][]float64) {
		for j := range v {
			p.apply(dst[j], v[j])
		}
	}
	traces := make([]linalg.PCGTrace, n)
	iters, err := linalg.PCGMulti(dst, bs, apply, p.tol, p.maxIter, linalg.PCGMultiOptions{Precond: prec, Curvature: positiveCurvature, Traces: traces})
	if err == nil && p.stats != nil {
		for j := range bs {
			p.trueResidual(&traces[j], dst[j], bs[j])
		}
	}
	if p.stats != nil {
		p.stats.Seconds += time.Since(t0).Seconds()
	}
	for j, it := range iters {
		p.trace = traces[j]
		p.record(it)
	}
	return err
}

// trueResidual sets tr.Residual to the true ‖b − Ax‖/‖b‖ of the solution x (one more
// product): the recurrence's residual drifts from it once the iterate is accurate to about
// ε·cond(A). It leaves tr.Residual as it is for b = 0.
func (p *pcgInverse) trueResidual(tr *linalg.PCGTrace, x, b []float64) {
	r := make([]float64, p.d)
	p.apply(r, x)
	floats.Sub(r, b)
	if nb := floats.Norm(b, 2); nb > 0 {
		tr.Residual = floats.Norm(r, 2) / nb
	}
}

// record adds the last solve (it iterations, p.trace) to p.stats.
func (p *pcgInverse) record(it int) {
	s := p.stats
	if s == nil {
		return
	}
	s.Iterations = append(s.Iterations, it)
	s.MaxResidual = max(s.MaxResidual, p.trace.Residual)
	if it > p.longest || len(s.Iterations) == 1 {
		p.longest = it
		s.RitzMin, s.RitzMax = p.trace.CondEstimate()
		s.Condition = s.RitzMax / s.RitzMin
	}
}

func sameSlice(a, b []float64) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// positiveCurvature returns pᵀAp, or an error unless it is > 0.
func positiveCurvature(p, ap []float64) (float64, error) {
	pap := floats.Dot(p, ap)
	if !(pap > 0) {
		return 0, fmt.Errorf("score: preconditioned CG: the system is not positive definite")
	}
	return pap, nil
}
