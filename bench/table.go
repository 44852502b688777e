package main

import (
	"fmt"
	"math"
	"strings"
)

// Results is everything one run of the harness measured (results.json).
type Results struct {
	Date         string               `json:"date"`
	Machine      string               `json:"machine"`
	MNIST        string               `json:"mnist"`
	TorchVersion string               `json:"torch_version,omitempty"`
	Go           map[string]*GoReport `json:"go"` // by build: "purego", "openblas"
	Torch        []TorchReport        `json:"torch"`
	Score        []ScoreRun           `json:"score,omitempty"`
	Agreement    []Agreement          `json:"agreement"`
	Notes        []string             `json:"notes,omitempty"`
}

// GoReport is gobench's -out file.
type GoReport struct {
	Build      string     `json:"build"`
	BLAS       string     `json:"blas"`
	GOMAXPROCS int        `json:"gomaxprocs"`
	Results    []GoResult `json:"results"`
}

// GoResult is one workload of gobench.
type GoResult struct {
	Name        string  `json:"name"`
	Seconds     float64 `json:"seconds"`
	Median      float64 `json:"median"`
	Reps        int     `json:"reps"`
	Rate        float64 `json:"rate,omitempty"`
	Unit        string  `json:"unit,omitempty"`
	AllocsPerOp float64 `json:"allocs_per_op"`
}

// TorchReport is torch_bench.py's --out file.
type TorchReport struct {
	Build   string        `json:"build"`
	Threads int           `json:"threads"`
	Results []TorchResult `json:"results"`
}

// TorchResult is one implementation of one workload in torch_bench.py.
type TorchResult struct {
	Name    string  `json:"name"`
	Impl    string  `json:"impl"`
	Seconds float64 `json:"seconds"`
	Median  float64 `json:"median"`
	Reps    int     `json:"reps"`
	Rate    float64 `json:"rate,omitempty"`
	Unit    string  `json:"unit,omitempty"`
	Threads int     `json:"threads"`
}

// ScoreRun is one end-to-end score computation.
type ScoreRun struct {
	Impl      string  `json:"impl"` // "purego", "openblas" or "torch"
	Threads   int     `json:"threads,omitempty"`
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
}

func (r *Results) goResult(build, name string) *GoResult {
	rep := r.Go[build]
	if rep == nil {
		return nil
	}
	for i := range rep.Results {
		if rep.Results[i].Name == name {
			return &rep.Results[i]
		}
	}
	return nil
}

// bestTorch returns PyTorch's fastest result for name among impls over every thread
// setting (nil if none).
func (r *Results) bestTorch(name string, impls []string) *TorchResult {
	var best *TorchResult
	for i := range r.Torch {
		for j := range r.Torch[i].Results {
			t := &r.Torch[i].Results[j]
			if t.Name != name || !contains(impls, t.Impl) {
				continue
			}
			if best == nil || t.Seconds < best.Seconds {
				best = t
			}
		}
	}
	return best
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
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

func fmtRate(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.3gM/s", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.3gk/s", x/1e3)
	}
	return fmt.Sprintf("%.3g/s", x)
}

func goCell(g *GoResult) string {
	if g == nil {
		return "—"
	}
	if isChains(g.Name) {
		return fmtRate(g.Rate)
	}
	return fmtTime(g.Seconds)
}

func torchCell(t *TorchResult) string {
	if t == nil {
		return "—"
	}
	label := fmt.Sprintf("%s, %dt", strings.TrimPrefix(t.Impl, "perex_"), t.Threads)
	if isChains(t.Name) {
		return fmt.Sprintf("%s (%s)", fmtRate(t.Rate), label)
	}
	return fmt.Sprintf("%s (%s)", fmtTime(t.Seconds), label)
}

// speedup is PyTorch's time over sgdprior's (> 1: sgdprior is faster).
func speedup(t *TorchResult, g *GoResult) float64 {
	if t == nil || g == nil || g.Seconds <= 0 {
		return math.NaN()
	}
	if isChains(g.Name) {
		return g.Rate / t.Rate
	}
	return t.Seconds / g.Seconds
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

// Table renders the results as Markdown: the workloads, the score runs, the agreement of
// the results and the targets.
func Table(r *Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s. Run %s. MNIST: %s.", r.Machine, r.Date, r.MNIST)
	if r.TorchVersion != "" {
		fmt.Fprintf(&b, " PyTorch %s (float64; best of its thread settings, \"Nt\" = N threads).", r.TorchVersion)
	}
	b.WriteString(" Times are the best of the repetitions; chains are chain-steps per second.\n\n")
	for _, name := range []string{"purego", "openblas"} {
		if g := r.Go[name]; g != nil {
			fmt.Fprintf(&b, "- %s: BLAS %s, GOMAXPROCS %d\n", g.Build, g.BLAS, g.GOMAXPROCS)
		}
	}
	b.WriteString("\n| workload | pure Go | OpenBLAS | PyTorch A | PyTorch B | A ÷ pure Go | A ÷ OpenBLAS | B ÷ pure Go | B ÷ OpenBLAS |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	gp, gb := r.goResult("purego", "gemm_peak"), r.goResult("openblas", "gemm_peak")
	tp := r.bestTorch("gemm_peak", []string{"mm"})
	rate := func(x float64) string {
		if x == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f GFLOP/s", x)
	}
	var gpr, gbr, tpr float64
	if gp != nil {
		gpr = gp.Rate
	}
	if gb != nil {
		gbr = gb.Rate
	}
	tcell := "—"
	if tp != nil {
		tpr = tp.Rate
		tcell = fmt.Sprintf("%s (mm, %dt)", rate(tpr), tp.Threads)
	}
	fmt.Fprintf(&b, "| dgemm 2048³ (the peak) | %s | %s | %s | | | | | |\n", rate(gpr), rate(gbr), tcell)
	for _, row := range rows {
		p, o := r.goResult("purego", row.name), r.goResult("openblas", row.name)
		if p == nil && o == nil {
			continue
		}
		ta, tb := r.bestTorch(row.name, row.a), r.bestTorch(row.name, row.b)
		fmt.Fprintf(&b, "| %s | %s | %s | %s: %s | %s: %s | %s | %s | %s | %s |\n", row.label, goCell(p), goCell(o),
			row.aDesc, torchCell(ta), row.bDesc, torchCell(tb),
			fmtRatio(speedup(ta, p)), fmtRatio(speedup(ta, o)), fmtRatio(speedup(tb, p)), fmtRatio(speedup(tb, o)))
	}
	if len(r.Score) > 0 {
		b.WriteString("\nEnd to end: `score --subset 4096 --top-k 20` on MNIST mlp:128 (wall time, peak resident memory)\n\n")
		b.WriteString("| implementation | time | peak memory |\n|---|---|---|\n")
		for _, s := range r.Score {
			name := map[string]string{"purego": "sgdprior, pure Go", "openblas": "sgdprior, OpenBLAS"}[s.Impl]
			if s.Impl == "torch" {
				name = fmt.Sprintf("PyTorch script, %d thread(s)", s.Threads)
			}
			if s.Err != "" {
				fmt.Fprintf(&b, "| %s | failed: %s | |\n", name, s.Err)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %.2f GiB |\n", name, fmtTime(s.Seconds), float64(s.PeakBytes)/(1<<30))
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

// Targets checks the targets of the speed issue against the results, one line each.
func Targets(r *Results) []string {
	var out []string
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	perex := []string{"perex_vmap", "perex_outer"}
	for _, c := range []struct {
		build string
		min   float64
	}{{"purego", 3}, {"openblas", 15}} {
		for _, n := range []string{"cov_256", "cov_4096"} {
			g, t := r.goResult(c.build, n), r.bestTorch(n, perex)
			if g == nil || t == nil {
				continue
			}
			x := speedup(t, g)
			out = append(out, fmt.Sprintf("%s, %s build: %.1f× faster than PyTorch's per-example path (target ≥ %g×): %s", n, c.build, x, c.min, verdict(x >= c.min)))
		}
	}
	// The peak: the fastest dgemm of the run (the openblas build's concurrent single-threaded
	// calls, or PyTorch's torch.mm, which runs on the same OpenBLAS).
	peak, peakFrom := 0.0, ""
	if g := r.goResult("openblas", "gemm_peak"); g != nil {
		peak, peakFrom = g.Rate, "openblas build"
	}
	if t := r.bestTorch("gemm_peak", []string{"mm"}); t != nil && t.Rate > peak {
		peak, peakFrom = t.Rate, fmt.Sprintf("torch.mm, %d threads", t.Threads)
	}
	if peak > 0 {
		for _, n := range []string{"cov_4096", "gram_4096", "cov_256", "gram_256"} {
			if g := r.goResult("openblas", n); g != nil {
				f := g.Rate / peak
				out = append(out, fmt.Sprintf("%s, OpenBLAS build: %.1f GFLOP/s = %.0f%% of the measured dgemm peak %.1f GFLOP/s (%s) (target ≥ 60%%): %s", n, g.Rate, 100*f, peak, peakFrom, verdict(f >= 0.6)))
			}
		}
	}
	var torchScore *ScoreRun
	for i := range r.Score {
		s := &r.Score[i]
		if s.Impl == "torch" && s.Err == "" && (torchScore == nil || s.Seconds < torchScore.Seconds) {
			torchScore = s
		}
	}
	for _, s := range r.Score {
		limit := map[string]float64{"purego": 30, "openblas": 8}[s.Impl]
		if limit == 0 {
			continue
		}
		if s.Err != "" {
			out = append(out, fmt.Sprintf("score, %s build: failed (%s): NOT met", s.Impl, s.Err))
			continue
		}
		line := fmt.Sprintf("score, %s build: %s (target < %g s): %s; peak memory %.2f GiB (target < 2 GiB): %s", s.Impl, fmtTime(s.Seconds), limit,
			verdict(s.Seconds < limit), float64(s.PeakBytes)/(1<<30), verdict(s.PeakBytes < 2<<30))
		if torchScore != nil {
			line += fmt.Sprintf("; %.2f× the PyTorch script's speed (target > 1×): %s", torchScore.Seconds/s.Seconds, verdict(s.Seconds < torchScore.Seconds))
		}
		out = append(out, line)
	}
	for _, build := range []string{"purego", "openblas"} {
		for _, n := range []string{"chains_logistic", "chains_mlp32"} {
			g, t := r.goResult(build, n), r.bestTorch(n, []string{"manual", "autograd"})
			if g == nil || t == nil {
				continue
			}
			x := speedup(t, g)
			out = append(out, fmt.Sprintf("%s, %s build: %.2f× PyTorch's chain-steps per second (target ≥ 2×): %s", n, build, x, verdict(x >= 2)))
		}
	}
	return out
}
