package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/data"
)

func testResults() *Results {
	return &Results{
		Machine: "test", MNIST: "random",
		Go: map[string]*GoReport{
			"purego": {Build: "sgdprior (pure Go)", Results: []GoResult{
				{Name: "gemm_peak", Seconds: 1, Rate: 12},
				{Name: "cov_256", Seconds: 0.005, Rate: 40},
				{Name: "chains_mlp32", Seconds: 1, Rate: 50000},
			}},
			"openblas": {Build: "sgdprior (OpenBLAS build)", Results: []GoResult{
				{Name: "gemm_peak", Seconds: 0.2, Rate: 100},
				{Name: "cov_256", Seconds: 0.004, Rate: 65},
				{Name: "chains_mlp32", Seconds: 1, Rate: 120000},
			}},
		},
		Torch: []TorchReport{
			{Threads: 1, Results: []TorchResult{
				{Name: "cov_256", Impl: "perex_vmap", Seconds: 0.2, Threads: 1},
				{Name: "cov_256", Impl: "perex_outer", Seconds: 0.07, Threads: 1},
				{Name: "cov_256", Impl: "factor", Seconds: 0.004, Threads: 1},
				{Name: "chains_mlp32", Impl: "manual", Seconds: 2, Rate: 32000, Threads: 1},
			}},
			{Threads: 2, Results: []TorchResult{
				{Name: "gemm_peak", Impl: "mm", Seconds: 0.15, Rate: 120, Threads: 2},
				{Name: "cov_256", Impl: "perex_outer", Seconds: 0.05, Threads: 2},
				{Name: "cov_256", Impl: "factor", Seconds: 0.003, Threads: 2},
				{Name: "chains_mlp32", Impl: "manual", Seconds: 1.6, Rate: 40000, Threads: 2},
			}},
		},
		Score: []ScoreRun{{Impl: "purego", Seconds: 20, PeakBytes: 1 << 30}, {Impl: "openblas", Seconds: 9, PeakBytes: 3 << 30},
			{Impl: "torch", Threads: 2, Seconds: 15, PeakBytes: 1 << 30}},
	}
}

// TestTable checks the choice of PyTorch's best result, the ratios and the verdicts on
// hand-made results.
func TestTable(t *testing.T) {
	r := testResults()
	best := r.bestTorch("cov_256", []string{"perex_vmap", "perex_outer"})
	if best == nil || best.Seconds != 0.05 || best.Threads != 2 {
		t.Fatalf("best per-example result %+v, want perex_outer with 2 threads", best)
	}
	tab := Table(r)
	for _, want := range []string{
		"| covariance product u ↦ Cu, n = 256 | 5 ms | 4 ms | per-example: 50 ms (outer, 2t) | factorised: 3 ms (factor, 2t) | 10× | 12× | 0.6× | 0.75× |",
		"| SGD, 64 chains, mlp:32, digits | 50k/s | 120k/s | bmm: 40k/s (manual, 2t) |",
		"| dgemm 2048³ (the peak) | 12.0 GFLOP/s | 100.0 GFLOP/s | 120.0 GFLOP/s (mm, 2t) |",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	targets := strings.Join(Targets(r), "\n")
	for _, want := range []string{
		"cov_256, purego build: 10.0× faster than PyTorch's per-example path (target ≥ 3×): met",
		"cov_256, openblas build: 12.5× faster than PyTorch's per-example path (target ≥ 15×): NOT met",
		"cov_256, OpenBLAS build: 65.0 GFLOP/s = 54% of the measured dgemm peak 120.0 GFLOP/s (torch.mm, 2 threads) (target ≥ 60%): NOT met",
		"score, purego build: 20 s (target < 30 s): met; peak memory 1.00 GiB (target < 2 GiB): met; 0.75× the PyTorch script's speed (target > 1×): NOT met",
		"score, openblas build: 9 s (target < 8 s): NOT met; peak memory 3.00 GiB (target < 2 GiB): NOT met; 1.67× the PyTorch script's speed (target > 1×): met",
		"chains_mlp32, purego build: 1.25× PyTorch's chain-steps per second (target ≥ 2×): NOT met",
		"chains_mlp32, openblas build: 3.00× PyTorch's chain-steps per second (target ≥ 2×): met",
	} {
		if !strings.Contains(targets, want) {
			t.Errorf("targets lack %q:\n%s", want, targets)
		}
	}
}

// TestCompareArrays writes a reference and two results with known differences.
func TestCompareArrays(t *testing.T) {
	dir := t.TempDir()
	ref := []float64{3, 4, 0}
	write := func(name string, v []float64) {
		if err := data.WriteVector(filepath.Join(dir, name), v); err != nil {
			t.Fatal(err)
		}
	}
	write("go_purego_cov_4.npy", ref)
	write("go_openblas_cov_4.npy", []float64{3, 4, 0})
	write("torch_2_cov_4_factor.npy", []float64{3, 4, 0.05}) // ‖Δ‖/‖ref‖ = 0.05/5
	write("torch_1_cov_4_perex_vmap.npy", []float64{3, 4})   // wrong length: NaN
	got := map[string]float64{}
	for _, a := range compareArrays(dir, &Results{}) {
		if a.Workload != "cov_4" {
			t.Errorf("workload %q, want cov_4", a.Workload)
		}
		got[a.Impl] = a.RelDiff
	}
	if len(got) != 3 || got["go_openblas"] != 0 || math.Abs(got["torch_2_factor"]-0.01) > 1e-15 || !math.IsNaN(got["torch_1_perex_vmap"]) {
		t.Errorf("differences %v", got)
	}
}
