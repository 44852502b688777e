package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/sim"
)

func init() {
	register(&command{
		name:    "landscape",
		summary: "settle the flat-versus-sharp claim exactly in 1-D and 2-D: densities, well masses, escape times, sweeps",
		run:     runLandscape,
	})
}

const landscapeSynopsis = "--preset ou|multiplicative|wells|ou2d|wells2d [--hess h --var v --var0 v0 --var1 v1 --wells … --spread s --n N --hess2 … --noise2 …] [--lr η --batch B --sampling …] [--chains K --steps T] [--simulators sgd,gauss,sde --dt h] [--sweep-lr … --sweep-batch …] [--json out.json]"

// landscapeJSON is the --json output: the landscape result plus provenance.
type landscapeJSON struct {
	*landscape.Result
	Provenance provenance `json:"provenance"`
}

func runLandscape(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "landscape", landscapeSynopsis)
	var ps landscape.PresetSettings
	fs.StringVar(&ps.Name, "preset", "wells", "landscape: "+strings.Join(landscape.PresetNames, ", "))
	fs.IntVar(&ps.N, "n", 0, "number of examples N (default 1000)")
	fs.Float64Var(&ps.H, "hess", 0, "ou, multiplicative: curvature h (default 1)")
	fs.Float64Var(&ps.V, "var", 0, "ou: per-example gradient variance v (default 1)")
	fs.Float64Var(&ps.V0, "var0", 0, "multiplicative: noise floor v0 (default 1); wells: additive noise floor variance")
	fs.Float64Var(&ps.V1, "var1", 0, "multiplicative: v1 in the noise variance v0 + v1·θ² (default 1)")
	fs.StringVar(&ps.Wells, "wells", "", "wells: \"center:depth:width,…\" (default two wells of equal depth in L, one four times wider)")
	fs.Float64Var(&ps.Spread, "spread", 0, "wells: spread of the example shifts (default 0.15)")
	fs.Float64Var(&ps.Confine, "confine", 0, "wells: weak quadratic confinement")
	fs.StringVar(&ps.Hess2, "hess2", "", "ou2d: H as \"h11,h12,h22\"")
	fs.StringVar(&ps.Cov2, "noise2", "", "ou2d: per-example noise covariance C as \"c11,c12,c22\"")
	lr := fs.Float64("lr", 0, "learning rate η (default: the preset's)")
	batch := fs.Int("batch", 0, "batch size B (default: the preset's)")
	sampling := fs.String("sampling", "without", "mini-batch sampling: with, without or reshuffle")
	chains := fs.Int("chains", 8, "simulated chains")
	steps := fs.Int("steps", 200000, "simulated time per chain, in SGD steps")
	simulators := fs.String("simulators", "sgd", "comma-separated: sgd, gauss (Gaussian-noise SGD), sde (Euler–Maruyama); gauss and sde cost O(N) per step")
	dt := fs.Float64("dt", 0.1, "SDE step in units of SGD steps")
	noSim := fs.Bool("exact-only", false, "compute only the exact answers, no simulation")
	sweepLR := fs.String("sweep-lr", "", "comma-separated learning rates for the sweep of well shares")
	sweepBatch := fs.String("sweep-batch", "", "comma-separated batch sizes for the sweep")
	sweepSteps := fs.Int("sweep-steps", 0, "SGD time per chain at each sweep point (default --steps)")
	seed := fs.Uint64("seed", 1, "random seed")
	jsonPath := fs.String("json", "", "write the results as JSON here")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	samp, err := sim.ParseSampling(*sampling)
	if err != nil {
		return usagef("--sampling: %s", strings.TrimPrefix(err.Error(), "sim: "))
	}
	var methods []sim.Method
	for _, s := range splitList(*simulators) {
		m, err := sim.ParseMethod(s)
		if err != nil || (m != sim.SGD && m != sim.Gauss && m != sim.SDE) {
			return usagef("--simulators: %q is not one of sgd, gauss, sde", s)
		}
		methods = append(methods, m)
	}
	switch {
	case *lr < 0 || math.IsNaN(*lr) || math.IsInf(*lr, 0):
		return usagef("--lr must be > 0, not %v", *lr)
	case *batch < 0:
		return usagef("--batch must be ≥ 1, not %d", *batch)
	case *chains < 2:
		return usagef("--chains must be ≥ 2 (error bars come from the spread between chains), not %d", *chains)
	case *steps < 100:
		return usagef("--steps must be ≥ 100, not %d", *steps)
	case !(*dt > 0 && *dt <= 1):
		return usagef("--dt must be in (0, 1], not %v", *dt)
	}
	sl, err := parseFloats("--sweep-lr", *sweepLR)
	if err != nil {
		return err
	}
	sb, err := parseInts("--sweep-batch", *sweepBatch)
	if err != nil {
		return err
	}
	for flag, v := range map[string]string{"--hess2": ps.Hess2, "--noise2": ps.Cov2} {
		if v == "" {
			continue
		}
		if _, err := landscape.ParseSym2(v); err != nil {
			return usagef("%s: %s", flag, strings.TrimPrefix(err.Error(), "landscape: "))
		}
	}
	if ps.Wells != "" {
		if _, err := landscape.ParseWells(ps.Wells); err != nil {
			return usagef("--wells: %s", strings.TrimPrefix(err.Error(), "landscape: "))
		}
	}
	p, err := landscape.NewPreset(ps)
	if err != nil {
		return usagef("%s", strings.TrimPrefix(err.Error(), "landscape: "))
	}
	prog := newProgress(e.stdout)
	prog.update(fmt.Sprintf("landscape %s: exact answers and simulation", p.Name()), -1)
	res, err := landscape.Study(ctx, p, landscape.StudySettings{
		LR: *lr, Batch: *batch, Sampling: samp, NoSim: *noSim, Methods: methods,
		Chains: *chains, Time: *steps, Seed: *seed, DT: *dt,
		SweepLR: sl, SweepBatch: sb, SweepTime: *sweepSteps,
	})
	prog.done()
	if err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "landscape: "))
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	printLandscape(e, res)
	if *jsonPath != "" {
		if err := writeJSON(*jsonPath, landscapeJSON{Result: res, Provenance: newProvenance(e, *seed, nil)}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", *jsonPath)
	}
	return nil
}

func printLandscape(e *env, r *landscape.Result) {
	w := e.stdout
	fmt.Fprintf(w, "landscape %s: η = %g, B = %d, sampling %s (κ_B = %.4g)\n", r.Preset, float64(r.LR), r.Batch, r.Sampling, float64(r.Kappa))
	if v := r.Variance; v != nil {
		fmt.Fprintf(w, "stationary variance: SDE (exact) %s, note's density %s, discrete SGD %s, simulated SGD %s ± %s\n",
			fmtFirst(v.Exact), fmtFirst(v.Seed), fmtFirst(v.Discrete), fmtFirst(v.SGD), fmtFirst(v.SGDStderr))
	}
	if len(r.Wells) > 1 {
		fmt.Fprintf(w, "%-12s %10s %10s %16s %12s %12s %18s\n", "well", "mass SDE", "mass note", "mass SGD", "escape SDE", "Kramers", "escape SGD")
		for _, wl := range r.Wells {
			fmt.Fprintf(w, "%-12s %10s %10s %16s %12s %12s %18s\n", fmtVec(wl.Center), fmtF(wl.MassExact), fmtF(wl.MassSeed),
				fmtF(wl.MassSGD)+" ± "+fmtF(wl.MassSGDStderr), fmtF(wl.EscapeExact), fmtF(wl.EscapeKramers), fmtF(wl.EscapeSGD)+" ± "+fmtF(wl.EscapeSGDStderr))
		}
	}
	if !math.IsNaN(float64(r.Current)) {
		fmt.Fprintf(w, "stationary probability current: max|J| / max|μp| = %.3g\n", float64(r.Current))
	}
	for _, s := range r.Sweep {
		fmt.Fprintf(w, "sweep η = %g, B = %d: shares exact %s, note %s, SGD %s\n", float64(s.LR), s.Batch, fmtVec(s.Shares.Exact), fmtVec(s.Shares.Seed), fmtVec(s.Shares.SGD))
	}
	for _, x := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}

func fmtF(x landscape.Float) string {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return "—"
	}
	return strconv.FormatFloat(float64(x), 'g', 4, 64)
}

func fmtFirst(v []landscape.Float) string {
	if len(v) == 0 {
		return "—"
	}
	return fmtF(v[0])
}

func fmtVec(v []landscape.Float) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmtF(x)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func parseFloats(flag, s string) ([]float64, error) {
	var out []float64
	for _, f := range splitList(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, usagef("%s: %q is not a positive number", flag, f)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseInts(flag, s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, usagef("%s: %q is not a positive integer", flag, f)
		}
		out = append(out, v)
	}
	return out, nil
}
