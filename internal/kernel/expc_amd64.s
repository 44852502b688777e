//go:build amd64 && !purego

#include "textflag.h"

// The exponential's constants (expScalar in expneg.go), four copies each, package-wide:
// the EXP_Y6_TO_Y14 macro of exp_amd64.h reads them (tanh_amd64.s, sigmoid_amd64.s).
DATA ·expc_log2e+0(SB)/8, $0x3ff71547652b82fe
DATA ·expc_log2e+8(SB)/8, $0x3ff71547652b82fe
DATA ·expc_log2e+16(SB)/8, $0x3ff71547652b82fe
DATA ·expc_log2e+24(SB)/8, $0x3ff71547652b82fe
GLOBL ·expc_log2e(SB), RODATA|NOPTR, $32
DATA ·expc_ln2hi+0(SB)/8, $0x3fe62e42fee00000
DATA ·expc_ln2hi+8(SB)/8, $0x3fe62e42fee00000
DATA ·expc_ln2hi+16(SB)/8, $0x3fe62e42fee00000
DATA ·expc_ln2hi+24(SB)/8, $0x3fe62e42fee00000
GLOBL ·expc_ln2hi(SB), RODATA|NOPTR, $32
DATA ·expc_ln2lo+0(SB)/8, $0x3dea39ef35793c76
DATA ·expc_ln2lo+8(SB)/8, $0x3dea39ef35793c76
DATA ·expc_ln2lo+16(SB)/8, $0x3dea39ef35793c76
DATA ·expc_ln2lo+24(SB)/8, $0x3dea39ef35793c76
GLOBL ·expc_ln2lo(SB), RODATA|NOPTR, $32
DATA ·expc_p1+0(SB)/8, $0x3fc5555555555555
DATA ·expc_p1+8(SB)/8, $0x3fc5555555555555
DATA ·expc_p1+16(SB)/8, $0x3fc5555555555555
DATA ·expc_p1+24(SB)/8, $0x3fc5555555555555
GLOBL ·expc_p1(SB), RODATA|NOPTR, $32
DATA ·expc_p2+0(SB)/8, $0xbf66c16c16bebd93
DATA ·expc_p2+8(SB)/8, $0xbf66c16c16bebd93
DATA ·expc_p2+16(SB)/8, $0xbf66c16c16bebd93
DATA ·expc_p2+24(SB)/8, $0xbf66c16c16bebd93
GLOBL ·expc_p2(SB), RODATA|NOPTR, $32
DATA ·expc_p3+0(SB)/8, $0x3f11566aaf25de2c
DATA ·expc_p3+8(SB)/8, $0x3f11566aaf25de2c
DATA ·expc_p3+16(SB)/8, $0x3f11566aaf25de2c
DATA ·expc_p3+24(SB)/8, $0x3f11566aaf25de2c
GLOBL ·expc_p3(SB), RODATA|NOPTR, $32
DATA ·expc_p4+0(SB)/8, $0xbebbbd41c5d26bf1
DATA ·expc_p4+8(SB)/8, $0xbebbbd41c5d26bf1
DATA ·expc_p4+16(SB)/8, $0xbebbbd41c5d26bf1
DATA ·expc_p4+24(SB)/8, $0xbebbbd41c5d26bf1
GLOBL ·expc_p4(SB), RODATA|NOPTR, $32
DATA ·expc_p5+0(SB)/8, $0x3e66376972bea4d0
DATA ·expc_p5+8(SB)/8, $0x3e66376972bea4d0
DATA ·expc_p5+16(SB)/8, $0x3e66376972bea4d0
DATA ·expc_p5+24(SB)/8, $0x3e66376972bea4d0
GLOBL ·expc_p5(SB), RODATA|NOPTR, $32
DATA ·expc_one+0(SB)/8, $0x3ff0000000000000
DATA ·expc_one+8(SB)/8, $0x3ff0000000000000
DATA ·expc_one+16(SB)/8, $0x3ff0000000000000
DATA ·expc_one+24(SB)/8, $0x3ff0000000000000
GLOBL ·expc_one(SB), RODATA|NOPTR, $32
DATA ·expc_two+0(SB)/8, $0x4000000000000000
DATA ·expc_two+8(SB)/8, $0x4000000000000000
DATA ·expc_two+16(SB)/8, $0x4000000000000000
DATA ·expc_two+24(SB)/8, $0x4000000000000000
GLOBL ·expc_two(SB), RODATA|NOPTR, $32
