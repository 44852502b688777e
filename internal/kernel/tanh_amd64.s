//go:build amd64 && !purego

#include "textflag.h"
#include "exp_amd64.h"

// Constants of tanhAVX, four copies each (see tanhScalar in tanh.go).
DATA tanhc_absmask<>+0(SB)/8, $0x7fffffffffffffff
DATA tanhc_absmask<>+8(SB)/8, $0x7fffffffffffffff
DATA tanhc_absmask<>+16(SB)/8, $0x7fffffffffffffff
DATA tanhc_absmask<>+24(SB)/8, $0x7fffffffffffffff
GLOBL tanhc_absmask<>(SB), RODATA|NOPTR, $32
DATA tanhc_signmask<>+0(SB)/8, $0x8000000000000000
DATA tanhc_signmask<>+8(SB)/8, $0x8000000000000000
DATA tanhc_signmask<>+16(SB)/8, $0x8000000000000000
DATA tanhc_signmask<>+24(SB)/8, $0x8000000000000000
GLOBL tanhc_signmask<>(SB), RODATA|NOPTR, $32
DATA tanhc_c0625<>+0(SB)/8, $0x3fe4000000000000
DATA tanhc_c0625<>+8(SB)/8, $0x3fe4000000000000
DATA tanhc_c0625<>+16(SB)/8, $0x3fe4000000000000
DATA tanhc_c0625<>+24(SB)/8, $0x3fe4000000000000
GLOBL tanhc_c0625<>(SB), RODATA|NOPTR, $32
DATA tanhc_c22<>+0(SB)/8, $0x4036000000000000
DATA tanhc_c22<>+8(SB)/8, $0x4036000000000000
DATA tanhc_c22<>+16(SB)/8, $0x4036000000000000
DATA tanhc_c22<>+24(SB)/8, $0x4036000000000000
GLOBL tanhc_c22<>(SB), RODATA|NOPTR, $32
DATA tanhc_one<>+0(SB)/8, $0x3ff0000000000000
DATA tanhc_one<>+8(SB)/8, $0x3ff0000000000000
DATA tanhc_one<>+16(SB)/8, $0x3ff0000000000000
DATA tanhc_one<>+24(SB)/8, $0x3ff0000000000000
GLOBL tanhc_one<>(SB), RODATA|NOPTR, $32
DATA tanhc_two<>+0(SB)/8, $0x4000000000000000
DATA tanhc_two<>+8(SB)/8, $0x4000000000000000
DATA tanhc_two<>+16(SB)/8, $0x4000000000000000
DATA tanhc_two<>+24(SB)/8, $0x4000000000000000
GLOBL tanhc_two<>(SB), RODATA|NOPTR, $32
DATA tanhc_tp0<>+0(SB)/8, $0xbfeedc5baafd6f4b
DATA tanhc_tp0<>+8(SB)/8, $0xbfeedc5baafd6f4b
DATA tanhc_tp0<>+16(SB)/8, $0xbfeedc5baafd6f4b
DATA tanhc_tp0<>+24(SB)/8, $0xbfeedc5baafd6f4b
GLOBL tanhc_tp0<>(SB), RODATA|NOPTR, $32
DATA tanhc_tp1<>+0(SB)/8, $0xc058d26a0e26682d
DATA tanhc_tp1<>+8(SB)/8, $0xc058d26a0e26682d
DATA tanhc_tp1<>+16(SB)/8, $0xc058d26a0e26682d
DATA tanhc_tp1<>+24(SB)/8, $0xc058d26a0e26682d
GLOBL tanhc_tp1<>(SB), RODATA|NOPTR, $32
DATA tanhc_tp2<>+0(SB)/8, $0xc0993ac030580563
DATA tanhc_tp2<>+8(SB)/8, $0xc0993ac030580563
DATA tanhc_tp2<>+16(SB)/8, $0xc0993ac030580563
DATA tanhc_tp2<>+24(SB)/8, $0xc0993ac030580563
GLOBL tanhc_tp2<>(SB), RODATA|NOPTR, $32
DATA tanhc_tq0<>+0(SB)/8, $0x405c33f28a581b86
DATA tanhc_tq0<>+8(SB)/8, $0x405c33f28a581b86
DATA tanhc_tq0<>+16(SB)/8, $0x405c33f28a581b86
DATA tanhc_tq0<>+24(SB)/8, $0x405c33f28a581b86
GLOBL tanhc_tq0<>(SB), RODATA|NOPTR, $32
DATA tanhc_tq1<>+0(SB)/8, $0x40a176fa0e5535fa
DATA tanhc_tq1<>+8(SB)/8, $0x40a176fa0e5535fa
DATA tanhc_tq1<>+16(SB)/8, $0x40a176fa0e5535fa
DATA tanhc_tq1<>+24(SB)/8, $0x40a176fa0e5535fa
GLOBL tanhc_tq1<>(SB), RODATA|NOPTR, $32
DATA tanhc_tq2<>+0(SB)/8, $0x40b2ec102442040c
DATA tanhc_tq2<>+8(SB)/8, $0x40b2ec102442040c
DATA tanhc_tq2<>+16(SB)/8, $0x40b2ec102442040c
DATA tanhc_tq2<>+24(SB)/8, $0x40b2ec102442040c
GLOBL tanhc_tq2<>(SB), RODATA|NOPTR, $32

// func tanhAVX(n int, x *float64)
// x[i] = tanh(x[i]) for n a multiple of 4, with exactly the operations of tanhScalar.
TEXT ·tanhAVX(SB), NOSPLIT, $0-16
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	SHRQ $2, CX
	JZ   done
loop:
	VMOVUPD (SI), Y0                              // x
	VANDPD  tanhc_absmask<>(SB), Y0, Y1           // a = |x|
	// small = x + x*s*p/q, s = x*x
	VMULPD  Y0, Y0, Y2                            // s
	VMULPD  tanhc_tp0<>(SB), Y2, Y3               // tp0*s
	VADDPD  tanhc_tp1<>(SB), Y3, Y3               // + tp1
	VMULPD  Y2, Y3, Y3                            // *s
	VADDPD  tanhc_tp2<>(SB), Y3, Y3               // p
	VADDPD  tanhc_tq0<>(SB), Y2, Y4               // s + tq0
	VMULPD  Y2, Y4, Y4                            // *s
	VADDPD  tanhc_tq1<>(SB), Y4, Y4               // + tq1
	VMULPD  Y2, Y4, Y4                            // *s
	VADDPD  tanhc_tq2<>(SB), Y4, Y4               // q
	VMULPD  Y2, Y0, Y5                            // x*s
	VMULPD  Y3, Y5, Y5                            // *p
	VDIVPD  Y4, Y5, Y5                            // /q
	VADDPD  Y5, Y0, Y15                           // small
	// large = 1 − 2/(e^y + 1), y = 2·min(22, a)
	VMOVUPD tanhc_c22<>(SB), Y6
	VMINPD  Y1, Y6, Y6                            // min(22, a), NaN a propagates
	VADDPD  Y6, Y6, Y6                            // y
	EXP_Y6_TO_Y14                                 // e^y
	VADDPD  tanhc_one<>(SB), Y14, Y14             // + 1
	VMOVUPD tanhc_two<>(SB), Y13
	VDIVPD  Y14, Y13, Y14                         // 2/(…)
	VMOVUPD tanhc_one<>(SB), Y13
	VSUBPD  Y14, Y13, Y14                         // 1 − 2/(…)
	// select small where a < 0.625, then set the sign of x
	VCMPPD  $1, tanhc_c0625<>(SB), Y1, Y13
	VBLENDVPD Y13, Y15, Y14, Y14
	VANDPD  tanhc_signmask<>(SB), Y0, Y13
	VORPD   Y13, Y14, Y14
	VMOVUPD Y14, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     loop
done:
	VZEROUPPER
	RET

// func expAVX(n int, x *float64)
// x[i] = e^x[i] for n a multiple of 4, with exactly the operations of expScalar; valid for
// x[i] in [−708, 0] (the caller handles the rest).
TEXT ·expAVX(SB), NOSPLIT, $0-16
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	SHRQ $2, CX
	JZ   edone
eloop:
	VMOVUPD (SI), Y6                              // x
	EXP_Y6_TO_Y14                                 // e^x
	VMOVUPD Y14, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     eloop
edone:
	VZEROUPPER
	RET
