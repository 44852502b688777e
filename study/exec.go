package study

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/escape"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/track"
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
	Track       *track.Output
	Basins      *basins.Output
	Escape      *escape.Output
}

// NonFiniteParamsError is a parameter file holding NaN or ±Inf.
type NonFiniteParamsError struct {
	File string
	Err  *score.NonFiniteParamError
}

func (e *NonFiniteParamsError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *NonFiniteParamsError) Unwrap() error { return e.Err }

// Exec runs the step by calling the library directly (problem.Load, train.Run,
// score.Compute or ComputeGrads, verify.Run, landscape.Run, track.Run, basins.Run,
// escape.Run) and writes its output to JSON
// (none when JSON is "") and, for a train step, θ* to Theta, both relative to env.Dir.
// Errors are the library's (*field.Error for a bad setting, keyed by its flag name).
func (s *Step) Exec(ctx context.Context, env Env) (*Outcome, error) {
	x := &execution{ctx: ctx, step: s, env: env, cmdline: env.CommandLine}
	if x.cmdline == nil {
		x.cmdline = append([]string{"sgdprior", s.Command}, s.Args...)
	}
	o := &Outcome{}
	if s.Spec != nil {
		pr, err := problem.Load(*s.Spec)
		if err != nil {
			return nil, err
		}
		o.Problem = pr
	}
	var err error
	switch s.Command {
	case KindTrain:
		o.Train, err = x.train(ctx, o.Problem)
	case KindScore:
		o.Score, o.ScoreReport, err = x.score(o.Problem)
	case KindVerify:
		o.Verify, err = x.verify(ctx, o.Problem)
	case KindLandscape:
		o.Landscape, err = x.landscape(ctx)
	case KindTrack:
		o.Track, err = x.track(ctx, o.Problem)
	case KindBasins:
		o.Basins, err = x.basins(ctx, o.Problem)
	case KindEscape:
		o.Escape, err = x.escape(ctx, o.Problem)
	default:
		panic(fmt.Sprintf("study: step %s of unknown kind %q", s.ID, s.Command))
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// execution is one run of Exec.
type execution struct {
	ctx     context.Context // a step that finishes after it is cancelled writes nothing
	step    *Step
	env     Env
	cmdline []string
}

// path resolves a step's path against the output directory.
func (x *execution) path(rel string) string {
	if rel == "" || filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(x.env.Dir, rel)
}

// write writes an output to the step's JSON file, when it has one; nothing once the
// step's context is cancelled (a computation that cannot observe it may finish after the
// signal: the user asked for it to stop, not for its output).
func (x *execution) write(w interface{ Write(string) error }) error {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	if x.step.JSON == "" {
		return nil
	}
	return w.Write(x.path(x.step.JSON))
}

// params reads a parameter vector of pr from file (nil for "").
func (x *execution) params(pr *problem.Problem, key, file string) ([]float64, error) {
	if file == "" {
		return nil, nil
	}
	return pr.ReadParams(key, x.path(file))
}

func (x *execution) provenance(seed uint64, pr *problem.Problem) problem.Provenance {
	return problem.NewProvenance(x.env.Version, x.cmdline, seed, pr)
}

func (x *execution) train(ctx context.Context, pr *problem.Problem) (*train.Output, error) {
	s := x.step
	set := *s.Train
	set.Progress = x.env.Progress
	init, err := x.params(pr, "init", s.Init)
	if err != nil {
		return nil, err
	}
	theta, out, err := train.Run(ctx, pr, init, set)
	if err != nil {
		return nil, err
	}
	if err := x.ctx.Err(); err != nil {
		return nil, err
	}
	if err := data.WriteVector(x.path(s.Theta), theta); err != nil {
		return nil, err
	}
	out.Params, out.Provenance = s.Theta, x.provenance(set.Seed, pr)
	return out, x.write(out)
}

func (x *execution) score(pr *problem.Problem) (*score.Output, *score.Report, error) {
	s := x.step
	set := *s.Score
	set.Progress = x.env.Progress
	var rep *score.Report
	var err error
	rows := 0
	if s.Grads != nil {
		if rep, rows, err = s.scoreGrads(&set, x.path); err != nil {
			return nil, nil, err
		}
	} else {
		theta, err := x.params(pr, "params", s.Theta)
		if err != nil {
			return nil, nil, err
		}
		rep, err = score.Compute(pr, theta, &set)
		if nf := (*score.NonFiniteParamError)(nil); errors.As(err, &nf) {
			err = &NonFiniteParamsError{File: s.Theta, Err: nf}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	out := score.NewOutput(rep)
	if x.env.ScoreInlineMaxDim > 0 {
		out.InlineMaxDim = x.env.ScoreInlineMaxDim
	}
	out.Provenance = x.provenance(set.Seed, pr)
	if s.Grads != nil {
		out.Provenance.WeightDecay = s.GradsWeightDecay
		out.Input = &score.GradsInput{Grads: s.Grads.Grads, Hessian: s.Grads.Hessian, Params: s.Grads.Params, Rows: rows}
	}
	return out, rep, x.write(out)
}

func (x *execution) verify(ctx context.Context, pr *problem.Problem) (*verify.Report, error) {
	s := x.step
	set := *s.Verify
	set.Progress = x.env.Progress
	theta, err := x.params(pr, "params", s.Theta)
	if err != nil {
		return nil, err
	}
	rep, err := verify.Run(ctx, pr, theta, &set)
	if err != nil {
		return nil, err
	}
	rep.Provenance = x.provenance(set.Seed, pr)
	return rep, x.write(rep)
}

func (x *execution) landscape(ctx context.Context) (*landscape.Output, error) {
	s := x.step
	p, err := landscape.NewPreset(*s.Preset)
	if err != nil {
		return nil, err
	}
	progress.Record(x.env.Progress, fmt.Sprintf("landscape %s: exact answers and simulation", p.Name()), -1)
	res, err := landscape.Run(ctx, p, *s.Landscape)
	if err != nil {
		return nil, err
	}
	out := &landscape.Output{Result: *res, Provenance: x.provenance(s.Landscape.Seed, nil)}
	return out, x.write(out)
}

func (x *execution) track(ctx context.Context, pr *problem.Problem) (*track.Output, error) {
	s := x.step
	set := *s.Track
	set.Progress = x.env.Progress
	init, err := x.params(pr, "init", s.Init)
	if err != nil {
		return nil, err
	}
	out, err := track.Run(ctx, pr, init, &set)
	if err != nil {
		return nil, err
	}
	out.Provenance = x.provenance(set.Seed, pr)
	return out, x.write(out)
}

func (x *execution) basins(ctx context.Context, pr *problem.Problem) (*basins.Output, error) {
	set := *x.step.Basins
	set.Progress = x.env.Progress
	out, err := basins.Run(ctx, pr, &set)
	if err != nil {
		return nil, err
	}
	out.Provenance = x.provenance(set.Seed, pr)
	return out, x.write(out)
}

func (x *execution) escape(ctx context.Context, pr *problem.Problem) (*escape.Output, error) {
	s := x.step
	set := *s.Escape
	set.Progress = x.env.Progress
	theta, err := x.params(pr, "params", s.Theta)
	if err != nil {
		return nil, err
	}
	out, err := escape.Run(ctx, pr, theta, &set)
	if err != nil {
		return nil, err
	}
	out.Provenance = x.provenance(set.Seed, pr)
	return out, x.write(out)
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
