package problem

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/model"
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
		{func(s *Spec) { s.Model = "cnn:c4x3" }, "model"}, // a token that does not parse, without data
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
	for _, m := range []string{"softmax", "logistic", "linreg", "mlp:4", "mlp:64,32", "cnn:c4k3,max2,f16"} {
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

// TestConvNetProblem: a cnn gets the data's image shape, records it with --act and --task,
// keeps it through a holdout and a subsample, and is refused on data without one.
func TestConvNetProblem(t *testing.T) {
	s := DefaultSpec()
	s.Data, s.Model, s.Act = "digits", "cnn:c4k3,max2,f16", "relu"
	p, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	cn, ok := p.Model.(*model.ConvNet)
	if !ok || !slices.Equal(cn.Shape(), []int{1, 8, 8}) || cn.Activation() != model.ReLU {
		t.Fatalf("model %T %v", p.Model, p.Model.Name())
	}
	// PyTorch's Conv2d(1,4,3) → MaxPool2d(2) → Linear(36,16) → Linear(16,10).
	if want := 4*9 + 4 + 36*16 + 16 + 16*10 + 10; p.D() != want {
		t.Errorf("d = %d, want %d", p.D(), want)
	}
	pv := NewProvenance("v", nil, 1, p)
	if !slices.Equal(pv.Shape, []int{1, 8, 8}) || pv.Act != "relu" || pv.Task != "classify" || pv.Model != "cnn:c4k3,max2,f16" {
		t.Errorf("provenance shape %v act %q task %q model %q", pv.Shape, pv.Act, pv.Task, pv.Model)
	}
	s.Holdout, s.Subsample = 0.2, 500
	if p, err = Load(s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Data.Shape, []int{1, 8, 8}) || !slices.Equal(p.Test.Shape, []int{1, 8, 8}) || p.N() != 500 {
		t.Errorf("holdout and subsample: shapes %v %v, n %d", p.Data.Shape, p.Test.Shape, p.N())
	}
	// Regression: the pixel at (3, 4) as the target leaves 64 columns that are no image.
	r := DefaultSpec()
	r.Data, r.Model, r.Task, r.Target = "digits", "cnn:c2k3", "regress", "pixel_3_4"
	if !r.Regression() {
		t.Error("cnn with task regress is not a regression")
	}
	_, err = Load(r)
	if fe := field.As(err); fe == nil || fe.Key != "model" || strings.Contains(fe.Flag(), "\n") ||
		fe.Flag() != "--model cnn:c2k3 needs image data (idx:DIR, cifar:DIR, digits, or an (N, C, H, W) .npy), and digits has no image shape" {
		t.Errorf("cnn on tabular data: %v", err)
	}
	for _, d := range []string{"iris", "wine"} {
		s := DefaultSpec()
		s.Data, s.Model = d, "cnn:f8"
		if _, err := Load(s); field.As(err) == nil || field.As(err).Key != "model" || !strings.Contains(err.Error(), d+" has no image shape") {
			t.Errorf("cnn on %s: %v", d, err)
		}
		// The dense models do not mind either way.
		s.Model = "mlp:4"
		if _, err := Load(s); err != nil {
			t.Errorf("mlp on %s: %v", d, err)
		}
	}
	// A token that does not fit names the token once, after the spec as typed.
	s = DefaultSpec()
	s.Data, s.Model = "digits", "cnn:c4k9"
	if _, err := Load(s); field.As(err) == nil || err.Error() != `model cnn:c4k9: token "c4k9" (conv, kernel 9) does not fit its 1×8×8 input` {
		t.Errorf("too large a kernel: %v", err)
	}
}

// TestCIFARTestSet: --test cifar:DIR reads its test_batch.bin, with the training classes.
func TestCIFARTestSet(t *testing.T) {
	dir := t.TempDir()
	record := func(label byte, v byte) []byte {
		b := make([]byte, 3073)
		b[0] = label
		for j := 1; j < len(b); j++ {
			b[j] = v + byte(j%7)
		}
		return b
	}
	for k := 1; k <= 5; k++ {
		b := append(record(byte(k%3), byte(k)), record(byte((k+1)%3), byte(40*k))...)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("data_batch_%d.bin", k)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "test_batch.bin"), append(record(2, 9), record(0, 200)...), 0o644); err != nil {
		t.Fatal(err)
	}
	s := DefaultSpec()
	s.Data, s.Test, s.Model = "cifar:"+dir, "cifar:"+dir, "cnn:c2k5s3,avg2,f4"
	p, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 10 || p.Test.Len() != 2 || !slices.Equal(p.Test.Y, []float64{2, 0}) || !slices.Equal(p.Test.Shape, []int{3, 32, 32}) {
		t.Errorf("train n %d, test n %d Y %v shape %v", p.N(), p.Test.Len(), p.Test.Y, p.Test.Shape)
	}
	pv := NewProvenance("v", nil, 1, p)
	if !slices.Equal(pv.Shape, []int{3, 32, 32}) || !pv.Scale01 || pv.TestN != 2 {
		t.Errorf("provenance %+v", pv)
	}
}
