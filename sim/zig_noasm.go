//go:build !amd64 || purego

package sim

import "math/rand/v2"

const useZig8 = false

func fillNormals8(dst []float64, n int, srcs *[8]*rand.PCG, sums *[8]float64) { panic("unreachable") }

func gaussRows8(ws *float64, n int, means *[8]float64, inv, ns float64) { panic("unreachable") }
