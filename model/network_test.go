package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		p, K    int
		opt     Options
		errPart string
	}{
		{"foo", 3, 2, Options{}, `unknown model "foo"`},
		{"Logistic", 3, 2, Options{}, "unknown model"},
		{"mlp", 3, 2, Options{}, "no hidden widths"},
		{"mlp:", 3, 2, Options{}, "no hidden widths"},
		{"mlp:0", 3, 2, Options{}, `bad hidden width "0"`},
		{"mlp:a", 3, 2, Options{}, `bad hidden width "a"`},
		{"mlp:4,,3", 3, 2, Options{}, `bad hidden width ""`},
		{"mlp:-2", 3, 2, Options{}, `bad hidden width "-2"`},
		{"logistic", 3, 3, Options{}, "logistic needs 2 classes, the data have 3 classes (use softmax)"},
		{"logistic", 3, 0, Options{}, "logistic needs 2 classes, the data have a numeric target"},
		{"softmax", 3, 1, Options{}, "softmax needs at least 2 classes, the data have 1 classes"},
		{"softmax", 3, 0, Options{}, "softmax needs at least 2 classes"},
		{"mlp:4", 3, 0, Options{}, "needs at least 2 classes, the data have a numeric target"},
		{"mlp:4", 3, 1, Options{}, "needs at least 2 classes"},
		{"mlp:4", 3, 2, Options{Act: "sigmoid"}, `unknown activation "sigmoid"`},
		{"mlp:4", 3, 2, Options{Task: "rank"}, `unknown task "rank"`},
		{"mlp:4", 3, 3, Options{Task: "regress"}, "needs a numeric target, the data have 3 classes"},
		{"linreg", 3, 0, Options{Sigma: -1}, "sigma must be positive"},
		{"linreg", 3, 0, Options{Sigma: math.NaN()}, "sigma must be positive"},
		{"linreg", 3, 0, Options{Sigma: math.Inf(1)}, "sigma must be positive"},
		{"linreg", 3, 2, Options{}, "linreg needs a numeric target, the data have 2 classes"},
		{"linreg", 3, 0, Options{Task: "classify"}, "linreg is a regression model"},
		{"logistic", 3, 2, Options{Task: "regress"}, "logistic is a classification model"},
		{"linreg", 0, 0, Options{}, "at least one input feature"},
	} {
		m, err := New(tc.spec, tc.p, tc.K, tc.opt)
		if err == nil {
			t.Errorf("New(%q, %d, %d, %+v) = %v, want an error", tc.spec, tc.p, tc.K, tc.opt, m.Name())
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "model: ") || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.errPart) {
			t.Errorf("New(%q, %d, %d, %+v): error %q, want one line with %q", tc.spec, tc.p, tc.K, tc.opt, msg, tc.errPart)
		}
	}
}

func TestNewShapes(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		p, K   int
		opt    Options
		name   string
		d      int
		head   Head
		sigma  float64
		layers []Layer
	}{
		{"linreg", 3, 0, Options{}, "linreg", 4, Gaussian, 1, []Layer{{3, 1, 0, 3}}},
		{"linreg", 3, 0, Options{Sigma: 2.5}, "linreg", 4, Gaussian, 2.5, []Layer{{3, 1, 0, 3}}},
		{"logistic", 3, 2, Options{Task: "classify"}, "logistic", 4, Bernoulli, 1, []Layer{{3, 1, 0, 3}}},
		{"softmax", 3, 4, Options{}, "softmax", 16, Categorical, 1, []Layer{{3, 4, 0, 12}}},
		{"mlp: 5, 2", 3, 4, Options{}, "mlp:5,2", 20 + 12 + 12, Categorical, 1,
			[]Layer{{3, 5, 0, 15}, {5, 2, 20, 30}, {2, 4, 32, 40}}},
		{"mlp:5", 3, 0, Options{Task: "regress", Sigma: 0.5}, "mlp:5", 20 + 6, Gaussian, 0.5,
			[]Layer{{3, 5, 0, 15}, {5, 1, 20, 25}}},
	} {
		m, err := NewNetwork(tc.spec, tc.p, tc.K, tc.opt)
		if err != nil {
			t.Errorf("New(%q): %v", tc.spec, err)
			continue
		}
		if m.Name() != tc.name || m.NumParams() != tc.d || m.Head() != tc.head || m.Sigma() != tc.sigma || m.NumInputs() != tc.p {
			t.Errorf("New(%q) = %s d=%d head=%v σ=%v p=%d, want %s d=%d head=%v σ=%v p=%d", tc.spec,
				m.Name(), m.NumParams(), m.Head(), m.Sigma(), m.NumInputs(), tc.name, tc.d, tc.head, tc.sigma, tc.p)
		}
		got := m.Layers()
		if len(got) != len(tc.layers) {
			t.Fatalf("New(%q): %d layers, want %d", tc.spec, len(got), len(tc.layers))
		}
		for i := range got {
			if got[i] != tc.layers[i] {
				t.Errorf("New(%q): layer %d = %+v, want %+v", tc.spec, i, got[i], tc.layers[i])
			}
		}
	}
}

// TestLayoutTinyNet evaluates a 2-3-2 tanh net from a flat θ by hand: W1 (3×2 row-major),
// b1 (3), W2 (2×3 row-major), b2 (2), exactly PyTorch's nn.Linear(2,3), nn.Linear(3,2)
// parameter order.
func TestLayoutTinyNet(t *testing.T) {
	net, err := NewNetwork("mlp:3", 2, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if net.NumParams() != 17 {
		t.Fatalf("d = %d, want 17", net.NumParams())
	}
	theta := make([]float64, 17)
	for i := range theta {
		theta[i] = 0.1 * float64(i+1) * math.Pow(-1, float64(i))
	}
	x := []float64{0.5, -1.5}
	// Hand-written forward pass.
	W1 := [3][2]float64{{theta[0], theta[1]}, {theta[2], theta[3]}, {theta[4], theta[5]}}
	b1 := [3]float64{theta[6], theta[7], theta[8]}
	W2 := [2][3]float64{{theta[9], theta[10], theta[11]}, {theta[12], theta[13], theta[14]}}
	b2 := [2]float64{theta[15], theta[16]}
	var h [3]float64
	for r := 0; r < 3; r++ {
		h[r] = math.Tanh(W1[r][0]*x[0] + W1[r][1]*x[1] + b1[r])
	}
	var z [2]float64
	for k := 0; k < 2; k++ {
		z[k] = W2[k][0]*h[0] + W2[k][1]*h[1] + W2[k][2]*h[2] + b2[k]
	}
	var out mat.Dense
	net.Outputs(&out, theta, mat.NewDense(1, 2, x))
	for k := 0; k < 2; k++ {
		if math.Abs(out.At(0, k)-z[k]) > 1e-15 {
			t.Errorf("logit %d = %v, hand-computed %v", k, out.At(0, k), z[k])
		}
	}
	// Loss of class 1: log(e^z0 + e^z1) − z1.
	want := math.Log(math.Exp(z[0])+math.Exp(z[1])) - z[1]
	got := net.Loss(nil, theta, Batch{X: mat.NewDense(1, 2, x), Y: []float64{1}})
	if math.Abs(got-want) > 1e-15 {
		t.Errorf("loss = %v, hand-computed %v", got, want)
	}
	names := map[int]string{0: "W1[0,0]", 1: "W1[0,1]", 5: "W1[2,1]", 6: "b1[0]", 8: "b1[2]", 9: "W2[0,0]", 14: "W2[1,2]", 16: "b2[1]"}
	for j, w := range names {
		if g := net.ParamName(j); g != w {
			t.Errorf("ParamName(%d) = %q, want %q", j, g, w)
		}
	}
}

func TestInitParams(t *testing.T) {
	net, err := NewNetwork("mlp:200", 400, 10, Options{})
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, net.NumParams())
	InitParams(theta, net, rand.New(rand.NewPCG(1, 2)))
	again := make([]float64, net.NumParams())
	InitParams(again, net.Clone(), rand.New(rand.NewPCG(1, 2)))
	if !equalSlices(theta, again) {
		t.Error("InitParams is not reproducible for a given seed")
	}
	for _, ly := range net.Layers() {
		bound := 1 / math.Sqrt(float64(ly.In))
		vals := theta[ly.WeightOffset : ly.BiasOffset+ly.Out]
		var mean, sq float64
		for _, v := range vals {
			if math.Abs(v) > bound {
				t.Fatalf("value %v outside ±%v", v, bound)
			}
			mean += v
			sq += v * v
		}
		nv := float64(len(vals))
		mean /= nv
		vr := sq/nv - mean*mean
		// U(−c, c): mean 0 (SE c/√(3n)), variance c²/3 (SE of the sample variance
		// √((E[x⁴] − c⁴/9)/n) = c²·√(4/45/n)). Tolerance: 4 standard errors.
		if se := bound / math.Sqrt(3*nv); math.Abs(mean) > 4*se {
			t.Errorf("layer %+v: mean %v, want 0 ± %v", ly, mean, 4*se)
		}
		if se := bound * bound * math.Sqrt(4.0/45/nv); math.Abs(vr-bound*bound/3) > 4*se {
			t.Errorf("layer %+v: variance %v, want %v ± %v", ly, vr, bound*bound/3, 4*se)
		}
	}
}

// TestCloneIndependent runs a network and its clone concurrently: each has its own scratch,
// so the results equal the sequential ones (run with -race to check for sharing).
func TestCloneIndependent(t *testing.T) {
	// Big enough that the products go through the helper pool (m·n·k ≥ parMinWork).
	tc := testCase{name: "mlp", spec: "mlp:64,6", p: 200, K: 3, n: 300, thScale: 0.1}
	net, b, theta := tc.setup(t, 3)
	want := make([]float64, net.NumParams())
	net.Loss(want, theta, b)
	var wg sync.WaitGroup
	got := make([][]float64, 4)
	for k := range got {
		m := net.Clone()
		if k == 0 {
			m = net
		}
		got[k] = make([]float64, net.NumParams())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 5; r++ {
				m.Loss(got[k], theta, b)
			}
		}()
	}
	wg.Wait()
	for k := range got {
		if !equalSlices(got[k], want) {
			t.Errorf("clone %d: gradient differs from the sequential one", k)
		}
	}
}

func expectPanic(t *testing.T, what, part string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		msg, _ := r.(string)
		if r == nil || !strings.HasPrefix(msg, "model: ") || !strings.Contains(msg, part) {
			t.Errorf("%s: panic %v, want a \"model: \" panic containing %q", what, r, part)
		}
	}()
	f()
}

func TestMisusePanics(t *testing.T) {
	net, b, theta := allCases[3].setup(t, 0)
	n, d := b.Len(), net.NumParams()
	expectPanic(t, "short theta", "len(theta)", func() { net.Loss(nil, theta[:d-1], b) })
	expectPanic(t, "short grad", "len(grad)", func() { net.Loss(make([]float64, d+1), theta, b) })
	expectPanic(t, "empty batch", "empty batch", func() { net.Loss(nil, theta, Batch{}) })
	expectPanic(t, "targets", "targets", func() { net.Loss(nil, theta, Batch{X: b.X, Y: b.Y[:n-1]}) })
	expectPanic(t, "features", "features", func() { net.Loss(nil, theta, Batch{X: mat.NewDense(n, 2, nil), Y: b.Y}) })
	expectPanic(t, "dst shape", "dst is 9×44, want 9×43", func() { net.PerExampleGrads(mat.NewDense(n, d+1, nil), theta, b) })
	expectPanic(t, "V shape", "V is", func() { net.PerExampleHessVec(&mat.Dense{}, theta, b, mat.NewDense(n, 2, nil)) })
	expectPanic(t, "w", "len(w)", func() { net.GradSum(make([]float64, d), theta, b, make([]float64, n+1)) })
	bad := Batch{X: b.X, Y: append([]float64(nil), b.Y...)}
	bad.Y[4] = 3
	expectPanic(t, "label", "target 3 of example 4", func() { net.Loss(nil, theta, bad) })
	bad.Y[4] = 1.5
	expectPanic(t, "label", "target 1.5 of example 4", func() { net.Loss(nil, theta, bad) })
	lg, bl, thl := allCases[1].setup(t, 0)
	bl.Y[0] = 2
	expectPanic(t, "bernoulli label", "not a class index in [0, 2)", func() { lg.Loss(nil, thl, bl) })
	expectPanic(t, "param name", "out of range", func() { net.ParamName(d) })
}
