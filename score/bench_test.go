package score

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/progress"
)

// mnistDir holds the MNIST IDX files of the scale benchmark.
const mnistDir = "/work/shared/datasets/mnist"

// benchMNIST runs the report on MNIST with mlp:128 (d = 101,770) and weight decay, at θ from
// $SGDPRIOR_MNIST_THETA (a .npy written by `sgdprior train`) or at PyTorch's initialisation,
// logging the time of each stage.
func benchMNIST(b *testing.B, set Settings) {
	if _, err := os.Stat(mnistDir); err != nil {
		b.Skip("MNIST not found at " + mnistDir)
	}
	ds, err := data.Load(data.Spec{Source: "idx:" + mnistDir})
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.New("mlp:128", ds.NumFeatures(), ds.NumClasses(), model.Options{})
	if err != nil {
		b.Fatal(err)
	}
	theta := make([]float64, m.NumParams())
	if f := os.Getenv("SGDPRIOR_MNIST_THETA"); f != "" {
		if theta, err = data.ReadVector(f); err != nil {
			b.Fatal(err)
		}
	} else {
		model.InitParams(theta, m, rand.New(rand.NewPCG(1, 1)))
	}
	prob := ModelProblem{Model: m, Batch: model.Batch{X: ds.X, Y: ds.Y}, WeightDecay: 1e-4}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		last, t0 := "start", time.Now()
		set.Progress = progress.Func(func(stage string, _ float64) {
			b.Logf("%-20s %v", last, time.Since(t0).Round(time.Millisecond))
			last, t0 = stage, time.Now()
		})
		if _, err := ComputeModel(prob, theta, &set); err != nil {
			b.Fatal(err)
		}
		b.Logf("%-20s %v", last, time.Since(t0).Round(time.Millisecond))
	}
}

// BenchmarkMNISTSubset is the scale target: --subset 4096 --damping λ --top-k 20 (Woodbury
// solver through the 4096×4096 Gram matrix).
func BenchmarkMNISTSubset(b *testing.B) {
	benchMNIST(b, Settings{LR: 0.1, Batch: 128, Subset: 4096, TopK: 20, Inverse: linalg.InverseSettings{Damping: 1e-6}})
}

// BenchmarkMNISTFull uses all 60,000 examples: CG and Lanczos on covariance products, no Gram
// matrix.
func BenchmarkMNISTFull(b *testing.B) {
	benchMNIST(b, Settings{LR: 0.1, Batch: 128, TopK: 20, Inverse: linalg.InverseSettings{Damping: 1e-6, CGTol: 1e-8}})
}

// BenchmarkDenseLogistic is a full dense-path report (logistic regression, d = 100,
// N = 2000, with the divergence term, the dense Jacobian asymmetry skipped for d > 40 in
// favour of probes, and the forced Gaussian predictions).
func BenchmarkDenseLogistic(b *testing.B) {
	rnd := newRand(1)
	bt := logisticData(rnd, 2000, 99)
	m, _ := model.New("logistic", 99, 2, model.Options{})
	theta := randTheta(rnd, 100, 0.1)
	prob := ModelProblem{Model: m, Batch: bt, WeightDecay: 1e-3}
	for i := 0; i < b.N; i++ {
		if _, err := ComputeModel(prob, theta, &Settings{LR: 0.1, Batch: 32, ForceGaussian: true, Divergence: true}); err != nil {
			b.Fatal(err)
		}
	}
}
