package study

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/train"
	"github.com/sgdprior/sgdprior/verify"
)

// Env is what Exec needs besides the step.
type Env struct {
	// Dir is the directory the step's paths are relative to ("" for the working directory).
	Dir string
	// Version is the program version and CommandLine the command line recorded in the
	// output's provenance (default: "sgdprior", the step's kind and its Args).
	Version     string
	CommandLine []string
	// Progress receives the computation's progress (nil: none).
	Progress progress.Recorder
	// ScoreInlineMaxDim is the largest d whose covariances a score output holds inline
	// (0: score.DefaultInlineMaxDim).
	ScoreInlineMaxDim int
}

// Outcome is what Exec computed: the output written to the step's JSON file and what a
// readable summary needs beside it.
type Outcome struct {
	// Problem is the loaded problem (nil for landscapes and bring-your-own gradients).
	Problem *problem.Problem
	// Exactly one of these is set, by the step's kind.
	Train       *train.Output
	Score       *score.Output
	ScoreReport *score.Report
	Verify      *verify.Report
	Landscape   *landscape.Output
}

// Output returns the output value that was written.
func (o *Outcome) Output() any {
	switch {
	case o.Train != nil:
		return o.Train
	case o.Score != nil:
		return o.Score
	case o.Verify != nil:
		return o.Verify
	}
	return o.Landscape
}

// NonFiniteParamsError is a parameter file holding NaN or ±Inf.
type NonFiniteParamsError struct {
	File string
	Err  *score.NonFiniteParamError
}

func (e *NonFiniteParamsError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *NonFiniteParamsError) Unwrap() error { return e.Err }

// Exec runs the step by calling the library directly (problem.Load, train.Run,
// score.Compute or ComputeGrads, verify.Run, landscape.Run) and writes its output to JSON
// (none when JSON is "") and, for a train step, θ* to Theta, both relative to env.Dir.
// Errors are the library's (*field.Error for a bad setting, keyed by its flag name).
func (s *Step) Exec(ctx context.Context, env Env) (*Outcome, error) {
	path := func(rel string) string {
		if rel == "" || filepath.IsAbs(rel) {
			return rel
		}
		return filepath.Join(env.Dir, rel)
	}
	cmdline := env.CommandLine
	if cmdline == nil {
		cmdline = append([]string{"sgdprior", s.Command}, s.Args...)
	}
	write := func(w interface{ Write(string) error }) error {
		if s.JSON == "" {
			return nil
		}
		return w.Write(path(s.JSON))
	}
	o := &Outcome{}
	if s.Spec != nil {
		pr, err := problem.Load(*s.Spec)
		if err != nil {
			return nil, err
		}
		o.Problem = pr
	}
	pr := o.Problem
	readParams := func(key, file string) ([]float64, error) {
		if file == "" {
			return nil, nil
		}
		return pr.ReadParams(key, path(file))
	}
	var err error
	switch s.Command {
	case KindTrain:
		set := *s.Train
		set.Progress = env.Progress
		init, err := readParams("init", s.Init)
		if err != nil {
			return nil, err
		}
		theta, out, err := train.Run(ctx, pr, init, set)
		if err != nil {
			return nil, err
		}
		if err := data.WriteVector(path(s.Theta), theta); err != nil {
			return nil, err
		}
		out.Params, out.Provenance = s.Theta, problem.NewProvenance(env.Version, cmdline, set.Seed, pr)
		o.Train = out
		err = write(out)
		return o, err
	case KindScore:
		set := *s.Score
		set.Progress = env.Progress
		var rep *score.Report
		rows := 0
		if s.Grads != nil {
			if rep, rows, err = s.scoreGrads(&set, path); err != nil {
				return nil, err
			}
		} else {
			theta, err := readParams("params", s.Theta)
			if err != nil {
				return nil, err
			}
			rep, err = score.Compute(pr, theta, &set)
			if nf := (*score.NonFiniteParamError)(nil); errors.As(err, &nf) {
				err = &NonFiniteParamsError{File: s.Theta, Err: nf}
			}
			if err != nil {
				return nil, err
			}
		}
		out := score.NewOutput(rep)
		if env.ScoreInlineMaxDim > 0 {
			out.InlineMaxDim = env.ScoreInlineMaxDim
		}
		out.Provenance = problem.NewProvenance(env.Version, cmdline, set.Seed, pr)
		if s.Grads != nil {
			out.Provenance.WeightDecay = s.GradsWeightDecay
			out.Input = &score.GradsInput{Grads: s.Grads.Grads, Hessian: s.Grads.Hessian, Params: s.Grads.Params, Rows: rows}
		}
		o.Score, o.ScoreReport = out, rep
		err = write(out)
		return o, err
	case KindVerify:
		set := *s.Verify
		set.Progress = env.Progress
		if err := pr.CheckBatch(set.Batch); err != nil {
			return nil, err
		}
		theta, err := readParams("params", s.Theta)
		if err != nil {
			return nil, err
		}
		rep, err := verify.Run(ctx, pr, theta, &set)
		if err != nil {
			return nil, err
		}
		rep.Provenance = problem.NewProvenance(env.Version, cmdline, set.Seed, pr)
		o.Verify = rep
		err = write(rep)
		return o, err
	case KindLandscape:
		p, err := landscape.NewPreset(*s.Preset)
		if err != nil {
			return nil, err
		}
		progress.Record(env.Progress, fmt.Sprintf("landscape %s: exact answers and simulation", p.Name()), -1)
		res, err := landscape.Run(ctx, p, *s.Landscape)
		if err != nil {
			return nil, err
		}
		out := &landscape.Output{Result: *res, Provenance: problem.NewProvenance(env.Version, cmdline, s.Landscape.Seed, nil)}
		o.Landscape = out
		err = write(out)
		return o, err
	}
	panic(fmt.Sprintf("study: step %s of unknown kind %q", s.ID, s.Command))
}

// scoreGrads runs score on bring-your-own gradients; rows is the number M of gradients.
func (s *Step) scoreGrads(set *score.Settings, path func(string) string) (rep *score.Report, rows int, err error) {
	f := *s.Grads
	f.Grads, f.Hessian, f.Params = path(f.Grads), path(f.Hessian), path(f.Params)
	g, err := score.LoadGrads(f, s.GradsWeightDecay)
	if err != nil {
		return nil, 0, err
	}
	rows, _ = g.G.Dims()
	rep, err = score.ComputeGrads(g, set)
	return rep, rows, err
}
