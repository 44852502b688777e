//go:build amd64 && !purego

#include "textflag.h"

// func dotAVX(n int, x, y *float64) float64
// Four 4-lane accumulators over blocks of 16, then a scalar tail; the lanes are combined
// in a fixed order.
TEXT ·dotAVX(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $4, BX
	JZ   dottail4
dotloop16:
	VMOVUPD (SI), Y4
	VMOVUPD 32(SI), Y5
	VMOVUPD 64(SI), Y6
	VMOVUPD 96(SI), Y7
	VFMADD231PD (DI), Y4, Y0
	VFMADD231PD 32(DI), Y5, Y1
	VFMADD231PD 64(DI), Y6, Y2
	VFMADD231PD 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ BX
	JNZ  dotloop16
dottail4:
	ANDQ $15, CX
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   dotreduce
dotloop4:
	VMOVUPD (SI), Y4
	VFMADD231PD (DI), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ BX
	JNZ  dotloop4
dotreduce:
	VADDPD Y1, Y0, Y0
	VADDPD Y3, Y2, Y2
	VADDPD Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VHADDPD X0, X0, X0
	ANDQ $3, CX
	JZ   dotdone
dotloop1:
	VMOVSD (SI), X4
	VFMADD231SD (DI), X4, X0
	ADDQ $8, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  dotloop1
dotdone:
	VMOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// func scaleAVX(n int, alpha float64, x, dst *float64)
// dst[i] = alpha*x[i].
TEXT ·scaleAVX(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	VBROADCASTSD alpha+8(FP), Y0
	MOVQ x+16(FP), SI
	MOVQ dst+24(FP), DI
	MOVQ CX, BX
	SHRQ $4, BX
	JZ   sctail4
scloop16:
	VMULPD (SI), Y0, Y4
	VMULPD 32(SI), Y0, Y5
	VMULPD 64(SI), Y0, Y6
	VMULPD 96(SI), Y0, Y7
	VMOVUPD Y4, (DI)
	VMOVUPD Y5, 32(DI)
	VMOVUPD Y6, 64(DI)
	VMOVUPD Y7, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ BX
	JNZ  scloop16
sctail4:
	ANDQ $15, CX
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   sctail1
scloop4:
	VMULPD (SI), Y0, Y4
	VMOVUPD Y4, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ BX
	JNZ  scloop4
sctail1:
	ANDQ $3, CX
	JZ   scdone
scloop1:
	VMULSD (SI), X0, X4
	VMOVSD X4, (DI)
	ADDQ $8, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  scloop1
scdone:
	VZEROUPPER
	RET

// func axpbyAVX(n int, alpha float64, x *float64, beta float64, y, dst *float64)
// dst[i] = alpha*x[i] + beta*y[i], computed as fma(alpha, x[i], beta*y[i]).
TEXT ·axpbyAVX(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	VBROADCASTSD alpha+8(FP), Y0
	MOVQ x+16(FP), SI
	VBROADCASTSD beta+24(FP), Y1
	MOVQ y+32(FP), DX
	MOVQ dst+40(FP), DI
	MOVQ CX, BX
	SHRQ $3, BX
	JZ   abtail4
abloop8:
	VMULPD (DX), Y1, Y4
	VMULPD 32(DX), Y1, Y5
	VFMADD231PD (SI), Y0, Y4
	VFMADD231PD 32(SI), Y0, Y5
	VMOVUPD Y4, (DI)
	VMOVUPD Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ BX
	JNZ  abloop8
abtail4:
	ANDQ $7, CX
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   abtail1
	VMULPD (DX), Y1, Y4
	VFMADD231PD (SI), Y0, Y4
	VMOVUPD Y4, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
abtail1:
	ANDQ $3, CX
	JZ   abdone
abloop1:
	VMULSD (DX), X1, X4
	VFMADD231SD (SI), X0, X4
	VMOVSD X4, (DI)
	ADDQ $8, SI
	ADDQ $8, DX
	ADDQ $8, DI
	DECQ CX
	JNZ  abloop1
abdone:
	VZEROUPPER
	RET

