package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgdprior/sgdprior/internal/synth"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/verify"
)

// synthCSV writes a synth.Linear data set as CSV and returns its path.
func synthCSV(t *testing.T, dir string, s synth.LinearSettings) string {
	t.Helper()
	ds := synth.Linear(s)
	var sb strings.Builder
	p := ds.NumFeatures()
	for j := 0; j < p; j++ {
		fmt.Fprintf(&sb, "x%d,", j)
	}
	sb.WriteString("y\n")
	for i := 0; i < ds.Len(); i++ {
		for j := 0; j < p; j++ {
			fmt.Fprintf(&sb, "%.17g,", ds.X.At(i, j))
		}
		fmt.Fprintf(&sb, "%.17g\n", ds.Y[i])
	}
	return writeFile(t, dir, "synth.csv", sb.String())
}

type verifyOut struct {
	Samples     int                        `json:"samples"`
	Basis       string                     `json:"basis"`
	RHatMax     float64                    `json:"rhat_max"`
	Directions  []map[string]any           `json:"directions"`
	Predictions map[string]json.RawMessage `json:"predictions"`
	Warnings    []string                   `json:"warnings"`
}

type predOut struct {
	RelFrobenius float64 `json:"rel_frobenius"`
	KL           float64 `json:"kl"`
	Consistent   *bool   `json:"consistent"`
	MaxAbsT      float64 `json:"max_abs_t"`
}

func readVerify(t *testing.T, path string) (verifyOut, map[string]predOut) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v verifyOut
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	preds := map[string]predOut{}
	for k, raw := range v.Predictions {
		var p predOut
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		preds[k] = p
	}
	return v, preds
}

// TestVerifyLeastSquares: least squares with heteroscedastic noise and ηλ_max ≈ 0.5. The
// exact least-squares prediction must agree with SGD within its error bars, and the
// constant-noise Lyapunov predictions must be judged inconsistent (the M₄ term changes the
// covariance by far more than the sampling error here: 48 chains × 20000 samples).
func TestVerifyLeastSquares(t *testing.T) {
	dir := t.TempDir()
	csv := synthCSV(t, dir, synth.LinearSettings{N: 200, Eigenvalues: []float64{4, 1, 0.5}, Hetero: 3, NoiseStd: 0.5, Seed: 11})
	out := filepath.Join(dir, "v.json")
	code, stdout, stderr := runCmd(t, "verify", "--data", csv, "--model", "linreg", "--standardize=false",
		"--lr", "0.12", "--batch", "4", "--sampling", "with", "--chains", "48", "--steps", "22000", "--burnin", "2000",
		"--seed", "3", "--json", out)
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	t.Log(stdout)
	v, preds := readVerify(t, out)
	h0 := v.Directions[0]["h"].(float64)
	if r := 0.12 * h0; r < 0.4 || r > 0.6 {
		t.Fatalf("ηλ_max = %.3f, want ≈ 0.5", r)
	}
	if p := preds["linear_exact"]; p.Consistent == nil || !*p.Consistent {
		t.Errorf("linear_exact judged inconsistent (max|t| %.3g):\n%s", p.MaxAbsT, stdout)
	}
	for _, name := range []string{"continuous", "discrete"} {
		if p := preds[name]; p.Consistent == nil || *p.Consistent {
			t.Errorf("%s judged consistent (max|t| %.3g):\n%s", name, p.MaxAbsT, stdout)
		}
	}
	if v.Basis != "full" {
		t.Errorf("basis %q", v.Basis)
	}
	// The cloud: samples in the plane of the two sharpest directions, whose measured 2×2
	// block and first direction's variance match the directions table.
	b, _ := os.ReadFile(out)
	var raw struct {
		Cloud struct {
			X, Y        []float64
			Cov         [][]float64
			Predictions map[string][][]float64
		}
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if n := len(raw.Cloud.X); n < 1000 || n > 2000 || len(raw.Cloud.Y) != n {
		t.Errorf("cloud has %d points", n)
	}
	if got, want := raw.Cloud.Cov[0][0], v.Directions[0]["var"].(float64); got != want {
		t.Errorf("cloud variance %g, directions table %g", got, want)
	}
	if len(raw.Cloud.Predictions) < 4 {
		t.Errorf("cloud predictions %v", raw.Cloud.Predictions)
	}
}

// TestVerifySGLD: Bayesian linear regression (weight decay = Gaussian prior). SGLD's
// stationary covariance agrees with sgld_exact, and its KL divergence from the posterior
// shrinks as η shrinks.
func TestVerifySGLD(t *testing.T) {
	dir := t.TempDir()
	csv := synthCSV(t, dir, synth.LinearSettings{N: 100, Eigenvalues: []float64{2, 1}, NoiseStd: 1, Seed: 5})
	var kls []float64
	for _, lr := range []string{"0.2", "0.05"} {
		out := filepath.Join(dir, "sgld"+lr+".json")
		code, stdout, stderr := runCmd(t, "verify", "--data", csv, "--model", "linreg", "--standardize=false",
			"--weight-decay", "0.1", "--simulator", "sgld", "--lr", lr, "--batch", "10",
			"--chains", "32", "--steps", "30000", "--burnin", "3000", "--seed", "2", "--json", out)
		if code != 0 {
			t.Fatalf("code %d: %s", code, stderr)
		}
		t.Log(stdout)
		_, preds := readVerify(t, out)
		if p := preds["sgld_exact"]; p.Consistent == nil || !*p.Consistent {
			t.Errorf("η = %s: sgld_exact judged inconsistent (max|t| %.3g):\n%s", lr, p.MaxAbsT, stdout)
		}
		kls = append(kls, preds["posterior"].KL)
	}
	if !(kls[1] < kls[0]) {
		t.Errorf("KL to the posterior %.4g (η = 0.2) and %.4g (η = 0.05): does not shrink with η", kls[0], kls[1])
	}
}

// buildBinary builds the sgdprior command once per test binary.
var builtBinary string

func buildBinary(t *testing.T) string {
	t.Helper()
	if builtBinary != "" {
		return builtBinary
	}
	dir, err := os.MkdirTemp("", "sgdprior-bin")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sgdprior")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	builtBinary = bin
	return bin
}

// stripProvenance returns the JSON file without its provenance (which records the command
// line), re-marshalled.
func stripProvenance(t *testing.T, path string) []byte {
	t.Helper()
	m := readJSONFile(t, path)
	delete(m, "provenance")
	out, _ := json.Marshal(m)
	return out
}

// TestVerifyResume: runs killed with SIGKILL and interrupted with SIGINT after their first
// checkpoint resume to results byte-identical to the uninterrupted run (the JSON without
// its provenance).
func TestVerifyResume(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	base := []string{"verify", "--data", "iris", "--model", "softmax", "--weight-decay", "0.05", "--damping", "1e-4",
		"--lr", "0.1", "--batch", "16", "--chains", "4", "--steps", "100000", "--burnin", "1000", "--thin", "10", "--seed", "9",
		"--checkpoint-every", "2000"}
	full := filepath.Join(dir, "full.json")
	if code, _, stderr := runCmd(t, append(base, "--json", full)...); code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	want := stripProvenance(t, full)
	for _, sig := range []os.Signal{os.Kill, os.Interrupt} {
		ck := filepath.Join(dir, fmt.Sprintf("ck-%v", sig))
		cmd := exec.Command(bin, append(base, "--checkpoint", ck, "--json", filepath.Join(dir, "never.json"))...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			if _, err := os.Stat(ck); err == nil {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("%v: no checkpoint after 60 s", sig)
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		if err == nil {
			t.Fatalf("%v: the run finished before the signal; make it longer", sig)
		}
		if sig == os.Interrupt && !strings.Contains(stderr.String(), "--resume") {
			t.Errorf("SIGINT: stderr %q does not say how to resume", stderr.String())
		}
		if _, err := os.Stat(filepath.Join(dir, "never.json")); err == nil {
			t.Fatalf("%v: the interrupted run wrote its JSON", sig)
		}
		resumed := filepath.Join(dir, fmt.Sprintf("resumed-%v.json", sig))
		if code, _, stderr := runCmd(t, append(base, "--resume", ck, "--checkpoint", ck, "--json", resumed)...); code != 0 {
			t.Fatalf("%v: resume: code %d: %s", sig, code, stderr)
		}
		if !bytes.Equal(want, stripProvenance(t, resumed)) {
			t.Errorf("%v: the resumed result differs from the uninterrupted run", sig)
		}
	}
}

func TestVerifyErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--data", "breast-cancer", "--model", "logistic", "--lr", "0.1", "--batch", "8"}, 1, "--weight-decay"},
		{[]string{"--data", "iris", "--model", "softmax", "--weight-decay", "0.1", "--lr", "0.1", "--batch", "8", "--damping", "1", "--inverse", "range"}, 2, "exclusive"},
		{[]string{"--data", "iris", "--model", "softmax", "--weight-decay", "0.1", "--lr", "0.1", "--batch", "8", "--chains", "1"}, 2, "--chains"},
		{[]string{"--data", "iris", "--model", "softmax", "--weight-decay", "0.1", "--lr", "0.1", "--batch", "8"}, 1, "--inverse range"},
		{[]string{"--data", "iris", "--model", "softmax", "--weight-decay", "0.1", "--damping", "1e-3", "--lr", "50", "--batch", "8"}, 1, "2/λ_max"},
		{[]string{"--data", "iris", "--model", "softmax", "--weight-decay", "0.1", "--lr", "0.1", "--batch", "8", "--simulator", "langevin"}, 2, "--simulator"},
	}
	for _, c := range cases {
		code, _, stderr := runCmd(t, append([]string{"verify", "--steps", "200", "--burnin", "10"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: code %d, stderr %q; want code %d naming %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

// TestParseVerify: the flags bind into the problem spec and verify.Settings (defaults from
// verify.DefaultSettings), with the inverse flags in Settings.Inverse; no data is loaded.
func TestParseVerify(t *testing.T) {
	e := &env{stdout: io.Discard, stderr: io.Discard}
	inv, err := parseVerify(e, []string{"--data", "iris", "--model", "softmax", "--weight-decay", "0.1", "--lr", "0.2", "--batch", "8",
		"--simulator", "sde", "--dt", "0.5", "--chains", "4", "--inverse", "range", "--rcond", "1e-8", "--params", "p.npy", "--json", "o.json"})
	if err != nil {
		t.Fatal(err)
	}
	want := verify.DefaultSettings()
	want.LR, want.Batch, want.Method, want.DT, want.Chains = 0.2, 8, sim.SDE, 0.5, 4
	want.Inverse.Range, want.Inverse.RCond = true, 1e-8
	if *inv.Verify != want || inv.Theta != "p.npy" || inv.JSON != "o.json" || inv.Spec.Data != "iris" || inv.Spec.WeightDecay != 0.1 {
		t.Errorf("got %+v", inv)
	}
	if _, err := parseVerify(e, []string{"--data", "iris", "--model", "softmax", "--lr", "0.2", "--batch", "8", "--rcond", "0"}); err == nil || !strings.Contains(err.Error(), "--rcond must be in (0, 1), not 0") {
		t.Errorf("rcond 0: %v", err)
	}
}
