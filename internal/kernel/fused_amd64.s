//go:build amd64 && !purego

#include "textflag.h"

// func updateAVX(n int, theta, grad *float64, a, lambda float64) uint64
// θ ← θ + a·(g + λθ), four lanes at a time; returns the sign mask of the lanes where some
// θ' − θ' was NaN (θ' not finite).
TEXT ·updateAVX(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ theta+8(FP), DI
	MOVQ grad+16(FP), SI
	VBROADCASTSD a+24(FP), Y0
	VBROADCASTSD lambda+32(FP), Y1
	VXORPD  Y5, Y5, Y5                  // Σ (θ' − θ'): stays 0 unless a NaN appears
	SHRQ    $2, CX
	JZ      done
loop:
	VMOVUPD (DI), Y2                    // θ
	VMULPD  Y1, Y2, Y3                  // λθ
	VADDPD  (SI), Y3, Y3                // g + λθ
	VMULPD  Y0, Y3, Y3                  // a·(…)
	VADDPD  Y3, Y2, Y2                  // θ + a·(…)
	VMOVUPD Y2, (DI)
	VSUBPD  Y2, Y2, Y4                  // θ' − θ': 0, or NaN when θ' is not finite
	VADDPD  Y4, Y5, Y5
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     loop
done:
	VCMPPD  $3, Y5, Y5, Y6              // unordered: NaN lanes
	VMOVMSKPD Y6, AX
	MOVQ    AX, ret+40(FP)
	VZEROUPPER
	RET
