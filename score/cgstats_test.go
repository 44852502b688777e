package score

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
)

// cgTestSystem returns A = κ_B UUᵀ + λI for a d×m U with column scales over two decades
// (the scale of column j is 10^(−j/(m−1))) and the shifted subset preconditioner of U's
// first ms columns.
func cgTestSystem(t *testing.T, rnd *rand.Rand, d, m, ms int, kappa, lam float64) (*mat.SymDense, *shiftedPrecond) {
	t.Helper()
	u := mat.NewDense(d, m, nil)
	for j := 0; j < m; j++ {
		s := math.Pow(10, -float64(j)/float64(m-1))
		for i := 0; i < d; i++ {
			u.Set(i, j, s*rnd.NormFloat64())
		}
	}
	a := mat.NewSymDense(d, nil)
	a.SymOuterK(kappa, u)
	for i := 0; i < d; i++ {
		a.SetSym(i, i, a.At(i, i)+lam)
	}
	sub := linalg.NewDenseFactor(mat.DenseCopyOf(u.Slice(0, d, 0, ms)))
	var g mat.Dense
	sub.Gram(&g)
	pre, err := newShiftedPrecond(sub, &g, kappa, lam, 1)
	if err != nil {
		t.Fatal(err)
	}
	return a, pre
}

// TestCGStatsDense checks what pcgInverse records against an independent count and a dense
// spectrum: on A = κ_B UUᵀ + λI (d = 30, U 30×12 with column scales over two decades) with
// the scaled subset preconditioner of U's first 8 columns, every solve's recorded iterations
// equal the products A v it made, less the one of its warm start and the one of its final
// residual; the residual it records is the true one (to 1e-6 relative), which CG's
// recurrence underestimates at this accuracy; and, solved to 1e-13, the Ritz
// extremes equal the extreme eigenvalues of L ᵀAL, P⁻¹ = LLᵀ, to 1e-6 relative.
func TestCGStatsDense(t *testing.T) {
	rnd := newRand(31)
	const d, m, ms = 30, 12, 8
	const kappa, lam = 0.5, 1e-3
	a, pre := cgTestSystem(t, rnd, d, m, ms, kappa, lam)
	products := 0
	stats := &CGStats{}
	inv := &pcgInverse{d: d, tol: 1e-13, maxIter: 200, prec: pre.Solve, stats: stats,
		apply: func(dst, x []float64) {
			products++
			mat.NewVecDense(d, dst).MulVec(a, mat.NewVecDense(d, x))
		}}
	x := make([]float64, d)
	for k := 0; k < 3; k++ {
		b := make([]float64, d)
		for i := range b {
			b[i] = rnd.NormFloat64()
		}
		before := products
		if err := inv.Solve(x, b); err != nil {
			t.Fatal(err)
		}
		if got := stats.Iterations[k]; got != products-before-2 {
			t.Errorf("solve %d: recorded %d iterations, made %d products (one for the warm start, one for the residual)", k, got, products-before)
		}
		r := make([]float64, d)
		mat.NewVecDense(d, r).MulVec(a, mat.NewVecDense(d, x))
		var rr, bb float64
		for i := range r {
			rr += (b[i] - r[i]) * (b[i] - r[i])
			bb += b[i] * b[i]
		}
		if res := math.Sqrt(rr / bb); k == 0 && math.Abs(stats.MaxResidual-res) > 1e-6*res {
			t.Errorf("recorded residual %g, true %g", stats.MaxResidual, res)
		}
	}
	if len(stats.Iterations) != 3 || !(stats.MaxResidual <= 1e-11) {
		t.Fatalf("stats %+v", stats)
	}

	// The preconditioned spectrum, dense: P⁻¹ from Solve on unit vectors, L its Cholesky
	// factor, eigenvalues of LᵀAL.
	pinv := mat.NewSymDense(d, nil)
	e, col := make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		e[j] = 1
		if err := pre.Solve(col, e); err != nil {
			t.Fatal(err)
		}
		e[j] = 0
		for i := 0; i <= j; i++ {
			pinv.SetSym(i, j, (col[i]+pinv.At(i, j))/1) // upper triangle from column j
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(pinv) {
		t.Fatal("P⁻¹ is not positive definite")
	}
	var l mat.TriDense
	ch.LTo(&l)
	var lal mat.Dense
	lal.Mul(l.T(), a)
	lal.Mul(&lal, &l)
	sym := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, (lal.At(i, j)+lal.At(j, i))/2)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(sym, false) {
		t.Fatal("eigendecomposition failed")
	}
	ev := es.Values(nil)
	checkScalar(t, "smallest Ritz value", stats.RitzMin, ev[0], 1e-6)
	checkScalar(t, "largest Ritz value", stats.RitzMax, ev[d-1], 1e-6)
	checkScalar(t, "condition estimate", stats.Condition, ev[d-1]/ev[0], 1e-6)
	// The preconditioner helps: the condition of A itself is far larger.
	var ea mat.EigenSym
	ea.Factorize(a, false)
	va := ea.Values(nil)
	if ca := va[d-1] / va[0]; !(stats.Condition < ca/10) {
		t.Errorf("preconditioned condition %g, unpreconditioned %g: want a tenfold gain at least", stats.Condition, ca)
	}
}

// TestPCGInverseSolveMany checks the lock-step solves against Solve one right-hand side at a
// time and against a dense Cholesky solve, on TestCGStatsDense's system (d = 30, the shifted
// subset preconditioner applied by SolveMany's blocked triangular solves): each column's
// iterations equal Solve's within one (the blocked solves reorder the rounding; the
// tolerance 1e-10 is well above the accuracy rounding allows, ≈ cond(A)·ε ≈ 3e-12, where the
// counts of two orderings could drift apart), the solutions agree with Solve's and with the
// dense solve to 2·cond(A)·tol relative (each is within ‖e‖/‖x‖ ≤ cond(A)·tol), the b = 0 column
// gives 0 in 0 iterations, every
// solve is recorded, and the products are each column's iterations plus its warm start's
// residual and its final true residual.
func TestPCGInverseSolveMany(t *testing.T) {
	rnd := newRand(32)
	const d, m, ms, n = 30, 12, 8, 4
	const kappa, lam = 0.5, 1e-3
	a, pre := cgTestSystem(t, rnd, d, m, ms, kappa, lam)
	var ch mat.Cholesky
	if !ch.Factorize(a) {
		t.Fatal("not positive definite")
	}
	var ea mat.EigenSym
	if !ea.Factorize(a, false) {
		t.Fatal("eigendecomposition failed")
	}
	ev := ea.Values(nil)
	bound := 2 * ev[d-1] / ev[0] * 1e-10
	products := 0
	newInv := func(stats *CGStats) *pcgInverse {
		return &pcgInverse{d: d, tol: 1e-10, maxIter: 200, prec: pre.Solve, precMany: pre.SolveMany, stats: stats,
			apply: func(dst, x []float64) {
				products++
				mat.NewVecDense(d, dst).MulVec(a, mat.NewVecDense(d, x))
			}}
	}
	bs := make([][]float64, n)
	xs := make([][]float64, n)
	for j := range bs {
		bs[j], xs[j] = make([]float64, d), make([]float64, d)
		if j == 1 {
			continue // b = 0
		}
		for i := range bs[j] {
			bs[j][i] = rnd.NormFloat64()
		}
	}
	many := &CGStats{}
	if err := newInv(many).SolveMany(xs, bs); err != nil {
		t.Fatal(err)
	}
	if len(many.Iterations) != n {
		t.Fatalf("recorded %d solves, want %d", len(many.Iterations), n)
	}
	want := 0
	for j, it := range many.Iterations {
		want += it + 1
		if j != 1 {
			want++
		}
	}
	if products != want {
		t.Errorf("%d products for iterations %v, want %d", products, many.Iterations, want)
	}
	one := &CGStats{}
	inv := newInv(one)
	for j := range bs {
		x := make([]float64, d)
		if err := inv.Solve(x, bs[j]); err != nil {
			t.Fatal(err)
		}
		if di := many.Iterations[j] - one.Iterations[j]; di < -1 || di > 1 {
			t.Errorf("column %d: %d iterations, Solve %d", j, many.Iterations[j], one.Iterations[j])
		}
		var dense mat.VecDense
		if err := ch.SolveVecTo(&dense, mat.NewVecDense(d, bs[j])); err != nil {
			t.Fatal(err)
		}
		for _, ref := range [][]float64{x, dense.RawVector().Data} {
			var dd, rr float64
			for i := range ref {
				dd += (xs[j][i] - ref[i]) * (xs[j][i] - ref[i])
				rr += ref[i] * ref[i]
			}
			if j == 1 {
				if dd != 0 || many.Iterations[1] != 0 {
					t.Errorf("b = 0: x differs from 0 by %g after %d iterations", math.Sqrt(dd), many.Iterations[1])
				}
			} else if e := math.Sqrt(dd / rr); !(e <= bound) {
				t.Errorf("column %d: relative difference %.3g > %.3g", j, e, bound)
			}
		}
	}
	if !(many.MaxResidual <= 1e-10) {
		t.Errorf("max residual %g", many.MaxResidual)
	}
}

// TestCGStatsReport: a CG computation on a small MLP reports every solve (the scores' one
// and one per asymmetry probe, by the product rule), each converged to the tolerance, its
// preconditioner, and why the solver was chosen; the JSON output carries them.
func TestCGStatsReport(t *testing.T) {
	rnd := newRand(8)
	n, p := 200, 6
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:8", p, 3, model.Options{})
	d := m.NumParams()
	theta := randTheta(rnd, d, 0.5)
	set := DefaultSettings()
	set.LR, set.Batch, set.Solver, set.TopK = 0.1, 16, SolverCG, 3
	set.Inverse.Damping = 1e-4
	set.AsymmetryProbes, set.PreconditionerExamples = 4, 50
	rep, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, &set)
	if err != nil {
		t.Fatal(err)
	}
	g := rep.CG
	if g == nil {
		t.Fatal("no CG statistics")
	}
	if d <= set.AsymmetryDenseMaxDim {
		t.Fatalf("d = %d: the test wants the probe estimate", d)
	}
	if len(g.Iterations) != 1+set.AsymmetryProbes {
		t.Errorf("%d solves recorded, want 1 + %d probes", len(g.Iterations), set.AsymmetryProbes)
	}
	for k, it := range g.Iterations {
		if it < 1 || it >= 2*d {
			t.Errorf("solve %d: %d iterations", k, it)
		}
	}
	if !(g.MaxResidual <= set.Inverse.CGTol || g.MaxResidual <= linalg.DefaultCGTol) || !(g.Condition >= 1) {
		t.Errorf("residual %g, condition %g", g.MaxResidual, g.Condition)
	}
	if g.PreconditionerExamples != 50 || !(g.Shift >= 0) || !(g.EffectiveDim > 0 && g.EffectiveDim < 50) {
		t.Errorf("preconditioner: %+v", g)
	}
	if rep.Diagnostics.AsymmetryNote == nil || rep.SolverChoice == "" {
		t.Errorf("asymmetry %v, solver choice %q", rep.Diagnostics.AsymmetryNote, rep.SolverChoice)
	}
	out := NewOutput(rep)
	if out.CG == nil || out.CG.Solves != len(g.Iterations) || out.CG.TotalIterations != sumInts(g.Iterations) || out.SolverChoice != rep.SolverChoice {
		t.Errorf("output: %+v", out.CG)
	}

	// Plain CG records its solves too, with more iterations.
	set.PlainCG = true
	plain, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, &set)
	if err != nil {
		t.Fatal(err)
	}
	if plain.CG.Preconditioner != "none (plain CG)" || !(plain.CG.Iterations[0] > g.Iterations[0]) {
		t.Errorf("plain CG: %q, %d iterations against %d preconditioned", plain.CG.Preconditioner, plain.CG.Iterations[0], g.Iterations[0])
	}
	checkScalar(t, "asymmetry, plain against preconditioned", *plain.Diagnostics.AsymmetryNote, *rep.Diagnostics.AsymmetryNote, 1e-6)
}

// TestPlanSolver: the automatic choice follows the stated rule (dense for d ≤ DenseMaxDim,
// Woodbury for M ≤ WoodburyMaxExamples when 2·8M² bytes fit in memory, CG otherwise), an
// explicit solver is kept, and the explanation carries the counts of the choice and of the
// alternative: 2·8·M² bytes and M³/3 flops for the damped Woodbury solver, 6·M·d flops per
// CG iteration.
func TestPlanSolver(t *testing.T) {
	set := DefaultSettings()
	set.Inverse.Damping = 1e-6
	cases := []struct {
		d, m   int
		solver Solver
		auto   Solver
		want   []string
	}{
		{30, 500, SolverAuto, SolverDense, []string{"dense: d = 30 ≤ 500", "1.4e+05 flops"}},
		{101770, 4096, SolverAuto, SolverWoodbury, []string{"woodbury: M = 4096 ≤ 8192", "268 MB", "2.3e+10 flops", "2.5e+09 flops"}},
		{101770, 60000, SolverAuto, SolverCG, []string{"cg: M = 60000 > 8192", "58 GB", "3.7e+10 flops"}},
		{101770, 60000, SolverWoodbury, SolverWoodbury, []string{"woodbury (as asked)"}},
		{101770, 100, SolverCG, SolverCG, []string{"cg (as asked)", "6.1e+07 flops"}},
	}
	for _, c := range cases {
		set.Solver = c.solver
		p := planSolver(&set, c.d, c.m, false)
		if p.solver != c.auto {
			t.Errorf("d = %d, M = %d, %v: chose %v, want %v", c.d, c.m, c.solver, p.solver, c.auto)
		}
		for _, w := range c.want {
			if !strings.Contains(p.why, w) {
				t.Errorf("d = %d, M = %d: %q lacks %q", c.d, c.m, p.why, w)
			}
		}
	}
	// The memory guard: with SGDPRIOR_MEMORY below the Gram matrix, M = 4096 goes to CG.
	t.Setenv("SGDPRIOR_MEMORY", "100MB")
	set.Solver = SolverAuto
	if p := planSolver(&set, 101770, 4096, false); p.solver != SolverCG || !strings.Contains(p.why, "more than the memory available") {
		t.Errorf("under 100 MB: %v, %q", p.solver, p.why)
	}
	checkScalar(t, "covariance product flops", covProductFlops(4096, 101770, false), 6*4096*101770, 0)
	checkScalar(t, "cached covariance product flops", covProductFlops(4096, 101770, true), 4*4096*101770, 0)
	if p := planSolver(&set, 101770, 100000, true); !strings.Contains(p.why, "≈ 4·M·d") {
		t.Errorf("cached: %q", p.why)
	}
	checkScalar(t, "damped Woodbury flops", woodburyFlops(3000, true), 9e9, 0)
}
