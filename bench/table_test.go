package main

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/data"
)

// benchMeta is the harness's real sizes (gobench -prepare without -small).
var benchMeta = Meta{M: 4096, N: 256, Hidden: 128, Chains: 64, ChainBatch: 32, GemmSize: 2048, ChainHidden: 32,
	DigitsP: 64, DigitsK: 10, BCP: 30, StepsLogistic: 3000, StepsMLP: 1000,
	LeNetFwdFlops: 833040, LeNetL1Flops: 235200, LeNetGramDims: 3390, StepsLeNet: 10}

// samples returns one sample per round for each value.
func samples(workload, impl string, threads int, secs ...float64) []Sample {
	var out []Sample
	for i, s := range secs {
		out = append(out, Sample{Workload: workload, Impl: impl, Threads: threads, Round: i + 1, Seconds: s, Reps: 1})
	}
	return out
}

func testResults() *Results {
	m := benchMeta
	m.GemmSize = 1000 // 2e9 flops a product
	r := &Results{Machine: "test", MNIST: "random", NRounds: 3, MinTime: "300ms", Meta: m, Load: "0.50 0.40 0.30",
		Builds: map[string]BuildInfo{"purego": {BLAS: "own", GOMAXPROCS: 2}, "openblas": {BLAS: "OpenBLAS", GOMAXPROCS: 2}},
		Rounds: []RoundInfo{{Round: 1, Start: "t1", LoadStart: "1.00 0.50 0.20", LoadEnd: "1.50 0.60 0.30", Seconds: 61}}}
	add := func(s []Sample) { r.Samples = append(r.Samples, s...) }
	// The peak: two concurrent products, 4e9 flops a call; median 0.04 s = 100 GFLOP/s.
	add(samples("gemm_peak", "openblas", 0, 0.04, 0.05, 0.04))
	add(samples("gemm_1t", "openblas", 0, 0.04, 0.04, 0.04)) // 50 GFLOP/s
	add(samples("gemm_peak", "purego", 0, 0.025, 0.025, 0.02))
	add(samples("gemm_peak", "mm", 2, 0.02, 0.02, 0.02))
	add(samples("cov_256", "purego", 0, 0.004, 0.005, 0.003, 0.006)) // median 4.5 ms (an even count)
	add(samples("cov_256", "openblas", 0, 0.004, 0.004, 0.004))
	add(samples("cov_256", "factor", 1, 0.008, 0.009, 0.007))   // median 8 ms
	add(samples("cov_256", "factor", 2, 0.006, 0.0065, 0.0095)) // median 6.5 ms: the best
	add(samples("cov_256", "perex_outer", 2, 0.05, 0.06, 0.05)) // 50 ms
	add(samples("cov_256", "perex_vmap", 1, 0.2, 0.2, 0.2))     // slower
	add(samples("chains_mlp32", "purego", 0, 0.5, 0.64, 0.8))   // 64000 steps: 100k/s
	add(samples("chains_mlp32", "manual", 1, 1.6, 1.6, 2.0))    // 40k/s
	add(samples("chains_mlp32", "autograd", 2, 3.2, 3.2, 3.2))  // 20k/s
	r.Score = []ScoreRun{{Impl: "purego", Round: 1, Seconds: 20, PeakBytes: 1 << 30}, {Impl: "purego", Round: 2, Seconds: 24, PeakBytes: 3 << 29},
		{Impl: "purego", Round: 3, Seconds: 22, PeakBytes: 1 << 30}, {Impl: "torch", Threads: 2, Round: 1, Seconds: 44, PeakBytes: 1 << 30}}
	return r
}

// TestMedianSpread checks the median (odd and even counts) and the spread by hand.
func TestMedianSpread(t *testing.T) {
	xs := []float64{3, 1, 2}
	if m := median(xs); m != 2 {
		t.Errorf("median of 3 1 2 = %g, want 2", m)
	}
	if !slices.Equal(xs, []float64{3, 1, 2}) {
		t.Errorf("median modified its input: %v", xs)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 4 1 3 2 = %g, want 2.5", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	if st := summarize([]float64{5, 9, 1, 7, 3}); st != (Stat{Median: 5, Min: 1, Max: 9, N: 5}) {
		t.Errorf("summarize = %+v", st)
	}
	r := testResults()
	st, ok := r.stat("cov_256", "purego", 0)
	// The mean of the two middle values of 3, 4, 5, 6 ms (in float64 arithmetic).
	mid4, mid5 := 0.004, 0.005
	if !ok || st != (Stat{Median: (mid4 + mid5) / 2, Min: 0.003, Max: 0.006, N: 4}) {
		t.Errorf("stat(cov_256, purego) = %+v", st)
	}
	best, ok := r.bestTorch("cov_256", []string{"factor"})
	if !ok || best.impl != "factor" || best.threads != 2 || best.st.Median != 0.0065 {
		t.Errorf("best factorised = %+v, want 2 threads, median 6.5 ms", best)
	}
	if g := fmtTimes(st); g != "4.5 ms (3–6)" {
		t.Errorf("fmtTimes = %q", g)
	}
}

// TestFlopCount compares the flop counts with hand computations for the harness's sizes
// (mlp:128 on 784 inputs and 10 classes, d = 128·785 + 10·129 = 101770).
func TestFlopCount(t *testing.T) {
	for _, c := range []struct {
		name string
		want float64
	}{
		// 3 first-layer products 3·2·256·128·784 = 154140672, 4 second-layer 4·2·256·10·128 =
		// 2621440, row dots and bias sums 4·256·138 = 141312, ḡ·u 2·101770 = 203540.
		{"cov_256", 157106964},
		// 154140672 + 8·2·256·10·128 = 5242880 + bias sums 2·256·138 = 70656.
		{"hvp_256", 159454208},
		// forward 2·256·128·784 = 51380224, 2·2·256·10·128 = 1310720, pairs 256·257·(784+256+10)
		// = 69081600.
		{"gram_256", 121772544},
		// per step 2·2·32·32·64 = 262144 + 3·2·32·10·32 = 61440 + 2·32·42 = 2688, = 326272,
		// × 64 chains × 1000 steps.
		{"chains_mlp32", 20881408000},
		// (4·32·30 + 2·32) × 64 × 3000.
		{"chains_logistic", 749568000},
		// LeNet-5: F = 833040 forward flops an example, F1 = 235200 of them in the first
		// convolution. 256·(4F − F1).
		{"lenet_cov_256", 792821760},
		// 256·(9F − 3F1).
		{"lenet_hvp_256", 1738690560},
		// 256·(3F − F1) = 579563520, + 256·257·3390 = 223034880 (conv rows 6·26 + 16·151 =
		// 2572, dense inputs and errors 400+120 + 120+84 + 84+10 = 818).
		{"lenet_gram_256", 802598400},
		// 32 images × 64 chains × 10 steps × (3F − F1).
		{"chains_lenet", 46365081600},
		{"gemm_peak", 17179869184}, // 2·2048³
		{"gemm_1t", 17179869184},
		{"unknown", 0},
	} {
		if got := flopCount(c.name, benchMeta); got != c.want {
			t.Errorf("flopCount(%s) = %.0f, want %.0f", c.name, got, c.want)
		}
	}
	// cov_4096: every term scales with n except ḡ·u.
	want := 16*(157106964.0-203540) + 203540
	if got := flopCount("cov_4096", benchMeta); got != want {
		t.Errorf("flopCount(cov_4096) = %.0f, want %.0f", got, want)
	}
	r := &Results{Meta: benchMeta, Builds: map[string]BuildInfo{"openblas": {GOMAXPROCS: 2}}}
	if g := r.gflops("gemm_peak", "openblas", 1); g != 2*17.179869184 {
		t.Errorf("openblas gemm_peak at 1 s: %g GFLOP/s, want two products' 34.36", g)
	}
	if g := r.gflops("gemm_peak", "purego", 1); g != 17.179869184 {
		t.Errorf("pure-Go gemm_peak at 1 s: %g GFLOP/s, want one product's", g)
	}
}

// TestTable checks the cells, the ratios of medians, the % of peak and the verdicts on
// hand-made samples.
func TestTable(t *testing.T) {
	r := testResults()
	tab := Table(r)
	for _, want := range []string{
		// pure Go 4.5 ms, OpenBLAS 4 ms; per-example 50 ms: 50/4.5 = 11.1, 50/4 = 12.5;
		// factorised 6.5 ms: 6.5/4.5 = 1.44, 6.5/4 = 1.625.
		"| covariance product u ↦ Cu, n = 256 | 4.5 ms (3–6) | 4 ms (4–4) | per-example: 50 ms (50–60; outer, 2t) | factorised: 6.5 ms (6–9.5; factor, 2t) | 11× | 12× | 1.4× | 1.6× |",
		// 64000 steps: 64000/0.64 = 100k/s (80k at 0.8 s, 128k at 0.5 s); PyTorch 40k/s; 2.5×.
		"| SGD, 64 chains, mlp:32, digits | 100k/s (80k–128k) | — | bmm: 40k/s (32k–40k; manual, 1t) | autograd: 20k/s (20k–20k; autograd, 2t) | 2.5× | — | 5× | — |",
		"| OpenBLAS, 2 cores (two single-threaded calls at once): the peak | 100.0 (80.0–100.0) |",
		"| OpenBLAS, 1 core | 50.0 (50.0–50.0) |",
		"| torch.mm, 2 thread(s) | 100.0 (100.0–100.0) |",
		"| 1 | t1 | 1.00 0.50 0.20 | 1.50 0.60 0.30 | 61 s |",
		// 157106964 flops / 4.5 ms = 34.9 GFLOP/s = 35% of 100.
		"| covariance product u ↦ Cu, n = 256 | 1.571e+08 | 34.9 (26.2–52.4) = 35% | 39.3 (39.3–39.3) = 39% |",
		"| sgdprior, pure Go | 22 s (20–24) | 1.50 GiB |", // the largest of the three runs
		"| PyTorch script, 2 thread(s) | 44 s (1 round) | 1.00 GiB |",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	targets := strings.Join(Targets(r), "\n")
	for _, want := range []string{
		// Three rounds measured both sides: too few to judge a speed target.
		"cov_256, purego build: 1.44× PyTorch's factorised product (target ≥ 1.5×): inconclusive (3 of the 5 paired rounds needed)",
		"cov_256, openblas build: 1.62× PyTorch's factorised product (target ≥ 1.5×): inconclusive (3 of the 5 paired rounds needed)",
		"cov_256, purego build: 11.1× faster than PyTorch's per-example path (target ≥ 3×): inconclusive",
		"cov_256, OpenBLAS build: 39.3 GFLOP/s = 39% of the measured peak 100.0 GFLOP/s (openblas build, dgemm on both cores) (target ≥ 60%): inconclusive",
		// 20881408000 / 0.64 s = 32.6 GFLOP/s.
		"chains_mlp32, purego build: 32.6 GFLOP/s = 33% of the measured peak (target ≥ 50%): inconclusive",
		// Three runs of 20, 24, 22 s, all under 30 s and 2 GiB; PyTorch ran once (round 1).
		"score, purego build: 22 s median (target < 30 s): met (in all 3 runs); peak memory 1.50 GiB (target < 2 GiB): met (in all 3 runs); 2.00× the PyTorch script's speed (target > 1×): inconclusive (1 of the 3 runs needed)",
		"chains_mlp32, purego build: 2.50× PyTorch's chain-steps per second (target ≥ 2×): inconclusive",
	} {
		if !strings.Contains(targets, want) {
			t.Errorf("targets lack %q:\n%s", want, targets)
		}
	}
}

// TestTargetVerdicts checks the verdicts of the target lines on five paired rounds: a
// ratio above the target in every round is met, below in every round NOT met, on both
// sides (whatever the median says) inconclusive, and so is a round that measured one side
// only, a non-finite value, or a failed score run.
func TestTargetVerdicts(t *testing.T) {
	base := func() *Results {
		r := testResults()
		r.NRounds = 5
		r.Samples = nil
		r.Score = nil
		return r
	}
	for _, tc := range []struct {
		name      string
		go_, torc []float64 // seconds by round: the pure-Go build, PyTorch's factorised product
		want      string
	}{
		// Ratios 2, 2, 1.6, 2.5, 1.6: all ≥ 1.5.
		{"met", []float64{1, 1, 1, 1, 1}, []float64{2, 2, 1.6, 2.5, 1.6}, "(target ≥ 1.5×): met (in all 5 rounds)"},
		{"not met", []float64{1, 1, 1, 1, 1}, []float64{1.4, 1.2, 1.49, 1, 0.5}, "(target ≥ 1.5×): NOT met (in none of 5 rounds)"},
		// Median ratio 1.6 ≥ 1.5, but round 3 gives 1.2.
		{"straddles", []float64{1, 1, 1, 1, 1}, []float64{1.6, 1.7, 1.2, 1.6, 1.8}, "1.60× PyTorch's factorised product (target ≥ 1.5×): inconclusive (met in 4 of 5 rounds)"},
		{"one side missing in a round", []float64{1, 1, 1, 1}, []float64{2, 2, 2, 2, 2}, "inconclusive (4 of the 5 paired rounds needed)"},
		{"zero time", []float64{1, 1, 0, 1, 1}, []float64{2, 2, 2, 2, 2}, "inconclusive (a value of the rounds is not finite)"},
	} {
		r := base()
		r.Samples = append(samples("cov_256", "purego", 0, tc.go_...), samples("cov_256", "factor", 1, tc.torc...)...)
		got := strings.Join(Targets(r), "\n")
		if !strings.Contains(got, "cov_256, purego build: ") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: targets\n%s\nlack %q", tc.name, got, tc.want)
		}
	}
	// The peak fraction is judged round by round against the peak of the same round: the
	// median rate is 60% of the median peak, but rounds 2 and 4 fall below.
	r := base()
	r.Samples = append(samples("gemm_peak", "openblas", 0, 0.04, 0.04, 0.04, 0.04, 0.04), // 100 GFLOP/s
		samples("cov_4096", "openblas", 0, 1, 1.2, 1, 1.2, 1)...)
	f := flopCount("cov_4096", r.Meta) / 1e9 / 100 // seconds at 100% of the peak
	for i := range r.Samples {
		if r.Samples[i].Workload == "cov_4096" {
			r.Samples[i].Seconds *= f / 0.6 // 60% of the peak, or 50% in rounds 2 and 4
		}
	}
	if got := strings.Join(Targets(r), "\n"); !strings.Contains(got, "(target ≥ 60%): inconclusive (met in 3 of 5 rounds)") {
		t.Errorf("peak fraction:\n%s", got)
	}
	// A failed score run is NOT met; two runs are too few for the limit.
	r = base()
	r.Score = []ScoreRun{{Impl: "purego", Round: 1, Seconds: 10, PeakBytes: 1 << 30}, {Impl: "purego", Round: 2, Seconds: 12, PeakBytes: 1 << 30}}
	if got := strings.Join(Targets(r), "\n"); !strings.Contains(got, "score, purego build: 11 s median (target < 30 s): inconclusive (2 of the 3 runs needed)") {
		t.Errorf("two score runs:\n%s", got)
	}
	r.Score = append(r.Score, ScoreRun{Impl: "purego", Round: 3, Err: "killed"})
	if got := strings.Join(Targets(r), "\n"); !strings.Contains(got, "score, purego build: failed (killed): NOT met") {
		t.Errorf("failed score run:\n%s", got)
	}
}

// TestRoundOrder checks the alternation A B C / C B A and the grouping of the tasks by
// workload, Go builds first.
func TestRoundOrder(t *testing.T) {
	impls := []string{"A", "B", "C"}
	if got := roundOrder(impls, 0); !slices.Equal(got, impls) {
		t.Errorf("round 1: %v", got)
	}
	if got := roundOrder(impls, 1); !slices.Equal(got, []string{"C", "B", "A"}) {
		t.Errorf("round 2: %v", got)
	}
	if got := roundOrder(impls, 2); !slices.Equal(got, impls) || !slices.Equal(impls, []string{"A", "B", "C"}) {
		t.Errorf("round 3: %v (input %v)", got, impls)
	}
	g := &worker{name: "purego", offers: [][2]string{{"x", ""}, {"y", ""}}}
	p := &worker{name: "torch_1", torch: true, offers: [][2]string{{"y", "f"}, {"x", "f"}, {"x", "g"}}}
	var got []string
	for _, tk := range tasks([]*worker{g, p}) {
		got = append(got, tk.workload+":"+tk.w.name+":"+tk.impl)
	}
	want := []string{"x:purego:", "x:torch_1:f", "x:torch_1:g", "y:purego:", "y:torch_1:f"}
	if !slices.Equal(got, want) {
		t.Errorf("tasks %v, want %v", got, want)
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
	// Another workload whose name ends in cov_4, with no pure-Go reference: not compared
	// with cov_4's.
	write("torch_2_lenet_cov_4_jvp_vjp.npy", []float64{1, 2, 3})
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
