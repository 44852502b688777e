package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/escape"
)

// TestEscapeCommand runs escape on iris, checks its JSON's keys, and that bad input exits 2
// with a one-line message naming the flag (ηλ_max ≥ 2 names --lr).
func TestEscapeCommand(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "e.json")
	code, out, errs := runCmd(t, "escape", "--data", "iris", "--model", "softmax", "--weight-decay", "0.01",
		"--lr", "0.5", "--batch", "4", "--chains", "4", "--steps", "400", "--check-every", "20", "--delta", "0.02", "--top-k", "2", "--json", js)
	if code != 0 {
		t.Fatalf("code %d: %s %s", code, out, errs)
	}
	o, err := escape.ReadOutput(js)
	if err != nil {
		t.Fatal(err)
	}
	for _, nz := range escape.Noises {
		r := o.Noises.Get(nz)
		if r == nil || len(r.Survival) != 20 || len(r.EscapeSteps) != 4 {
			t.Errorf("%v: %+v", nz, r)
		}
	}
	if o.Provenance.Data != "iris" || !(o.LambdaMax > 0) || !(o.TraceCB > 0) {
		t.Errorf("provenance %+v, λ_max %v, tr C_B %v", o.Provenance, o.LambdaMax, o.TraceCB)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--lr", "100", "--batch", "4"}, "--lr"},
		{[]string{"--lr", "0.1", "--batch", "4", "--delta", "0"}, "--delta"},
		{[]string{"--lr", "0.1", "--batch", "1000"}, "--batch"},
	} {
		args := append([]string{"escape", "--data", "iris", "--model", "softmax", "--weight-decay", "0.01", "--chains", "2", "--steps", "10", "--check-every", "5"}, c.args...)
		code, _, errs := runCmd(t, args...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 1 {
			t.Errorf("%v: code %d, stderr %q", c.args, code, errs)
		}
	}
}

// TestEscapeLawCommand runs the escape-law grid (--law-lr, --law-batch) on iris and reads its
// JSON back; giving only one of the two grid flags exits 2 naming the missing one.
func TestEscapeLawCommand(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "law.json")
	base := []string{"escape", "--data", "iris", "--model", "softmax", "--weight-decay", "0.01", "--chains", "4", "--steps", "400", "--check-every", "20", "--delta", "0.02"}
	code, out, errs := runCmd(t, append(base, "--law-lr", "1,2", "--law-batch", "2,4", "--json", js)...)
	if code != 0 {
		t.Fatalf("code %d: %s %s", code, out, errs)
	}
	o, err := escape.ReadLawOutput(js)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Law.Cells) != 4 {
		t.Errorf("%d cells, want 4", len(o.Law.Cells))
	}
	code, _, errs = runCmd(t, append(base, "--law-lr", "1,2")...)
	if code != 2 || !strings.Contains(errs, "--law-batch") {
		t.Errorf("--law-lr alone: code %d, stderr %q", code, errs)
	}
}
