package stationary

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

// BenchmarkExactLeastSquares: d = 30 (Kronecker, 465 unknowns) and d = 100 (iterative), N = 1000.
func BenchmarkExactLeastSquares(b *testing.B) {
	for _, d := range []int{30, 100} {
		b.Run(map[int]string{30: "d=30-kronecker", 100: "d=100-iterative"}[d], func(b *testing.B) {
			rnd := newRand(4)
			n := 1000
			x, y := lsData(rnd, n, d, 0.5)
			h := mat.NewSymDense(d, nil)
			h.SymOuterK(1/float64(n), x.T())
			for i := 0; i < d; i++ {
				h.SetSym(i, i, h.At(i, i)+0.1)
			}
			var ch mat.Cholesky
			ch.Factorize(h)
			var rhs, th mat.VecDense
			rhs.MulVec(x.T(), mat.NewVecDense(n, y))
			rhs.ScaleVec(1/float64(n), &rhs)
			ch.SolveVecTo(&th, &rhs)
			c := mat.NewSymDense(d, nil)
			LeastSquaresNoise(c, x, y, th.RawVector().Data)
			var es mat.EigenSym
			es.Factorize(h, false)
			eta := 0.5 / es.Values(nil)[d-1]
			var s mat.SymDense
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := ExactLeastSquares(&s, x, 0.1, eta, 0.01, c, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
