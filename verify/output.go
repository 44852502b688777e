package verify

import (
	"path/filepath"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
)

type (
	jsonFloat  = jsonnum.Float
	jsonMatrix = jsonnum.Matrix
)

// inlineMax is the largest dimension of a matrix written inline in the JSON output; larger
// ones go to .npy files beside it.
const inlineMax = 500

// Report is the result of Run and the --json output of verify (its keys are an interface).
// It reads back what it writes: matrices too large to be inline are the names of .npy files
// beside the JSON file (relative to its directory), null numbers read as NaN.
type Report struct {
	Chains    int     `json:"chains"`
	Steps     int     `json:"steps"`
	Burnin    int     `json:"burnin"`
	Thin      int     `json:"thin"`
	Samples   int     `json:"samples"`
	Simulator string  `json:"simulator"`
	DT        float64 `json:"dt,omitempty"`
	Sampling  string  `json:"sampling"`
	LR        float64 `json:"lr"`
	Batch     int     `json:"batch"`
	Kappa     float64 `json:"kappa"`
	N         int     `json:"n"`
	D         int     `json:"d"`
	// Basis is "full" (every positive-curvature direction; matrices in the parameter basis) or
	// "hessian-top-k" (matrices in the comparison basis).
	Basis    string         `json:"basis"`
	BasisDim int            `json:"basis_dim"`
	Removed  map[string]int `json:"removed_directions"`
	// Mean is the measured stationary mean (in the parameter basis for a full basis, else the
	// basis coordinates relative to θ*); Cov and CovStderr the measured covariance and its
	// standard error.
	Mean      []jsonnum.Float `json:"mean"`
	Cov       *jsonnum.Matrix `json:"cov"`
	CovStderr *jsonnum.Matrix `json:"cov_stderr"`
	// Converged says whether the run meets the convergence criterion (Convergence; MATH.md
	// §7.1): without it every verdict is inconclusive. RHatMax is the largest split-R̂ over
	// the basis directions, ESSMin the smallest ESS (bulk or of the squared deviations).
	Converged   bool          `json:"converged"`
	RHatMax     jsonnum.Float `json:"rhat_max"`
	ESSMin      jsonnum.Float `json:"ess_min"`
	Convergence Convergence   `json:"convergence"`
	// Starts says where the chains started ("overdispersed": θ* + V x_c, x_c ~ N(0, 4Σ_ref)
	// with Σ_ref the named prediction; or "theta*").
	Starts      string                `json:"starts"`
	Directions  []Direction           `json:"directions"`
	Predictions map[string]PredResult `json:"predictions"`
	Cloud       *Cloud                `json:"cloud,omitempty"`
	// Provenance is set by the caller.
	Provenance problem.Provenance `json:"provenance"`
	Warnings   []string           `json:"warnings"`

	// Comparisons are Compare's results in the order of the predictions (set by Run; not part
	// of the JSON).
	Comparisons []Comparison `json:"-"`

	// npy holds the matrices that Write puts in .npy files.
	npy []npyMatrix
}

type npyMatrix struct {
	name string
	m    *mat.SymDense
	dst  *jsonnum.Matrix
}

// Direction is the measurement along one comparison-basis direction: its curvature, the
// measured variance and its standard error, the ratio to each prediction's variance (with
// standard error), split-R̂ and bulk ESS.
type Direction struct {
	H       jsonnum.Float            `json:"h"`
	Var     jsonnum.Float            `json:"var"`
	VarSE   jsonnum.Float            `json:"var_stderr"`
	Ratio   map[string]jsonnum.Float `json:"ratio"`
	RatioSE map[string]jsonnum.Float `json:"ratio_stderr"`
	RHat    jsonnum.Float            `json:"rhat"`
	ESS     jsonnum.Float            `json:"ess"`
	ESSSq   jsonnum.Float            `json:"ess_sq"`
}

// PredResult is the judgement of one prediction (Compare's Comparison): its covariance
// (null when there is none, with Why), the errors, and the verdict of the covariance test at
// level Alpha (MATH.md §7.2) with the reason, the bias-corrected effect size and the
// smallest detectable scale error. Consistent is Verdict == "holds", null when inconclusive.
type PredResult struct {
	Cov                *jsonnum.Matrix `json:"cov"`
	RelFrobenius       jsonnum.Float   `json:"rel_frobenius"`
	KL                 jsonnum.Float   `json:"kl"`
	ScoreError         jsonnum.Float   `json:"score_error"`
	MaxAbsT            jsonnum.Float   `json:"max_abs_t"`
	Verdict            string          `json:"verdict"`
	Reason             string          `json:"reason"`
	Effect             Effect          `json:"effect"`
	DetectableRelError jsonnum.Float   `json:"detectable_rel_error"`
	// DetectableRotationDeg is the smallest rotation (degrees) in the plane of the two
	// leading predicted axes detected with power 0.8 (null when not defined).
	DetectableRotationDeg jsonnum.Float `json:"detectable_rotation_deg"`
	// Rank is the dimension of the range of the prediction the test is made on; F, Critical
	// and PValue the statistic, its 1 − α critical value and p-value; NullFraction (with its
	// standard error) the measured variance outside the range, as a fraction of the total.
	Rank           int           `json:"rank"`
	F              jsonnum.Float `json:"f"`
	Critical       jsonnum.Float `json:"critical"`
	PValue         jsonnum.Float `json:"p_value"`
	NullFraction   jsonnum.Float `json:"null_fraction"`
	NullFractionSE jsonnum.Float `json:"null_fraction_stderr"`
	Consistent     *bool         `json:"consistent"`
	Test           string        `json:"test"`
	Alpha          float64       `json:"alpha"`
	Why            string        `json:"why,omitempty"`
}

// Effect is the bias-corrected relative error of a prediction, √(max(0, T − tr Σ̂_D)/r),
// with its 1 − α lower and upper confidence bounds (MATH.md §7.2).
type Effect struct {
	RelError jsonnum.Float `json:"rel_error"`
	CILow    jsonnum.Float `json:"ci_low"`
	CIHigh   jsonnum.Float `json:"ci_high"`
}

// Cloud is the stationary cloud in the plane of the two sharpest comparison-basis
// directions (coordinates relative to θ*): up to 2000 kept samples spread over the chains,
// their measured mean and covariance, and the leading 2×2 block of each prediction.
type Cloud struct {
	X           []jsonnum.Float              `json:"x"`
	Y           []jsonnum.Float              `json:"y"`
	Mean        []jsonnum.Float              `json:"mean"`
	Cov         [][]jsonnum.Float            `json:"cov"`
	Predictions map[string][][]jsonnum.Float `json:"predictions"`
}

// matrix returns the output matrix of m: inline when its dimension is at most inlineMax,
// otherwise null until Write puts it in the .npy file "<json stem>-<name>.npy". nil for nil.
func (r *Report) matrix(name string, m *mat.SymDense) *jsonnum.Matrix {
	if m == nil {
		return nil
	}
	if m.SymmetricDim() <= inlineMax {
		return jsonnum.NewMatrix(m)
	}
	out := &jsonnum.Matrix{}
	r.npy = append(r.npy, npyMatrix{name: name, m: m, dst: out})
	return out
}

// Write writes the matrices too large to be inline to .npy files beside jsonPath
// ("<stem>-<name>.npy", named in the JSON relative to its directory), then the JSON file,
// atomically.
func (r *Report) Write(jsonPath string) error {
	for _, f := range r.npy {
		path := strings.TrimSuffix(jsonPath, filepath.Ext(jsonPath)) + "-" + f.name + ".npy"
		if err := data.WriteMatrix(path, f.m); err != nil {
			return err
		}
		f.dst.File = filepath.Base(path)
	}
	return atomicfile.WriteJSON(jsonPath, r)
}
