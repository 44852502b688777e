package escape

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/testproblem"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/train"
)

func loadIris(t *testing.T) *problem.Problem {
	return testproblem.Load(t, "iris", "softmax", 0.01)
}

func irisMinimum(t *testing.T, p *problem.Problem) []float64 {
	t.Helper()
	theta := make([]float64, p.D())
	model.InitSeeded(theta, p.Model, 1)
	if _, err := train.Minimize(context.Background(), p.Objective(), p.Batch, theta, train.Settings{}); err != nil {
		t.Fatal(err)
	}
	return theta
}

// TestTopHessianTraceC: Lanczos's top eigenvalues against the dense Hessian's (from
// Hessian–vector products on the unit vectors), and tr C against the trace of the dense
// per-example covariance score.GradCovariance.
func TestTopHessianTraceC(t *testing.T) {
	p := loadIris(t)
	theta := irisMinimum(t, p)
	obj, d := p.Objective(), p.D()
	full := mat.NewDense(d, d, nil)
	e, col := make([]float64, d), make([]float64, d)
	for j := range d {
		clear(e)
		e[j] = 1
		obj.HessVec(col, theta, p.Batch, e)
		full.SetCol(j, col)
	}
	h := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			h.SetSym(i, j, (full.At(i, j)+full.At(j, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(h, false) {
		t.Fatal("eigen")
	}
	dense := eig.Values(nil)
	vals, vecs, warn, err := TopHessian(obj, p.Batch, theta, 3, 1, lanczosStream)
	if err != nil || warn != "" {
		t.Fatal(err, warn)
	}
	for j, v := range vals {
		want := dense[d-1-j]
		if math.Abs(v-want) > 1e-8*dense[d-1] {
			t.Errorf("eigenvalue %d: Lanczos %v, dense %v", j, v, want)
		}
		if n := math.Sqrt(dot(vecs[j], vecs[j])); math.Abs(n-1) > 1e-10 {
			t.Errorf("eigenvector %d has norm %v", j, n)
		}
	}
	c := score.GradCovariance(p.Model, p.Batch, theta)
	if tr, want := TraceC(p.Model, p.Batch, theta), mat.Trace(c); math.Abs(tr-want) > 1e-10*want {
		t.Errorf("tr C %v, dense %v", tr, want)
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestRefuseUnstable: η·λ_max(θ*) ≥ 2 is refused with a *field.Error of key "lr"; just below
// 2/λ_max runs.
func TestRefuseUnstable(t *testing.T) {
	p := loadIris(t)
	theta := irisMinimum(t, p)
	vals, _, _, err := TopHessian(p.Objective(), p.Batch, theta, 1, 1, lanczosStream)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings()
	s.LR, s.Batch, s.Chains, s.Steps, s.CheckEvery, s.Landing = 2.0001/vals[0], 8, 2, 10, 5, 0
	_, err = Run(context.Background(), p, theta, &s)
	if fe := field.As(err); fe == nil || fe.Key != "lr" {
		t.Fatalf("η·λ_max = 2.0001: error %v, want a *field.Error of key lr", err)
	} else {
		t.Log(fe.Flag())
	}
	s.LR = 1.99 / vals[0]
	if _, err := Run(context.Background(), p, theta, &s); err != nil {
		t.Errorf("η·λ_max = 1.99: %v", err)
	}
}

// TestInjectedVariance: the sample covariance of 40000 draws of the isotropic and top-Hessian
// noise (θ_{k+1} − (θ_k − η∇L), drawn by inject) matches η²(tr C_B/d)·I and
// η²(tr C_B/k)·V_kV_kᵀ entry by entry within 5 standard errors (SE² of an entry of a
// Gaussian sample covariance: (Σ_ii Σ_jj + Σ_ij²)/M), and both totals η² tr C_B within 5 SE.
func TestInjectedVariance(t *testing.T) {
	d, k, m := 6, 2, 40000
	lr, trCB := 0.3, 2.5
	rng := rand.New(rand.NewPCG(5, 6))
	// A random orthonormal 2-frame.
	v := [][]float64{make([]float64, d), make([]float64, d)}
	for j := range v {
		for i := range v[j] {
			v[j][i] = rng.NormFloat64()
		}
	}
	for j := range v {
		for i := 0; i < j; i++ {
			a := dot(v[j], v[i])
			for l := range v[j] {
				v[j][l] -= a * v[i][l]
			}
		}
		n := math.Sqrt(dot(v[j], v[j]))
		for l := range v[j] {
			v[j][l] /= n
		}
	}
	for _, nz := range []Noise{IsotropicNoise, TopHessianNoise} {
		cfg := &chainConfig{noise: nz, lr: lr, isoScale: math.Sqrt(trCB / float64(d)), topScale: math.Sqrt(trCB / float64(k)), basis: v}
		want := mat.NewSymDense(d, nil)
		for i := range d {
			for j := i; j < d; j++ {
				var x float64
				if nz == IsotropicNoise {
					if i == j {
						x = lr * lr * trCB / float64(d)
					}
				} else {
					for _, b := range v {
						x += lr * lr * trCB / float64(k) * b[i] * b[j]
					}
				}
				want.SetSym(i, j, x)
			}
		}
		sum := mat.NewSymDense(d, nil)
		w := &worker{}
		x := make([]float64, d)
		for range m {
			clear(x)
			w.inject(cfg, x, rng)
			sum.SymRankOne(sum, 1, mat.NewVecDense(d, x))
		}
		sum.ScaleSym(1/float64(m), sum)
		var tr, trSE2 float64
		for i := range d {
			tr += sum.At(i, i)
			for j := range d {
				trSE2 += 2 * want.At(i, j) * want.At(i, j) / float64(m)
			}
			for j := i; j < d; j++ {
				se := math.Sqrt((want.At(i, i)*want.At(j, j) + want.At(i, j)*want.At(i, j)) / float64(m))
				if math.Abs(sum.At(i, j)-want.At(i, j)) > 5*se+1e-300 {
					t.Errorf("%v: cov[%d,%d] = %v, want %v ± %v", nz, i, j, sum.At(i, j), want.At(i, j), se)
				}
			}
		}
		if got := lr * lr * trCB; math.Abs(tr-got) > 5*math.Sqrt(trSE2) {
			t.Errorf("%v: total variance %v, want η² tr C_B = %v ± %v", nz, tr, got, math.Sqrt(trSE2))
		}
		t.Logf("%v: total variance %.5f, η² tr C_B = %.5f", nz, tr, lr*lr*trCB)
	}
}

// TestGaussNoiseVariance: one gauss step's noise η(∇L − g_step) at fixed θ on iris has
// total variance η²κ_B tr C(θ) (dense score.GradCovariance) within 5 SE over 4000 draws.
func TestGaussNoiseVariance(t *testing.T) {
	p := loadIris(t)
	theta := irisMinimum(t, p)
	sp := sim.NewModelProblem(p.Model, p.Batch, p.Spec.WeightDecay)
	kappa, _ := noise.Kappa(noise.Without, p.N(), 8)
	cfg := &chainConfig{noise: GaussNoise, lr: 0.1, kappa: kappa}
	w := &worker{p: sp, grad: make([]float64, p.D()), w: make([]float64, p.N())}
	w.fullGrad(theta)
	full := append([]float64(nil), w.grad...)
	rng := rand.NewPCG(1, 2)
	m := 4000
	var tot, tot2 float64
	for range m {
		w.gaussGrad(cfg, theta, rng)
		var s float64
		for j := range full {
			e := cfg.lr * (w.grad[j] - full[j])
			s += e * e
		}
		tot += s
		tot2 += s * s
	}
	mean := tot / float64(m)
	se := math.Sqrt((tot2/float64(m) - mean*mean) / float64(m))
	c := score.GradCovariance(p.Model, p.Batch, theta)
	want := cfg.lr * cfg.lr * kappa * mat.Trace(c)
	if math.Abs(mean-want) > 5*se {
		t.Errorf("gauss noise total variance %v ± %v, want η²κ_B tr C = %v", mean, se, want)
	}
	t.Logf("gauss noise total variance %.4g ± %.2g, η²κ_B tr C = %.4g", mean, se, want)
}

// TestDeterministic: Run gives identical outputs with GOMAXPROCS 1 and 2, and its JSON reads
// back as written.
func TestDeterministic(t *testing.T) {
	p := loadIris(t)
	s := DefaultSettings()
	s.LR, s.Batch, s.Chains, s.Steps, s.CheckEvery, s.Delta, s.TopK, s.Landing = 0.5, 4, 6, 3000, 50, 0.02, 3, 3
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	a, err := Run(context.Background(), p, nil, &s)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GOMAXPROCS(2)
	b, err := Run(context.Background(), p, nil, &s)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Error("outputs differ between GOMAXPROCS 1 and 2")
	}
	for _, nz := range Noises {
		r := a.Noises.Get(nz)
		t.Logf("%v: escaped %d/%d, median %v, mean %v ± %v, landing λ_max %v (%d chains)", nz, r.Escaped, s.Chains,
			float64(r.MedianEscapeStep), float64(r.MeanEscapeStep), float64(r.MeanEscapeStepStderr), float64(r.Landing.LambdaMax), r.Landing.Chains)
	}
	t.Logf("λ_max %v, ηλ_max %v, tr C_B %v, warnings %v", float64(a.LambdaMax), float64(a.Stability), float64(a.TraceCB), a.Warnings)
	path := filepath.Join(t.TempDir(), "escape.json")
	if err := a.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadOutput(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Write(path + "2"); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(path)
	y, _ := os.ReadFile(path + "2")
	if string(x) != string(y) {
		t.Error("JSON does not read back as written")
	}
}

// TestValidate: each bad setting names its flag.
func TestValidate(t *testing.T) {
	for key, mod := range map[string]func(*Settings){
		"lr": func(s *Settings) { s.LR = 0 }, "batch": func(s *Settings) { s.Batch = 0 },
		"chains": func(s *Settings) { s.Chains = 1 }, "steps": func(s *Settings) { s.Steps = 0 },
		"check-every": func(s *Settings) { s.CheckEvery = 0 }, "delta": func(s *Settings) { s.Delta = 0 },
		"top-k": func(s *Settings) { s.TopK = 0 }, "landing": func(s *Settings) { s.Landing = -1 },
	} {
		s := DefaultSettings()
		s.LR, s.Batch = 0.1, 8
		mod(&s)
		if fe := field.As(s.Validate()); fe == nil || fe.Key != key {
			t.Errorf("%s: error %v", key, s.Validate())
		}
	}
}
