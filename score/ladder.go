package score

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/stationary"
)

// ladderFactor is the ratio between adjacent dampings of the regularisation ladder.
const ladderFactor = 100

// ladderRungs returns the regularisations of the ladder (MATH.md §5, "Regularisation
// ladder"): for a user damping λ, λ·100, λ and λ/100; otherwise 1e-5, 1e-7 and 1e-9 times
// λ_max(C_B); then the range pseudo-inverse with the user's rcond (on the Woodbury path with
// more than rangeEigMaxDim covariance examples, unless it is the report's own inverse, the
// pivoted one, linalg.PivotedRangeInverse, in seconds instead of a minute).
func (c *computation) ladderRungs() []LadderRung {
	r := c.r
	var rungs []LadderRung
	lam := r.Damping
	if lam > 0 {
		for _, f := range []float64{ladderFactor, 1, 1.0 / ladderFactor} {
			rungs = append(rungs, LadderRung{Damping: lam * f, User: f == 1})
		}
	} else {
		top := r.Kappa * firstOr(r.Noise.TopEigenvalues, 0)
		for _, f := range []float64{1e-5, 1e-7, 1e-9} {
			rungs = append(rungs, LadderRung{Damping: top * f})
		}
	}
	return append(rungs, LadderRung{Range: true, RCond: r.RCond, User: r.Inverse == InverseRange})
}

// ladder computes the λ-dependent checks over the regularisation ladder on a rank-deficient
// problem (rank C_B < d; MATH.md §5): the divergence shift ‖A⁻¹κ_B∇·C‖, its ratio to ‖s_st‖
// and (at a minimum) to the stationary density's typical score, the Jacobian asymmetry of
// the seed field at a minimum, where J = −(2/η)A⁻¹H exactly (the terms with F = s_st vanish
// with ∇L), and the smallest eigenvalue of the seed's implied prior precision, for each
// inverse A⁻¹ of the ladder. The inverse of the report is restored afterwards (a damped
// Woodbury one, sharesScratch, is then no longer valid: nothing solves with it later).
func (c *computation) ladder() {
	r := c.r
	d := c.src.dim()
	if r.Noise.Rank >= d || r.Solver == SolverCG {
		return
	}
	saved := c.cs.inv
	defer func() { c.cs.inv = saved }()
	eta := r.LR
	vars := c.gaussianVars()
	// H times the asymmetry's probes (or the dense H), shared by the rungs.
	var hw [][]float64
	if c.probes != nil && r.AtMinimum && c.msrc != nil {
		hw = make([][]float64, len(c.probes))
		for k := range hw {
			hw[k] = make([]float64, d)
		}
		c.msrc.fullHessVecs(hw, c.theta, c.probes)
	}
	x := make([]float64, d)
	sst := make([]float64, d)
	for _, rung := range c.ladderRungs() {
		rung.DivergenceNorm, rung.DivergenceRatio, rung.DivergenceShift = math.NaN(), math.NaN(), math.NaN()
		rung.DivergenceNormSE, rung.DivergenceRatioSE, rung.DivergenceShiftSE = math.NaN(), math.NaN(), math.NaN()
		rung.AsymmetryNote, rung.AsymmetryNoteSE, rung.PriorMinEigNote = math.NaN(), math.NaN(), math.NaN()
		set := linalg.InverseSettings{Damping: rung.Damping, Range: rung.Range, RCond: c.set.Inverse.RCond, CGTol: c.set.Inverse.CGTol, CGMaxIter: c.set.Inverse.CGMaxIter}
		if rung.Range {
			set.Damping = 0
		}
		var err error
		switch {
		case rung.User && !sharesScratch(saved):
			c.cs.inv = saved // the report's own inverse (for --inverse range, a minute saved)
		case rung.Range && r.Solver == SolverWoodbury && c.cs.m > rangeEigMaxDim:
			err = c.cs.pivotedRange(set.RCond)
		default:
			_, err = c.cs.invert(&set, -1, c.set.Seed, c.set.precondExamples())
		}
		if err != nil {
			rung.Note = "inverse failed: " + err.Error()
			r.Diagnostics.Ladder = append(r.Diagnostics.Ladder, rung)
			continue
		}
		inv := c.cs.inv
		var notes []string
		if p, ok := inv.(*linalg.PivotedRangeInverse); ok {
			notes = append(notes, fmt.Sprintf("pseudo-inverse on the span of the %d pivot columns of the pivoted Cholesky factorisation of the Gram matrix at tolerance rcond·λ_max (not the eigenvalue truncation of --inverse range: the two differ along the eigenvalues near the threshold)", p.Rank()))
		}
		if r.Vectors.DivergenceC != nil {
			if err := stationary.StationaryScore(sst, inv, r.Vectors.Grad, eta); err == nil {
				st := c.divergenceStats(inv, sst, vars)
				rung.DivergenceNorm, rung.DivergenceRatio, rung.DivergenceShift = st.val[0], st.val[1], st.val[2]
				rung.DivergenceNormSE, rung.DivergenceRatioSE, rung.DivergenceShiftSE = st.se[0], st.se[1], st.se[2]
			}
		} else {
			notes = append(notes, "no divergence term (score without --divergence)")
		}
		switch {
		case !r.AtMinimum:
			notes = append(notes, "asymmetry not computed away from a minimum")
		case c.hess != nil && c.hess.dense != nil:
			j := mat.NewDense(d, d, nil)
			col := make([]float64, d)
			ok := true
			for k := 0; k < d && ok; k++ {
				mat.Col(col, k, c.hess.dense)
				ok = inv.Solve(x, col) == nil
				j.SetCol(k, x)
			}
			if ok {
				rung.AsymmetryNote, rung.AsymmetryNoteSE = denseAsymmetry(j), 0
			}
		case hw != nil:
			jw := make([][]float64, len(hw))
			for k := range hw {
				jw[k] = make([]float64, d)
			}
			if solveMany(inv, jw, hw) == nil {
				rung.AsymmetryNote, rung.AsymmetryNoteSE = probeAsymmetry(c.probes, jw, -1), probeAsymmetrySE(c.probes, jw)
			}
		default:
			notes = append(notes, "asymmetry not computed")
		}
		if c.red != nil {
			if note, _, err := stationary.NoteCovariance(c.red.H, c.red.CB, eta, &set); err == nil && note.Precision != nil {
				if v, _, ok := smallestEig(stationary.SeedPriorPrecision(note.Precision, c.red.H, c.src.weightDecay(), r.N)); ok {
					rung.PriorMinEigNote = v
				}
			}
		}
		if rung.Note != "" {
			notes = append([]string{rung.Note}, notes...)
		}
		if len(notes) > 0 {
			rung.Note = strings.Join(notes, "; ")
		}
		r.Diagnostics.Ladder = append(r.Diagnostics.Ladder, rung)
	}
}

// sharesScratch reports whether inv keeps its factor in the covState's M² scratch buffer
// (the damped Cholesky Woodbury inverse), which the ladder's other rungs overwrite: such an
// inverse is factorised again for its rung, and is not valid after the ladder.
func sharesScratch(inv linalg.Inverse) bool {
	_, ok := inv.(*cholWoodbury)
	return ok
}
