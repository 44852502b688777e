//go:build !amd64 || purego

package kernel

const useAsm = false

// usePair is a variable so that tests can set it; it stays false without the assembly.
var usePair = false

func kernelPair(kc int, a, b, c []float64, ldc int, alpha float64, store bool) { panic("unreachable") }

// kernel dispatches the micro-kernel: see kernelGo for the contract.
func kernel(kc int, a []float64, sa int, b []float64, sb int, c []float64, ldc int, alpha float64, store bool) {
	kernelGo(kc, a, sa, b, sb, c, ldc, alpha, store)
}

// kernelS dispatches the strided micro-kernel: see kernelGoS for the contract.
func kernelS(kc int, a []float64, sa, ra int, b []float64, sb int, c []float64, ldc int, alpha float64, store bool) {
	kernelGoS(kc, a, sa, ra, b, sb, c, ldc, alpha, store)
}

// packPanelT packs eight rows of B (row s at b[s·ldb:], kc values each) transposed into the
// panel pan (pan[p·8 + s] = b[s·ldb + p]).
func packPanelT(pan, b []float64, ldb, kc int) { packPanelTGo(pan, b, ldb, 0, kc) }

// packPanelsN packs nothing without the assembly (the caller packs panel by panel).
func packPanelsN(dst, b []float64, ldb, kc, np int) int { return 0 }

// packPanelA packs six rows of a row-major A (row r at a[r·lda:], kc values each)
// transposed into the panel pan (pan[p·6 + r] = a[r·lda + p]).
func packPanelA(pan, a []float64, lda, kc int) { packPanelAGo(pan, a, lda, 0, kc) }

// kernelSN runs the strided micro-kernel on np ≥ 1 tiles of rows = 6 or 4 rows and 8 columns
// along a row of C: tile q with the B panel at b[q·bstep:] and C at c[8q:], the A panel
// shared.
func kernelSN(rows, kc int, a []float64, sa, ra int, b []float64, sb, bstep, np int, c []float64, ldc int, alpha float64, store bool) {
	kernelGoSN(rows, kc, a, sa, ra, b, sb, bstep, np, c, ldc, alpha, store)
}

// kernelSND is kernelSN with store, each result then multiplied by 1 − t·t for t the element
// of T at the same place (T shaped and strided like C).
func kernelSND(rows, kc int, a []float64, sa, ra int, b []float64, sb, bstep, np int, c []float64, ldc int, alpha float64, t []float64) {
	kernelGoSN(rows, kc, a, sa, ra, b, sb, bstep, np, c, ldc, alpha, true)
	mulTanhDeriv(c, t, ldc, rows, np*gemmNR)
}

func sparseRowAVX(n, nnz int, alpha float64, idx *uint16, val, src *float64, lds int, dst *float64, rows int) bool {
	panic("unreachable")
}

func sparseRowAVX512(n, nnz int, alpha float64, idx *uint16, val, src *float64, lds int, dst *float64, rows int) bool {
	panic("unreachable")
}
