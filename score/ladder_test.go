package score

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
)

// TestPivotedRangeMatchesEigen checks the ladder's pivoted range pseudo-inverse for large M
// (covState.pivotedRange, linalg.PivotedRangeInverse) against the eigendecomposition one of
// --inverse range (linalg.WoodburyInverse) on an MLP's C_B of rank M − 1 < d (a gap: both
// then invert the same range): the
// same rank, the same solutions and range fractions. C_B has condition ≈ 10⁷ on its range
// (logged; the test refuses above 10⁸), so both inverses carry rounding errors of order
// ε·10⁷ ≈ 2·10⁻⁹ relative: hence 1e-8 (and 1e-10 absolute on the fractions, which depend on
// the range only).
func TestPivotedRangeMatchesEigen(t *testing.T) {
	rnd := newRand(41)
	n, p := 30, 4
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:6", p, 3, model.Options{})
	d := m.NumParams()
	theta := randTheta(rnd, d, 0.6)
	src := newModelSource(m, b, 0.01, 0, 1)
	var invs [2]linalg.Inverse
	var noise [2]Noise
	for k := range invs {
		cs := newCovState(src, theta, SolverWoodbury, 2)
		if _, err := cs.spectrum(&noise[k], src, 3, linalg.DefaultRCond, 1); err != nil {
			t.Fatal(err)
		}
		set := linalg.InverseSettings{Range: true, RCond: linalg.DefaultRCond}
		var err error
		if k == 0 {
			_, err = cs.invert(&set, -1, 1, 0)
		} else {
			err = cs.pivotedRange(set.RCond)
		}
		if err != nil {
			t.Fatal(err)
		}
		invs[k] = cs.inv
	}
	if _, ok := invs[1].(*linalg.PivotedRangeInverse); !ok {
		t.Fatalf("pivotedRange gave %T", invs[1])
	}
	if _, ok := invs[0].(*linalg.WoodburyInverse); !ok {
		t.Fatalf("invert gave %T", invs[0])
	}
	var g mat.Dense
	m.PerExampleGrads(&g, theta, b)
	cb := bruteCov(&g, nil, 2/float64(n))
	var es mat.EigenSym
	es.Factorize(cb, false)
	vals := es.Values(nil)
	lmax := floats.Max(vals)
	lmin := math.Inf(1)
	for _, v := range vals {
		if v > 1e-10*lmax {
			lmin = min(lmin, v)
		}
	}
	t.Logf("d = %d, M = %d, rank %d, condition on the range %.3g", d, n, noise[0].Rank, lmax/lmin)
	if lmax/lmin > 1e8 {
		t.Fatalf("condition %g too large for the tolerance", lmax/lmin)
	}
	if noise[0].Rank != n-1 || invs[0].Rank() != n-1 || invs[1].Rank() != n-1 {
		t.Fatalf("ranks: noise %d, eigen %d, pivoted %d, want M−1 = %d", noise[0].Rank, invs[0].Rank(), invs[1].Rank(), n-1)
	}
	for trial := 0; trial < 3; trial++ {
		v := make([]float64, d)
		for i := range v {
			v[i] = rnd.NormFloat64()
		}
		x0, x1 := make([]float64, d), make([]float64, d)
		_ = invs[0].Solve(x0, v)
		_ = invs[1].Solve(x1, v)
		checkVec(t, "pivoted against eigen range inverse", x1, x0, 1e-8)
		f0, f1 := invs[0].RangeFraction(v), invs[1].RangeFraction(v)
		if math.Abs(f0-f1) > 1e-10 {
			t.Errorf("range fraction: eigen %g, pivoted %g", f0, f1)
		}
	}
}

// TestLadderUserRungIsTheReport: on a rank-deficient Woodbury problem the ladder's rung of
// the user's damping reproduces the report's own divergence numbers and their standard
// errors exactly (same inverse, same replicates), although the other rungs' factorisations
// share its scratch memory; the pseudo-inverse rung is finite.
func TestLadderUserRungIsTheReport(t *testing.T) {
	rnd := newRand(42)
	n, p := 30, 4
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:6", p, 3, model.Options{})
	theta := randTheta(rnd, m.NumParams(), 0.6)
	set := Settings{LR: 0.1, Batch: 8, Solver: SolverWoodbury, Inverse: linalg.InverseSettings{Damping: 1e-4}, Divergence: true,
		SkipAsymmetry: true, ExactTraceMaxDim: 1, TraceProbes: 6}
	rep, err := ComputeModel(ModelProblem{Model: m, Batch: b, WeightDecay: 0.01}, theta, &set)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Diagnostics.Ladder) != 4 {
		t.Fatalf("%d rungs, want 4", len(rep.Diagnostics.Ladder))
	}
	user := rep.Diagnostics.Ladder[1]
	if !user.User || user.DivergenceNorm != *rep.Diagnostics.DivergenceNorm || user.DivergenceNormSE != *rep.Diagnostics.DivergenceNormSE || !(user.DivergenceNormSE > 0) {
		t.Errorf("user rung %+v, report norm %g ± %g", user, *rep.Diagnostics.DivergenceNorm, *rep.Diagnostics.DivergenceNormSE)
	}
	if pinv := rep.Diagnostics.Ladder[3]; !pinv.Range || !(pinv.DivergenceNorm > 0) || math.IsInf(pinv.DivergenceNorm, 0) {
		t.Errorf("pseudo-inverse rung %+v", pinv)
	}
}
