package train

import (
	"context"
	"fmt"

	"github.com/sgdprior/sgdprior/sim"
)

// SGDSettings configures SGD.
type SGDSettings struct {
	LR       float64      // η, required
	Batch    int          // B, required
	Sampling sim.Sampling // default Without
	Steps    int          // number of steps, required
	Seed     uint64
	// Progress, if non-nil, is called every few hundred steps with the step count.
	Progress func(step int)
}

// SGD runs plain constant-step SGD θ ← θ − η∇L_b(θ) for s.Steps steps from theta, which it
// overwrites. It is one chain of the shared simulator (sim.Run), so its iterates equal
// chain 0 of a `verify` run with the same seed.
func SGD(ctx context.Context, p sim.Problem, theta []float64, s SGDSettings) error {
	if s.Steps < 1 || s.Batch < 1 || !(s.LR > 0) {
		panic(fmt.Sprintf("train: bad SGD settings %+v", s))
	}
	every := s.Steps / 100
	if every < 1 {
		every = 1
	}
	res, err := sim.Run(ctx, p, sim.Config{
		Method:   sim.SGD,
		Sampling: s.Sampling,
		LR:       s.LR,
		Batch:    s.Batch,
		Chains:   1,
		Steps:    s.Steps,
		Burnin:   s.Steps - 1, // keep only the last iterate
		Seed:     s.Seed,
		Init:     theta,
		Observe: func(chain, step int, _ []float64) {
			if s.Progress != nil && step%every == 0 {
				s.Progress(step)
			}
		},
	})
	if err != nil {
		return err
	}
	copy(theta, res.Final[0])
	return nil
}
