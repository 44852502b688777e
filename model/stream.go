package model

import "math/rand/v2"

// InitStream is the PCG stream (with the run's seed) of the random initial parameters that
// the commands minimising from InitParams draw (train, and verify without --params).
const InitStream = 0x5eed

// InitSeeded fills dst with InitParams drawn from rand.NewPCG(seed, InitStream): the default
// initial parameters, the same θ for the same seed in train and verify.
func InitSeeded(dst []float64, m Model, seed uint64) {
	InitParams(dst, m, rand.New(rand.NewPCG(seed, InitStream)))
}
