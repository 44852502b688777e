package landscape

import "math"

// MassComparison is the outcome of CompareMasses.
type MassComparison int

const (
	// Unresolved: the two masses differ by no more than the margin (or one is absent).
	Unresolved MassComparison = 0
	// FirstWins: the first well's mass exceeds the second's by more than the margin.
	FirstWins MassComparison = 1
	// SecondWins: the second well's mass exceeds the first's by more than the margin.
	SecondWins MassComparison = -1
)

// CompareMasses compares the masses that SGD's simulation measured in two wells (MATH.md §8):
//
//	diff = m₁ − m₂,  margin = 2(se₁ + se₂),
//
// with m = MassSGD and se = MassSGDStderr, the between-chain standard errors. The first well
// wins when diff > margin, the second when diff < −margin; otherwise the comparison is
// Unresolved. Because sd(m₁ − m₂) ≤ se₁ + se₂ whatever the correlation of the two errors, this
// is at least as strict as a two-standard-error test on the difference: for independent
// normal errors a difference of zero is resolved with probability between 2Φ(−2√2) ≈ 0.005
// (se₁ = se₂) and 2Φ(−2) ≈ 0.046 (one se ≈ 0); for two wells whose masses sum to one (errors
// perfectly anticorrelated) the rule is exactly the two-standard-error test, at level ≈ 0.046.
// When either standard error is absent (NaN) the margin is 0 and any difference decides; when
// either mass is absent diff is NaN and the result is Unresolved.
func CompareMasses(first, second WellOut) (diff, margin float64, result MassComparison) {
	diff = float64(first.MassSGD) - float64(second.MassSGD)
	if first.MassSGDStderr.OK() && second.MassSGDStderr.OK() {
		margin = 2 * (float64(first.MassSGDStderr) + float64(second.MassSGDStderr))
	}
	switch {
	case math.IsNaN(diff):
		return diff, margin, Unresolved
	case diff > margin:
		return diff, margin, FirstWins
	case diff < -margin:
		return diff, margin, SecondWins
	}
	return diff, margin, Unresolved
}
