package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/train"
)

// runCmd runs the command in-process and returns its exit status and outputs.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	if code != 0 || !strings.Contains(out, "train") {
		t.Fatalf("help: code %d, output %q", code, out)
	}
	code, out, _ = runCmd(t, "version")
	if code != 0 || !strings.Contains(out, version) {
		t.Fatalf("version: code %d, output %q", code, out)
	}
	code, out, _ = runCmd(t, "train", "-h")
	if code != 0 || !strings.Contains(out, "--weight-decay") && !strings.Contains(out, "-weight-decay") {
		t.Fatalf("train -h: code %d, output %q", code, out)
	}
}

// TestBadInput tries what a new user would get wrong. Each must give exit status 1 or 2,
// one line on stderr naming the file and line or the flag, no panic and no output file.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", "a,b,y\n1,2,x\n2,1,y\n3,3,x\n0,1,y\n")
	three := writeFile(t, dir, "three.csv", "a,b,y\n1,2,p\n2,1,q\n3,3,r\n0,1,p\n")
	empty := writeFile(t, dir, "empty.csv", "")
	ragged := writeFile(t, dir, "ragged.csv", "a,b,y\n1,2,x\n2,y\n")
	nonnum := writeFile(t, dir, "nonnum.csv", "a,b,y\n1,2,x\n2,abc,y\n")
	nan := writeFile(t, dir, "nan.csv", "a,b,y\n1,2,x\nNaN,1,y\n")
	inf := writeFile(t, dir, "inf.csv", "a,b,y\n1,2,x\n1,+Inf,y\n")
	wide := writeFile(t, dir, "wide.csv", "a,b,c,y\n1,2,3,x\n")
	short := filepath.Join(dir, "short.npy")
	if err := data.WriteVector(short, []float64{1, 2}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		substr []string
	}{
		{"missing file", []string{"--data", filepath.Join(dir, "nope.csv"), "--model", "logistic", "--method", "lbfgs"}, 1, []string{"nope.csv"}},
		{"empty file", []string{"--data", empty, "--model", "logistic", "--method", "lbfgs"}, 1, []string{"empty.csv"}},
		{"ragged row", []string{"--data", ragged, "--model", "logistic", "--method", "lbfgs"}, 1, []string{"ragged.csv", "3"}},
		{"non-numeric", []string{"--data", nonnum, "--model", "logistic", "--method", "lbfgs"}, 1, []string{"nonnum.csv", "3"}},
		{"NaN", []string{"--data", nan, "--model", "logistic", "--method", "lbfgs"}, 1, []string{"nan.csv", "3"}},
		{"Inf", []string{"--data", inf, "--model", "logistic", "--method", "lbfgs"}, 1, []string{"inf.csv", "3"}},
		{"three classes for logistic", []string{"--data", three, "--model", "logistic", "--method", "lbfgs"}, 2, []string{"--model", "3"}},
		{"wrong-length params", []string{"--data", good, "--model", "logistic", "--method", "lbfgs", "--init", short}, 2, []string{"short.npy", "3"}},
		{"lr zero", []string{"--data", good, "--model", "logistic", "--lr", "0", "--batch", "2", "--steps", "10"}, 2, []string{"--lr"}},
		{"lr negative", []string{"--data", good, "--model", "logistic", "--lr", "-1", "--batch", "2", "--steps", "10"}, 2, []string{"--lr"}},
		{"batch too large", []string{"--data", good, "--model", "logistic", "--lr", "0.1", "--batch", "50", "--steps", "10"}, 2, []string{"--batch", "50"}},
		{"unknown flag", []string{"--data", good, "--model", "logistic", "--frobnicate"}, 2, []string{"frobnicate"}},
		{"unknown model", []string{"--data", good, "--model", "resnet", "--method", "lbfgs"}, 2, []string{"resnet"}},
		{"bad mlp", []string{"--data", good, "--model", "mlp:x", "--method", "lbfgs"}, 2, []string{"mlp:x"}},
		{"unknown data set", []string{"--data", "nosuchset", "--model", "logistic", "--method", "lbfgs"}, 2, []string{"--data", "nosuchset"}}, // what the user typed (issue 14)
		{"unknown test set", []string{"--data", good, "--test", "nosuchset", "--model", "logistic", "--method", "lbfgs"}, 2, []string{"--test", "nosuchset"}},
		{"test set with other features", []string{"--data", good, "--test", wide, "--model", "logistic", "--method", "lbfgs"}, 1, []string{"test set", "wide.csv", "3 features"}},
		{"test set with unknown classes", []string{"--data", good, "--test", three, "--model", "logistic", "--method", "lbfgs"}, 1, []string{"test set", "three.csv", `"p"`}},
		{"test and holdout", []string{"--data", good, "--test", good, "--holdout", "0.5", "--model", "logistic", "--method", "lbfgs"}, 2, []string{"--holdout excludes test"}},
		{"holdout 1", []string{"--data", good, "--holdout", "1", "--model", "logistic", "--method", "lbfgs"}, 2, []string{"--holdout"}},
		{"bad sampling", []string{"--data", good, "--model", "logistic", "--lr", "0.1", "--batch", "2", "--steps", "10", "--sampling", "sometimes"}, 2, []string{"--sampling"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".npy")
			args := append([]string{"train", "--out", out}, c.args...)
			code, _, stderr := runCmd(t, args...)
			if code != c.code {
				t.Errorf("exit status %d, want %d; stderr %q", code, c.code, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
				t.Errorf("stderr is not one line: %q", stderr)
			}
			for _, s := range c.substr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q does not name %q", stderr, s)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("an output file %s was written", out)
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left behind: %v", leftovers)
			}
		})
	}
	code, _, stderr := runCmd(t, "frobnicate")
	if code != 2 || !strings.Contains(stderr, "frobnicate") {
		t.Errorf("unknown command: code %d, stderr %q", code, stderr)
	}
}

// TestSeparableRefused: breast-cancer is linearly separable once standardised; without
// weight decay there is no finite minimum and train must say so.
func TestSeparableRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.npy")
	code, _, stderr := runCmd(t, "train", "--data", "breast-cancer", "--model", "logistic", "--method", "lbfgs", "--out", out)
	if code != 1 || !strings.Contains(stderr, "--weight-decay") || !strings.Contains(stderr, "separable") {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("params written despite the error")
	}
	code, _, stderr = runCmd(t, "train", "--data", "breast-cancer", "--model", "logistic", "--method", "lbfgs", "--weight-decay", "0.01", "--out", out)
	if code != 0 {
		t.Fatalf("with weight decay: code %d, stderr %q", code, stderr)
	}
}

// TestLBFGSMatchesNewton: train --method lbfgs on raw (unstandardised) logistic data gives
// θ* equal to an independent Newton solution (dense Hessian XᵀWX/N written here) to 1e-6
// relative.
func TestLBFGSMatchesNewton(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	n, p := 300, 3
	X := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	var sb strings.Builder
	sb.WriteString("f0,f1,f2,label\n")
	for i := 0; i < n; i++ {
		z := -0.5
		for j := 0; j < p; j++ {
			v := 3*rng.NormFloat64() + float64(j)
			X.Set(i, j, v)
			z += 0.3 * v * float64(j+1) / 3
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
		fmt.Fprintf(&sb, "%.17g,%.17g,%.17g,%s\n", X.At(i, 0), X.At(i, 1), X.At(i, 2), []string{"neg", "pos"}[int(y[i])])
	}
	csv := writeFile(t, dir, "logit.csv", sb.String())
	out := filepath.Join(dir, "theta.npy")
	code, stdout, stderr := runCmd(t, "train", "--data", csv, "--model", "logistic", "--standardize=false", "--method", "lbfgs", "--out", out)
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "0=neg 1=pos") {
		t.Errorf("summary does not print the label mapping: %q", stdout)
	}
	got, err := data.ReadVector(out)
	if err != nil {
		t.Fatal(err)
	}
	// Newton on the mean NLL with θ = (w, b) (PyTorch layout: weights then bias).
	theta := make([]float64, p+1)
	for it := 0; it < 50; it++ {
		g := mat.NewVecDense(p+1, nil)
		H := mat.NewSymDense(p+1, nil)
		for i := 0; i < n; i++ {
			z := theta[p]
			for j := 0; j < p; j++ {
				z += theta[j] * X.At(i, j)
			}
			s := 1 / (1 + math.Exp(-z))
			xi := append(mat.Row(nil, i, X), 1)
			for a := 0; a <= p; a++ {
				g.SetVec(a, g.AtVec(a)+(s-y[i])*xi[a]/float64(n))
				for b := a; b <= p; b++ {
					H.SetSym(a, b, H.At(a, b)+s*(1-s)*xi[a]*xi[b]/float64(n))
				}
			}
		}
		var step mat.VecDense
		if err := step.SolveVec(H, g); err != nil {
			t.Fatal(err)
		}
		for a := range theta {
			theta[a] -= step.AtVec(a)
		}
	}
	var num, den float64
	for a := range theta {
		num += (got[a] - theta[a]) * (got[a] - theta[a])
		den += theta[a] * theta[a]
	}
	if rel := math.Sqrt(num / den); rel > 1e-6 {
		t.Fatalf("θ* = %v, Newton %v: relative error %.3g > 1e-6", got, theta, rel)
	}
}

// TestSGDDeterministic: the same seed gives byte-identical params.npy with GOMAXPROCS 1
// and 2.
func TestSGDDeterministic(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for k, procs := range []int{1, 2} {
		old := runtime.GOMAXPROCS(procs)
		out := filepath.Join(dir, fmt.Sprintf("p%d.npy", procs))
		code, _, stderr := runCmd(t, "train", "--data", "digits", "--model", "mlp:16", "--weight-decay", "1e-3",
			"--lr", "0.05", "--batch", "32", "--steps", "300", "--seed", "5", "--out", out)
		runtime.GOMAXPROCS(old)
		if code != 0 {
			t.Fatalf("code %d, stderr %q", code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		files[k] = b
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("params.npy differs between GOMAXPROCS=1 and GOMAXPROCS=2")
	}
}

// TestTrainHoldout: train --holdout 0.2 on iris holds out round(0.2·50) = 10 of each class,
// prints the test set's numbers and writes them (and the split) into the JSON, which
// reads back.
func TestTrainHoldout(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "t.json")
	code, stdout, stderr := runCmd(t, "train", "--data", "iris", "--model", "softmax", "--weight-decay", "0.01", "--holdout", "0.2",
		"--holdout-seed", "4", "--method", "lbfgs", "--out", filepath.Join(dir, "t.npy"), "--json", js)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "test set iris (held out 0.2, seed 4) (n = 30)") || !strings.Contains(stdout, "(n = 120") {
		t.Errorf("stdout %q", stdout)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var o train.Output
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	pv := o.Provenance
	if o.TestN != 30 || !o.TestLoss.OK() || !(o.TestAccuracy >= 0.8) || pv.TestN != 30 || pv.N != 120 || pv.Holdout != 0.2 || pv.HoldoutSeed == nil || *pv.HoldoutSeed != 4 {
		t.Errorf("output test %d %v %v, provenance %+v", o.TestN, o.TestLoss, o.TestAccuracy, pv)
	}
}
