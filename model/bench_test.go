package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// benchSetup builds spec on random data of n examples with p features and K classes
// (MNIST-shaped for mlp:128: p = 784, K = 10), θ from InitParams.
func benchSetup(b *testing.B, spec string, n, p, K int) (*Network, Batch, []float64) {
	net, err := NewNetwork(spec, p, K, Options{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	batch := randBatch(rng, n, p, K)
	theta := make([]float64, net.NumParams())
	InitParams(theta, net, rng)
	return net, batch, theta
}

func benchMethods(b *testing.B, net *Network, batch Batch, theta []float64, methods []string) {
	n, d := batch.Len(), net.NumParams()
	rng := rand.New(rand.NewPCG(2, 2))
	u, w := randVec(rng, d), randVec(rng, n)
	grad, pl, out := make([]float64, d), make([]float64, n), make([]float64, n)
	PG, G := mat.NewDense(n, d, nil), mat.NewDense(n, n, nil)
	var V, HV *mat.Dense
	fs := map[string]func(){
		"Loss":            func() { net.Loss(nil, theta, batch) },
		"LossGrad":        func() { net.Loss(grad, theta, batch) },
		"PerExampleLoss":  func() { net.PerExampleLoss(pl, theta, batch) },
		"PerExampleGrads": func() { net.PerExampleGrads(PG, theta, batch) },
		"GradDot":         func() { net.GradDot(out, theta, batch, u) },
		"GradSum":         func() { net.GradSum(grad, theta, batch, w) },
		"Gram":            func() { net.Gram(G, theta, batch) },
		"HessVec":         func() { net.HessVec(grad, theta, batch, u) },
		"PerExampleHessVec": func() {
			if V == nil {
				V, HV = mat.NewDense(n, d, randVec(rng, n*d)), mat.NewDense(n, d, nil)
			}
			net.PerExampleHessVec(HV, theta, batch, V)
		},
	}
	for _, name := range methods {
		f := fs[name]
		b.Run(name, func(b *testing.B) {
			f()
			b.ReportAllocs()
			for b.Loop() {
				f()
			}
		})
	}
}

// BenchmarkMLP128MNIST: mlp:128 (d = 101,770) on a batch of 256 MNIST-shaped examples.
func BenchmarkMLP128MNIST(b *testing.B) {
	net, batch, theta := benchSetup(b, "mlp:128", 256, 784, 10)
	benchMethods(b, net, batch, theta, []string{"Loss", "LossGrad", "PerExampleLoss", "PerExampleGrads",
		"GradDot", "GradSum", "Gram", "HessVec", "PerExampleHessVec"})
}

// BenchmarkLogistic569x30: logistic regression on breast-cancer-shaped data (all 569
// examples, 30 features).
func BenchmarkLogistic569x30(b *testing.B) {
	net, batch, theta := benchSetup(b, "logistic", 569, 30, 2)
	benchMethods(b, net, batch, theta, []string{"Loss", "LossGrad", "PerExampleGrads", "GradDot", "GradSum",
		"Gram", "HessVec", "PerExampleHessVec"})
}

// BenchmarkCovProduct: the covariance product u ↦ C u of mlp:128 on n = 256 and 4096
// MNIST-shaped examples, by the two calls (GradDot, the weights, GradSum: two forward and
// backward passes, four products of the first layer's size) and by GradDotSum (one pass,
// three). ḡ·u is computed once outside the loop, as a caller at fixed θ does.
func BenchmarkCovProduct(b *testing.B) {
	for _, n := range []int{256, 4096} {
		net, batch, theta := benchSetup(b, "mlp:128", n, 784, 10)
		d := net.NumParams()
		u := randVec(rand.New(rand.NewPCG(2, 2)), d)
		mean := make([]float64, d)
		net.Loss(mean, theta, batch)
		mu, alpha := dot(mean, u), 1/float64(n)
		w, cu := make([]float64, n), make([]float64, d)
		for _, m := range []struct {
			name string
			f    func()
		}{
			{"two-pass", func() {
				net.GradDot(w, theta, batch, u)
				for i := range w {
					w[i] = alpha * (w[i] - mu)
				}
				net.GradSum(cu, theta, batch, w)
			}},
			{"one-pass", func() { net.GradDotSum(cu, w, theta, batch, u, mu, alpha, 1) }},
		} {
			b.Run(fmt.Sprintf("n=%d/%s", n, m.name), func(b *testing.B) {
				m.f()
				b.ReportAllocs()
				for b.Loop() {
					m.f()
				}
			})
		}
	}
}

// BenchmarkCachedCovProduct: the cached covariance product of mlp:128 on 60,000
// MNIST-shaped examples, the product of every CG iteration and Lanczos step of a full-data
// score (GradCache.GradDotSum). The features are random with MNIST's density (19% nonzero,
// the rest exact zeros), uncompressed (the dense GEMM, whose time does not depend on the
// values) and compressed (the first layer's products over the nonzeros).
func BenchmarkCachedCovProduct(b *testing.B) {
	net, batch, theta := benchSetup(b, "mlp:128", 60000, 784, 10)
	rng := rand.New(rand.NewPCG(3, 3))
	X := batch.X.RawMatrix().Data
	for i := range X {
		if rng.Float64() >= 0.19 {
			X[i] = 0
		}
	}
	d := net.NumParams()
	u := randVec(rand.New(rand.NewPCG(2, 2)), d)
	for _, bc := range []struct {
		name string
		b    Batch
	}{{"dense", batch}, {"compressed", Compress(batch)}} {
		b.Run(bc.name, func(b *testing.B) {
			c := net.NewGradCache(theta, bc.b)
			w, cu := make([]float64, batch.Len()), make([]float64, d)
			c.GradDotSum(cu, w, u, 0, 1/float64(batch.Len()), 1)
			b.ReportAllocs()
			for b.Loop() {
				c.GradDotSum(cu, w, u, 0, 1/float64(batch.Len()), 1)
			}
		})
	}
}
