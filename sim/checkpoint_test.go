package sim

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/noise"
)

func ckptConfigs(init []float64) []Config {
	base := Config{LR: 0.1, Batch: 6, DT: 0.5, Chains: 4, Steps: 400, Burnin: 30, Thin: 2, Seed: 9, Init: init}
	var out []Config
	for _, ms := range []struct {
		m Method
		s noise.Sampling
	}{{SGD, noise.Reshuffle}, {SGD, noise.Without}, {SGD, noise.With}, {Gauss, noise.Without}, {SDE, noise.With}, {SGLD, noise.Reshuffle}} {
		c := base
		c.Method, c.Sampling = ms.m, ms.s
		out = append(out, c)
	}
	return out
}

// TestCheckpointResumeAfterCancel interrupts runs (each chain stops wherever it is when ctx
// is cancelled), resumes them from the final checkpoint with a different GOMAXPROCS, and
// requires the result to equal the uninterrupted run's bit for bit.
func TestCheckpointResumeAfterCancel(t *testing.T) {
	p := newLinreg(23, 3, 5)
	init := []float64{0.2, -0.1, 0.4}
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	for _, cfg := range ckptConfigs(init) {
		name := cfg.Method.String() + "/" + cfg.Sampling.String()
		runtime.GOMAXPROCS(2)
		ref, err := Run(context.Background(), p, cfg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "run.ckpt")
		ctx, cancel := context.WithCancel(context.Background())
		c := cfg
		c.Checkpoint, c.CheckpointEvery = path, 150
		c.Observe = func(chain, step int, _ []float64) {
			if chain == 1 && step == 230 {
				cancel()
			}
		}
		r, err := Run(ctx, p, c)
		cancel()
		if !errors.Is(err, context.Canceled) || r != nil {
			t.Fatalf("%s: interrupted run returned %v, %v", name, r, err)
		}
		runtime.GOMAXPROCS(1)
		c.Observe = nil
		c.Resume = path
		got, err := Run(context.Background(), p, c)
		if err != nil {
			t.Fatalf("%s: resume: %v", name, err)
		}
		if got.Resumed < 150 || got.Resumed > 230 {
			t.Errorf("%s: resumed from step %d, want in [150, 230]", name, got.Resumed)
		}
		sameResult(t, name+" resumed", ref, got)

		// The run completed and wrote its final state: resuming from it runs no step and
		// returns the same result.
		again, err := Run(context.Background(), p, c)
		if err != nil {
			t.Fatal(err)
		}
		if again.Resumed != cfg.Steps {
			t.Errorf("%s: completed checkpoint resumed from step %d", name, again.Resumed)
		}
		sameResult(t, name+" completed", ref, again)
	}
}

// failingWriter passes n bytes through, then fails.
type failingWriter struct {
	w io.Writer
	n int
}

var errInjected = errors.New("injected write failure")

func (f *failingWriter) Write(b []byte) (int, error) {
	if len(b) <= f.n {
		f.n -= len(b)
		return f.w.Write(b)
	}
	k, _ := f.w.Write(b[:f.n])
	f.n = 0
	return k, errInjected
}

// TestCheckpointWriteFailure injects a write error in the middle of the third checkpoint:
// Run must fail saying so, the file must still hold the second checkpoint (step 200), and
// resuming from it must give the uninterrupted result.
func TestCheckpointWriteFailure(t *testing.T) {
	p := newLinreg(23, 3, 6)
	init := []float64{0.2, -0.1, 0.4}
	cfg := Config{Method: SGD, Sampling: noise.Reshuffle, LR: 0.1, Batch: 6, Chains: 3, Steps: 500, Burnin: 20, Seed: 2, Init: init}
	ref, err := Run(context.Background(), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	writes := 0
	checkpointWriter = func(w io.Writer) io.Writer {
		writes++
		if writes == 3 {
			return &failingWriter{w: w, n: 1000}
		}
		return w
	}
	defer func() { checkpointWriter = func(w io.Writer) io.Writer { return w } }()
	c := cfg
	c.Checkpoint, c.CheckpointEvery = path, 100
	if _, err := Run(context.Background(), p, c); !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("run with a failing checkpoint write returned %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files left in the checkpoint directory, want 1 (no temporary file)", len(entries))
	}
	s, _, err := validate(p, c)
	if err != nil {
		t.Fatal(err)
	}
	chains, err := loadCheckpoint(path, s)
	if err != nil {
		t.Fatalf("previous checkpoint not readable: %v", err)
	}
	for k, ch := range chains {
		if ch.step != 200 {
			t.Errorf("chain %d: checkpoint at step %d, want 200", k, ch.step)
		}
	}
	c.Resume = path
	got, err := Run(context.Background(), p, c)
	if err != nil {
		t.Fatal(err)
	}
	sameResult(t, "resumed after a failed write", ref, got)
}

func TestCheckpointRefusesOtherConfig(t *testing.T) {
	p := newLinreg(23, 3, 6)
	cfg := Config{LR: 0.1, Batch: 6, Chains: 2, Steps: 50, Seed: 2, Init: []float64{0, 0, 0}, ConfigTag: "data abc"}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	cfg.Checkpoint = path
	if _, err := Run(context.Background(), p, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Resume = path
	for want, f := range map[string]func(*Config){
		"lr 0.1 (checkpoint) vs 0.2 (now)":            func(c *Config) { c.LR = 0.2 },
		"seed 2 (checkpoint) vs 3 (now)":              func(c *Config) { c.Seed = 3 },
		"config tag":                                  func(c *Config) { c.ConfigTag = "data xyz" },
		"init differs":                                func(c *Config) { c.Init = []float64{0, 1, 0} },
		"per-chain starts 0 (checkpoint) vs 2 (now)":  func(c *Config) { c.Inits = [][]float64{{0, 0, 0}, {0, 0, 0}} },
		"sampling without (checkpoint) vs with (now)": func(c *Config) { c.Sampling = noise.With },
	} {
		c := cfg
		f(&c)
		_, err := Run(context.Background(), p, c)
		if err == nil || !strings.Contains(err.Error(), "different configuration") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v", want, err)
		}
	}
	// Settings that do not change the result may change.
	c := cfg
	c.CheckpointEvery, c.CheckLossEvery = 7, 3
	if _, err := Run(context.Background(), p, c); err != nil {
		t.Error(err)
	}
	// Not a checkpoint at all.
	if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), p, cfg); err == nil || !strings.Contains(err.Error(), "not a readable") {
		t.Errorf("garbage file: error %v", err)
	}
	cfg.Resume = filepath.Join(t.TempDir(), "missing")
	if _, err := Run(context.Background(), p, cfg); err == nil {
		t.Error("missing file: no error")
	}
}

// Per-chain starts are part of a checkpoint's identity: a run with per-chain starts,
// interrupted and resumed, equals the uninterrupted run bit for bit; one with another start
// is refused, naming the chain.
func TestCheckpointPerChainStarts(t *testing.T) {
	p := newLinreg(23, 3, 6)
	inits := [][]float64{{0.1, -0.2, 0.3}, {-0.4, 0.5, 0.1}}
	cfg := Config{LR: 0.1, Batch: 6, Chains: 2, Steps: 60, Burnin: 5, Seed: 2, Init: []float64{0, 0, 0}, Inits: inits}
	ref, err := Run(context.Background(), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	c := cfg
	c.Checkpoint, c.CheckpointEvery = path, 20
	c.Observe = func(chain, step int, _ []float64) {
		if chain == 1 && step == 30 {
			cancel()
		}
	}
	if _, err := Run(ctx, p, c); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	cancel()
	c.Observe, c.Resume = nil, path
	got, err := Run(context.Background(), p, c)
	if err != nil {
		t.Fatal(err)
	}
	sameResult(t, "resumed with per-chain starts", ref, got)
	c.Inits = [][]float64{inits[0], {-0.4, 0.5, 0.2}}
	if _, err := Run(context.Background(), p, c); err == nil || !strings.Contains(err.Error(), "start of chain 1 differs") {
		t.Errorf("another start of chain 1: error %v", err)
	}
}
