//go:build openblas

package model

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// forceBLAS sets the route and returns a function restoring the previous one.
func forceBLAS(on bool) func() {
	old := kernel.SetBLASRoute(on)
	return func() { kernel.SetBLASRoute(old) }
}

// TestBLASThreadsAndAllocs runs the model's bitwise-reproducibility and allocation checks
// (TestThreadsBitwise, TestZeroAllocs) with products routed to OpenBLAS, whatever the
// default route of this machine: every method must give bitwise the same results with and
// without the helper pool, and make no allocation in steady state.
func TestBLASThreadsAndAllocs(t *testing.T) {
	defer forceBLAS(true)()
	tc := testCase{name: "mlp", spec: "mlp:96,8", p: 300, K: 5, n: chunkRows + 44, thScale: 0.1}
	net, b, theta := tc.setup(t, 1)
	n, d := b.Len(), net.NumParams()
	rng := rand.New(rand.NewPCG(2, 2))
	u, w := randVec(rng, d), randVec(rng, n)
	V := mat.NewDense(n, d, randVec(rng, n*d))
	grad, pl, gd, gs, hv := make([]float64, d), make([]float64, n), make([]float64, n), make([]float64, d), make([]float64, d)
	PG, HV, G := mat.NewDense(n, d, nil), mat.NewDense(n, d, nil), mat.NewDense(n, n, nil)
	fs := []func(){
		func() { net.Loss(grad, theta, b) },
		func() { net.PerExampleLoss(pl, theta, b) },
		func() { net.PerExampleGrads(PG, theta, b) },
		func() { net.GradDot(gd, theta, b, u) },
		func() { net.GradSum(gs, theta, b, w) },
		func() { net.Gram(G, theta, b) },
		func() { net.HessVec(hv, theta, b, u) },
		func() { net.PerExampleHessVec(HV, theta, b, V) },
	}
	results := func() [][]float64 {
		return [][]float64{grad, pl, gd, gs, hv, PG.RawMatrix().Data, HV.RawMatrix().Data, G.RawMatrix().Data}
	}
	snapshot := func() [][]float64 {
		for _, f := range fs {
			f()
		}
		var out [][]float64
		for _, r := range results() {
			out = append(out, append([]float64(nil), r...))
		}
		return out
	}
	par := snapshot()
	kernel.SetSerialOnly(true)
	ser := snapshot()
	kernel.SetSerialOnly(false)
	for k := range par {
		if !equalSlices(par[k], ser[k]) {
			t.Errorf("result %d differs between the threaded and the serial products", k)
		}
	}
	for k, f := range fs {
		if a := testing.AllocsPerRun(5, f); a != 0 {
			t.Errorf("method %d makes %v allocations per call", k, a)
		}
	}
}

// TestBLASMatchesOwnGEMM computes every method with products routed to OpenBLAS and with
// the package's own GEMM: the results differ only by rounding (relative error ≤ 1e-12; both
// are accurate to ~1e-15 per product, and the methods are well conditioned at this θ).
func TestBLASMatchesOwnGEMM(t *testing.T) {
	tc := testCase{name: "mlp", spec: "mlp:96,8", p: 300, K: 5, n: chunkRows + 44, thScale: 0.1}
	net, b, theta := tc.setup(t, 1)
	n, d := b.Len(), net.NumParams()
	rng := rand.New(rand.NewPCG(2, 2))
	u, w := randVec(rng, d), randVec(rng, n)
	V := mat.NewDense(n, d, randVec(rng, n*d))
	run := func() ([]string, [][]float64) { return everyMethod(net, theta, b, u, w, V) }
	restore := forceBLAS(true)
	names, withBLAS := run()
	kernel.SetBLASRoute(false)
	_, own := run()
	restore()
	for k := range own {
		if e := relErr(withBLAS[k], own[k]); e > 1e-12 {
			t.Errorf("%s: relative difference %g between OpenBLAS and the package's GEMM", names[k], e)
		}
	}
}

// BenchmarkBLASRoute compares the two routes of the openblas build on mlp:128 and a batch
// of 256 MNIST-shaped examples: products to OpenBLAS ("openblas") or to internal/kernel's
// own GEMM ("own"). internal/kernel's BenchmarkBLASRoute compares them on single products.
func BenchmarkBLASRoute(b *testing.B) {
	net, batch, theta := benchSetup(b, "mlp:128", 256, 784, 10)
	for _, route := range []bool{true, false} {
		name := map[bool]string{true: "openblas", false: "own"}[route]
		b.Run(name, func(b *testing.B) {
			defer forceBLAS(route)()
			benchMethods(b, net, batch, theta, []string{"LossGrad", "GradDot", "GradSum", "Gram", "HessVec"})
		})
	}
}
