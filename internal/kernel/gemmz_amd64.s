//go:build amd64 && !purego

#include "textflag.h"

// One row of the 6×16 tile: the broadcast A value t times the two B rows Z0, Z1.
#define FMAZ_ROW(src, t, lo, hi) \
	VBROADCASTSD src, t \
	VFMADD231PD Z0, t, lo \
	VFMADD231PD Z1, t, hi

// C row ← fma(α, acc, C row) for the 16 columns (α in Z0).
#define ADDZ_ROW(lo, hi) \
	VMOVUPD (DX), Z1 \
	VMOVUPD 64(DX), Z2 \
	VFMADD231PD lo, Z0, Z1 \
	VFMADD231PD hi, Z0, Z2 \
	VMOVUPD Z1, (DX) \
	VMOVUPD Z2, 64(DX)

// C row ← α·acc.
#define STOREZ_ROW(lo, hi) \
	VMULPD lo, Z0, Z1 \
	VMULPD hi, Z0, Z2 \
	VMOVUPD Z1, (DX) \
	VMOVUPD Z2, 64(DX)

// The six rows of the tile (DX at row 0, R8 = ldc·8), by ADDZ_ROW or STOREZ_ROW.
#define ADDZ_TILE6 \
	ADDZ_ROW(Z4, Z5) \
	ADDQ R8, DX \
	ADDZ_ROW(Z6, Z7) \
	ADDQ R8, DX \
	ADDZ_ROW(Z8, Z9) \
	ADDQ R8, DX \
	ADDZ_ROW(Z10, Z11) \
	ADDQ R8, DX \
	ADDZ_ROW(Z12, Z13) \
	ADDQ R8, DX \
	ADDZ_ROW(Z14, Z15)

#define STOREZ_TILE6 \
	STOREZ_ROW(Z4, Z5) \
	ADDQ R8, DX \
	STOREZ_ROW(Z6, Z7) \
	ADDQ R8, DX \
	STOREZ_ROW(Z8, Z9) \
	ADDQ R8, DX \
	STOREZ_ROW(Z10, Z11) \
	ADDQ R8, DX \
	STOREZ_ROW(Z12, Z13) \
	ADDQ R8, DX \
	STOREZ_ROW(Z14, Z15)

// func kernel6x16z(kc int, a, b, c *float64, ldc int, alpha float64, store, bstep int)
//
// kernel6x8 on two adjacent tiles at once with AVX-512: C[0:6, 0:16] ← fma(α, A·B, C)
// (← α·A·B when store ≠ 0) for a packed 6×kc A panel (row p at a + 6p) and two packed kc×8
// B panels, the first at b, the second at b + bstep (row p of each at +8p), columns 0–7 of C
// from the first and 8–15 from the second. Each lane does exactly what the AVX2 kernel does
// for its element (accumulator from +0, one FMA per p in order, then the fma with α or the
// product), so every result bit is kernel6x8's.
TEXT ·kernel6x16z(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	MOVQ bstep+56(FP), R12
	SHLQ $3, R12
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15

loopz:
	VMOVUPD (DI), Z0
	VMOVUPD (DI)(R12*1), Z1
	FMAZ_ROW(0(SI), Z2, Z4, Z5)
	FMAZ_ROW(8(SI), Z3, Z6, Z7)
	FMAZ_ROW(16(SI), Z2, Z8, Z9)
	FMAZ_ROW(24(SI), Z3, Z10, Z11)
	FMAZ_ROW(32(SI), Z2, Z12, Z13)
	FMAZ_ROW(40(SI), Z3, Z14, Z15)
	ADDQ $48, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loopz

	VBROADCASTSD alpha+40(FP), Z0
	MOVQ store+48(FP), AX
	TESTQ AX, AX
	JNZ  storez
	ADDZ_TILE6
	VZEROUPPER
	RET

storez:
	STOREZ_TILE6
	VZEROUPPER
	RET
