package verify

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// varChains simulates K independent stationary Gaussian VAR(1) chains of n draws in k
// dimensions, x_t = L y_t with independent AR(1) coordinates y (coefficients phi[i], unit
// variance), so that the stationary covariance is scale·L Lᵀ. It returns each chain's
// covariance about the pooled mean (divisor n) and each chain's mean, computed by plain loops.
func varChains(rng *rand.Rand, l *mat.Dense, phi []float64, scale float64, K, n int) ([]*mat.SymDense, [][]float64) {
	k := len(phi)
	xs := make([][]float64, K)
	y := make([]float64, k)
	sd := math.Sqrt(scale)
	for c := range xs {
		xs[c] = make([]float64, n*k)
		for i := range y {
			y[i] = rng.NormFloat64()
		}
		for t := 0; t < n; t++ {
			for i := range y {
				y[i] = phi[i]*y[i] + math.Sqrt(1-phi[i]*phi[i])*rng.NormFloat64()
			}
			x := xs[c][t*k : (t+1)*k]
			for i := 0; i < k; i++ {
				var s float64
				for j := 0; j <= i; j++ {
					s += l.At(i, j) * y[j]
				}
				x[i] = sd * s
			}
		}
	}
	means := make([][]float64, K)
	pooled := make([]float64, k)
	for c, x := range xs {
		means[c] = make([]float64, k)
		for t := 0; t < n; t++ {
			for i := 0; i < k; i++ {
				means[c][i] += x[t*k+i] / float64(n)
			}
		}
		for i := range pooled {
			pooled[i] += means[c][i] / float64(K)
		}
	}
	covs := make([]*mat.SymDense, K)
	for c, x := range xs {
		covs[c] = mat.NewSymDense(k, nil)
		for i := 0; i < k; i++ {
			for j := i; j < k; j++ {
				var s float64
				for t := 0; t < n; t++ {
					s += (x[t*k+i] - pooled[i]) * (x[t*k+j] - pooled[j])
				}
				covs[c].SetSym(i, j, s/float64(n))
			}
		}
	}
	return covs, means
}

// testPrediction returns a non-diagonal k×k covariance L Lᵀ (L lower triangular with a
// dominant diagonal spread over two decades) and AR(1) coefficients from 0.5 to 0.9.
func testPrediction(k int) (*mat.Dense, *mat.SymDense, []float64) {
	rng := rand.New(rand.NewPCG(11, 12))
	l := mat.NewDense(k, k, nil)
	phi := make([]float64, k)
	for i := 0; i < k; i++ {
		l.Set(i, i, math.Pow(10, -float64(i)/float64(k-1)))
		for j := 0; j < i; j++ {
			l.Set(i, j, 0.3*rng.NormFloat64()*l.At(i, i))
		}
		phi[i] = 0.5 + 0.4*float64(i)/float64(k-1)
	}
	var s mat.SymDense
	s.SymOuterK(1, l)
	return l, &s, phi
}

// The simulation study of the covariance test (MATH.md §7.2), fixed seeds. With the exact
// prediction, the false-rejection rate over R replicates must be within 3 binomial standard
// errors √(α(1−α)/R) of α, at α = 0.05 and 0.01; the 1 − α upper confidence bound of
// rel_error must cover the truth 0 at ≥ 1 − α − 3 SE (it does whenever ci_low = 0, which
// is exactly when the test does not reject). With the chains' covariance 1.1·Σ_p, the
// simulated power must match the mean predicted power (ScalePower(0.1)) within 3 binomial
// standard errors plus 0.02 (the model's approximation), and the interval [ci_low, ci_high]
// (each a 1 − α bound: nominal coverage 1 − 2α) must cover 0.1 at ≥ 1 − 2α − 3 SE.
func TestCovarianceTestSimulation(t *testing.T) {
	const k, R = 8, 800
	l, pred, phi := testPrediction(k)
	type tally struct{ rej, cover, n int }
	run := func(seed uint64, scale, alpha float64, K, n int) (tally, float64, float64) {
		rng := rand.New(rand.NewPCG(seed, 99))
		var tl tally
		var predPower, det float64
		for range R {
			covs, means := varChains(rng, l, phi, scale, K, n)
			ct, err := CovarianceTest(covs, means, pred, alpha)
			if err != nil {
				t.Fatal(err)
			}
			if ct.Rank != k {
				t.Fatalf("rank %d, want %d", ct.Rank, k)
			}
			if ct.Reject != (ct.CILow > 0) {
				t.Fatalf("reject %v with ci_low %v: the test and the interval disagree", ct.Reject, ct.CILow)
			}
			if ct.CILow > ct.RelError || ct.RelError > ct.CIHigh && ct.CIHigh > 0 {
				t.Fatalf("rel_error %v outside its bounds [%v, %v]", ct.RelError, ct.CILow, ct.CIHigh)
			}
			tl.n++
			if ct.Reject {
				tl.rej++
			}
			truth := scale - 1 // W Σ Wᵀ = scale·I: D = (scale − 1)I, ‖D‖_F/√r = scale − 1
			if ct.CILow <= truth && truth <= ct.CIHigh || truth == 0 && ct.CILow == 0 {
				tl.cover++
			}
			predPower += ct.ScalePower(0.1) / R
			det += ct.Detectable / R
		}
		return tl, predPower, det
	}
	for i, c := range []struct {
		alpha float64
		K, n  int
	}{{0.05, 16, 400}, {0.01, 16, 400}, {0.05, 32, 200}, {0.01, 32, 200}} {
		alpha := c.alpha
		tl, _, det := run(uint64(1+i), 1, alpha, c.K, c.n)
		rate := float64(tl.rej) / R
		se := math.Sqrt(alpha * (1 - alpha) / R)
		t.Logf("α = %v: false-rejection rate %.4f ± %.4f (R = %d, K = %d, r = %d, n = %d, φ 0.5–0.9); mean detectable_rel_error %.3f", alpha, rate, se, R, c.K, k, c.n, det)
		if math.Abs(rate-alpha) > 3*se {
			t.Errorf("α = %v: false-rejection rate %.4f, want %v ± %.4f (3 SE)", alpha, rate, alpha, 3*se)
		}
		if cov := float64(tl.cover) / R; cov < 1-alpha-3*se {
			t.Errorf("α = %v: the bounds cover 0 in %.4f of the replicates, want ≥ %.4f", alpha, cov, 1-alpha-3*se)
		}
	}
	for _, alpha := range []float64{0.05, 0.01} {
		tl, predPower, _ := run(7, 1.1, alpha, 16, 100)
		power := float64(tl.rej) / R
		se := math.Sqrt(power * (1 - power) / R)
		t.Logf("α = %v, Σ = 1.1·Σ_p: K = 16, n = 100: simulated power %.4f ± %.4f, predicted %.4f; coverage of ε = 0.1 by [ci_low, ci_high] %.4f (nominal %.2f)", alpha, power, se, predPower, float64(tl.cover)/R, 1-2*alpha)
		if math.Abs(power-predPower) > 3*se+0.02 {
			t.Errorf("α = %v: simulated power %.4f, predicted %.4f", alpha, power, predPower)
		}
		cse := math.Sqrt(2 * alpha * (1 - 2*alpha) / R)
		if cov := float64(tl.cover) / R; cov < 1-2*alpha-3*cse {
			t.Errorf("α = %v: [ci_low, ci_high] covers ε = 0.1 in %.4f of the replicates, want ≥ %.4f", alpha, cov, 1-2*alpha-3*cse)
		}
	}
}

// replicateDF2 against its two regimes (MATH.md §7.2), fixed seeds: for Gaussian replicates
// z_c ~ N(0, A), A = diag(1, 1/2, …, 1/p), the median over 400 draws of K = 32 replicates must
// lie in [0.95, 1.25]·h(K − 1), h(K − 1) = (tr A)²/tr A²·(K − 1) the exact Satterthwaite value
// (the estimate has a sample variance in its denominator and is biased up: its median is 1.11
// times h(K − 1) here, and its standard error over 400 draws about 1.5%; the test takes the
// smaller of the two, so an upward bias leaves Gaussian replicates at h(K − 1)); for replicates
// scaled by √w_c with w_c ~ χ²₂/2 (heavy tails: Var q_c grows several-fold) it must be below half
// of h(K − 1), where the test then takes it as its denominator's degrees of freedom.
func TestReplicateDF2(t *testing.T) {
	const K, p, draws = 32, 20, 400
	var trA, trA2 float64
	for j := 1; j <= p; j++ {
		trA += 1 / float64(j)
		trA2 += 1 / float64(j*j)
	}
	want := trA * trA / trA2 * (K - 1)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, heavy := range []bool{false, true} {
		dfs := make([]float64, 0, draws)
		for range draws {
			z := mat.NewDense(K, p, nil)
			for c := 0; c < K; c++ {
				w := 1.0
				if heavy {
					a, b := rng.NormFloat64(), rng.NormFloat64()
					w = (a*a + b*b) / 2
				}
				for j := 0; j < p; j++ {
					z.Set(c, j, math.Sqrt(w/float64(j+1))*rng.NormFloat64())
				}
			}
			centre(z)
			dfs = append(dfs, replicateDF2(z))
		}
		sort.Float64s(dfs)
		med := dfs[draws/2]
		t.Logf("heavy %v: median replicateDF2 %.4g, h(K−1) = %.4g", heavy, med, want)
		switch {
		case !heavy && (med < 0.95*want || med > 1.25*want):
			t.Errorf("Gaussian replicates: median df2 %.4g, want in [0.95, 1.25]·%.4g", med, want)
		case heavy && med > want/2:
			t.Errorf("heavy-tailed replicates: median df2 %.4g, want < %.4g", med, want/2)
		}
	}
}

// centre subtracts the column means of z.
func centre(z *mat.Dense) {
	K, p := z.Dims()
	for j := 0; j < p; j++ {
		var m float64
		for c := 0; c < K; c++ {
			m += z.At(c, j) / float64(K)
		}
		for c := 0; c < K; c++ {
			z.Set(c, j, z.At(c, j)-m)
		}
	}
}

// fSurvival against gonum's F distribution where 1 − CDF is accurate, and in the far tail
// against the closed form of F(2, 2): P(F > x) = 1/(1 + x), where 1 − CDF rounds.
func TestFSurvival(t *testing.T) {
	for _, c := range []struct{ x, d1, d2 float64 }{{0.5, 3, 10}, {2, 11, 300}, {1, 379, 3430}, {4, 1.5, 7.2}} {
		want := distuv.F{D1: c.d1, D2: c.d2}.Survival(c.x)
		if got := fSurvival(c.x, c.d1, c.d2); math.Abs(got-want) > 1e-12 {
			t.Errorf("F(%v, %v) at %v: %v, want %v", c.d1, c.d2, c.x, got, want)
		}
	}
	for _, x := range []float64{1e10, 1e20} {
		if got, want := fSurvival(x, 2, 2), 1/(1+x); math.Abs(got/want-1) > 1e-10 {
			t.Errorf("F(2, 2) at %v: %v, want %v", x, got, want)
		}
	}
}
