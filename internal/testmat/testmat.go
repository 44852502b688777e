// Package testmat holds the random matrices and comparisons that the tests of linalg and
// stationary share: seeded Gaussian matrices and vectors, random orthogonal matrices,
// symmetric matrices of a given spectrum, and a naive triple-loop κUUᵀ to check the fast
// products against.
package testmat

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// NewRand returns a PCG generator with the given seed (stream 7).
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

// Dense returns an r×c matrix of standard normal entries.
func Dense(rnd *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m.Set(i, j, rnd.NormFloat64())
		}
	}
	return m
}

// Vec returns n standard normal numbers.
func Vec(rnd *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rnd.NormFloat64()
	}
	return v
}

// Orth returns a random d×d orthogonal matrix (QR of a Gaussian matrix).
func Orth(rnd *rand.Rand, d int) *mat.Dense {
	var qr mat.QR
	qr.Factorize(Dense(rnd, d, d))
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// SymWithSpectrum returns Q diag(vals) Qᵀ for a random orthogonal Q, and Q.
func SymWithSpectrum(rnd *rand.Rand, vals []float64) (*mat.SymDense, *mat.Dense) {
	d := len(vals)
	q := Orth(rnd, d)
	var out mat.Dense
	out.Mul(q, mat.NewDiagDense(d, vals))
	out.Mul(&out, q.T())
	s := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			s.SetSym(i, j, 0.5*(out.At(i, j)+out.At(j, i)))
		}
	}
	return s, q
}

// OuterLoop returns κ U Uᵀ as a SymDense, by an explicit triple loop.
func OuterLoop(u *mat.Dense, kappa float64) *mat.SymDense {
	d, m := u.Dims()
	s := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			var v float64
			for k := 0; k < m; k++ {
				v += u.At(i, k) * u.At(j, k)
			}
			s.SetSym(i, j, kappa*v)
		}
	}
	return s
}

// RelErr returns ‖got − want‖/‖want‖ (‖got − want‖ when want is 0).
func RelErr(got, want []float64) float64 {
	diff := make([]float64, len(got))
	floats.SubTo(diff, got, want)
	n := floats.Norm(want, 2)
	if n == 0 {
		return floats.Norm(diff, 2)
	}
	return floats.Norm(diff, 2) / n
}

// RelErrMat returns ‖got − want‖₂/‖want‖₂ (the operator 2-norm; the absolute error when
// want is 0).
func RelErrMat(got, want mat.Matrix) float64 {
	var diff mat.Dense
	diff.Sub(got, want)
	n := mat.Norm(want, 2)
	if n == 0 {
		return mat.Norm(&diff, 2)
	}
	return mat.Norm(&diff, 2) / n
}

// MatVec returns A x.
func MatVec(a mat.Matrix, x []float64) []float64 {
	r, _ := a.Dims()
	var v mat.VecDense
	v.MulVec(a, mat.NewVecDense(len(x), x))
	out := make([]float64, r)
	for i := range out {
		out[i] = v.AtVec(i)
	}
	return out
}

// Approx fails t unless |got − want| ≤ tol·max(1, |want|).
func Approx(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.15g, want %.15g (tol %g)", name, got, want, tol)
	}
}
