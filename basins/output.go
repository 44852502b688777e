package basins

import (
	"fmt"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
)

// Float is a JSON number written as null when it is not finite.
type Float = jsonnum.Float

// Output is the result of a basins sweep (basins --json). The caller sets Provenance.
type Output struct {
	Data        string  `json:"data"`
	Model       string  `json:"model"`
	N           int     `json:"n"`
	D           int     `json:"d"`
	WeightDecay float64 `json:"weight_decay"`
	Sampling    string  `json:"sampling"`
	Epochs      float64 `json:"epochs"`
	GDSteps     int     `json:"gd_steps,omitempty"`
	GradTol     float64 `json:"grad_tol"`
	TopK        int     `json:"top_k"`
	// TraceMethod states tr H's estimator: "exact" (d HVPs) or "hutchinson" (Probes
	// Rademacher probes, trace_h_stderr its standard error).
	TraceMethod string      `json:"trace_method"`
	Probes      int         `json:"probes,omitempty"`
	HasTest     bool        `json:"has_test"`
	Runs        []RunResult `json:"runs"`
	// Barriers are the straight-line loss barriers between the minima of every pair of cells
	// of the same seed (the training objective L, weight decay included).
	Barriers      []Barrier `json:"barriers"`
	BarrierPoints int       `json:"barrier_points"`
	Summary       Summary   `json:"summary"`
	// Notes state the estimators and conventions; Warnings what went wrong.
	Notes      []string           `json:"notes"`
	Warnings   []string           `json:"warnings"`
	Provenance problem.Provenance `json:"provenance"`
}

// RunResult is one (η, B, seed) run, or one GD run (GD true, Batch N), measured at the minimum its
// descent reached.
type RunResult struct {
	LR    Float  `json:"lr"`
	Batch int    `json:"batch"`
	Seed  uint64 `json:"seed"`
	GD    bool   `json:"gd"`
	Ratio Float  `json:"ratio"` // η/B
	Steps int    `json:"steps"` // training steps before the descent
	// LambdaMax is the largest Hessian eigenvalue at the minimum, beside 2/η (GD's edge of
	// stability, Cohen et al. 2021).
	LambdaMax        Float   `json:"lambda_max"`
	TwoOverLR        Float   `json:"two_over_lr"`
	LanczosConverged bool    `json:"lanczos_converged"`
	TraceH           Float   `json:"trace_h"`
	TraceHStderr     Float   `json:"trace_h_stderr"` // null when exact
	TopEigenvalues   []Float `json:"top_eigenvalues"`
	SumLogTop        Float   `json:"sum_log_top"` // Σ log h_k over the top k; null if one is ≤ 0
	// NoiseTop is c_k = v_kᵀC_Bv_k along the top eigenvectors (SGD's own κ_B; 0 for GD) and
	// PriorPrecisionTop the note's implied prior precision there, 2h_k/(ηc_k) − N(h_k − λ)
	// (seed variant per direction; null for GD).
	NoiseTop          []Float `json:"noise_top"`
	PriorPrecisionTop []Float `json:"prior_precision_top"`
	// Losses are mean NLLs (no weight decay); Objective is L with it. Accuracies and test
	// numbers are null when they do not apply.
	Objective Float `json:"objective"`
	TrainLoss Float `json:"train_loss"`
	TestLoss  Float `json:"test_loss"`
	TrainAcc  Float `json:"train_acc"`
	TestAcc   Float `json:"test_acc"`
	GenGap    Float `json:"gen_gap"`   // test_loss − train_loss
	ErrorGap  Float `json:"error_gap"` // train_acc − test_acc
	// IterateLambdaMax is λ_max at the last training iterate θ_T (before the descent; GD's
	// edge of stability puts it near 2/η, Cohen et al. 2021).
	IterateLambdaMax        Float `json:"iterate_lambda_max"`
	IterateLanczosConverged bool  `json:"iterate_lanczos_converged"`
	// The losses and accuracies at the last iterate θ_T (the model training returns), as
	// the ones above at the minimum.
	IterateTrainLoss Float `json:"iterate_train_loss"`
	IterateTestLoss  Float `json:"iterate_test_loss"`
	IterateTrainAcc  Float `json:"iterate_train_acc"`
	IterateTestAcc   Float `json:"iterate_test_acc"`
	// PreDescentLoss is L at the last training iterate; GradNorm ‖∇L‖ at the minimum and
	// Converged whether it is ≤ grad_tol; Distance ‖θ_min − θ_0‖, DescentDistance
	// ‖θ_min − θ_T‖ (how far the descent moved).
	PreDescentLoss  Float `json:"pre_descent_loss"`
	GradNorm        Float `json:"grad_norm"`
	Converged       bool  `json:"converged"`
	Distance        Float `json:"distance"`
	DescentDistance Float `json:"descent_distance"`
}

// Barrier is the straight-line barrier between the minima of cells A and B of one seed.
type Barrier struct {
	Seed    uint64 `json:"seed"`
	A       string `json:"a"`
	B       string `json:"b"`
	Barrier Float  `json:"barrier"`
	TMax    Float  `json:"t_max"`
}

// Summary holds the comparisons across runs.
type Summary struct {
	SharpnessTestErrorRankCorr RankCorr `json:"sharpness_test_error_rank_corr"`
	// IterateSharpnessTestErrorRankCorr is the same between λ_max and the test error both
	// at the last iterate θ_T, the model training returns (Keskar et al. 2017's setting).
	IterateSharpnessTestErrorRankCorr RankCorr         `json:"iterate_sharpness_test_error_rank_corr"`
	ByRatio                           []Ratio          `json:"by_ratio"`
	EqualRatio                        []Comparison     `json:"equal_ratio"`
	SGDvsGD                           []Comparison     `json:"sgd_vs_gd"`
	BarrierPairs                      []BarrierSummary `json:"barrier_pairs"`
}

// RankCorr is Spearman's ρ between λ_max and Target over all runs, with its percentile
// bootstrap interval over seeds (Level; cells of a seed resampled together).
type RankCorr struct {
	Rho            Float   `json:"rho"`
	CILow          Float   `json:"ci_low"`
	CIHigh         Float   `json:"ci_high"`
	Target         string  `json:"target"`
	Runs           int     `json:"runs"`
	Resamples      int     `json:"resamples"`
	ValidResamples int     `json:"valid_resamples"`
	Level          float64 `json:"level"`
}

// Ratio is λ_max at one η/B (SGD cells only): per seed the mean over the cells of that ratio,
// then the mean and standard error over seeds.
type Ratio struct {
	Ratio           Float `json:"ratio"`
	LambdaMaxMean   Float `json:"lambda_max_mean"`
	LambdaMaxStderr Float `json:"lambda_max_stderr"`
	// The same for λ_max at the last iterate (before the descent).
	IterateLambdaMaxMean   Float    `json:"iterate_lambda_max_mean"`
	IterateLambdaMaxStderr Float    `json:"iterate_lambda_max_stderr"`
	Seeds                  int      `json:"seeds"`
	Cells                  []string `json:"cells"`
}

// Comparison is a paired comparison over seeds of Quantity between cells A and B: the mean
// difference A − B, its standard error and Student-t interval, and a verdict that is
// "inconclusive" when the interval contains 0.
type Comparison struct {
	A        string `json:"a"`
	B        string `json:"b"`
	Quantity string `json:"quantity"`
	Seeds    int    `json:"seeds"`
	MeanDiff Float  `json:"mean_diff"`
	Stderr   Float  `json:"stderr"`
	CILow    Float  `json:"ci_low"`
	CIHigh   Float  `json:"ci_high"`
	Verdict  string `json:"verdict"`
}

// BarrierSummary is the mean barrier between two cells over seeds, with its standard error.
type BarrierSummary struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Mean   Float  `json:"mean"`
	Stderr Float  `json:"stderr"`
	Max    Float  `json:"max"`
	Seeds  int    `json:"seeds"`
}

// Write writes o, indented, to path atomically.
func (o *Output) Write(path string) error { return atomicfile.WriteJSON(path, o) }

// ReadOutput reads an Output written by Write.
func ReadOutput(path string) (*Output, error) {
	var o Output
	if err := atomicfile.ReadJSON(path, &o); err != nil {
		return nil, fmt.Errorf("basins: %w", err)
	}
	return &o, nil
}
