package problem

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/field"
)

func TestValidateNamesTheKey(t *testing.T) {
	for _, c := range []struct {
		mod func(*Spec)
		key string
	}{
		{func(s *Spec) { s.Data = "" }, "data"},
		{func(s *Spec) { s.Model = "" }, "model"},
		{func(s *Spec) { s.Model = "mlp:0" }, "model"}, // checked without data (a study refuses it at parse time)
		{func(s *Spec) { s.Model = "mlp:abc" }, "model"},
		{func(s *Spec) { s.Model = "resnet" }, "model"},
		{func(s *Spec) { s.Act = "sigmoid" }, "act"},
		{func(s *Spec) { s.Task = "rank" }, "task"},
		{func(s *Spec) { s.Sigma = 0 }, "sigma"},
		{func(s *Spec) { s.Sigma = math.Inf(1) }, "sigma"},
		{func(s *Spec) { s.WeightDecay = math.NaN() }, "weight-decay"},
		{func(s *Spec) { s.Split = "val" }, "split"},
	} {
		s := DefaultSpec()
		s.Data, s.Model = "iris", "softmax"
		c.mod(&s)
		fe := field.As(s.Validate())
		if fe == nil || fe.Key != c.key {
			t.Errorf("Validate() = %v, want a field error of key %q", fe, c.key)
		}
	}
	for _, m := range []string{"softmax", "logistic", "linreg", "mlp:4", "mlp:64,32"} {
		s := DefaultSpec()
		s.Data, s.Model = "iris", m
		if err := s.Validate(); err != nil {
			t.Errorf("valid spec %s refused: %v", m, err)
		}
	}
}

func TestLoadAndProvenance(t *testing.T) {
	s := DefaultSpec()
	s.Data, s.Model, s.WeightDecay = "iris", "softmax", 0.01
	p, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 150 || p.D() != 3*4+3 {
		t.Errorf("n = %d, d = %d, want 150 and 15", p.N(), p.D())
	}
	if lm := p.LabelMapping(); !strings.HasPrefix(lm, "0=") || strings.Count(lm, "=") != 3 {
		t.Errorf("label mapping %q", lm)
	}
	pv := NewProvenance("v", []string{"x"}, 7, p)
	if pv.N != 150 || pv.Features != 4 || pv.WeightDecay != 0.01 || !pv.Standardized || pv.Sigma != 0 || pv.Act != "" {
		t.Errorf("provenance %+v", pv)
	}
	if fe := field.As(p.CheckBatch(151)); fe == nil || fe.Key != "batch" {
		t.Errorf("CheckBatch(151) = %v", fe)
	}
	if err := p.CheckBatch(150); err != nil {
		t.Errorf("CheckBatch(150) = %v", err)
	}
	short := filepath.Join(t.TempDir(), "short.npy")
	if err := data.WriteVector(short, []float64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ReadParams("params", short); field.As(err) == nil || !strings.Contains(err.Error(), "short.npy") {
		t.Errorf("ReadParams of a short vector = %v", err)
	}
	s.Model = "logistic" // three classes
	if _, err := Load(s); field.As(err) == nil || field.As(err).Key != "model" {
		t.Errorf("logistic on iris = %v, want a field error of key model", err)
	}
}
