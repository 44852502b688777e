//go:build !amd64 || purego

package kernel

const useAVX2 = false

func updateAVX(n int, theta, grad *float64, a, lambda float64) uint64 { panic("unreachable") }
