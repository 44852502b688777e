//go:build !openblas

package model

// useBLAS is false outside the openblas build: the hooks in gemm.go compile away and every
// product runs on the package's own GEMM. See gemm_openblas.go.
const useBLAS = false

func blasRoute(m, n, k int) bool { return false }

func blasSerial(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, lower bool) {
	panic("model: blasSerial outside the openblas build")
}

func (g *gemmCtx) blasParallel(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, lower bool) bool {
	panic("model: blasParallel outside the openblas build")
}

func (j *parJob) blasWork() { panic("model: blasWork outside the openblas build") }
