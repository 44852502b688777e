// Package sim is sgdprior's simulation engine: it runs K independent chains of SGD (with
// any of the three sampling schemes), Gaussian-noise SGD, the Euler–Maruyama discretisation
// of the SGD SDE, and SGLD on a Problem, keeps thinned samples after burn-in, checkpoints
// and resumes, and summarises the samples (mean, covariance, standard errors, R̂, ESS).
//
// Conventions (docs/MATH.md §1–§3): the objective is the mean loss
// L(θ) = (1/N) Σ_i ℓ_i(θ) + r(θ); η (Config.LR) is the learning rate of SGD on L; B
// (Config.Batch) is the batch size; C(θ) = (1/N) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ is the population
// per-example gradient covariance and C_B = κ_B C the mini-batch one, with κ_B = 1/B for
// sampling with replacement and (N − B)/(B(N − 1)) without (Kappa). The SDE's time unit is
// one SGD step: drift −η∇L, diffusion η² C_B.
//
// Every chain k draws from its own stream rand.New(rand.NewPCG(Seed, k)) and nothing is
// shared between chains, so results are bitwise identical whatever GOMAXPROCS is. Normals
// (Gauss, SDE, SGLD) come from a ziggurat on the chain's PCG (FillNormals, MATH.md §3.1;
// it replaced math/rand/v2's NormFloat64, which changed those methods' numbers once). With
// a linear model (the model adapter on linreg, logistic, softmax), Gauss and SDE advance
// the chains in lock-step groups of 8 and make one batched full-data pass per group and
// step (MATH.md §2.1), and with AVX-512 a full group draws its normals in one vector loop
// (fillNormals8, MATH.md §3.1); a chain's bits depend neither on GOMAXPROCS, nor on how
// many chains run, nor on the CPU.
package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sgdprior/sgdprior/noise"
	"time"
)

// Method selects the simulated dynamics (MATH.md §3, §7, §9).
type Method int

const (
	// SGD is plain mini-batch SGD: θ ← θ − η∇L_b(θ), with b drawn per Config.Sampling.
	SGD Method = iota
	// Gauss is Gaussian-noise SGD: θ ← θ − η(∇L(θ) + ξ), ξ ~ N(0, C_B(θ)).
	Gauss
	// SDE is Euler–Maruyama for dθ = −η∇L dt + η C_B^{1/2} dW with step h = Config.DT:
	// θ ← θ − hη∇L(θ) + √h η ξ, ξ ~ N(0, C_B(θ)).
	SDE
	// SGLD is stochastic-gradient Langevin dynamics (MATH.md §9):
	// θ ← θ − η∇L_b(θ) + √(2ηT/N) ξ, ξ ~ N(0, I), T = Config.Temperature.
	SGLD
)

var methodNames = [...]string{SGD: "sgd", Gauss: "gauss", SDE: "sde", SGLD: "sgld"}

// String returns the method's command-line spelling ("sgd", "gauss", "sde", "sgld").
func (m Method) String() string {
	if m < 0 || int(m) >= len(methodNames) {
		return fmt.Sprintf("Method(%d)", int(m))
	}
	return methodNames[m]
}

// ParseMethod parses "sgd", "gauss" (also "gaussian"), "sde" or "sgld" (case-insensitive).
func ParseMethod(s string) (Method, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sgd":
		return SGD, nil
	case "gauss", "gaussian":
		return Gauss, nil
	case "sde":
		return SDE, nil
	case "sgld":
		return SGLD, nil
	}
	return 0, fmt.Errorf("sim: unknown method %q (want sgd, gauss, sde or sgld)", s)
}

// Set parses a method name into m, so that a *Method is a flag.Value.
func (m *Method) Set(v string) error {
	x, err := ParseMethod(v)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "sim: "))
	}
	*m = x
	return nil
}

// Config describes a simulation. Its zero value is not runnable: LR, Batch (except for
// Gauss and SDE), Chains, Steps and Init must be set. Other zero fields mean defaults.
type Config struct {
	// Method is the dynamics; default SGD.
	Method Method
	// Sampling is the mini-batch scheme of SGD and SGLD, and picks κ_B for Gauss and SDE
	// (Reshuffle counts as Without there); default Without.
	Sampling noise.Sampling
	// LR is η > 0.
	LR float64
	// Batch is B, 1 ≤ B ≤ N. Required for every method (Gauss and SDE use it for κ_B).
	Batch int
	// DT is the SDE step h in units of SGD steps, 0 < DT ≤ 1; default 1. Only SDE uses it.
	DT float64
	// Chains is K ≥ 1, the number of independent chains.
	Chains int
	// Steps is the total number of steps per chain (of size DT for SDE, so the simulated
	// time is Steps·DT), burn-in included.
	Steps int
	// Burnin is the number of initial steps whose iterates are not kept, 0 ≤ Burnin < Steps.
	Burnin int
	// Thin keeps every Thin-th iterate after burn-in: the iterates after steps
	// Burnin+Thin, Burnin+2·Thin, …, ≤ Steps, i.e. (Steps−Burnin)/Thin per chain.
	// Default 1.
	Thin int
	// Seed seeds every chain's stream: chain k uses rand.NewPCG(Seed, k).
	Seed uint64
	// Init is the starting point of every chain (length d) unless Inits is set. It is not
	// modified.
	Init []float64
	// Inits, if non-nil, holds one starting point per chain (Chains slices of length d,
	// not modified), replacing Init for the chains (e.g. overdispersed starts, so that R̂
	// can see a chain that has not forgotten its start). Init is still required: it is the
	// reference point of LossBound's default.
	Inits [][]float64
	// Temperature T scales SGLD's injected noise to √(2ηT/N)·ξ (MATH.md §9 is T = 1, whose
	// stationary law approaches the posterior ∝ exp(−N L) as η → 0); default 1.
	Temperature float64
	// LossBound: a chain whose loss L(θ) exceeds it, or whose θ holds a NaN or Inf, has
	// diverged and stops the run with an error. Default 1e6·(1 + |L(Init)|).
	LossBound float64
	// LambdaMax, if > 0, is the largest Hessian eigenvalue at the minimum; a divergence
	// error then quotes the stability bound 2/λ_max next to the learning rate.
	LambdaMax float64
	// CheckLossEvery is how often (in steps) L(θ) is compared with LossBound. Default 100
	// for Gauss and SDE (whose every step is a pass over all N examples already), and for
	// SGD and SGLD 1000 steps and at least one epoch, ⌈N/B⌉ steps: a loss evaluation is a
	// pass over all N examples, which every 100 steps cost mlp:32 on digits 17% of its run
	// time. θ is checked for NaN/Inf after every step, so a blow-up is caught at once; the
	// bound catches a chain that wandered off while staying finite.
	CheckLossEvery int
	// Project, if non-nil, maps θ to the ProjectDim numbers that are kept as a sample
	// instead of θ itself (dst has length ProjectDim). It is called concurrently from
	// several goroutines, so it must not share mutable state, and must not allocate if the
	// hot loop is to stay allocation-free.
	Project func(dst, theta []float64)
	// ProjectDim is the length of Project's output; required with Project.
	ProjectDim int
	// Observe, if non-nil, is called after every step (step = 1, …, Steps) with the
	// chain's index and its current θ, from the goroutine running that chain. It must only
	// touch per-chain state and must not keep theta. After a Resume it sees only the steps
	// run after the checkpoint: observers' own state is not checkpointed.
	Observe func(chain, step int, theta []float64)
	// Checkpoint, if non-empty, is the file the run's complete state is written to
	// (atomically) every CheckpointEvery steps and when ctx is cancelled.
	Checkpoint string
	// CheckpointEvery is the checkpoint interval in steps: all chains synchronise at the
	// step counts CheckpointEvery, 2·CheckpointEvery, … and the state at that step boundary
	// is written (so the written state never depends on wall-clock time). Default
	// max(1000, Steps/20) when Checkpoint is set; ignored otherwise.
	CheckpointEvery int
	// CheckpointMinInterval, if > 0, skips writing at a synchronisation point unless this
	// much wall-clock time has passed since the last write (the final checkpoint on
	// cancellation is always written). The state written is still that of a step
	// boundary. Default 0: write at every synchronisation point.
	CheckpointMinInterval time.Duration
	// Resume, if non-empty, is a checkpoint file to continue from. Its configuration hash
	// must match this Config's (see ConfigTag); the error names the fields that differ.
	Resume string
	// ConfigTag is folded into the checkpoint's configuration hash; set it to whatever
	// identifies the Problem beyond N and d (e.g. the data set's SHA-256, the model name,
	// the weight decay) so that a checkpoint of another problem is refused. Default empty.
	ConfigTag string
}

// Result holds the samples of a run.
type Result struct {
	// Method, Sampling, and Kappa (κ_B of the configured batch and scheme) describe the run.
	Method   Method
	Sampling noise.Sampling
	Kappa    float64
	// Chains is K; Dim is the length of a stored sample (ProjectDim with Project, else d);
	// Kept is the number of samples kept per chain.
	Chains, Dim, Kept int
	// Samples[k] holds chain k's kept samples flattened row-major (Kept × Dim).
	Samples [][]float64
	// Final[k] is chain k's last θ (length d, never projected).
	Final [][]float64
	// Steps is the number of steps each chain ran; Time = Steps·DT is the simulated time
	// in units of SGD steps.
	Steps int
	Time  float64
	// LossBound is the divergence bound that was used.
	LossBound float64
	// Resumed is the step from which the run was resumed (0 for a fresh run; chains may
	// have been checkpointed at different steps on cancellation: this is the smallest).
	Resumed int
	// Warnings are conditions the caller may want to report.
	Warnings []string
}

// Sample returns sample i of chain k (a view into Samples, not a copy).
func (r *Result) Sample(k, i int) []float64 {
	return r.Samples[k][i*r.Dim : (i+1)*r.Dim]
}

// Run simulates cfg.Chains independent chains of cfg.Method on p, each starting at cfg.Init
// (or chain k at cfg.Inits[k]),
// on at most GOMAXPROCS goroutines, and returns the kept samples.
//
// Errors: an invalid Config (a field out of range, named), a diverging chain (NaN/Inf in θ
// or L(θ) > LossBound: the error names the chain, the step, the learning rate and, with
// LambdaMax, the bound 2/λ_max), a checkpoint that cannot be written or read, or does not
// match cfg. When ctx is cancelled, Run writes a final checkpoint (if cfg.Checkpoint is
// set) and returns ctx.Err() (and a nil Result). Run panics if len(cfg.Init) ≠ p.Dim(), if
// Inits is set without one start of length p.Dim() per chain, or if
// Project is set without a positive ProjectDim.
func Run(ctx context.Context, p Problem, cfg Config) (*Result, error) {
	return run(ctx, p, cfg)
}
