package train

import (
	"context"
	"flag"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/sim"
)

// Method is what Run computes: SGD iterates or the exact full-batch minimum by L-BFGS. A
// *Method is a flag.Value ("sgd" or "lbfgs").
type Method int

const (
	// MethodSGD runs constant-step SGD (SGD).
	MethodSGD Method = iota
	// MethodLBFGS finds the exact full-batch minimum θ* (Minimize).
	MethodLBFGS
)

// String returns the method's command-line spelling.
func (m Method) String() string {
	switch m {
	case MethodSGD:
		return "sgd"
	case MethodLBFGS:
		return "lbfgs"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// Set parses "sgd" or "lbfgs" into m.
func (m *Method) Set(v string) error {
	switch v {
	case "sgd":
		*m = MethodSGD
	case "lbfgs":
		*m = MethodLBFGS
	default:
		return fmt.Errorf("must be sgd or lbfgs, not %q", v)
	}
	return nil
}

// RunSettings configures Run: the settings of the `sgdprior train` command.
type RunSettings struct {
	// Method is sgd (iterates of SGD) or lbfgs (the exact full-batch minimum θ*).
	Method Method
	// LR is η, Batch is B and Sampling the mini-batch scheme of SGD.
	LR       float64
	Batch    int
	Sampling noise.Sampling
	// Steps or Epochs (exactly one positive) is SGD's length: Epochs E means
	// ⌈E·N/B⌉ steps.
	Steps  int
	Epochs float64
	// GradTol is L-BFGS's tolerance on ‖∇L‖.
	GradTol float64
	// Seed seeds SGD's mini-batches and the default initial parameters (model.InitStream).
	Seed uint64
	// Progress, if non-nil, receives L-BFGS iterations and SGD steps.
	Progress progress.Recorder
}

// DefaultRunSettings returns the command's defaults: SGD without replacement, L-BFGS
// tolerance 1e-10, seed 1 (η, B and the length have no default).
func DefaultRunSettings() RunSettings {
	return RunSettings{Method: MethodSGD, Sampling: noise.Without, GradTol: 1e-10, Seed: 1}
}

// Validate checks the settings of the chosen method; the error is a *field.Error keyed by
// the flag name.
func (s RunSettings) Validate() error {
	switch s.Method {
	case MethodSGD:
		if err := noise.CheckLRBatch(s.LR, s.Batch); err != nil {
			return err
		}
		if math.IsNaN(s.Epochs) || math.IsInf(s.Epochs, 0) {
			return field.Errorf("epochs", "must be a finite number > 0, not %v", s.Epochs)
		}
		if (s.Steps > 0) == (s.Epochs > 0) {
			return field.Errorf("method", "sgd needs exactly one of --steps T > 0 and --epochs E > 0")
		}
	case MethodLBFGS:
		if !(s.GradTol > 0) {
			return field.Errorf("gtol", "must be > 0, not %v", s.GradTol)
		}
	default:
		return field.Errorf("method", "must be sgd or lbfgs, not %q", s.Method.String())
	}
	return nil
}

// Output is the JSON summary of a training run (train --json). The caller sets Params (the
// name of the parameter file) and Provenance. TrainLoss and TestLoss are the mean negative
// log-likelihoods (1/n) Σ −log p(y_i | x_i, θ) of the training and test examples, without
// the weight decay (TrainLoss = NLL); TrainAccuracy and TestAccuracy the fractions
// classified correctly (model.Accuracy). A number that does not apply (accuracy of a
// regression, anything of a test set the problem does not have) is null.
type Output struct {
	Method        string             `json:"method"`
	Loss          jsonnum.Float      `json:"loss"`
	NLL           jsonnum.Float      `json:"nll"`
	GradNorm      jsonnum.Float      `json:"grad_norm"`
	Accuracy      *jsonnum.Float     `json:"accuracy,omitempty"`
	TrainLoss     jsonnum.Float      `json:"train_loss"`
	TrainAccuracy jsonnum.Float      `json:"train_acc"`
	TestLoss      jsonnum.Float      `json:"test_loss"`
	TestAccuracy  jsonnum.Float      `json:"test_acc"`
	TestN         int                `json:"test_n"`
	Steps         int                `json:"steps,omitempty"`
	Iterations    int                `json:"iterations,omitempty"`
	Converged     *bool              `json:"converged,omitempty"`
	LR            *jsonnum.Float     `json:"lr,omitempty"`
	Batch         int                `json:"batch,omitempty"`
	Sampling      string             `json:"sampling,omitempty"`
	D             int                `json:"d"`
	Params        string             `json:"params"`
	Provenance    problem.Provenance `json:"provenance"`
	Warnings      []string           `json:"warnings"`
}

// Write writes o, indented, to path atomically.
func (o *Output) Write(path string) error { return atomicfile.WriteJSON(path, o) }

// Run trains p's model: SGD for the given steps or epochs, or L-BFGS to the exact full-batch
// minimum. It starts from init (copied; length p.D()), or, when init is nil, from
// model.InitParams drawn from rand.NewPCG(s.Seed, model.InitStream). It returns the parameters
// and their summary (Params and Provenance unset). Settings that fail Validate and a batch
// larger than the data are *field.Errors; an objective that is not finite after training is
// an error (SGD diverged).
func Run(ctx context.Context, p *problem.Problem, init []float64, s RunSettings) ([]float64, *Output, error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	d := p.D()
	theta := make([]float64, d)
	if init != nil {
		if len(init) != d {
			panic(fmt.Sprintf("train: len(init) = %d, the model has %d parameters", len(init), d))
		}
		copy(theta, init)
	} else {
		model.InitSeeded(theta, p.Model, s.Seed)
	}
	obj := p.Objective()
	out := &Output{Method: s.Method.String(), D: d, Warnings: []string{}}
	switch s.Method {
	case MethodLBFGS:
		res, err := Minimize(ctx, obj, p.Batch, theta, Settings{GradTol: s.GradTol, Progress: s.Progress})
		if err != nil {
			return nil, nil, err
		}
		out.Iterations = res.Iterations + res.NewtonIter
		conv := res.Converged
		out.Converged = &conv
		if !conv {
			w := fmt.Sprintf("‖∇L‖ = %.3g did not reach --gtol %.3g", res.GradNorm, s.GradTol)
			if k := model.Kinks(p.Model); k != "" {
				w += fmt.Sprintf(" (with %s the loss is only piecewise smooth: its minimum may lie on a kink, where no gradient vanishes; average pooling and tanh give a smooth loss)", k)
			}
			out.Warnings = append(out.Warnings, w)
		}
	case MethodSGD:
		if err := p.CheckBatch(s.Batch); err != nil {
			return nil, nil, err
		}
		T := s.Steps
		if s.Epochs > 0 {
			var err error
			if T, err = EpochSteps(s.Epochs, p.Data.Len(), s.Batch); err != nil {
				return nil, nil, err
			}
		}
		err := SGD(ctx, sim.NewModelProblem(p.Model, p.Batch, p.Spec.WeightDecay), theta, SGDSettings{
			LR: s.LR, Batch: s.Batch, Sampling: s.Sampling, Steps: T, Seed: s.Seed, Progress: s.Progress,
		})
		if err != nil {
			return nil, nil, err
		}
		lr := jsonnum.Float(s.LR)
		out.Steps, out.LR, out.Batch, out.Sampling = T, &lr, s.Batch, s.Sampling.String()
	}
	grad := make([]float64, d)
	loss := obj.Loss(grad, theta, p.Batch)
	nll := p.Model.Loss(nil, theta, p.Batch)
	out.Loss, out.NLL, out.GradNorm = jsonnum.Float(loss), jsonnum.Float(nll), jsonnum.Float(floats.Norm(grad, 2))
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return nil, nil, fmt.Errorf("the objective is %v after training: lower --lr (SGD is unstable when η ≥ 2/λ_max)", loss)
	}
	out.TrainLoss, out.TrainAccuracy = jsonnum.Float(nll), jsonnum.Float(math.NaN())
	if len(p.Data.Classes) > 0 {
		acc := jsonnum.Float(model.Accuracy(p.Model, theta, p.Batch))
		out.Accuracy, out.TrainAccuracy = &acc, acc
	}
	out.TestLoss, out.TestAccuracy, out.TestN = Evaluate(p, theta)
	return theta, out, nil
}

// Evaluate returns the mean negative log-likelihood (no weight decay) and the accuracy (NaN
// for a regression) of θ on p's test set, and its size; NaN, NaN, 0 when p has none
// (docs/MATH.md §1: the loss is (1/n_test) Σ ℓ_i(θ) over the test examples, without r(θ)).
func Evaluate(p *problem.Problem, theta []float64) (loss, acc jsonnum.Float, n int) {
	if !p.HasTest() {
		return jsonnum.Float(math.NaN()), jsonnum.Float(math.NaN()), 0
	}
	loss, acc = jsonnum.Float(p.Model.Loss(nil, theta, p.TestBatch)), jsonnum.Float(math.NaN())
	if len(p.Data.Classes) > 0 {
		acc = jsonnum.Float(model.Accuracy(p.Model, theta, p.TestBatch))
	}
	return loss, acc, p.Test.Len()
}

// MaxSteps is the largest number of SGD steps EpochSteps accepts: 2⁵³, the largest count a
// float64 holds exactly (and far more than any run can take).
const MaxSteps = 1 << 53

// EpochSteps returns the number of SGD steps of E epochs over n examples in batches of b:
// T = ⌈E·n/b⌉. The product is checked as a float before it becomes an int: epochs that are
// not finite and positive, or a T above MaxSteps, are a *field.Error keyed "epochs".
func EpochSteps(epochs float64, n, b int) (int, error) {
	if !(epochs > 0) || math.IsInf(epochs, 1) {
		return 0, field.Errorf("epochs", "must be a finite number > 0, not %v", epochs)
	}
	t := math.Ceil(epochs * float64(n) / float64(b))
	if !(t <= MaxSteps) {
		return 0, field.Errorf("epochs", "%v means %.3g steps of batch %d over N = %d examples, more than the %d (2⁵³) a run can count", epochs, t, b, n, MaxSteps)
	}
	return int(t), nil
}

// BindFlags defines the `sgdprior train` settings flags on fs, bound to s; their defaults
// are s's current values (start from DefaultRunSettings).
func (s *RunSettings) BindFlags(fs *flag.FlagSet) {
	fs.Var(&s.Method, "method", "sgd (iterates of SGD) or lbfgs (exact full-batch minimum θ*)")
	noise.BindSGDFlags(fs, &s.LR, &s.Batch, &s.Sampling, &s.Seed)
	fs.IntVar(&s.Steps, "steps", s.Steps, "SGD steps (or --epochs)")
	fs.Float64Var(&s.Epochs, "epochs", s.Epochs, "SGD epochs: steps = epochs·N/B")
	fs.Float64Var(&s.GradTol, "gtol", s.GradTol, "lbfgs: stop when ‖∇L‖ ≤ gtol")
}
