//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// useAsm reports whether the AVX2+FMA micro-kernel can run on this CPU.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x8 computes C[0:6, 0:8] ← fma(α, A·B, C) (C ← α·A·B when store ≠ 0, C not read)
// for a 6×kc panel A and kc×8 panel B (kc ≥ 1), the sum over p accumulated in order with
// FMAs. Row p of A (6 values) is at a + p·sa, row p of B (8 values) at b + p·sb; ldc, sa and
// sb are in elements.
//
//go:noescape
func kernel6x8(kc int, a, b, c *float64, ldc int, alpha float64, store, sa, sb int)

// kernel dispatches the micro-kernel: see kernelGo for the contract.
func kernel(kc int, a []float64, sa int, b []float64, sb int, c []float64, ldc int, alpha float64, store bool) {
	if useAsm {
		_ = a[(kc-1)*sa+gemmMR-1]
		_ = b[(kc-1)*sb+gemmNR-1]
		_ = c[(gemmMR-1)*ldc+gemmNR-1]
		st := 0
		if store {
			st = 1
		}
		kernel6x8(kc, &a[0], &b[0], &c[0], ldc, alpha, st, sa, sb)
		return
	}
	kernelGo(kc, a, sa, b, sb, c, ldc, alpha, store)
}
