package linalg

import (
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Benchmark sizes: d = 101770 is the parameter count of a 784-128-10 MLP on MNIST; M = 256
// retained per-example gradients.
const benchD, benchM = 101770, 256

var (
	benchOnce   sync.Once
	benchFactor *mat.Dense // d×M Gaussian
	benchDecay  *mat.Dense // d×M Gaussian, column j scaled by 1/(1+j)
)

func benchFactors() (*mat.Dense, *mat.Dense) {
	benchOnce.Do(func() {
		rnd := rand.New(rand.NewPCG(1, 2))
		data := make([]float64, benchD*benchM)
		dec := make([]float64, benchD*benchM)
		for i := 0; i < benchD; i++ {
			for j := 0; j < benchM; j++ {
				v := rnd.NormFloat64()
				data[i*benchM+j] = v
				dec[i*benchM+j] = v / float64(1+j)
			}
		}
		benchFactor = mat.NewDense(benchD, benchM, data)
		benchDecay = mat.NewDense(benchD, benchM, dec)
	})
	return benchFactor, benchDecay
}

func BenchmarkWoodburySolve(b *testing.B) {
	u, _ := benchFactors()
	for _, mode := range []struct {
		name string
		set  InverseSettings
	}{{"damped", InverseSettings{Damping: 1e-3}}, {"range", InverseSettings{Range: true}}} {
		b.Run(mode.name, func(b *testing.B) {
			inv, err := NewWoodburyInverse(NewDenseFactor(u), 1.0/32, &mode.set)
			if err != nil {
				b.Fatal(err)
			}
			rhs := randVec(newRand(3), benchD)
			x := make([]float64, benchD)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := inv.Solve(x, rhs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWoodburyNew measures the set-up: the M×M Gram matrix UᵀU (d·M² flops) and its
// eigendecomposition.
func BenchmarkWoodburyNew(b *testing.B) {
	u, _ := benchFactors()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := NewWoodburyInverse(NewDenseFactor(u), 1.0/32, &InverseSettings{Damping: 1e-3}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLanczosTop20 computes the top 20 eigenpairs of the rank-256 operator κUUᵀ with
// column scales 1/(1+j) (well separated top eigenvalues), d = 101770.
func BenchmarkLanczosTop20(b *testing.B) {
	_, u := benchFactors()
	op := CovOperator{U: NewDenseFactor(u), Kappa: 1.0 / 32}
	vals := make([]float64, 20)
	b.ResetTimer()
	var res LanczosResult
	for i := 0; i < b.N; i++ {
		var vecs mat.Dense
		var err error
		res, err = Lanczos(vals, &vecs, op, rand.NewPCG(uint64(i), 1), nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Steps), "steps")
}

// BenchmarkCGSolve solves the damped system (κUUᵀ + λI)x = b by CG for comparison with
// Woodbury (λ = 1e-3·λ_max-ish: κ·d ≈ 3180 is the top eigenvalue scale, λ = 3).
func BenchmarkCGSolve(b *testing.B) {
	u, _ := benchFactors()
	inv, err := NewCGInverse(CovOperator{U: NewDenseFactor(u), Kappa: 1.0 / 32}, &InverseSettings{Damping: 3, CGTol: 1e-8})
	if err != nil {
		b.Fatal(err)
	}
	rhs := randVec(newRand(3), benchD)
	x := make([]float64, benchD)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := inv.Solve(x, rhs); err != nil {
			b.Fatal(err)
		}
	}
}
