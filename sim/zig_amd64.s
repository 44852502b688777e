//go:build amd64 && !purego

#include "textflag.h"

// func zigFast8(hi, lo *[8]uint64, tab *float64, dst *float64, n int, sums *[8]float64, us *[8]uint64) (rows, slow int)
//
// The fast path of the ziggurat (normal.go) on 8 PCG streams at once, one per lane of the
// AVX-512 registers: for rows i = 0, 1, …, n−1 it advances each stream l (state hi[l], lo[l])
// by one step of rand.PCG's LCG, forms its DXSM output u, and sets dst[8i+l] to
// ±x, x = float64(u>>11)·2⁻⁵³·tab[u&255], the sign from bit 8 of u, adding it to sums[l] —
// exactly the operations of fillNormalsLanes on each stream. It stops at the first row in
// which some lane's x ≥ tab[(u&255)+1] (that lane needs zigSlow): that row's values are
// stored in dst but not added, its outputs u go to us, and the lanes' bits to slow; rows
// is the number of rows completed before it (n when none needs the slow path). The states
// and sums are stored back in both cases.
//
// The 128-bit product lo·mulLo takes its low half from VPMULLQ and its high half from four
// 32×32-bit products (AVX-512 has no 64×64 → high 64).
TEXT ·zigFast8(SB), NOSPLIT, $0-72
	MOVQ hi+0(FP), AX
	MOVQ lo+8(FP), BX
	MOVQ tab+16(FP), R8
	MOVQ dst+24(FP), DI
	MOVQ n+32(FP), CX
	MOVQ sums+40(FP), DX
	VMOVDQU64 (AX), Z0
	VMOVDQU64 (BX), Z1
	VMOVUPD (DX), Z2

	MOVQ $4865540595714422341, R9 // mulLo
	VPBROADCASTQ R9, Z20
	MOVQ R9, R10
	MOVL R10, R10 // mulLo & 0xffffffff
	VPBROADCASTQ R10, Z25
	SHRQ $32, R9 // mulLo >> 32
	VPBROADCASTQ R9, Z26
	MOVQ $2549297995355413924, R9 // mulHi
	VPBROADCASTQ R9, Z21
	MOVQ $1442695040888963407, R9 // incLo
	VPBROADCASTQ R9, Z22
	MOVQ $6364136223846793005, R9 // incHi
	VPBROADCASTQ R9, Z23
	MOVQ $0xda942042e4dd58b5, R9 // cheapMul
	VPBROADCASTQ R9, Z24
	MOVQ $0xffffffff, R9
	VPBROADCASTQ R9, Z27
	MOVQ $1, R9
	VPBROADCASTQ R9, Z28
	MOVQ $255, R9
	VPBROADCASTQ R9, Z29
	MOVQ $256, R9
	VPBROADCASTQ R9, Z30
	MOVQ $0x3ca0000000000000, R9 // 2⁻⁵³
	VPBROADCASTQ R9, Z31

	XORQ SI, SI // rows done
	TESTQ CX, CX
	JLE done

loop:
	// state = state·mul + inc (mod 2¹²⁸)
	VPMULLQ Z20, Z1, Z3  // pl = low(lo·mulLo)
	VPSRLQ $32, Z1, Z4   // a1 = lo >> 32 (a0 = lo's low 32 bits, read by VPMULUDQ)
	VPMULUDQ Z25, Z1, Z5 // p00 = a0·b0
	VPMULUDQ Z26, Z1, Z6 // p01 = a0·b1
	VPMULUDQ Z25, Z4, Z7 // p10 = a1·b0
	VPMULUDQ Z26, Z4, Z8 // p11 = a1·b1
	VPSRLQ $32, Z5, Z9   // mid = p00>>32 + (p01 & m32) + (p10 & m32)
	VPANDQ Z27, Z6, Z10
	VPADDQ Z10, Z9, Z9
	VPANDQ Z27, Z7, Z10
	VPADDQ Z10, Z9, Z9
	VPSRLQ $32, Z9, Z9
	VPSRLQ $32, Z6, Z10 // ph = p11 + p01>>32 + p10>>32 + mid>>32
	VPADDQ Z10, Z8, Z8
	VPSRLQ $32, Z7, Z10
	VPADDQ Z10, Z8, Z8
	VPADDQ Z9, Z8, Z8
	VPMULLQ Z20, Z0, Z10 // + hi·mulLo
	VPADDQ Z10, Z8, Z8
	VPMULLQ Z21, Z1, Z10 // + lo·mulHi
	VPADDQ Z10, Z8, Z8
	VPADDQ Z22, Z3, Z1       // lo = pl + incLo
	VPCMPUQ $1, Z3, Z1, K1   // carry: lo < pl
	VPADDQ Z23, Z8, Z0       // hi = … + incHi
	VPADDQ Z28, Z0, K1, Z0   // + carry

	// u = DXSM(hi, lo)
	VPSRLQ $32, Z0, Z4
	VPXORQ Z4, Z0, Z4
	VPMULLQ Z24, Z4, Z4
	VPSRLQ $48, Z4, Z5
	VPXORQ Z5, Z4, Z4
	VPORQ Z28, Z1, Z5
	VPMULLQ Z5, Z4, Z4

	// x = float64(u>>11)·2⁻⁵³·tab[u&255]; slow where x ≥ tab[(u&255)+1]
	VPANDQ Z29, Z4, Z5
	VPSRLQ $11, Z4, Z6
	VCVTQQ2PD Z6, Z6
	VMULPD Z31, Z6, Z6
	KXNORB K2, K2, K2
	VGATHERQPD (R8)(Z5*8), K2, Z7
	KXNORB K3, K3, K3
	VGATHERQPD 8(R8)(Z5*8), K3, Z8
	VMULPD Z7, Z6, Z6
	VCMPPD $0x1d, Z8, Z6, K4 // GE, ordered, quiet
	VPANDQ Z30, Z4, Z7       // the sign: bit 8 of u moved to bit 63
	VPSLLQ $55, Z7, Z7
	VPORQ Z7, Z6, Z6
	VMOVUPD Z6, (DI)
	KORTESTB K4, K4
	JNE slow
	VADDPD Z6, Z2, Z2
	ADDQ $64, DI
	INCQ SI
	CMPQ SI, CX
	JLT loop

done:
	MOVQ $0, slow+64(FP)
	JMP store

slow:
	MOVQ us+48(FP), R9
	VMOVDQU64 Z4, (R9)
	KMOVB K4, R9
	MOVQ R9, slow+64(FP)

store:
	MOVQ SI, rows+56(FP)
	VMOVDQU64 Z0, (AX)
	VMOVDQU64 Z1, (BX)
	VMOVUPD Z2, (DX)
	VZEROUPPER
	RET

// func gaussRows8(ws *float64, n int, means *[8]float64, inv, ns float64)
//
// Sets ws[8i+l] = inv + ns·(ws[8i+l] − means[l]) for i < n, l < 8: gaussWeight on a full
// group's N × 8 normals, the same three roundings (subtract, multiply, add; no FMA).
TEXT ·gaussRows8(SB), NOSPLIT, $0-40
	MOVQ ws+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ means+16(FP), DX
	VMOVUPD (DX), Z0
	VBROADCASTSD inv+24(FP), Z1
	VBROADCASTSD ns+32(FP), Z2
	TESTQ CX, CX
	JLE rowsdone

rows:
	VMOVUPD (DI), Z3
	VSUBPD Z0, Z3, Z3
	VMULPD Z2, Z3, Z3
	VADDPD Z3, Z1, Z3
	VMOVUPD Z3, (DI)
	ADDQ $64, DI
	DECQ CX
	JNZ rows

rowsdone:
	VZEROUPPER
	RET
