package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/train"
)

// TestLandscapeJSON: the command's JSON carries the interface keys, and ou's exact and
// discrete variances are the closed forms ηκ_Bv/(2h) and ηκ_Bv/(h(2 − ηh)).
func TestLandscapeJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "l.json")
	code, stdout, stderr := runCmd(t, "landscape", "--preset", "ou", "--lr", "0.4", "--batch", "1", "--sampling", "with",
		"--chains", "4", "--steps", "2000", "--sweep-lr", "0.2,0.4", "--json", out)
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "stationary variance") {
		t.Errorf("summary lacks the variances: %q", stdout)
	}
	m := readJSONFile(t, out)
	for _, k := range []string{"preset", "lr", "batch", "kappa", "grid", "density", "variance", "wells", "sweep", "provenance", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	for _, k := range []string{"exact", "seed", "sgd", "sgd_stderr", "gauss", "sde"} {
		if _, ok := m["density"].(map[string]any)[k]; !ok {
			t.Errorf("density lacks %q", k)
		}
	}
	v := m["variance"].(map[string]any)
	eta, kappa, h, vv := 0.4, 1.0, 1.0, 1.0
	first := func(k string) float64 { return v[k].([]any)[0].(float64) }
	if got, want := first("exact"), eta*kappa*vv/(2*h); abs(got-want) > 1e-12*want {
		t.Errorf("exact variance %g, want %g", got, want)
	}
	if got, want := first("discrete"), eta*kappa*vv/(h*(2-eta*h)); abs(got-want) > 1e-12*want {
		t.Errorf("discrete variance %g, want %g", got, want)
	}
	if n := len(m["sweep"].([]any)); n != 2 {
		t.Errorf("sweep has %d points, want 2", n)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestLandscapeErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--preset", "volcano"}, "volcano"},
		{[]string{"--preset", "ou", "--simulators", "sgld"}, "--simulators"},
		{[]string{"--preset", "ou", "--sweep-lr", "0.1,x"}, "--sweep-lr"},
		{[]string{"--preset", "ou2d", "--hess2", "1,2"}, "--hess2"},
		{[]string{"--preset", "wells", "--wells", "1:2"}, "--wells"},
		{[]string{"--preset", "ou", "--dt", "2"}, "--dt"},
	} {
		code, _, stderr := runCmd(t, append([]string{"landscape"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: code %d, stderr %q; want 2 naming %q", c.args, code, stderr, c.want)
		}
	}
}

// TestParseLandscape: the flags land in the library's settings, starting from
// landscape.DefaultSettings, and bad values are usage errors naming their flag.
func TestParseLandscape(t *testing.T) {
	e := &env{stdout: io.Discard, stderr: io.Discard}
	inv, err := parseLandscape(e, []string{"--preset", "ou2d", "--hess2", "1,0.4,0.5", "--lr", "0.1", "--simulators", "sgd,sde",
		"--sweep-lr", "0.1,0.2", "--sweep-batch", "2", "--chains", "4", "--json", "l.json"})
	if err != nil {
		t.Fatal(err)
	}
	want := landscape.DefaultSettings()
	want.LR, want.Chains = 0.1, 4
	want.Methods = landscape.Methods{sim.SGD, sim.SDE}
	want.SweepLR, want.SweepBatch = landscape.LRList{0.1, 0.2}, landscape.BatchList{2}
	if !reflect.DeepEqual(*inv.Landscape, want) || inv.Preset.Name != "ou2d" || inv.Preset.Hess2 != "1,0.4,0.5" || inv.JSON != "l.json" {
		t.Errorf("parsed %+v", inv)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--chains", "1"}, "--chains must be ≥ 2"},
		{[]string{"--steps", "99"}, "--steps must be ≥ 100, not 99"},
		{[]string{"--sweep-batch", "0"}, `--sweep-batch: "0" is not a positive integer`},
		{[]string{"--preset", "ou2d", "--noise2", "1"}, "--noise2"},
	} {
		_, err := parseLandscape(e, c.args)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error with %q", c.args, err, c.want)
		}
	}
}

// TestParseTrain: the flags land in train.RunSettings and the problem spec; the rules are
// train's.
func TestParseTrain(t *testing.T) {
	e := &env{stdout: io.Discard, stderr: io.Discard}
	inv, err := parseTrain(e, []string{"--data", "iris", "--model", "softmax", "--lr", "0.1", "--batch", "8", "--sampling", "with",
		"--epochs", "2", "--seed", "5", "--out", "t.npy"})
	if err != nil {
		t.Fatal(err)
	}
	want := train.DefaultRunSettings()
	want.LR, want.Batch, want.Sampling, want.Epochs, want.Seed = 0.1, 8, noise.With, 2, 5
	if !reflect.DeepEqual(*inv.Train, want) || inv.Spec.Data != "iris" || inv.Theta != "t.npy" {
		t.Errorf("parsed %+v", inv)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", "iris", "--model", "softmax", "--lr", "0.1", "--batch", "8", "--out", "t.npy"}, "--method sgd needs exactly one of --steps T > 0 and --epochs E > 0"},
		{[]string{"--data", "iris", "--model", "softmax", "--method", "lbfgs", "--gtol", "0", "--out", "t.npy"}, "--gtol must be > 0, not 0"},
		{[]string{"--data", "iris", "--model", "softmax", "--method", "adam", "--out", "t.npy"}, "--method"},
		{[]string{"--data", "iris", "--model", "softmax", "--method", "lbfgs"}, "--out is required"},
	} {
		_, err := parseTrain(e, c.args)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error with %q", c.args, err, c.want)
		}
	}
}

// TestLandscapeExplicitZero: an explicit 0 is used where it is valid (--spread 0, constant
// noise, and the step's command line says so) and is a usage error naming the flag where it
// is not; it is never replaced by the preset's default.
func TestLandscapeExplicitZero(t *testing.T) {
	for _, c := range [][]string{
		{"--preset", "ou", "--hess", "0"}, {"--preset", "ou", "--var", "0"}, {"--preset", "ou", "--n", "0"},
		{"--preset", "ou", "--lr", "0"}, {"--preset", "wells", "--var0", "0"}, {"--preset", "wells", "--spread", "-1"},
	} {
		code, _, stderr := runCmd(t, append([]string{"landscape", "--exact-only"}, c...)...)
		if code != 2 || !strings.Contains(stderr, c[2]) {
			t.Errorf("landscape %v: exit status %d, stderr %q; want 2 naming %s", c, code, stderr, c[2])
		}
	}
	out := filepath.Join(t.TempDir(), "l.json")
	code, _, stderr := runCmd(t, "landscape", "--preset", "wells", "--spread", "0", "--var0", "0.5", "--n", "40", "--exact-only", "--json", out)
	if code != 0 {
		t.Fatalf("--spread 0: exit status %d: %s", code, stderr)
	}
	m := readJSONFile(t, out)
	params := m["params"].(map[string]any)
	if params["spread"] != 0.0 || params["var0"] != 0.5 {
		t.Errorf("--spread 0 --var0 0.5 ran with params %v", params)
	}
	if cl := fmt.Sprint(m["provenance"].(map[string]any)["command_line"]); !strings.Contains(cl, "--spread 0") {
		t.Errorf("command line %q lacks --spread 0", cl)
	}
}
