package track

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
)

// Row is one recorded step (docs/MATH.md §11). Null (NaN) means not computed or undefined:
// test columns without a test set, accuracies for regression, the prior score where C_B
// cannot be inverted as asked, Yaida's ratio at step 0.
type Row struct {
	Step int `json:"step"`
	// TrainLoss is the mean NLL on the training data (Objective adds the weight decay);
	// TestLoss the mean NLL on the test set.
	TrainLoss jsonnum.Float `json:"train_loss"`
	TestLoss  jsonnum.Float `json:"test_loss"`
	TrainAcc  jsonnum.Float `json:"train_acc"`
	TestAcc   jsonnum.Float `json:"test_acc"`
	Objective jsonnum.Float `json:"objective"`
	// GradNorm is ‖∇L‖ of the full-batch objective (weight decay included).
	GradNorm jsonnum.Float `json:"grad_norm"`
	// TraceC is tr C (population convention) from the covariance examples, with its SE
	// (0 when all N are used); NoiseScale is tr C/‖ḡ‖² (McCandlish et al. 2018).
	TraceC       jsonnum.Float `json:"trace_c"`
	TraceCStderr jsonnum.Float `json:"trace_c_stderr"`
	NoiseScale   jsonnum.Float `json:"noise_scale"`
	// LambdaMax is the largest eigenvalue of H (Lanczos on HVPs); compare with 2/η.
	LambdaMax jsonnum.Float `json:"lambda_max"`
	// TraceH is tr H (exact for d ≤ exact-trace-max-dim, else Hutchinson) with its SE.
	TraceH       jsonnum.Float `json:"trace_h"`
	TraceHStderr jsonnum.Float `json:"trace_h_stderr"`
	// TraceHC is Tr(H C_B) = κ_B Tr(HC), with its SE; Alignment d·Tr(HC)/(tr H·tr C).
	TraceHC       jsonnum.Float `json:"trace_hc"`
	TraceHCStderr jsonnum.Float `json:"trace_hc_stderr"`
	Alignment     jsonnum.Float `json:"alignment"`
	// PriorNorm is ‖s_prior‖, PriorCos its cosine with −∇L, ImplicitNorm ‖s_prior + N∇r‖ and
	// ImplicitRatio ‖implicit‖/‖s_lik‖ (MATH.md §4).
	PriorNorm     jsonnum.Float `json:"prior_norm"`
	PriorCos      jsonnum.Float `json:"prior_cos"`
	ImplicitNorm  jsonnum.Float `json:"implicit_norm"`
	ImplicitRatio jsonnum.Float `json:"implicit_ratio"`
	// FDRRatio is Yaida's ratio over the FDRSteps steps since the previous row, FDRIdentity
	// the same number from the window's displacement (equal to round-off).
	FDRRatio    jsonnum.Float `json:"fdr_ratio"`
	FDRIdentity jsonnum.Float `json:"fdr_identity"`
	FDRSteps    int           `json:"fdr_steps"`
	// Distance is ‖θ − θ0‖.
	Distance jsonnum.Float `json:"distance"`
}

// Output is the JSON of a track run. The caller sets Provenance.
type Output struct {
	Model       string        `json:"model"`
	Data        string        `json:"data"`
	N           int           `json:"n"`
	D           int           `json:"d"`
	HasTest     bool          `json:"has_test"`
	LR          jsonnum.Float `json:"lr"`
	TwoOverLR   jsonnum.Float `json:"two_over_lr"`
	Batch       int           `json:"batch"`
	Sampling    string        `json:"sampling"`
	Kappa       jsonnum.Float `json:"kappa"`
	WeightDecay float64       `json:"weight_decay"`
	Steps       int           `json:"steps"`
	Every       int           `json:"every"`
	LogRows     int           `json:"log_rows"`
	Seed        uint64        `json:"seed"`
	// Methods states each estimator (MATH.md §11).
	Methods map[string]string `json:"methods"`
	// CovExamples is M; HCExamples the examples of Tr(HC) (M when exact); TraceProbes P
	// (0 when tr H is exact).
	CovExamples int     `json:"cov_examples"`
	HCExamples  int     `json:"hc_examples"`
	TraceProbes int     `json:"trace_probes"`
	Inverse     string  `json:"inverse"`
	Damping     float64 `json:"damping"`
	RCond       float64 `json:"rcond"`
	Rows        []Row   `json:"rows"`
	// Seconds is the run's wall time, DiagnosticsSeconds the rows' share of it. They are
	// printed by the command, not written: the JSON is byte-identical across runs of the
	// same settings (and a resumed study's outputs equal an uninterrupted one's).
	Seconds            float64            `json:"-"`
	DiagnosticsSeconds float64            `json:"-"`
	DiagnosticsShare   float64            `json:"-"`
	Provenance         problem.Provenance `json:"provenance"`
	Warnings           []string           `json:"warnings"`
	// Final is the last iterate θ_T (not in the JSON).
	Final []float64 `json:"-"`
}

func newOutput(p *problem.Problem, s *Settings, kappa float64) *Output {
	n, d := p.N(), p.D()
	m := s.CovExamples
	if m == 0 || m > n {
		m = n
	}
	o := &Output{Model: p.Model.Name(), Data: p.Data.Name, N: n, D: d, HasTest: p.HasTest(),
		LR: jsonnum.Float(s.LR), TwoOverLR: jsonnum.Float(2 / s.LR), Batch: s.Batch,
		Sampling: s.Sampling.String(), Kappa: jsonnum.Float(kappa), WeightDecay: p.Spec.WeightDecay,
		Steps: s.Steps, Every: s.Every, LogRows: s.LogRows, Seed: s.Seed,
		CovExamples: m, HCExamples: min(s.HCExamples, m), TraceProbes: s.TraceProbes,
		Damping: s.Inverse.Damping, RCond: s.Inverse.RCond, Warnings: []string{}}
	switch {
	case s.Inverse.Damping > 0:
		o.Inverse = "damped"
	case s.Inverse.Range:
		o.Inverse = "range"
	default:
		o.Inverse = "exact"
	}
	sub := "all N examples (population C, SE 0)"
	if m < n {
		sub = fmt.Sprintf("a seeded subset of M = %d of the N = %d examples (without replacement; SE with the finite-population correction)", m, n)
	}
	o.Methods = map[string]string{
		"trace_c":    "mean of ‖g_i − ḡ‖² over " + sub + ", ḡ the full-batch mean gradient",
		"lambda_max": fmt.Sprintf("Lanczos on exact Hessian–vector products of the objective (at most %d iterations, tolerance %g)", min(d, s.LanczosIter), s.LanczosTol),
		"fdr_ratio":  "Yaida (2019): Σ_k (θ_k − θ_t0)·g_k / ((η/2) Σ_k ‖g_k‖²) over the steps since the previous row, g_k the step's own mini-batch gradient with weight decay; = 1 − ‖θ_t1 − θ_t0‖²/(η²Σ‖g_k‖²); → 1 at stationarity (a necessary condition), ≪ 1 during descent",
		"prior":      "s_prior = −(2/η)C_B⁻¹∇L + Nḡ (MATH.md §4) with C_B = κ_B C from the covariance examples, inverse " + o.Inverse + invMethod(d, s),
	}
	if d <= s.ExactTraceMaxDim {
		o.TraceProbes = 0
		o.HCExamples = m
		o.Methods["trace_h"] = "exact: the trace of the dense Hessian (d HVPs with unit vectors)"
		o.Methods["trace_hc"] = "κ_B × mean of (g_i − ḡ)ᵀH(g_i − ḡ) with the dense H, over " + sub
	} else {
		o.Methods["trace_h"] = fmt.Sprintf("Hutchinson: mean of zᵀHz over %d Rademacher probes, SE = sample SD/√%d", s.TraceProbes, s.TraceProbes)
		o.Methods["trace_hc"] = fmt.Sprintf("κ_B × mean of (g_i − ḡ)ᵀH(g_i − ḡ) by HVPs over %d of the covariance examples (a random subset), SE with the finite-population correction", o.HCExamples)
	}
	if s.NoPrior {
		o.Methods["prior"] = "not computed (--no-prior)"
	}
	return o
}

func invMethod(d int, s *Settings) string {
	if d <= s.DenseMaxDim {
		return " (dense d×d)"
	}
	return " (Woodbury on the d×M noise factor)"
}

// Write writes o, indented, to path atomically.
func (o *Output) Write(path string) error { return atomicfile.WriteJSON(path, o) }

// ReadOutput reads an Output written by Write.
func ReadOutput(path string) (*Output, error) {
	var o Output
	if err := atomicfile.ReadJSON(path, &o); err != nil {
		return nil, fmt.Errorf("track: %w", err)
	}
	return &o, nil
}

// CSVColumns are the columns of WriteCSV, the rows' JSON keys in order.
var CSVColumns = []string{"step", "train_loss", "test_loss", "train_acc", "test_acc", "objective",
	"grad_norm", "trace_c", "trace_c_stderr", "noise_scale", "lambda_max", "trace_h", "trace_h_stderr",
	"trace_hc", "trace_hc_stderr", "alignment", "prior_norm", "prior_cos", "implicit_norm",
	"implicit_ratio", "fdr_ratio", "fdr_identity", "fdr_steps", "distance"}

// values returns a row's CSV cells in CSVColumns order (NaN as the empty cell).
func (r *Row) values() []string {
	f := func(x jsonnum.Float) string {
		if !x.OK() {
			return ""
		}
		return strconv.FormatFloat(float64(x), 'g', -1, 64)
	}
	return []string{strconv.Itoa(r.Step), f(r.TrainLoss), f(r.TestLoss), f(r.TrainAcc), f(r.TestAcc),
		f(r.Objective), f(r.GradNorm), f(r.TraceC), f(r.TraceCStderr), f(r.NoiseScale), f(r.LambdaMax),
		f(r.TraceH), f(r.TraceHStderr), f(r.TraceHC), f(r.TraceHCStderr), f(r.Alignment), f(r.PriorNorm),
		f(r.PriorCos), f(r.ImplicitNorm), f(r.ImplicitRatio), f(r.FDRRatio), f(r.FDRIdentity),
		strconv.Itoa(r.FDRSteps), f(r.Distance)}
}

// WriteCSV writes the rows as CSV (a header of CSVColumns; null as an empty cell) to path
// atomically.
func (o *Output) WriteCSV(path string) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(CSVColumns); err != nil {
			return err
		}
		for i := range o.Rows {
			if err := cw.Write(o.Rows[i].values()); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}
