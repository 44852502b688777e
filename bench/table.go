package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Results is everything one run of the harness measured (results.json).
type Results struct {
	Date         string               `json:"date"`
	Machine      string               `json:"machine"`
	Load         string               `json:"load_at_start"` // /proc/loadavg's first three fields
	MNIST        string               `json:"mnist"`
	TorchVersion string               `json:"torch_version,omitempty"`
	NRounds      int                  `json:"rounds"`
	MinTime      string               `json:"mintime"`
	Meta         Meta                 `json:"inputs"`
	Builds       map[string]BuildInfo `json:"builds"` // by build: "purego", "openblas"
	Rounds       []RoundInfo          `json:"round_log"`
	Samples      []Sample             `json:"samples"`
	Score        []ScoreRun           `json:"score,omitempty"`
	Agreement    []Agreement          `json:"agreement"`
	Notes        []string             `json:"notes,omitempty"`
}

// Meta is the workloads' sizes (gobench's inputs.json).
type Meta struct {
	M             int `json:"m"`
	N             int `json:"n"`
	Hidden        int `json:"hidden"`
	Chains        int `json:"chains"`
	ChainBatch    int `json:"chain_batch"`
	GemmSize      int `json:"gemm_size"`
	ChainHidden   int `json:"chain_hidden"`
	DigitsP       int `json:"digits_p"`
	DigitsK       int `json:"digits_k"`
	BCP           int `json:"bc_p"`
	StepsLogistic int `json:"steps_logistic"`
	StepsMLP      int `json:"steps_mlp"`
	// LeNet-5 (gobench's inputsMeta).
	LeNetFwdFlops float64 `json:"lenet_fwd_flops"`
	LeNetL1Flops  float64 `json:"lenet_l1_flops"`
	LeNetGramDims int     `json:"lenet_gram_dims"`
	StepsLeNet    int     `json:"steps_lenet"`
}

// BuildInfo describes one Go build's BLAS and thread count.
type BuildInfo struct {
	BLAS       string `json:"blas"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

// RoundInfo is one round: when it started, the load at its start and end, its duration.
type RoundInfo struct {
	Round     int     `json:"round"`
	Start     string  `json:"start"`
	LoadStart string  `json:"load_start"`
	LoadEnd   string  `json:"load_end"`
	Seconds   float64 `json:"seconds"`
}

// Sample is one measurement of one implementation of one workload in one round.
type Sample struct {
	Workload string `json:"workload"`
	// Impl is the Go build ("purego", "openblas") or PyTorch's implementation ("factor", …).
	Impl    string  `json:"impl"`
	Threads int     `json:"threads,omitempty"` // PyTorch's thread setting; 0 for Go
	Round   int     `json:"round"`
	Seconds float64 `json:"seconds"` // median of the measurement's repetitions
	Best    float64 `json:"best"`
	Reps    int     `json:"reps"`
	Allocs  float64 `json:"allocs_per_op,omitempty"`
}

// ScoreRun is one end-to-end score computation.
type ScoreRun struct {
	Impl      string  `json:"impl"` // "purego", "openblas" or "torch"
	Threads   int     `json:"threads,omitempty"`
	Round     int     `json:"round"`
	Load      string  `json:"load"` // at the start of its round
	Seconds   float64 `json:"seconds"`
	PeakBytes int64   `json:"peak_bytes"`
	Err       string  `json:"error,omitempty"`
}

// Agreement is the relative difference ‖x − ref‖/‖ref‖ between an implementation's result
// and the pure-Go build's.
type Agreement struct {
	Workload string  `json:"workload"`
	Impl     string  `json:"impl"`
	RelDiff  float64 `json:"rel_diff"`
}

// Stat summarises one implementation's values over rounds.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// median returns the median of xs (the mean of the two middle values for an even count;
// NaN for none). xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// summarize returns the median and the min–max spread of xs.
func summarize(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	return Stat{Median: median(xs), Min: slices.Min(xs), Max: slices.Max(xs), N: len(xs)}
}

// stat summarises the seconds of one implementation (a Go build with threads 0, or a
// PyTorch implementation at a thread setting) over the rounds; ok is false without samples.
func (r *Results) stat(workload, impl string, threads int) (Stat, bool) {
	var xs []float64
	for _, s := range r.Samples {
		if s.Workload == workload && s.Impl == impl && s.Threads == threads {
			xs = append(xs, s.Seconds)
		}
	}
	return summarize(xs), len(xs) > 0
}

// torchPick is PyTorch's fastest implementation of a workload among some, by median.
type torchPick struct {
	impl    string
	threads int
	st      Stat
}

// bestTorch returns PyTorch's fastest implementation of workload among impls over every
// thread setting, by the median over rounds.
func (r *Results) bestTorch(workload string, impls []string) (torchPick, bool) {
	var best torchPick
	found := false
	seen := map[torchPick]bool{}
	for _, s := range r.Samples {
		k := torchPick{impl: s.Impl, threads: s.Threads}
		if s.Threads == 0 || s.Workload != workload || !slices.Contains(impls, s.Impl) || seen[k] {
			continue
		}
		seen[k] = true
		st, _ := r.stat(workload, s.Impl, s.Threads)
		if !found || st.Median < best.st.Median {
			best, found = torchPick{s.Impl, s.Threads, st}, true
		}
	}
	return best, found
}

// Sizes of the mlp:h workloads on MNIST: 784 features, 10 classes.
const mnistP, mnistK = 784, 10

// mm is the flop count of an m×k by k×n matrix product (a multiply and an add each).
func mm(m, n, k int) float64 { return 2 * float64(m) * float64(n) * float64(k) }

// flopCount returns the floating-point operations one call of a workload performs, counted
// from the algorithm the Go code runs: every matrix–matrix and matrix–vector product (and
// dot product), 2 flops per multiply–add; the elementwise work (tanh, the softmax head, the
// weights, the update) is O(n·(h+k)) and not counted. For the mlp:h workloads on n examples
// (p = 784 inputs, h hidden units, k = 10 outputs; A₀ = X, A₁ = tanh(X W₁ᵀ + b₁), Δ_l the
// back-propagated errors):
//
//   - cov_n (Network.GradDotSum, one pass, MATH.md §2): the forward pass X W₁ᵀ and A₁ W₂ᵀ,
//     the backward Δ₂ W₂; the dots g_i·u: X U₁ᵀ, A₁ U₂ᵀ and the row dots with Δ₁, Δ₂
//     (2n(h+k)); the sum: Δ₁ᵀ diag(w) X, Δ₂ᵀ diag(w) A₁ and the bias sums Δ_lᵀ w (2n(h+k));
//     the op also forms ḡ·u (2d). So 3 products of the first layer's size (n·p·h) where
//     GradDot + GradSum make 4: 3·mm(n,h,p) + 4·mm(n,k,h) + 4n(h+k) + 2d.
//   - hvp_n (Network.HessVec, R-operator): forward X W₁ᵀ, A₁ W₂ᵀ; R-forward X V₁ᵀ, A₁ V₂ᵀ,
//     R(A₁) W₂ᵀ; R-backward Δ₂ W₂, R(Δ₂) W₂, Δ₂ V₂; the sums R(Δ₁)ᵀ X, R(Δ₂)ᵀ A₁, Δ₂ᵀ R(A₁)
//     and the bias sums R(Δ_l)ᵀ 1. R(A₀) = 0, so there is no Δ₁ᵀ R(A₀): 3 first-layer
//     products: 3·mm(n,h,p) + 8·mm(n,k,h) + 2n(h+k).
//   - gram_n (Network.Gram): forward and backward (mm(n,h,p) + 2·mm(n,k,h)), then per pair
//     i ≥ j (n(n+1)/2 entries, tiles of the lower triangle) the dots of X, Δ₁, A₁ and Δ₂
//     rows: n(n+1)(p + 2h + k).
//   - chains_mlp32: per chain-step on B rows (mlp:h on digits, p, k from inputs.json), the
//     gradient without the loss (Network.Grad): forward mm(B,h,p) + mm(B,k,h), backward
//     mm(B,h,k), sums Δ₁ᵀ X, Δ₂ᵀ A₁ and Δ_lᵀ 1: 2·mm(B,h,p) + 3·mm(B,k,h) + 2B(h+k); times
//     chains × steps.
//   - chains_logistic: per chain-step X w and rᵀ X on B rows of p features: 4Bp (+ 2B for
//     the bias sum).
//   - gemm_peak, gemm_1t: one 2048³ product, 2·s³ (the harness multiplies by the number of
//     concurrent products).
//
// It returns 0 for an unknown workload.
func flopCount(workload string, m Meta) float64 {
	var n int
	h := m.Hidden
	d := h*(mnistP+1) + mnistK*(h+1)
	switch {
	case workload == "gemm_peak" || workload == "gemm_1t":
		return mm(m.GemmSize, m.GemmSize, m.GemmSize)
	case workload == "chains_mlp32":
		B, p, k, hc := m.ChainBatch, m.DigitsP, m.DigitsK, m.ChainHidden
		step := 2*mm(B, hc, p) + 3*mm(B, k, hc) + 2*float64(B*(hc+k))
		return step * float64(m.Chains*m.StepsMLP)
	case workload == "chains_logistic":
		B, p := m.ChainBatch, m.BCP
		return float64(4*B*p+2*B) * float64(m.Chains*m.StepsLogistic)
	// LeNet-5, in units of its forward products F per example (F1 the first convolution's
	// part): a gradient is the forward pass, the input gradients of every layer but the
	// first and the weight gradients (3F − F1); the covariance product adds the products
	// u_l·U_l (4F − F1); the R-operator HVP is the forward pass, the R-forward (2F), the
	// backward (2F − F1) and the R-backward (4F − 2F1), 9F − 3F1 in all; the Gram matrix is
	// a gradient's work plus n(n+1)·LeNetGramDims for the pairs (the conv-parameter rows'
	// inner products and the dense tail's factorised ones, lower triangles).
	case workload == "chains_lenet":
		return float64(m.ChainBatch*m.Chains*m.StepsLeNet) * (3*m.LeNetFwdFlops - m.LeNetL1Flops)
	case scan(workload, "lenet_cov_%d", &n):
		return float64(n) * (4*m.LeNetFwdFlops - m.LeNetL1Flops)
	case scan(workload, "lenet_hvp_%d", &n):
		return float64(n) * (9*m.LeNetFwdFlops - 3*m.LeNetL1Flops)
	case scan(workload, "lenet_gram_%d", &n):
		return float64(n)*(3*m.LeNetFwdFlops-m.LeNetL1Flops) + float64(n)*float64(n+1)*float64(m.LeNetGramDims)
	case scan(workload, "cov_%d", &n):
		return 3*mm(n, h, mnistP) + 4*mm(n, mnistK, h) + 4*float64(n*(h+mnistK)) + 2*float64(d)
	case scan(workload, "hvp_%d", &n):
		return 3*mm(n, h, mnistP) + 8*mm(n, mnistK, h) + 2*float64(n*(h+mnistK))
	case scan(workload, "gram_%d", &n):
		return mm(n, h, mnistP) + 2*mm(n, mnistK, h) + float64(n)*float64(n+1)*float64(mnistP+2*h+mnistK)
	}
	return 0
}

func scan(s, format string, n *int) bool {
	_, err := fmt.Sscanf(s, format, n)
	return err == nil
}

// chainSteps returns the chain-steps of one call of a chains workload.
func chainSteps(workload string, m Meta) float64 {
	switch workload {
	case "chains_logistic":
		return float64(m.Chains * m.StepsLogistic)
	case "chains_mlp32":
		return float64(m.Chains * m.StepsMLP)
	case "chains_lenet":
		return float64(m.Chains * m.StepsLeNet)
	}
	return 0
}

// concurrent returns how many products a gemm_peak call of a Go build makes at once: one
// per core in the openblas build (single-threaded OpenBLAS calls), one otherwise.
func (r *Results) concurrent(workload, impl string) float64 {
	if workload == "gemm_peak" && impl == "openblas" {
		return float64(max(1, r.Builds["openblas"].GOMAXPROCS))
	}
	return 1
}

// gflops converts seconds of one call into GFLOP/s of the flops it performs.
func (r *Results) gflops(workload, impl string, seconds float64) float64 {
	return flopCount(workload, r.Meta) * r.concurrent(workload, impl) / seconds / 1e9
}

// peak returns the measured peak: the OpenBLAS build's dgemm on both cores (median over
// rounds), or the pure-Go build's when there is no openblas build.
func (r *Results) peak() (float64, string) {
	for _, b := range []string{"openblas", "purego"} {
		if st, ok := r.stat("gemm_peak", b, 0); ok {
			return r.gflops("gemm_peak", b, st.Median), b + " build, dgemm on both cores"
		}
	}
	return 0, ""
}

// rowSpec describes one row of the table: the PyTorch implementations of its two columns.
type rowSpec struct {
	name, label  string
	a, b         []string // PyTorch implementations whose best fills column A (B)
	aDesc, bDesc string
}

var rows = []rowSpec{
	{"cov_256", "covariance product u ↦ Cu, n = 256", []string{"perex_vmap", "perex_outer"}, []string{"factor"}, "per-example", "factorised"},
	{"cov_4096", "covariance product u ↦ Cu, n = 4096", []string{"perex_vmap", "perex_outer"}, []string{"factor"}, "per-example", "factorised"},
	{"gram_256", "Gram matrix, n = 256", []string{"perex_vmap", "perex_outer"}, []string{"factor"}, "per-example", "factorised"},
	{"gram_4096", "Gram matrix, n = 4096", []string{"perex_vmap", "perex_outer"}, []string{"factor"}, "per-example", "factorised"},
	{"hvp_256", "Hessian–vector product, n = 256", []string{"double_backward"}, []string{"fwd_over_rev"}, "double backward", "fwd-over-rev"},
	{"hvp_4096", "Hessian–vector product, n = 4096", []string{"double_backward"}, []string{"fwd_over_rev"}, "double backward", "fwd-over-rev"},
	{"chains_logistic", "SGD, 64 chains, logistic, breast-cancer", []string{"manual"}, []string{"autograd"}, "bmm", "autograd"},
	{"chains_mlp32", "SGD, 64 chains, mlp:32, digits", []string{"manual"}, []string{"autograd"}, "bmm", "autograd"},
	{"lenet_cov_256", "LeNet-5: covariance product, n = 256", []string{"perex_vmap", "perex_unfold"}, []string{"jvp_vjp"}, "per-example", "jvp + vjp"},
	{"lenet_cov_4096", "LeNet-5: covariance product, n = 4096", []string{"perex_vmap", "perex_unfold"}, []string{"jvp_vjp"}, "per-example", "jvp + vjp"},
	{"lenet_gram_256", "LeNet-5: Gram matrix, n = 256", []string{"perex_vmap"}, []string{"perex_unfold"}, "vmap", "unfold"},
	{"lenet_hvp_256", "LeNet-5: Hessian–vector product, n = 256", []string{"double_backward"}, []string{"fwd_over_rev"}, "double backward", "fwd-over-rev"},
	{"lenet_hvp_4096", "LeNet-5: Hessian–vector product, n = 4096", []string{"double_backward"}, []string{"fwd_over_rev"}, "double backward", "fwd-over-rev"},
	{"chains_lenet", "SGD, 64 chains, LeNet-5, 4096 MNIST images", []string{"vmap"}, []string{"grouped"}, "vmap", "grouped conv"},
}

func isChains(name string) bool { return strings.HasPrefix(name, "chains_") }

// fmtTime prints seconds with three significant digits in a readable unit.
func fmtTime(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.3g s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3g ms", s*1e3)
	default:
		return fmt.Sprintf("%.3g µs", s*1e6)
	}
}

// fmtTimes prints a median and its spread in the median's unit: "2.93 ms (2.9–3.1)".
func fmtTimes(st Stat) string {
	if st.N == 1 {
		return fmtTime(st.Median) + " (1 round)"
	}
	unit, f := "s", 1.0
	switch {
	case st.Median < 1e-3:
		unit, f = "µs", 1e6
	case st.Median < 1:
		unit, f = "ms", 1e3
	}
	return fmt.Sprintf("%.3g %s (%.3g–%.3g)", st.Median*f, unit, st.Min*f, st.Max*f)
}

func fmtRate(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.3gM/s", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.3gk/s", x/1e3)
	}
	return fmt.Sprintf("%.3g/s", x)
}

// fmtRates prints the chain-steps per second of a chains workload from the seconds of a
// call: the median's rate and the spread's.
func fmtRates(st Stat, steps float64) string {
	if st.N == 1 {
		return fmtRate(steps/st.Median) + " (1 round)"
	}
	return fmt.Sprintf("%s (%s–%s)", fmtRate(steps/st.Median), strings.TrimSuffix(fmtRate(steps/st.Max), "/s"), strings.TrimSuffix(fmtRate(steps/st.Min), "/s"))
}

// cell prints one implementation's median and spread: chain-steps per second for the
// chains, time per call otherwise.
func (r *Results) cell(workload string, st Stat, ok bool) string {
	if !ok {
		return "—"
	}
	if isChains(workload) {
		return fmtRates(st, chainSteps(workload, r.Meta))
	}
	return fmtTimes(st)
}

func (r *Results) torchCell(workload string, t torchPick, ok bool) string {
	if !ok {
		return "—"
	}
	c := r.cell(workload, t.st, true)
	label := fmt.Sprintf("%s, %dt", strings.TrimPrefix(t.impl, "perex_"), t.threads)
	if i := strings.LastIndex(c, ")"); i >= 0 {
		return c[:i] + "; " + label + ")"
	}
	return c + " (" + label + ")"
}

// ratio is PyTorch's median time over sgdprior's (> 1: sgdprior is faster); NaN if either
// is missing. For the chains (the same steps per call) it is the ratio of chain-steps per
// second.
func ratio(t Stat, tok bool, g Stat, gok bool) float64 {
	if !tok || !gok || !(g.Median > 0) {
		return math.NaN()
	}
	return t.Median / g.Median
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	if x >= 10 {
		return fmt.Sprintf("%.0f×", x)
	}
	return fmt.Sprintf("%.2g×", x)
}

// gflopsCell prints an implementation's GFLOP/s at its median (spread from the min–max
// times) and the fraction of the peak.
func (r *Results) gflopsCell(workload, impl string, peak float64) string {
	st, ok := r.stat(workload, impl, 0)
	if !ok {
		return "—"
	}
	g := r.gflops(workload, impl, st.Median)
	c := fmt.Sprintf("%.1f (%.1f–%.1f)", g, r.gflops(workload, impl, st.Max), r.gflops(workload, impl, st.Min))
	if peak > 0 {
		c += fmt.Sprintf(" = %.0f%%", 100*g/peak)
	}
	return c
}

// Table renders the results as Markdown: the rounds, the peak, the workloads, the rates,
// the score runs, the agreement of the results and the targets.
func Table(r *Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s. Run %s (load average at the start %s). MNIST: %s.", r.Machine, r.Date, r.Load, r.MNIST)
	if r.TorchVersion != "" {
		fmt.Fprintf(&b, " PyTorch %s (float64; \"Nt\" = N threads; its time for a workload is its implementation with the smallest median).", r.TorchVersion)
	}
	fmt.Fprintf(&b, " %d rounds, each measuring every implementation of every workload once (one warm-up call, then repetitions for %s; the round's value is their median), the implementations of a workload in alternating order; a cell is the median over rounds (min–max); ratios are ratios of medians; chains are chain-steps per second.\n\n", r.NRounds, r.MinTime)
	for _, name := range []string{"purego", "openblas"} {
		if g, ok := r.Builds[name]; ok {
			fmt.Fprintf(&b, "- %s build: BLAS %s, GOMAXPROCS %d\n", name, g.BLAS, g.GOMAXPROCS)
		}
	}
	if len(r.Rounds) > 0 {
		b.WriteString("\n| round | start (UTC) | load at start | load at end | duration |\n|---|---|---|---|---|\n")
		for _, ri := range r.Rounds {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %.0f s |\n", ri.Round, ri.Start, ri.LoadStart, ri.LoadEnd, ri.Seconds)
		}
	}
	peak, peakFrom := r.peak()
	b.WriteString("\nThe peak: dgemm 2048³ in float64, GFLOP/s at the median (min–max), measured in the same rounds\n\n")
	b.WriteString("| implementation | GFLOP/s |\n|---|---|\n")
	for _, p := range []struct{ label, w, impl string }{
		{"OpenBLAS, 2 cores (two single-threaded calls at once): the peak", "gemm_peak", "openblas"},
		{"OpenBLAS, 1 core", "gemm_1t", "openblas"},
		{"sgdprior's GEMM (pure Go), 2 cores", "gemm_peak", "purego"},
		{"sgdprior's GEMM (pure Go), 1 core", "gemm_1t", "purego"},
	} {
		if c := r.gflopsCell(p.w, p.impl, 0); c != "—" {
			fmt.Fprintf(&b, "| %s | %s |\n", p.label, c)
		}
	}
	for _, t := range []int{1, 2} {
		if st, ok := r.stat("gemm_peak", "mm", t); ok {
			fmt.Fprintf(&b, "| torch.mm, %d thread(s) | %.1f (%.1f–%.1f) |\n", t, r.gflops("gemm_peak", "mm", st.Median),
				r.gflops("gemm_peak", "mm", st.Max), r.gflops("gemm_peak", "mm", st.Min))
		}
	}
	b.WriteString("\n| workload | pure Go | OpenBLAS | PyTorch A | PyTorch B | A ÷ pure Go | A ÷ OpenBLAS | B ÷ pure Go | B ÷ OpenBLAS |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range rows {
		p, pok := r.stat(row.name, "purego", 0)
		o, ook := r.stat(row.name, "openblas", 0)
		if !pok && !ook {
			continue
		}
		ta, aok := r.bestTorch(row.name, row.a)
		tb, bok := r.bestTorch(row.name, row.b)
		fmt.Fprintf(&b, "| %s | %s | %s | %s: %s | %s: %s | %s | %s | %s | %s |\n", row.label, r.cell(row.name, p, pok), r.cell(row.name, o, ook),
			row.aDesc, r.torchCell(row.name, ta, aok), row.bDesc, r.torchCell(row.name, tb, bok),
			fmtRatio(ratio(ta.st, aok, p, pok)), fmtRatio(ratio(ta.st, aok, o, ook)), fmtRatio(ratio(tb.st, bok, p, pok)), fmtRatio(ratio(tb.st, bok, o, ook)))
	}
	fmt.Fprintf(&b, "\nRates of the flops the code performs (bench/table.go, flopCount), GFLOP/s at the median (min–max) and %% of the peak (%.1f GFLOP/s, %s)\n\n", peak, peakFrom)
	b.WriteString("| workload | flops a call | pure Go | OpenBLAS |\n|---|---|---|---|\n")
	for _, row := range rows {
		_, pok := r.stat(row.name, "purego", 0)
		_, ook := r.stat(row.name, "openblas", 0)
		if !pok && !ook {
			continue
		}
		fmt.Fprintf(&b, "| %s | %.4g | %s | %s |\n", row.label, flopCount(row.name, r.Meta), r.gflopsCell(row.name, "purego", peak), r.gflopsCell(row.name, "openblas", peak))
	}
	if len(r.Score) > 0 {
		fmt.Fprintf(&b, "\nEnd to end: `score --subset 4096 --top-k 20` on MNIST mlp:128, wall time median (min–max) over %d runs, largest peak resident memory\n\n", r.scoreRuns())
		b.WriteString("| implementation | time | peak memory |\n|---|---|---|\n")
		for _, k := range r.scoreImpls() {
			name := map[string]string{"purego": "sgdprior, pure Go", "openblas": "sgdprior, OpenBLAS"}[k.Impl]
			if k.Impl == "torch" {
				name = fmt.Sprintf("PyTorch script, %d thread(s)", k.Threads)
			}
			st, mem, errs := r.scoreStat(k.Impl, k.Threads)
			if errs != "" {
				fmt.Fprintf(&b, "| %s | failed: %s | |\n", name, errs)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %.2f GiB |\n", name, fmtTimes(st), float64(mem)/(1<<30))
		}
	}
	if len(r.Agreement) > 0 {
		b.WriteString("\nAgreement with the pure-Go results (largest relative difference ‖x − x_pure‖/‖x_pure‖ per workload):")
		worst := map[string]Agreement{}
		var order []string
		for _, a := range r.Agreement {
			w, ok := worst[a.Workload]
			if !ok {
				order = append(order, a.Workload)
			}
			if !ok || a.RelDiff > w.RelDiff || math.IsNaN(a.RelDiff) {
				worst[a.Workload] = a
			}
		}
		for _, w := range order {
			fmt.Fprintf(&b, " %s %.1e (%s);", w, worst[w].RelDiff, worst[w].Impl)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nTargets:\n\n")
	for _, t := range Targets(r) {
		fmt.Fprintf(&b, "- %s\n", t)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	return b.String()
}

// scoreKey names one score implementation.
type scoreKey struct {
	Impl    string
	Threads int
}

func (r *Results) scoreImpls() []scoreKey {
	var out []scoreKey
	for _, s := range r.Score {
		k := scoreKey{s.Impl, s.Threads}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// scoreRuns returns the number of score runs of the first implementation.
func (r *Results) scoreRuns() int {
	ks := r.scoreImpls()
	if len(ks) == 0 {
		return 0
	}
	st, _, _ := r.scoreStat(ks[0].Impl, ks[0].Threads)
	return st.N
}

// scoreStat summarises one implementation's successful score runs: the seconds, the
// largest peak memory, and the errors of failed runs ("" if none failed).
func (r *Results) scoreStat(impl string, threads int) (Stat, int64, string) {
	var xs []float64
	var mem int64
	var errs []string
	for _, s := range r.Score {
		if s.Impl != impl || s.Threads != threads {
			continue
		}
		if s.Err != "" {
			errs = append(errs, s.Err)
			continue
		}
		xs = append(xs, s.Seconds)
		mem = max(mem, s.PeakBytes)
	}
	return summarize(xs), mem, strings.Join(errs, "; ")
}

// roundSeconds returns one implementation's seconds by round.
func (r *Results) roundSeconds(workload, impl string, threads int) map[int]float64 {
	out := map[int]float64{}
	for _, s := range r.Samples {
		if s.Workload == workload && s.Impl == impl && s.Threads == threads {
			out[s.Round] = s.Seconds
		}
	}
	return out
}

// paired returns f(a_k, b_k) for every round k measured in both a and b, in round order.
func paired(a, b map[int]float64, f func(a, b float64) float64) []float64 {
	var ks []int
	for k := range a {
		if _, ok := b[k]; ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	out := make([]float64, len(ks))
	for i, k := range ks {
		out[i] = f(a[k], b[k])
	}
	return out
}

// Rounds a target is judged on: a speed target compares two implementations (or one and the
// peak) measured in the same rounds, and a limit on a run's time is judged on every run.
const (
	minTargetRounds = 5
	minLimitRuns    = 3
)

// judge is a target's verdict from its value in each paired round (or each run), vals:
// "met" when every value meets it, "NOT met" when none does, and "inconclusive" when the
// rounds fall on both sides, when a value is not finite, or with fewer than need values.
// For a speed target (need = minTargetRounds) this is a sign test: if the two sides were
// equally likely in each round, all n rounds would fall on one side with probability
// 2·2⁻ⁿ (6% at n = 5), the level; a real difference is detected only once it exceeds the
// rounds' spread, which the table's min–max shows (the power is not computed). A limit on
// a run's time (need = minLimitRuns) is met when every run is within it. unit names the
// values in the verdict ("rounds", "runs"), kind in the count of too few ("paired rounds").
func judge(vals []float64, need int, unit, kind string, meets func(float64) bool) string {
	n := len(vals)
	if n < need {
		return fmt.Sprintf("inconclusive (%d of the %d %s needed)", n, need, kind)
	}
	k := 0
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("inconclusive (a value of the %s is not finite)", unit)
		}
		if meets(v) {
			k++
		}
	}
	switch k {
	case n:
		return fmt.Sprintf("met (in all %d %s)", n, unit)
	case 0:
		return fmt.Sprintf("NOT met (in none of %d %s)", n, unit)
	}
	return fmt.Sprintf("inconclusive (met in %d of %d %s)", k, n, unit)
}

// judgeRounds is judge for a speed target, on the rounds that measured both sides.
func judgeRounds(vals []float64, meets func(float64) bool) string {
	return judge(vals, minTargetRounds, "rounds", "paired rounds", meets)
}

// judgeRuns is judge for a limit on each run.
func judgeRuns(vals []float64, meets func(float64) bool) string {
	return judge(vals, minLimitRuns, "runs", "runs", meets)
}

// Targets checks the targets of the speed issues (7 and 16) one line each: the value at the
// medians, and a verdict by judge from the values of the rounds that measured both sides
// (a ratio of two implementations' times in the same round, a rate over the peak measured
// in the same round, each score run's time).
func Targets(r *Results) []string {
	var out []string
	atLeast := func(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
	// speedup is PyTorch's pick over a Go build, round by round.
	speedup := func(n, build string, t torchPick) []float64 {
		return paired(r.roundSeconds(n, t.impl, t.threads), r.roundSeconds(n, build, 0), func(a, b float64) float64 { return a / b })
	}
	builds := []string{"purego", "openblas"}
	for _, build := range builds {
		for _, n := range []string{"cov_256", "cov_4096"} {
			g, gok := r.stat(n, build, 0)
			t, tok := r.bestTorch(n, []string{"factor"})
			if !gok || !tok {
				continue
			}
			x := ratio(t.st, true, g, true)
			out = append(out, fmt.Sprintf("%s, %s build: %.2f× PyTorch's factorised product (target ≥ 1.5×): %s", n, build, x, judgeRounds(speedup(n, build, t), atLeast(1.5))))
		}
	}
	perex := []string{"perex_vmap", "perex_outer"}
	for _, c := range []struct {
		build string
		min   float64
	}{{"purego", 3}, {"openblas", 15}} {
		for _, n := range []string{"cov_256", "cov_4096"} {
			g, gok := r.stat(n, c.build, 0)
			t, tok := r.bestTorch(n, perex)
			if !gok || !tok {
				continue
			}
			x := ratio(t.st, true, g, true)
			out = append(out, fmt.Sprintf("%s, %s build: %.1f× faster than PyTorch's per-example path (target ≥ %g×): %s", n, c.build, x, c.min, judgeRounds(speedup(n, c.build, t), atLeast(c.min))))
		}
	}
	peak, peakFrom := r.peak()
	if peak > 0 {
		// The peak of each round (the build peak() takes it from).
		peakBuild := "openblas"
		if _, ok := r.stat("gemm_peak", peakBuild, 0); !ok {
			peakBuild = "purego"
		}
		peaks := r.roundSeconds("gemm_peak", peakBuild, 0)
		ofPeak := func(n, build string) []float64 {
			return paired(r.roundSeconds(n, build, 0), peaks, func(a, b float64) float64 {
				return r.gflops(n, build, a) / r.gflops("gemm_peak", peakBuild, b)
			})
		}
		for _, n := range []string{"cov_4096", "gram_4096", "cov_256", "gram_256"} {
			if g, ok := r.stat(n, "openblas", 0); ok {
				rate := r.gflops(n, "openblas", g.Median)
				f := rate / peak
				out = append(out, fmt.Sprintf("%s, OpenBLAS build: %.1f GFLOP/s = %.0f%% of the measured peak %.1f GFLOP/s (%s) (target ≥ 60%%): %s", n, rate, 100*f, peak, peakFrom, judgeRounds(ofPeak(n, "openblas"), atLeast(0.6))))
			}
		}
		for _, build := range builds {
			if g, ok := r.stat("chains_mlp32", build, 0); ok {
				rate := r.gflops("chains_mlp32", build, g.Median)
				f := rate / peak
				out = append(out, fmt.Sprintf("chains_mlp32, %s build: %.1f GFLOP/s = %.0f%% of the measured peak (target ≥ 50%%): %s", build, rate, 100*f, judgeRounds(ofPeak("chains_mlp32", build), atLeast(0.5))))
			}
		}
	}
	// Issue 15: LeNet-5's covariance product and HVP at least as fast as PyTorch's best.
	for _, build := range builds {
		for _, n := range []string{"lenet_cov_256", "lenet_cov_4096", "lenet_hvp_256", "lenet_hvp_4096"} {
			g, gok := r.stat(n, build, 0)
			t, tok := r.bestTorch(n, []string{"perex_vmap", "perex_unfold", "jvp_vjp", "double_backward", "fwd_over_rev"})
			if !gok || !tok {
				continue
			}
			x := ratio(t.st, true, g, true)
			out = append(out, fmt.Sprintf("%s, %s build: %.2f× PyTorch's best (%s) (target ≥ 1×): %s", n, build, x, t.impl, judgeRounds(speedup(n, build, t), atLeast(1))))
		}
	}
	var torchBest float64
	var torchRuns map[int]float64
	for _, k := range r.scoreImpls() {
		if k.Impl != "torch" {
			continue
		}
		if st, _, _ := r.scoreStat(k.Impl, k.Threads); st.N > 0 && (torchBest == 0 || st.Median < torchBest) {
			torchBest = st.Median
			torchRuns = r.scoreRounds(k.Impl, k.Threads)
		}
	}
	for _, build := range builds {
		limit := map[string]float64{"purego": 30, "openblas": 8}[build]
		st, mem, errs := r.scoreStat(build, 0)
		if st.N == 0 && errs == "" {
			continue
		}
		if errs != "" {
			out = append(out, fmt.Sprintf("score, %s build: failed (%s): NOT met", build, errs))
			continue
		}
		runs := r.scoreRounds(build, 0)
		var secs, peaks []float64
		for _, s := range r.Score {
			if s.Impl == build && s.Threads == 0 && s.Err == "" {
				secs, peaks = append(secs, s.Seconds), append(peaks, float64(s.PeakBytes))
			}
		}
		line := fmt.Sprintf("score, %s build: %s median (target < %g s): %s; peak memory %.2f GiB (target < 2 GiB): %s", build, fmtTime(st.Median), limit,
			judgeRuns(secs, func(v float64) bool { return v < limit }), float64(mem)/(1<<30), judgeRuns(peaks, func(v float64) bool { return v < 2<<30 }))
		if torchBest > 0 {
			line += fmt.Sprintf("; %.2f× the PyTorch script's speed (target > 1×): %s", torchBest/st.Median,
				judgeRuns(paired(torchRuns, runs, func(a, b float64) float64 { return a / b }), func(v float64) bool { return v > 1 }))
		}
		out = append(out, line)
	}
	for _, build := range builds {
		for _, n := range []string{"chains_logistic", "chains_mlp32", "chains_lenet"} {
			g, gok := r.stat(n, build, 0)
			t, tok := r.bestTorch(n, []string{"manual", "autograd", "vmap", "grouped"})
			if !gok || !tok {
				continue
			}
			x := ratio(t.st, true, g, true)
			out = append(out, fmt.Sprintf("%s, %s build: %.2f× PyTorch's chain-steps per second (target ≥ 2×): %s", n, build, x, judgeRounds(speedup(n, build, t), atLeast(2))))
		}
	}
	return out
}

// scoreRounds returns one implementation's successful score runs' seconds by round.
func (r *Results) scoreRounds(impl string, threads int) map[int]float64 {
	out := map[int]float64{}
	for _, s := range r.Score {
		if s.Impl == impl && s.Threads == threads && s.Err == "" {
			out[s.Round] = s.Seconds
		}
	}
	return out
}
