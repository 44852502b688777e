package basins

import (
	"context"
	"testing"

	"github.com/sgdprior/sgdprior/internal/testproblem"
)

// BenchmarkBasinsDigits runs the sweep: digits mlp:32 (d = 2410, λ = 1e-3), η ∈
// {0.05, 0.2} × B ∈ {16, 64} × 5 seeds plus the GD arm at both η (30 runs), with the
// command's defaults: 10 epochs of SGD (281–1124 steps), 500 GD steps, top-1 Lanczos at
// every last iterate, each run descended to ‖∇L‖ ≤ 1e-8, top-5 Lanczos and Hutchinson with
// 30 probes at the minimum, 11-point barriers for the 75 same-seed pairs, 2000 bootstrap
// resamples. The descents (L-BFGS + Newton–CG) take most of the time. Measured 28.6–32.8 s
// on the 2-core machine at load ≈ 1–2 (a variant ran 84 s when 5 agents loaded it to 5.5).
func BenchmarkBasinsDigits(b *testing.B) {
	p := testproblem.Load(b, "digits", "mlp:32", 1e-3)
	s := DefaultSettings()
	for b.Loop() {
		o, err := Run(context.Background(), p, &s)
		if err != nil {
			b.Fatal(err)
		}
		rc := o.Summary.SharpnessTestErrorRankCorr
		b.ReportMetric(float64(rc.Rho), "rho")
		b.ReportMetric(float64(o.Summary.ByRatio[0].LambdaMaxMean), "λmax")
	}
}
