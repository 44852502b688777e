package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"

	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/progress"
)

// Settings configures Minimize. The zero value means the defaults.
type Settings struct {
	// GradTol is the Euclidean norm of ∇L at which the minimisation stops. Default 1e-10.
	GradTol float64
	// MaxIter bounds the L-BFGS iterations. Default 10000.
	MaxIter int
	// NewtonIter bounds the Newton–CG polishing iterations after L-BFGS. Default 50.
	NewtonIter int
	// Progress, if non-nil, receives "lbfgs iteration k  loss L  ‖∇L‖ g" (fraction
	// unknown, −1) after every L-BFGS iteration.
	Progress progress.Recorder
}

func (s Settings) withDefaults() Settings {
	if s.GradTol == 0 {
		s.GradTol = 1e-10
	}
	if s.MaxIter == 0 {
		s.MaxIter = 10000
	}
	if s.NewtonIter == 0 {
		s.NewtonIter = 50
	}
	return s
}

// Result reports a minimisation.
type Result struct {
	Loss       float64 // L(θ*)
	GradNorm   float64 // ‖∇L(θ*)‖
	Iterations int     // L-BFGS iterations
	NewtonIter int     // Newton–CG iterations
	Converged  bool    // GradNorm ≤ GradTol
}

// ErrNoMinimum is returned (wrapped) when the objective has no finite minimiser.
var ErrNoMinimum = errors.New("no finite minimum")

// Minimize minimises obj over the batch starting from theta, which it overwrites with the
// result. It returns an error wrapping ErrNoMinimum when a classifier without weight decay
// separates the training data (the infimum 0 of the loss is not attained), and an error when
// the tolerance is not reached. A cancelled ctx stops it within one L-BFGS iteration or one
// Newton–CG product, returning ctx's error (theta then holds the last iterate).
func Minimize(ctx context.Context, obj model.Objective, b model.Batch, theta []float64, s Settings) (Result, error) {
	s = s.withDefaults()
	m := obj.Model
	d := m.NumParams()
	if len(theta) != d {
		panic(fmt.Sprintf("train: len(theta) = %d, model has %d parameters", len(theta), d))
	}
	classifier := model.IsClassifier(m)
	separable := func(x []float64) bool {
		return classifier && obj.WeightDecay == 0 && model.Accuracy(m, x, b) == 1
	}
	if separable(theta) {
		return Result{}, noMinimum(m)
	}
	var sepErr error
	p := optimize.Problem{
		Func: func(x []float64) float64 { return obj.Loss(nil, x, b) },
		Grad: func(g, x []float64) { obj.Loss(g, x, b) },
	}
	iter := 0
	rec := recorderFunc(func(loc *optimize.Location, op optimize.Operation) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if op != optimize.MajorIteration {
			return nil
		}
		iter++
		if s.Progress != nil {
			s.Progress.Record(fmt.Sprintf("lbfgs iteration %d  loss %.6g  ‖∇L‖ %.3g", iter, loc.F, floats.Norm(loc.Gradient, 2)), -1)
		}
		if separable(loc.X) {
			sepErr = noMinimum(m)
			return sepErr
		}
		return nil
	})
	set := &optimize.Settings{
		Converger:         &optimize.FunctionConverge{Absolute: 0, Relative: 0, Iterations: 0},
		MajorIterations:   s.MaxIter,
		GradientThreshold: s.GradTol / math.Sqrt(float64(d)), // ∞-norm bound implying the 2-norm one
		Recorder:          rec,
	}
	res, err := optimize.Minimize(p, theta, set, &optimize.LBFGS{GradStopThreshold: math.NaN()})
	if sepErr != nil {
		return Result{}, sepErr
	}
	if err := ctx.Err(); err != nil {
		if res != nil {
			copy(theta, res.X)
		}
		return Result{}, err
	}
	if res != nil {
		copy(theta, res.X)
	}
	if err != nil && res == nil {
		return Result{}, fmt.Errorf("L-BFGS failed: %v", err)
	}
	out := Result{Iterations: iter}
	// Newton–CG polishing: L-BFGS line searches stall near 1e-8 relative; a few exact
	// Newton steps with Hessian–vector products reach the tolerance.
	grad := make([]float64, d)
	out.Loss = obj.Loss(grad, theta, b)
	out.GradNorm = floats.Norm(grad, 2)
	step := make([]float64, d)
	trial := make([]float64, d)
	tg := make([]float64, d)
	for out.GradNorm > s.GradTol && out.NewtonIter < s.NewtonIter {
		out.NewtonIter++
		ok, err := newtonStep(ctx, step, obj, b, theta, grad)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			break
		}
		// Backtracking on the gradient norm (the Newton step targets ∇L = 0).
		t := 1.0
		improved := false
		for k := 0; k < 30; k++ {
			floats.AddScaledTo(trial, theta, -t, step)
			l := obj.Loss(tg, trial, b)
			if gn := floats.Norm(tg, 2); gn < out.GradNorm && !math.IsNaN(l) {
				copy(theta, trial)
				copy(grad, tg)
				out.Loss, out.GradNorm = l, gn
				improved = true
				break
			}
			t /= 2
		}
		if !improved {
			break
		}
		if separable(theta) {
			return Result{}, noMinimum(m)
		}
	}
	out.Converged = out.GradNorm <= s.GradTol
	if math.IsNaN(out.Loss) || math.IsInf(out.Loss, 0) {
		return out, fmt.Errorf("the objective became %v during minimisation", out.Loss)
	}
	if classifier && obj.WeightDecay == 0 && !out.Converged && floats.Norm(theta, 2) > 1e4 {
		return Result{}, fmt.Errorf("%w: ‖θ‖ = %.3g keeps growing while the loss falls to %.3g (the classes are (nearly) separable); add --weight-decay", ErrNoMinimum, floats.Norm(theta, 2), out.Loss)
	}
	return out, nil
}

// newtonStep solves H step = grad by conjugate gradients on Hessian–vector products. It
// returns false when the Hessian is not positive definite along the CG directions, and ctx's
// error when it is cancelled.
func newtonStep(ctx context.Context, step []float64, obj model.Objective, b model.Batch, theta, grad []float64) (bool, error) {
	d := len(grad)
	for i := range step {
		step[i] = 0
	}
	r := append([]float64(nil), grad...)
	pdir := append([]float64(nil), grad...)
	hp := make([]float64, d)
	rr := floats.Dot(r, r)
	tol := 1e-14 * rr
	for k := 0; k < 2*d+10 && rr > tol; k++ {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		obj.HessVec(hp, theta, b, pdir)
		php := floats.Dot(pdir, hp)
		if !(php > 0) {
			return k > 0, nil
		}
		alpha := rr / php
		floats.AddScaled(step, alpha, pdir)
		floats.AddScaled(r, -alpha, hp)
		rrNew := floats.Dot(r, r)
		floats.Scale(rrNew/rr, pdir)
		floats.Add(pdir, r)
		rr = rrNew
	}
	return true, nil
}

func noMinimum(m model.Model) error {
	return fmt.Errorf("%w: %s classifies every training example correctly, so the loss falls towards 0 as ‖θ‖ grows without bound (the data are separable); add --weight-decay λ > 0", ErrNoMinimum, m.Name())
}

type recorderFunc func(*optimize.Location, optimize.Operation) error

func (f recorderFunc) Init() error { return nil }
func (f recorderFunc) Record(l *optimize.Location, op optimize.Operation, _ *optimize.Stats) error {
	return f(l, op)
}
