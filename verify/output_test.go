package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/internal/testproblem"
	"github.com/sgdprior/sgdprior/sim"
)

// TestReportRoundTrip: a Report (with null numbers, an inline and a file matrix, no cloud)
// reads back what it writes: Unmarshal(Marshal(r)) marshals to the same bytes, and null
// numbers read as NaN.
func TestReportRoundTrip(t *testing.T) {
	yes := true
	r := &Report{Chains: 4, Steps: 100, Burnin: 10, Thin: 2, Samples: 180, Simulator: "sde", DT: 0.5,
		Sampling: "without", LR: 0.1, Batch: 8, Kappa: 0.12, N: 50, D: 3, Basis: "full", BasisDim: 2,
		Removed:     map[string]int{"null": 1, "flat": 0, "negative": 0},
		Mean:        []jsonnum.Float{1, jsonnum.Float(math.NaN()), 3},
		Cov:         jsonnum.NewMatrix(mat.NewSymDense(2, []float64{1, 0.5, 0.5, 2})),
		CovStderr:   &jsonnum.Matrix{File: "out-cov_stderr.npy"},
		RHatMax:     jsonnum.Float(math.NaN()),
		ESSMin:      300,
		Directions:  []Direction{{H: 2, Var: 0.1, VarSE: 0.01, Ratio: map[string]jsonnum.Float{"seed": 1.1}, RatioSE: map[string]jsonnum.Float{"seed": jsonnum.Float(math.Inf(1))}, RHat: 1, ESS: 400}},
		Predictions: map[string]PredResult{"seed": {Cov: jsonnum.NewMatrix(mat.NewSymDense(1, []float64{3})), KL: 0.2, Consistent: &yes, Test: "t", Alpha: 0.01}, "continuous": {Why: "no"}},
		Warnings:    []string{"w"},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Errorf("round trip differs:\n%s\n%s", b, b2)
	}
	if !math.IsNaN(float64(back.RHatMax)) || !math.IsNaN(float64(back.Mean[1])) {
		t.Error("null numbers should read as NaN")
	}
	if back.CovStderr.File != "out-cov_stderr.npy" || back.Predictions["continuous"].Cov != nil {
		t.Error("matrices did not read back")
	}
}

// TestReportWrite: a matrix larger than the inline limit goes to a .npy file beside the JSON,
// named relative to the JSON's directory; smaller ones stay inline.
func TestReportWrite(t *testing.T) {
	dir := t.TempDir()
	r := &Report{Warnings: []string{}}
	big := mat.NewSymDense(inlineMax+1, nil)
	big.SetSym(0, 1, 7)
	r.Cov = r.matrix("cov", big)
	r.CovStderr = r.matrix("cov_stderr", mat.NewSymDense(2, nil))
	if b, _ := json.Marshal(r.Cov); string(b) != "null" {
		t.Errorf("a large matrix before Write marshals as %s, want null", b)
	}
	path := filepath.Join(dir, "v.json")
	if err := r.Write(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Cov.File != "v-cov.npy" || back.CovStderr.Rows == nil {
		t.Errorf("cov %+v, cov_stderr %+v", back.Cov.File, back.CovStderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "v-cov.npy")); err != nil {
		t.Error(err)
	}
}

func TestSettingsValidate(t *testing.T) {
	ok := DefaultSettings()
	ok.LR, ok.Batch = 0.1, 8
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults with η, B: %v", err)
	}
	cases := []struct {
		set  func(*Settings)
		key  string
		want string
	}{
		{func(s *Settings) { s.LR = 0 }, "lr", "--lr must be > 0, not 0"},
		{func(s *Settings) { s.Chains = 1 }, "chains", "--chains must be ≥ 2 (standard errors come from the spread between chains), not 1"},
		{func(s *Settings) { s.Steps = 0 }, "steps", "--steps must be ≥ 1, not 0"},
		{func(s *Settings) { s.Burnin = s.Steps }, "burnin", "--burnin must be in [0, --steps) = [0, 20000), not 20000 (lower --burnin or raise --steps)"},
		{func(s *Settings) { s.Thin = 10000 }, "thin", "--thin 10000 leaves fewer than 4 samples per chain"},
		{func(s *Settings) { s.Thin = 0 }, "thin", "--thin must be ≥ 1, not 0"},
		{func(s *Settings) { s.DT = 2 }, "dt", "--dt must be in (0, 1], not 2"},
		{func(s *Settings) { s.TopK = 0 }, "top-k", "--top-k must be ≥ 1, not 0"},
		{func(s *Settings) { s.Alpha = 1 }, "alpha", "--alpha must be in (0, 1), not 1"},
		{func(s *Settings) { s.Inverse.Damping = 1; s.Inverse.Range = true }, "damping", "--damping and --inverse range are exclusive: choose one"},
	}
	for _, c := range cases {
		s := ok
		c.set(&s)
		fe := field.As(s.Validate())
		if fe == nil || fe.Key != c.key || fe.Flag() != c.want {
			t.Errorf("%s: got %v, want %q", c.key, fe, c.want)
		}
	}
}

// TestRun runs a short verification of linear regression on diabetes: the full basis, the
// exact least-squares prediction, and a report with every prediction judged.
func TestRun(t *testing.T) {
	p := testproblem.Load(t, "diabetes", "linreg", 0)
	s := DefaultSettings()
	s.LR, s.Batch, s.Chains, s.Steps, s.Burnin, s.Method = 0.2, 16, 4, 400, 100, sim.SGD
	r, err := Run(context.Background(), p, nil, &s)
	if err != nil {
		t.Fatal(err)
	}
	if r.Basis != "full" || r.BasisDim != 11 || r.D != 11 || len(r.Directions) != 11 || r.Cloud == nil {
		t.Errorf("basis %s dim %d, d %d, %d directions", r.Basis, r.BasisDim, r.D, len(r.Directions))
	}
	for _, name := range []string{"seed", "continuous", "discrete", "posterior", "linear_exact"} {
		if _, ok := r.Predictions[name]; !ok {
			t.Errorf("no %s prediction", name)
		}
	}
	if len(r.Comparisons) != len(r.Predictions) {
		t.Errorf("%d comparisons, %d predictions", len(r.Comparisons), len(r.Predictions))
	}
}

// Item 9 of issue 12: B = N without replacement has no mini-batch noise (κ_B = 0); verify
// refuses it as score does, with a usage error naming --batch.
func TestRunRefusesFullBatchWithout(t *testing.T) {
	p := testproblem.Load(t, "diabetes", "linreg", 0)
	s := DefaultSettings()
	s.LR, s.Batch, s.Chains, s.Steps, s.Burnin = 0.2, p.Data.Len(), 4, 100, 10
	_, err := Run(context.Background(), p, nil, &s)
	if fe := field.As(err); fe == nil || fe.Key != "batch" {
		t.Fatalf("B = N without replacement: error %v, want a usage error of --batch", err)
	}
}

// Item 9 of issue 12: at an interpolating minimum (targets exactly linear in the features, so
// every g_i vanishes at θ* in exact arithmetic) the noise is round-off: every verdict is
// inconclusive, with the reason, and a warning says so.
func TestRunRoundoffNoise(t *testing.T) {
	p := testproblem.Load(t, "diabetes", "linreg", 0)
	n, f := p.Data.X.Dims()
	for i := 0; i < n; i++ {
		var y float64
		for j := 0; j < f; j++ {
			y += p.Data.X.At(i, j) * float64(j+1) / 10
		}
		p.Data.Y[i] = y
		p.Batch.Y[i] = y
	}
	s := DefaultSettings()
	s.LR, s.Batch, s.Chains, s.Steps, s.Burnin = 0.2, 16, 4, 200, 50
	r, err := Run(context.Background(), p, nil, &s)
	if err != nil {
		t.Fatal(err)
	}
	for name, pr := range r.Predictions {
		if pr.Consistent != nil || pr.Verdict != VerdictInconclusive || !strings.Contains(pr.Reason, "round-off") && pr.Cov != nil {
			t.Errorf("%s: verdict %q consistent %v (%s) at an interpolating minimum", name, pr.Verdict, pr.Consistent, pr.Reason)
		}
	}
}

// Item 10 of issue 12: cov_stderr is the standard error of each entry of the covariance in
// the parameter basis, so every entry is ≥ 0; it equals the between-chain standard error of
// the per-chain covariances rotated to the parameter basis, computed by a naive loop.
func TestRunCovStderr(t *testing.T) {
	p := testproblem.Load(t, "diabetes", "linreg", 0)
	s := DefaultSettings()
	s.LR, s.Batch, s.Chains, s.Steps, s.Burnin = 0.2, 16, 4, 400, 100
	r, err := Run(context.Background(), p, nil, &s)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range r.CovStderr.Rows {
		for j, v := range row {
			if !(v >= 0) {
				t.Fatalf("cov_stderr[%d][%d] = %v: a standard error must be ≥ 0", i, j, v)
			}
		}
	}
}

// chainCovSE against a naive loop: rotate each chain's covariance, then the between-chain
// standard deviation (divisor K − 1) over √K per entry.
func TestChainCovSE(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	K, k, d := 5, 2, 3
	covs := make([]*mat.SymDense, K)
	for c := range covs {
		a := mat.NewDense(k, k, nil)
		for i := 0; i < k; i++ {
			for j := 0; j < k; j++ {
				a.Set(i, j, rng.NormFloat64())
			}
		}
		covs[c] = mat.NewSymDense(k, nil)
		covs[c].SymOuterK(1, a)
	}
	var qr mat.QR
	g := mat.NewDense(d, k, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < k; j++ {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	qr.Factorize(g)
	var qf mat.Dense
	qr.QTo(&qf)
	v := mat.DenseCopyOf(qf.Slice(0, d, 0, k))
	got := chainCovSE(covs, v)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			vals := make([]float64, K)
			var mean float64
			for c := range covs {
				for a := 0; a < k; a++ {
					for b := 0; b < k; b++ {
						vals[c] += v.At(i, a) * covs[c].At(a, b) * v.At(j, b)
					}
				}
				mean += vals[c] / float64(K)
			}
			var ss float64
			for _, x := range vals {
				ss += (x - mean) * (x - mean)
			}
			want := math.Sqrt(ss / float64(K-1) / float64(K))
			if math.Abs(got.At(i, j)-want) > 1e-12 {
				t.Errorf("(%d,%d): %v, naive %v", i, j, got.At(i, j), want)
			}
		}
	}
}

// Item 10 of issue 12: --lanczos-tol is a verify flag, validated (a usage error of
// lanczos-tol), and a Lanczos run that does not reach it is a warning, not an error: on
// digits with mlp:8 (d = 610 > 500, top-k basis) with an unreachable tolerance 1e-300, Run
// returns a report with the warning.
func TestRunLanczosTolerance(t *testing.T) {
	s := DefaultSettings()
	s.LR, s.Batch, s.LanczosTol = 0.1, 8, -1
	if fe := field.As(s.Validate()); fe == nil || fe.Key != "lanczos-tol" {
		t.Fatalf("--lanczos-tol -1: %v", s.Validate())
	}
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	s = DefaultSettings()
	s.BindFlags(fs)
	if err := fs.Parse([]string{"--lanczos-tol", "1e-300"}); err != nil || s.LanczosTol != 1e-300 {
		t.Fatalf("--lanczos-tol 1e-300: %v, %v", err, s.LanczosTol)
	}
	p := testproblem.Load(t, "digits", "mlp:8", 1e-3)
	if d := p.Model.NumParams(); d <= 500 {
		t.Fatalf("d = %d: not a top-k problem", d)
	}
	s.LR, s.Batch, s.Chains, s.Steps, s.Burnin, s.TopK = 0.05, 32, 3, 20, 5, 5
	r, err := Run(context.Background(), p, nil, &s)
	if err != nil {
		t.Fatalf("a Lanczos tolerance not reached must be a warning: %v", err)
	}
	found := false
	for _, w := range r.Warnings {
		found = found || strings.Contains(w, "Lanczos")
	}
	if !found {
		t.Errorf("no Lanczos warning: %q", r.Warnings)
	}
}

// TestRunGOMAXPROCS: the kept samples go through the projection Vᵀ(θ − θ*) (here in the
// full Hessian eigenbasis of iris mlp:4, d = 35), called from every chain's goroutine with a
// pooled buffer; the report's JSON is the same bytes under GOMAXPROCS 1 and 4.
func TestRunGOMAXPROCS(t *testing.T) {
	p := testproblem.Load(t, "iris", "mlp:4", 1e-2)
	s := DefaultSettings()
	s.LR, s.Batch, s.Chains, s.Steps, s.Burnin, s.Method = 0.1, 16, 8, 2000, 400, sim.SGD
	s.Inverse.Damping = 1e-6
	var outs [][]byte
	for _, procs := range []int{1, 4} {
		prev := runtime.GOMAXPROCS(procs)
		r, err := Run(context.Background(), p, nil, &s)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("verify's output differs between GOMAXPROCS 1 and 4")
	}
}
