package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// lenet5 is LeNet-5 on 1×28×28 (d = 61706).
const lenet5 = "cnn:c6k5p2,max2,c16k5,max2,f120,f84"

// cnnForwardFlops counts the multiply–adds (×2) of one example's forward pass in the
// convolutions and dense layers (the GEMMs; pooling, activations and the head not counted).
func cnnForwardFlops(m *ConvNet) float64 {
	var f float64
	for _, st := range m.stages {
		if st.kind == stageConv {
			f += 2 * float64(st.cout*st.ckk()*st.hout*st.wout)
		}
	}
	for _, ly := range m.tail.layers {
		f += 2 * float64(ly.In*ly.Out)
	}
	return f
}

// BenchmarkCNNLeNet5 times Loss, Loss with gradient, GradDotSum (the covariance product),
// the same from a ConvGradCache, HessVec, Gram and (n = 256) PerExampleHessVec of LeNet-5
// on random MNIST-shaped data at n = 256 and 4096, and reports GFLOP/s from the GEMM flops
// per example counted below (F = one forward pass; pooling, activations, unfolding and the
// head not counted; GradDotSum's conv-parameter blocks counted as the backward pass's
// weight-gradient flops, not twice; the cached product and Gram get no GFLOP/s).
func BenchmarkCNNLeNet5(b *testing.B) {
	for _, n := range []int{256, 4096} {
		m, err := NewConvNet(lenet5, 784, 10, Options{Shape: []int{1, 28, 28}})
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		batch := randBatch(rng, n, 784, 10)
		theta := make([]float64, m.NumParams())
		InitParams(theta, m, rng)
		d := m.NumParams()
		u := randVec(rng, d)
		grad, w := make([]float64, d), make([]float64, n)
		cache := m.NewGradCache(theta, batch)
		G := mat.NewDense(n, n, nil)
		var V, HV *mat.Dense
		if n <= 256 {
			V, HV = mat.NewDense(n, d, randVec(rng, n*d)), mat.NewDense(n, d, nil)
		}
		F := cnnForwardFlops(m)
		st0 := m.stages[0]
		first := 2 * float64(st0.cout*st0.ckk()*st0.hout*st0.wout) // the first conv's input gradient is not computed
		fw, fb := F, 2*F-first
		for _, c := range []struct {
			name  string
			f     func()
			flops float64 // per example
		}{
			{"Loss", func() { m.Loss(nil, theta, batch) }, fw},
			{"LossGrad", func() { m.Loss(grad, theta, batch) }, fw + fb},
			// forward, backward, per-example weight gradients (as the weight gradient, F−…),
			// then the dot and the sum with d each.
			{"GradDotSum", func() { m.GradDotSum(grad, w, theta, batch, u, 0.1, 1/float64(n), 1) }, fw + fb + 4*float64(d)},
			// forward; R-forward (2F less the first conv's R(U) term); backward and R-backward
			// (≈ 3 × (F − first) for Δ, R(Δ), and 2F for the weight blocks).
			{"HessVec", func() { m.HessVec(grad, theta, batch, u) }, fw + (2*F - first) + 3*(F-first) + 2*F},
			{"CacheGradDotSum", func() { cache.GradDotSum(grad, w, u, 0.1, 1/float64(n), 1) }, 0},
			{"Gram", func() { m.Gram(G, theta, batch) }, 0},
			{"PerExampleHessVec", func() { m.PerExampleHessVec(HV, theta, batch, V) }, fw + (2*F - first) + 3*(F-first) + 2*F},
		} {
			if c.name == "PerExampleHessVec" && V == nil {
				continue // V and the result take 2·n·d floats: 4 GB at n = 4096
			}
			b.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(b *testing.B) {
				c.f()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					c.f()
				}
				if c.flops > 0 {
					s := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(c.flops*float64(n)/s/1e9, "GFLOP/s")
				}
			})
		}
	}
}
