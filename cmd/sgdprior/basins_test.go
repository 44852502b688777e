package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/basins"
)

// TestBasinsCommand: bad input is one line naming the flag (exit 2, data errors exit 1), and
// a small sweep writes a JSON file that reads back with every run and the summary.
func TestBasinsCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"basins", "--data", "iris", "--model", "mlp:4", "--seeds", "1,2"}, exitUsage, "--seeds"},
		{[]string{"basins", "--data", "iris", "--model", "mlp:4", "--lr", "0,1"}, exitUsage, "--lr"},
		{[]string{"basins", "--data", "iris", "--model", "mlp:4", "--batch", "1000"}, exitUsage, "--batch"},
		{[]string{"basins", "--data", "nope.csv", "--model", "mlp:4"}, exitRuntime, "nope.csv"},
	} {
		code, _, stderr := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %s", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	out := filepath.Join(t.TempDir(), "b.json")
	code, stdout, stderr := runCmd(t, "basins", "--data", "iris", "--model", "mlp:4", "--weight-decay", "1e-2",
		"--lr", "0.1,0.4", "--batch", "8,32", "--epochs", "2", "--gd-steps", "50", "--bootstrap", "200", "--json", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	o, err := basins.ReadOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Runs) != 30 || len(o.Summary.ByRatio) != 3 || o.Provenance.Data == "" || !strings.Contains(stdout, "Spearman") {
		t.Errorf("%d runs, %d ratios, provenance %q; stdout %s", len(o.Runs), len(o.Summary.ByRatio), o.Provenance.Data, stdout)
	}
}
