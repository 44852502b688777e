package sim

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/noise"
)

// perChain hides a Problem's batched path: Gauss and SDE then make one WeightedGrad per
// chain.
type perChain struct{ Problem }

func (p perChain) Clone() Problem { return perChain{p.Problem.Clone()} }

// batchCases are model-adapter problems with a batched path: the three linear models
// (softmax with 3 classes), 70 examples, 4 features.
func batchCases(t *testing.T) map[string]Problem {
	out := map[string]Problem{}
	for _, c := range []struct {
		spec string
		k    int
	}{{"linreg", 0}, {"logistic", 2}, {"softmax", 3}} {
		p, _ := modelBench(t, c.spec, 70, 4, c.k)
		if _, ok := p.(batchProblem); !ok {
			t.Fatalf("%s: the adapter has no batched path", c.spec)
		}
		out[c.spec] = p
	}
	return out
}

// TestBatchedMatchesPerChain: Gauss and SDE with the batched full-data pass against the
// per-chain WeightedGrad path on the same streams (11 chains: a full group and a padded
// one). The two differ only by the round-off of the gradient sums (≲ 1e-15 relative per
// step, model.MultiGradSum's test), which the contracting dynamics at η = 0.05 keeps from
// growing, so every final θ and kept sample must agree to 1e-12 relative to ‖θ‖∞ + 1.
func TestBatchedMatchesPerChain(t *testing.T) {
	for name, p := range batchCases(t) {
		init := make([]float64, p.Dim())
		for _, m := range []Method{Gauss, SDE} {
			cfg := Config{Method: m, LR: 0.05, Batch: 8, DT: 0.5, Chains: 11, Steps: 300, Burnin: 100, Thin: 10, Seed: 4, Init: init}
			a, err := Run(context.Background(), p, cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Run(context.Background(), perChain{p}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for k := range a.Final {
				for _, pair := range [][2][]float64{{a.Final[k], b.Final[k]}, {a.Samples[k], b.Samples[k]}} {
					var scale float64
					for _, v := range pair[1] {
						scale = max(scale, math.Abs(v))
					}
					for j := range pair[0] {
						worst = max(worst, math.Abs(pair[0][j]-pair[1][j])/(scale+1))
					}
				}
			}
			if worst > 1e-12 {
				t.Errorf("%s %v: batched and per-chain differ by %.3g", name, m, worst)
			}
			t.Logf("%s %v: largest difference %.2g", name, m, worst)
		}
	}
}

// TestBatchedDeterminism: with the batched path, results are bitwise identical for
// GOMAXPROCS 1 and 4, and chain k's trajectory does not depend on the number of chains
// (3 chains: one padded group; 11: a full group and a padded one). With AVX-512 the full
// group draws its normals by fillNormals8 and the padded ones chain by chain, so this also
// holds the two paths to the same bits over whole runs.
func TestBatchedDeterminism(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	for name, p := range batchCases(t) {
		init := make([]float64, p.Dim())
		for _, m := range []Method{Gauss, SDE} {
			cfg := Config{Method: m, LR: 0.05, Batch: 8, DT: 0.5, Chains: 11, Steps: 200, Burnin: 50, Thin: 5, Seed: 5, Init: init}
			runtime.GOMAXPROCS(1)
			one, err := Run(context.Background(), p, cfg)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GOMAXPROCS(4)
			four, err := Run(context.Background(), p, cfg)
			if err != nil {
				t.Fatal(err)
			}
			sameResult(t, name+" "+m.String()+" GOMAXPROCS 1 vs 4", one, four)
			cfg.Chains = 3
			few, err := Run(context.Background(), p, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for k := range 3 {
				if !bitsEqual(few.Samples[k], four.Samples[k]) || !bitsEqual(few.Final[k], four.Final[k]) {
					t.Errorf("%s %v: chain %d depends on the number of chains", name, m, k)
				}
			}
		}
	}
}

// TestBatchedResume: a batched Gauss run interrupted (at chain 9's step 230, the groups
// then at different steps) and resumed from its checkpoint under another GOMAXPROCS equals
// the uninterrupted run bit for bit.
func TestBatchedResume(t *testing.T) {
	p := batchCases(t)["softmax"]
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	cfg := Config{Method: Gauss, Sampling: noise.Without, LR: 0.05, Batch: 8, Chains: 11, Steps: 400, Burnin: 30, Thin: 2, Seed: 9,
		Init: make([]float64, p.Dim())}
	ref, err := Run(context.Background(), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	c := cfg
	c.Checkpoint, c.CheckpointEvery = path, 150
	c.Observe = func(chain, step int, _ []float64) {
		if chain == 9 && step == 230 {
			cancel()
		}
	}
	if r, err := Run(ctx, p, c); !errors.Is(err, context.Canceled) || r != nil {
		t.Fatalf("interrupted run returned %v, %v", r, err)
	}
	cancel()
	runtime.GOMAXPROCS(1)
	c.Observe, c.Resume = nil, path
	got, err := Run(context.Background(), p, c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Resumed < 150 || got.Resumed > 230 {
		t.Errorf("resumed from step %d, want in [150, 230]", got.Resumed)
	}
	sameResult(t, "batched resume", ref, got)
}

// TestBatchedDivergence: when every chain of a batched Gauss run diverges, the error names
// chain 0 on every run (GOMAXPROCS 2, 16 chains in two groups).
func TestBatchedDivergence(t *testing.T) {
	p := batchCases(t)["logistic"]
	init := make([]float64, p.Dim())
	init[0] = 0.1
	cfg := Config{Method: Gauss, LR: 1e300, Batch: 8, Chains: 16, Steps: 50, Seed: 3, Init: init}
	var first string
	for range 10 {
		_, err := Run(context.Background(), p, cfg)
		if err == nil {
			t.Fatal("no divergence")
		}
		if first == "" {
			first = err.Error()
			if !strings.Contains(first, "chain 0 ") {
				t.Fatalf("the error names another chain than 0: %v", err)
			}
		} else if err.Error() != first {
			t.Fatalf("errors differ between runs: %q and %q", first, err.Error())
		}
	}
}
