package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

type cnnCase struct {
	spec  string
	opt   Options
	shape []int
	K, n  int
}

var cnnCases = []cnnCase{
	{spec: "cnn:c3k3,max2,f5", shape: []int{1, 8, 8}, K: 3, n: 7},
	{spec: "cnn:c2k3s2p1,avg2,f4", opt: Options{Act: "relu"}, shape: []int{2, 7, 9}, K: 3, n: 70},
	{spec: "cnn:c3k2,c2k3p1,max2", shape: []int{1, 6, 6}, K: 4, n: 5},
	{spec: "cnn:c2k3,avg2,c3k2s1p1", opt: Options{Task: "regress", Sigma: 0.8}, shape: []int{3, 7, 7}, n: 6},
	{spec: "cnn:f6", shape: []int{1, 3, 3}, K: 2, n: 5},
	{spec: "cnn:c3k3p1,max2,c2k2s2,f4", opt: Options{Act: "relu"}, shape: []int{2, 6, 6}, K: 3, n: 66},
	{spec: "cnn:c2k2,max3,f3", shape: []int{1, 8, 8}, K: 3, n: 5},
}

func (tc cnnCase) setup(t *testing.T, seed uint64) (*ConvNet, Batch, []float64) {
	t.Helper()
	p := tc.shape[0] * tc.shape[1] * tc.shape[2]
	opt := tc.opt
	opt.Shape = tc.shape
	m, err := NewConvNet(tc.spec, p, tc.K, opt)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	b := randBatch(rng, tc.n, p, tc.K)
	theta := make([]float64, m.NumParams())
	InitParams(theta, m, rng)
	for i := range theta {
		theta[i] *= 2
	}
	return m, b, theta
}

func TestCNNSpec(t *testing.T) {
	m, err := New("cnn:c4k3s1p0,max2,f16", 64, 10, Options{Shape: []int{1, 8, 8}})
	if err != nil {
		t.Fatal(err)
	}
	// PyTorch: Conv2d(1,4,3) (36+4) → MaxPool2d(2) → Linear(36,16) (576+16) → Linear(16,10) (160+10).
	if m.Name() != "cnn:c4k3,max2,f16" || m.NumParams() != 40+592+170 {
		t.Fatalf("name %q d %d", m.Name(), m.NumParams())
	}
	cn := m.(*ConvNet)
	if got := cn.ParamName(1*9 + 2*3 + 1); got != "conv1.weight[1,0,2,1]" {
		t.Errorf("ParamName = %q", got)
	}
	if got := cn.ParamName(37); got != "conv1.bias[1]" {
		t.Errorf("ParamName = %q", got)
	}
	if got := cn.ParamName(40 + 36 + 2); got != "W1[1,2]" {
		t.Errorf("ParamName = %q", got)
	}
	for _, c := range []struct{ spec, want string }{
		{"cnn:c4k9", `token "c4k9" (conv, kernel 9) does not fit its 1×8×8 input`},
		{"cnn:c4k3,max7", `token "max7" (pooling, kernel 7) does not fit its 4×6×6 input`},
		{"cnn:c4x3", `bad token "c4x3"`},
		{"cnn:f4,c2k3", "before the first f layer"},
		{"cnn:", "gives no layers"},
	} {
		_, err := New(c.spec, 64, 10, Options{Shape: []int{1, 8, 8}})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err %v, want %q", c.spec, err, c.want)
		}
	}
	if _, err := New("cnn:c4k3", 64, 10, Options{}); err == nil || !strings.Contains(err.Error(), "needs image data with a shape") {
		t.Errorf("nil shape: %v", err)
	}
	if err := CheckSpec("cnn:c4k3s2p1,avg2,f3"); err != nil {
		t.Error(err)
	}
	if err := CheckSpec("cnn:c4k"); err == nil {
		t.Error("CheckSpec accepted cnn:c4k")
	}
}

// TestCNNInitParams: bounds 1/√(Cin·K·K) for conv weights and biases, 1/√In for dense, in
// θ order from one stream.
func TestCNNInitParams(t *testing.T) {
	m, err := NewConvNet("cnn:c2k3,f3", 2*5*5, 2, Options{Shape: []int{2, 5, 5}})
	if err != nil {
		t.Fatal(err)
	}
	th := make([]float64, m.NumParams())
	InitParams(th, m, rand.New(rand.NewPCG(1, 2)))
	rng := rand.New(rand.NewPCG(1, 2))
	fan := func(j int) int {
		switch {
		case j < 2*18+2:
			return 18
		case j < 38+3*18+3:
			return 18 // Linear(2·3·3 = 18, 3)
		}
		return 3
	}
	for j, v := range th {
		if want := (2*rng.Float64() - 1) * (1 / math.Sqrt(float64(fan(j)))); v != want {
			t.Fatalf("θ[%d] = %v, want %v", j, v, want)
		}
	}
}

func cnnPerExampleLoss(m *ConvNet, theta []float64, b Batch) []float64 {
	l := make([]float64, b.Len())
	m.PerExampleLoss(l, theta, b)
	return l
}

// TestCNNGradFD: the mean gradient against central differences of Loss (h = 1e-5); the
// per-example gradients against central differences of PerExampleLoss; Loss = mean of
// PerExampleLoss; the mean of the per-example gradients = Loss's gradient.
func TestCNNGradFD(t *testing.T) {
	for ci, tc := range cnnCases {
		m, b, theta := tc.setup(t, uint64(ci))
		d := m.NumParams()
		g := make([]float64, d)
		loss := m.Loss(g, theta, b)
		pl := cnnPerExampleLoss(m, theta, b)
		var s float64
		for _, v := range pl {
			s += v
		}
		if math.Abs(s/float64(b.Len())-loss) > 1e-12*math.Abs(loss) {
			t.Errorf("%s: Loss %v, mean per-example %v", tc.spec, loss, s/float64(b.Len()))
		}
		const h = 1e-5
		fd := make([]float64, d)
		var P mat.Dense
		m.PerExampleGrads(&P, theta, b)
		fdP := mat.NewDense(b.Len(), d, nil)
		tp := append([]float64(nil), theta...)
		for j := 0; j < d; j++ {
			tp[j] = theta[j] + h
			lp := m.Loss(nil, tp, b)
			pp := cnnPerExampleLoss(m, tp, b)
			tp[j] = theta[j] - h
			lm := m.Loss(nil, tp, b)
			pm := cnnPerExampleLoss(m, tp, b)
			tp[j] = theta[j]
			fd[j] = (lp - lm) / (2 * h)
			for i := range pp {
				fdP.Set(i, j, (pp[i]-pm[i])/(2*h))
			}
		}
		t.Logf("%s: d = %d, gradient vs FD %.3g, per-example %.3g", tc.spec, d, relErr(g, fd), denseRelErr(&P, fdP))
		if e := relErr(g, fd); e > 1e-7 {
			t.Errorf("%s: gradient vs FD rel err %.3g", tc.spec, e)
		}
		if e := denseRelErr(&P, fdP); e > 1e-7 {
			t.Errorf("%s: per-example gradients vs FD rel err %.3g", tc.spec, e)
		}
		mean := make([]float64, d)
		for i := 0; i < b.Len(); i++ {
			for j := range mean {
				mean[j] += P.At(i, j) / float64(b.Len())
			}
		}
		if e := relErr(g, mean); e > 1e-12 {
			t.Errorf("%s: mean per-example gradient vs Loss gradient rel err %.3g", tc.spec, e)
		}
		g2 := make([]float64, d)
		m.Grad(g2, theta, b)
		for j := range g {
			if g[j] != g2[j] {
				t.Fatalf("%s: Grad differs from Loss's gradient at %d", tc.spec, j)
			}
		}
	}
}

// cnnProductCases adds to cnnCases batches of three chunks and more (the lanes' sums, the
// chunk offsets of the factors), a stage-free and a pooling-only network.
var cnnProductCases = append(append([]cnnCase(nil), cnnCases...),
	cnnCase{spec: "cnn:c3k3s2p2,max2,f5", shape: []int{2, 9, 9}, K: 4, n: 2*cnnChunk + 13},
	cnnCase{spec: "cnn:c2k2p1,avg2,c2k2,max2", opt: Options{Act: "relu", Task: "regress", Sigma: 1.3}, shape: []int{1, 8, 8}, n: 4*cnnChunk + 1},
	cnnCase{spec: "cnn:max2,f3", shape: []int{2, 4, 4}, K: 3, n: 3*cnnChunk - 5},
)

// TestCNNProducts: GradDot, GradDots, GradSum, GradDotSum and Gram against plain loops
// over the per-example gradients (1e-12 relative: the same terms summed in other orders).
func TestCNNProducts(t *testing.T) {
	for ci, tc := range cnnProductCases {
		m, b, theta := tc.setup(t, uint64(ci)+10)
		d, n := m.NumParams(), b.Len()
		rng := rand.New(rand.NewPCG(uint64(ci), 9))
		u, w := randVec(rng, d), randSlice(rng, n)
		var P mat.Dense
		m.PerExampleGrads(&P, theta, b)
		dots := make([]float64, n)
		sum := make([]float64, d)
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				dots[i] += P.At(i, j) * u[j]
				sum[j] += w[i] * P.At(i, j)
			}
		}
		got := make([]float64, n)
		m.GradDot(got, theta, b, u)
		if e := relErr(got, dots); e > 1e-12 {
			t.Errorf("%s: GradDot rel err %.3g", tc.spec, e)
		}
		u2 := randVec(rng, d)
		got2 := make([]float64, n)
		m.GradDot(got2, theta, b, u2)
		two := [][]float64{make([]float64, n), make([]float64, n)}
		m.GradDots(two, theta, b, [][]float64{u, u2})
		for i := range got {
			if two[0][i] != got[i] || two[1][i] != got2[i] {
				t.Fatalf("%s: GradDots differs from GradDot at %d", tc.spec, i)
			}
		}
		gs := make([]float64, d)
		for j := range gs {
			gs[j] = math.NaN() // overwritten, not added to
		}
		m.GradSum(gs, theta, b, w)
		if e := relErr(gs, sum); e > 1e-12 {
			t.Errorf("%s: GradSum rel err %.3g", tc.spec, e)
		}
		mu, alpha := 0.3, 1/float64(n)
		wts := make([]float64, n)
		cu := make([]float64, d)
		want := make([]float64, d)
		for i := 0; i < n; i++ {
			wi := alpha * (dots[i] - mu)
			for j := range want {
				want[j] += wi * P.At(i, j)
			}
		}
		m.GradDotSum(cu, wts, theta, b, u, mu, alpha, 1)
		if e := relErr(cu, want); e > 1e-12 {
			t.Errorf("%s: GradDotSum rel err %.3g", tc.spec, e)
		}
		// Bitwise GradDot, the weights, then GradSum.
		wref := append([]float64(nil), got...)
		covWeights(wref, mu, alpha, 1)
		sref := make([]float64, d)
		m.GradSum(sref, theta, b, wref)
		for i := range wref {
			if wts[i] != wref[i] {
				t.Fatalf("%s: GradDotSum's weight %d differs from GradDot's", tc.spec, i)
			}
		}
		for j := range sref {
			if cu[j] != sref[j] {
				t.Fatalf("%s: GradDotSum's sum differs from GradSum's at %d", tc.spec, j)
			}
		}
		var G mat.Dense
		m.Gram(&G, theta, b)
		Gw := mat.NewDense(n, n, nil)
		for i := 0; i < n; i++ {
			for k := 0; k < n; k++ {
				var s float64
				for j := 0; j < d; j++ {
					s += P.At(i, j) * P.At(k, j)
				}
				Gw.Set(i, k, s)
			}
		}
		if e := denseRelErr(&G, Gw); e > 1e-12 {
			t.Errorf("%s: Gram rel err %.3g", tc.spec, e)
		}
	}
}

// TestCNNHessVecFD: HessVec against central differences of the gradient along v (h = 1e-5;
// random data: no ties in max pooling, no relu input exactly at 0), and HessVecs bitwise
// as HessVec per direction.
func TestCNNHessVecFD(t *testing.T) {
	for ci, tc := range cnnCases {
		m, b, theta := tc.setup(t, uint64(ci)+20)
		d := m.NumParams()
		rng := rand.New(rand.NewPCG(uint64(ci), 11))
		v := randVec(rng, d)
		hv := make([]float64, d)
		m.HessVec(hv, theta, b, v)
		fd := fdHessDir(m, theta, b, v, 1e-5)
		t.Logf("%s: HessVec vs FD rel err %.3g (‖Hv‖ = %.3g)", tc.spec, relErr(hv, fd), math.Sqrt(dot(hv, hv)))
		if e := relErr(hv, fd); e > 1e-6 {
			t.Errorf("%s: HessVec vs FD rel err %.3g", tc.spec, e)
		}
		v2 := randVec(rng, d)
		hv2 := make([]float64, d)
		m.HessVec(hv2, theta, b, v2)
		out := [][]float64{make([]float64, d), make([]float64, d)}
		m.HessVecs(out, theta, b, [][]float64{v, v2})
		for j := range hv {
			if out[0][j] != hv[j] || out[1][j] != hv2[j] {
				t.Fatalf("%s: HessVecs differs from HessVec at %d", tc.spec, j)
			}
		}
	}
}

// TestCNNPerExampleHessVec: row i against central differences of example i's gradient
// along V_i.
func TestCNNPerExampleHessVec(t *testing.T) {
	for ci, tc := range cnnCases {
		m, b, theta := tc.setup(t, uint64(ci)+30)
		d, n := m.NumParams(), b.Len()
		rng := rand.New(rand.NewPCG(uint64(ci), 13))
		V := mat.NewDense(n, d, randSlice(rng, n*d))
		var HV mat.Dense
		m.PerExampleHessVec(&HV, theta, b, V)
		for i := 0; i < n; i++ {
			fd := fdHessDir(m, theta, rowBatch(b, i), V.RawRowView(i), 1e-5)
			if e := relErr(HV.RawRowView(i), fd); e > 1e-6 {
				t.Errorf("%s: example %d: H_i V_i vs FD rel err %.3g", tc.spec, i, e)
			}
		}
	}
}

// TestCNNAllocsAndThreads: steady-state calls make no allocations, and every method gives
// the same bits with the helper pool off (as at GOMAXPROCS = 1) and on, on a batch of
// several chunks with products large enough to be split.
func TestCNNAllocsAndThreads(t *testing.T) {
	tc := cnnCase{spec: "cnn:c6k5p2,max2,c8k3,avg2,f20", shape: []int{1, 16, 16}, K: 5, n: 8*cnnChunk + 9}
	m, b, theta := tc.setup(t, 5)
	n, d := b.Len(), m.NumParams()
	rng := rand.New(rand.NewPCG(2, 2))
	u, w := randVec(rng, d), randVec(rng, n)
	V := mat.NewDense(n, d, randVec(rng, n*d))
	grad, pl, gd, gs, hv := make([]float64, d), make([]float64, n), make([]float64, n), make([]float64, d), make([]float64, d)
	PG, HV, G := mat.NewDense(n, d, nil), mat.NewDense(n, d, nil), mat.NewDense(n, n, nil)
	c := m.NewGradCache(theta, b)
	gd2 := make([]float64, n)
	dots, dirs := [][]float64{gd, gd2}, [][]float64{u, grad}
	var lossv float64
	fs := []struct {
		name string
		f    func()
		out  []float64
	}{
		{"Loss", func() { lossv = m.Loss(grad, theta, b) }, grad},
		{"PerExampleLoss", func() { m.PerExampleLoss(pl, theta, b) }, pl},
		{"PerExampleGrads", func() { m.PerExampleGrads(PG, theta, b) }, PG.RawMatrix().Data},
		{"GradDot", func() { m.GradDot(gd, theta, b, u) }, gd},
		{"GradSum", func() { m.GradSum(gs, theta, b, w) }, gs},
		{"Gram", func() { m.Gram(G, theta, b) }, G.RawMatrix().Data},
		{"GradDotSum", func() { m.GradDotSum(gs, gd, theta, b, u, 0.5, 1/float64(n), 1) }, gs},
		{"HessVec", func() { m.HessVec(hv, theta, b, u) }, hv},
		{"PerExampleHessVec", func() { m.PerExampleHessVec(HV, theta, b, V) }, HV.RawMatrix().Data},
		{"GradDots", func() { m.GradDots(dots, theta, b, dirs) }, gd2},
		{"cache.GradDot", func() { c.GradDot(gd, u) }, gd},
		{"cache.GradDots", func() { c.GradDots(dots, dirs) }, gd2},
		{"cache.GradSum", func() { c.GradSum(gs, w) }, gs},
		{"cache.GradDotSum", func() { c.GradDotSum(gs, gd, u, 0.5, 1/float64(n), 1) }, gs},
		{"cache.MeanGrad", func() { c.MeanGrad(gs) }, gs},
		{"cache.Gram", func() { c.Gram(G) }, G.RawMatrix().Data},
	}
	for _, c := range fs {
		c.f()
		if a := testing.AllocsPerRun(3, c.f); a != 0 {
			t.Errorf("%s makes %v allocations per call", c.name, a)
		}
		want := append([]float64(nil), c.out...)
		l0 := lossv
		old := kernel.SetSerialOnly(true)
		c.f()
		kernel.SetSerialOnly(old)
		for j := range want {
			if c.out[j] != want[j] {
				t.Fatalf("%s: element %d differs with the helper pool off: %v vs %v", c.name, j, c.out[j], want[j])
			}
		}
		if lossv != l0 {
			t.Fatalf("Loss differs with the helper pool off")
		}
	}
}

// TestCNNCache: every product of a ConvGradCache bitwise the uncached product at the same
// θ and batch (the same factors, products and order), MeanGrad bitwise Loss's gradient,
// and the cache's size as CacheFloats counts it.
func TestCNNCache(t *testing.T) {
	for ci, tc := range cnnProductCases {
		m, b, theta := tc.setup(t, uint64(ci)+40)
		d, n := m.NumParams(), b.Len()
		rng := rand.New(rand.NewPCG(uint64(ci), 17))
		u, u2, w := randVec(rng, d), randVec(rng, d), randSlice(rng, n)
		c := m.NewGradCache(theta, b)
		if c.Len() != n {
			t.Fatalf("%s: Len %d", tc.spec, c.Len())
		}
		held := len(c.mean) + len(c.st.all) + len(c.st.feat)
		for l := range c.st.del {
			held += len(c.st.del[l])
		}
		for l := range c.st.act {
			held += len(c.st.act[l])
		}
		if held != m.CacheFloats(n) {
			t.Errorf("%s: cache holds %d floats, CacheFloats says %d", tc.spec, held, m.CacheFloats(n))
		}
		same := func(what string, a, b []float64) {
			t.Helper()
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("%s: cached %s differs at %d: %v vs %v", tc.spec, what, i, a[i], b[i])
				}
			}
		}
		g1, g2 := make([]float64, n), make([]float64, n)
		m.GradDot(g1, theta, b, u)
		c.GradDot(g2, u)
		same("GradDot", g1, g2)
		two := [][]float64{make([]float64, n), make([]float64, n)}
		c.GradDots(two, [][]float64{u2, u})
		same("GradDots", two[1], g1)
		m.GradDot(g1, theta, b, u2)
		same("GradDots", two[0], g1)
		s1, s2 := make([]float64, d), make([]float64, d)
		m.GradSum(s1, theta, b, w)
		c.GradSum(s2, w)
		same("GradSum", s1, s2)
		w1, w2 := make([]float64, n), make([]float64, n)
		m.GradDotSum(s1, w1, theta, b, u, 0.2, 1/float64(n), 0.7)
		c.GradDotSum(s2, w2, u, 0.2, 1/float64(n), 0.7)
		same("GradDotSum weights", w1, w2)
		same("GradDotSum", s1, s2)
		m.Loss(s1, theta, b)
		c.MeanGrad(s2)
		same("MeanGrad", s1, s2)
		var G1, G2 mat.Dense
		m.Gram(&G1, theta, b)
		c.Gram(&G2)
		same("Gram", G1.RawMatrix().Data, G2.RawMatrix().Data)
		for i := 0; i < n; i++ {
			for j := 0; j < i; j++ {
				if G1.At(i, j) != G1.At(j, i) {
					t.Fatalf("%s: Gram not symmetric at (%d, %d)", tc.spec, i, j)
				}
			}
		}
	}
}

// TestCNNPerExampleHessVecBatched: the batched per-example HVPs against HessVec on each
// one-example batch (1e-12 relative: the same terms, summed in other orders by products of
// other shapes), on batches of several chunks.
func TestCNNPerExampleHessVecBatched(t *testing.T) {
	for ci, tc := range cnnProductCases {
		m, b, theta := tc.setup(t, uint64(ci)+50)
		d, n := m.NumParams(), b.Len()
		rng := rand.New(rand.NewPCG(uint64(ci), 19))
		V := mat.NewDense(n, d, randSlice(rng, n*d))
		var HV mat.Dense
		m.PerExampleHessVec(&HV, theta, b, V)
		one := make([]float64, d)
		worst := 0.0
		for i := 0; i < n; i++ {
			m.HessVec(one, theta, rowBatch(b, i), V.RawRowView(i))
			worst = math.Max(worst, relErr(HV.RawRowView(i), one))
		}
		if worst > 1e-12 {
			t.Errorf("%s: H_i V_i vs HessVec on example i: rel err %.3g", tc.spec, worst)
		}
	}
}
