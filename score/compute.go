package score

import (
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
)

// NonFiniteParamError reports a parameter vector θ with a NaN or infinite entry.
type NonFiniteParamError struct {
	Index int
	Value float64
}

func (e *NonFiniteParamError) Error() string {
	return fmt.Sprintf("parameter %d is %v", e.Index, e.Value)
}

// Compute computes the report at θ for a loaded problem (ComputeModel on its model, data and
// weight decay). Before any computation it refuses, as *field.Error of key "batch" or
// "subset", a batch larger than the data, a batch of all N examples without replacement
// (no mini-batch noise), and a covariance subset larger than the data; a non-finite θ is a
// *NonFiniteParamError; invalid settings are the *field.Error of s.Validate.
func Compute(p *problem.Problem, theta []float64, s *Settings) (*Report, error) {
	if err := p.CheckBatch(s.Batch); err != nil {
		return nil, err
	}
	n := p.N()
	if s.Sampling != noise.With && s.Batch == n {
		return nil, field.Errorf("batch", "%d equals the %d examples: sampling without replacement has no mini-batch noise", s.Batch, n)
	}
	if s.Subset > n {
		return nil, field.Errorf("subset", "%d is larger than the %d examples of %s", s.Subset, n, p.Data.Name)
	}
	for j, v := range theta {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, &NonFiniteParamError{Index: j, Value: v}
		}
	}
	return ComputeModel(ModelProblem{Model: p.Model, Batch: p.Batch, WeightDecay: p.Spec.WeightDecay}, theta, s)
}

// GradsFiles names the files of a bring-your-own-gradients problem (MATH.md §2): Grads, an
// M×d .npy matrix of per-example NLL gradients (row = example); Hessian, optionally, the d×d
// Hessian of the mean objective; Params, optionally, θ (required with weight decay, ∇r = λθ);
// N the number of training examples (0: M, the rows are the population). Their keys are the
// score command's flags: grads, hessian, params, n.
type GradsFiles struct {
	Grads, Hessian, Params string
	N                      int
}

// Validate checks the values that do not need the files (a *field.Error).
func (f *GradsFiles) Validate() error {
	switch {
	case f.Grads == "":
		return field.Errorf("grads", "is required")
	case f.N < 0:
		return field.Errorf("n", "must be ≥ 0, not %d", f.N)
	}
	return nil
}

// LoadGrads reads the files of f into a Grads with weight decay λ, refusing (as
// *field.Error naming the files) a gradient matrix of fewer than 2 rows, a Hessian or θ
// that does not match its d, and weight decay without θ. The other rules (N ≥ M, λ ≥ 0 and
// finite, finite entries) are ComputeGrads'.
func LoadGrads(f GradsFiles, weightDecay float64) (Grads, error) {
	if err := f.Validate(); err != nil {
		return Grads{}, err
	}
	if weightDecay > 0 && f.Params == "" {
		return Grads{}, field.Errorf("weight-decay", "with --grads needs --params θ.npy (∇r = λθ)")
	}
	g, err := data.ReadMatrix(f.Grads)
	if err != nil {
		return Grads{}, err
	}
	m, d := g.Dims()
	if m < 2 {
		return Grads{}, field.Errorf("grads", "%s has %d row(s): the covariance needs at least 2 examples", f.Grads, m)
	}
	in := Grads{G: g, N: f.N, WeightDecay: weightDecay}
	if f.Hessian != "" {
		h, err := data.ReadMatrix(f.Hessian)
		if err != nil {
			return Grads{}, err
		}
		if r, c := h.Dims(); r != d || c != d {
			return Grads{}, field.Errorf("hessian", "%s is %d×%d, but the gradients of %s have d = %d", f.Hessian, r, c, f.Grads, d)
		}
		in.Hessian = h
	}
	if f.Params != "" {
		theta, err := data.ReadVector(f.Params)
		if err != nil {
			return Grads{}, err
		}
		if len(theta) != d {
			return Grads{}, field.Errorf("params", "%s has %d values, but the gradients of %s have d = %d", f.Params, len(theta), f.Grads, d)
		}
		in.Theta = theta
	}
	return in, nil
}
