package sim_test

import (
	"context"
	"fmt"

	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/sim"
)

// constNoise is the 1-D problem ℓ_i = ½θ² + a_iθ with a_i = ±1 (mean 0, variance 1).
type constNoise struct{}

func (constNoise) Dim() int         { return 1 }
func (constNoise) NumExamples() int { return 2 }
func (constNoise) MiniBatchGrad(dst, theta []float64, idx []int) {
	dst[0] = theta[0]
	for _, i := range idx {
		dst[0] += float64(2*i-1) / float64(len(idx))
	}
}
func (constNoise) WeightedGrad(dst, theta []float64, w []float64) {
	dst[0] = (w[0]+w[1])*theta[0] - w[0] + w[1]
}
func (constNoise) RegGrad(dst, theta []float64) {}
func (constNoise) Loss(theta []float64) float64 { return theta[0] * theta[0] / 2 }
func (c constNoise) Clone() sim.Problem         { return c }

func ExampleRun() {
	// SGD with B = 1 drawn with replacement: stationary variance ηκ_Bv/(h(2 − ηh)) = 1/3
	// for η = 0.5, κ_B = 1, v = 1, h = 1.
	res, err := sim.Run(context.Background(), constNoise{}, sim.Config{
		Sampling: noise.With, LR: 0.5, Batch: 1, Chains: 8, Steps: 20000, Burnin: 100,
		Seed: 1, Init: []float64{0},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sum := sim.DescribeChains(res.Samples, res.Dim)
	fmt.Printf("kept %d samples per chain\n", res.Kept)
	fmt.Printf("variance within 4 SE of 1/3: %v\n", abs(sum.Cov.At(0, 0)-1.0/3) < 4*sum.CovSE.At(0, 0))
	fmt.Printf("R̂ < 1.01: %v\n", sum.RHat[0] < 1.01)
	// Output:
	// kept 19900 samples per chain
	// variance within 4 SE of 1/3: true
	// R̂ < 1.01: true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
