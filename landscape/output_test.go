package landscape

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/sim"
)

// TestOutputRoundTrip: an Output reads back what it wrote, byte for byte (nulls as NaN), and
// numbers absent from the JSON read as NaN.
func TestOutputRoundTrip(t *testing.T) {
	for _, name := range []string{"wells", "ou"} {
		p, err := NewPreset(PresetSettings{Name: name, N: 40})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(context.Background(), p, Settings{Time: 2000, Chains: 2, Seed: 1, Exact: Exact1DSettings{Bins: 30},
			Methods: Methods{sim.SGD, sim.SDE}, SweepLR: LRList{0.2}})
		if err != nil {
			t.Fatal(err)
		}
		o := &Output{Result: *r}
		o.Provenance.Seed = 1
		path := filepath.Join(t.TempDir(), "l.json")
		if err := o.Write(path); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(o)
		var back Output
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(&back)
		if string(b) != string(b2) {
			t.Errorf("%s: round trip\n%s\n%s", name, b, b2)
		}
		if name == "ou" && !math.IsNaN(float64(back.Wells[0].EscapeExact)) {
			t.Errorf("ou: null escape time read as %v", back.Wells[0].EscapeExact)
		}
	}
	var o Output
	if err := json.Unmarshal([]byte(`{"preset":"x","wells":[{"center":[1]}],"sweep":[{"batch":2}]}`), &o); err != nil {
		t.Fatal(err)
	}
	for what, v := range map[string]Float{"kappa": o.Kappa, "current": o.Current, "seed_nongradient": o.NoteNonGradient,
		"lr": o.LR, "mass_exact": o.Wells[0].MassExact, "escape_sde": o.Wells[0].EscapeSDE, "sweep lr": o.Sweep[0].LR} {
		if !math.IsNaN(float64(v)) {
			t.Errorf("absent %s read as %v, want NaN", what, v)
		}
	}
}

// TestKramersRate: the closed form at one point, τ = 1/rate = 2π/(η√(h_a|h_s|))·e^{2ΔL/(ηκc)}
// (the low-noise limit against the exact escape time is TestKramersHighBarrier).
func TestKramersRate(t *testing.T) {
	lr, kappa, c, ha, hs, dl := 0.5, 0.8, 2.0, 4.0, -1.0, 0.3
	want := 2 * math.Pi / (0.5 * 2) * math.Exp(2*0.3/(0.5*0.8*2)) // √(4·1) = 2
	if got := 1 / KramersRate(lr, kappa, c, ha, hs, dl); math.Abs(got/want-1) > 1e-14 {
		t.Errorf("τ = %v, want %v", got, want)
	}
}

func TestWellBreadths(t *testing.T) {
	r := &Result{Params: map[string]float64{"center0": -1, "width0": 0.25, "center1": 1.5, "width1": 1},
		Wells: []WellOut{{Center: []Float{1.4}}, {Center: []Float{-0.9}}}}
	if b, ok := WellBreadths(r); !ok || !reflect.DeepEqual(b, []float64{1, 0.25}) {
		t.Errorf("1-D: %v %v", b, ok)
	}
	r2 := &Result{Params: map[string]float64{"center0_x": 0, "center0_y": 0, "width0": 2, "center1_x": 3, "center1_y": 1, "width1": 0.5},
		Wells: []WellOut{{Center: []Float{2.9, 1.1}}, {Center: []Float{0.1, 0}}}}
	if b, ok := WellBreadths(r2); !ok || !reflect.DeepEqual(b, []float64{0.5, 2}) {
		t.Errorf("2-D: %v %v", b, ok)
	}
	if b, ok := WellBreadths(&Result{Params: map[string]float64{"h": 1}, Wells: []WellOut{{Center: []Float{0}}}}); ok {
		t.Errorf("no widths: %v %v", b, ok)
	}
	if b, ok := WellBreadths(&Result{Params: map[string]float64{"width0": 1, "center0": 0}, Wells: []WellOut{{Center: []Float{0, 0}}}}); ok {
		t.Errorf("dimension mismatch: %v %v", b, ok)
	}
	// On a real preset: wells' default has a narrow and a wide well.
	w, _ := NewWells(WellsSettings{N: 40})
	res := &Result{Params: w.Params()}
	for _, m := range w.Minima() {
		res.Wells = append(res.Wells, WellOut{Center: toFloats(m)})
	}
	if b, ok := WellBreadths(res); !ok || len(b) != 2 || b[0] == b[1] {
		t.Errorf("wells preset: %v %v", b, ok)
	}
}

func TestSettingsValidate(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit      func(*Settings)
		key, want string
	}{
		{func(s *Settings) { s.LR = -1 }, "lr", "must be > 0, not -1"},
		{func(s *Settings) { s.Batch = -2 }, "batch", "must be ≥ 1, not -2"},
		{func(s *Settings) { s.Chains = 1 }, "chains", "must be ≥ 2"},
		{func(s *Settings) { s.Time = 99 }, "steps", "must be ≥ 100, not 99"},
		{func(s *Settings) { s.DT = 2 }, "dt", "must be in (0, 1], not 2"},
		{func(s *Settings) { s.Methods = Methods{sim.SGLD} }, "simulators", "sgld"},
		{func(s *Settings) { s.SweepLR = LRList{0.1, -1} }, "sweep-lr", "-1"},
		{func(s *Settings) { s.SweepBatch = BatchList{0} }, "sweep-batch", "0"},
	} {
		s := DefaultSettings()
		c.edit(&s)
		fe := field.As(s.Validate())
		if fe == nil || fe.Key != c.key || !strings.Contains(fe.Reason, c.want) {
			t.Errorf("%s: %v", c.key, fe)
		}
	}
	for _, c := range []struct {
		s   PresetSettings
		key string
	}{
		{PresetSettings{Name: "volcano"}, "preset"},
		{PresetSettings{Name: "wells", Wells: "1:2"}, "wells"},
		{PresetSettings{Name: "wells2d", Wells: "0:1:1"}, "wells"},
		{PresetSettings{Name: "ou2d", Hess2: "1,2"}, "hess2"},
		{PresetSettings{Name: "ou2d", Cov2: "1,x,2"}, "noise2"},
	} {
		if fe := field.As(c.s.Validate()); fe == nil || fe.Key != c.key {
			t.Errorf("%+v: %v, want key %s", c.s, c.s.Validate(), c.key)
		}
	}
	for _, s := range []PresetSettings{{}, {Name: "wells2d", Wells: "0:0:1:1,2:0:1:0.5"}, {Name: "ou2d", Hess2: "1,0.4,0.5", Cov2: "0.5,-0.2,1"}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

// TestFlagValues: the list flags parse and print their lists, and refuse bad items naming
// them.
func TestFlagValues(t *testing.T) {
	var m Methods
	var l LRList
	var b BatchList
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Var(&m, "simulators", "")
	fs.Var(&l, "sweep-lr", "")
	fs.Var(&b, "sweep-batch", "")
	if err := fs.Parse([]string{"--simulators", "sgd, sde", "--sweep-lr", "0.1,0.25", "--sweep-batch", "1,4"}); err != nil {
		t.Fatal(err)
	}
	if m.String() != "sgd,sde" || l.String() != "0.1,0.25" || b.String() != "1,4" {
		t.Errorf("%v %v %v", m, l, b)
	}
	for _, c := range []struct {
		v    flag.Value
		in   string
		want string
	}{{&m, "sgld", `"sgld" is not one of sgd, gauss, sde`}, {&l, "0.1,x", `"x" is not a positive number`}, {&b, "2,0", `"0" is not a positive integer`}} {
		if err := c.v.Set(c.in); err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

// TestRunBatchTooLarge: a batch larger than the preset's N is a *field.Error of key batch.
func TestRunBatchTooLarge(t *testing.T) {
	o, _ := NewOU(OUSettings{N: 10})
	s := DefaultSettings()
	s.Batch, s.NoSim = 11, true
	_, err := Run(context.Background(), o, s)
	var fe *field.Error
	if !errors.As(err, &fe) || fe.Key != "batch" {
		t.Errorf("error %v, want a batch field error", err)
	}
}
