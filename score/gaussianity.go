package score

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/noise"
)

// gaussianity measures how Gaussian the mini-batch noise ∇L_b − ∇L is along the top noise
// directions v_k (eigenvectors of C; MATH.md §5, §10, Simsekli et al. 2019): from
// NoiseBatches seeded mini-batches b drawn by the sampling scheme, the projections
// v_kᵀ(∇L_b − ∇L) = (1/B) Σ_{i∈b} g_i·v_k − (1/N) Σ_i g_i·v_k (the regulariser cancels), whose
// excess kurtosis and tail index α are reported. The excess kurtosis is also exact from the
// per-example moments (noise.BatchMeanKurtosis), which the verdicts use; the sampled one is a
// check, with its bootstrap standard error.
func (c *computation) gaussianity() {
	r := c.r
	dg := &r.Diagnostics
	nv := 0
	for _, v := range r.Noise.TopEigenvalues {
		if nv < c.set.noiseDirections() && v > 0 && r.Noise.TopVectors != nil {
			nv++
		}
	}
	pop := c.src.popSize()
	b := r.Batch
	if nv == 0 {
		dg.NoiseMethod = "not computed: no noise direction"
		return
	}
	if b > pop || (r.Sampling != noise.With && b == pop) {
		dg.NoiseMethod = fmt.Sprintf("not computed: batch %d leaves no mini-batch noise among the %d examples sampled from", b, pop)
		c.warn("the Gaussianity of mini-batch noise was not measured: " + dg.NoiseMethod[len("not computed: "):])
		return
	}
	d := c.src.dim()
	proj, dirs := make([][]float64, nv), make([][]float64, nv)
	mean := make([]float64, nv)
	for k := 0; k < nv; k++ {
		proj[k] = make([]float64, pop)
		dirs[k] = mat.Col(make([]float64, d), k, r.Noise.TopVectors)
	}
	c.src.project(proj, c.theta, dirs)
	for k := 0; k < nv; k++ {
		var s float64
		for _, v := range proj[k] {
			s += v
		}
		mean[k] = s / float64(pop)
	}
	nb := c.set.NoiseBatches
	samples := make([][]float64, nv)
	for k := range samples {
		samples[k] = make([]float64, nb)
	}
	rnd := rand.New(rand.NewPCG(c.set.Seed, streamBatches))
	scheme := noise.Without // reshuffle too: each batch is a fresh subset
	if r.Sampling == noise.With {
		scheme = noise.With
	}
	batches := noise.NewSampler(scheme, pop, b)
	for t := 0; t < nb; t++ {
		idx := batches.Next(rnd)
		for k := 0; k < nv; k++ {
			var s float64
			for _, i := range idx {
				s += proj[k][i]
			}
			samples[k][t] = s/float64(b) - mean[k]
		}
	}
	dg.NoiseKurtosis = make([]float64, nv)
	dg.NoiseKurtosisExact = make([]float64, nv)
	dg.NoiseKurtosisSE = make([]float64, nv)
	dg.NoiseTailIndex = make([]float64, nv)
	dg.NoiseVariance = make([]float64, nv)
	boot := rand.New(rand.NewPCG(c.set.Seed, streamKurtosisBootstrap))
	for k := 0; k < nv; k++ {
		m2, m4 := noise.CentralMoments(proj[k])
		dg.NoiseKurtosisExact[k] = noise.BatchMeanKurtosis(m2, m4, pop, b, r.Sampling == noise.With)
		dg.NoiseKurtosis[k] = ExcessKurtosis(samples[k])
		dg.NoiseKurtosisSE[k] = BootstrapKurtosisSE(samples[k], kurtosisBootstrap, boot)
		dg.NoiseTailIndex[k] = TailIndex(samples[k])
		dg.NoiseVariance[k] = sampleVariance(samples[k])
		if se := dg.NoiseKurtosisSE[k]; math.Abs(dg.NoiseKurtosis[k]-dg.NoiseKurtosisExact[k]) > 4*se {
			c.warn(fmt.Sprintf("noise direction %d: the sampled excess kurtosis %.3g differs from the exact %.3g by more than 4 bootstrap standard errors (±%.2g)",
				k+1, dg.NoiseKurtosis[k], dg.NoiseKurtosisExact[k], se))
		}
	}
	from := fmt.Sprintf("all %d examples", pop)
	if pop < r.N {
		from = fmt.Sprintf("the %d gradient rows", pop)
	}
	dg.NoiseMethod = fmt.Sprintf("exact excess kurtosis from the per-example second and fourth central moments of the projections on the top %d eigenvectors of C (%s); sampled check from %d seeded mini-batches of %d drawn %s replacement from %s, its standard error by %d bootstrap resamples of the mini-batches",
		nv, from, nb, b, map[bool]string{true: "with", false: "without"}[r.Sampling == noise.With], from, kurtosisBootstrap)
}

// kurtosisBootstrap is the number of bootstrap resamples of BootstrapKurtosisSE.
const kurtosisBootstrap = 200

// BootstrapKurtosisSE returns the bootstrap standard error of ExcessKurtosis(x) (MATH.md
// §2): the standard deviation (divisor R − 1) of ExcessKurtosis over R resamples of x with
// replacement, drawn from rnd. It is the actual sampling spread of the sampled estimate,
// which for heavy-tailed data is much larger than the Gaussian-null √(24/n).
func BootstrapKurtosisSE(x []float64, r int, rnd *rand.Rand) float64 {
	n := len(x)
	y := make([]float64, n)
	ks := make([]float64, r)
	for t := range ks {
		for i := range y {
			y[i] = x[rnd.IntN(n)]
		}
		ks[t] = ExcessKurtosis(y)
	}
	return math.Sqrt(sampleVariance(ks))
}

// ExcessKurtosis returns m₄/m₂² − 3 of the sample x (central moments with divisor n): 0 for
// Gaussian data, with standard error ≈ √(24/n). It is NaN for constant data.
func ExcessKurtosis(x []float64) float64 {
	n := float64(len(x))
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= n
	var m2, m4 float64
	for _, v := range x {
		d := (v - mean) * (v - mean)
		m2 += d
		m4 += d * d
	}
	m2 /= n
	m4 /= n
	if m2 == 0 {
		return math.NaN()
	}
	return m4/(m2*m2) - 3
}

// TailIndex estimates the tail index α ∈ (0, 2] of a symmetric α-stable sample x by the
// estimator of Mohammadi, Mohammadpour & Ogata (2015) that Simsekli, Sagun & Gürbüzbalaban
// (2019) use for gradient noise: with K₁ = ⌊√n⌋, K₂ = ⌊n/K₁⌋ and the block sums
// Y_i = Σ_{j<K₁} X_{iK₁+j},
//
//	1/α = (1/ln K₁) ( (1/K₂) Σ_i ln|Y_i| − (1/(K₁K₂)) Σ_j ln|X_j| ).
//
// It is 2 (up to sampling error) for Gaussian, or any finite-variance, data and smaller for
// heavy tails (1 for Cauchy). Exact zeros are left out of the logarithmic means. It returns
// NaN for fewer than 4 values or all-zero data.
func TailIndex(x []float64) float64 {
	n := len(x)
	k1 := int(math.Sqrt(float64(n)))
	if k1 < 2 {
		return math.NaN()
	}
	k2 := n / k1
	var sx, sy float64
	var nx, ny int
	for i := 0; i < k2; i++ {
		var y float64
		for j := 0; j < k1; j++ {
			v := x[i*k1+j]
			y += v
			if v != 0 {
				sx += math.Log(math.Abs(v))
				nx++
			}
		}
		if y != 0 {
			sy += math.Log(math.Abs(y))
			ny++
		}
	}
	if nx == 0 || ny == 0 {
		return math.NaN()
	}
	inv := (sy/float64(ny) - sx/float64(nx)) / math.Log(float64(k1))
	return 1 / inv
}

// sampleVariance returns the sample variance (divisor n − 1) of x.
func sampleVariance(x []float64) float64 {
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var s float64
	for _, v := range x {
		s += (v - mean) * (v - mean)
	}
	return s / float64(len(x)-1)
}
