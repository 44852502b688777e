package basins

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/progress"
)

// MinSeeds is the smallest number of seeds accepted: standard errors and the bootstrap over
// seeds need a handful of them (the issue asks for ≥ 5).
const MinSeeds = 5

// Settings configures Run. Start from DefaultSettings; the keys of Validate's errors are the
// flag names of the basins command.
type Settings struct {
	// LRs and Batches span the SGD grid; Seeds are the initialisations (each shared by every
	// cell: the paired design).
	LRs     landscape.LRList
	Batches landscape.BatchList
	Seeds   SeedList
	// Sampling is SGD's mini-batch scheme.
	Sampling noise.Sampling
	// Epochs is SGD's length: ⌈Epochs·N/B⌉ steps.
	Epochs float64
	// GD adds a full-batch gradient-descent arm at every η, of GDSteps steps.
	GD      bool
	GDSteps int
	// GradTol is the descent's tolerance on ‖∇L‖ (full batch).
	GradTol float64
	// TopK is the number of top Hessian eigenvalues computed by Lanczos.
	TopK int
	// ExactDim is the largest d for which tr H is exact (d HVPs); above it Hutchinson with
	// Probes Rademacher probes.
	ExactDim int
	Probes   int
	// BarrierPoints is the number of points t_j = j/(n−1) of the straight-line barrier.
	BarrierPoints int
	// Bootstrap is the number of bootstrap resamples over seeds; Seed seeds them.
	Bootstrap int
	Seed      uint64
	// Workers bounds the runs executed at once (0: GOMAXPROCS). The results do not depend on it.
	Workers int
	// Progress, if non-nil, receives one record per finished run.
	Progress progress.Recorder
}

// DefaultSettings returns the command's defaults: η ∈ {0.05, 0.2}, B ∈ {16, 64} (the cells
// 0.05/16 and 0.2/64 share η/B = 1/320, so equal ratios are tested), seeds 1–5, 10 epochs of SGD without replacement, a GD arm of 500 steps, descent to
// ‖∇L‖ ≤ 1e-8, top-k 5, exact tr H up to d = 200, else 30 Hutchinson probes, 11 barrier
// points, 2000 bootstrap resamples, seed 1.
func DefaultSettings() Settings {
	return Settings{
		LRs: landscape.LRList{0.05, 0.2}, Batches: landscape.BatchList{16, 64}, Seeds: SeedList{1, 2, 3, 4, 5},
		Epochs: 10, GD: true, GDSteps: 500, GradTol: 1e-8, TopK: 5, ExactDim: 200, Probes: 30,
		BarrierPoints: 11, Bootstrap: 2000, Seed: 1,
	}
}

// BindFlags defines the basins flags on fs, bound to s; their defaults are s's current values.
func (s *Settings) BindFlags(fs *flag.FlagSet) {
	fs.Var(&s.LRs, "lr", "comma-separated learning rates η of the grid")
	fs.Var(&s.Batches, "batch", "comma-separated batch sizes B of the grid")
	fs.Var(&s.Seeds, "seeds", fmt.Sprintf("comma-separated seeds (≥ %d), each one initialisation shared by every cell", MinSeeds))
	fs.Var(&s.Sampling, "sampling", "mini-batch sampling: without, with or reshuffle")
	fs.Float64Var(&s.Epochs, "epochs", s.Epochs, "SGD epochs per run (⌈E·N/B⌉ steps)")
	fs.BoolVar(&s.GD, "gd", s.GD, "add a full-batch gradient-descent arm at every η")
	fs.IntVar(&s.GDSteps, "gd-steps", s.GDSteps, "steps of the GD arm")
	fs.Float64Var(&s.GradTol, "grad-tol", s.GradTol, "the descent to the basin's minimum stops at ‖∇L‖ ≤ this")
	fs.IntVar(&s.TopK, "top-k", s.TopK, "top Hessian eigenvalues computed at each minimum")
	fs.IntVar(&s.ExactDim, "exact-dim", s.ExactDim, "tr H exact (d HVPs) up to this d, Hutchinson above")
	fs.IntVar(&s.Probes, "probes", s.Probes, "Hutchinson probes for tr H")
	fs.IntVar(&s.BarrierPoints, "barrier-points", s.BarrierPoints, "points on the straight line between two minima")
	fs.IntVar(&s.Bootstrap, "bootstrap", s.Bootstrap, "bootstrap resamples over seeds")
	fs.Uint64Var(&s.Seed, "seed", s.Seed, "seed of the bootstrap")
	fs.IntVar(&s.Workers, "workers", s.Workers, "runs at once (0: GOMAXPROCS); results do not depend on it")
}

// Validate checks the settings; the error is a *field.Error keyed by the flag name.
func (s *Settings) Validate() error {
	if len(s.LRs) == 0 {
		return field.Errorf("lr", "needs at least one learning rate")
	}
	if len(s.Batches) == 0 {
		return field.Errorf("batch", "needs at least one batch size")
	}
	for _, lr := range s.LRs {
		for _, b := range s.Batches {
			if err := noise.CheckLRBatch(lr, b); err != nil {
				return err
			}
		}
	}
	if len(s.Seeds) < MinSeeds {
		return field.Errorf("seeds", "needs ≥ %d seeds (standard errors and the bootstrap are over seeds), not %d", MinSeeds, len(s.Seeds))
	}
	seen := map[uint64]bool{}
	for _, x := range s.Seeds {
		if seen[x] {
			return field.Errorf("seeds", "repeats seed %d", x)
		}
		seen[x] = true
	}
	switch {
	case !(s.Epochs > 0) || s.Epochs > 1e6:
		return field.Errorf("epochs", "must be in (0, 1e6], not %v", s.Epochs)
	case s.GD && s.GDSteps < 1:
		return field.Errorf("gd-steps", "must be ≥ 1, not %d", s.GDSteps)
	case !(s.GradTol > 0) || s.GradTol > 1:
		return field.Errorf("grad-tol", "must be in (0, 1], not %v", s.GradTol)
	case s.TopK < 1:
		return field.Errorf("top-k", "must be ≥ 1, not %d", s.TopK)
	case s.ExactDim < 0:
		return field.Errorf("exact-dim", "must be ≥ 0, not %d", s.ExactDim)
	case s.Probes < 2:
		return field.Errorf("probes", "must be ≥ 2 (the standard error needs two), not %d", s.Probes)
	case s.BarrierPoints < 3:
		return field.Errorf("barrier-points", "must be ≥ 3, not %d", s.BarrierPoints)
	case s.Bootstrap < 100:
		return field.Errorf("bootstrap", "must be ≥ 100, not %d", s.Bootstrap)
	case s.Workers < 0:
		return field.Errorf("workers", "must be ≥ 0, not %d", s.Workers)
	}
	// Hutchinson keeps one quadratic form per probe and the bootstrap one ρ per resample,
	// each allocated up front: checked against the memory available (internal/memlimit).
	for _, c := range []struct {
		key string
		n   int
	}{{"probes", s.Probes}, {"bootstrap", s.Bootstrap}} {
		b, _ := memlimit.MulInt(8, c.n)
		if err := memlimit.Need(c.key, b, fmt.Sprintf("%s numbers", memlimit.Count(c.n))); err != nil {
			return err
		}
	}
	return nil
}

// SeedList is a list of seeds. A *SeedList is a flag.Value: comma-separated non-negative
// integers.
type SeedList []uint64

// String returns the comma-separated seeds.
func (l SeedList) String() string {
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(parts, ",")
}

// Set parses comma-separated non-negative integers into l (replacing it).
func (l *SeedList) Set(v string) error {
	var out SeedList
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		x, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer", f)
		}
		out = append(out, x)
	}
	*l = out
	return nil
}
