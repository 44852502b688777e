//go:build !amd64 || purego

package kernel

func sigmoidDeltaAVX(rows, cols int, z, w, y, t *float64) int { panic("unreachable") }

func gaussDeltaAVX(rows, cols int, z, w, y, t *float64, invVar float64) { panic("unreachable") }
