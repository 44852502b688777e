package linalg

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// oldPCG is the preconditioned CG loop score and stationary ran before PCG (reference).
func oldPCG(x []float64, apply func(dst, x []float64), prec func(dst, r []float64) error, b []float64, tol float64, maxIter int) error {
	n := len(b)
	nb := floats.Norm(b, 2)
	if nb == 0 {
		clear(x)
		return nil
	}
	r := make([]float64, n)
	apply(r, x)
	floats.SubTo(r, b, r)
	z := make([]float64, n)
	if err := prec(z, r); err != nil {
		return err
	}
	p := append([]float64(nil), z...)
	ap := make([]float64, n)
	rz := floats.Dot(r, z)
	res := floats.Norm(r, 2)
	for it := 0; it < maxIter; it++ {
		if res <= tol*nb {
			return nil
		}
		apply(ap, p)
		pap := floats.Dot(p, ap)
		if !(pap > 0) {
			return fmt.Errorf("not positive definite")
		}
		alpha := rz / pap
		floats.AddScaled(x, alpha, p)
		floats.AddScaled(r, -alpha, ap)
		res = floats.Norm(r, 2)
		if err := prec(z, r); err != nil {
			return err
		}
		rzNew := floats.Dot(r, z)
		beta := rzNew / rz
		rz = rzNew
		for i := range p {
			p[i] = z[i] + beta*p[i]
		}
	}
	if res <= tol*nb {
		return nil
	}
	return &NotConvergedError{Method: "preconditioned CG", Iter: maxIter, Residual: res / nb, Tolerance: tol}
}

// oldCG is CGInverse.Solve's loop before PCG (reference), damping lam, no rank test.
func oldCG(dst []float64, op SymOperator, lam float64, b []float64, cgTol float64, maxIter int) error {
	d := len(b)
	r := append([]float64(nil), b...)
	clear(dst)
	nb := math.Sqrt(floats.Dot(r, r))
	if nb == 0 {
		return nil
	}
	p := append([]float64(nil), r...)
	ap := make([]float64, d)
	rr := nb * nb
	tol := cgTol * nb
	for it := 1; it <= maxIter; it++ {
		op.Apply(ap, p)
		pp := floats.Dot(p, p)
		pcp := floats.Dot(p, ap)
		floats.AddScaled(ap, lam, p)
		pap := pcp + lam*pp
		alpha := rr / pap
		floats.AddScaled(dst, alpha, p)
		floats.AddScaled(r, -alpha, ap)
		rrNew := floats.Dot(r, r)
		if math.Sqrt(rrNew) <= tol {
			return nil
		}
		beta := rrNew / rr
		rr = rrNew
		for i := range p {
			p[i] = r[i] + beta*p[i]
		}
		if it == maxIter {
			return &NotConvergedError{Method: "CG", Iter: it, Residual: math.Sqrt(rr) / nb, Tolerance: cgTol}
		}
	}
	return &NotConvergedError{Method: "CG", Iter: maxIter, Residual: math.Sqrt(rr) / nb, Tolerance: cgTol}
}

func pcgProblem() (*mat.SymDense, []float64, []float64) {
	rnd := newRand(11)
	vals := make([]float64, 30)
	for i := range vals {
		vals[i] = math.Pow(10, -3+4*float64(i)/29)
	}
	a, _ := symWithSpectrum(rnd, vals)
	diag := make([]float64, 30)
	for i := range diag {
		diag[i] = a.At(i, i)
	}
	return a, randVec(rnd, 30), diag
}

func TestPCGDenseAndOldLoop(t *testing.T) {
	a, b, diag := pcgProblem()
	apply := func(dst, v []float64) { copy(dst, matVec(a, v)) }
	jacobi := func(z, r []float64) error {
		for i := range z {
			z[i] = r[i] / diag[i]
		}
		return nil
	}
	var chol mat.Cholesky
	if !chol.Factorize(a) {
		t.Fatal("not PD")
	}
	var want mat.VecDense
	if err := chol.SolveVecTo(&want, mat.NewVecDense(30, b)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		prec func(z, r []float64) error
	}{{"jacobi", jacobi}, {"identity", func(z, r []float64) error { copy(z, r); return nil }}} {
		x := make([]float64, 30)
		jacobi(x, b)
		ref := slices.Clone(x)
		it, err := PCG(x, b, apply, 1e-12, 500, PCGOptions{Precond: tc.prec})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if it == 0 || it > 500 {
			t.Errorf("%s: %d iterations", tc.name, it)
		}
		if e := relErr(x, want.RawVector().Data); e > 1e-8 {
			t.Errorf("%s: relative error %g against the Cholesky solve", tc.name, e)
		}
		if err := oldPCG(ref, apply, tc.prec, b, 1e-12, 500); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x, ref) {
			t.Errorf("%s: PCG differs from the old loop", tc.name)
		}
		// Not converged: same iterate and error.
		x, ref = make([]float64, 30), make([]float64, 30)
		_, err1 := PCG(x, b, apply, 1e-12, 5, PCGOptions{Precond: tc.prec})
		err2 := oldPCG(ref, apply, tc.prec, b, 1e-12, 5)
		var nc *NotConvergedError
		if !errors.As(err1, &nc) || err1.Error() != err2.Error() || !slices.Equal(x, ref) {
			t.Errorf("%s: after 5 iterations %v / %v", tc.name, err1, err2)
		}
	}
	// Plain CG (CGInverse) against the old CG loop, damped.
	for _, maxIter := range []int{500, 4} {
		inv, err := NewCGInverse(DenseOperator{a}, &InverseSettings{Damping: 1e-2, CGTol: 1e-12, CGMaxIter: maxIter})
		if err != nil {
			t.Fatal(err)
		}
		x, ref := make([]float64, 30), make([]float64, 30)
		err1 := inv.Solve(x, b)
		err2 := oldCG(ref, DenseOperator{a}, 1e-2, b, 1e-12, maxIter)
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) || !slices.Equal(x, ref) {
			t.Errorf("CGInverse, %d iterations: %v / %v, equal %v", maxIter, err1, err2, slices.Equal(x, ref))
		}
	}
}

func TestPCGNotPositiveDefinite(t *testing.T) {
	a := mat.NewSymDense(2, []float64{1, 0, 0, -1})
	apply := func(dst, v []float64) { copy(dst, matVec(a, v)) }
	x := make([]float64, 2)
	_, err := PCG(x, []float64{1, 1}, apply, 1e-10, 10, PCGOptions{ZeroStart: true})
	var e *NotPSDError
	if !errors.As(err, &e) {
		t.Fatalf("indefinite system: %v, want a *NotPSDError", err)
	}
	if it, err := PCG(x, []float64{0, 0}, apply, 1e-10, 10, PCGOptions{}); it != 0 || err != nil || x[0] != 0 || x[1] != 0 {
		t.Errorf("b = 0: %d, %v, x = %v", it, err, x)
	}
}

// TestPCGTraceCondition checks PCGTrace.CondEstimate against the eigenvalues of the
// preconditioned operator M^{−1/2} A M^{−1/2} from a dense eigendecomposition. A is 30×30
// with eigenvalues 1 … 100, the preconditioner the inverse diagonal. Run to convergence
// (tol 1e-13, cond ≲ 100, at most 60 iterations) the extreme Ritz values equal the extreme
// eigenvalues to 1e-8 relative; stopped after 6 iterations they lie inside the spectrum
// (interlacing, to 1e-12 relative round-off).
func TestPCGTraceCondition(t *testing.T) {
	const n = 30
	rng := newRand(41)
	spec := make([]float64, n)
	for i := range spec {
		spec[i] = 1 + 99*float64(i)/(n-1)
	}
	a, _ := symWithSpectrum(rng, spec)
	dinv := make([]float64, n)
	for i := range dinv {
		dinv[i] = 1 / a.At(i, i)
	}
	// The preconditioned operator, dense.
	pa := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			pa.SetSym(i, j, math.Sqrt(dinv[i])*a.At(i, j)*math.Sqrt(dinv[j]))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(pa, false) {
		t.Fatal("eigendecomposition failed")
	}
	ev := es.Values(nil)
	lmin, lmax := ev[0], ev[n-1]
	apply := func(dst, v []float64) { mat.NewVecDense(n, dst).MulVec(a, mat.NewVecDense(n, v)) }
	prec := func(dst, r []float64) error {
		for i := range r {
			dst[i] = dinv[i] * r[i]
		}
		return nil
	}
	b := randVec(rng, n)

	var tr PCGTrace
	x := make([]float64, n)
	it, err := PCG(x, b, apply, 1e-13, 60, PCGOptions{Precond: prec, Trace: &tr})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Alpha) != it || len(tr.Beta) != it {
		t.Fatalf("trace holds %d α and %d β for %d iterations", len(tr.Alpha), len(tr.Beta), it)
	}
	r := make([]float64, n)
	apply(r, x)
	floats.Sub(r, b)
	if want := floats.Norm(r, 2) / floats.Norm(b, 2); math.Abs(tr.Residual-want) > 1e-3*want+1e-15 {
		t.Errorf("trace residual %g, true residual %g", tr.Residual, want)
	}
	lo, hi := tr.CondEstimate()
	if math.Abs(lo-lmin) > 1e-8*lmin || math.Abs(hi-lmax) > 1e-8*lmax {
		t.Errorf("converged: Ritz extremes [%.12g, %.12g], eigenvalues [%.12g, %.12g]", lo, hi, lmin, lmax)
	}

	clear(x)
	_, err = PCG(x, b, apply, 1e-13, 6, PCGOptions{Precond: prec, Trace: &tr})
	var nc *NotConvergedError
	if !errors.As(err, &nc) {
		t.Fatalf("6 iterations: err = %v, want NotConvergedError", err)
	}
	lo, hi = tr.CondEstimate()
	if lo < lmin*(1-1e-12) || hi > lmax*(1+1e-12) || !(hi > lo) {
		t.Errorf("6 iterations: Ritz extremes [%g, %g] outside the spectrum [%g, %g]", lo, hi, lmin, lmax)
	}
	if tr.Residual < 1e-13 {
		t.Errorf("6 iterations: residual %g, want the unconverged residual", tr.Residual)
	}

	var empty PCGTrace
	if lo, hi := empty.CondEstimate(); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("empty trace: %g, %g, want NaN", lo, hi)
	}
}

// TestPCGMulti checks that PCGMulti runs PCG on each column: with column-wise products and
// preconditioner, every column's iterate, iteration count, error and trace are bitwise those
// of PCG on that column alone, for plain and preconditioned CG, from x₀ = 0 (ZeroStart) and
// from a given x₀, with columns that stop at different iterations (b = 0, an eigenvector of A,
// random ones, one already solved by its x₀) and with maxIter cutting some of them short.
// The column products are counted: a column that has stopped is not multiplied again.
func TestPCGMulti(t *testing.T) {
	a, b0, diag := pcgProblem()
	n := len(b0)
	var eig mat.EigenSym
	if !eig.Factorize(a, true) {
		t.Fatal("eigendecomposition failed")
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	rnd := newRand(12)
	sol := randVec(rnd, n)
	bs := [][]float64{b0, make([]float64, n), mat.Col(nil, 7, &vecs), randVec(rnd, n), matVec(a, sol)}
	x0 := [][]float64{make([]float64, n), randVec(rnd, n), randVec(rnd, n), make([]float64, n), sol}
	apply := func(dst, v []float64) { copy(dst, matVec(a, v)) }
	jacobi := func(z, r []float64) error {
		for i := range z {
			z[i] = r[i] / diag[i]
		}
		return nil
	}
	for _, maxIter := range []int{500, 7} {
		for _, pre := range []bool{false, true} {
			for _, zero := range []bool{false, true} {
				name := fmt.Sprintf("maxIter %d, preconditioned %v, ZeroStart %v", maxIter, pre, zero)
				xs := make([][]float64, len(bs))
				for k := range xs {
					xs[k] = slices.Clone(x0[k])
				}
				var products int
				multiApply := func(dst, v [][]float64) {
					if len(dst) != len(v) {
						t.Fatalf("%s: %d destinations for %d vectors", name, len(dst), len(v))
					}
					products += len(v)
					for i := range v {
						apply(dst[i], v[i])
					}
				}
				o := PCGMultiOptions{ZeroStart: zero, Traces: make([]PCGTrace, len(bs))}
				if pre {
					o.Precond = func(dst, r [][]float64) error {
						for i := range r {
							jacobi(dst[i], r[i])
						}
						return nil
					}
				}
				iters, err := PCGMulti(xs, bs, multiApply, 1e-12, maxIter, o)
				var firstErr error
				for k := range bs {
					x := slices.Clone(x0[k])
					var tr PCGTrace
					po := PCGOptions{ZeroStart: zero, Trace: &tr}
					if pre {
						po.Precond = jacobi
					}
					it, e := PCG(x, bs[k], apply, 1e-12, maxIter, po)
					if e != nil && firstErr == nil {
						firstErr = e
					}
					if it != iters[k] || !slices.Equal(x, xs[k]) || !slices.Equal(tr.Alpha, o.Traces[k].Alpha) ||
						!slices.Equal(tr.Beta, o.Traces[k].Beta) || tr.Residual != o.Traces[k].Residual {
						t.Errorf("%s: column %d: %d iterations against PCG's %d, iterates equal %v, traces %v %v", name, k, iters[k], it,
							slices.Equal(x, xs[k]), len(o.Traces[k].Alpha), len(tr.Alpha))
					}
				}
				if (err == nil) != (firstErr == nil) || (err != nil && err.Error() != firstErr.Error()) {
					t.Errorf("%s: error %v, PCG's first %v", name, err, firstErr)
				}
				if maxIter == 7 && err == nil {
					t.Errorf("%s: 7 iterations cannot solve the random columns", name)
				}
				// A stopped column leaves the block: the products are each column's iterations,
				// plus A x₀ for the columns with b ≠ 0 without ZeroStart.
				want := 0
				for k := range bs {
					want += iters[k]
					if !zero && k != 1 {
						want++
					}
				}
				if iters[1] != 0 || products != want {
					t.Errorf("%s: b = 0 took %d iterations; %d column products, want %d", name, iters[1], products, want)
				}
				if pre && !zero && iters[4] != 0 {
					t.Errorf("%s: a column starting at its solution took %d iterations", name, iters[4])
				}
			}
		}
	}
	// A preconditioner error stops every column.
	xs := [][]float64{make([]float64, n), make([]float64, n)}
	calls := 0
	_, err := PCGMulti(xs, [][]float64{b0, bs[3]}, func(dst, v [][]float64) {
		for i := range v {
			apply(dst[i], v[i])
		}
	}, 1e-12, 100, PCGMultiOptions{Precond: func(dst, r [][]float64) error {
		if calls++; calls == 3 {
			return errors.New("preconditioner failed")
		}
		for i := range r {
			jacobi(dst[i], r[i])
		}
		return nil
	}})
	if err == nil || err.Error() != "preconditioner failed" {
		t.Errorf("preconditioner error: %v", err)
	}
}
