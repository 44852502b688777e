//go:build amd64 && !purego

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// useAsm reports whether the AVX2+FMA micro-kernel can run on this CPU.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// usePair reports whether macroKernel runs two adjacent full tiles at once by the AVX-512
// kernel6x16z (bitwise kernel6x8 on each); tests switch it off to compare.
var usePair = useAsm && cpu.X86.HasAVX512F

// kernel6x16z: see gemmz_amd64.s.
//
//go:noescape
func kernel6x16z(kc int, a, b, c *float64, ldc int, alpha float64, store, bstep int)

// kernelPair runs the micro-kernel on the two adjacent full tiles C[0:6, 0:16] from the packed
// A panel a (6×kc) and the two packed B panels b[0:8kc] and b[8kc:16kc]: bitwise kernel on
// each tile.
func kernelPair(kc int, a, b, c []float64, ldc int, alpha float64, store bool) {
	_ = a[kc*gemmMR-1]
	_ = b[2*kc*gemmNR-1]
	_ = c[(gemmMR-1)*ldc+2*gemmNR-1]
	st := 0
	if store {
		st = 1
	}
	kernel6x16z(kc, &a[0], &b[0], &c[0], ldc, alpha, st, kc*gemmNR)
}

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

// kernel6x8s is kernel6x8 with element (r, p) of A at a + p·sa + r·ra (elements).
//
//go:noescape
func kernel6x8s(kc int, a, b, c *float64, ldc int, alpha float64, store, sa, sb, ra int)

// kernelS dispatches the strided micro-kernel: see kernelGoS for the contract.
func kernelS(kc int, a []float64, sa, ra int, b []float64, sb int, c []float64, ldc int, alpha float64, store bool) {
	if useAsm {
		_ = a[(kc-1)*sa+(gemmMR-1)*ra]
		_ = b[(kc-1)*sb+gemmNR-1]
		_ = c[(gemmMR-1)*ldc+gemmNR-1]
		st := 0
		if store {
			st = 1
		}
		kernel6x8s(kc, &a[0], &b[0], &c[0], ldc, alpha, st, sa, sb, ra)
		return
	}
	kernelGoS(kc, a, sa, ra, b, sb, c, ldc, alpha, store)
}

// packB8T sets dst[p·8 + s] = b[s·ldb + p] for s < 8 and p < n, n a multiple of 4.
//
//go:noescape
func packB8T(n int, b *float64, ldb int, dst *float64)

// packPanelT packs eight rows of B (row s at b[s·ldb:], kc values each) transposed into the
// panel pan (pan[p·8 + s] = b[s·ldb + p]).
func packPanelT(pan, b []float64, ldb, kc int) {
	m := 0
	if useAsm {
		m = kc &^ 3
		if m > 0 {
			_ = b[7*ldb+m-1]
			_ = pan[m*gemmNR-1]
			packB8T(m, &b[0], ldb, &pan[0])
		}
	}
	packPanelTGo(pan, b, ldb, m, kc)
}

// packB8NRows sets dst[q·8·kc + p·8 + s] = b[p·ldb + q·8 + s] for s < 8, q < np, p < kc.
//
//go:noescape
func packB8NRows(kc, np int, b *float64, ldb int, dst *float64)

// packPanelsN packs the first np full panels of eight columns of a row-major B (row p at
// b[p·ldb:]) for p < kc into dst (panel q at dst[q·8·kc:]) and returns how many it packed:
// np with the assembly, else 0 (the caller packs them panel by panel).
func packPanelsN(dst, b []float64, ldb, kc, np int) int {
	if !useAsm || np == 0 || kc == 0 {
		return 0
	}
	_ = b[(kc-1)*ldb+np*gemmNR-1]
	_ = dst[np*gemmNR*kc-1]
	packB8NRows(kc, np, &b[0], ldb, &dst[0])
	return np
}

// packA6N sets dst[p·6 + r] = a[r·lda + p] for r < 6 and p < n, n a multiple of 4.
//
//go:noescape
func packA6N(n int, a *float64, lda int, dst *float64)

// packPanelA packs six rows of a row-major A (row r at a[r·lda:], kc values each)
// transposed into the panel pan (pan[p·6 + r] = a[r·lda + p]).
func packPanelA(pan, a []float64, lda, kc int) {
	m := 0
	if useAsm {
		m = kc &^ 3
		if m > 0 {
			_ = a[5*lda+m-1]
			_ = pan[m*gemmMR-1]
			packA6N(m, &a[0], lda, &pan[0])
		}
	}
	packPanelAGo(pan, a, lda, m, kc)
}

// kernel6x8sn is kernel6x8s on np consecutive tiles: B panel q at b + q·bstep, C tile q at
// c + 8q.
//
//go:noescape
func kernel6x8sn(kc int, a, b, c *float64, ldc int, alpha float64, store, sa, sb, ra, np, bstep int)

// kernel4x8sn is kernel6x8sn on 4×8 tiles (rows 0–3 of the A panel).
//
//go:noescape
func kernel4x8sn(kc int, a, b, c *float64, ldc int, alpha float64, store, sa, sb, ra, np, bstep int)

// kernelSN runs the strided micro-kernel on np ≥ 1 tiles of rows = 6 or 4 rows and 8 columns
// along a row of C: tile q with the B panel at b[q·bstep:] and C at c[8q:], the A panel
// shared.
func kernelSN(rows, kc int, a []float64, sa, ra int, b []float64, sb, bstep, np int, c []float64, ldc int, alpha float64, store bool) {
	if useAsm {
		_ = a[(kc-1)*sa+(rows-1)*ra]
		_ = b[(np-1)*bstep+(kc-1)*sb+gemmNR-1]
		_ = c[(rows-1)*ldc+np*gemmNR-1]
		st := 0
		if store {
			st = 1
		}
		switch rows {
		case gemmMR:
			kernel6x8sn(kc, &a[0], &b[0], &c[0], ldc, alpha, st, sa, sb, ra, np, bstep)
		case 4:
			kernel4x8sn(kc, &a[0], &b[0], &c[0], ldc, alpha, st, sa, sb, ra, np, bstep)
		default:
			panic("kernel: kernelSN: rows must be 6 or 4")
		}
		return
	}
	kernelGoSN(rows, kc, a, sa, ra, b, sb, bstep, np, c, ldc, alpha, store)
}

// kernel6x8snd and kernel4x8snd are kernel6x8sn and kernel4x8sn with store, each result
// then multiplied by 1 − t² (t at tdiff bytes after the result, C's leading dimension).
//
//go:noescape
func kernel6x8snd(kc int, a, b, c *float64, ldc int, alpha float64, tdiff, sa, sb, ra, np, bstep int)

//go:noescape
func kernel4x8snd(kc int, a, b, c *float64, ldc int, alpha float64, tdiff, sa, sb, ra, np, bstep int)

// kernelSND is kernelSN with store, each result then multiplied by 1 − t·t for t the element
// of T at the same place (T shaped and strided like C).
func kernelSND(rows, kc int, a []float64, sa, ra int, b []float64, sb, bstep, np int, c []float64, ldc int, alpha float64, t []float64) {
	if useAsm {
		_ = a[(kc-1)*sa+(rows-1)*ra]
		_ = b[(np-1)*bstep+(kc-1)*sb+gemmNR-1]
		_ = c[(rows-1)*ldc+np*gemmNR-1]
		_ = t[(rows-1)*ldc+np*gemmNR-1]
		tdiff := int(uintptr(unsafe.Pointer(&t[0]))) - int(uintptr(unsafe.Pointer(&c[0])))
		switch rows {
		case gemmMR:
			kernel6x8snd(kc, &a[0], &b[0], &c[0], ldc, alpha, tdiff, sa, sb, ra, np, bstep)
		case 4:
			kernel4x8snd(kc, &a[0], &b[0], &c[0], ldc, alpha, tdiff, sa, sb, ra, np, bstep)
		default:
			panic("kernel: kernelSND: rows must be 6 or 4")
		}
		return
	}
	kernelGoSN(rows, kc, a, sa, ra, b, sb, bstep, np, c, ldc, alpha, true)
	mulTanhDeriv(c, t, ldc, rows, np*gemmNR)
}
