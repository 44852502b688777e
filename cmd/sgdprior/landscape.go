package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/study"
)

func init() {
	register(&command{
		name:    "landscape",
		summary: "settle the flat-versus-sharp claim exactly in 1-D and 2-D: densities, well masses, escape times, sweeps",
		run:     runLandscape,
	})
}

const landscapeSynopsis = "--preset ou|multiplicative|wells|ou2d|wells2d [--hess h --var v --var0 v0 --var1 v1 --wells … --spread s --n N --hess2 … --noise2 …] [--lr η --batch B --sampling …] [--chains K --steps T] [--simulators sgd,gauss,sde --dt h] [--sweep-lr … --sweep-batch …] [--json out.json]"

// parseLandscape binds the flags into a landscape step (landscape.PresetSettings and
// landscape.Settings) and validates them.
func parseLandscape(e *env, args []string) (*study.Step, error) {
	fs := newFlagSet(e, "landscape", landscapeSynopsis)
	ps, set := landscape.PresetSettings{Name: "wells"}, landscape.DefaultSettings()
	st := &study.Step{Command: study.KindLandscape, Preset: &ps, Landscape: &set}
	ps.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&st.JSON, "json", "", "write the results as JSON here")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := set.Validate(); err != nil {
		return nil, flagError(err)
	}
	if err := ps.Validate(); err != nil {
		return nil, flagError(err)
	}
	st.Seed, st.LR, st.Batch = set.Seed, set.LR, set.Batch
	return st, nil
}

func runLandscape(ctx context.Context, e *env, args []string) error {
	st, err := parseLandscape(e, args)
	if err != nil {
		return err
	}
	o, err := execStep(ctx, e, st, study.Env{})
	if err != nil {
		return err
	}
	printOutcome(e.stdout, st, o)
	if st.JSON != "" {
		fmt.Fprintf(e.stdout, "wrote %s\n", st.JSON)
	}
	return nil
}

func printLandscape(w io.Writer, r *landscape.Result) {
	fmt.Fprintf(w, "landscape %s: η = %g, B = %d, sampling %s (κ_B = %.4g)\n", r.Preset, float64(r.LR), r.Batch, r.Sampling, float64(r.Kappa))
	if v := r.Variance; v != nil {
		fmt.Fprintf(w, "stationary variance: SDE (exact) %s, note's density %s, discrete SGD %s, simulated SGD %s ± %s\n",
			fmtFirst(v.Exact), fmtFirst(v.Note), fmtFirst(v.Discrete), fmtFirst(v.SGD), fmtFirst(v.SGDStderr))
	}
	if len(r.Wells) > 1 {
		fmt.Fprintf(w, "%-12s %10s %10s %16s %12s %12s %18s\n", "well", "mass SDE", "mass note", "mass SGD", "escape SDE", "Kramers", "escape SGD")
		for _, wl := range r.Wells {
			fmt.Fprintf(w, "%-12s %10s %10s %16s %12s %12s %18s\n", fmtVec(wl.Center), fmtF(wl.MassExact), fmtF(wl.MassNote),
				fmtF(wl.MassSGD)+" ± "+fmtF(wl.MassSGDStderr), fmtF(wl.EscapeExact), fmtF(wl.EscapeKramers), fmtF(wl.EscapeSGD)+" ± "+fmtF(wl.EscapeSGDStderr))
		}
	}
	if !math.IsNaN(float64(r.Current)) {
		fmt.Fprintf(w, "stationary probability current: max|J| / max|μp| = %.3g\n", float64(r.Current))
	}
	for _, s := range r.Sweep {
		fmt.Fprintf(w, "sweep η = %g, B = %d: shares exact %s, note %s, SGD %s\n", float64(s.LR), s.Batch, fmtVec(s.Shares.Exact), fmtVec(s.Shares.Note), fmtVec(s.Shares.SGD))
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
