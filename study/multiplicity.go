package study

import (
	"math"
	"sort"

	"github.com/sgdprior/sgdprior/verify"
)

// Multiplicity is the family-wise correction of a study's covariance tests (MATH.md §7.3):
// every prediction that verify decided by its covariance test, over every verify step of the
// study, is one test of the family; Holm's step-down adjustment makes the probability that
// the report states any false "fails" at most Alpha.
type Multiplicity struct {
	// Method is "holm"; Tests the size of the family; Alpha the family-wise level (the
	// smallest level of the tests in it).
	Method string  `json:"method"`
	Tests  int     `json:"tests"`
	Alpha  float64 `json:"alpha"`

	// adjusted holds each test's Holm-adjusted p-value, keyed by step ID and prediction.
	adjusted map[testKey]float64
}

type testKey struct{ step, prediction string }

// Adjusted returns the Holm-adjusted p-value of prediction pred of step, and whether that
// test is in the family.
func (m *Multiplicity) Adjusted(step, pred string) (float64, bool) {
	if m == nil {
		return math.NaN(), false
	}
	p, ok := m.adjusted[testKey{step, pred}]
	return p, ok
}

// HolmAdjust returns Holm's step-down adjusted p-values of p (MATH.md §7.3): with the p-values
// sorted increasingly, p̃_(j) = max_{i ≤ j} min(1, (m − i + 1) p_(i)), m = len(p). Rejecting
// every test with p̃ ≤ α controls the family-wise error rate at α under any dependence
// between the tests. NaN p-values must not be passed (it panics).
func HolmAdjust(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		if math.IsNaN(p[i]) {
			panic("study: HolmAdjust: NaN p-value")
		}
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	out := make([]float64, m)
	run := 0.0
	for j, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-j)*p[i]))
		out[i] = run
	}
	return out
}

// studyMultiplicity collects the family of covariance tests of r's verify steps: each
// prediction with verdict holds or fails and a finite p-value (predictions judged only by the
// variance outside their range, or inconclusive, are not in it).
func studyMultiplicity(r *Results) *Multiplicity {
	m := &Multiplicity{Method: "holm", adjusted: map[testKey]float64{}}
	var keys []testKey
	var ps []float64
	for i := range r.Steps {
		s := &r.Steps[i]
		if s.Command != KindVerify {
			continue
		}
		o, err := s.Verify()
		if err != nil {
			continue
		}
		for _, name := range PredictionNames(o.Predictions) {
			p := o.Predictions[name]
			if p.Verdict != verify.VerdictHolds && p.Verdict != verify.VerdictFails || !p.PValue.OK() || !(p.Alpha > 0) {
				continue
			}
			if m.Alpha == 0 || p.Alpha < m.Alpha {
				m.Alpha = p.Alpha
			}
			keys = append(keys, testKey{s.ID, name})
			ps = append(ps, float64(p.PValue))
		}
	}
	m.Tests = len(ps)
	for i, a := range HolmAdjust(ps) {
		m.adjusted[keys[i]] = a
	}
	return m
}
