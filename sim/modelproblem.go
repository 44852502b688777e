package sim

import (
	"fmt"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/model"
)

// modelProblem is a Problem made of a model.Model, its training batch and weight decay:
// L(θ) = (1/N) Σ ℓ_i(θ) + (λ/2)‖θ‖².
type modelProblem struct {
	m   model.Model
	b   model.Batch
	wd  float64
	sub model.Batch // scratch: the rows of the current mini-batch
}

// NewModelProblem returns the Problem of training m on the N examples of b with weight decay
// λ = weightDecay ≥ 0: L(θ) = (1/N) Σ_i ℓ_i(θ) + (λ/2)‖θ‖² (MATH.md §1). MiniBatchGrad
// gathers the rows of idx into a scratch batch that is reused (it is reallocated only when
// the batch size changes) and calls m.Loss; WeightedGrad calls m.GradSum; RegGrad adds λθ.
// m is cloned; b is shared, read only, by every clone. It panics if b is empty, if its
// number of features differs from m.NumInputs(), or if weightDecay is negative.
func NewModelProblem(m model.Model, b model.Batch, weightDecay float64) Problem {
	if b.Len() == 0 {
		panic("sim: NewModelProblem: empty batch")
	}
	if _, p := b.X.Dims(); p != m.NumInputs() {
		panic(fmt.Sprintf("sim: NewModelProblem: batch has %d features, model %s wants %d", p, m.Name(), m.NumInputs()))
	}
	if len(b.Y) != b.Len() {
		panic(fmt.Sprintf("sim: NewModelProblem: %d rows but %d targets", b.Len(), len(b.Y)))
	}
	if !(weightDecay >= 0) {
		panic(fmt.Sprintf("sim: NewModelProblem: weight decay %v", weightDecay))
	}
	return &modelProblem{m: m.Clone(), b: b, wd: weightDecay}
}

// gradOnly is a model that computes the mean gradient without the loss (model.Network).
type gradOnly interface {
	Grad(dst, theta []float64, b model.Batch)
}

func (p *modelProblem) Dim() int         { return p.m.NumParams() }
func (p *modelProblem) NumExamples() int { return p.b.Len() }

func (p *modelProblem) MiniBatchGrad(dst, theta []float64, idx []int) {
	p.MiniBatchNLLGrad(dst, theta, idx)
	p.RegGrad(dst, theta)
}

// MiniBatchNLLGrad writes the mini-batch gradient of the mean NLL alone (no weight decay).
func (p *modelProblem) MiniBatchNLLGrad(dst, theta []float64, idx []int) {
	if len(idx) == 0 {
		panic("sim: MiniBatchGrad: empty mini-batch")
	}
	if p.sub.Len() != len(idx) {
		_, c := p.b.X.Dims()
		p.sub = model.Batch{X: mat.NewDense(len(idx), c, nil), Y: make([]float64, len(idx))}
	}
	for j, i := range idx {
		copy(p.sub.X.RawRowView(j), p.b.X.RawRowView(i))
		p.sub.Y[j] = p.b.Y[i]
	}
	if g, ok := p.m.(gradOnly); ok {
		g.Grad(dst, theta, p.sub) // no loss: the head skips its logarithms
	} else {
		p.m.Loss(dst, theta, p.sub)
	}
}

// WeightDecay returns λ.
func (p *modelProblem) WeightDecay() float64 { return p.wd }

func (p *modelProblem) WeightedGrad(dst, theta []float64, w []float64) {
	p.m.GradSum(dst, theta, p.b, w)
}

func (p *modelProblem) RegGrad(dst, theta []float64) {
	if p.wd == 0 {
		return
	}
	if len(dst) != len(theta) {
		panic(fmt.Sprintf("sim: RegGrad: len(dst) = %d, len(theta) = %d", len(dst), len(theta)))
	}
	floats.AddScaled(dst, p.wd, theta) // dst[j] += λ θ_j, vectorised
}

func (p *modelProblem) Loss(theta []float64) float64 {
	l := p.m.Loss(nil, theta, p.b)
	if p.wd != 0 {
		var s float64
		for _, t := range theta {
			s += t * t
		}
		l += p.wd / 2 * s
	}
	return l
}

func (p *modelProblem) Clone() Problem {
	return &modelProblem{m: p.m.Clone(), b: p.b, wd: p.wd}
}

// BatchedGrad returns model.MultiGradSum's batched weighted gradients for G points when the
// model is linear (linreg, logistic, softmax), else nil.
func (p *modelProblem) BatchedGrad(G int) BatchedGrad {
	mg, ok := model.NewMultiGradSum(p.m, G)
	if !ok {
		return nil
	}
	mg.SetBatch(p.b) // the batch is read only (NewModelProblem)
	return &modelBatched{mg: mg, b: p.b}
}

// modelBatched is the BatchedGrad of a modelProblem.
type modelBatched struct {
	mg *model.MultiGradSum
	b  model.Batch
}

func (m *modelBatched) WeightedGrads(dst, theta [][]float64, w []float64) {
	m.mg.GradSumsInterleaved(dst, theta, m.b, w)
}
