// Included by the amd64 assembly of package kernel (tanh_amd64.s, sigmoid_amd64.s); the
// constants are in expc_amd64.s.

// EXP_Y6_TO_Y14 sets Y14 = e^Y6 lane by lane with the operations of expScalar (x = k ln2 + r,
// k rounded to nearest even, e^r = 1 + 2r/(2 − c), c = r − r²·P(r²), 2^k added to the exponent
// bits); valid where k ≥ −1021. Clobbers Y7–Y13.
#define EXP_Y6_TO_Y14 \
	VMULPD  ·expc_log2e(SB), Y6, Y7 \
	VROUNDPD $0, Y7, Y7 \
	VMULPD  ·expc_ln2hi(SB), Y7, Y8 \
	VSUBPD  Y8, Y6, Y8 \
	VMULPD  ·expc_ln2lo(SB), Y7, Y9 \
	VSUBPD  Y9, Y8, Y10 \
	VMULPD  Y10, Y10, Y11 \
	VMULPD  ·expc_p5(SB), Y11, Y12 \
	VADDPD  ·expc_p4(SB), Y12, Y12 \
	VMULPD  Y11, Y12, Y12 \
	VADDPD  ·expc_p3(SB), Y12, Y12 \
	VMULPD  Y11, Y12, Y12 \
	VADDPD  ·expc_p2(SB), Y12, Y12 \
	VMULPD  Y11, Y12, Y12 \
	VADDPD  ·expc_p1(SB), Y12, Y12 \
	VMULPD  Y11, Y12, Y12 \
	VSUBPD  Y12, Y10, Y12 \
	VMOVUPD ·expc_two(SB), Y13 \
	VSUBPD  Y12, Y13, Y13 \
	VMULPD  Y12, Y10, Y14 \
	VDIVPD  Y13, Y14, Y14 \
	VSUBPD  Y14, Y9, Y14 \
	VSUBPD  Y8, Y14, Y14 \
	VMOVUPD ·expc_one(SB), Y13 \
	VSUBPD  Y14, Y13, Y14 \
	VCVTPD2DQY Y7, X7 \
	VPMOVSXDQ X7, Y7 \
	VPSLLQ  $52, Y7, Y7 \
	VPADDQ  Y7, Y14, Y14
