package study

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// holmRejects is Holm's step-down procedure written out (an independent statement of it):
// sort the p-values, reject p_(j) while p_(j) ≤ α/(m − j + 1), stop at the first that is not.
func holmRejects(p []float64, alpha float64) []bool {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	out := make([]bool, m)
	for j, i := range idx {
		if p[i] > alpha/float64(m-j) {
			break
		}
		out[i] = true
	}
	return out
}

// HolmAdjust's adjusted p-values reject (p̃ ≤ α) exactly the tests the step-down procedure
// rejects, at every level, on random families with ties and extreme values (fixed seed).
func TestHolmAdjust(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		m := 1 + rng.IntN(40)
		p := make([]float64, m)
		for i := range p {
			switch rng.IntN(4) {
			case 0:
				p[i] = math.Pow(10, -16*rng.Float64())
			case 1:
				p[i] = float64(rng.IntN(5)) / 100 // ties, and 0
			default:
				p[i] = rng.Float64()
			}
		}
		adj := HolmAdjust(p)
		for _, alpha := range []float64{0.001, 0.01, 0.05, 0.2} {
			want := holmRejects(p, alpha)
			for i := range p {
				if (adj[i] <= alpha) != want[i] || adj[i] < p[i] || adj[i] > 1 {
					t.Fatalf("trial %d, α = %v: p = %v, adjusted %v; step-down rejects %v", trial, alpha, p, adj, want)
				}
			}
		}
	}
}

// Across a study, a prediction verify rejected at its own level fails only if it survives
// Holm's correction. Among three tests (p = 1e-16, 2e-16, 0.004) the 0.004 is third of three:
// p̃ = max(3·1e-16, 2·2e-16, 1·0.004) = 0.004 ≤ 0.01, and it fails. Among six (three more with
// p ≈ 0.3) it is third of six: p̃ = 4·0.004 = 0.016 > 0.01, and the verdict is inconclusive,
// quoting both p-values.
func TestVerifyVerdictHolm(t *testing.T) {
	pred := func(verdict string, p float64) string {
		return `{"rel_frobenius": 0.02, "kl": 0.001, "verdict": "` + verdict + `", "reason": "r", "effect": {"rel_error": 0.02, "ci_low": 0.004, "ci_high": 0.035}, "detectable_rel_error": 0.02, "consistent": false, "test": "T", "alpha": 0.01, "p_value": ` + strings.TrimSpace(Format(p)) + `}`
	}
	head := `{"chains": 32, "samples": 32000, "simulator": "sgd", "converged": true, "rhat_max": 1.004, "ess_min": 2000, "convergence": {"converged": true, "rhat_limit": 1.02, "ess_limit": 640}, "predictions": {`
	a := head + `"linear_exact": ` + pred("fails", 0.004) + `, "discrete": ` + pred("fails", 1e-16) + `, "continuous": ` + pred("fails", 2e-16) + `}}`
	b := head + `"linear_exact": ` + pred("holds", 0.3) + `, "discrete": ` + pred("holds", 0.31) + `, "continuous": ` + pred("holds", 0.32) + `}}`
	sa := step("p", KindVerify, "verify-a", 0.1, 10, "sgd", a)
	sb := step("p", KindVerify, "verify-b", 0.1, 10, "gauss", b)

	m := studyMultiplicity(&Results{Steps: []StepResult{sa}})
	v := verifyVerdict(&sa, m)
	if m.Tests != 3 || v.Status != Fails || !strings.Contains(v.Text, "Holm-adjusted p 0.004") {
		t.Errorf("three tests: %d in the family, status %s, text %q", m.Tests, v.Status, v.Text)
	}
	m = studyMultiplicity(&Results{Steps: []StepResult{sa, sb}})
	v = verifyVerdict(&sa, m)
	if m.Tests != 6 || v.Status != Inconclusive || !strings.Contains(v.Text, "exact least squares (rejected at level 0.01 alone (p = 0.004") ||
		!strings.Contains(v.Text, "over the study's 6 covariance tests (adjusted p = 0.016)") || !strings.Contains(v.Short, "exact least squares undecided") {
		t.Errorf("six tests: %d in the family, status %s, short %q, text %q", m.Tests, v.Status, v.Short, v.Text)
	}
}
