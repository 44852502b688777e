package model

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// TestZeroAllocs checks that steady-state calls make no allocations, on a batch that spans
// two chunks and products large enough to be split between threads, and on one long enough
// for the two lanes to run at once.
func TestZeroAllocs(t *testing.T) {
	for _, tc := range []testCase{
		{name: "mlp", spec: "mlp:64,8", p: 200, K: 5, n: chunkRows + 44, thScale: 0.1},
		{name: "mlp-lanes", spec: "mlp:16", p: 40, K: 3, n: (laneParMin+1)*chunkRows + 7, thScale: 0.1},
		{name: "mlp-relu-regress", spec: "mlp:16", opt: Options{Act: "relu", Task: "regress"}, p: 20, n: 50, thScale: 0.3},
		{name: "logistic", spec: "logistic", p: 30, K: 2, n: 100, thScale: 0.3},
		{name: "softmax", spec: "softmax", p: 30, K: 4, n: 100, thScale: 0.3},
		{name: "linreg", spec: "linreg", p: 30, n: 100, thScale: 0.3},
	} {
		net, b, theta := tc.setup(t, 1)
		n, d := b.Len(), net.NumParams()
		rng := rand.New(rand.NewPCG(2, 2))
		u, w := randVec(rng, d), randVec(rng, n)
		V := mat.NewDense(n, d, randVec(rng, n*d))
		grad, pl, gd, gs, hv := make([]float64, d), make([]float64, n), make([]float64, n), make([]float64, d), make([]float64, d)
		PG, HV, G := mat.NewDense(n, d, nil), mat.NewDense(n, d, nil), mat.NewDense(n, n, nil)
		obj := Objective{Model: net, WeightDecay: 0.1}
		for name, f := range map[string]func(){
			"Loss":              func() { net.Loss(grad, theta, b) },
			"LossNoGrad":        func() { net.Loss(nil, theta, b) },
			"PerExampleLoss":    func() { net.PerExampleLoss(pl, theta, b) },
			"PerExampleGrads":   func() { net.PerExampleGrads(PG, theta, b) },
			"GradDot":           func() { net.GradDot(gd, theta, b, u) },
			"GradSum":           func() { net.GradSum(gs, theta, b, w) },
			"Gram":              func() { net.Gram(G, theta, b) },
			"GradDotSum":        func() { net.GradDotSum(gs, gd, theta, b, u, 0.5, 1/float64(n), 1) },
			"HessVec":           func() { net.HessVec(hv, theta, b, u) },
			"PerExampleHessVec": func() { net.PerExampleHessVec(HV, theta, b, V) },
			"Objective.Loss":    func() { obj.Loss(grad, theta, b) },
			"Objective.HessVec": func() { obj.HessVec(hv, theta, b, u) },
		} {
			f() // grow scratch
			if a := testing.AllocsPerRun(5, f); a != 0 {
				t.Errorf("%s: %s makes %v allocations per call", tc.name, name, a)
			}
		}
	}
}

// TestThreadsBitwise computes every method with and without the helper pool: the results
// must be bitwise identical (reproducibility whatever GOMAXPROCS is). The second batch has
// enough chunks for the two lanes to run at once (lanes.go).
func TestThreadsBitwise(t *testing.T) {
	if kernel.Pool.Size() == 0 {
		t.Skip("GOMAXPROCS = 1: no helpers to compare with")
	}
	for _, tc := range []testCase{
		{name: "mlp", spec: "mlp:96,8", p: 300, K: 5, n: chunkRows + 44, thScale: 0.1},
		{name: "mlp-lanes", spec: "mlp:16,8", p: 50, K: 5, n: (laneParMin+1)*chunkRows + 44, thScale: 0.1},
	} {
		net, b, theta := tc.setup(t, 1)
		n, d := b.Len(), net.NumParams()
		rng := rand.New(rand.NewPCG(2, 2))
		u, w := randVec(rng, d), randVec(rng, n)
		V := mat.NewDense(n, d, randVec(rng, n*d))
		run := func() ([]string, [][]float64) { return everyMethod(net, theta, b, u, w, V) }
		names, par := run()
		kernel.SetSerialOnly(true)
		_, ser := run()
		kernel.SetSerialOnly(false)
		for k := range par {
			if !equalSlices(par[k], ser[k]) {
				t.Errorf("%s: %s differs between the threaded and the serial runs", tc.name, names[k])
			}
		}
	}
}
