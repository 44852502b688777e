package study

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFlatWellTest: "Do flat wells win?" is a stated test of the difference of SGD's two
// masses: with per-chain masses a paired t-test over the chains, without them a z-test on
// the bound se₁ + se₂ of its standard error, both at the two-sided level 0.01; a difference
// it does not resolve is inconclusive (not unknown), with the difference, its standard
// error and the statistic in the text.
func TestFlatWellTest(t *testing.T) {
	res := testResults()
	close := strings.Replace(strings.Replace(wellsOut, `"mass_sgd": 0.02, "mass_sgd_stderr": 0.002`, `"mass_sgd": 0.49, "mass_sgd_stderr": 0.01`, 1),
		`"mass_sgd": 0.98, "mass_sgd_stderr": 0.002`, `"mass_sgd": 0.51, "mass_sgd_stderr": 0.01`, 1)
	res.Steps[4].Output = json.RawMessage(close)
	// Flat (width 1.2) minus sharp: 0.51 − 0.49 = 0.02, standard error at most 0.01 + 0.01,
	// z = 1 against the critical 2.576 of the two-sided level 0.01.
	expect(t, verdictFor(t, Summarize(res), "w", TopicFlat, ""), Inconclusive,
		"m_flat − m_sharp = 0.02 ± 0.02", "z = 1", "level 0.01", "2.576")
	// Per-chain masses (four chains): differences 0.8, 0.9, 1, 0.94, mean 0.91, standard
	// error √(0.0212/3/4) = 0.04203, t = 21.65 on 3 degrees of freedom (critical 5.841).
	chains := strings.Replace(strings.Replace(wellsOut, `"mass_sgd": 0.02, "mass_sgd_stderr": 0.002`,
		`"mass_sgd": 0.045, "mass_sgd_stderr": 0.021, "mass_sgd_chains": [0.1, 0.05, 0, 0.03]`, 1),
		`"mass_sgd": 0.98, "mass_sgd_stderr": 0.002`, `"mass_sgd": 0.955, "mass_sgd_stderr": 0.021, "mass_sgd_chains": [0.9, 0.95, 1, 0.97]`, 1)
	res.Steps[4].Output = json.RawMessage(chains)
	expect(t, verdictFor(t, Summarize(res), "w", TopicFlat, ""), Holds,
		"m_flat − m_sharp = 0.91 ± 0.04203", "t = 21.65", "3 degrees of freedom", "5.841")
}
