package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/report"
	"github.com/sgdprior/sgdprior/study"
	"github.com/sgdprior/sgdprior/track"
)

func init() {
	register(&command{
		name:    "track",
		summary: "train by SGD and record curvature, noise, the note's prior score and Yaida's fluctuation–dissipation ratio along the trajectory",
		run:     runTrack,
	})
}

const trackSynopsis = "<problem flags> --lr η --batch B --steps T [--every k] [--log-rows n] [--init θ0.npy] [--cov-examples M] [--hc-examples m] [--trace-probes P] [--damping λ | --inverse range] [--json out.json] [--csv out.csv] [--out θ.npy] [--figures DIR] [--checkpoint F] [--resume F]"

// trackArgs are the parsed flags of the track command: its step and the files the
// command writes besides the step's JSON.
type trackArgs struct {
	step              *study.Step
	csv, out, figures string
}

// parseTrack binds track's flags into a track step (problem.Spec, track.Settings, θ0's
// file) and validates them; it loads no data.
func parseTrack(e *env, args []string) (*study.Step, error) {
	a, err := parseTrackArgs(e, args)
	if err != nil {
		return nil, err
	}
	return a.step, nil
}

func parseTrackArgs(e *env, args []string) (*trackArgs, error) {
	fs := newFlagSet(e, "track", trackSynopsis)
	spec, set := problem.DefaultSpec(), track.DefaultSettings()
	st := &study.Step{Command: study.KindTrack, Spec: &spec, Track: &set}
	a := &trackArgs{step: st}
	spec.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&st.Init, "init", "", "start from this parameter vector (.npy); default: PyTorch's Linear initialisation from --seed")
	fs.StringVar(&st.JSON, "json", "", "write the rows and settings as JSON here")
	fs.StringVar(&a.csv, "csv", "", "write the rows as CSV here")
	fs.StringVar(&a.out, "out", "", "write the last iterate here (1-D float64 .npy)")
	fs.StringVar(&a.figures, "figures", "", "write a figure per metric against step (SVG and PNG) into this directory")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := set.Validate(); err != nil {
		return nil, flagError(err)
	}
	if err := spec.Validate(); err != nil {
		return nil, flagError(err)
	}
	st.Seed, st.LR, st.Batch = set.Seed, set.LR, set.Batch
	return a, nil
}

func runTrack(ctx context.Context, e *env, args []string) error {
	a, err := parseTrackArgs(e, args)
	if err != nil {
		return err
	}
	res, err := execStep(ctx, e, a.step, study.Env{})
	if err != nil {
		return err
	}
	o := res.Track
	printTrack(e.stdout, o)
	// The run time is printed, never written: outputs are byte-identical across runs.
	fmt.Fprintf(e.stdout, "time %.3g s, of which the diagnostics %.3g s (%.0f%%)\n", o.Seconds, o.DiagnosticsSeconds, 100*o.DiagnosticsShare)
	if a.step.JSON != "" {
		fmt.Fprintf(e.stdout, "wrote %s\n", a.step.JSON)
	}
	for _, w := range []struct {
		path  string
		write func(string) error
	}{{a.csv, o.WriteCSV}, {a.out, func(path string) error { return data.WriteVector(path, o.Final) }}} {
		if w.path == "" {
			continue
		}
		if err := w.write(w.path); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", w.path)
	}
	if a.figures != "" {
		n, err := writeTrackFigures(a.figures, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %d figures into %s\n", n, a.figures)
	}
	return nil
}

// trackFigures draws each row metric against the step: ±2 SE bars where the row has an SE,
// 2/η beside λ_max and 1 beside Yaida's ratio; a log y axis for positive metrics spanning
// more than two decades. Null points are left out; a metric without points has no figure.
func trackFigures(o *track.Output) ([]*report.Figure, error) {
	type metric struct {
		key, label string
		val, se    func(r *track.Row) jsonnum.Float
		ref        float64
		refName    string
	}
	ms := []metric{
		{key: "train_loss", label: "training NLL", val: func(r *track.Row) jsonnum.Float { return r.TrainLoss }},
		{key: "test_loss", label: "test NLL", val: func(r *track.Row) jsonnum.Float { return r.TestLoss }},
		{key: "train_acc", label: "training accuracy", val: func(r *track.Row) jsonnum.Float { return r.TrainAcc }},
		{key: "test_acc", label: "test accuracy", val: func(r *track.Row) jsonnum.Float { return r.TestAcc }},
		{key: "grad_norm", label: "‖∇L‖", val: func(r *track.Row) jsonnum.Float { return r.GradNorm }},
		{key: "trace_c", label: "tr C", val: func(r *track.Row) jsonnum.Float { return r.TraceC }, se: func(r *track.Row) jsonnum.Float { return r.TraceCStderr }},
		{key: "noise_scale", label: "noise scale tr C/‖ḡ‖²", val: func(r *track.Row) jsonnum.Float { return r.NoiseScale }},
		{key: "lambda_max", label: "λ_max(H)", val: func(r *track.Row) jsonnum.Float { return r.LambdaMax }, ref: float64(o.TwoOverLR), refName: "2/η"},
		{key: "trace_h", label: "tr H", val: func(r *track.Row) jsonnum.Float { return r.TraceH }, se: func(r *track.Row) jsonnum.Float { return r.TraceHStderr }},
		{key: "trace_hc", label: "Tr(H C_B)", val: func(r *track.Row) jsonnum.Float { return r.TraceHC }, se: func(r *track.Row) jsonnum.Float { return r.TraceHCStderr }},
		{key: "alignment", label: "alignment d·Tr(HC)/(tr H·tr C)", val: func(r *track.Row) jsonnum.Float { return r.Alignment }, ref: 1, refName: "isotropic"},
		{key: "prior_norm", label: "‖s_prior‖", val: func(r *track.Row) jsonnum.Float { return r.PriorNorm }},
		{key: "prior_cos", label: "cos(s_prior, −∇L)", val: func(r *track.Row) jsonnum.Float { return r.PriorCos }},
		{key: "implicit_ratio", label: "‖implicit‖/‖s_lik‖", val: func(r *track.Row) jsonnum.Float { return r.ImplicitRatio }},
		{key: "fdr_ratio", label: "Yaida's ratio R", val: func(r *track.Row) jsonnum.Float { return r.FDRRatio }, ref: 1, refName: "stationarity"},
		{key: "distance", label: "‖θ − θ0‖", val: func(r *track.Row) jsonnum.Float { return r.Distance }},
	}
	var figs []*report.Figure
	for _, m := range ms {
		var s report.Series
		s.Name = m.key
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range o.Rows {
			r := &o.Rows[i]
			v := m.val(r)
			if !v.OK() {
				continue
			}
			s.X = append(s.X, float64(r.Step))
			s.Y = append(s.Y, float64(v))
			lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
			if m.se != nil {
				e := m.se(r)
				if !e.OK() {
					e = 0
				}
				s.Err = append(s.Err, float64(e))
			}
		}
		if len(s.X) == 0 {
			continue
		}
		series := []report.Series{s}
		if m.refName != "" {
			series = append(series, report.Series{Name: m.refName, X: []float64{s.X[0], s.X[len(s.X)-1]}, Y: []float64{m.ref, m.ref}})
		}
		logY := lo > 0 && hi > 100*lo
		caption := fmt.Sprintf("%s along SGD (η = %g, B = %d) on %s %s", m.label, float64(o.LR), o.Batch, o.Model, o.Data)
		f, err := report.LinePlot("track-"+m.key, m.label, "step", m.label, caption, series, false, logY)
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", m.key, err)
		}
		figs = append(figs, f)
	}
	return figs, nil
}

// writeTrackFigures writes trackFigures into dir as SVG and PNG files.
func writeTrackFigures(dir string, o *track.Output) (int, error) {
	figs, err := trackFigures(o)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	for _, f := range figs {
		if err := os.WriteFile(filepath.Join(dir, f.Name+".svg"), f.SVG, 0o644); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name+".png"), f.PNG, 0o644); err != nil {
			return 0, err
		}
	}
	return len(figs), nil
}

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
