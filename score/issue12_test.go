package score

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/train"
)

// bcOnce caches the breast-cancer report of the default study (logistic, λ = 0.01, η = 0.25,
// B = 32, --divergence) at its full-batch minimum θ*.
var bcOnce struct {
	sync.Once
	rep *Report
	err error
}

func breastCancerReport(t *testing.T) *Report {
	t.Helper()
	bcOnce.Do(func() {
		pr, err := problem.Load(problem.Spec{Data: "breast-cancer", Model: "logistic", Standardize: true, Act: "tanh", Task: "classify", Sigma: 1, WeightDecay: 0.01})
		if err != nil {
			bcOnce.err = err
			return
		}
		theta := make([]float64, pr.D())
		model.InitSeeded(theta, pr.Model, 1)
		if _, err := train.Minimize(context.Background(), pr.Objective(), pr.Batch, theta, train.Settings{}); err != nil {
			bcOnce.err = err
			return
		}
		s := DefaultSettings()
		s.LR, s.Batch, s.Divergence, s.Seed = 0.25, 32, true, 1
		bcOnce.rep, bcOnce.err = Compute(pr, theta, &s)
	})
	if bcOnce.err != nil {
		t.Fatal(bcOnce.err)
	}
	return bcOnce.rep
}

// outputMap renders rep's JSON as a generic map.
func outputMap(t *testing.T, rep *Report) map[string]any {
	t.Helper()
	b, err := json.Marshal(NewOutput(rep))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestImplicitPartAtCriticalPoint (issue 12, item 8): at breast-cancer's θ* (‖∇L‖ ≈ 4e-17)
// the implicit part of the note's prior score is exactly 0 in exact arithmetic. The JSON
// says θ* is a critical point to round-off and gives the floor; the summary says plainly that
// the implicit part vanishes at every critical point, and does not print its round-off norm
// as a finding.
func TestImplicitPartAtCriticalPoint(t *testing.T) {
	rep := breastCancerReport(t)
	dg := outputMap(t, rep)["diagnostics"].(map[string]any)
	if v, ok := dg["at_critical_point"].(bool); !ok || !v {
		t.Errorf("diagnostics.at_critical_point = %v, want true", dg["at_critical_point"])
	}
	if f, ok := dg["roundoff_floor"].(float64); !ok || !(f > rep.GradNorm) {
		t.Errorf("diagnostics.roundoff_floor = %v, want a number above ‖∇L‖ = %g", dg["roundoff_floor"], rep.GradNorm)
	}
	var buf bytes.Buffer
	rep.WriteSummary(&buf, "breast-cancer", NewOutput(rep).Warnings)
	text := buf.String()
	if !strings.Contains(text, "vanishes at every critical point") {
		t.Errorf("the summary does not say that the implicit part vanishes at every critical point:\n%s", text)
	}
	if regexp.MustCompile(`implicit ‖s_prior \+ N∇r‖ [0-9]`).MatchString(text) {
		t.Errorf("the summary prints the implicit part's round-off norm as a result:\n%s", text)
	}
}

// TestRangeFractionNullUnlessComputed (issue 12, item 10): with the damped inverse the
// fraction of ‖∇L‖² outside the range of C_B is never computed: it is null, not 0.
func TestRangeFractionNullUnlessComputed(t *testing.T) {
	set := DefaultSettings()
	set.Inverse.Damping = 1e-3
	rep := gaussianReport(t, set)
	dg := outputMap(t, rep)["diagnostics"].(map[string]any)
	if v, ok := dg["range_fraction"]; !ok || v != nil {
		t.Errorf("damped inverse: range_fraction = %v, want null", v)
	}
}

// TestPriorMinEigBreastCancer (issue 12, item 1): on breast-cancer the seed's implied prior
// precision has every Hessian-eigendirection diagonal entry ≥ 900, yet the matrix has a
// clearly negative eigenvalue; it is reported although cov_seed is null
// (stationary.TestPriorPrecisionMatrix checks the matrices themselves).
func TestPriorMinEigBreastCancer(t *testing.T) {
	rep := breastCancerReport(t)
	g := rep.Gaussian
	for i, d := range g.Directions {
		if d.Prior.Note < 900 {
			t.Fatalf("direction %d: seed diagonal %g < 900 (premise of the test)", i, d.Prior.Note)
		}
	}
	if g.CovNote != nil {
		t.Fatal("cov_seed exists (premise of the test)")
	}
	e := g.MinEig.Note
	if e == nil || !(e.Value < -100) {
		t.Fatalf("seed min eigenvalue %+v, want clearly negative", e)
	}
	m := outputMap(t, rep)["gaussian"].(map[string]any)["prior_precision_min_eig"].(map[string]any)
	if v, ok := m["seed"].(float64); !ok || v != e.Value {
		t.Errorf("JSON prior_precision_min_eig.seed = %v, want %g", m["seed"], e.Value)
	}
	if g.Coverage.K != 31 || g.Coverage.D != 31 || g.Coverage.NoNoise != 0 || !g.Coverage.Full {
		t.Errorf("coverage %+v", g.Coverage)
	}
	var sw float64
	for _, w := range e.Weights {
		sw += w
	}
	if math.Abs(sw-1) > 1e-10 {
		t.Errorf("weights sum to %g", sw)
	}
}

// TestOutputRoundTripIssue12: the new keys (prior_precision_min_eig and its vectors,
// coverage, roundoff_floor, at_critical_point, the ladder, the kurtosis lists, the asymmetry
// standard errors, a null range_fraction) read back and marshal to the same bytes.
func TestOutputRoundTripIssue12(t *testing.T) {
	rep := *breastCancerReport(t)
	rep.Diagnostics.Ladder = []LadderRung{{Damping: 1e-5, DivergenceNorm: 816, DivergenceRatio: math.NaN(), DivergenceShift: 3.5, AsymmetryNote: 0.42, AsymmetryNoteSE: 0.05, PriorMinEigNote: 742},
		{Range: true, RCond: 1e-10, User: true, DivergenceNorm: 1e9, DivergenceRatio: math.NaN(), DivergenceShift: math.NaN(), AsymmetryNote: math.NaN(), AsymmetryNoteSE: math.NaN(), PriorMinEigNote: math.NaN(), Note: "x"}}
	se := 0.01
	rep.Diagnostics.AsymmetryNoteSE = &se
	b1, err := json.Marshal(NewOutput(&rep))
	if err != nil {
		t.Fatal(err)
	}
	var back Output
	if err := json.Unmarshal(b1, &back); err != nil {
		t.Fatal(err)
	}
	b2, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if string(b1) != string(b2) {
		t.Errorf("round trip differs:\n%s\n%s", b1, b2)
	}
	if back.Gaussian == nil || back.Gaussian.PriorMinEig == nil || back.Gaussian.PriorMinEig.Note == nil || len(back.Diagnostics.Ladder) != 2 || !back.Diagnostics.AtCriticalPoint {
		t.Errorf("read back: %+v", back.Diagnostics)
	}
}
