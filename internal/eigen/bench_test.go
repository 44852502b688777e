package eigen_test

import (
	"fmt"
	"github.com/sgdprior/sgdprior/internal/eigen"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// BenchmarkEigenSym times the eigendecomposition with vectors of a Gram-like positive
// semidefinite matrix (rank 3n/4) by this package's divide and conquer ("dc"), by gonum's
// Dsyev ("gonum", QR iteration) and by whatever lapack64 is routed to ("lapack64": this
// package in the default build, OpenBLAS's dsyevd with -tags openblas). Run the
// implementations in alternating rounds, e.g. -bench 'EigenSym/n=2048' -count 5.
func BenchmarkEigenSym(b *testing.B) {
	for _, n := range []int{500, 1000, 2048} {
		rng := rand.New(rand.NewPCG(7, uint64(n)))
		a := gram(rng, n, 3*n/4)
		for _, impl := range []string{"dc", "lapack64", "gonum"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, impl), func(b *testing.B) {
				q := make([]float64, n*n)
				w := make([]float64, n)
				work := make([]float64, 1)
				gonum.Implementation{}.Dsyev(lapack.EVCompute, blas.Upper, n, q, n, w, work, -1)
				work = make([]float64, int(work[0])) // gonum's optimal (blocked) workspace
				for i := 0; i < b.N; i++ {
					copy(q, a)
					var ok bool
					switch impl {
					case "dc":
						ok = eigen.Dsyev(blas.Upper, n, q, n, w)
					case "lapack64":
						ok = lapack64.Syev(lapack.EVCompute, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: q}, w, work, len(work))
					case "gonum":
						ok = gonum.Implementation{}.Dsyev(lapack.EVCompute, blas.Upper, n, q, n, w, work, len(work))
					}
					if !ok {
						b.Fatal("failed")
					}
				}
			})
		}
	}
}
