package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/sim"
)

// logisticData draws n examples of p features with labels from a logistic model (noisy:
// not separable) or from the sign of the first feature (separable).
func logisticData(n, p int, separable bool, seed uint64) model.Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			x.Set(i, j, rng.NormFloat64())
		}
		z := x.At(i, 0) - 0.5*x.At(i, 1)
		if separable {
			if z > 0 {
				y[i] = 1
			}
		} else if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return model.Batch{X: x, Y: y}
}

func TestMinimizeConverges(t *testing.T) {
	b := logisticData(200, 3, false, 1)
	m, err := model.New("logistic", 3, 2, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	obj := model.Objective{Model: m, WeightDecay: 0}
	theta := make([]float64, m.NumParams())
	res, err := Minimize(context.Background(), obj, b, theta, Settings{GradTol: 1e-11})
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float64, len(theta))
	obj.Loss(g, theta, b)
	if gn := floats.Norm(g, 2); !res.Converged || gn > 1e-11 || math.Abs(gn-res.GradNorm) > 1e-15 {
		t.Fatalf("converged %v, ‖∇L‖ = %g (reported %g)", res.Converged, gn, res.GradNorm)
	}
}

func TestMinimizeRefusesSeparable(t *testing.T) {
	b := logisticData(100, 2, true, 2)
	for _, spec := range []string{"logistic", "mlp:4"} {
		m, err := model.New(spec, 2, 2, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		theta := make([]float64, m.NumParams())
		model.InitParams(theta, m, rand.New(rand.NewPCG(3, 3)))
		_, err = Minimize(context.Background(), model.Objective{Model: m}, b, theta, Settings{})
		if !errors.Is(err, ErrNoMinimum) {
			t.Errorf("%s on separable data: error %v, want ErrNoMinimum", spec, err)
		}
		// With weight decay the minimum exists.
		model.InitParams(theta, m, rand.New(rand.NewPCG(3, 3)))
		if _, err := Minimize(context.Background(), model.Objective{Model: m, WeightDecay: 0.01}, b, theta, Settings{GradTol: 1e-8}); err != nil {
			t.Errorf("%s with weight decay: %v", spec, err)
		}
	}
}

// TestSGDIsChainZero: train.SGD's iterate equals the last iterate of chain 0 of sim.Run
// with the same seed, and is reproducible.
func TestSGDIsChainZero(t *testing.T) {
	b := logisticData(150, 3, false, 4)
	m, _ := model.New("logistic", 3, 2, model.Options{})
	p := sim.NewModelProblem(m, b, 0.01)
	theta := make([]float64, m.NumParams())
	calls := 0
	if err := SGD(context.Background(), p, theta, SGDSettings{LR: 0.1, Batch: 10, Steps: 500, Seed: 7, Progress: progress.Func(func(string, float64) { calls++ })}); err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(context.Background(), p, sim.Config{LR: 0.1, Batch: 10, Chains: 1, Steps: 500, Burnin: 499, Seed: 7, Init: make([]float64, m.NumParams())})
	if err != nil {
		t.Fatal(err)
	}
	if !floats.Equal(theta, res.Final[0]) {
		t.Fatalf("SGD %v, chain 0 %v", theta, res.Final[0])
	}
	if calls != 100 {
		t.Errorf("progress called %d times, want 100", calls)
	}
}

// TestMinimizeCancel: a context cancelled before the start, or during the L-BFGS iterations
// (at the third iteration's progress record), stops Minimize with context.Canceled instead of
// running to convergence (this problem needs dozens of iterations to reach 1e-11).
func TestMinimizeCancel(t *testing.T) {
	b := logisticData(200, 3, false, 1)
	m, err := model.New("logistic", 3, 2, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	obj := model.Objective{Model: m}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	theta := make([]float64, m.NumParams())
	if _, err := Minimize(ctx, obj, b, theta, Settings{GradTol: 1e-11}); !errors.Is(err, context.Canceled) {
		t.Fatalf("pre-cancelled: %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	rec := progress.Func(func(string, float64) {
		if calls++; calls == 3 {
			cancel()
		}
	})
	for i := range theta {
		theta[i] = 0
	}
	if _, err := Minimize(ctx, obj, b, theta, Settings{GradTol: 1e-11, Progress: rec}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled at iteration 3: %v, want context.Canceled", err)
	}
	if calls > 4 {
		t.Errorf("%d iterations recorded after cancelling at the third", calls)
	}
}
