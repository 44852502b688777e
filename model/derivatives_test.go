package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// kinkMargin is the smallest |z| of any relu pre-activation allowed at the test points: the
// finite-difference steps below move any pre-activation by far less (|Δz| ≤ h·Σ|inputs|
// ≲ 1e-3), so no kink is crossed and the loss is smooth on the stencil.
const kinkMargin = 2e-2

func checkKinkFree(t *testing.T, tc testCase, net *Network, theta []float64, b Batch) {
	t.Helper()
	if net.act == ReLU && len(net.layers) > 1 {
		if m := minAbsPre(net, theta, b); m < kinkMargin {
			t.Fatalf("%s: test point has a relu pre-activation %g within %g of the kink; change the seed", tc.name, m, kinkMargin)
		}
	}
}

// TestLossMatchesNaive checks the batched loss against an independent per-example loop.
func TestLossMatchesNaive(t *testing.T) {
	for ci, tc := range allCases {
		net, b, theta := tc.setup(t, uint64(ci))
		var want float64
		per := make([]float64, b.Len())
		net.PerExampleLoss(per, theta, b)
		for i := 0; i < b.Len(); i++ {
			li, _ := naiveForward(net, theta, b.X.RawRowView(i), b.Y[i])
			if math.Abs(per[i]-li) > 1e-12*math.Max(1, math.Abs(li)) {
				t.Errorf("%s: ℓ_%d = %v, naive %v", tc.name, i, per[i], li)
			}
			want += li
		}
		want /= float64(b.Len())
		if got := net.Loss(nil, theta, b); math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: Loss = %v, naive %v", tc.name, got, want)
		}
	}
}

// TestGradientFiniteDifference: the mean gradient against central differences with step
// h = 1e-5 (truncation ~h²·|ℓ”'| ≈ 1e-10, rounding ~ε|ℓ|/h ≈ 1e-11): 1e-7 relative.
func TestGradientFiniteDifference(t *testing.T) {
	for ci, tc := range allCases {
		net, b, theta := tc.setup(t, uint64(ci))
		checkKinkFree(t, tc, net, theta, b)
		g := make([]float64, net.NumParams())
		net.Loss(g, theta, b)
		want := fdGrad(net, theta, b, 1e-5)
		if e := relErr(g, want); e > 1e-7 {
			t.Errorf("%s: gradient vs finite differences: relative error %g", tc.name, e)
		}
	}
}

// TestHessVecFiniteDifference: HessVec against central differences of the gradient along
// random directions (h = 1e-4: truncation ~h²·|ℓ””| ≈ 1e-8, rounding ~ε|g|/h ≈ 1e-12):
// 1e-6 relative.
func TestHessVecFiniteDifference(t *testing.T) {
	for ci, tc := range allCases {
		net, b, theta := tc.setup(t, uint64(ci))
		checkKinkFree(t, tc, net, theta, b)
		rng := rand.New(rand.NewPCG(uint64(ci), 99))
		for k := 0; k < 3; k++ {
			v := randVec(rng, net.NumParams())
			hv := make([]float64, len(v))
			net.HessVec(hv, theta, b, v)
			want := fdHessDir(net, theta, b, v, 1e-4)
			if e := relErr(hv, want); e > 1e-6 {
				t.Errorf("%s: HessVec vs finite differences: relative error %g", tc.name, e)
			}
		}
	}
}

// denseHessFromHV builds the Hessian column by column from HessVec on unit vectors.
func denseHessFromHV(m Model, theta []float64, b Batch) *mat.Dense {
	d := len(theta)
	H := mat.NewDense(d, d, nil)
	e := make([]float64, d)
	col := make([]float64, d)
	for j := 0; j < d; j++ {
		e[j] = 1
		m.HessVec(col, theta, b, e)
		e[j] = 0
		H.SetCol(j, col)
	}
	return H
}

// analyticHess is the Hessian of the mean NLL of a linear model, written independently of
// the package: (1/n) Σ_i (∂²ℓ_i/∂z²) ⊗ x̃_i x̃_iᵀ with x̃ = (x, 1), in the documented layout
// (W row-major K×p, then b).
func analyticHess(net *Network, theta []float64, b Batch) *mat.Dense {
	n, p := b.X.Dims()
	K := net.NumOutputs()
	d := K * (p + 1)
	idx := func(k, c int) int { // c = p is the bias
		if c == p {
			return K*p + k
		}
		return k*p + c
	}
	H := mat.NewDense(d, d, nil)
	for i := 0; i < n; i++ {
		xt := append(append([]float64(nil), b.X.RawRowView(i)...), 1)
		z := make([]float64, K)
		for k := 0; k < K; k++ {
			for c := 0; c <= p; c++ {
				z[k] += theta[idx(k, c)] * xt[c]
			}
		}
		hz := mat.NewDense(K, K, nil) // ∂²ℓ/∂z²
		switch net.head {
		case Gaussian:
			hz.Set(0, 0, 1/(net.sigma*net.sigma))
		case Bernoulli:
			q := 1 / (1 + math.Exp(-z[0]))
			hz.Set(0, 0, q*(1-q))
		case Categorical:
			var s float64
			for _, v := range z {
				s += math.Exp(v)
			}
			q := make([]float64, K)
			for k, v := range z {
				q[k] = math.Exp(v) / s
			}
			for k := 0; k < K; k++ {
				for k2 := 0; k2 < K; k2++ {
					v := -q[k] * q[k2]
					if k == k2 {
						v += q[k]
					}
					hz.Set(k, k2, v)
				}
			}
		}
		for k := 0; k < K; k++ {
			for k2 := 0; k2 < K; k2++ {
				for c := 0; c <= p; c++ {
					for c2 := 0; c2 <= p; c2++ {
						H.Set(idx(k, c), idx(k2, c2), H.At(idx(k, c), idx(k2, c2))+hz.At(k, k2)*xt[c]*xt[c2]/float64(n))
					}
				}
			}
		}
	}
	return H
}

// fdDenseHess builds the Hessian by central differences of the gradient along each unit
// vector (h = 1e-4), then symmetrises it.
func fdDenseHess(m Model, theta []float64, b Batch) *mat.Dense {
	d := len(theta)
	H := mat.NewDense(d, d, nil)
	e := make([]float64, d)
	for j := 0; j < d; j++ {
		e[j] = 1
		H.SetCol(j, fdHessDir(m, theta, b, e, 1e-4))
		e[j] = 0
	}
	var S mat.Dense
	S.Add(H, H.T())
	S.Scale(0.5, &S)
	return &S
}

// TestHessVecDense compares the Hessian assembled from HessVec with an analytic Hessian
// (linear models: 1e-12 relative, only rounding) or a finite-difference Hessian (MLPs:
// 1e-6 relative, as in TestHessVecFiniteDifference), and checks it is symmetric.
func TestHessVecDense(t *testing.T) {
	for ci, tc := range allCases {
		net, b, theta := tc.setup(t, uint64(ci))
		checkKinkFree(t, tc, net, theta, b)
		H := denseHessFromHV(net, theta, b)
		if e := denseRelErr(H, mat.DenseCopyOf(H.T())); e > 1e-13 {
			t.Errorf("%s: HessVec Hessian not symmetric: %g", tc.name, e)
		}
		var want *mat.Dense
		tol := 1e-6
		if len(net.layers) == 1 {
			want, tol = analyticHess(net, theta, b), 1e-12
		} else {
			want = fdDenseHess(net, theta, b)
		}
		if e := denseRelErr(H, want); e > tol {
			t.Errorf("%s: HessVec vs dense Hessian: relative error %g (tolerance %g)", tc.name, e, tol)
		}
	}
}

// TestStableExtremeLogits checks the stable forms of softplus and logsumexp against closed
// forms at logits where the naive formulas overflow.
func TestStableExtremeLogits(t *testing.T) {
	// Logistic with |z| = 800: softplus must not overflow and the gradient is p − y.
	net, err := NewNetwork("logistic", 1, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	X := mat.NewDense(2, 1, []float64{800, -800})
	b := Batch{X: X, Y: []float64{0, 0}}
	theta := []float64{1, 0}
	g := make([]float64, 2)
	got := net.Loss(g, theta, b)
	// ℓ_1 = softplus(800) = 800 (+ e^-800), ℓ_2 = softplus(−800) = e^-800 ≈ 0.
	if want := 400.0; math.Abs(got-want) > 1e-12*want {
		t.Errorf("logistic extreme loss = %v, want %v", got, want)
	}
	// g = mean (p − y) x̃ = ((1·800 + 0·(−800))/2, (1 + 0)/2).
	if math.Abs(g[0]-400) > 1e-12*400 || math.Abs(g[1]-0.5) > 1e-15 {
		t.Errorf("logistic extreme gradient = %v, want [400 0.5]", g)
	}
	// Softmax with logits (1000, 0, −1000): ℓ = lse − z_y, finite.
	sm, err := NewNetwork("softmax", 1, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	theta = []float64{1000, 0, -1000, 0, 0, 0}
	b = Batch{X: mat.NewDense(1, 1, []float64{1}), Y: []float64{1}}
	g = make([]float64, 6)
	if got := sm.Loss(g, theta, b); math.Abs(got-1000) > 1e-12*1000 {
		t.Errorf("softmax extreme loss = %v, want 1000", got)
	}
	for _, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("softmax extreme gradient not finite: %v", g)
		}
	}
	if math.Abs(g[0]-1) > 1e-15 || math.Abs(g[1]+1) > 1e-15 {
		t.Errorf("softmax extreme gradient = %v, want p − e_y = (1, −1, 0) on W and b", g)
	}
}

// TestChunking runs a batch longer than chunkRows through every method and compares with
// the same quantities assembled from per-example gradients (1e-12 relative).
func TestChunking(t *testing.T) {
	tc := testCase{name: "mlp2-big", spec: "mlp:7,5", p: 6, K: 4, n: chunkRows*2 + 37, thScale: 0.5}
	net, b, theta := tc.setup(t, 11)
	n, d := b.Len(), net.NumParams()
	G := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		net.Loss(G.RawRowView(i), theta, rowBatch(b, i))
	}
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			mean[j] += G.At(i, j) / float64(n)
		}
	}
	g := make([]float64, d)
	net.Loss(g, theta, b)
	if e := relErr(g, mean); e > 1e-12 {
		t.Errorf("chunked mean gradient: relative error %g", e)
	}
	var PG mat.Dense
	net.PerExampleGrads(&PG, theta, b)
	if e := denseRelErr(&PG, G); e > 1e-12 {
		t.Errorf("chunked PerExampleGrads: relative error %g", e)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	v := randVec(rng, d)
	hv := make([]float64, d)
	net.HessVec(hv, theta, b, v)
	want := make([]float64, d)
	col := make([]float64, d)
	for i := 0; i < n; i++ {
		net.HessVec(col, theta, rowBatch(b, i), v)
		for j := range want {
			want[j] += col[j] / float64(n)
		}
	}
	if e := relErr(hv, want); e > 1e-12 {
		t.Errorf("chunked HessVec: relative error %g", e)
	}
}
