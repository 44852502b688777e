package train

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/sim"
)

func irisProblem(t *testing.T) *problem.Problem {
	t.Helper()
	spec := problem.DefaultSpec()
	spec.Data, spec.Model, spec.WeightDecay = "iris", "softmax", 0.01
	p, err := problem.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
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
	steps := EpochSteps(2, p.N(), 8)
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
