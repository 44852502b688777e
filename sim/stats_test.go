package sim

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// ar1Chains returns K chains of n draws of a stationary AR(1) process with coefficient rho and
// unit variance, chain k shifted by shift·k.
func ar1Chains(seed uint64, K, n int, rho, shift float64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]float64, K)
	for k := range out {
		out[k] = make([]float64, n)
		x := rng.NormFloat64()
		for i := range n {
			x = rho*x + math.Sqrt(1-rho*rho)*rng.NormFloat64()
			out[k][i] = x + shift*float64(k)
		}
	}
	return out
}

func TestAutocovarianceNaive(t *testing.T) {
	for _, n := range []int{1, 2, 7, 64, 100} {
		x := ar1Chains(uint64(n), 1, n, 0.6, 0)[0]
		got := autocovariance(x)
		var m float64
		for _, v := range x {
			m += v / float64(n)
		}
		for lag := range n {
			var s float64
			for i := 0; i+lag < n; i++ {
				s += (x[i] - m) * (x[i+lag] - m)
			}
			s /= float64(n)
			if math.Abs(got[lag]-s) > 1e-12*(1+math.Abs(s)) {
				t.Errorf("n=%d lag %d: FFT %v, naive %v", n, lag, got[lag], s)
			}
		}
	}
}

func TestRankNormalizeNaive(t *testing.T) {
	chains := [][]float64{{3, 1, 2, 2, 5}, {2, 0, 7, 3, 3}}
	got := rankNormalize(chains)
	S := 10.0
	for m, c := range chains {
		for i, v := range c {
			var less, equal float64
			for _, c2 := range chains {
				for _, w := range c2 {
					if w < v {
						less++
					} else if w == v {
						equal++
					}
				}
			}
			r := less + (equal+1)/2
			want := distuv.UnitNormal.Quantile((r - 0.375) / (S + 0.25))
			if math.Abs(got[m][i]-want) > 1e-15 {
				t.Errorf("chain %d draw %d: %v, want %v", m, i, got[m][i], want)
			}
		}
	}
}

// naiveRHat recomputes the bulk (non-folded) rank-normalised split-R̂ directly from its
// definition: split, rank, R̂ = √(((n−1)/n·W + B/n)/W) with B = n/(M−1) Σ (m_j − m̄)².
func naiveRHat(chains [][]float64) float64 {
	var split [][]float64
	for _, c := range chains {
		n := len(c)
		split = append(split, c[:n/2], c[n-n/2:])
	}
	z := rankNormalize(split)
	M, n := float64(len(z)), float64(len(z[0]))
	var means []float64
	var W float64
	for _, c := range z {
		var m float64
		for _, v := range c {
			m += v
		}
		m /= n
		means = append(means, m)
		var s float64
		for _, v := range c {
			s += (v - m) * (v - m)
		}
		W += s / (n - 1) / M
	}
	var mbar float64
	for _, m := range means {
		mbar += m / M
	}
	var B float64
	for _, m := range means {
		B += n / (M - 1) * (m - mbar) * (m - mbar)
	}
	return math.Sqrt(((n-1)/n*W + B/n) / W)
}

// TestRHatESS checks R̂ and bulk ESS (Vehtari et al. 2021) on simulated chains:
//   - iid normal, 4 chains × 5000: ESS ≈ S = 20000 (sd of the estimator over 300 seeds:
//     2.1%; tolerance 4 sd = 8.5%), |R̂ − 1| < 0.002 (largest over 300 seeds: 0.0004);
//   - AR(1) with ρ = 0.5 (4 × 5000) and ρ = 0.9 (4 × 20000): ESS ≈ S(1 − ρ)/(1 + ρ) (sd 3.7%
//     and ≈4.3%; tolerance 4 sd: 15% and 17%);
//   - chains with different means (0, 1, 2, 3 for unit-variance draws): R̂ > 1.1;
//   - R̂ is at least the bulk split-R̂, recomputed naively;
//   - constant draws: R̂ = 1, ESS = S; too short or non-finite: NaN.
func TestRHatESS(t *testing.T) {
	cases := []struct {
		n        int
		rho, tol float64
	}{{5000, 0, 0.085}, {5000, 0.5, 0.15}, {20000, 0.9, 0.17}}
	for _, c := range cases {
		chains := ar1Chains(31, 4, c.n, c.rho, 0)
		S := float64(4 * c.n)
		want := S * (1 - c.rho) / (1 + c.rho)
		if got := ESSBulk(chains); math.Abs(got/want-1) > c.tol {
			t.Errorf("ρ=%v: ESS %.1f, want %.1f ± %.0f%%", c.rho, got, want, 100*c.tol)
		}
		rh := RHat(chains)
		if c.rho == 0 && math.Abs(rh-1) > 0.002 {
			t.Errorf("iid: R̂ = %v", rh)
		}
		if nv := naiveRHat(chains); rh < nv-1e-12 {
			t.Errorf("ρ=%v: R̂ %v below the bulk split-R̂ %v", c.rho, rh, nv)
		}
	}
	shifted := ar1Chains(3, 4, 1000, 0, 1)
	if rh := RHat(shifted); !(rh > 1.1) {
		t.Errorf("chains with different means: R̂ = %v, want > 1.1", rh)
	}
	if rh, nv := RHat(shifted), naiveRHat(shifted); math.Abs(rh-nv) > 1e-12 {
		// The location shift dominates: the bulk R̂ is the maximum here.
		t.Errorf("shifted chains: R̂ %v, naive bulk R̂ %v", rh, nv)
	}
	// A scale difference is invisible to the bulk R̂ but not to the folded one.
	scaled := ar1Chains(4, 4, 1000, 0, 0)
	for i := range scaled[0] {
		scaled[0][i] *= 5
	}
	if rh, nv := RHat(scaled), naiveRHat(scaled); !(rh > 1.1) || nv > 1.05 {
		t.Errorf("chains with different scales: R̂ = %v (bulk %v), want > 1.1 from the folded draws", rh, nv)
	}
	constant := [][]float64{{2, 2, 2, 2, 2, 2}, {2, 2, 2, 2, 2, 2}}
	if RHat(constant) != 1 || ESSBulk(constant) != 12 {
		t.Errorf("constant chains: R̂ %v, ESS %v", RHat(constant), ESSBulk(constant))
	}
	if !math.IsNaN(RHat([][]float64{{1, 2, 3}})) || !math.IsNaN(ESSBulk([][]float64{{1, 2, 3, 4, 5}})) ||
		!math.IsNaN(RHat([][]float64{{1, 2, math.NaN(), 4}})) {
		t.Error("short or non-finite chains: not NaN")
	}
}

// TestChainMomentsNaive compares ChainMoments with naive loops, including chains of unequal
// length and a large common offset (cancellation).
func TestChainMomentsNaive(t *testing.T) {
	const dim = 3
	rng := rand.New(rand.NewPCG(1, 2))
	lens := []int{37, 200, 5, 64, 300}
	samples := make([][]float64, len(lens))
	for k, n := range lens {
		for range n {
			z0, z1, z2 := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
			samples[k] = append(samples[k], 1e6+z0, -2+0.5*z0+z1, 0.1*z2+0.01*float64(k))
		}
	}
	mean := make([]float64, dim)
	meanSE := make([]float64, dim)
	cov := mat.NewSymDense(dim, nil)
	covSE := mat.NewSymDense(dim, nil)
	if w := ChainMoments(mean, meanSE, cov, covSE, samples, dim); len(w) != 0 {
		t.Errorf("warnings %v", w)
	}

	naiveMean := func(rows [][]float64) []float64 {
		m := make([]float64, dim)
		for _, r := range rows {
			for j := range dim {
				m[j] += r[j]
			}
		}
		for j := range m {
			m[j] /= float64(len(rows))
		}
		return m
	}
	naiveCov := func(rows [][]float64) [][]float64 {
		m := naiveMean(rows)
		c := make([][]float64, dim)
		for a := range dim {
			c[a] = make([]float64, dim)
			for b := range dim {
				for _, r := range rows {
					c[a][b] += (r[a] - m[a]) * (r[b] - m[b])
				}
				c[a][b] /= float64(len(rows) - 1)
			}
		}
		return c
	}
	rowsOf := func(x []float64) [][]float64 {
		var rows [][]float64
		for i := 0; i < len(x); i += dim {
			rows = append(rows, x[i:i+dim])
		}
		return rows
	}
	var all [][]float64
	var perMean [][]float64
	var perCov [][][]float64
	for _, x := range samples {
		rows := rowsOf(x)
		all = append(all, rows...)
		perMean = append(perMean, naiveMean(rows))
		perCov = append(perCov, naiveCov(rows))
	}
	sd := func(v []float64) float64 {
		m, s := 0.0, 0.0
		for _, x := range v {
			m += x / float64(len(v))
		}
		for _, x := range v {
			s += (x - m) * (x - m)
		}
		return math.Sqrt(s / float64(len(v)-1))
	}
	K := float64(len(samples))
	wantMean, wantCov := naiveMean(all), naiveCov(all)
	close := func(got, want float64) bool { return math.Abs(got-want) <= 1e-9*(1+math.Abs(want)) }
	for a := range dim {
		var col []float64
		for k := range samples {
			col = append(col, perMean[k][a])
		}
		if !close(mean[a], wantMean[a]) || !close(meanSE[a], sd(col)/math.Sqrt(K)) {
			t.Errorf("mean[%d] = %v ± %v, want %v ± %v", a, mean[a], meanSE[a], wantMean[a], sd(col)/math.Sqrt(K))
		}
		if !close(BetweenChainSE(col), sd(col)/math.Sqrt(K)) {
			t.Errorf("BetweenChainSE %v", BetweenChainSE(col))
		}
		for b := range dim {
			var cc []float64
			for k := range samples {
				cc = append(cc, perCov[k][a][b])
			}
			if !close(cov.At(a, b), wantCov[a][b]) || !close(covSE.At(a, b), sd(cc)/math.Sqrt(K)) {
				t.Errorf("cov[%d,%d] = %v ± %v, want %v ± %v", a, b, cov.At(a, b), covSE.At(a, b), wantCov[a][b], sd(cc)/math.Sqrt(K))
			}
		}
	}

	// One chain: moments exist, standard errors do not.
	w := ChainMoments(mean, meanSE, cov, covSE, samples[:1], dim)
	if len(w) == 0 || !math.IsNaN(meanSE[0]) || !math.IsNaN(covSE.At(0, 1)) || math.IsNaN(cov.At(0, 1)) {
		t.Errorf("one chain: warnings %v, meanSE %v, covSE %v", w, meanSE, covSE.At(0, 1))
	}
}

func TestDescribeChains(t *testing.T) {
	const dim, K, n = 2, 3, 50
	rng := rand.New(rand.NewPCG(8, 8))
	samples := make([][]float64, K)
	for k := range samples {
		for range n {
			samples[k] = append(samples[k], rng.NormFloat64(), 3+rng.ExpFloat64())
		}
	}
	s := DescribeChains(samples, dim)
	mean := make([]float64, dim)
	cov := mat.NewSymDense(dim, nil)
	ChainMoments(mean, nil, cov, nil, samples, dim)
	if !slices.Equal(mean, s.Mean) || !mat.Equal(cov, s.Cov) || s.PerChain != n || s.Chains != K {
		t.Error("DescribeChains' moments differ from ChainMoments'")
	}
	for j := range dim {
		col := make([][]float64, K)
		for k := range col {
			for i := range n {
				col[k] = append(col[k], samples[k][i*dim+j])
			}
		}
		if s.RHat[j] != RHat(col) || s.ESS[j] != ESSBulk(col) {
			t.Errorf("coordinate %d: R̂/ESS differ from the per-column functions", j)
		}
	}
	if len(s.Warnings) != 0 {
		t.Errorf("warnings %v", s.Warnings)
	}
}

// ESSSquared of a Gaussian AR(1) with coefficient ρ: the squares have autocorrelation ρ^{2t},
// so ESS ≈ S(1 − ρ²)/(1 + ρ²). Over 4 seeds of 8 chains × 5000 draws, the estimate's
// relative sampling spread is about 5%; the tolerance is 15%.
func TestESSSquaredAR1(t *testing.T) {
	for _, rho := range []float64{0, 0.6, 0.9} {
		want := 8 * 5000 * (1 - rho*rho) / (1 + rho*rho)
		var got float64
		for seed := range uint64(4) {
			got += ESSSquared(ar1Chains(seed+40, 8, 5000, rho, 0)) / 4
		}
		if math.Abs(got/want-1) > 0.15 {
			t.Errorf("ρ = %v: ESS of squares %.0f, want ≈ %.0f", rho, got, want)
		}
	}
	if v := ESSSquared([][]float64{{1, 2, math.NaN(), 3, 4, 5}, {1, 2, 3, 4, 5, 6}}); !math.IsNaN(v) {
		t.Errorf("ESSSquared with a NaN draw = %v, want NaN", v)
	}
}

// ChainCov[c] is chain c's covariance about the pooled mean (divisor n), by a naive loop.
func TestDescribeChainsChainCov(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	K, n, dim := 3, 7, 2
	samples := make([][]float64, K)
	for c := range samples {
		for range n * dim {
			samples[c] = append(samples[c], rng.NormFloat64()+float64(c))
		}
	}
	s := DescribeChains(samples, dim)
	for c, x := range samples {
		for i := range dim {
			for j := range dim {
				var want float64
				for t := range n {
					want += (x[t*dim+i] - s.Mean[i]) * (x[t*dim+j] - s.Mean[j]) / float64(n)
				}
				if got := s.ChainCov[c].At(i, j); math.Abs(got-want) > 1e-13 {
					t.Errorf("chain %d (%d,%d): %v, naive %v", c, i, j, got, want)
				}
			}
		}
	}
}

// TestDescribeChainsGOMAXPROCS: the summary (computed in parallel over chains and
// directions) is bitwise the same for GOMAXPROCS 1 and 4, and its per-chain means and
// covariances, R̂ and ESS equal the serial per-column functions (7 directions, 5 chains).
func TestDescribeChainsGOMAXPROCS(t *testing.T) {
	const dim, K, n = 7, 5, 300
	rng := rand.New(rand.NewPCG(9, 9))
	samples := make([][]float64, K)
	for k := range samples {
		for i := range n * dim {
			samples[k] = append(samples[k], rng.NormFloat64()+float64(i%dim))
		}
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	one := DescribeChains(samples, dim)
	runtime.GOMAXPROCS(4)
	four := DescribeChains(samples, dim)
	for _, p := range [][2][]float64{{one.RHat, four.RHat}, {one.ESS, four.ESS}, {one.ESSSq, four.ESSSq}} {
		if !bitsEqual(p[0], p[1]) {
			t.Errorf("R̂/ESS differ between GOMAXPROCS 1 and 4: %v vs %v", p[0], p[1])
		}
	}
	for k := range K {
		if !bitsEqual(one.ChainMean[k], four.ChainMean[k]) || !mat.Equal(one.ChainCov[k], four.ChainCov[k]) {
			t.Errorf("chain %d: moments differ between GOMAXPROCS 1 and 4", k)
		}
	}
	for j := range dim {
		col := make([][]float64, K)
		for k := range col {
			for i := range n {
				col[k] = append(col[k], samples[k][i*dim+j])
			}
		}
		if four.RHat[j] != RHat(col) || four.ESS[j] != ESSBulk(col) {
			t.Errorf("direction %d: R̂/ESS differ from the per-column functions", j)
		}
	}
}
