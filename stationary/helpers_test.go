package stationary

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

func randDense(rnd *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m.Set(i, j, rnd.NormFloat64())
		}
	}
	return m
}

func randVec(rnd *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rnd.NormFloat64()
	}
	return v
}

// randOrth returns a random d×d orthogonal matrix (QR of a Gaussian matrix).
func randOrth(rnd *rand.Rand, d int) *mat.Dense {
	var qr mat.QR
	qr.Factorize(randDense(rnd, d, d))
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// symWithSpectrum returns Q diag(vals) Qᵀ for a random orthogonal Q, and Q.
func symWithSpectrum(rnd *rand.Rand, vals []float64) (*mat.SymDense, *mat.Dense) {
	d := len(vals)
	q := randOrth(rnd, d)
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

// outer returns κ U Uᵀ as a SymDense, by an explicit triple loop.
func outerLoop(u *mat.Dense, kappa float64) *mat.SymDense {
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

func relErrMat(got, want mat.Matrix) float64 {
	var diff mat.Dense
	diff.Sub(got, want)
	n := mat.Norm(want, 2)
	if n == 0 {
		return mat.Norm(&diff, 2)
	}
	return mat.Norm(&diff, 2) / n
}

func approx(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.15g, want %.15g (tol %g)", name, got, want, tol)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
