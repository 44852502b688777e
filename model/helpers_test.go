package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// testCase is one model configuration the derivative tests run on.
type testCase struct {
	name    string
	spec    string
	opt     Options
	p, K    int     // features, classes (0: numeric target)
	n       int     // examples
	thScale float64 // scale of the random θ
	seed    uint64  // added to the seed setup is given (to move relu test points off kinks)
}

// allCases covers every model kind: the three linear models, mlp with tanh and relu,
// classification and regression, one and two hidden layers.
var allCases = []testCase{
	{name: "linreg", spec: "linreg", opt: Options{Sigma: 0.7}, p: 4, n: 9, thScale: 1},
	{name: "logistic", spec: "logistic", p: 4, K: 2, n: 9, thScale: 1},
	{name: "softmax", spec: "softmax", p: 4, K: 3, n: 9, thScale: 1},
	{name: "mlp-tanh", spec: "mlp:5", p: 4, K: 3, n: 9, thScale: 1},
	{name: "mlp-relu", spec: "mlp:5", opt: Options{Act: "relu"}, p: 4, K: 3, n: 9, thScale: 1},
	{name: "mlp-regress", spec: "mlp:5", opt: Options{Task: "regress", Sigma: 1.3}, p: 4, n: 9, thScale: 1},
	{name: "mlp2-tanh", spec: "mlp:5,4", p: 4, K: 3, n: 9, thScale: 1},
	{name: "mlp2-relu", spec: "mlp:6,5", opt: Options{Act: "relu"}, p: 4, K: 3, n: 9, thScale: 1, seed: 1},
	{name: "mlp2-relu-regress", spec: "mlp:6,5", opt: Options{Act: "relu", Task: "regress"}, p: 3, n: 9, thScale: 1},
	{name: "mlp2-tanh-binary", spec: "mlp:3,4", p: 4, K: 2, n: 9, thScale: 1},
}

// setup builds the network, a random batch and a random θ (seeded by the case index).
func (tc testCase) setup(t testing.TB, seed uint64) (*Network, Batch, []float64) {
	t.Helper()
	net, err := NewNetwork(tc.spec, tc.p, tc.K, tc.opt)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed+tc.seed, 7))
	b := randBatch(rng, tc.n, tc.p, tc.K)
	theta := make([]float64, net.NumParams())
	for i := range theta {
		theta[i] = tc.thScale * rng.NormFloat64()
	}
	return net, b, theta
}

func randBatch(rng *rand.Rand, n, p, K int) Batch {
	X := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			X.Set(i, j, rng.NormFloat64())
		}
		if K == 0 {
			y[i] = rng.NormFloat64()
		} else {
			y[i] = float64(rng.IntN(K))
		}
	}
	return Batch{X: X, Y: y}
}

// rowBatch returns the one-example batch of row i.
func rowBatch(b Batch, i int) Batch {
	_, p := b.X.Dims()
	return Batch{X: b.X.Slice(i, i+1, 0, p).(*mat.Dense), Y: b.Y[i : i+1]}
}

// naiveForward is an independent per-example forward pass written with plain loops over the
// documented layout. It returns ℓ_i and every hidden pre-activation (for kink checks).
func naiveForward(net *Network, theta []float64, x []float64, y float64) (loss float64, pre [][]float64) {
	a := x
	L := len(net.layers)
	var z []float64
	for l, ly := range net.layers {
		z = make([]float64, ly.Out)
		for r := 0; r < ly.Out; r++ {
			s := theta[ly.BiasOffset+r]
			for c := 0; c < ly.In; c++ {
				s += theta[ly.WeightOffset+r*ly.In+c] * a[c]
			}
			z[r] = s
		}
		if l < L-1 {
			pre = append(pre, z)
			next := make([]float64, ly.Out)
			for r, v := range z {
				if net.act == Tanh {
					next[r] = math.Tanh(v)
				} else {
					next[r] = math.Max(v, 0)
				}
			}
			a = next
		}
	}
	switch net.head {
	case Gaussian:
		r := z[0] - y
		loss = r * r / (2 * net.sigma * net.sigma)
	case Bernoulli:
		// log(1 + e^z) − y z, written directly (fine for the moderate z of the tests).
		loss = math.Log(1+math.Exp(z[0])) - y*z[0]
	case Categorical:
		var s float64
		for _, v := range z {
			s += math.Exp(v)
		}
		loss = math.Log(s) - z[int(y)]
	}
	return loss, pre
}

// minAbsPre returns the smallest |z| over all hidden pre-activations of the batch.
func minAbsPre(net *Network, theta []float64, b Batch) float64 {
	m := math.Inf(1)
	for i := 0; i < b.Len(); i++ {
		_, pre := naiveForward(net, theta, b.X.RawRowView(i), b.Y[i])
		for _, z := range pre {
			for _, v := range z {
				m = math.Min(m, math.Abs(v))
			}
		}
	}
	return m
}

// fdGrad is the central finite-difference gradient of the mean loss with step h.
func fdGrad(m Model, theta []float64, b Batch, h float64) []float64 {
	g := make([]float64, len(theta))
	th := append([]float64(nil), theta...)
	for j := range th {
		th[j] = theta[j] + h
		fp := m.Loss(nil, th, b)
		th[j] = theta[j] - h
		fm := m.Loss(nil, th, b)
		th[j] = theta[j]
		g[j] = (fp - fm) / (2 * h)
	}
	return g
}

// fdHessCol is the central difference of the gradient along v with step h.
func fdHessDir(m Model, theta []float64, b Batch, v []float64, h float64) []float64 {
	d := len(theta)
	gp, gm := make([]float64, d), make([]float64, d)
	tp, tm := make([]float64, d), make([]float64, d)
	for j := range theta {
		tp[j] = theta[j] + h*v[j]
		tm[j] = theta[j] - h*v[j]
	}
	m.Loss(gp, tp, b)
	m.Loss(gm, tm, b)
	for j := range gp {
		gp[j] = (gp[j] - gm[j]) / (2 * h)
	}
	return gp
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

func randVec(rng *rand.Rand, d int) []float64 { return randSlice(rng, d) }

// relErr returns ‖x − y‖₂ / ‖y‖₂ (or ‖x − y‖₂ when y = 0).
func relErr(x, y []float64) float64 {
	var num, den float64
	for i := range x {
		num += (x[i] - y[i]) * (x[i] - y[i])
		den += y[i] * y[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// denseRelErr is ‖A − B‖_F / ‖B‖_F.
func denseRelErr(a, b *mat.Dense) float64 {
	var diff mat.Dense
	diff.Sub(a, b)
	return mat.Norm(&diff, 2) / mat.Norm(b, 2)
}

// everyMethod runs every batched method of net at θ on b (directions u and V, weights w,
// the cached products too) and returns their names and results, in the same order.
func everyMethod(net *Network, theta []float64, b Batch, u, w []float64, V *mat.Dense) ([]string, [][]float64) {
	n, d := b.Len(), net.NumParams()
	grad, pl, gd, gs, hv := make([]float64, d), make([]float64, n), make([]float64, n), make([]float64, d), make([]float64, d)
	cgd, cgs, cmg := make([]float64, n), make([]float64, d), make([]float64, d)
	var PG, HV, G, CG mat.Dense
	loss := net.Loss(grad, theta, b)
	net.PerExampleLoss(pl, theta, b)
	net.PerExampleGrads(&PG, theta, b)
	net.GradDot(gd, theta, b, u)
	net.GradSum(gs, theta, b, w)
	net.Gram(&G, theta, b)
	net.HessVec(hv, theta, b, u)
	net.PerExampleHessVec(&HV, theta, b, V)
	mg := make([]float64, d)
	net.Loss(mg, theta, b)
	cw, cu := make([]float64, n), make([]float64, d)
	net.GradDotSum(cu, cw, theta, b, u, dot(mg, u), 1/float64(n), 1)
	c := net.NewGradCache(theta, b)
	c.GradDot(cgd, u)
	c.GradSum(cgs, w)
	c.MeanGrad(cmg)
	c.Gram(&CG)
	return []string{"Loss (value)", "Loss", "PerExampleLoss", "GradDot", "GradSum", "HessVec", "PerExampleGrads", "PerExampleHessVec", "Gram", "GradCache.GradDot", "GradCache.GradSum", "GradCache.MeanGrad", "GradCache.Gram", "GradDotSum (weights)", "GradDotSum"},
		[][]float64{{loss}, grad, pl, gd, gs, hv, PG.RawMatrix().Data, HV.RawMatrix().Data, G.RawMatrix().Data, cgd, cgs, cmg, CG.RawMatrix().Data, cw, cu}
}
