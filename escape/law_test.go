package escape

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/sgdprior/sgdprior/field"
)

// lawTruth: 5 cells, log τ = a + b·x, K chains per cell, horizon chosen so that part of the
// chains are censored.
var (
	lawA, lawB = 1.0, 0.6
	lawXs      = []float64{0, 1, 2, 3, 4}
)

const (
	lawK       = 200
	lawHorizon = 30.0
)

// simulateLaw draws K exponential escape times per cell with mean exp(a + b x_c), censors
// them at the horizon and returns the events and total exposure of each cell.
func simulateLaw(rng *rand.Rand) ([]int, []float64) {
	ev := make([]int, len(lawXs))
	ex := make([]float64, len(lawXs))
	for c, x := range lawXs {
		mean := math.Exp(lawA + lawB*x)
		for range lawK {
			t := mean * rng.ExpFloat64()
			if t < lawHorizon {
				ev[c]++
				ex[c] += t
			} else {
				ex[c] += lawHorizon
			}
		}
	}
	return ev, ex
}

// TestFitLawTruth: on censored exponential data with known a, b (mean escape times from
// e^1 ≈ 2.7 to e^3.4 ≈ 30 against a horizon of 30, so the last cells are heavily censored),
// the estimates lie within 3 SE of the truth; over 400 repetitions the standard deviation of
// b̂ matches the mean reported SE within 25% (the SD of an SD over 400 draws is ≈ 3.5%, so
// 25% leaves room for the finite-sample bias of the Wald SE), and the 95% interval covers b
// in 95% ± 3·1.1% of repetitions.
func TestFitLawTruth(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	ev, ex := simulateLaw(rng)
	f := FitLaw(lawXs, ev, ex)
	if f.Status != "ok" {
		t.Fatal(f.Status)
	}
	if math.Abs(f.Slope-lawB) > 3*f.SlopeSE || math.Abs(f.Intercept-lawA) > 3*f.InterceptSE {
		t.Errorf("fit a = %v ± %v, b = %v ± %v; truth a = %v, b = %v", f.Intercept, f.InterceptSE, f.Slope, f.SlopeSE, lawA, lawB)
	}
	const reps = 400
	var sb, sbb, sse, sa, saa, sase float64
	cover := 0
	for range reps {
		ev, ex := simulateLaw(rng)
		f := FitLaw(lawXs, ev, ex)
		if f.Status != "ok" {
			t.Fatal(f.Status)
		}
		sb += f.Slope
		sbb += f.Slope * f.Slope
		sse += f.SlopeSE
		sa += f.Intercept
		saa += f.Intercept * f.Intercept
		sase += f.InterceptSE
		if f.SlopeCILow <= lawB && lawB <= f.SlopeCIHigh {
			cover++
		}
	}
	n := float64(reps)
	sdB := math.Sqrt((sbb - sb*sb/n) / (n - 1))
	sdA := math.Sqrt((saa - sa*sa/n) / (n - 1))
	if r := sdB / (sse / n); math.Abs(r-1) > 0.25 {
		t.Errorf("slope: SD over repetitions %v, mean SE %v (ratio %v)", sdB, sse/n, r)
	}
	if r := sdA / (sase / n); math.Abs(r-1) > 0.25 {
		t.Errorf("intercept: SD over repetitions %v, mean SE %v (ratio %v)", sdA, sase/n, r)
	}
	if mb := sb / n; math.Abs(mb-lawB) > 3*sdB/math.Sqrt(n) {
		t.Errorf("mean slope %v, truth %v (SE of the mean %v)", mb, lawB, sdB/math.Sqrt(n))
	}
	if c := float64(cover) / n; math.Abs(c-0.95) > 3*math.Sqrt(0.95*0.05/n) {
		t.Errorf("95%% interval covers the slope in %v of repetitions", c)
	}
}

// TestFitLawGradient: the analytic gradient and information of LawLogLik against central
// finite differences at an arbitrary point, and the gradient at the fit ≈ 0 (finite
// differences, relative to the scale of the per-cell terms).
func TestFitLawGradient(t *testing.T) {
	ev, ex := simulateLaw(rand.New(rand.NewPCG(13, 2)))
	ll := func(a, b float64) float64 { return LawLogLik(a, b, lawXs, ev, ex) }
	const h = 1e-5
	fd := func(a, b float64) (float64, float64) {
		return (ll(a+h, b) - ll(a-h, b)) / (2 * h), (ll(a, b+h) - ll(a, b-h)) / (2 * h)
	}
	a, b := 0.7, 0.3
	ga, gb, iaa, iab, ibb := LawGrad(a, b, lawXs, ev, ex)
	fa, fb := fd(a, b)
	if math.Abs(ga-fa) > 1e-5*math.Abs(ga) || math.Abs(gb-fb) > 1e-5*math.Abs(gb) {
		t.Errorf("gradient (%v, %v), finite differences (%v, %v)", ga, gb, fa, fb)
	}
	// −∂²ℓ/∂a∂b etc. from differences of the analytic gradient.
	ga1, gb1, _, _, _ := LawGrad(a+h, b, lawXs, ev, ex)
	ga0, gb0, _, _, _ := LawGrad(a-h, b, lawXs, ev, ex)
	_, gb2, _, _, _ := LawGrad(a, b+h, lawXs, ev, ex)
	_, gb3, _, _, _ := LawGrad(a, b-h, lawXs, ev, ex)
	for _, c := range [][2]float64{{iaa, -(ga1 - ga0) / (2 * h)}, {iab, -(gb1 - gb0) / (2 * h)}, {ibb, -(gb2 - gb3) / (2 * h)}} {
		if math.Abs(c[0]-c[1]) > 1e-5*math.Abs(c[0]) {
			t.Errorf("information %v, finite differences %v", c[0], c[1])
		}
	}
	f := FitLaw(lawXs, ev, ex)
	fa, fb = fd(f.Intercept, f.Slope)
	var events float64
	for _, e := range ev {
		events += float64(e)
	}
	// Each ∂ℓ is a sum of terms of size ~ events·(1 + |x|); at the optimum it cancels to
	// round-off plus the finite-difference error.
	if math.Abs(fa) > 1e-6*events || math.Abs(fb) > 1e-6*events*4 {
		t.Errorf("gradient at the fit (%v, %v) is not ≈ 0 (events %v)", fa, fb, events)
	}
	// The optimum is a maximum: nearby points have a lower likelihood.
	l0 := ll(f.Intercept, f.Slope)
	for _, d := range [][2]float64{{1e-3, 0}, {-1e-3, 0}, {0, 1e-3}, {0, -1e-3}} {
		if ll(f.Intercept+d[0], f.Slope+d[1]) >= l0 {
			t.Errorf("ℓ at the fit + %v is not lower", d)
		}
	}
}

// TestFitLawInconclusive: one cell, no events, or events in one cell only (or at one x) give
// NaN fits with an "inconclusive" status, without panicking.
func TestFitLawInconclusive(t *testing.T) {
	cases := []struct {
		name string
		x    []float64
		ev   []int
		ex   []float64
	}{
		{"one cell", []float64{1}, []int{5}, []float64{10}},
		{"no events", []float64{1, 2, 3}, []int{0, 0, 0}, []float64{10, 10, 10}},
		{"events in one cell", []float64{1, 2, 3}, []int{4, 0, 0}, []float64{10, 30, 30}},
		{"events at one x", []float64{1, 1, 3}, []int{4, 2, 0}, []float64{10, 20, 30}},
		{"empty", nil, nil, nil},
	}
	for _, c := range cases {
		f := FitLaw(c.x, c.ev, c.ex)
		if !math.IsNaN(f.Slope) || !math.IsNaN(f.SlopeCILow) || !math.IsNaN(f.Intercept) || f.Status == "ok" {
			t.Errorf("%s: fit %+v, want NaN", c.name, f)
		}
		if v := LawVerdict(f); len(v) < 12 || v[:12] != "inconclusive" {
			t.Errorf("%s: verdict %q", c.name, v)
		}
	}
}

// TestLawX: x = ΔL·B/(η h_e).
func TestLawX(t *testing.T) {
	if got, want := LawX(0.1, 0.05, 32, 4), 0.1*32/(0.05*4); math.Abs(got-want) > 1e-12*want {
		t.Errorf("LawX = %v, want %v", got, want)
	}
}

// TestLawIris: the grid on iris softmax runs, is bitwise deterministic, refuses an unstable
// η with the law-lr key, writes and reads back its JSON. The fit itself is tested above.
func TestLawIris(t *testing.T) {
	p := loadIris(t)
	theta := irisMinimum(t, p)
	s := DefaultSettings()
	s.Chains, s.Steps, s.CheckEvery, s.Delta = 4, 400, 20, 0.02
	lrs, batches := []float64{0.5, 1}, []int{2, 8}
	o, err := Law(context.Background(), p, theta, &s, lrs, batches)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Law.Cells) != 4 {
		t.Fatalf("%d cells", len(o.Law.Cells))
	}
	for _, c := range o.Law.Cells {
		if want := LawX(s.Delta, c.LR, c.Batch, float64(o.LambdaMax)); c.X != want {
			t.Errorf("cell x %v, want %v", c.X, want)
		}
		if c.Exposure <= 0 || c.Exposure > float64(s.Chains*s.Steps) {
			t.Errorf("exposure %v", c.Exposure)
		}
	}
	o2, err := Law(context.Background(), p, theta, &s, lrs, batches)
	if err != nil {
		t.Fatal(err)
	}
	for i := range o.Law.Cells {
		if fmt.Sprint(o.Law.Cells[i]) != fmt.Sprint(o2.Law.Cells[i]) { // NaN-safe
			t.Errorf("cell %d differs between runs: %+v, %+v", i, o.Law.Cells[i], o2.Law.Cells[i])
		}
	}
	path := filepath.Join(t.TempDir(), "law.json")
	if err := o.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLawOutput(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Law.Cells) != 4 || fmt.Sprint(back.Law.Cells[3]) != fmt.Sprint(o.Law.Cells[3]) {
		t.Errorf("read back %+v", back.Law.Cells)
	}
	_, err = Law(context.Background(), p, theta, &s, []float64{0.5, 2 / float64(o.LambdaMax)}, batches)
	if err == nil || field.As(err) == nil || field.As(err).Key != "law-lr" {
		t.Errorf("unstable η: err %v", err)
	}
	t.Logf("iris law: λ_max %.4g, status %s, slope %v [%v, %v]; %s", float64(o.LambdaMax), o.Law.Status, o.Law.Slope, o.Law.SlopeCILow, o.Law.SlopeCIHigh, o.Law.Verdict)
	for _, c := range o.Law.Cells {
		t.Logf("  η %g B %d x %.4g events %d exposure %g", c.LR, c.Batch, c.X, c.Events, c.Exposure)
	}
}
