//go:build !amd64 || purego

package kernel

const useAsm = false

// kernel dispatches the micro-kernel: see kernelGo for the contract.
func kernel(kc int, a []float64, sa int, b []float64, sb int, c []float64, ldc int, alpha float64, store bool) {
	kernelGo(kc, a, sa, b, sb, c, ldc, alpha, store)
}
