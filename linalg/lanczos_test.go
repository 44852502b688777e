package linalg

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// eigenSymDesc returns the eigenvalues (decreasing, by value or magnitude) and matching
// eigenvectors of a by mat.EigenSym, the dense reference.
func eigenSymDesc(t *testing.T, a mat.Symmetric, magnitude bool) ([]float64, *mat.Dense) {
	var es mat.EigenSym
	if !es.Factorize(a, true) {
		t.Fatal("EigenSym failed")
	}
	vals := es.Values(nil)
	var q mat.Dense
	es.VectorsTo(&q)
	idx := make([]int, len(vals))
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) float64 {
		if magnitude {
			return math.Abs(vals[i])
		}
		return vals[i]
	}
	sort.SliceStable(idx, func(x, y int) bool { return key(idx[x]) > key(idx[y]) })
	d := len(vals)
	outV := make([]float64, d)
	outQ := mat.NewDense(d, d, nil)
	for c, i := range idx {
		outV[c] = vals[i]
		outQ.SetCol(c, mat.Col(nil, i, &q))
	}
	return outV, outQ
}

// checkEigenpairs checks Lanczos's pairs against the known spectrum and mat.EigenSym:
// values to tol·λ_scale, eigenvectors of simple eigenvalues by |⟨v, v_ref⟩| = 1, and every
// pair by its residual ‖Av − λv‖ and orthonormality.
func checkEigenpairs(t *testing.T, a mat.Symmetric, known []float64, vals []float64, vecs *mat.Dense, magnitude bool, tol float64) {
	t.Helper()
	refVals, refVecs := eigenSymDesc(t, a, magnitude)
	scale := maxAbs(refVals)
	k := len(vals)
	d := a.SymmetricDim()
	for i := 0; i < k; i++ {
		if math.Abs(vals[i]-known[i]) > tol*scale {
			t.Errorf("λ_%d = %.15g, known %.15g", i, vals[i], known[i])
		}
		if math.Abs(vals[i]-refVals[i]) > tol*scale {
			t.Errorf("λ_%d = %.15g, EigenSym %.15g", i, vals[i], refVals[i])
		}
		v := mat.Col(nil, i, vecs)
		res := matVec(a, v)
		floats.AddScaled(res, -vals[i], v)
		if r := floats.Norm(res, 2); r > 1e-7*scale {
			t.Errorf("pair %d: residual ‖Av − λv‖ = %g", i, r)
		}
		simple := true
		for j := 0; j < d; j++ {
			if j != i && math.Abs(refVals[j]-refVals[i]) < 1e-6*scale {
				simple = false
			}
		}
		if simple {
			c := math.Abs(floats.Dot(v, mat.Col(nil, i, refVecs)))
			if math.Abs(c-1) > 1e-8 {
				t.Errorf("pair %d: |⟨v, v_ref⟩| = %.15g", i, c)
			}
		}
		for j := 0; j <= i; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			if g := floats.Dot(v, mat.Col(nil, j, vecs)); math.Abs(g-want) > 1e-10 {
				t.Errorf("⟨v_%d, v_%d⟩ = %g", i, j, g)
			}
		}
	}
}

func TestLanczosKnownSpectrum(t *testing.T) {
	rnd := newRand(10)
	d := 80
	known := make([]float64, d)
	for i := range known {
		known[i] = 100 * math.Pow(0.85, float64(i)) // 100, 85, 72.25, …
	}
	a, _ := symWithSpectrum(rnd, known)
	k := 6
	vals := make([]float64, k)
	var vecs mat.Dense
	res, err := Lanczos(vals, &vecs, DenseOperator{a}, rand.NewPCG(1, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkEigenpairs(t, a, known, vals, &vecs, false, 1e-10)
	if res.Steps >= d {
		t.Errorf("used %d steps: no better than a full decomposition", res.Steps)
	}
	for i, r := range res.Residuals {
		v := mat.Col(nil, i, &vecs)
		av := matVec(a, v)
		floats.AddScaled(av, -vals[i], v)
		if tr := floats.Norm(av, 2); math.Abs(tr-r) > 1e-8*known[0] {
			t.Errorf("reported residual %g, true %g", r, tr)
		}
	}
}

// TestLanczosLowRank: an operator of rank 4 in d = 50 has a zero eigenvalue of multiplicity
// 46; asking for 7 pairs must return the 4 nonzero ones then zeros (found after the Krylov
// space becomes invariant and the iteration restarts).
func TestLanczosLowRank(t *testing.T) {
	rnd := newRand(11)
	d := 50
	known := make([]float64, d)
	copy(known, []float64{9, 4, 2.5, 1})
	a, _ := symWithSpectrum(rnd, known)
	k := 7
	vals := make([]float64, k)
	var vecs mat.Dense
	res, err := Lanczos(vals, &vecs, DenseOperator{a}, rand.NewPCG(3, 4), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Restarts == 0 {
		t.Error("expected the Krylov space of a rank-4 operator to become invariant")
	}
	checkEigenpairs(t, a, known, vals, &vecs, false, 1e-10)
}

// TestLanczosFactorOperator: top eigenvalues of κUUᵀ by Lanczos on CovOperator equal κ times
// the top eigenvalues of the Gram matrix UᵀU (dense EigenSym).
func TestLanczosFactorOperator(t *testing.T) {
	rnd := newRand(12)
	d, m := 200, 12
	u := randDense(rnd, d, m)
	for j := 0; j < m; j++ {
		col := mat.Col(nil, j, u)
		floats.Scale(1/float64(j+1), col)
		u.SetCol(j, col)
	}
	var g mat.Dense
	NewDenseFactor(u).Gram(&g)
	gs := mat.NewSymDense(m, nil)
	symmetrizeInto(gs, &g)
	ref, _ := eigenSymDesc(t, gs, false)
	kappa := 0.25
	vals := make([]float64, 5)
	if _, err := Lanczos(vals, nil, CovOperator{U: NewDenseFactor(u), Kappa: kappa}, rand.NewPCG(5, 6), nil); err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		approx(t, "λ", v, kappa*ref[i], 1e-10)
	}
}

// TestLanczosMagnitude: with negative eigenvalues, magnitude ordering picks them.
func TestLanczosMagnitude(t *testing.T) {
	rnd := newRand(13)
	d := 40
	known := make([]float64, d)
	for i := range known {
		known[i] = float64(i%7) * 0.1
	}
	known[0], known[1], known[2] = -20, 15, -8
	a, _ := symWithSpectrum(rnd, known)
	vals := make([]float64, 3)
	var vecs mat.Dense
	if _, err := Lanczos(vals, &vecs, DenseOperator{a}, rand.NewPCG(7, 8), &LanczosSettings{Magnitude: true}); err != nil {
		t.Fatal(err)
	}
	checkEigenpairs(t, a, []float64{-20, 15, -8}, vals, &vecs, true, 1e-10)
	// By value the largest are 15 then the cluster near 0.6.
	if _, err := Lanczos(vals, nil, DenseOperator{a}, rand.NewPCG(7, 8), nil); err != nil {
		t.Fatal(err)
	}
	approx(t, "largest", vals[0], 15, 1e-10)
	approx(t, "second", vals[1], 0.6, 1e-8)
}

// TestLanczosReproducible: the same seed gives bitwise identical results; another seed gives
// the same eigenvalues to tolerance.
func TestLanczosReproducible(t *testing.T) {
	rnd := newRand(14)
	known := make([]float64, 30)
	for i := range known {
		known[i] = float64(30 - i)
	}
	a, _ := symWithSpectrum(rnd, known)
	run := func(seed uint64) ([]float64, *mat.Dense) {
		vals := make([]float64, 4)
		var vecs mat.Dense
		if _, err := Lanczos(vals, &vecs, DenseOperator{a}, rand.NewPCG(seed, 1), nil); err != nil {
			t.Fatal(err)
		}
		return vals, &vecs
	}
	v1, q1 := run(42)
	v2, q2 := run(42)
	if !floats.Equal(v1, v2) || !mat.Equal(q1, q2) {
		t.Error("same seed, different results")
	}
	v3, _ := run(43)
	for i := range v1 {
		approx(t, "λ", v3[i], v1[i], 1e-10)
	}
}

func TestLanczosNotConverged(t *testing.T) {
	rnd := newRand(15)
	known := make([]float64, 100)
	for i := range known {
		known[i] = 1 + 1e-3*float64(i) // a tight cluster: slow convergence
	}
	a, _ := symWithSpectrum(rnd, known)
	vals := make([]float64, 2)
	_, err := Lanczos(vals, nil, DenseOperator{a}, rand.NewPCG(1, 1), &LanczosSettings{MaxIter: 5})
	var nc *NotConvergedError
	if !errors.As(err, &nc) {
		t.Errorf("got %v, want NotConvergedError", err)
	}
	for _, v := range vals {
		if math.IsNaN(v) || v < 1 || v > 1.1 {
			t.Errorf("unconverged Ritz value %g outside the spectrum", v)
		}
	}
}

// TestFullSymOperator checks the row-parallel product against a naive loop (tolerance
// n·1e-14·(1 + |Ax|_i): the rounding of two length-n dot products in different orders of
// summation, with gonum's unrolled dot) and its independence of GOMAXPROCS (bitwise).
func TestFullSymOperator(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 5, 300, 1001} {
		b := mat.NewDense(n, 3, nil)
		for i := 0; i < n; i++ {
			for j := 0; j < 3; j++ {
				b.Set(i, j, rnd.NormFloat64())
			}
		}
		var a mat.Dense
		a.Mul(b, b.T())
		x := make([]float64, n)
		for i := range x {
			x[i] = rnd.NormFloat64()
		}
		got := make([]float64, n)
		FullSymOperator{A: &a}.Apply(got, x)
		want := make([]float64, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				want[i] += a.At(i, j) * x[j]
			}
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-14*(1+math.Abs(want[i]))*float64(n) {
				t.Fatalf("n = %d: (Ax)[%d] = %v, naive %v", n, i, got[i], want[i])
			}
		}
		old := runtime.GOMAXPROCS(1)
		one := make([]float64, n)
		FullSymOperator{A: &a}.Apply(one, x)
		runtime.GOMAXPROCS(old)
		for i := range one {
			if one[i] != got[i] {
				t.Fatalf("n = %d: result differs with GOMAXPROCS = 1", n)
			}
		}
	}
}
