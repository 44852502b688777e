//go:build !amd64 || purego

package model

const useAsm = false

// kernel dispatches the micro-kernel: see kernelGo for the contract.
func kernel(kc int, a, b, c []float64, ldc int, alpha float64, store bool) {
	kernelGo(kc, a, b, c, ldc, alpha, store)
}
