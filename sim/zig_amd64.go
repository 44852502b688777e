//go:build amd64 && !purego

package sim

import (
	"encoding/binary"
	"math/rand/v2"

	"golang.org/x/sys/cpu"
)

// useZig8 reports whether zigFast8 can run: AVX-512 F and DQ (VPMULLQ, VCVTQQ2PD, byte masks).
var useZig8 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// zigFast8: see zig_amd64.s.
//
//go:noescape
func zigFast8(hi, lo *[8]uint64, tab *float64, dst *float64, n int, sums *[8]float64, us *[8]uint64) (rows, slow int)

// gaussRows8: see zig_amd64.s.
//
//go:noescape
func gaussRows8(ws *float64, n int, means *[8]float64, inv, ns float64)

// fillNormals8 is fillNormalsSum on 8 streams at once, by zigFast8 (AVX-512): stream l draws
// n normals into dst[8i + l], i < n, adding them in order into sums[l] (which the caller
// zeroes). Each stream's draws, sum and final state are bitwise those of fillNormalsSum on
// it alone: a row in which some lanes need the slow path is finished here, lane by lane,
// each from its own state, before the next row is drawn.
func fillNormals8(dst []float64, n int, srcs *[8]*rand.PCG, sums *[8]float64) {
	var hi, lo, us [8]uint64
	for l, src := range srcs {
		hi[l], lo[l] = pcgState(src)
	}
	dst = dst[:8*n]
	for i := 0; i < n; i++ {
		rows, slow := zigFast8(&hi, &lo, &zigX[0], &dst[8*i], n-i, sums, &us)
		if i += rows; i == n {
			break
		}
		row := dst[8*i : 8*i+8]
		for l := range row {
			if slow&(1<<l) != 0 {
				u := us[l]
				k, _, un := zigSplit(u)
				src := rand.NewPCG(hi[l], lo[l]) // the lane's stream where zigFast8 left it
				row[l] = zigSigned(zigSlow(src, k, un*zigX[k]), u)
				hi[l], lo[l] = pcgState(src)
			}
			sums[l] += row[l]
		}
	}
	for l, src := range srcs {
		src.Seed(hi[l], lo[l]) // Seed sets the state (hi, lo) as it is
	}
}

// pcgState returns src's state (hi, lo), read from its binary encoding ("pcg:", then hi and
// lo big-endian): NewPCG(hi, lo) and Seed(hi, lo) set it back.
func pcgState(src *rand.PCG) (hi, lo uint64) {
	var buf [20]byte
	b, _ := src.AppendBinary(buf[:0]) // never fails
	if len(b) != 20 || string(b[:4]) != "pcg:" {
		panic("sim: rand.PCG's binary encoding changed")
	}
	return binary.BigEndian.Uint64(b[4:]), binary.BigEndian.Uint64(b[12:])
}
