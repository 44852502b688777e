//go:build amd64 && !purego

#include "textflag.h"

// Building blocks of the micro-kernels (accumulators Y4–Y15: row r in Y(4+2r), Y(5+2r);
// Y0 holds α or, in a step, the B panel's row; DX walks the rows of C, R8 = ldc·8).
#define ZERO_ACC4 \
	VXORPD Y4, Y4, Y4 \
	VXORPD Y5, Y5, Y5 \
	VXORPD Y6, Y6, Y6 \
	VXORPD Y7, Y7, Y7 \
	VXORPD Y8, Y8, Y8 \
	VXORPD Y9, Y9, Y9 \
	VXORPD Y10, Y10, Y10 \
	VXORPD Y11, Y11, Y11

#define ZERO_ACC6 \
	ZERO_ACC4 \
	VXORPD Y12, Y12, Y12 \
	VXORPD Y13, Y13, Y13 \
	VXORPD Y14, Y14, Y14 \
	VXORPD Y15, Y15, Y15

// One k-step of a strided A panel (SI: rows 0–2, R13: rows 3–5, R12 = ra·8).
#define FMA_ROW(src, t, lo, hi) \
	VBROADCASTSD src, t \
	VFMADD231PD Y0, t, lo \
	VFMADD231PD Y1, t, hi

#define FMA_STEP6S \
	VMOVUPD (DI), Y0 \
	VMOVUPD 32(DI), Y1 \
	FMA_ROW((SI), Y2, Y4, Y5) \
	FMA_ROW((SI)(R12*1), Y3, Y6, Y7) \
	FMA_ROW((SI)(R12*2), Y2, Y8, Y9) \
	FMA_ROW((R13), Y3, Y10, Y11) \
	FMA_ROW((R13)(R12*1), Y2, Y12, Y13) \
	FMA_ROW((R13)(R12*2), Y3, Y14, Y15)

#define FMA_STEP4S \
	VMOVUPD (DI), Y0 \
	VMOVUPD 32(DI), Y1 \
	FMA_ROW((SI), Y2, Y4, Y5) \
	FMA_ROW((SI)(R12*1), Y3, Y6, Y7) \
	FMA_ROW((SI)(R12*2), Y2, Y8, Y9) \
	FMA_ROW((R13), Y3, Y10, Y11)

// C += α·acc and C = α·acc (the same bits as fma(α, acc, +0)) on a 6- or 4-row tile.
#define ADD_ROW(lo, hi) \
	VMOVUPD (DX), Y1 \
	VMOVUPD 32(DX), Y2 \
	VFMADD231PD lo, Y0, Y1 \
	VFMADD231PD hi, Y0, Y2 \
	VMOVUPD Y1, (DX) \
	VMOVUPD Y2, 32(DX)

#define STORE_ROW(lo, hi) \
	VMULPD  lo, Y0, Y1 \
	VMULPD  hi, Y0, Y2 \
	VMOVUPD Y1, (DX) \
	VMOVUPD Y2, 32(DX)

#define ADD_TILE6 \
	ADD_ROW(Y4, Y5) \
	ADDQ R8, DX \
	ADD_ROW(Y6, Y7) \
	ADDQ R8, DX \
	ADD_ROW(Y8, Y9) \
	ADDQ R8, DX \
	ADD_ROW(Y10, Y11) \
	ADDQ R8, DX \
	ADD_ROW(Y12, Y13) \
	ADDQ R8, DX \
	ADD_ROW(Y14, Y15)

#define STORE_TILE6 \
	STORE_ROW(Y4, Y5) \
	ADDQ R8, DX \
	STORE_ROW(Y6, Y7) \
	ADDQ R8, DX \
	STORE_ROW(Y8, Y9) \
	ADDQ R8, DX \
	STORE_ROW(Y10, Y11) \
	ADDQ R8, DX \
	STORE_ROW(Y12, Y13) \
	ADDQ R8, DX \
	STORE_ROW(Y14, Y15)

#define ADD_TILE4 \
	ADD_ROW(Y4, Y5) \
	ADDQ R8, DX \
	ADD_ROW(Y6, Y7) \
	ADDQ R8, DX \
	ADD_ROW(Y8, Y9) \
	ADDQ R8, DX \
	ADD_ROW(Y10, Y11)

#define STORE_TILE4 \
	STORE_ROW(Y4, Y5) \
	ADDQ R8, DX \
	STORE_ROW(Y6, Y7) \
	ADDQ R8, DX \
	STORE_ROW(Y8, Y9) \
	ADDQ R8, DX \
	STORE_ROW(Y10, Y11)


// func kernel6x8(kc int, a, b, c *float64, ldc int, alpha float64, store, sa, sb int)
//
// Registers: Y0, Y1 hold row p of the B panel (8 values); Y2, Y3 broadcast A[r, p];
// Y4..Y15 accumulate the 6×8 tile, two registers per row. Row p of the A panel (6 values)
// starts sa elements after row p−1, row p of the B panel sb elements after row p−1 (6 and 8
// for packed panels).
TEXT ·kernel6x8(SB), NOSPLIT, $0-72
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	MOVQ sa+56(FP), R10
	SHLQ $3, R10
	MOVQ sb+64(FP), R11
	SHLQ $3, R11
	ZERO_ACC6

loop:
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VBROADCASTSD 0(SI), Y2
	VFMADD231PD Y0, Y2, Y4
	VFMADD231PD Y1, Y2, Y5
	VBROADCASTSD 8(SI), Y3
	VFMADD231PD Y0, Y3, Y6
	VFMADD231PD Y1, Y3, Y7
	VBROADCASTSD 16(SI), Y2
	VFMADD231PD Y0, Y2, Y8
	VFMADD231PD Y1, Y2, Y9
	VBROADCASTSD 24(SI), Y3
	VFMADD231PD Y0, Y3, Y10
	VFMADD231PD Y1, Y3, Y11
	VBROADCASTSD 32(SI), Y2
	VFMADD231PD Y0, Y2, Y12
	VFMADD231PD Y1, Y2, Y13
	VBROADCASTSD 40(SI), Y3
	VFMADD231PD Y0, Y3, Y14
	VFMADD231PD Y1, Y3, Y15
	ADDQ R10, SI
	ADDQ R11, DI
	DECQ CX
	JNZ  loop

	VBROADCASTSD alpha+40(FP), Y0
	MOVQ store+48(FP), AX
	TESTQ AX, AX
	JNZ  storec
	ADD_TILE6
	VZEROUPPER
	RET
storec:
	// C ← α·acc: the same bits as fma(α, acc, +0).
	STORE_TILE6
	VZEROUPPER
	RET

// func kernel6x8s(kc int, a, b, c *float64, ldc int, alpha float64, store, sa, sb, ra int)
//
// kernel6x8 with A(r, p) at a + p·sa + r·ra (ra = 1 is kernel6x8's layout; sa = 1, ra = lda
// reads six rows of a row-major A in place). SI walks rows 0–2 (offsets 0, ra, 2ra), R13
// rows 3–5; the arithmetic, and so every result bit, is kernel6x8's.
TEXT ·kernel6x8s(SB), NOSPLIT, $0-80
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	MOVQ sa+56(FP), R10
	SHLQ $3, R10
	MOVQ sb+64(FP), R11
	SHLQ $3, R11
	MOVQ ra+72(FP), R12
	SHLQ $3, R12
	LEAQ (SI)(R12*2), R13
	ADDQ R12, R13
	ZERO_ACC6

loops:
	FMA_STEP6S
	ADDQ R10, SI
	ADDQ R10, R13
	ADDQ R11, DI
	DECQ CX
	JNZ  loops

	VBROADCASTSD alpha+40(FP), Y0
	MOVQ store+48(FP), AX
	TESTQ AX, AX
	JNZ  storecs
	ADD_TILE6
	VZEROUPPER
	RET
storecs:
	// C ← α·acc: the same bits as fma(α, acc, +0).
	STORE_TILE6
	VZEROUPPER
	RET

// func kernel6x8sn(kc int, a, b, c *float64, ldc int, alpha float64, store, sa, sb, ra, np, bstep int)
//
// kernel6x8s on np ≥ 1 consecutive 6×8 tiles of C along a row: tile q reads the B panel at
// b + q·bstep and writes C at c + 8q, all with the same A panel (one call instead of np).
// Every tile's arithmetic is kernel6x8s's.
TEXT ·kernel6x8sn(SB), NOSPLIT, $0-96
	MOVQ kc+0(FP), R15
	MOVQ a+8(FP), R14
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	MOVQ sa+56(FP), R10
	SHLQ $3, R10
	MOVQ sb+64(FP), R11
	SHLQ $3, R11
	MOVQ ra+72(FP), R12
	SHLQ $3, R12
	MOVQ np+80(FP), AX
	// R9 = bstep·8 − kc·sb·8: from the end of one B panel to the start of the next.
	MOVQ bstep+88(FP), R9
	SHLQ $3, R9
	MOVQ R15, BX
	IMULQ R11, BX
	SUBQ BX, R9
	// BX = 64 − 5·ldc·8: from the last row of one C tile to the first of the next.
	LEAQ (R8)(R8*4), BX
	NEGQ BX
	ADDQ $64, BX
tile:
	MOVQ R14, SI
	LEAQ (SI)(R12*2), R13
	ADDQ R12, R13
	MOVQ R15, CX
	ZERO_ACC6

loopn:
	FMA_STEP6S
	ADDQ R10, SI
	ADDQ R10, R13
	ADDQ R11, DI
	DECQ CX
	JNZ  loopn

	ADDQ R9, DI
	VBROADCASTSD alpha+40(FP), Y0
	MOVQ store+48(FP), CX
	TESTQ CX, CX
	JNZ  storen
	ADD_TILE6
	JMP  next
storen:
	// C ← α·acc: the same bits as fma(α, acc, +0).
	STORE_TILE6
next:
	ADDQ BX, DX
	DECQ AX
	JNZ  tile
	VZEROUPPER
	RET


// func kernel4x8sn(kc int, a, b, c *float64, ldc int, alpha float64, store, sa, sb, ra, np, bstep int)
//
// kernel6x8sn for 4×8 tiles (rows 0–3 of the A panel; accumulators Y4–Y11): the same
// arithmetic on each element.
TEXT ·kernel4x8sn(SB), NOSPLIT, $0-96
	MOVQ kc+0(FP), R15
	MOVQ a+8(FP), R14
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	MOVQ sa+56(FP), R10
	SHLQ $3, R10
	MOVQ sb+64(FP), R11
	SHLQ $3, R11
	MOVQ ra+72(FP), R12
	SHLQ $3, R12
	MOVQ np+80(FP), AX
	// R9 = bstep·8 − kc·sb·8: from the end of one B panel to the start of the next.
	MOVQ bstep+88(FP), R9
	SHLQ $3, R9
	MOVQ R15, BX
	IMULQ R11, BX
	SUBQ BX, R9
	// BX = 64 − 3·ldc·8: from the last row of one C tile to the first of the next.
	LEAQ (R8)(R8*2), BX
	NEGQ BX
	ADDQ $64, BX
tile4:
	MOVQ R14, SI
	LEAQ (SI)(R12*2), R13
	ADDQ R12, R13
	MOVQ R15, CX
	ZERO_ACC4

loopn4:
	FMA_STEP4S
	ADDQ R10, SI
	ADDQ R10, R13
	ADDQ R11, DI
	DECQ CX
	JNZ  loopn4

	ADDQ R9, DI
	VBROADCASTSD alpha+40(FP), Y0
	MOVQ store+48(FP), CX
	TESTQ CX, CX
	JNZ  storen4
	ADD_TILE4
	JMP  next4
storen4:
	// C ← α·acc: the same bits as fma(α, acc, +0).
	STORE_TILE4
next4:
	ADDQ BX, DX
	DECQ AX
	JNZ  tile4
	VZEROUPPER
	RET


// Four copies of 1.0 (kernel6x8snd, kernel4x8snd).
DATA gemmc_one<>+0(SB)/8, $0x3ff0000000000000
DATA gemmc_one<>+8(SB)/8, $0x3ff0000000000000
DATA gemmc_one<>+16(SB)/8, $0x3ff0000000000000
DATA gemmc_one<>+24(SB)/8, $0x3ff0000000000000
GLOBL gemmc_one<>(SB), RODATA|NOPTR, $32

// func kernel6x8snd(kc int, a, b, c *float64, ldc int, alpha float64, tdiff, sa, sb, ra, np, bstep int)
//
// kernel6x8sn with store, each result then multiplied by 1 − t² for t the element of T at
// the same place, T lying tdiff bytes after C with C's leading dimension: the operations
// of storing α·acc and then multiplying the stored value by 1 − t·t (no fused multiply–add).
TEXT ·kernel6x8snd(SB), NOSPLIT, $0-96
	MOVQ kc+0(FP), R15
	MOVQ a+8(FP), R14
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	MOVQ sa+56(FP), R10
	SHLQ $3, R10
	MOVQ sb+64(FP), R11
	SHLQ $3, R11
	MOVQ ra+72(FP), R12
	SHLQ $3, R12
	MOVQ np+80(FP), AX
	// R9 = bstep·8 − kc·sb·8: from the end of one B panel to the start of the next.
	MOVQ bstep+88(FP), R9
	SHLQ $3, R9
	MOVQ R15, BX
	IMULQ R11, BX
	SUBQ BX, R9
	// BX = 64 − 5·ldc·8: from the last row of one C tile to the first of the next.
	LEAQ (R8)(R8*4), BX
	NEGQ BX
	ADDQ $64, BX
tilexd:
	MOVQ R14, SI
	LEAQ (SI)(R12*2), R13
	ADDQ R12, R13
	MOVQ R15, CX
	ZERO_ACC6

loopnxd:
	FMA_STEP6S
	ADDQ R10, SI
	ADDQ R10, R13
	ADDQ R11, DI
	DECQ CX
	JNZ  loopnxd

	ADDQ R9, DI
	VBROADCASTSD alpha+40(FP), Y0
	MOVQ tdiff+48(FP), CX
	VMULPD  Y4, Y0, Y1
	VMULPD  Y5, Y0, Y2
	VMOVUPD gemmc_one<>(SB), Y4 // Y4, Y5 are free once row 0 is scaled
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ R8, DX
	VMULPD  Y6, Y0, Y1
	VMULPD  Y7, Y0, Y2
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ R8, DX
	VMULPD  Y8, Y0, Y1
	VMULPD  Y9, Y0, Y2
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ R8, DX
	VMULPD  Y10, Y0, Y1
	VMULPD  Y11, Y0, Y2
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ R8, DX
	VMULPD  Y12, Y0, Y1
	VMULPD  Y13, Y0, Y2
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ R8, DX
	VMULPD  Y14, Y0, Y1
	VMULPD  Y15, Y0, Y2
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ BX, DX
	DECQ AX
	JNZ  tilexd
	VZEROUPPER
	RET

// func kernel4x8snd(kc int, a, b, c *float64, ldc int, alpha float64, tdiff, sa, sb, ra, np, bstep int)
//
// kernel6x8snd for 4×8 tiles.
TEXT ·kernel4x8snd(SB), NOSPLIT, $0-96
	MOVQ kc+0(FP), R15
	MOVQ a+8(FP), R14
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	MOVQ sa+56(FP), R10
	SHLQ $3, R10
	MOVQ sb+64(FP), R11
	SHLQ $3, R11
	MOVQ ra+72(FP), R12
	SHLQ $3, R12
	MOVQ np+80(FP), AX
	// R9 = bstep·8 − kc·sb·8: from the end of one B panel to the start of the next.
	MOVQ bstep+88(FP), R9
	SHLQ $3, R9
	MOVQ R15, BX
	IMULQ R11, BX
	SUBQ BX, R9
	// BX = 64 − 3·ldc·8: from the last row of one C tile to the first of the next.
	LEAQ (R8)(R8*2), BX
	NEGQ BX
	ADDQ $64, BX
tile4xd4:
	MOVQ R14, SI
	LEAQ (SI)(R12*2), R13
	ADDQ R12, R13
	MOVQ R15, CX
	ZERO_ACC4

loopn4xd4:
	FMA_STEP4S
	ADDQ R10, SI
	ADDQ R10, R13
	ADDQ R11, DI
	DECQ CX
	JNZ  loopn4xd4

	ADDQ R9, DI
	VBROADCASTSD alpha+40(FP), Y0
	MOVQ tdiff+48(FP), CX
	VMULPD  Y4, Y0, Y1
	VMULPD  Y5, Y0, Y2
	VMOVUPD gemmc_one<>(SB), Y4 // Y4, Y5 are free once row 0 is scaled
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ R8, DX
	VMULPD  Y6, Y0, Y1
	VMULPD  Y7, Y0, Y2
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ R8, DX
	VMULPD  Y8, Y0, Y1
	VMULPD  Y9, Y0, Y2
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ R8, DX
	VMULPD  Y10, Y0, Y1
	VMULPD  Y11, Y0, Y2
	VMOVUPD (DX)(CX*1), Y3
	VMULPD  Y3, Y3, Y3
	VSUBPD  Y3, Y4, Y3 // 1 − t²
	VMULPD  Y3, Y1, Y1
	VMOVUPD 32(DX)(CX*1), Y5
	VMULPD  Y5, Y5, Y5
	VSUBPD  Y5, Y4, Y5
	VMULPD  Y5, Y2, Y2
	VMOVUPD Y1, (DX)
	VMOVUPD Y2, 32(DX)
	ADDQ BX, DX
	DECQ AX
	JNZ  tile4xd4
	VZEROUPPER
	RET

// func packB8T(n int, b *float64, ldb int, dst *float64)
//
// dst[p·8 + s] = b[s·ldb + p] for s < 8 and p < n, n a multiple of 4: eight rows of B
// transposed into a packed B panel, 4×4 blocks at a time (rows 0–3 then 4–7 of each group
// of four columns p). Copies only: the values are unchanged.
TEXT ·packB8T(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	SHLQ $3, R8
	MOVQ dst+24(FP), DI
	SHRQ $2, CX
	JZ   pbdone
	LEAQ (SI)(R8*4), R9 // row 4
	LEAQ (R8)(R8*2), R10 // 3·ldb bytes
pbloop:
	VMOVUPD (SI), Y0
	VMOVUPD (SI)(R8*1), Y1
	VMOVUPD (SI)(R8*2), Y2
	VMOVUPD (SI)(R10*1), Y3
	VUNPCKLPD Y1, Y0, Y4 // r0[0] r1[0] r0[2] r1[2]
	VUNPCKHPD Y1, Y0, Y5 // r0[1] r1[1] r0[3] r1[3]
	VUNPCKLPD Y3, Y2, Y6
	VUNPCKHPD Y3, Y2, Y7
	VPERM2F128 $0x20, Y6, Y4, Y0 // column 0: r0..r3
	VPERM2F128 $0x20, Y7, Y5, Y1 // column 1
	VPERM2F128 $0x31, Y6, Y4, Y2 // column 2
	VPERM2F128 $0x31, Y7, Y5, Y3 // column 3
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 64(DI)
	VMOVUPD Y2, 128(DI)
	VMOVUPD Y3, 192(DI)
	VMOVUPD (R9), Y8
	VMOVUPD (R9)(R8*1), Y9
	VMOVUPD (R9)(R8*2), Y10
	VMOVUPD (R9)(R10*1), Y11
	VUNPCKLPD Y9, Y8, Y12
	VUNPCKHPD Y9, Y8, Y13
	VUNPCKLPD Y11, Y10, Y14
	VUNPCKHPD Y11, Y10, Y15
	VPERM2F128 $0x20, Y14, Y12, Y8
	VPERM2F128 $0x20, Y15, Y13, Y9
	VPERM2F128 $0x31, Y14, Y12, Y10
	VPERM2F128 $0x31, Y15, Y13, Y11
	VMOVUPD Y8, 32(DI)
	VMOVUPD Y9, 96(DI)
	VMOVUPD Y10, 160(DI)
	VMOVUPD Y11, 224(DI)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $256, DI
	DECQ CX
	JNZ  pbloop
pbdone:
	VZEROUPPER
	RET

// func packA6N(n int, a *float64, lda int, dst *float64)
//
// dst[p·6 + r] = a[r·lda + p] for r < 6 and p < n, n a multiple of 4: six rows of a
// row-major A transposed into a packed A panel, four columns p at a time (a 4×4 transpose
// of rows 0–3 and the pairs of rows 4–5). Copies only: the values are unchanged.
TEXT ·packA6N(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $3, R8
	MOVQ dst+24(FP), DI
	SHRQ $2, CX
	JZ   pandone
	LEAQ (SI)(R8*4), R9 // row 4
	LEAQ (R8)(R8*2), R10 // 3·lda bytes
panloop:
	VMOVUPD (SI), Y0
	VMOVUPD (SI)(R8*1), Y1
	VMOVUPD (SI)(R8*2), Y2
	VMOVUPD (SI)(R10*1), Y3
	VMOVUPD (R9), Y8
	VMOVUPD (R9)(R8*1), Y9
	VUNPCKLPD Y1, Y0, Y4 // r0[0] r1[0] r0[2] r1[2]
	VUNPCKHPD Y1, Y0, Y5 // r0[1] r1[1] r0[3] r1[3]
	VUNPCKLPD Y3, Y2, Y6 // r2[0] r3[0] r2[2] r3[2]
	VUNPCKHPD Y3, Y2, Y7 // r2[1] r3[1] r2[3] r3[3]
	VUNPCKLPD Y9, Y8, Y10 // r4[0] r5[0] r4[2] r5[2]
	VUNPCKHPD Y9, Y8, Y11 // r4[1] r5[1] r4[3] r5[3]
	VPERM2F128 $0x20, Y6, Y4, Y0 // column 0: r0..r3
	VPERM2F128 $0x20, Y7, Y5, Y1 // column 1
	VPERM2F128 $0x31, Y6, Y4, Y2 // column 2
	VPERM2F128 $0x31, Y7, Y5, Y3 // column 3
	VMOVUPD Y0, (DI)
	VMOVUPD X10, 32(DI)
	VMOVUPD Y1, 48(DI)
	VMOVUPD X11, 80(DI)
	VEXTRACTF128 $1, Y10, X12
	VEXTRACTF128 $1, Y11, X13
	VMOVUPD Y2, 96(DI)
	VMOVUPD X12, 128(DI)
	VMOVUPD Y3, 144(DI)
	VMOVUPD X13, 176(DI)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $192, DI
	DECQ CX
	JNZ  panloop
pandone:
	VZEROUPPER
	RET

// func packB8NRows(kc, np int, b *float64, ldb int, dst *float64)
//
// dst[q·8·kc + p·8 + s] = b[p·ldb + q·8 + s] for s < 8, q < np and p < kc: np full panels
// of eight columns of a row-major B, read row by row (each row once, in order).
// Copies only: the values are unchanged.
TEXT ·packB8NRows(SB), NOSPLIT, $0-40
	MOVQ kc+0(FP), CX
	MOVQ np+8(FP), DX
	MOVQ b+16(FP), SI
	MOVQ ldb+24(FP), R8
	SHLQ $3, R8
	MOVQ dst+32(FP), DI
	MOVQ CX, R11
	SHLQ $6, R11 // panel stride 8·kc·8 bytes
	TESTQ CX, CX
	JZ   pbrdone
	TESTQ DX, DX
	JZ   pbrdone
pbrrow:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ DX, R9
pbrcol:
	VMOVUPD (AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD Y0, (BX)
	VMOVUPD Y1, 32(BX)
	ADDQ $64, AX
	ADDQ R11, BX
	DECQ R9
	JNZ  pbrcol
	ADDQ R8, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  pbrrow
pbrdone:
	VZEROUPPER
	RET
