package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/track"
)

// TestTrackCommand runs a short track on iris softmax and checks the files it writes, and
// that a bad flag is a one-line usage error naming it.
func TestTrackCommand(t *testing.T) {
	dir := t.TempDir()
	js, csv := filepath.Join(dir, "t.json"), filepath.Join(dir, "t.csv")
	var out, errb bytes.Buffer
	code := run([]string{"track", "--data", "iris", "--model", "softmax", "--lr", "0.1", "--batch", "10",
		"--steps", "40", "--every", "20", "--json", js, "--csv", csv, "--out", filepath.Join(dir, "th.npy"), "--figures", filepath.Join(dir, "fig")}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"2/η = 20", "of which the diagnostics", "fdr_ratio"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, f := range []string{"track-lambda_max.svg", "track-fdr_ratio.png", "track-trace_h.svg"} {
		if _, err := os.Stat(filepath.Join(dir, "fig", f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "fig", "track-test_loss.svg")); err == nil {
		t.Error("a figure of test_loss without a test set")
	}
	o, err := track.ReadOutput(js)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Rows) != 3 || o.Rows[2].Step != 40 || float64(o.TwoOverLR) != 20 || o.Provenance.Version == "" {
		t.Errorf("rows %d, two_over_lr %v, provenance %+v", len(o.Rows), o.TwoOverLR, o.Provenance)
	}
	if b, err := os.ReadFile(csv); err != nil || !strings.HasPrefix(string(b), "step,train_loss,test_loss") {
		t.Errorf("csv: %v %q", err, b)
	}
	out.Reset()
	errb.Reset()
	code = run([]string{"track", "--data", "iris", "--model", "softmax", "--lr", "0.1", "--batch", "10", "--trace-probes", "1"}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "--trace-probes") || strings.Count(errb.String(), "\n") != 1 {
		t.Errorf("bad flag: exit %d, %q", code, errb.String())
	}
}
