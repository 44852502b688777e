// Package pytorch holds the bring-your-own-gradients example: export_grads.py writes a
// PyTorch model's per-example gradients and Hessian, and `sgdprior score --grads` reads them.
// The test runs the script and checks that the gradients path gives the same numbers as
// sgdprior's own model of the same network.
package pytorch

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python is Debian's interpreter with python3-torch (the python3 on PATH may lack torch).
const python = "/usr/bin/python3"

// requireTorch skips the test when python cannot import torch and numpy, unless
// SGDPRIOR_REQUIRE_TOOLS=1, in which case it fails.
func requireTorch(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import torch, numpy").CombinedOutput()
	if err == nil {
		return
	}
	msg := "cannot run the PyTorch example: " + python + " cannot import torch and numpy: " + string(out) + err.Error()
	if os.Getenv("SGDPRIOR_REQUIRE_TOOLS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// buildSgdprior builds the command into dir.
func buildSgdprior(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sgdprior")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sgdprior/sgdprior/cmd/sgdprior")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func load(t *testing.T, path string) map[string]any {
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

func get(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%v: not an object at %q", path, p)
		}
		if cur, ok = mm[p]; !ok {
			t.Fatalf("key %v missing", path)
		}
	}
	return cur
}

// flatten returns the numbers of a JSON number, array or matrix.
func flatten(t *testing.T, v any) []float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return []float64{x}
	case []any:
		var out []float64
		for _, e := range x {
			out = append(out, flatten(t, e)...)
		}
		return out
	}
	t.Fatalf("not numeric: %T %v", v, v)
	return nil
}

// relDiff returns ‖a − b‖ / ‖b‖.
func relDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// TestPyTorchGradients runs export_grads.py (training a tanh MLP with weight decay in
// PyTorch, exporting θ, the per-example gradients and the Hessian, and scoring them with
// `sgdprior score --grads`), then scores the same network and θ through sgdprior's own model
// (`--data X.npy --model mlp:5`), and compares the two JSON outputs.
func TestPyTorchGradients(t *testing.T) {
	requireTorch(t)
	dir := t.TempDir()
	bin := buildSgdprior(t, dir)
	run(t, python, "export_grads.py", "--out", dir, "--sgdprior", bin)
	torchJSON := filepath.Join(dir, "torch.json")
	modelJSON := filepath.Join(dir, "model.json")
	run(t, bin, "score", "--data", filepath.Join(dir, "X.npy"), "--labels", filepath.Join(dir, "y.npy"),
		"--standardize=false", "--model", "mlp:5", "--params", filepath.Join(dir, "theta.npy"), "--weight-decay", "0.01",
		"--lr", "0.1", "--batch", "10", "--damping", "1e-08", "--gaussian", "--json", modelJSON)
	tj, mj := load(t, torchJSON), load(t, modelJSON)

	// Quantities that do not involve ∇L (≈ 1e-9 at the L-BFGS minimum): the two float64
	// computations of the gradients agree to rounding, so to 1e-9.
	for _, p := range [][]string{
		{"vectors", "likelihood_score"}, {"noise", "trace"}, {"noise", "top_eigenvalues"}, {"diagnostics", "commutator"},
		{"gaussian", "cov_continuous"}, {"gaussian", "cov_discrete"}, {"gaussian", "cov_posterior"},
		{"optimal_lr"},
	} {
		if e := relDiff(flatten(t, get(t, tj, p...)), flatten(t, get(t, mj, p...))); !(e <= 1e-9) {
			t.Errorf("%v: PyTorch and sgdprior differ by %.3g", p, e)
		}
	}
	// Vectors through ∇L: it is rounding-sized at the minimum, and (C_B + λI)⁻¹ with
	// λ = 1e-8 amplifies its rounding along the noiseless (softmax symmetry) directions by up
	// to 1e8; the vectors are of order 1, so they agree to ~1e-7.
	for _, k := range []string{"stationary_score", "prior_score", "implicit_prior_score"} {
		if e := relDiff(flatten(t, get(t, tj, "vectors", k)), flatten(t, get(t, mj, "vectors", k))); !(e <= 1e-6) {
			t.Errorf("vectors.%s: PyTorch and sgdprior differ by %.3g", k, e)
		}
	}
	dirs := func(m map[string]any, k string) []float64 {
		var out []float64
		for _, d := range get(t, m, "gaussian", "directions").([]any) {
			out = append(out, d.(map[string]any)[k].(float64))
		}
		return out
	}
	for _, k := range []string{"h", "c", "var_continuous", "var_posterior"} {
		if e := relDiff(dirs(tj, k), dirs(mj, k)); !(e <= 1e-8) {
			t.Errorf("directions.%s: PyTorch and sgdprior differ by %.3g", k, e)
		}
	}
}
