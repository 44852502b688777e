//go:build amd64 && !purego

package model

import "golang.org/x/sys/cpu"

// useAsm reports whether the AVX2+FMA micro-kernel can run on this CPU.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x8 computes C[0:6, 0:8] ← fma(α, A·B, C) (C ← α·A·B when store ≠ 0, C not read)
// for a packed 6×kc panel A and kc×8 panel B (kc ≥ 1), the sum over p accumulated in order
// with FMAs. ldc is in elements.
//
//go:noescape
func kernel6x8(kc int, a, b, c *float64, ldc int, alpha float64, store int)

// kernel dispatches the micro-kernel: see kernelGo for the contract.
func kernel(kc int, a, b, c []float64, ldc int, alpha float64, store bool) {
	if useAsm {
		_ = a[gemmMR*kc-1]
		_ = b[gemmNR*kc-1]
		_ = c[(gemmMR-1)*ldc+gemmNR-1]
		st := 0
		if store {
			st = 1
		}
		kernel6x8(kc, &a[0], &b[0], &c[0], ldc, alpha, st)
		return
	}
	kernelGo(kc, a, b, c, ldc, alpha, store)
}
