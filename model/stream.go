package model

// InitStream is the PCG stream (with the run's seed) of the random initial parameters that
// the commands minimising from InitParams draw (train, and verify without --params).
const InitStream = 0x5eed
