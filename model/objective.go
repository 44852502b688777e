package model

import "fmt"

// Objective is the training objective of MATH.md §1 on a batch b:
//
//	L_b(θ) = (1/|b|) Σ_{i∈b} ℓ_i(θ) + r(θ),  r(θ) = (λ/2)‖θ‖²,
//
// the mean NLL of Model plus weight decay. Weight decay is an explicit prior, never part of
// the likelihood: Model's methods (per-example gradients, GradSum, Gram, …) know nothing of
// it. The zero WeightDecay means no regulariser.
type Objective struct {
	Model Model
	// WeightDecay is λ ≥ 0 (default 0: no regulariser).
	WeightDecay float64
}

// Loss returns L_b(θ) and, if grad is non-nil, writes ∇L_b = (1/|b|) Σ g_i + λθ into it.
func (o Objective) Loss(grad, theta []float64, b Batch) float64 {
	f := o.Model.Loss(grad, theta, b)
	if o.WeightDecay == 0 {
		return f
	}
	if grad != nil {
		o.AddRegGrad(grad, theta)
	}
	return f + o.Reg(theta)
}

// HessVec writes ∇²L_b v = (1/|b|) Σ H_i v + λv into dst.
func (o Objective) HessVec(dst, theta []float64, b Batch, v []float64) {
	o.Model.HessVec(dst, theta, b, v)
	if o.WeightDecay == 0 {
		return
	}
	lam := o.WeightDecay
	for i, x := range v {
		dst[i] += lam * x
	}
}

// Reg returns r(θ) = (λ/2)‖θ‖².
func (o Objective) Reg(theta []float64) float64 {
	if o.WeightDecay == 0 {
		return 0
	}
	var sq float64
	for _, t := range theta {
		sq += t * t
	}
	return 0.5 * o.WeightDecay * sq
}

// AddRegGrad adds ∇r(θ) = λθ to dst.
func (o Objective) AddRegGrad(dst, theta []float64) {
	if len(dst) != len(theta) {
		panic(fmt.Sprintf("model: AddRegGrad: len(dst) = %d, len(theta) = %d", len(dst), len(theta)))
	}
	if o.WeightDecay == 0 {
		return
	}
	lam := o.WeightDecay
	for i, t := range theta {
		dst[i] += lam * t
	}
}
