//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// useAVX2 reports whether updateAVX can run on this CPU.
var useAVX2 = cpu.X86.HasAVX2

// updateAVX performs SGDUpdate's operations on the first n elements (n a multiple of 4) and
// returns a non-zero mask when an updated element is not finite.
//
//go:noescape
func updateAVX(n int, theta, grad *float64, a, lambda float64) uint64
