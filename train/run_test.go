package train

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/testproblem"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/sim"
)

func irisProblem(t *testing.T) *problem.Problem {
	return testproblem.Load(t, "iris", "softmax", 0.01)
}

func TestRunSettingsValidate(t *testing.T) {
	for _, c := range []struct {
		edit      func(*RunSettings)
		key, want string
	}{
		{func(s *RunSettings) { s.LR, s.Batch = 0, 8 }, "lr", "must be > 0"},
		{func(s *RunSettings) { s.Steps = 0 }, "method", "sgd needs exactly one of --steps T > 0 and --epochs E > 0"},
		{func(s *RunSettings) { s.Epochs = 2 }, "method", "sgd needs exactly one of"},
		{func(s *RunSettings) { s.Method, s.GradTol = MethodLBFGS, 0 }, "gtol", "must be > 0, not 0"},
	} {
		s := DefaultRunSettings()
		s.LR, s.Batch, s.Steps = 0.1, 8, 100
		c.edit(&s)
		fe := field.As(s.Validate())
		if fe == nil || fe.Key != c.key || !strings.Contains(fe.Reason, c.want) {
			t.Errorf("%s: %v", c.key, fe)
		}
	}
	s := DefaultRunSettings()
	s.Method = MethodLBFGS
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
	var m Method
	if err := m.Set("lbfgs"); err != nil || m != MethodLBFGS || m.String() != "lbfgs" {
		t.Errorf("Set(lbfgs): %v %v", m, err)
	}
	if err := m.Set("adam"); err == nil {
		t.Error("Set(adam) accepted")
	}
}

// TestRun: SGD from nil starts at model.InitParams of the seed's model.InitStream and equals SGD
// run by hand; its Output reads back byte for byte; an lbfgs run converges; a batch larger
// than the data is a field error.
func TestRun(t *testing.T) {
	p := irisProblem(t)
	s := DefaultRunSettings()
	s.LR, s.Batch, s.Epochs, s.Seed = 0.05, 8, 2, 3
	theta, out, err := Run(context.Background(), p, nil, s)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, p.D())
	model.InitParams(want, p.Model, rand.New(rand.NewPCG(3, model.InitStream)))
	steps, err := EpochSteps(2, p.N(), 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := SGD(context.Background(), newModelProblem(p), want, SGDSettings{LR: 0.05, Batch: 8, Steps: steps, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if !floats.Equal(theta, want) || out.Steps != steps || steps != 38 || out.Accuracy == nil {
		t.Fatalf("Run %v (steps %d), by hand %v (steps %d)", theta, out.Steps, want, steps)
	}
	out.Params = "theta.npy"
	if err := out.Write(filepath.Join(t.TempDir(), "t.json")); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	var back Output
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(&back); string(b) != string(b2) {
		t.Errorf("round trip\n%s\n%s", b, b2)
	}
	s.Method = MethodLBFGS
	_, out, err = Run(context.Background(), p, theta, s)
	if err != nil || out.Converged == nil || !*out.Converged || out.Steps != 0 || out.LR != nil {
		t.Fatalf("lbfgs: %+v, %v", out, err)
	}
	s.Method, s.Batch = MethodSGD, 1000
	if _, _, err := Run(context.Background(), p, nil, s); field.As(err) == nil || field.As(err).Key != "batch" {
		t.Errorf("batch 1000: %v", err)
	}
}

// TestSGDBadSettings: a bad η, B or step count is an error, not a panic.
func TestSGDBadSettings(t *testing.T) {
	p := irisProblem(t)
	theta := make([]float64, p.D())
	for _, s := range []SGDSettings{{LR: 0, Batch: 1, Steps: 1}, {LR: -1, Batch: 1, Steps: 1}, {LR: 0.1, Batch: 0, Steps: 1}, {LR: 0.1, Batch: 1, Steps: 0}} {
		if err := SGD(context.Background(), newModelProblem(p), theta, s); field.As(err) == nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

func newModelProblem(p *problem.Problem) sim.Problem {
	return sim.NewModelProblem(p.Model, p.Batch, p.Spec.WeightDecay)
}

// TestRunTestSet: without a test set the JSON has test_loss and test_acc null (and reads
// back null); with iris as its own test set they equal the training nll and accuracy; with
// a held-out 30% of wine they equal the mean of the per-example losses (one example at a
// time) and the fraction classified correctly, counted by hand, on the held-out rows.
func TestRunTestSet(t *testing.T) {
	s := DefaultRunSettings()
	s.LR, s.Batch, s.Epochs = 0.05, 8, 2
	p := irisProblem(t)
	_, out, err := Run(context.Background(), p, nil, s)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.json")
	if err := out.Write(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"test_loss", "test_acc"} {
		if v, ok := raw[k]; !ok || v != nil {
			t.Errorf("no test set: %s = %v (present %v), want null", k, v, ok)
		}
	}
	if raw["train_loss"] != raw["nll"] || raw["train_acc"] != raw["accuracy"] {
		t.Errorf("train_loss %v nll %v, train_acc %v accuracy %v", raw["train_loss"], raw["nll"], raw["train_acc"], raw["accuracy"])
	}
	var back Output
	if err := json.Unmarshal(b, &back); err != nil || back.TestLoss.OK() || back.TestAccuracy.OK() {
		t.Errorf("read back %v %v (%v)", back.TestLoss, back.TestAccuracy, err)
	}

	spec := p.Spec
	spec.Test = "iris"
	self, err := problem.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	_, out, err = Run(context.Background(), self, nil, s)
	if err != nil || out.TestLoss != out.NLL || out.TestAccuracy != *out.Accuracy || out.TestN != 150 {
		t.Errorf("iris on iris: test %v %v, train %v %v (%v)", out.TestLoss, out.TestAccuracy, out.NLL, *out.Accuracy, err)
	}

	spec = problem.DefaultSpec()
	spec.Data, spec.Model, spec.Holdout = "wine", "softmax", 0.3
	w, err := problem.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	s.LR, s.Epochs, s.Steps = 0.002, 0, 2 // barely trained, so that the accuracy is not 1
	theta, out, err := Run(context.Background(), w, nil, s)
	if err != nil {
		t.Fatal(err)
	}
	var loss float64
	correct := 0
	n := w.Test.Len()
	for i := range n {
		one := model.Batch{X: w.Test.X.Slice(i, i+1, 0, w.Test.NumFeatures()).(*mat.Dense), Y: w.Test.Y[i : i+1]}
		loss += w.Model.Loss(nil, theta, one)
		var o mat.Dense
		w.Model.(*model.Network).Outputs(&o, theta, one.X)
		if floats.MaxIdx(o.RawRowView(0)) == int(one.Y[0]) {
			correct++
		}
	}
	// Wine's classes have 59, 71 and 48 examples: round(0.3·n_c) = 18 + 21 + 14 = 53.
	if out.TestN != n || n != 53 || float64(correct) == float64(n) || math.Abs(float64(out.TestLoss)-loss/float64(n)) > 1e-12 || float64(out.TestAccuracy) != float64(correct)/float64(n) {
		t.Errorf("wine holdout: test loss %v acc %v (n %d), by hand %v %v", out.TestLoss, out.TestAccuracy, out.TestN, loss/float64(n), float64(correct)/float64(n))
	}
	b, _ = json.Marshal(out)
	var back2 Output
	if err := json.Unmarshal(b, &back2); err != nil || back2.TestLoss != out.TestLoss || back2.TestAccuracy != out.TestAccuracy {
		t.Errorf("read back %v %v", back2.TestLoss, back2.TestAccuracy)
	}
}

// TestRunHugeEpochs: --epochs 1e300 and Inf are usage errors keyed "epochs" before any
// step runs (the step count overflowed int); EpochSteps refuses more than 2⁵³ steps.
func TestRunHugeEpochs(t *testing.T) {
	p := irisProblem(t)
	for _, e := range []float64{1e300, math.Inf(1)} {
		s := DefaultRunSettings()
		s.LR, s.Batch, s.Epochs = 0.05, 8, e
		_, _, err := Run(context.Background(), p, nil, s)
		if fe := field.As(err); fe == nil || fe.Key != "epochs" {
			t.Errorf("epochs %v: %v, want a *field.Error keyed epochs", e, err)
		} else {
			t.Logf("--epochs %v: %s", e, fe.Flag())
		}
	}
}

func TestEpochStepsBound(t *testing.T) {
	if _, err := EpochSteps(1e17, 150, 8); field.As(err) == nil {
		t.Errorf("EpochSteps(1e17, 150, 8): %v, want a *field.Error", err)
	}
	if T, err := EpochSteps(1e6, 150, 8); err != nil || T != 18750000 {
		t.Errorf("EpochSteps(1e6, 150, 8) = %d, %v", T, err)
	}
}
