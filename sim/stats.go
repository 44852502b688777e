package sim

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// ChainSummary describes the kept samples of K chains coordinate by coordinate (MATH.md §7).
type ChainSummary struct {
	// Dim is the length of a sample, Chains is K, PerChain the number of samples per chain.
	Dim, Chains, PerChain int
	// Mean is the mean of all K·PerChain samples; MeanSE its standard error from the
	// between-chain spread: the standard deviation over chains (divisor K − 1) of the
	// per-chain means, divided by √K.
	Mean, MeanSE []float64
	// Cov is the sample covariance of all samples about Mean (divisor n − 1, n = K·PerChain);
	// CovSE is the standard error of each entry: the standard deviation over chains of the
	// per-chain sample covariances (each about its own chain mean, divisor PerChain − 1),
	// divided by √K.
	Cov, CovSE *mat.SymDense
	// RHat is the rank-normalised split-R̂ of each coordinate and ESS its bulk effective
	// sample size (Vehtari et al. 2021; see RHat and ESSBulk); ESSSq is the effective sample
	// size of its squared deviations from Mean (ESSSquared), the one a variance estimate has.
	RHat, ESS, ESSSq []float64
	// ChainCov[c] is chain c's covariance about the pooled Mean (divisor PerChain): the
	// replicates of the covariance estimate (MATH.md §7.2). Their average is Cov up to the
	// divisor.
	ChainCov []*mat.SymDense
	// ChainMean[c] is chain c's mean.
	ChainMean [][]float64
	// Warnings say which figures could not be computed (they are NaN).
	Warnings []string
}

// DescribeChains computes a ChainSummary of samples, where samples[k] holds chain k's samples
// flattened row-major (n × dim), as Result.Samples does. It panics unless every chain holds
// the same positive number of samples of length dim. Cost: O(dim²·n) for the covariance and
// O(dim·n log n) for R̂ and ESS (n samples in all), so project high-dimensional θ first
// (Config.Project).
func DescribeChains(samples [][]float64, dim int) *ChainSummary {
	k, n := checkSamples(samples, dim)
	s := &ChainSummary{
		Dim: dim, Chains: k, PerChain: n,
		Mean: make([]float64, dim), MeanSE: make([]float64, dim),
		Cov: mat.NewSymDense(dim, nil), CovSE: mat.NewSymDense(dim, nil),
		RHat: make([]float64, dim), ESS: make([]float64, dim), ESSSq: make([]float64, dim),
	}
	s.Warnings = ChainMoments(s.Mean, s.MeanSE, s.Cov, s.CovSE, samples, dim)
	// Per chain its covariance and mean, then per direction R̂ and the ESS: independent
	// tasks, each writing only its own slot, spread over GOMAXPROCS goroutines (the values
	// do not depend on which goroutine computes them).
	s.ChainCov = make([]*mat.SymDense, k)
	s.ChainMean = make([][]float64, k)
	parallelFor(k, func() any { return make([]float64, 128*dim) }, func(scratch any, c int) {
		x := samples[c]
		cv := mat.NewSymDense(dim, nil)
		scatterOf(cv, x, s.Mean, dim, scratch.([]float64))
		cv.ScaleSym(1/float64(n), cv)
		s.ChainCov[c] = cv
		m := make([]float64, dim)
		for i := range n {
			for j, v := range x[i*dim : (i+1)*dim] {
				m[j] += v
			}
		}
		for j := range m {
			m[j] /= float64(n)
		}
		s.ChainMean[c] = m
	})
	parallelFor(dim, func() any {
		col := make([][]float64, k)
		for c := range col {
			col[c] = make([]float64, n)
		}
		return col
	}, func(scratch any, j int) {
		col := scratch.([][]float64)
		for c, x := range samples {
			for i := range n {
				col[c][i] = x[i*dim+j]
			}
		}
		s.RHat[j], s.ESS[j] = rhatESS(col)
		s.ESSSq[j] = essSquared(col, s.Mean[j])
	})
	if n < 6 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("R̂ needs at least 4 and ESS at least 6 samples per chain, have %d", n))
	}
	return s
}

func checkSamples(samples [][]float64, dim int) (k, n int) {
	if dim < 1 {
		panic(fmt.Sprintf("sim: sample dimension %d", dim))
	}
	k = len(samples)
	if k == 0 {
		panic("sim: no chains")
	}
	if len(samples[0])%dim != 0 {
		panic(fmt.Sprintf("sim: chain 0 holds %d numbers, not a multiple of dim %d", len(samples[0]), dim))
	}
	n = len(samples[0]) / dim
	if n == 0 {
		panic("sim: no samples")
	}
	for c, x := range samples {
		if len(x) != n*dim {
			panic(fmt.Sprintf("sim: chain %d holds %d numbers, chain 0 %d", c, len(x), n*dim))
		}
	}
	return k, n
}

// ChainMoments writes into mean and cov (when non-nil) the mean and the sample covariance
// (divisor n − 1) of all samples of all chains, and into meanSE and covSE (when non-nil)
// their between-chain standard errors: the standard deviation over the K chains (divisor
// K − 1) of each chain's own mean and sample covariance (divisor n_k − 1), divided by √K
// (MATH.md §7: each chain is a replicate). samples is laid out as in DescribeChains; chains may
// hold different numbers of samples here. Standard errors that cannot be computed (K < 2,
// or a chain with fewer than 2 samples for covSE) are NaN, and the returned warnings say
// so. It panics on wrong lengths.
func ChainMoments(mean, meanSE []float64, cov, covSE *mat.SymDense, samples [][]float64, dim int) (warnings []string) {
	if dim < 1 || len(samples) == 0 {
		panic("sim: ChainMoments: no samples")
	}
	for _, v := range [][]float64{mean, meanSE} {
		if v != nil && len(v) != dim {
			panic(fmt.Sprintf("sim: ChainMoments: destination length %d, want %d", len(v), dim))
		}
	}
	for _, m := range []*mat.SymDense{cov, covSE} {
		if m != nil && m.SymmetricDim() != dim {
			panic(fmt.Sprintf("sim: ChainMoments: destination dimension %d, want %d", m.SymmetricDim(), dim))
		}
	}
	K := len(samples)
	ns := make([]int, K)
	total := 0
	for c, x := range samples {
		if len(x)%dim != 0 {
			panic(fmt.Sprintf("sim: ChainMoments: chain %d holds %d numbers, not a multiple of %d", c, len(x), dim))
		}
		ns[c] = len(x) / dim
		total += ns[c]
	}
	if total == 0 {
		panic("sim: ChainMoments: no samples")
	}

	// Per-chain means and the pooled mean.
	means := make([][]float64, K)
	pooled := make([]float64, dim)
	for c, x := range samples {
		means[c] = make([]float64, dim)
		if ns[c] == 0 {
			continue
		}
		for i := range ns[c] {
			for j, v := range x[i*dim : (i+1)*dim] {
				means[c][j] += v
			}
		}
		for j := range dim {
			pooled[j] += means[c][j]
			means[c][j] /= float64(ns[c])
		}
	}
	for j := range pooled {
		pooled[j] /= float64(total)
	}
	// Refine the pooled mean with one centred pass (guards against cancellation when the
	// mean is large compared with the spread).
	corr := make([]float64, dim)
	for c, x := range samples {
		for i := range ns[c] {
			for j, v := range x[i*dim : (i+1)*dim] {
				corr[j] += v - pooled[j]
			}
		}
	}
	for j := range pooled {
		pooled[j] += corr[j] / float64(total)
	}
	if mean != nil {
		copy(mean, pooled)
	}
	seMissing := K < 2
	if meanSE != nil {
		col := make([]float64, K)
		for j := range dim {
			for c := range K {
				col[c] = means[c][j]
			}
			meanSE[j] = BetweenChainSE(col)
		}
		for _, n := range ns {
			if n == 0 {
				seMissing = true
			}
		}
		if seMissing {
			for j := range meanSE {
				meanSE[j] = math.NaN()
			}
		}
	}
	if cov == nil && covSE == nil {
		if seMissing && meanSE != nil {
			warnings = append(warnings, seWarning(K, ns, 1))
		}
		return warnings
	}

	// Per-chain scatter matrices (centred on the chain's mean) give both the pooled
	// covariance, Σ_k [S_k + n_k (m_k − m)(m_k − m)ᵀ] / (n − 1), and the spread of the
	// per-chain covariances S_k/(n_k − 1) (Welford over chains).
	scatter := mat.NewSymDense(dim, nil)
	sum := mat.NewSymDense(dim, nil)
	var avg, m2 *mat.SymDense
	if covSE != nil {
		avg = mat.NewSymDense(dim, nil)
		m2 = mat.NewSymDense(dim, nil)
	}
	const chunk = 128
	buf := make([]float64, chunk*dim)
	diff := make([]float64, dim)
	covMissing := K < 2
	for c, x := range samples {
		scatterOf(scatter, x, means[c], dim, buf)
		sum.AddSym(sum, scatter)
		for j := range dim {
			diff[j] = means[c][j] - pooled[j]
		}
		sum.SymRankOne(sum, float64(ns[c]), mat.NewVecDense(dim, diff))
		if covSE != nil {
			if ns[c] < 2 {
				covMissing = true
				continue
			}
			// Welford: avg_k = avg_{k−1} + (S_k − avg_{k−1})/k, m2 += (S_k − avg_{k−1})∘(S_k − avg_k).
			inv := 1 / float64(ns[c]-1)
			for i := range dim {
				for j := i; j < dim; j++ {
					s := scatter.At(i, j) * inv
					a := avg.At(i, j)
					delta := s - a
					a += delta / float64(c+1)
					avg.SetSym(i, j, a)
					m2.SetSym(i, j, m2.At(i, j)+delta*(s-a))
				}
			}
		}
	}
	if cov != nil {
		if total < 2 {
			for i := range dim {
				for j := i; j < dim; j++ {
					cov.SetSym(i, j, math.NaN())
				}
			}
			warnings = append(warnings, "the covariance needs at least 2 samples")
		} else {
			cov.ScaleSym(1/float64(total-1), sum)
		}
	}
	if covSE != nil {
		for i := range dim {
			for j := i; j < dim; j++ {
				v := math.NaN()
				if !covMissing {
					v = math.Sqrt(m2.At(i, j) / float64(K-1) / float64(K))
				}
				covSE.SetSym(i, j, v)
			}
		}
	}
	if seMissing && meanSE != nil || covMissing && covSE != nil {
		warnings = append(warnings, seWarning(K, ns, 2))
	}
	return warnings
}

func seWarning(K int, ns []int, need int) string {
	if K < 2 {
		return "standard errors need at least 2 chains (each chain is a replicate), have 1"
	}
	return fmt.Sprintf("standard errors need at least %d samples in every chain, have %d", need, slices.Min(ns))
}

// scatterOf writes Σ_i (x_i − m)(x_i − m)ᵀ over the rows x_i of the n×dim row-major x into
// dst, centring chunks of rows into buf and accumulating them with a symmetric rank-k update.
func scatterOf(dst *mat.SymDense, x, m []float64, dim int, buf []float64) {
	dst.Zero()
	raw := dst.RawSymmetric()
	n := len(x) / dim
	rows := len(buf) / dim
	for start := 0; start < n; start += rows {
		r := min(rows, n-start)
		for i := range r {
			src := x[(start+i)*dim : (start+i+1)*dim]
			b := buf[i*dim : (i+1)*dim]
			for j, v := range src {
				b[j] = v - m[j]
			}
		}
		a := blas64.General{Rows: r, Cols: dim, Stride: dim, Data: buf[:r*dim]}
		blas64.Syrk(blas.Trans, 1, a, 1, raw)
	}
}

// BetweenChainSE returns the standard error of a statistic estimated by each of K chains
// (perChain[k]) treated as independent replicates: the sample standard deviation over
// chains (divisor K − 1) divided by √K. It is NaN for K < 2.
func BetweenChainSE(perChain []float64) float64 {
	K := len(perChain)
	if K < 2 {
		return math.NaN()
	}
	var m float64
	for _, v := range perChain {
		m += v
	}
	m /= float64(K)
	var ss float64
	for _, v := range perChain {
		ss += (v - m) * (v - m)
	}
	return math.Sqrt(ss / float64(K-1) / float64(K))
}

// RHat returns the rank-normalised split-R̂ of one scalar quantity drawn by several chains
// (chains[k] is chain k's sequence; all of equal length), following Vehtari, Gelman,
// Simpson, Carpenter and Bürkner (2021), "Rank-normalization, folding, and localization: an
// improved R̂ for assessing convergence of MCMC", Bayesian Analysis 16(2):
//
//   - each chain is split into halves (the middle draw dropped for odd lengths);
//   - the pooled draws are rank-normalised, z = Φ⁻¹((r − 3/8)/(S + 1/4)) with average ranks
//     for ties (S the number of draws);
//   - R̂ = √(var⁺/W), W the mean within-chain variance, var⁺ = (n−1)/n·W + B/n, B/n the
//     variance of the chain means;
//   - the result is the larger of the R̂ of the draws ("bulk") and that of the folded draws
//     |θ − median θ| ("tail").
//
// It returns 1 when every draw is equal, and NaN with a non-finite draw or fewer than 4
// draws per chain.
func RHat(chains [][]float64) float64 {
	split, ok := splitChains(chains)
	if !ok {
		return math.NaN()
	}
	bulk := rhatOf(rankNormalize(split))
	folded := foldChains(split, chains)
	return math.Max(bulk, rhatOf(rankNormalize(folded)))
}

// ESSBulk returns the bulk effective sample size of one scalar quantity drawn by several
// chains (layout as in RHat; Vehtari et al. 2021): the ESS of the rank-normalised split
// chains, S/τ̂ with τ̂ = −1 + 2 Σ_{t<T} ρ̂_t + ρ̂_T, the autocorrelations
// ρ̂_t = 1 − (W − mean_m γ̂_{t,m})/var⁺ combining the chains' autocovariances γ̂ (divisor n,
// by FFT), truncated by Geyer's initial positive sequence and made monotone by Geyer's
// initial monotone sequence. τ̂ is bounded below by 1/log₁₀ S, so ESS ≤ S·log₁₀ S (as in
// Stan and the posterior R package). It returns S when every draw is equal, and NaN with a
// non-finite draw or fewer than 6 draws per chain.
func ESSBulk(chains [][]float64) float64 {
	split, ok := splitChains(chains)
	if !ok || len(split[0]) < 3 {
		return math.NaN()
	}
	return essOf(rankNormalize(split))
}

// ESSSquared returns the effective sample size of the squared deviations (x − x̄)² of one
// scalar quantity drawn by several chains (layout as in RHat), x̄ the mean of all draws: the
// ESS of the variance estimate (MATH.md §7.1). It is the ESS of the split chains of
// (x − x̄)² as in ESSBulk but without rank normalisation (the variance is a mean of the
// squares themselves, not of their ranks). NaN with a non-finite draw or fewer than 6
// draws per chain.
func ESSSquared(chains [][]float64) float64 {
	var sum float64
	n := 0
	for _, c := range chains {
		for _, v := range c {
			sum += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return essSquared(chains, sum/float64(n))
}

func essSquared(chains [][]float64, mean float64) float64 {
	sq := make([][]float64, len(chains))
	for c, x := range chains {
		sq[c] = make([]float64, len(x))
		for i, v := range x {
			sq[c][i] = (v - mean) * (v - mean)
		}
	}
	split, ok := splitChains(sq)
	if !ok || len(split[0]) < 3 {
		return math.NaN()
	}
	return essOf(split)
}

// rhatESS returns RHat(chains) and ESSBulk(chains), rank-normalising the split chains once.
func rhatESS(chains [][]float64) (rhat, ess float64) {
	split, ok := splitChains(chains)
	if !ok {
		return math.NaN(), math.NaN()
	}
	z := rankNormalize(split)
	rhat = math.Max(rhatOf(z), rhatOf(rankNormalize(foldChains(split, chains))))
	ess = math.NaN()
	if len(split[0]) >= 3 {
		ess = essOf(z)
	}
	return rhat, ess
}

// splitChains returns the halves of every chain (first half, second half), dropping the
// middle draw of odd-length chains. ok is false with a non-finite draw, chains of unequal
// length, or fewer than 4 draws per chain.
func splitChains(chains [][]float64) (split [][]float64, ok bool) {
	if len(chains) == 0 {
		return nil, false
	}
	n := len(chains[0])
	if n < 4 {
		return nil, false
	}
	half := n / 2
	for _, c := range chains {
		if len(c) != n {
			panic(fmt.Sprintf("sim: chains of unequal length %d and %d", n, len(c)))
		}
		for _, v := range c {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, false
			}
		}
		split = append(split, c[:half], c[n-half:])
	}
	return split, true
}

// foldChains returns |x − median| of the split chains, the median over all draws of the
// original chains.
func foldChains(split, chains [][]float64) [][]float64 {
	var all []float64
	for _, c := range chains {
		all = append(all, c...)
	}
	slices.Sort(all)
	n := len(all)
	med := all[n/2]
	if n%2 == 0 {
		med = (all[n/2-1] + all[n/2]) / 2
	}
	out := make([][]float64, len(split))
	for m, c := range split {
		out[m] = make([]float64, len(c))
		for i, v := range c {
			out[m][i] = math.Abs(v - med)
		}
	}
	return out
}

// rankNormalize returns Φ⁻¹((r − 3/8)/(S + 1/4)) of the pooled average ranks r of the
// draws (a new slice per chain).
func rankNormalize(chains [][]float64) [][]float64 {
	type item struct {
		v    float64
		m, i int32
	}
	total := 0
	for _, c := range chains {
		total += len(c)
	}
	all := make([]item, 0, total)
	for m, c := range chains {
		for i, v := range c {
			all = append(all, item{v, int32(m), int32(i)})
		}
	}
	slices.SortFunc(all, func(a, b item) int { // no NaN here (splitChains)
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	S := float64(len(all))
	out := make([][]float64, len(chains))
	for m, c := range chains {
		out[m] = make([]float64, len(c))
	}
	for lo := 0; lo < len(all); {
		hi := lo + 1
		for hi < len(all) && all[hi].v == all[lo].v {
			hi++
		}
		r := float64(lo+1+hi) / 2 // average of the 1-based ranks lo+1 … hi
		z := distuv.UnitNormal.Quantile((r - 3.0/8) / (S + 0.25))
		for _, it := range all[lo:hi] {
			out[it.m][it.i] = z
		}
		lo = hi
	}
	return out
}

// meanVar returns the mean and the sample variance (divisor n − 1) of x.
func meanVar(x []float64) (m, v float64) {
	for _, a := range x {
		m += a
	}
	m /= float64(len(x))
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	return m, v / float64(len(x)-1)
}

// rhatOf returns the (non-split) R̂ of equally long chains: √(var⁺/W).
func rhatOf(chains [][]float64) float64 {
	M := len(chains)
	n := float64(len(chains[0]))
	means := make([]float64, M)
	var W float64
	for m, c := range chains {
		var v float64
		means[m], v = meanVar(c)
		W += v
	}
	W /= float64(M)
	var B float64 // B/n: the variance of the chain means
	if M > 1 {
		_, B = meanVar(means)
	}
	if W == 0 {
		if B == 0 {
			return 1
		}
		return math.Inf(1)
	}
	return math.Sqrt(((n-1)/n*W + B) / W)
}

// essOf returns the ESS of equally long (already split) chains; see ESSBulk.
func essOf(chains [][]float64) float64 {
	M := len(chains)
	n := len(chains[0])
	S := float64(M * n)
	acov := make([][]float64, M)
	means := make([]float64, M)
	var meanAcov0 float64
	constant := true
	for m, c := range chains {
		acov[m] = autocovariance(c)
		means[m], _ = meanVar(c)
		meanAcov0 += acov[m][0]
		for _, v := range c {
			if v != chains[0][0] {
				constant = false
			}
		}
	}
	if constant {
		return S
	}
	meanAcov0 /= float64(M)
	W := meanAcov0 * float64(n) / float64(n-1)
	varPlus := W * float64(n-1) / float64(n)
	if M > 1 {
		_, b := meanVar(means)
		varPlus += b
	}
	meanAcov := func(t int) float64 {
		var s float64
		for m := range M {
			s += acov[m][t]
		}
		return s / float64(M)
	}
	rho := make([]float64, n)
	rho[0] = 1
	even, odd := 1.0, 1-(W-meanAcov(1))/varPlus
	rho[1] = odd
	t := 0
	// Geyer's initial positive sequence: sum pairs while their sum stays positive.
	for t < n-5 && even+odd > 0 {
		t += 2
		even = 1 - (W-meanAcov(t))/varPlus
		odd = 1 - (W-meanAcov(t+1))/varPlus
		if even+odd >= 0 {
			rho[t] = even
			rho[t+1] = odd
		}
	}
	maxT := t
	if even > 0 {
		rho[maxT] = even
	}
	// Geyer's initial monotone sequence: pair sums may not increase.
	for t := 2; t <= maxT-2; t += 2 {
		if rho[t]+rho[t+1] > rho[t-2]+rho[t-1] {
			rho[t] = (rho[t-2] + rho[t-1]) / 2
			rho[t+1] = rho[t]
		}
	}
	tau := -1.0
	for _, r := range rho[:maxT] {
		tau += 2 * r
	}
	tau += rho[maxT]
	tau = math.Max(tau, 1/math.Log10(S))
	return S / tau
}

// autocovariance returns γ̂_t = (1/n) Σ_{i<n−t} (x_i − x̄)(x_{i+t} − x̄) for t = 0 … n−1,
// computed by FFT with zero padding to at least 2n.
func autocovariance(x []float64) []float64 {
	n := len(x)
	size := 1
	for size < 2*n {
		size <<= 1
	}
	m, _ := meanVar(x)
	seq := make([]float64, size)
	for i, v := range x {
		seq[i] = v - m
	}
	fft := fourier.NewFFT(size)
	coef := fft.Coefficients(nil, seq)
	for i, c := range coef {
		coef[i] = complex(real(c)*real(c)+imag(c)*imag(c), 0)
	}
	ac := fft.Sequence(seq, coef)
	out := make([]float64, n)
	for t := range out {
		out[t] = ac[t] / float64(size) / float64(n)
	}
	return out
}

// parallelFor runs task(scratch, i) for i = 0, …, n−1 on at most GOMAXPROCS goroutines,
// each with its own scratch from newScratch, taking indices in increasing order. Tasks must
// write only their own results, which then do not depend on the scheduling.
func parallelFor(n int, newScratch func() any, task func(scratch any, i int)) {
	nw := min(runtime.GOMAXPROCS(0), n)
	if nw <= 1 {
		sc := newScratch()
		for i := range n {
			task(sc, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := newScratch()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				task(sc, i)
			}
		}()
	}
	wg.Wait()
}
