package score

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/stationary"
)

// quadAtMinimum is a quadratic problem (d = 3, N = 30) and θ = θ* + off·(1, 1, 1).
func quadAtMinimum(off float64) (ModelProblem, []float64) {
	rnd := newRand(31)
	mean := []float64{0.3, -0.2, 0.1}
	prob := quadProblem(randSPD(rnd, []float64{2, 1, 0.5}), randSPD(rnd, []float64{1, 0.6, 0.3}), 30, mean)
	theta := append([]float64(nil), mean...)
	for i := range theta {
		theta[i] += off
	}
	return prob, theta
}

// gaussianReport is a report with the Gaussian predictions: a quadratic at its minimum.
func gaussianReport(t *testing.T, set Settings) *Report {
	t.Helper()
	prob, theta := quadAtMinimum(1e-12)
	set.LR, set.Batch = 0.3, 5
	rep, err := ComputeModel(prob, theta, &set)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Gaussian == nil {
		t.Fatal("no Gaussian predictions")
	}
	return rep
}

// TestOutputRoundTrip: the written JSON reads back into an Output that marshals to the same
// bytes (inline matrices, file names, null numbers); the file names are relative to the
// JSON's directory, and the files hold the parameter-basis covariances.
func TestOutputRoundTrip(t *testing.T) {
	rep := gaussianReport(t, DefaultSettings())
	for _, inline := range []int{DefaultInlineMaxDim, 2} {
		dir := t.TempDir()
		path := filepath.Join(dir, "s.json")
		out := NewOutput(rep)
		out.InlineMaxDim = inline
		if err := out.Write(path); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var back Output
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		b1, _ := json.Marshal(out)
		b2, _ := json.Marshal(&back)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("inline %d: round trip differs:\n%s\n%s", inline, b1, b2)
		}
		if !bytes.Contains(b, []byte(`"noise_scale": null`)) || !math.IsNaN(float64(back.Noise.NoiseScale)) {
			t.Errorf("noise scale at a minimum: %v, want null read as NaN", back.Noise.NoiseScale)
		}
		if back.Loss == nil || float64(*back.Loss) != rep.Loss || rep.Loss == 0 {
			t.Errorf("loss %v, want %v", back.Loss, rep.Loss)
		}
		cc := back.Gaussian.CovContinuous
		var want mat.SymDense
		rep.Gaussian.ToParams(&want, rep.Gaussian.CovContinuous)
		if inline == 2 {
			if cc.File != "s.cov_continuous.npy" || cc.Rows != nil {
				t.Fatalf("cov_continuous = %+v, want the file s.cov_continuous.npy", cc)
			}
			got, err := data.ReadMatrix(filepath.Join(dir, cc.File))
			if err != nil {
				t.Fatal(err)
			}
			if !mat.Equal(got, &want) {
				t.Error("the covariance file differs from the report")
			}
			continue
		}
		if cc.File != "" || len(cc.Rows) != rep.D || float64(cc.Rows[0][1]) != want.At(0, 1) {
			t.Errorf("inline cov_continuous %+v", cc)
		}
	}
}

// TestOutputGrads: a report from gradients has no loss.
func TestOutputGrads(t *testing.T) {
	g := mat.NewDense(4, 2, []float64{1, 0, 0, 1, 1, 1, -1, 2})
	rep, err := ComputeGrads(Grads{G: g}, &Settings{LR: 0.1, Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(NewOutput(rep))
	if bytes.Contains(b, []byte(`"loss"`)) || !rep.FromGradients {
		t.Errorf("loss written for gradients: %s", b)
	}
}

// TestScoreFormulas: s_st = −(2/η) C_B⁻¹∇L agrees with a dense solve, and s_prior = s_st −
// s_lik splits into −Nλθ and the rest (MATH.md §4).
func TestScoreFormulas(t *testing.T) {
	rnd := newRand(41)
	cb := randSPD(rnd, []float64{3, 1, 0.2, 0.05})
	grad := randTheta(rnd, 4, 1)
	inv, err := linalg.NewDenseInverse(cb, &linalg.InverseSettings{RCond: linalg.DefaultRCond})
	if err != nil {
		t.Fatal(err)
	}
	const eta = 0.3
	st := make([]float64, 4)
	if err := stationary.StationaryScore(st, inv, grad, eta); err != nil {
		t.Fatal(err)
	}
	want := bruteSolve(t, cb, grad)
	floats.Scale(-2/eta, want)
	checkVec(t, "stationary score", st, want, 1e-12)

	gbar, theta := randTheta(rnd, 4, 1), randTheta(rnd, 4, 1)
	const n, lambda = 50, 0.1
	lik, prior := make([]float64, 4), make([]float64, 4)
	LikelihoodScore(lik, n, gbar)
	PriorScore(prior, st, lik)
	ex, im := make([]float64, 4), make([]float64, 4)
	SplitPriorScore(ex, im, prior, n, lambda, theta)
	for i := range st {
		if lik[i] != -n*gbar[i] || prior[i] != st[i]-lik[i] || ex[i] != -n*lambda*theta[i] || im[i] != prior[i]-ex[i] {
			t.Fatalf("component %d: lik %g prior %g explicit %g implicit %g", i, lik[i], prior[i], ex[i], im[i])
		}
	}
}

// TestSettingsValidate: the defaults are valid once η and B are set; each bad value names
// its flag; zero-valued counts of a literal Settings mean the defaults, while from
// DefaultSettings a zero MinimumTol means exactly zero.
func TestSettingsValidate(t *testing.T) {
	s := DefaultSettings()
	if err := s.Validate(); field.As(err) == nil || field.As(err).Key != "lr" {
		t.Errorf("no η: %v", err)
	}
	s.LR, s.Batch = 0.1, 4
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for key, f := range map[string]func(*Settings){
		"subset":                  func(s *Settings) { s.Subset = 1 },
		"top-k":                   func(s *Settings) { s.TopK = 0 },
		"cg-tol":                  func(s *Settings) { s.Inverse.CGTol = 1 },
		"cg-maxiter":              func(s *Settings) { s.Inverse.CGMaxIter = -1 },
		"preconditioner-examples": func(s *Settings) { s.PreconditionerExamples = 1 },
		"trace-probes":            func(s *Settings) { s.TraceProbes = 0 },
		"divergence-examples":     func(s *Settings) { s.DivergenceExamples = 1 },
		"asymmetry-probes":        func(s *Settings) { s.AsymmetryProbes = 1 },
		"commutator-probes":       func(s *Settings) { s.CommutatorProbes = 0 },
		"noise-directions":        func(s *Settings) { s.NoiseDirections = 0 },
		"noise-batches":           func(s *Settings) { s.NoiseBatches = 1 },
		"minimum-tol":             func(s *Settings) { s.MinimumTol = math.Inf(1) },
		"damping":                 func(s *Settings) { s.Inverse.Damping, s.Inverse.Range = 1, true },
		"rcond":                   func(s *Settings) { s.Inverse.RCond = 0 },
	} {
		bad := s
		f(&bad)
		fe := field.As(bad.Validate())
		if fe == nil || fe.Key != key {
			t.Errorf("%s: error %v", key, fe)
		}
	}
	off := s
	off.PreconditionerExamples, off.PlainCG = 0, true
	off.AsymmetryProbes, off.SkipAsymmetry = 0, true
	off.NoiseDirections, off.SkipNoise = 0, true
	if err := off.Validate(); err != nil {
		t.Errorf("skipped stages: %v", err)
	}

	// θ near but not at the minimum: ‖∇L‖ ≈ 1e-12.
	if rep := gaussianReport(t, Settings{}); !rep.AtMinimum || rep.GradNorm == 0 {
		t.Errorf("literal Settings: ‖∇L‖ = %g not a minimum with the default tolerance", rep.GradNorm)
	}
	exact := DefaultSettings()
	exact.MinimumTol, exact.LR, exact.Batch = 0, 0.3, 5
	prob, theta := quadAtMinimum(1e-12)
	rep, err := ComputeModel(prob, theta, &exact)
	if err != nil {
		t.Fatal(err)
	}
	if rep.AtMinimum || rep.Gaussian != nil {
		t.Errorf("MinimumTol 0: ‖∇L‖ = %g counted as a minimum", rep.GradNorm)
	}
}

// TestCompute: the problem-level checks are *field.Errors naming the flag, a non-finite θ a
// *NonFiniteParamError; a valid call gives ComputeModel's report.
func TestCompute(t *testing.T) {
	pr, err := problem.Load(problem.Spec{Data: "breast-cancer", Model: "logistic", Standardize: true, Act: "tanh", Task: "classify", Sigma: 1, WeightDecay: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, pr.D())
	n := pr.N()
	for _, c := range []struct {
		key  string
		edit func(*Settings)
	}{
		{"batch", func(s *Settings) { s.Batch = n + 1 }},
		{"batch", func(s *Settings) { s.Batch = n }},
		{"subset", func(s *Settings) { s.Subset = n + 1 }},
	} {
		s := DefaultSettings()
		s.LR, s.Batch = 0.1, 8
		c.edit(&s)
		if fe := field.As(errOf(Compute(pr, theta, &s))); fe == nil || fe.Key != c.key {
			t.Errorf("%s: %v", c.key, fe)
		}
	}
	s := DefaultSettings()
	s.LR, s.Batch, s.Sampling = 0.1, n, noise.With
	if _, err := Compute(pr, theta, &s); err != nil {
		t.Errorf("B = N with replacement: %v", err)
	}
	s.Batch = 8
	bad := append([]float64(nil), theta...)
	bad[3] = math.NaN()
	var nf *NonFiniteParamError
	if _, err := Compute(pr, bad, &s); !errorsAs(err, &nf) || nf.Index != 3 {
		t.Errorf("NaN θ: %v", err)
	}
	rep, err := Compute(pr, theta, &s)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ComputeModel(ModelProblem{Model: pr.Model, Batch: pr.Batch, WeightDecay: 0.01}, theta, &s)
	if !floats.Equal(rep.Vectors.Stationary, want.Vectors.Stationary) {
		t.Error("Compute differs from ComputeModel")
	}
}

// TestLoadGrads: the files are read and checked, naming them.
func TestLoadGrads(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, m mat.Matrix) string {
		p := filepath.Join(dir, name)
		if err := data.WriteMatrix(p, m); err != nil {
			t.Fatal(err)
		}
		return p
	}
	g := write("G.npy", mat.NewDense(3, 2, []float64{1, 0, 0, 1, 1, 1}))
	one := write("one.npy", mat.NewDense(1, 2, []float64{1, 0}))
	h := write("H.npy", mat.NewDense(2, 2, []float64{2, 0, 0, 1}))
	th := filepath.Join(dir, "theta.npy")
	if err := data.WriteVector(th, []float64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key string
		f   GradsFiles
		wd  float64
	}{
		{"grads", GradsFiles{}, 0},
		{"n", GradsFiles{Grads: g, N: -1}, 0},
		{"grads", GradsFiles{Grads: one}, 0},
		{"hessian", GradsFiles{Grads: g, Hessian: g}, 0},
		{"params", GradsFiles{Grads: g, Params: th}, 0},
		{"weight-decay", GradsFiles{Grads: g}, 0.1},
	} {
		_, err := LoadGrads(c.f, c.wd)
		fe := field.As(err)
		if fe == nil || fe.Key != c.key {
			t.Errorf("%+v: %v, want key %s", c.f, err, c.key)
		}
		if c.f.Grads != "" && !strings.Contains(err.Error(), filepath.Base(c.f.Grads)) && c.key != "weight-decay" && c.key != "n" {
			t.Errorf("%v does not name the file", err)
		}
	}
	in, err := LoadGrads(GradsFiles{Grads: g, Hessian: h, N: 10}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := in.G.Dims(); r != 3 || in.N != 10 || in.Hessian == nil || in.Theta != nil {
		t.Errorf("loaded %+v", in)
	}
}

func errOf(_ *Report, err error) error { return err }

func errorsAs(err error, target any) bool { return errors.As(err, target) }
