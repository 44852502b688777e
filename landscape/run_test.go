package landscape

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/sim"
)

func TestFloatJSON(t *testing.T) {
	b, err := json.Marshal([]Float{1.5, Float(math.NaN()), Float(math.Inf(-1)), 0, 1e-300})
	if err != nil || string(b) != "[1.5,null,null,0,1e-300]" {
		t.Errorf("marshal: %s (%v)", b, err)
	}
	var back []Float
	if err := json.Unmarshal(b, &back); err != nil || back[0] != 1.5 || !math.IsNaN(float64(back[1])) {
		t.Errorf("unmarshal: %v (%v)", back, err)
	}
}

func decode(t *testing.T, r *Result) map[string]any {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRunOU(t *testing.T) {
	o, _ := NewOU(OUSettings{N: 50})
	r, err := Run(context.Background(), o, Settings{Time: 20000, Chains: 4, Seed: 1, Exact: Exact1DSettings{Bins: 50}})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, r)
	for _, k := range []string{"preset", "lr", "batch", "kappa", "grid", "density", "variance", "wells", "warnings", "current"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if m["current"] != nil || m["dt"] != nil {
		t.Errorf("1-D current %v and dt %v should be null", m["current"], m["dt"])
	}
	dens := m["density"].(map[string]any)
	if len(dens["exact"].([]any)) != 50 || len(dens["sgd"].([]any)) != 50 || dens["gauss"] != nil {
		t.Errorf("densities: exact %d, sgd %d, gauss %v", len(dens["exact"].([]any)), len(dens["sgd"].([]any)), dens["gauss"])
	}
	v := m["variance"].(map[string]any)
	want := o.Variances(0.5, mustKappa(t, noise.Without, 50, 1))
	if got := v["discrete"].([]any)[0].(float64); got != want.Discrete[0] {
		t.Errorf("variance.discrete %v, want %v", got, want.Discrete[0])
	}
	if se := v["sgd_stderr"].([]any)[0].(float64); math.Abs(v["sgd"].([]any)[0].(float64)-want.Discrete[0]) > 4*se {
		t.Errorf("variance.sgd %v ± %v, discrete %v", v["sgd"], se, want.Discrete[0])
	}
	w := m["wells"].([]any)[0].(map[string]any)
	if w["escape_exact"] != nil || w["mass_exact"].(float64) != 1 {
		t.Errorf("unimodal well: %v", w)
	}
}

func TestRunWellsSweep(t *testing.T) {
	w, _ := NewWells(WellsSettings{N: 40})
	r, err := Run(context.Background(), w, Settings{Time: 60000, Chains: 4, Seed: 2, Exact: Exact1DSettings{Bins: 60},
		SweepLR: []float64{0.2, 0.3}, SweepBatch: []int{1, 4}, SweepTime: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Wells) != 2 || r.Variance != nil {
		t.Fatalf("wells %d, variance %v", len(r.Wells), r.Variance)
	}
	for k, wl := range r.Wells {
		if !(wl.EscapeExact > 0) || !(wl.EscapeKramers > 0) || !(wl.MassSGD >= 0) || !(wl.MassSGDStderr > 0) {
			t.Errorf("well %d: %+v", k, wl)
		}
	}
	if len(r.Sweep) != 4 {
		t.Fatalf("sweep has %d points, want 4", len(r.Sweep))
	}
	for _, p := range r.Sweep {
		var se, ss float64
		for k := range p.Shares.Exact {
			se += float64(p.Shares.Exact[k])
			ss += float64(p.Shares.Note[k])
		}
		if math.Abs(se-1) > 1e-9 || math.Abs(ss-1) > 1e-9 || len(p.Shares.SGD) != 2 {
			t.Errorf("sweep point %+v", p)
		}
		if float64(p.Kappa) != mustKappa(t, noise.Without, 40, p.Batch) {
			t.Errorf("sweep κ %v for B = %d", p.Kappa, p.Batch)
		}
	}
	// κ_B, hence the noise, changes with B: so must the shares.
	if r.Sweep[0].Shares.Exact[0] == r.Sweep[1].Shares.Exact[0] {
		t.Error("sweep shares do not depend on B")
	}
	m := decode(t, r)
	if _, ok := m["sweep"].([]any)[0].(map[string]any)["shares"].(map[string]any)["sgd_stderr"]; !ok {
		t.Error("sweep shares lack sgd_stderr")
	}
}

func TestRun2D(t *testing.T) {
	o, _ := NewOU2D(OU2DSettings{N: 20})
	r, err := Run(context.Background(), o, Settings{NoSim: true, FP: FP2DSettings{NX: 40, NY: 30}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Grid.X) != 40 || len(r.Grid.Y) != 30 || len(r.Density.Exact) != 1200 || r.Density.SGD != nil {
		t.Errorf("grid %d×%d, density %d, sgd %v", len(r.Grid.X), len(r.Grid.Y), len(r.Density.Exact), r.Density.SGD)
	}
	if !(r.Current > 0.1) || len(r.Variance.Exact) != 4 {
		t.Errorf("current %v, variance %v", r.Current, r.Variance)
	}
	m := decode(t, r)
	if m["current"] == nil || m["grid"].(map[string]any)["y"] == nil || m["current_field"] == nil {
		t.Error("2-D JSON lacks current, current_field or grid.y")
	}
	// The field is the solver's, and its maximum relative to max|μp| is the reported ratio's
	// numerator: max|J| > 0 here (H and C do not commute).
	fp, err := Stationary2DFP(o, float64(r.LR), float64(r.Kappa), &FP2DSettings{NX: 40, NY: 30})
	if err != nil {
		t.Fatal(err)
	}
	if cf := r.CurrentField; cf == nil || len(cf.JX) != 1200 || len(cf.JY) != 1200 {
		t.Fatalf("current field %v", cf)
	}
	for i := range fp.JX {
		if float64(r.CurrentField.JX[i]) != fp.JX[i] || float64(r.CurrentField.JY[i]) != fp.JY[i] {
			t.Fatalf("current field differs from the solver's at %d", i)
		}
	}
	w2, _ := NewWells2D(Wells2DSettings{N: 20})
	r2, err := Run(context.Background(), w2, Settings{Time: 5000, Chains: 2, FP: FP2DSettings{NX: 60, NY: 40}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Wells) != 2 || !(r2.Wells[0].EscapeExact > 0) || !math.IsNaN(float64(r2.Wells[0].EscapeKramers)) {
		t.Errorf("wells2d wells %+v", r2.Wells)
	}
	found := false
	for _, w := range r2.Warnings {
		found = found || strings.Contains(w, "Kramers")
	}
	if !found {
		t.Errorf("no warning that Kramers is 1-D only: %v", r2.Warnings)
	}
}

func TestRunErrors(t *testing.T) {
	o, _ := NewOU(OUSettings{N: 10})
	if _, err := Run(context.Background(), o, Settings{Batch: 11}); err == nil {
		t.Error("no error for B > N")
	}
	if _, err := Run(context.Background(), o, Settings{Methods: []sim.Method{sim.SGLD}, Time: 100}); err == nil {
		t.Error("no error for SGLD")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, o, Settings{Time: 100000}); err == nil {
		t.Error("no error after cancellation")
	}
}

func mustKappa(t testing.TB, s noise.Sampling, n, b int) float64 {
	t.Helper()
	k, err := noise.Kappa(s, n, b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
