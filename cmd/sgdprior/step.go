package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sgdprior/sgdprior/linalg"
	recorder "github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/stationary"
	"github.com/sgdprior/sgdprior/study"
)

// The subcommands train, score, verify and landscape each parse their flags into a
// study.Step (the same typed settings a study step holds), run it with execStep and print
// its outcome with printOutcome; the study runner runs its steps the same way.

// execStep runs st in the working directory with its progress on e.stdout, and renders
// its errors for the command line.
func execStep(ctx context.Context, e *env, st *study.Step, env study.Env) (*study.Outcome, error) {
	prog := newProgress(e.stdout)
	env.Version, env.CommandLine = version, e.cmdline
	env.Progress = stageProgress(st, prog.update)
	o, err := st.Exec(ctx, env)
	prog.done()
	if err != nil {
		return nil, commandError(err)
	}
	return o, nil
}

// stageProgress returns the progress recorder of a step: the stage, prefixed for score.
func stageProgress(st *study.Step, update func(string, float64)) recorder.Recorder {
	if st.Command == study.KindScore {
		return recorder.Func(func(stage string, frac float64) { update("score: "+stage, frac) })
	}
	return recorder.Func(update)
}

// commandError renders a step's error for the command line: a bad setting as its flag (a
// usage error), a rank-deficient C_B with its remedies, an unstable η with its bound.
func commandError(err error) error {
	if fe := flagError(err); fe != err {
		return fe
	}
	var rd *linalg.RankDeficientError
	if errors.As(err, &rd) {
		rank := fmt.Sprintf("numerical rank %d of %d", rd.Rank, rd.Dim)
		if rd.Rank < 0 {
			rank = fmt.Sprintf("numerical rank below %d", rd.Dim)
		}
		return fmt.Errorf("the noise covariance C_B is rank-deficient (%s at rcond %g): pass --damping λ (absolute, in the units of C_B) or --inverse range (pseudo-inverse on its range)", rank, rd.RCond)
	}
	var ue *stationary.UnstableError
	if errors.As(err, &ue) {
		lr := ue.Eta
		if ue.Detail != "" {
			return fmt.Errorf("SGD is unstable at --lr %g: %s", lr, ue.Detail)
		}
		return fmt.Errorf("SGD is unstable at --lr %g: the Hessian's eigenvalue λ = %.6g gives ηλ = %.4g ≥ 2; it is stable only for η < 2/λ_max = %.6g", lr, ue.Eigenvalue, lr*ue.Eigenvalue, 2/ue.LambdaMax)
	}
	return err
}

// printOutcome writes the readable summary of a step's outcome.
func printOutcome(w io.Writer, st *study.Step, o *study.Outcome) {
	switch st.Command {
	case study.KindTrain:
		printTrain(w, st, o)
	case study.KindScore:
		printScore(w, st, o)
	case study.KindVerify:
		printVerify(w, o)
	case study.KindLandscape:
		printLandscape(w, &o.Landscape.Result)
	case study.KindTrack:
		printTrack(w, o.Track)
	case study.KindBasins:
		printBasins(w, o.Basins)
	case study.KindEscape:
		printEscape(w, o.Problem, o.Escape)
	}
}
