package basins

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// summarize computes the comparisons across runs (MATH.md §13).
func summarize(o *Output, cells []cell, s *Settings) Summary {
	ns := len(s.Seeds)
	at := func(ci, si int) *RunResult { return &o.Runs[ci*ns+si] }
	get := func(ci int, f func(*RunResult) Float) []float64 {
		v := make([]float64, ns)
		for si := range ns {
			v[si] = float64(f(at(ci, si)))
		}
		return v
	}
	minLam := func(r *RunResult) Float { return r.LambdaMax }
	itLam := func(r *RunResult) Float { return r.IterateLambdaMax }
	lam := func(ci int) []float64 { return get(ci, minLam) }
	ilam := func(ci int) []float64 { return get(ci, itLam) }
	var sum Summary

	// Sharpness against η/B: SGD cells grouped by ratio (equal to a relative 1e-9).
	var groups [][]int
	for ci, c := range cells {
		if c.gd {
			continue
		}
		placed := false
		for g := range groups {
			r0 := cells[groups[g][0]].lr / float64(cells[groups[g][0]].batch)
			if r := c.lr / float64(c.batch); math.Abs(r-r0) <= 1e-9*r0 {
				groups[g] = append(groups[g], ci)
				placed = true
				break
			}
		}
		if !placed {
			groups = append(groups, []int{ci})
		}
	}
	for _, g := range groups {
		perSeed, perSeedIt := make([]float64, ns), make([]float64, ns)
		var labels []string
		for _, ci := range g {
			labels = append(labels, cells[ci].label())
			it := ilam(ci)
			for si, v := range lam(ci) {
				perSeed[si] += v / float64(len(g))
				perSeedIt[si] += it[si] / float64(len(g))
			}
		}
		m, se := meanStderr(perSeed)
		mi, sei := meanStderr(perSeedIt)
		sum.ByRatio = append(sum.ByRatio, Ratio{Ratio: Float(cells[g[0]].lr / float64(cells[g[0]].batch)),
			LambdaMaxMean: Float(m), LambdaMaxStderr: Float(se), IterateLambdaMaxMean: Float(mi), IterateLambdaMaxStderr: Float(sei),
			Seeds: ns, Cells: labels})
		for i := range g {
			for j := i + 1; j < len(g); j++ {
				a, b := cells[g[i]].label(), cells[g[j]].label()
				same := "the same sharpness within the interval (inconclusive: the CI contains 0)"
				sum.EqualRatio = append(sum.EqualRatio,
					compare(a, b, "lambda_max", lam(g[i]), lam(g[j]), same, "sharper", "flatter"),
					compare(a, b, "iterate_lambda_max", ilam(g[i]), ilam(g[j]), same, "sharper", "flatter"))
			}
		}
	}
	sortRatios(sum.ByRatio)

	// SGD against GD at the same η.
	for ci, c := range cells {
		if c.gd {
			continue
		}
		for gi, g := range cells {
			if g.gd && g.lr == c.lr {
				same := "inconclusive: the CI contains 0"
				sum.SGDvsGD = append(sum.SGDvsGD,
					compare(c.label(), g.label(), "lambda_max", lam(ci), lam(gi), same, "SGD sharper than GD", "SGD flatter than GD"),
					compare(c.label(), g.label(), "iterate_lambda_max", ilam(ci), ilam(gi), same, "SGD sharper than GD", "SGD flatter than GD"))
			}
		}
	}

	// Spearman between λ_max and test error (or its stand-in) over all runs, at the minima
	// and at the last iterates (each with its own bootstrap stream).
	target, val, ival := rankTarget(o)
	rankCorr := func(sharp func(*RunResult) Float, v func(*RunResult) float64, stream uint64) RankCorr {
		x, y, cl := make([]float64, len(o.Runs)), make([]float64, len(o.Runs)), make([]int, len(o.Runs))
		for i := range o.Runs {
			x[i], y[i], cl[i] = float64(sharp(&o.Runs[i])), v(&o.Runs[i]), i%ns
		}
		rho, lo, hi, valid := ClusterBootstrapSpearman(x, y, cl, ns, s.Bootstrap, rand.New(rand.NewPCG(s.Seed, stream)))
		return RankCorr{Rho: Float(rho), CILow: Float(lo), CIHigh: Float(hi), Target: target,
			Runs: len(o.Runs), Resamples: s.Bootstrap, ValidResamples: valid, Level: Level}
	}
	sum.SharpnessTestErrorRankCorr = rankCorr(minLam, val, 0xb007)
	sum.IterateSharpnessTestErrorRankCorr = rankCorr(itLam, ival, 0xb008)

	// Barriers per pair of cells, over seeds (o.Barriers is seed-major, same pair order).
	np := len(cells) * (len(cells) - 1) / 2
	for k := range np {
		var v []float64
		mx := math.Inf(-1)
		for si := range ns {
			b := float64(o.Barriers[si*np+k].Barrier)
			v = append(v, b)
			mx = math.Max(mx, b)
		}
		m, se := meanStderr(v)
		b0 := o.Barriers[k]
		sum.BarrierPairs = append(sum.BarrierPairs, BarrierSummary{A: b0.A, B: b0.B, Mean: Float(m), Stderr: Float(se), Max: Float(mx), Seeds: ns})
	}
	return sum
}

// rankTarget chooses what sharpness is ranked against: the test error 1 − accuracy of a
// classifier with a test set, else the test loss, else the training loss (stated in target).
func rankTarget(o *Output) (target string, atMin, atIterate func(*RunResult) float64) {
	cls := len(o.Runs) > 0 && o.Runs[0].TrainAcc.OK()
	switch {
	case o.HasTest && cls:
		return "test_error", func(r *RunResult) float64 { return 1 - float64(r.TestAcc) },
			func(r *RunResult) float64 { return 1 - float64(r.IterateTestAcc) }
	case o.HasTest:
		return "test_loss", func(r *RunResult) float64 { return float64(r.TestLoss) },
			func(r *RunResult) float64 { return float64(r.IterateTestLoss) }
	default:
		return "train_loss (no test set)", func(r *RunResult) float64 { return float64(r.TrainLoss) },
			func(r *RunResult) float64 { return float64(r.IterateTrainLoss) }
	}
}

// compare is the paired comparison of a and b over seeds with a verdict: same when the
// interval contains 0, above when it lies above 0, below when below.
func compare(la, lb, q string, a, b []float64, same, above, below string) Comparison {
	d := PairedT(a, b)
	v := same
	switch {
	case math.IsNaN(d.Low):
		v = "undefined (fewer than two seeds)"
	case d.Low > 0:
		v = above
	case d.High < 0:
		v = below
	}
	if v == above || v == below {
		v = fmt.Sprintf("%s: %s", la, v)
	}
	return Comparison{A: la, B: lb, Quantity: q, Seeds: d.N, MeanDiff: Float(d.Mean), Stderr: Float(d.Stderr),
		CILow: Float(d.Low), CIHigh: Float(d.High), Verdict: v}
}

func sortRatios(r []Ratio) {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Ratio < r[j-1].Ratio; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}

// notes states the estimators and conventions of o.
func notes(o *Output, s *Settings) []string {
	tr := fmt.Sprintf("tr H exact from d = %d Hessian–vector products", o.D)
	if o.TraceMethod == "hutchinson" {
		tr = fmt.Sprintf("tr H by Hutchinson with %d Rademacher probes; trace_h_stderr = s/√m", s.Probes)
	}
	return []string{
		"paired design: every cell of a seed starts from model.InitSeeded(seed); SGD's mini-batches and the probes are PCG streams derived from (seed, cell)",
		fmt.Sprintf("each run descends from its last iterate to the minimum of its basin (full batch, L-BFGS + Newton–CG) until ‖∇L‖ ≤ %g, weight decay %g included", s.GradTol, o.WeightDecay),
		fmt.Sprintf("lambda_max and the top %d eigenvalues by Lanczos with full reorthogonalisation on full-batch HVPs of L (weight decay included)", o.TopK),
		tr,
		"train_loss/test_loss are mean NLLs (no weight decay); objective includes it; barriers use the objective",
		fmt.Sprintf("barrier = max over %d evenly spaced t in [0,1] of L((1−t)θ_a + tθ_b) − max(L(θ_a), L(θ_b)), minima of the same seed only", s.BarrierPoints),
		fmt.Sprintf("intervals at %.0f%%: paired Student-t over seeds for differences; rank correlation: Spearman (ties at mean ranks) with a percentile bootstrap of %d resamples of seeds (a seed's cells kept together)", 100*Level, s.Bootstrap),
		"iterate_lambda_max: λ_max at the last training iterate, before the descent (top-1 Lanczos); comparisons are made for it and for lambda_max at the minimum",
		"by_ratio: SGD cells only; per seed the mean λ_max over the cells of that η/B, then mean ± standard error over seeds",
		"prior_precision_top: the note's implied prior precision 2h_k/(ηc_k) − N(h_k − λ) along each top Hessian eigenvector (seed variant per direction, exact only when C_B and H commute; the full matrix is in `sgdprior score`); null for GD, which has no noise",
	}
}
