package verify

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/sgdprior/sgdprior/sim"
)

// ESSLimit is the smallest effective sample size, bulk and of the squared deviations, that
// every comparison-basis direction needs before a covariance verdict is given (MATH.md §7.1;
// Vehtari et al. 2021 recommend 400).
const ESSLimit = 400.0

// ESSPerChain is the smallest effective sample size per chain the covariance test needs
// (MATH.md §7.1–§7.2): its null distribution treats each chain's covariance as a replicate,
// and with fewer effective draws per chain those replicates are so skewed that the false-
// rejection rate at α = 0.01 reaches about 2α in the simulation study (K = 32 chains of 5
// effective draws: 0.022; K = 16 of 13: 0.017), while from about 20 on it is within two
// standard errors of α (0.011–0.016 ± 0.003 for K = 16). The ESS limit of a run of K chains is max(ESSLimit, ESSPerChain·K).
const ESSPerChain = 20.0

// essLimit is the ESS limit of a run of K chains (MATH.md §7.1).
func essLimit(K int) float64 { return math.Max(ESSLimit, ESSPerChain*float64(K)) }

// RHatFloor is the smallest R̂ limit (Vehtari et al. 2021's 1.01).
const RHatFloor = 1.01

// rhatFamilyLevel is the probability that a stationary run exceeds the R̂ limit in any of
// its directions (MATH.md §7.1).
const rhatFamilyLevel = 0.01

// Convergence is the convergence check of a run (MATH.md §7.1) and its JSON form.
type Convergence struct {
	// Converged: every direction has R̂ ≤ RHatLimit and both ESS ≥ ESSLimit
	// (max(400, 20K): the package constants ESSLimit and ESSPerChain).
	Converged bool `json:"converged"`
	// RHatLimit is τ(k, K, ESS) and ESSLimit the ESS limit; Directions is k, SplitChains
	// M = 2K, Level the probability that a stationary run exceeds τ in some direction.
	RHatLimit   float64 `json:"rhat_limit"`
	ESSLimit    float64 `json:"ess_limit"`
	Directions  int     `json:"directions"`
	SplitChains int     `json:"split_chains"`
	Level       float64 `json:"level"`
	// RHatMax and ESSMin are the worst values (ESSMin over the bulk ESS and the ESS of the
	// squared deviations), in the directions RHatDir and ESSDir (0-based).
	RHatMax float64 `json:"-"`
	ESSMin  float64 `json:"-"`
	RHatDir int     `json:"rhat_direction"`
	ESSDir  int     `json:"ess_direction"`
	// Reason says which criterion failed ("" when converged); Suggestion the chain settings
	// that would meet it.
	Reason     string `json:"reason,omitempty"`
	Suggestion string `json:"suggestion,omitempty"`
}

// RHatLimit returns the R̂ limit τ for k directions and K chains when each direction has an
// effective sample size ess (MATH.md §7.1): for a stationary run with M = 2K split chains of
// n_e = ess/M effective draws each, R̂² − 1 ≈ χ²_{M−1}/((M − 1)·n_e), so
// τ = √(1 + q/((M − 1)n_e)) with q the 1 − 0.01/(2k) quantile of χ²_{M−1} (two R̂ per
// direction: bulk and folded), and never below RHatFloor.
func RHatLimit(k, K int, ess float64) float64 {
	m := float64(2 * K)
	q := distuv.ChiSquared{K: m - 1}.Quantile(1 - rhatFamilyLevel/(2*float64(k)))
	ne := ess / m
	return math.Max(RHatFloor, math.Sqrt(1+q/((m-1)*ne)))
}

// CheckConvergence applies the convergence criterion of MATH.md §7.1 to the summary of a run
// in the comparison basis: every direction j needs R̂_j ≤ τ = RHatLimit(k, K,
// max(L, ESS_min)) and min(ESS_j, ESSSq_j) ≥ L, L = max(ESSLimit, ESSPerChain·K). A NaN figure fails. rate is the
// slowest per-step contraction max_j |1 − η h_j| of the basis (h_j the curvatures, η the
// step in SGD units) and steps, burnin, thin the run's settings, from which Suggestion is
// made.
func CheckConvergence(sum *sim.ChainSummary, rate float64, steps, burnin, thin int) Convergence {
	k, K := sum.Dim, sum.Chains
	limit := essLimit(K)
	c := Convergence{ESSLimit: limit, Directions: k, SplitChains: 2 * K, Level: rhatFamilyLevel,
		RHatMax: math.Inf(-1), ESSMin: math.Inf(1)}
	for j := 0; j < k; j++ {
		r := sum.RHat[j]
		if r > c.RHatMax || math.IsNaN(r) && !math.IsNaN(c.RHatMax) {
			c.RHatMax, c.RHatDir = r, j
		}
		e := math.Min(sum.ESS[j], sum.ESSSq[j])
		if math.IsNaN(sum.ESS[j]) || math.IsNaN(sum.ESSSq[j]) {
			e = math.NaN()
		}
		if e < c.ESSMin || math.IsNaN(e) && !math.IsNaN(c.ESSMin) {
			c.ESSMin, c.ESSDir = e, j
		}
	}
	ess := limit
	if c.ESSMin > ess {
		ess = c.ESSMin
	}
	c.RHatLimit = RHatLimit(k, K, ess)
	rhatOK := c.RHatMax <= c.RHatLimit
	essOK := c.ESSMin >= limit
	c.Converged = rhatOK && essOK
	if c.Converged {
		return c
	}
	var why, fix []string
	if !rhatOK {
		why = append(why, fmt.Sprintf("largest split-R̂ %.4g (direction %d) > limit %.4g", c.RHatMax, c.RHatDir, c.RHatLimit))
	}
	if !essOK {
		why = append(why, fmt.Sprintf("smallest effective sample size %.4g (direction %d) < %g", c.ESSMin, c.ESSDir, limit))
	}
	c.Reason = "not converged: " + strings.Join(why, "; ")
	need := burninNeeded(rate)
	if !rhatOK && need > burnin {
		fix = append(fix, fmt.Sprintf("--burnin ≥ %d (the slowest direction forgets a start 2 standard deviations out to 1%% in ln(200)/(−ln max|1 − ηh|) steps)", need))
	}
	kept := steps - burnin
	newBurnin := max(burnin, need)
	switch {
	case !essOK && c.ESSMin > 0 && !math.IsNaN(c.ESSMin):
		f := limit / c.ESSMin * 1.2
		fix = append(fix, fmt.Sprintf("--steps ≥ %d (ESS grows with the kept steps: %d × %.3g + burn-in)", newBurnin+int(math.Ceil(float64(kept)*f)), kept, f))
	case !rhatOK && need <= burnin:
		fix = append(fix, fmt.Sprintf("--steps ≥ %d (more steps per chain)", newBurnin+2*kept))
	}
	if thin > 1 && !essOK {
		fix = append(fix, "or a smaller --thin")
	}
	c.Suggestion = strings.Join(fix, ", ")
	return c
}

// burninNeeded returns ⌈ln 200 / (−ln rate)⌉, the steps in which a start 2 standard
// deviations out relaxes to 1% of a standard deviation at per-step contraction rate (MATH.md
// §7.1); 0 when rate is not in (0, 1).
func burninNeeded(rate float64) int {
	if !(rate > 0 && rate < 1) {
		return 0
	}
	return int(math.Ceil(math.Log(200) / -math.Log(rate)))
}

// contraction returns max_j |1 − η h_j| over the curvatures h.
func contraction(h []float64, eta float64) float64 {
	var r float64
	for _, v := range h {
		r = math.Max(r, math.Abs(1-eta*v))
	}
	return r
}
