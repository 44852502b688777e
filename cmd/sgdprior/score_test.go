package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/study"
)

// scoreTrained trains logistic regression with weight decay on breast-cancer to its minimum
// and returns the directory and θ*'s file.
func scoreTrained(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	th := filepath.Join(dir, "theta.npy")
	code, _, stderr := runCmd(t, "train", "--data", "breast-cancer", "--model", "logistic", "--weight-decay", "0.01",
		"--method", "lbfgs", "--out", th)
	if code != 0 {
		t.Fatalf("train: code %d, %s", code, stderr)
	}
	return dir, th
}

// readJSONFile decodes the JSON object in the file at path.
func readJSONFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jsonVec(t *testing.T, v any) []float64 {
	t.Helper()
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("not an array: %T", v)
	}
	out := make([]float64, len(a))
	for i, x := range a {
		f, ok := x.(float64)
		if !ok {
			t.Fatalf("element %d is %v", i, x)
		}
		out[i] = f
	}
	return out
}

func jsonMat(t *testing.T, v any) [][]float64 {
	t.Helper()
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("not a matrix: %T", v)
	}
	out := make([][]float64, len(a))
	for i, r := range a {
		out[i] = jsonVec(t, r)
	}
	return out
}

func obj(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%v: %q is not inside an object", path, p)
		}
		if cur, ok = mm[p]; !ok {
			t.Fatalf("key %v missing", path)
		}
	}
	return cur
}

func maxRelDiff(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num = math.Max(num, math.Abs(a[i]-b[i]))
		den = math.Max(den, math.Abs(b[i]))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// TestScoreJSON: the JSON has the interface keys, vectors of length d, d×d covariances in the
// parameter basis, and the numbers of an in-process score.ComputeModel call exactly.
func TestScoreJSON(t *testing.T) {
	dir, th := scoreTrained(t)
	out := filepath.Join(dir, "score.json")
	code, stdout, stderr := runCmd(t, "score", "--data", "breast-cancer", "--model", "logistic", "--weight-decay", "0.01",
		"--params", th, "--lr", "0.1", "--batch", "32", "--divergence", "--json", out)
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, stderr)
	}
	for _, s := range []string{"κ_B", "tr C", "‖s_st‖", "commutator", "Gaussian predictions", "wrote " + out} {
		if !strings.Contains(stdout, s) {
			t.Errorf("summary lacks %q:\n%s", s, stdout)
		}
	}
	m := readJSONFile(t, out)
	for _, k := range []string{"n", "d", "lr", "batch", "sampling", "kappa", "damping", "inverse", "loss", "grad_norm",
		"noise", "vectors", "diagnostics", "gaussian", "optimal_lr", "implicit_regularizer", "provenance", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	for _, k := range []string{"trace", "trace_batch", "rank", "top_eigenvalues", "noise_scale"} {
		obj(t, m, "noise", k)
	}
	d := int(obj(t, m, "d").(float64))
	for _, k := range []string{"grad", "stationary_score", "likelihood_score", "prior_score", "stationary_score_general",
		"explicit_prior_score", "implicit_prior_score"} {
		if v := jsonVec(t, obj(t, m, "vectors", k)); len(v) != d {
			t.Errorf("vectors.%s has length %d, want %d", k, len(v), d)
		}
	}
	for _, k := range []string{"range_fraction", "commutator", "asymmetry_seed", "asymmetry_general", "divergence_ratio",
		"noise_kurtosis", "noise_tail_index"} {
		obj(t, m, "diagnostics", k)
	}
	for _, k := range []string{"cov_continuous", "cov_discrete", "cov_posterior"} {
		c := jsonMat(t, obj(t, m, "gaussian", k))
		if len(c) != d || len(c[0]) != d {
			t.Errorf("gaussian.%s is %d×%d, want %d×%d", k, len(c), len(c[0]), d, d)
		}
	}
	obj(t, m, "gaussian", "cov_seed") // null here: its symmetric precision is indefinite
	obj(t, m, "gaussian", "removed_directions")
	dirs := obj(t, m, "gaussian", "directions").([]any)
	if len(dirs) != d {
		t.Fatalf("%d directions, want %d", len(dirs), d)
	}
	d0 := dirs[0].(map[string]any)
	for _, k := range []string{"h", "c", "var_seed", "var_continuous", "var_discrete", "var_posterior", "prior_precision"} {
		obj(t, d0, k)
	}
	for _, k := range []string{"seed", "continuous", "discrete"} {
		obj(t, d0, "prior_precision", k)
	}
	if h0, h1 := d0["h"].(float64), dirs[1].(map[string]any)["h"].(float64); h0 < h1 {
		t.Errorf("directions not sorted by h descending: %g, %g", h0, h1)
	}
	if obj(t, m, "provenance", "data_sha256") == "" {
		t.Error("no data checksum in the provenance")
	}

	// The same numbers in-process.
	ds, err := data.Load(data.Spec{Source: "breast-cancer"})
	if err != nil {
		t.Fatal(err)
	}
	mdl, _ := model.New("logistic", ds.NumFeatures(), ds.NumClasses(), model.Options{})
	theta, _ := data.ReadVector(th)
	rep, err := score.ComputeModel(score.ModelProblem{Model: mdl, Batch: model.Batch{X: ds.X, Y: ds.Y}, WeightDecay: 0.01}, theta,
		scoreSettings(0.1, 32, true, 1))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string][]float64{"stationary_score": rep.Vectors.Stationary, "prior_score": rep.Vectors.Prior,
		"stationary_score_general": rep.Vectors.StationaryGeneral} {
		if e := maxRelDiff(jsonVec(t, obj(t, m, "vectors", k)), want); e != 0 {
			t.Errorf("vectors.%s differs from ComputeModel by %g", k, e)
		}
	}
	var pc mat.SymDense
	rep.Gaussian.ToParams(&pc, rep.Gaussian.CovContinuous)
	c := jsonMat(t, obj(t, m, "gaussian", "cov_continuous"))
	for i := 0; i < d; i++ {
		if e := maxRelDiff(c[i], mat.Row(nil, i, &pc)); e != 0 {
			t.Fatalf("cov_continuous row %d differs by %g", i, e)
		}
	}
}

// TestScoreGradsMatchesModel: `score --grads G.npy --hessian H.npy` on the per-example
// gradients and the Hessian of the same problem gives the model path's vectors and matrices.
func TestScoreGradsMatchesModel(t *testing.T) {
	dir, th := scoreTrained(t)
	ds, err := data.Load(data.Spec{Source: "breast-cancer"})
	if err != nil {
		t.Fatal(err)
	}
	mdl, _ := model.New("logistic", ds.NumFeatures(), ds.NumClasses(), model.Options{})
	// Away from the minimum (where ∇L and s_st are rounding noise), Gaussian section forced.
	theta, _ := data.ReadVector(th)
	for j := range theta {
		theta[j] += 0.01 * math.Sin(float64(j))
	}
	th = filepath.Join(dir, "theta_off.npy")
	if err := data.WriteVector(th, theta); err != nil {
		t.Fatal(err)
	}
	b := model.Batch{X: ds.X, Y: ds.Y}
	d := mdl.NumParams()
	var g mat.Dense
	mdl.PerExampleGrads(&g, theta, b)
	h := mat.NewDense(d, d, nil)
	e := make([]float64, d)
	col := make([]float64, d)
	for j := 0; j < d; j++ {
		e[j] = 1
		model.Objective{Model: mdl, WeightDecay: 0.01}.HessVec(col, theta, b, e)
		h.SetCol(j, col)
		e[j] = 0
	}
	gp, hp := filepath.Join(dir, "G.npy"), filepath.Join(dir, "H.npy")
	if err := data.WriteMatrix(gp, &g); err != nil {
		t.Fatal(err)
	}
	if err := data.WriteMatrix(hp, h); err != nil {
		t.Fatal(err)
	}
	common := []string{"--lr", "0.1", "--batch", "32", "--damping", "1e-9", "--weight-decay", "0.01", "--params", th, "--gaussian"}
	mj, gj := filepath.Join(dir, "m.json"), filepath.Join(dir, "g.json")
	code, _, stderr := runCmd(t, append([]string{"score", "--data", "breast-cancer", "--model", "logistic", "--json", mj}, common...)...)
	if code != 0 {
		t.Fatalf("model path: %s", stderr)
	}
	code, stdout, stderr := runCmd(t, append([]string{"score", "--grads", gp, "--hessian", hp, "--json", gj}, common...)...)
	if code != 0 {
		t.Fatalf("grads path: %s", stderr)
	}
	if !strings.Contains(stdout, "per-example gradients from") {
		t.Errorf("summary: %s", stdout)
	}
	mm, gm := readJSONFile(t, mj), readJSONFile(t, gj)
	if _, ok := gm["loss"]; ok {
		t.Error("loss present with --grads")
	}
	for _, k := range []string{"grad", "stationary_score", "likelihood_score", "prior_score", "implicit_prior_score"} {
		if e := maxRelDiff(jsonVec(t, obj(t, gm, "vectors", k)), jsonVec(t, obj(t, mm, "vectors", k))); e > 1e-9 {
			t.Errorf("vectors.%s: grads and model paths differ by %.3g", k, e)
		}
	}
	for _, k := range []string{"cov_seed", "cov_continuous", "cov_discrete", "cov_posterior"} {
		if obj(t, gm, "gaussian", k) == nil && obj(t, mm, "gaussian", k) == nil {
			continue // null in both
		}
		a, b := jsonMat(t, obj(t, gm, "gaussian", k)), jsonMat(t, obj(t, mm, "gaussian", k))
		for i := range a {
			if e := maxRelDiff(a[i], b[i]); e > 1e-8 {
				t.Errorf("gaussian.%s row %d: grads and model paths differ by %.3g", k, i, e)
				break
			}
		}
	}
}

// TestScoreErrors: usage errors exit 2, data and numerical errors 1; each is one line on
// stderr, never a panic, and no output file is written.
func TestScoreErrors(t *testing.T) {
	dir, th := scoreTrained(t)
	short := filepath.Join(dir, "short.npy")
	if err := data.WriteVector(short, []float64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	// A random θ of an MLP with a softmax output on iris: C_B has exact null directions.
	ds, _ := data.Load(data.Spec{Source: "iris"})
	mlp, _ := model.New("mlp:4", ds.NumFeatures(), ds.NumClasses(), model.Options{})
	rth := make([]float64, mlp.NumParams())
	model.InitParams(rth, mlp, rand.New(rand.NewPCG(1, 1)))
	mlpTheta := filepath.Join(dir, "mlp.npy")
	if err := data.WriteVector(mlpTheta, rth); err != nil {
		t.Fatal(err)
	}
	g := filepath.Join(dir, "G.npy")
	if err := data.WriteMatrix(g, mat.NewDense(3, 2, []float64{1, 0, 0, 1, 1, 1})); err != nil {
		t.Fatal(err)
	}
	bc := []string{"--data", "breast-cancer", "--model", "logistic", "--weight-decay", "0.01"}
	cases := []struct {
		name   string
		args   []string
		code   int
		substr []string
	}{
		{"missing params", append(bc, "--lr", "0.1", "--batch", "8"), 2, []string{"--params"}},
		{"damping and range", append(bc, "--params", th, "--lr", "0.1", "--batch", "8", "--damping", "1e-3", "--inverse", "range"), 2, []string{"--damping", "--inverse range"}},
		{"params wrong length", append(bc, "--params", short, "--lr", "0.1", "--batch", "8"), 2, []string{"short.npy", "31"}},
		{"params missing file", append(bc, "--params", filepath.Join(dir, "nope.npy"), "--lr", "0.1", "--batch", "8"), 1, []string{"nope.npy"}},
		{"rank-deficient", []string{"--data", "iris", "--model", "mlp:4", "--params", mlpTheta, "--lr", "0.1", "--batch", "8"}, 1, []string{"rank-deficient", "--damping", "--inverse range"}},
		{"rank-deficient cg", []string{"--data", "iris", "--model", "mlp:4", "--params", mlpTheta, "--lr", "0.1", "--batch", "8", "--solver", "cg"}, 1, []string{"rank-deficient", "--damping", "--inverse range"}},
		{"unstable lr", append(bc, "--params", th, "--lr", "50", "--batch", "8"), 1, []string{"2/λ_max"}},
		{"batch = N without", append(bc, "--params", th, "--lr", "0.1", "--batch", "569"), 2, []string{"--batch"}},
		{"bad solver", append(bc, "--params", th, "--lr", "0.1", "--batch", "8", "--solver", "qr"), 2, []string{"--solver"}},
		{"grads and subset", []string{"--grads", g, "--lr", "0.1", "--batch", "2", "--subset", "2"}, 2, []string{"--subset", "--grads"}},
		{"grads bad hessian", []string{"--grads", g, "--hessian", g, "--lr", "0.1", "--batch", "2"}, 2, []string{"G.npy", "3×2"}},
		{"grads n < M", []string{"--grads", g, "--n", "2", "--lr", "0.1", "--batch", "1"}, 2, []string{"--n"}},
		{"grads wd without params", []string{"--grads", g, "--lr", "0.1", "--batch", "2", "--weight-decay", "0.1"}, 2, []string{"--params"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.json")
			code, _, stderr := runCmd(t, append(append([]string{"score"}, c.args...), "--json", out)...)
			if code != c.code {
				t.Errorf("code %d, want %d; stderr %q", code, c.code, stderr)
			}
			if strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 || stderr == "" {
				t.Errorf("stderr is not one line: %q", stderr)
			}
			for _, s := range c.substr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q lacks %q", stderr, s)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("output written despite the error")
			}
		})
	}
	// With either treatment the rank-deficient case works.
	for _, opt := range [][]string{{"--damping", "1e-8"}, {"--inverse", "range"}} {
		code, _, stderr := runCmd(t, append([]string{"score", "--data", "iris", "--model", "mlp:4", "--params", mlpTheta, "--lr", "0.1", "--batch", "8"}, opt...)...)
		if code != 0 {
			t.Errorf("%v: code %d, %s", opt, code, stderr)
		}
	}
}

// TestScoreCovarianceFiles: large covariances go to .npy files named in the JSON (relative to
// its directory) — d×d in the parameter basis past the inline limit, and for the Hessian
// subspace the d×k basis.
func TestScoreCovarianceFiles(t *testing.T) {
	dir, th := scoreTrained(t)
	runSmall := func(args ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		e := &env{stdout: &stdout, stderr: &stderr, cmdline: append([]string{"sgdprior"}, args...)}
		st, err := parseScore(e, args[1:])
		if err != nil {
			t.Fatal(err)
		}
		if err := runScoreStep(context.Background(), e, st, study.Env{ScoreInlineMaxDim: 10}); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "big.json")
	args := []string{"score", "--data", "breast-cancer", "--model", "logistic", "--weight-decay", "0.01", "--params", th,
		"--lr", "0.1", "--batch", "32", "--json", out}
	runSmall(args...)
	m := readJSONFile(t, out)
	f, ok := obj(t, m, "gaussian", "cov_continuous").(string)
	if !ok || f != "big.cov_continuous.npy" {
		t.Fatalf("cov_continuous = %v, want a file name", obj(t, m, "gaussian", "cov_continuous"))
	}
	c, err := data.ReadMatrix(filepath.Join(dir, f))
	if err != nil {
		t.Fatal(err)
	}
	if r, cc := c.Dims(); r != 31 || cc != 31 {
		t.Errorf("cov file is %d×%d", r, cc)
	}
	out2 := filepath.Join(dir, "sub.json")
	runSmall(append(args[:len(args)-1], out2, "--solver", "woodbury", "--top-k", "5")...)
	m = readJSONFile(t, out2)
	basis, ok := obj(t, m, "gaussian", "basis").(string)
	if !ok || obj(t, m, "gaussian", "subspace") != true {
		t.Fatalf("basis %v", obj(t, m, "gaussian", "basis"))
	}
	v, err := data.ReadMatrix(filepath.Join(dir, basis))
	if err != nil {
		t.Fatal(err)
	}
	if r, k := v.Dims(); r != 31 || k != 5 {
		t.Errorf("basis is %d×%d, want 31×5", r, k)
	}
	if c := jsonMat(t, obj(t, m, "gaussian", "cov_continuous")); len(c) != 5 {
		t.Errorf("subspace covariance is %d×%d", len(c), len(c))
	}
}

// scoreSettings returns the command's defaults with η, B, --divergence and the seed.
func scoreSettings(lr float64, batch int, divergence bool, seed uint64) *score.Settings {
	s := score.DefaultSettings()
	s.LR, s.Batch, s.Divergence, s.Seed, s.Sampling = lr, batch, divergence, seed, noise.Without
	return &s
}

// TestParseScore: the flags bind into score.Settings from its defaults; −1 turns a stage off,
// and --minimum-tol 0 is zero.
func TestParseScore(t *testing.T) {
	e := &env{stdout: io.Discard, stderr: io.Discard}
	base := []string{"--data", "iris", "--model", "softmax", "--params", "t.npy", "--lr", "0.1", "--batch", "8"}
	inv, err := parseScore(e, base)
	if err != nil {
		t.Fatal(err)
	}
	want := score.DefaultSettings()
	want.LR, want.Batch, want.Seed, want.Sampling = 0.1, 8, 1, noise.Without
	if !reflect.DeepEqual(*inv.Score, want) {
		t.Errorf("settings %+v, want %+v", *inv.Score, want)
	}
	inv, err = parseScore(e, append(base, "--asymmetry-probes", "-1", "--noise-directions", "-1", "--preconditioner-examples", "-1",
		"--minimum-tol", "0", "--solver", "cg"))
	if err != nil {
		t.Fatal(err)
	}
	s := *inv.Score
	if !s.SkipAsymmetry || !s.SkipNoise || !s.PlainCG || s.MinimumTol != 0 || s.Solver != score.SolverCG ||
		s.AsymmetryProbes != score.DefaultAsymmetryProbes {
		t.Errorf("settings %+v", s)
	}
	if _, err := parseScore(e, append(base, "--asymmetry-probes", "-2")); err == nil || !strings.Contains(err.Error(), "--asymmetry-probes must be ≥ 2") {
		t.Errorf("--asymmetry-probes -2: %v", err)
	}
}
