package study

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/score"
)

// TestExecCancelledWritesNothing: a step whose computation cannot observe its context
// (score) and finishes after the context is cancelled returns the context's error and
// writes no output; the same step uncancelled writes it.
func TestExecCancelledWritesNothing(t *testing.T) {
	dir := t.TempDir()
	spec := problem.DefaultSpec()
	spec.Data, spec.Model = "iris", "softmax"
	theta := make([]float64, 15)
	if err := data.WriteVector(filepath.Join(dir, "theta.npy"), theta); err != nil {
		t.Fatal(err)
	}
	set := score.DefaultSettings()
	set.LR, set.Batch = 0.1, 16
	set.Inverse.Damping = 1e-3
	st := &Step{ID: "iris/score", Entry: "iris", Command: KindScore, JSON: "s.json", Spec: &spec, Score: &set, Theta: "theta.npy"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Exec(ctx, Env{Dir: dir}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "s.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cancelled: the output exists (stat: %v)", err)
	}
	if _, err := st.Exec(context.Background(), Env{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "s.json")); err != nil {
		t.Errorf("uncancelled: %v", err)
	}
}
