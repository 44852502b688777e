//go:build !openblas

package kernel

// useBLAS is false outside the openblas build: the hooks in gemm.go compile away and every
// product runs on the package's own GEMM. See gemm_openblas.go.
const useBLAS = false

func blasRoute(m, n, k int) bool { return false }

func blasSerial(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, lower bool) {
	panic("kernel: blasSerial outside the openblas build")
}

func (g *GemmCtx) blasParallel(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, lower bool) bool {
	panic("kernel: blasParallel outside the openblas build")
}

func (j *parJob) blasWork() { panic("kernel: blasWork outside the openblas build") }
