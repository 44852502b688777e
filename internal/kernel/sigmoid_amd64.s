//go:build amd64 && !purego

#include "textflag.h"
#include "exp_amd64.h"

// Constants of sigmoidDeltaAVX, four copies each (the exponential's are in expc_amd64.s):
// m708 is −708, the bound below which ExpNonPosInPlace leaves AVX.
DATA sigc_signmask<>+0(SB)/8, $0x8000000000000000
DATA sigc_signmask<>+8(SB)/8, $0x8000000000000000
DATA sigc_signmask<>+16(SB)/8, $0x8000000000000000
DATA sigc_signmask<>+24(SB)/8, $0x8000000000000000
GLOBL sigc_signmask<>(SB), RODATA|NOPTR, $32
DATA sigc_one<>+0(SB)/8, $0x3ff0000000000000
DATA sigc_one<>+8(SB)/8, $0x3ff0000000000000
DATA sigc_one<>+16(SB)/8, $0x3ff0000000000000
DATA sigc_one<>+24(SB)/8, $0x3ff0000000000000
GLOBL sigc_one<>(SB), RODATA|NOPTR, $32
DATA sigc_m708<>+0(SB)/8, $0xc086200000000000
DATA sigc_m708<>+8(SB)/8, $0xc086200000000000
DATA sigc_m708<>+16(SB)/8, $0xc086200000000000
DATA sigc_m708<>+24(SB)/8, $0xc086200000000000
GLOBL sigc_m708<>(SB), RODATA|NOPTR, $32

// func sigmoidDeltaAVX(rows, cols int, z, w, y, t *float64) (done int)
// For rows i = 0, 1, … (each cols values, cols a positive multiple of 4) sets
// t[i·cols+j] = w[i·cols+j]·(s/(1 + e) − y[i]) with e = exp(−|z[i·cols+j]|) and s = e where the sign
// bit of z is set, else 1, with exactly the operations of sigmoidDeltaScalar (the
// exponential is expScalar's). It stops before the first row holding a z with −|z| < −708 or
// NaN (not written) and returns the number of rows done.
TEXT ·sigmoidDeltaAVX(SB), NOSPLIT, $0-56
	MOVQ rows+0(FP), CX
	MOVQ cols+8(FP), DX
	MOVQ z+16(FP), SI
	MOVQ w+24(FP), DI
	MOVQ y+32(FP), R8
	MOVQ t+40(FP), R9
	XORQ AX, AX                                   // rows done
	SHRQ $2, DX                                   // vectors per row
	JZ   sdone
	TESTQ CX, CX
	JZ   sdone
	VMOVUPD sigc_m708<>(SB), Y15
	VMOVUPD sigc_signmask<>(SB), Y4
	VMOVUPD sigc_one<>(SB), Y3
srow:
	// every −|z| of the row ≥ −708 (false for NaN)?
	MOVQ DX, BX
	MOVQ SI, R10
scheck:
	VMOVUPD (R10), Y0
	VORPD   Y4, Y0, Y1                            // −|z|
	VCMPPD  $13, Y15, Y1, Y2                      // −|z| ≥ −708, ordered
	VMOVMSKPD Y2, R11
	CMPQ    R11, $15
	JNE     sdone
	ADDQ    $32, R10
	DECQ    BX
	JNZ     scheck
	VBROADCASTSD (R8), Y5                         // y_i
	MOVQ DX, BX
svec:
	VMOVUPD (SI), Y0                              // z
	VORPD   Y4, Y0, Y6                            // −|z|
	EXP_Y6_TO_Y14                             // e
	VADDPD  Y3, Y14, Y1                           // 1 + e
	VBLENDVPD Y0, Y14, Y3, Y2                     // s: e where z's sign bit is set, else 1
	VDIVPD  Y1, Y2, Y2                            // s/(1 + e)
	VSUBPD  Y5, Y2, Y2                            // − y_i
	VMULPD  (DI), Y2, Y2                          // w·(…)
	VMOVUPD Y2, (R9)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R9
	DECQ    BX
	JNZ     svec
	ADDQ    $8, R8
	INCQ    AX
	CMPQ    AX, CX
	JLT     srow
sdone:
	MOVQ    AX, done+48(FP)
	VZEROUPPER
	RET

// func gaussDeltaAVX(rows, cols int, z, w, y, t *float64, invVar float64)
// For rows i = 0, …, rows − 1 (each cols values, cols a positive multiple of 4) sets
// t[i·cols+j] = w[i·cols+j]·((z[i·cols+j] − y[i])·invVar) with the operations of
// gaussDeltaScalar.
TEXT ·gaussDeltaAVX(SB), NOSPLIT, $0-56
	MOVQ rows+0(FP), CX
	MOVQ cols+8(FP), DX
	MOVQ z+16(FP), SI
	MOVQ w+24(FP), DI
	MOVQ y+32(FP), R8
	MOVQ t+40(FP), R9
	VBROADCASTSD invVar+48(FP), Y4
	SHRQ $2, DX
	JZ   gdone
	TESTQ CX, CX
	JZ   gdone
grow:
	VBROADCASTSD (R8), Y5                         // y_i
	MOVQ DX, BX
gvec:
	VMOVUPD (SI), Y0                              // z
	VSUBPD  Y5, Y0, Y0                            // z − y_i
	VMULPD  Y4, Y0, Y0                            // ·invVar
	VMULPD  (DI), Y0, Y0                          // w·(…)
	VMOVUPD Y0, (R9)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R9
	DECQ    BX
	JNZ     gvec
	ADDQ    $8, R8
	DECQ    CX
	JNZ     grow
gdone:
	VZEROUPPER
	RET
