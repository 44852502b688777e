package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/track"
)

func init() {
	register(&command{
		name:    "track",
		summary: "train by SGD and record curvature, noise, the note's prior score and Yaida's fluctuation–dissipation ratio along the trajectory",
		run:     runTrack,
	})
}

const trackSynopsis = "<problem flags> --lr η --batch B --steps T [--every k] [--log-rows n] [--init θ0.npy] [--cov-examples M] [--hc-examples m] [--trace-probes P] [--damping λ | --inverse range] [--json out.json] [--csv out.csv] [--out θ.npy]"

// trackArgs are the parsed flags of the track command.
type trackArgs struct {
	spec                 problem.Spec
	set                  track.Settings
	init, json, csv, out string
}

// parseTrack binds and validates track's flags; it loads no data.
func parseTrack(e *env, args []string) (*trackArgs, error) {
	fs := newFlagSet(e, "track", trackSynopsis)
	a := &trackArgs{spec: problem.DefaultSpec(), set: track.DefaultSettings()}
	a.spec.BindFlags(fs)
	a.set.BindFlags(fs)
	fs.StringVar(&a.init, "init", "", "start from this parameter vector (.npy); default: PyTorch's Linear initialisation from --seed")
	fs.StringVar(&a.json, "json", "", "write the rows and settings as JSON here")
	fs.StringVar(&a.csv, "csv", "", "write the rows as CSV here")
	fs.StringVar(&a.out, "out", "", "write the last iterate here (1-D float64 .npy)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := a.set.Validate(); err != nil {
		return nil, flagError(err)
	}
	if err := a.spec.Validate(); err != nil {
		return nil, flagError(err)
	}
	return a, nil
}

func runTrack(ctx context.Context, e *env, args []string) error {
	a, err := parseTrack(e, args)
	if err != nil {
		return err
	}
	p, err := problem.Load(a.spec)
	if err != nil {
		return flagError(err)
	}
	var theta0 []float64
	if a.init != "" {
		if theta0, err = p.ReadParams("init", a.init); err != nil {
			return flagError(err)
		}
	}
	prog := newProgress(e.stdout)
	a.set.Progress = progressFunc(prog.update)
	o, err := track.Run(ctx, p, theta0, &a.set)
	prog.done()
	if err != nil {
		return commandError(err)
	}
	o.Provenance = problem.NewProvenance(version, e.cmdline, a.set.Seed, p)
	printTrack(e.stdout, o)
	for _, w := range []struct {
		path  string
		write func(string) error
	}{{a.json, o.Write}, {a.csv, o.WriteCSV}, {a.out, func(path string) error { return data.WriteVector(path, o.Final) }}} {
		if w.path == "" {
			continue
		}
		if err := w.write(w.path); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", w.path)
	}
	return nil
}

// progressFunc adapts a function to the progress recorder.
type progressFunc func(string, float64)

func (f progressFunc) Record(stage string, frac float64) { f(stage, frac) }

func printTrack(w io.Writer, o *track.Output) {
	fmt.Fprintf(w, "%s on %s (n = %d, d = %d): SGD η = %g, B = %d, sampling %s (κ_B = %.4g), weight decay %g, %d steps\n",
		o.Model, o.Data, o.N, o.D, float64(o.LR), o.Batch, o.Sampling, float64(o.Kappa), o.WeightDecay, o.Steps)
	fmt.Fprintf(w, "tr H: %s\nTr(HC_B): %s\nprior score: %s\n", o.Methods["trace_h"], o.Methods["trace_hc"], o.Methods["prior"])
	cols := []string{"step", "train_loss", "test_loss", "train_acc", "test_acc", "grad_norm", "trace_c", "noise_scale",
		"lambda_max", "trace_h", "±", "trace_hc", "align", "prior_norm", "prior_cos", "impl/lik", "fdr_ratio", "distance"}
	fmt.Fprintf(w, "λ_max is to be compared with 2/η = %.4g\n", float64(o.TwoOverLR))
	fmt.Fprintln(w, strings.Join(pad(cols), " "))
	for _, r := range o.Rows {
		cells := []string{fmt.Sprint(r.Step)}
		for _, v := range []float64{float64(r.TrainLoss), float64(r.TestLoss), float64(r.TrainAcc), float64(r.TestAcc),
			float64(r.GradNorm), float64(r.TraceC), float64(r.NoiseScale), float64(r.LambdaMax), float64(r.TraceH),
			float64(r.TraceHStderr), float64(r.TraceHC), float64(r.Alignment), float64(r.PriorNorm), float64(r.PriorCos),
			float64(r.ImplicitRatio), float64(r.FDRRatio), float64(r.Distance)} {
			cells = append(cells, fmtCell(v))
		}
		fmt.Fprintln(w, strings.Join(pad(cells), " "))
	}
	fmt.Fprintf(w, "fdr_ratio: Yaida's ratio over the steps since the previous row: 1 at stationarity is a necessary condition, ≪ 1 during descent\n")
	fmt.Fprintf(w, "time %.3g s, of which the diagnostics %.3g s (%.0f%%)\n", o.Seconds, o.DiagnosticsSeconds, 100*o.DiagnosticsShare)
	for _, x := range o.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}

func fmtCell(v float64) string {
	if v != v {
		return "null"
	}
	return fmt.Sprintf("%.4g", v)
}

func pad(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = fmt.Sprintf("%10s", c)
	}
	return out
}
