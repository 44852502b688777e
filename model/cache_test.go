package model

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestGradCache checks the cached products against the uncached ones (bitwise: same chunks,
// same products) and against materialised per-example gradients (an independent naive loop,
// 1e-12 relative), over batches of one and several chunks, with the Network used for other
// work between the calls.
func TestGradCache(t *testing.T) {
	for _, tc := range []testCase{
		{name: "mlp2", spec: "mlp:64,8", p: 40, K: 5, n: 2*chunkRows + 17, thScale: 0.2},
		{name: "mlp-relu-regress", spec: "mlp:16", opt: Options{Act: "relu", Task: "regress"}, p: 20, n: 50, thScale: 0.3},
		{name: "logistic", spec: "logistic", p: 30, K: 2, n: chunkRows + 1, thScale: 0.3},
		{name: "softmax", spec: "softmax", p: 30, K: 4, n: 100, thScale: 0.3},
		{name: "linreg", spec: "linreg", p: 30, n: 7, thScale: 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net, b, theta := tc.setup(t, 3)
			n, d := b.Len(), net.NumParams()
			rng := rand.New(rand.NewPCG(4, 4))
			u, w := randVec(rng, d), randVec(rng, n)
			c := net.NewGradCache(theta, b)
			if c.Len() != n {
				t.Fatalf("Len = %d, want %d", c.Len(), n)
			}
			got, want := make([]float64, n), make([]float64, n)
			gs, ws := make([]float64, d), make([]float64, d)
			// Use the network elsewhere in between: the cache must not depend on its scratch.
			other := append([]float64(nil), theta...)
			for j := range other {
				other[j] += 0.1
			}
			net.Loss(make([]float64, d), other, b)
			c.GradDot(got, u)
			net.GradDot(want, theta, b, u)
			if !equalSlices(got, want) {
				t.Errorf("GradDot differs from the uncached product")
			}
			net.Loss(nil, other, b)
			c.GradSum(gs, w)
			net.GradSum(ws, theta, b, w)
			if !equalSlices(gs, ws) {
				t.Errorf("GradSum differs from the uncached product")
			}
			G := naivePerExampleGrads(net, theta, b)
			nd, ns := make([]float64, n), make([]float64, d)
			for i := 0; i < n; i++ {
				for j := 0; j < d; j++ {
					nd[i] += G.At(i, j) * u[j]
					ns[j] += w[i] * G.At(i, j)
				}
			}
			if e := relErr(got, nd); e > 1e-12 {
				t.Errorf("GradDot: relative error %.2g against the naive loop", e)
			}
			if e := relErr(gs, ns); e > 1e-12 {
				t.Errorf("GradSum: relative error %.2g against the naive loop", e)
			}
			// GradDotSum: bitwise the cached GradDot, the weights, then the cached GradSum,
			// and bitwise Network.GradDotSum.
			mu, alpha, beta := 0.3, 1/float64(n), 1.7
			fw, fs := make([]float64, n), make([]float64, d)
			c.GradDotSum(fs, fw, u, mu, alpha, beta)
			sw, ss := make([]float64, n), make([]float64, d)
			c.GradDot(sw, u)
			covWeights(sw, mu, alpha, beta)
			c.GradSum(ss, sw)
			if !equalSlices(fw, sw) || !equalSlices(fs, ss) {
				t.Errorf("GradDotSum differs from GradDot, the weights and GradSum")
			}
			uw, us := make([]float64, n), make([]float64, d)
			net.GradDotSum(us, uw, theta, b, u, mu, alpha, beta)
			if !equalSlices(fw, uw) || !equalSlices(fs, us) {
				t.Errorf("GradDotSum differs from the uncached Network.GradDotSum")
			}
			var cg, ng mat.Dense
			c.Gram(&cg)
			net.Gram(&ng, theta, b)
			if !equalSlices(cg.RawMatrix().Data, ng.RawMatrix().Data) {
				t.Errorf("GradCache.Gram differs from Network.Gram")
			}
			mg, lg := make([]float64, d), make([]float64, d)
			c.MeanGrad(mg)
			net.Loss(lg, theta, b)
			if !equalSlices(mg, lg) {
				t.Errorf("MeanGrad differs from Loss's gradient")
			}
			if f := net.CacheFloats(n); f <= 0 {
				t.Errorf("CacheFloats = %d", f)
			}
			if a := testing.AllocsPerRun(5, func() { c.GradDot(got, u); c.GradSum(gs, w); c.MeanGrad(mg) }); a != 0 {
				t.Errorf("cached products make %v allocations per call", a)
			}
		})
	}
}

// TestMultiDirection checks HessVecs and GradDots against one HessVec or GradDot call per
// direction (bitwise: the shared forward pass changes nothing), over several chunks.
func TestMultiDirection(t *testing.T) {
	for _, tc := range []testCase{
		{name: "mlp2", spec: "mlp:12,6", p: 20, K: 4, n: (laneParMin+1)*chunkRows + 3, thScale: 0.3},
		{name: "mlp-relu-regress", spec: "mlp:16", opt: Options{Act: "relu", Task: "regress"}, p: 20, n: 50, thScale: 0.3},
		{name: "logistic", spec: "logistic", p: 30, K: 2, n: chunkRows + 1, thScale: 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net, b, theta := tc.setup(t, 5)
			n, d := b.Len(), net.NumParams()
			rng := rand.New(rand.NewPCG(6, 6))
			const k = 3
			v, hv, gd := make([][]float64, k), make([][]float64, k), make([][]float64, k)
			for j := range v {
				v[j], hv[j], gd[j] = randVec(rng, d), make([]float64, d), make([]float64, n)
			}
			net.HessVecs(hv, theta, b, v)
			net.GradDots(gd, theta, b, v)
			one, dot := make([]float64, d), make([]float64, n)
			for j := range v {
				net.HessVec(one, theta, b, v[j])
				if !equalSlices(one, hv[j]) {
					t.Errorf("HessVecs direction %d differs from HessVec", j)
				}
				net.GradDot(dot, theta, b, v[j])
				if !equalSlices(dot, gd[j]) {
					t.Errorf("GradDots direction %d differs from GradDot", j)
				}
			}
			if a := testing.AllocsPerRun(3, func() { net.HessVecs(hv, theta, b, v); net.GradDots(gd, theta, b, v) }); a != 0 {
				t.Errorf("multi-direction products make %v allocations per call", a)
			}
		})
	}
}

// TestGradOnly checks Grad against Loss's gradient (bitwise: the head's logarithms only
// feed the loss) on every head, over one and several chunks, without allocations.
func TestGradOnly(t *testing.T) {
	for _, tc := range []testCase{
		{name: "mlp", spec: "mlp:12,6", p: 20, K: 4, n: 3*chunkRows + 3, thScale: 0.3},
		{name: "regress", spec: "mlp:16", opt: Options{Task: "regress"}, p: 20, n: 50, thScale: 0.3},
		{name: "logistic", spec: "logistic", p: 30, K: 2, n: 40, thScale: 0.3},
	} {
		net, b, theta := tc.setup(t, 8)
		d := net.NumParams()
		g, want := make([]float64, d), make([]float64, d)
		net.Grad(g, theta, b)
		net.Loss(want, theta, b)
		if !equalSlices(g, want) {
			t.Errorf("%s: Grad differs from Loss's gradient", tc.name)
		}
		if a := testing.AllocsPerRun(3, func() { net.Grad(g, theta, b) }); a != 0 {
			t.Errorf("%s: Grad makes %v allocations per call", tc.name, a)
		}
	}
}
