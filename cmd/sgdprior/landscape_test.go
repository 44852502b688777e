package main

import (
	"path/filepath"
	"strings"
	"testing"
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
