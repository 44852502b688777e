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
