package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// naivePerExampleGrads materialises g_i by calling Loss on each one-example batch.
func naivePerExampleGrads(m Model, theta []float64, b Batch) *mat.Dense {
	G := mat.NewDense(b.Len(), m.NumParams(), nil)
	for i := 0; i < b.Len(); i++ {
		m.Loss(G.RawRowView(i), theta, rowBatch(b, i))
	}
	return G
}

// TestPerExampleAgainstNaive checks every per-example and matrix-free method against the
// materialised per-example gradients G (n×d) from one-example Loss calls: the batched paths
// do the same arithmetic up to summation order, so 1e-12 relative.
func TestPerExampleAgainstNaive(t *testing.T) {
	const tol = 1e-12
	for ci, tc := range allCases {
		net, b, theta := tc.setup(t, uint64(ci))
		n, d := b.Len(), net.NumParams()
		rng := rand.New(rand.NewPCG(uint64(ci), 3))
		G := naivePerExampleGrads(net, theta, b)

		// PerExampleGrads.
		var PG mat.Dense
		net.PerExampleGrads(&PG, theta, b)
		if e := denseRelErr(&PG, G); e > tol {
			t.Errorf("%s: PerExampleGrads: relative error %g", tc.name, e)
		}

		// PerExampleLoss vs Loss on single examples.
		pl := make([]float64, n)
		net.PerExampleLoss(pl, theta, b)
		for i := range pl {
			want := net.Loss(nil, theta, rowBatch(b, i))
			if math.Abs(pl[i]-want) > tol*math.Max(1, math.Abs(want)) {
				t.Errorf("%s: PerExampleLoss[%d] = %v, want %v", tc.name, i, pl[i], want)
			}
		}

		// GradDot vs G u.
		u := randVec(rng, d)
		gd := make([]float64, n)
		net.GradDot(gd, theta, b, u)
		want := make([]float64, n)
		mat.NewVecDense(n, want).MulVec(G, mat.NewVecDense(d, u))
		if e := relErr(gd, want); e > tol {
			t.Errorf("%s: GradDot: relative error %g", tc.name, e)
		}

		// GradSum vs Gᵀ w.
		w := randVec(rng, n)
		gs := make([]float64, d)
		net.GradSum(gs, theta, b, w)
		wantS := make([]float64, d)
		mat.NewVecDense(d, wantS).MulVec(G.T(), mat.NewVecDense(n, w))
		if e := relErr(gs, wantS); e > tol {
			t.Errorf("%s: GradSum: relative error %g", tc.name, e)
		}

		// Gram vs G Gᵀ, and exact symmetry.
		var gram, wantG mat.Dense
		net.Gram(&gram, theta, b)
		wantG.Mul(G, G.T())
		if e := denseRelErr(&gram, &wantG); e > tol {
			t.Errorf("%s: Gram: relative error %g", tc.name, e)
		}
		for i := 0; i < n; i++ {
			for j := 0; j < i; j++ {
				if gram.At(i, j) != gram.At(j, i) {
					t.Fatalf("%s: Gram not exactly symmetric at (%d, %d)", tc.name, i, j)
				}
			}
		}

		// PerExampleHessVec vs HessVec on one-example batches.
		V := mat.NewDense(n, d, randVec(rng, n*d))
		var HV mat.Dense
		net.PerExampleHessVec(&HV, theta, b, V)
		wantHV := mat.NewDense(n, d, nil)
		for i := 0; i < n; i++ {
			net.HessVec(wantHV.RawRowView(i), theta, rowBatch(b, i), V.RawRowView(i))
		}
		if e := denseRelErr(&HV, wantHV); e > tol {
			t.Errorf("%s: PerExampleHessVec: relative error %g", tc.name, e)
		}

		// Mean of the materialised gradients vs Loss's gradient.
		g := make([]float64, d)
		net.Loss(g, theta, b)
		mean := make([]float64, d)
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				mean[j] += G.At(i, j) / float64(n)
			}
		}
		if e := relErr(g, mean); e > tol {
			t.Errorf("%s: mean gradient vs mean of per-example gradients: relative error %g", tc.name, e)
		}
	}
}

// TestStridedInputs runs the methods on views (stride > width) of X and V and into views
// of dst, comparing with contiguous copies: results must be identical.
func TestStridedInputs(t *testing.T) {
	tc := allCases[6] // two hidden layers
	net, b, theta := tc.setup(t, 21)
	n, p := b.X.Dims()
	d := net.NumParams()
	big := mat.NewDense(n+2, p+3, nil)
	view := big.Slice(1, n+1, 2, p+2).(*mat.Dense)
	view.Copy(b.X)
	bv := Batch{X: view, Y: b.Y}

	var g1, g2 mat.Dense
	net.PerExampleGrads(&g1, theta, b)
	dstBig := mat.NewDense(n+1, d+4, nil)
	g2v := dstBig.Slice(1, n+1, 1, d+1).(*mat.Dense)
	net.PerExampleGrads(g2v, theta, bv)
	g2.CloneFrom(g2v)
	if !mat.Equal(&g1, &g2) {
		t.Error("PerExampleGrads differs on a strided view")
	}

	rng := rand.New(rand.NewPCG(1, 2))
	Vbig := mat.NewDense(n, d+5, randVec(rng, n*(d+5)))
	Vv := Vbig.Slice(0, n, 5, d+5).(*mat.Dense)
	Vc := mat.DenseCopyOf(Vv)
	var h1, h2 mat.Dense
	net.PerExampleHessVec(&h1, theta, b, Vc)
	net.PerExampleHessVec(&h2, theta, bv, Vv)
	if !mat.Equal(&h1, &h2) {
		t.Error("PerExampleHessVec differs on strided views")
	}
	var G1, G2 mat.Dense
	net.Gram(&G1, theta, b)
	net.Gram(&G2, theta, bv)
	if !mat.Equal(&G1, &G2) {
		t.Error("Gram differs on a strided view")
	}
}

// TestGramTiles uses more examples than one Gram tile (so off-diagonal tiles are used), with
// a categorical output and a one-output (Bernoulli) layer.
func TestGramTiles(t *testing.T) {
	for _, tc := range []testCase{
		{name: "mlp-big", spec: "mlp:3", p: 3, K: 3, n: gramTile + 45, thScale: 1},
		{name: "logistic-big", spec: "logistic", p: 3, K: 2, n: 2*gramTile + 7, thScale: 1},
	} {
		net, b, theta := tc.setup(t, 4)
		G := naivePerExampleGrads(net, theta, b)
		var gram, want mat.Dense
		net.Gram(&gram, theta, b)
		want.Mul(G, G.T())
		if e := denseRelErr(&gram, &want); e > 1e-12 {
			t.Errorf("%s: tiled Gram: relative error %g", tc.name, e)
		}
		if !mat.Equal(&gram, gram.T()) {
			t.Errorf("%s: tiled Gram is not exactly symmetric", tc.name)
		}
	}
	// An element does not depend on the tiling: the Gram matrix of the first 300 examples
	// (tiles of gramTile/2) is bitwise the top-left block of that of 600 (tiles of gramTile).
	tc := testCase{name: "tiling", spec: "mlp:5", p: 7, K: 3, n: 2*gramTile + 88, thScale: 1}
	net, b, theta := tc.setup(t, 5)
	var big, small mat.Dense
	net.Gram(&big, theta, b)
	m := gramTile + 44
	net.Gram(&small, theta, Batch{X: b.X.Slice(0, m, 0, tc.p).(*mat.Dense), Y: b.Y[:m]})
	if gramTileFor(m) == gramTileFor(b.Len()) {
		t.Fatalf("the two batches use the same tile size")
	}
	if !mat.Equal(&small, big.Slice(0, m, 0, m)) {
		t.Errorf("the Gram matrix depends on the tiling")
	}
}

// TestInputsNotModified checks that no method writes to θ, X, Y, u, w or V.
func TestInputsNotModified(t *testing.T) {
	for ci, tc := range allCases {
		net, b, theta := tc.setup(t, uint64(ci))
		n, d := b.Len(), net.NumParams()
		rng := rand.New(rand.NewPCG(9, 9))
		u, w, V := randVec(rng, d), randVec(rng, n), mat.NewDense(n, d, randVec(rng, n*d))
		th0, X0, Y0 := append([]float64(nil), theta...), mat.DenseCopyOf(b.X), append([]float64(nil), b.Y...)
		u0, w0, V0 := append([]float64(nil), u...), append([]float64(nil), w...), mat.DenseCopyOf(V)
		net.Loss(make([]float64, d), theta, b)
		net.PerExampleLoss(make([]float64, n), theta, b)
		net.PerExampleGrads(&mat.Dense{}, theta, b)
		net.GradDot(make([]float64, n), theta, b, u)
		net.GradSum(make([]float64, d), theta, b, w)
		net.Gram(&mat.Dense{}, theta, b)
		net.HessVec(make([]float64, d), theta, b, u)
		net.PerExampleHessVec(&mat.Dense{}, theta, b, V)
		net.Outputs(&mat.Dense{}, theta, b.X)
		if !equalSlices(theta, th0) || !mat.Equal(b.X, X0) || !equalSlices(b.Y, Y0) ||
			!equalSlices(u, u0) || !equalSlices(w, w0) || !mat.Equal(V, V0) {
			t.Errorf("%s: an input was modified", tc.name)
		}
	}
}

func equalSlices(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}
