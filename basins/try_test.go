package basins

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/sgdprior/sgdprior/problem"
)

func TestTryDigits(t *testing.T) {
	if os.Getenv("BASINS_TRY") == "" {
		t.Skip()
	}
	spec := problem.DefaultSpec()
	spec.Data, spec.Model, spec.WeightDecay = "digits", "mlp:32", 1e-3
	p, err := problem.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings()
	s.Epochs = 2
	s.GDSteps = 100
	t0 := time.Now()
	o, err := Run(context.Background(), p, &s)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(time.Since(t0))
	b, _ := json.MarshalIndent(o.Summary, "", " ")
	t.Log(string(b))
	for _, r := range o.Runs {
		t.Logf("%v %v %v gd=%v λ=%.4g tr=%.4g±%.2g g=%.2g loss=%.4g acc=%.4g pre=%.4g dist=%.3g", r.LR, r.Batch, r.Seed, r.GD, float64(r.LambdaMax), float64(r.TraceH), float64(r.TraceHStderr), float64(r.GradNorm), float64(r.TrainLoss), float64(r.TrainAcc), float64(r.PreDescentLoss), float64(r.Distance))
	}
	t.Log(o.Warnings)
}
