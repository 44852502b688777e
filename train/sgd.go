package train

import (
	"context"
	"fmt"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/sim"
)

// SGDSettings configures SGD.
type SGDSettings struct {
	LR       float64        // η, required
	Batch    int            // B, required
	Sampling noise.Sampling // default Without
	Steps    int            // number of steps, required
	Seed     uint64
	// Progress, if non-nil, receives "sgd step t/T" and t/T every T/100 steps.
	Progress progress.Recorder
}

// SGD runs plain constant-step SGD θ ← θ − η∇L_b(θ) for s.Steps steps from theta, which it
// overwrites. It is one chain of the shared simulator (sim.Run), so its iterates equal
// chain 0 of a `verify` run with the same seed. A bad η or B (noise.CheckLRBatch) or a
// number of steps below 1 is a *field.Error.
func SGD(ctx context.Context, p sim.Problem, theta []float64, s SGDSettings) error {
	if err := noise.CheckLRBatch(s.LR, s.Batch); err != nil {
		return err
	}
	if s.Steps < 1 {
		return field.Errorf("steps", "must be ≥ 1, not %d", s.Steps)
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
				s.Progress.Record(fmt.Sprintf("sgd step %d/%d", step, s.Steps), float64(step)/float64(s.Steps))
			}
		},
	})
	if err != nil {
		return err
	}
	copy(theta, res.Final[0])
	return nil
}
