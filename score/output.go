package score

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/stationary"
)

// DefaultInlineMaxDim is the largest d whose d×d covariances Output.Write puts inline in the
// JSON; larger ones go to .npy files beside it.
const DefaultInlineMaxDim = 500

// Output is the JSON output of a score computation (`sgdprior score --json`), and reads it
// back: its keys are an interface, keep them. Numbers that are not finite are written as
// null (and read back as NaN); every unexpected one is named in Warnings.
type Output struct {
	N                   int                `json:"n"`
	D                   int                `json:"d"`
	LR                  float64            `json:"lr"`
	Batch               int                `json:"batch"`
	Sampling            string             `json:"sampling"`
	Kappa               jsonnum.Float      `json:"kappa"`
	Damping             float64            `json:"damping"`
	Inverse             string             `json:"inverse"`
	RCond               float64            `json:"rcond"`
	Solver              string             `json:"solver"`
	SolverChoice        string             `json:"solver_choice,omitempty"`
	CG                  *OutputCG          `json:"cg,omitempty"`
	CovExamples         int                `json:"cov_examples"`
	Subset              []int              `json:"subset,omitempty"`
	Loss                *jsonnum.Float     `json:"loss,omitempty"`
	GradNorm            jsonnum.Float      `json:"grad_norm"`
	AtMinimum           bool               `json:"at_minimum"`
	Noise               OutputNoise        `json:"noise"`
	Vectors             OutputVectors      `json:"vectors"`
	Diagnostics         OutputDiagnostics  `json:"diagnostics"`
	Gaussian            *OutputGaussian    `json:"gaussian,omitempty"`
	OptimalLR           jsonnum.Float      `json:"optimal_lr"`
	ImplicitRegularizer jsonnum.Float      `json:"implicit_regularizer"`
	Input               *GradsInput        `json:"input,omitempty"`
	Provenance          problem.Provenance `json:"provenance"`
	Warnings            []string           `json:"warnings"`

	// InlineMaxDim is the largest d whose d×d covariances Write puts inline (NewOutput sets
	// DefaultInlineMaxDim).
	InlineMaxDim int `json:"-"`

	// rep holds the covariances Write renders (nil once rendered, or when read from JSON).
	rep *Report
}

// OutputCG is the "cg" object: the damped CG solver's solves (Report.CG).
type OutputCG struct {
	Preconditioner         string        `json:"preconditioner"`
	PreconditionerExamples int           `json:"preconditioner_examples"`
	Shift                  jsonnum.Float `json:"shift"`
	EffectiveDim           jsonnum.Float `json:"effective_dim"`
	EffectiveDimSE         jsonnum.Float `json:"effective_dim_se"`
	Tol                    float64       `json:"tol"`
	Solves                 int           `json:"solves"`
	Iterations             []int         `json:"iterations"`
	TotalIterations        int           `json:"total_iterations"`
	MaxResidual            jsonnum.Float `json:"max_residual"`
	RitzMin                jsonnum.Float `json:"ritz_min"`
	RitzMax                jsonnum.Float `json:"ritz_max"`
	Condition              jsonnum.Float `json:"condition_estimate"`
}

// OutputNoise is the "noise" object: the gradient noise (Report.Noise).
type OutputNoise struct {
	Trace          jsonnum.Float   `json:"trace"`
	TraceBatch     jsonnum.Float   `json:"trace_batch"`
	Rank           int             `json:"rank"`
	RankEstimated  bool            `json:"rank_estimated"`
	RankMethod     string          `json:"rank_method"`
	TopEigenvalues []jsonnum.Float `json:"top_eigenvalues"`
	EigenMethod    string          `json:"eigen_method"`
	NoiseScale     jsonnum.Float   `json:"noise_scale"`
}

// OutputVectors is the "vectors" object: the note's vectors (Report.Vectors).
type OutputVectors struct {
	Grad                   []jsonnum.Float `json:"grad"`
	StationaryScore        []jsonnum.Float `json:"stationary_score"`
	LikelihoodScore        []jsonnum.Float `json:"likelihood_score"`
	PriorScore             []jsonnum.Float `json:"prior_score"`
	StationaryScoreGeneral []jsonnum.Float `json:"stationary_score_general,omitempty"`
	DivergenceC            []jsonnum.Float `json:"divergence_c,omitempty"`
	ExplicitPriorScore     []jsonnum.Float `json:"explicit_prior_score,omitempty"`
	ImplicitPriorScore     []jsonnum.Float `json:"implicit_prior_score,omitempty"`
}

// OutputDiagnostics is the "diagnostics" object: the checks of the note's assumptions
// (Report.Diagnostics).
type OutputDiagnostics struct {
	// RoundoffFloor is the round-off floor of ∇L (MATH.md §2), RoundoffMethod how tr H was
	// found; AtCriticalPoint is ‖∇L‖ ≤ RoundoffFloor.
	RoundoffFloor   jsonnum.Float `json:"roundoff_floor"`
	RoundoffMethod  string        `json:"roundoff_method,omitempty"`
	AtCriticalPoint bool          `json:"at_critical_point"`
	// ImplicitBound bounds the computed implicit part of the prior score at a critical
	// point, where it is 0 in exact arithmetic (null elsewhere); ImplicitNote says so.
	ImplicitBound *jsonnum.Float `json:"implicit_prior_bound,omitempty"`
	ImplicitNote  string         `json:"implicit_prior_note,omitempty"`
	// RangeFraction is null unless computed (the range pseudo-inverse, ‖∇L‖ above the
	// round-off floor); RangeFractionNote says why it is null.
	RangeFraction       jsonnum.Float   `json:"range_fraction"`
	RangeFractionNote   string          `json:"range_fraction_note,omitempty"`
	AsymmetryNoteSE     *jsonnum.Float  `json:"asymmetry_seed_stderr,omitempty"`
	AsymmetryGeneralSE  *jsonnum.Float  `json:"asymmetry_general_stderr,omitempty"`
	NoiseKurtosisExact  []jsonnum.Float `json:"noise_kurtosis_exact,omitempty"`
	Ladder              []OutputRung    `json:"regularisation_ladder,omitempty"`
	Commutator          *jsonnum.Float  `json:"commutator,omitempty"`
	CommutatorMethod    string          `json:"commutator_method,omitempty"`
	AsymmetryNote       *jsonnum.Float  `json:"asymmetry_seed,omitempty"`
	AsymmetryGeneral    *jsonnum.Float  `json:"asymmetry_general,omitempty"`
	AsymmetryMethod     string          `json:"asymmetry_method,omitempty"`
	DivergenceRatio     *jsonnum.Float  `json:"divergence_ratio"`
	DivergenceNorm      *jsonnum.Float  `json:"divergence_norm,omitempty"`
	DivergenceMethod    string          `json:"divergence_method,omitempty"`
	DivergenceNormSE    *jsonnum.Float  `json:"divergence_norm_stderr,omitempty"`
	DivergenceRatioSE   *jsonnum.Float  `json:"divergence_ratio_stderr,omitempty"`
	DivergenceShiftSE   *jsonnum.Float  `json:"divergence_shift_stderr,omitempty"`
	NoiseKurtosis       []jsonnum.Float `json:"noise_kurtosis,omitempty"`
	NoiseKurtosisStderr []jsonnum.Float `json:"noise_kurtosis_stderr,omitempty"`
	NoiseTailIndex      []jsonnum.Float `json:"noise_tail_index,omitempty"`
	NoiseVariance       []jsonnum.Float `json:"noise_variance,omitempty"`
	NoiseMethod         string          `json:"noise_method,omitempty"`
}

// OutputRung is one rung of diagnostics.regularisation_ladder (LadderRung): damping λ, or
// rcond for the pseudo-inverse (range true).
type OutputRung struct {
	Damping         float64       `json:"damping"`
	Range           bool          `json:"range"`
	RCond           float64       `json:"rcond,omitempty"`
	User            bool          `json:"user"`
	DivergenceNorm  jsonnum.Float `json:"divergence_norm"`
	DivergenceRatio jsonnum.Float `json:"divergence_ratio"`
	DivergenceShift jsonnum.Float `json:"divergence_shift"`
	DivNormSE       jsonnum.Float `json:"divergence_norm_stderr"`
	DivRatioSE      jsonnum.Float `json:"divergence_ratio_stderr"`
	DivShiftSE      jsonnum.Float `json:"divergence_shift_stderr"`
	AsymmetryNote   jsonnum.Float `json:"asymmetry_seed"`
	AsymmetryNoteSE jsonnum.Float `json:"asymmetry_seed_stderr"`
	PriorMinEigNote jsonnum.Float `json:"prior_precision_min_eig_seed"`
	Note            string        `json:"note,omitempty"`
}

// OutputPriorMinEig is gaussian.prior_precision_min_eig: the smallest eigenvalue of each
// implied prior precision matrix (null where the matrix does not exist).
type OutputPriorMinEig struct {
	Note       *jsonnum.Float `json:"seed"`
	Continuous *jsonnum.Float `json:"continuous"`
	Discrete   *jsonnum.Float `json:"discrete"`
	Exact      *jsonnum.Float `json:"exact"`
}

// OutputPriorEigVectors is gaussian.prior_precision_min_eig_vector: the content of each
// smallest eigenvalue's eigenvector (PriorEig); absent where the matrix does not exist.
type OutputPriorEigVectors struct {
	Note       *OutputPriorEig `json:"seed,omitempty"`
	Continuous *OutputPriorEig `json:"continuous,omitempty"`
	Discrete   *OutputPriorEig `json:"discrete,omitempty"`
	Exact      *OutputPriorEig `json:"exact,omitempty"`
}

// OutputPriorEig is one PriorEig.
type OutputPriorEig struct {
	Hessian    jsonnum.Float   `json:"hessian"`
	HessianRel jsonnum.Float   `json:"hessian_rel"`
	Noise      jsonnum.Float   `json:"noise"`
	NoiseRel   jsonnum.Float   `json:"noise_rel"`
	Infinite   int             `json:"infinite_directions"`
	Weights    []jsonnum.Float `json:"weights"`
}

// OutputCoverage is gaussian.coverage (Coverage).
type OutputCoverage struct {
	K       int  `json:"directions"`
	D       int  `json:"d"`
	NoNoise int  `json:"noise_free"`
	Full    bool `json:"full"`
}

// OutputGaussian is the "gaussian" object: the predictions near a minimum
// (Report.Gaussian).
type OutputGaussian struct {
	// Basis is "parameters" when the covariances are d×d in the parameter basis, otherwise
	// the .npy file (beside the JSON) holding the d×k basis V whose span the k×k
	// covariances live in (Σ_parameters = V Σ Vᵀ).
	Basis    string `json:"basis"`
	BasisDim int    `json:"basis_dim"`
	Subspace bool   `json:"subspace"`
	// The covariances: inline rows, or the name of a .npy file beside the JSON; null when
	// not computed (or before Write).
	CovNote                *jsonnum.Matrix   `json:"cov_seed"`
	CovContinuous          *jsonnum.Matrix   `json:"cov_continuous"`
	CovDiscrete            *jsonnum.Matrix   `json:"cov_discrete"`
	CovPosterior           *jsonnum.Matrix   `json:"cov_posterior"`
	CovLinearExact         *jsonnum.Matrix   `json:"cov_linear_exact,omitempty"`
	NoteAsymmetry          jsonnum.Float     `json:"seed_asymmetry"`
	RemovedDirections      int               `json:"removed_directions"`
	FlatDirections         int               `json:"flat_directions"`
	NegativeDirections     int               `json:"negative_directions"`
	ExplicitPriorPrecision jsonnum.Float     `json:"explicit_prior_precision"`
	Directions             []OutputDirection `json:"directions"`
	// PriorMinEig, PriorMinEigVector and Coverage judge the implied prior as a matrix
	// (MATH.md §6).
	PriorMinEig       *OutputPriorMinEig     `json:"prior_precision_min_eig,omitempty"`
	PriorMinEigVector *OutputPriorEigVectors `json:"prior_precision_min_eig_vector,omitempty"`
	Coverage          *OutputCoverage        `json:"coverage,omitempty"`
}

// OutputDirection is one row of the per-direction table (Direction).
type OutputDirection struct {
	H              jsonnum.Float  `json:"h"`
	C              jsonnum.Float  `json:"c"`
	VarNote        jsonnum.Float  `json:"var_seed"`
	VarContinuous  jsonnum.Float  `json:"var_continuous"`
	VarDiscrete    jsonnum.Float  `json:"var_discrete"`
	VarPosterior   jsonnum.Float  `json:"var_posterior"`
	VarLinearExact *jsonnum.Float `json:"var_linear_exact,omitempty"`
	PriorPrecision OutputPrior    `json:"prior_precision"`
}

// OutputPrior holds a direction's implied prior precisions (PriorPrecision).
type OutputPrior struct {
	Note        jsonnum.Float  `json:"seed"`
	Continuous  jsonnum.Float  `json:"continuous"`
	Discrete    jsonnum.Float  `json:"discrete"`
	LinearExact *jsonnum.Float `json:"linear_exact,omitempty"`
}

// ByName returns the precisions keyed by prediction name, as the JSON object names them
// ("seed", "continuous", "discrete", and "linear_exact" when present).
func (p *OutputPrior) ByName() map[string]jsonnum.Float {
	m := map[string]jsonnum.Float{stationary.PredNote: p.Note, stationary.PredContinuous: p.Continuous, stationary.PredDiscrete: p.Discrete}
	if p.LinearExact != nil {
		m[stationary.PredLinearExact] = *p.LinearExact
	}
	return m
}

// GradsInput records the files of a bring-your-own-gradients run.
type GradsInput struct {
	Grads   string `json:"grads"`
	Hessian string `json:"hessian,omitempty"`
	Params  string `json:"params,omitempty"`
	Rows    int    `json:"rows"`
}

// nonFinite collects the names of unexpected non-finite numbers written as null.
type nonFinite struct {
	names []string
	count map[string]int
}

// f converts v, noting it when it is not finite and not expected to be.
func (nf *nonFinite) f(name string, v float64, expected bool) jsonnum.Float {
	if !expected && (math.IsNaN(v) || math.IsInf(v, 0)) {
		if nf.count == nil {
			nf.count = map[string]int{}
		}
		if nf.count[name] == 0 {
			nf.names = append(nf.names, name)
		}
		nf.count[name]++
	}
	return jsonnum.Float(v)
}

func (nf *nonFinite) vec(name string, v []float64) []jsonnum.Float {
	if v == nil {
		return nil
	}
	out := make([]jsonnum.Float, len(v))
	for i, x := range v {
		out[i] = nf.f(name, x, false)
	}
	return out
}

func (nf *nonFinite) ptr(name string, v *float64) *jsonnum.Float {
	if v == nil {
		return nil
	}
	f := nf.f(name, *v, false)
	return &f
}

func (nf *nonFinite) matrix(name string, a mat.Matrix) *jsonnum.Matrix {
	r, c := a.Dims()
	rows := make([][]jsonnum.Float, r)
	for i := range rows {
		rows[i] = make([]jsonnum.Float, c)
		for j := range rows[i] {
			rows[i][j] = nf.f(name, a.At(i, j), false)
		}
	}
	return &jsonnum.Matrix{Rows: rows}
}

func (nf *nonFinite) warnings() []string {
	var w []string
	for _, n := range nf.names {
		w = append(w, fmt.Sprintf("%s: %d value(s) not finite, written as null", n, nf.count[n]))
	}
	return w
}

// NewOutput renders the report: everything but the provenance, the input files of a
// gradient run (the caller sets them) and the covariance matrices (Write puts them inline
// or into files). The loss is present unless rep is from gradients.
func NewOutput(rep *Report) *Output {
	var nf nonFinite
	out := &Output{InlineMaxDim: DefaultInlineMaxDim, rep: rep}
	out.N, out.D, out.LR, out.Batch = rep.N, rep.D, rep.LR, rep.Batch
	out.Sampling = rep.Sampling.String()
	out.Kappa = nf.f("kappa", rep.Kappa, false)
	out.Damping, out.Inverse, out.RCond = rep.Damping, rep.Inverse.String(), rep.RCond
	out.Solver, out.SolverChoice = rep.Solver.String(), rep.SolverChoice
	if g := rep.CG; g != nil {
		out.CG = &OutputCG{Preconditioner: g.Preconditioner, PreconditionerExamples: g.PreconditionerExamples,
			Shift: jsonnum.Float(g.Shift), EffectiveDim: jsonnum.Float(g.EffectiveDim), EffectiveDimSE: jsonnum.Float(g.EffectiveDimSE), Tol: g.Tol,
			Solves: len(g.Iterations), Iterations: append([]int{}, g.Iterations...), MaxResidual: jsonnum.Float(g.MaxResidual),
			RitzMin: jsonnum.Float(g.RitzMin), RitzMax: jsonnum.Float(g.RitzMax), Condition: jsonnum.Float(g.Condition)}
		for _, it := range g.Iterations {
			out.CG.TotalIterations += it
		}
	}
	out.CovExamples, out.Subset = rep.CovExamples, rep.Subset
	out.GradNorm = nf.f("grad_norm", rep.GradNorm, false)
	out.AtMinimum = rep.AtMinimum
	if !rep.FromGradients {
		l := nf.f("loss", rep.Loss, false)
		out.Loss = &l
	}
	n := rep.Noise
	out.Noise = OutputNoise{
		Trace: nf.f("noise.trace", n.Trace, false), TraceBatch: nf.f("noise.trace_batch", n.TraceBatch, false),
		Rank: n.Rank, RankEstimated: n.RankEstimated, RankMethod: n.RankMethod,
		TopEigenvalues: nf.vec("noise.top_eigenvalues", n.TopEigenvalues), EigenMethod: n.EigenMethod,
		NoiseScale: nf.f("noise.noise_scale", n.NoiseScale, rep.AtMinimum),
	}
	v := rep.Vectors
	out.Vectors = OutputVectors{
		Grad: nf.vec("vectors.grad", v.Grad), StationaryScore: nf.vec("vectors.stationary_score", v.Stationary),
		LikelihoodScore: nf.vec("vectors.likelihood_score", v.Likelihood), PriorScore: nf.vec("vectors.prior_score", v.Prior),
		StationaryScoreGeneral: nf.vec("vectors.stationary_score_general", v.StationaryGeneral),
		DivergenceC:            nf.vec("vectors.divergence_c", v.DivergenceC),
		ExplicitPriorScore:     nf.vec("vectors.explicit_prior_score", v.ExplicitPrior),
		ImplicitPriorScore:     nf.vec("vectors.implicit_prior_score", v.ImplicitPrior),
	}
	dg := rep.Diagnostics
	var divRatio *jsonnum.Float
	if dg.DivergenceRatio != nil {
		r := nf.f("diagnostics.divergence_ratio", *dg.DivergenceRatio, rep.AtMinimum)
		divRatio = &r
	}
	out.Diagnostics = OutputDiagnostics{
		RoundoffFloor: nf.f("diagnostics.roundoff_floor", rep.RoundoffFloor, rep.RoundoffMethod == ""), RoundoffMethod: rep.RoundoffMethod,
		AtCriticalPoint: rep.AtCriticalPoint, ImplicitNote: dg.ImplicitNote,
		RangeFraction: nf.f("diagnostics.range_fraction", dg.RangeFraction, true), RangeFractionNote: dg.RangeFractionNote,
		AsymmetryNoteSE: nf.ptr("diagnostics.asymmetry_seed_stderr", dg.AsymmetryNoteSE), AsymmetryGeneralSE: nf.ptr("diagnostics.asymmetry_general_stderr", dg.AsymmetryGeneralSE),
		NoiseKurtosisExact: nf.vec("diagnostics.noise_kurtosis_exact", dg.NoiseKurtosisExact),
		Commutator:         nf.ptr("diagnostics.commutator", dg.Commutator), CommutatorMethod: dg.CommutatorMethod,
		AsymmetryNote:    nf.ptr("diagnostics.asymmetry_seed", dg.AsymmetryNote),
		AsymmetryGeneral: nf.ptr("diagnostics.asymmetry_general", dg.AsymmetryGeneral), AsymmetryMethod: dg.AsymmetryMethod,
		DivergenceRatio: divRatio, DivergenceNorm: nf.ptr("diagnostics.divergence_norm", dg.DivergenceNorm), DivergenceMethod: dg.DivergenceMethod,
		NoiseKurtosis:  nf.vec("diagnostics.noise_kurtosis", dg.NoiseKurtosis),
		NoiseTailIndex: nf.vec("diagnostics.noise_tail_index", dg.NoiseTailIndex),
		NoiseVariance:  nf.vec("diagnostics.noise_variance", dg.NoiseVariance), NoiseMethod: dg.NoiseMethod,
	}
	out.Diagnostics.DivergenceNormSE, out.Diagnostics.DivergenceRatioSE, out.Diagnostics.DivergenceShiftSE = floatPtr(dg.DivergenceNormSE), floatPtr(dg.DivergenceRatioSE), floatPtr(dg.DivergenceShiftSE)
	out.Diagnostics.NoiseKurtosisStderr = nf.vec("diagnostics.noise_kurtosis_stderr", dg.NoiseKurtosisSE)
	if rep.AtCriticalPoint {
		b := jsonnum.Float(dg.ImplicitBound)
		out.Diagnostics.ImplicitBound = &b
	}
	for _, r := range dg.Ladder {
		out.Diagnostics.Ladder = append(out.Diagnostics.Ladder, OutputRung{Damping: r.Damping, Range: r.Range, RCond: r.RCond, User: r.User,
			DivergenceNorm: jsonnum.Float(r.DivergenceNorm), DivergenceRatio: jsonnum.Float(r.DivergenceRatio), DivergenceShift: jsonnum.Float(r.DivergenceShift),
			DivNormSE: jsonnum.Float(r.DivergenceNormSE), DivRatioSE: jsonnum.Float(r.DivergenceRatioSE), DivShiftSE: jsonnum.Float(r.DivergenceShiftSE),
			AsymmetryNote: jsonnum.Float(r.AsymmetryNote), AsymmetryNoteSE: jsonnum.Float(r.AsymmetryNoteSE), PriorMinEigNote: jsonnum.Float(r.PriorMinEigNote), Note: r.Note})
	}
	if g := rep.Gaussian; g != nil {
		_, k := g.Basis.Dims()
		gj := &OutputGaussian{Basis: "parameters", BasisDim: k, Subspace: g.Subspace,
			NoteAsymmetry:     nf.f("gaussian.seed_asymmetry", g.NoteAsymmetry, false),
			RemovedDirections: g.Removed, FlatDirections: g.Flat, NegativeDirections: g.Negative,
			ExplicitPriorPrecision: jsonnum.Float(g.ExplicitPriorPrecision)}
		noteNull := g.CovNote == nil
		for _, dir := range g.Directions {
			dj := OutputDirection{
				H: nf.f("gaussian.directions.h", dir.H, false), C: nf.f("gaussian.directions.c", dir.C, false),
				VarNote:       nf.f("gaussian.directions.var_seed", dir.VarNote, noteNull),
				VarContinuous: nf.f("gaussian.directions.var_continuous", dir.VarContinuous, false),
				VarDiscrete:   nf.f("gaussian.directions.var_discrete", dir.VarDiscrete, false),
				VarPosterior:  nf.f("gaussian.directions.var_posterior", dir.VarPosterior, false),
				PriorPrecision: OutputPrior{
					Note:       nf.f("gaussian.directions.prior_precision.seed", dir.Prior.Note, noteNull),
					Continuous: nf.f("gaussian.directions.prior_precision.continuous", dir.Prior.Continuous, math.IsInf(dir.Prior.Continuous, 1)),
					Discrete:   nf.f("gaussian.directions.prior_precision.discrete", dir.Prior.Discrete, math.IsInf(dir.Prior.Discrete, 1)),
				},
			}
			if g.CovLinearExact != nil {
				a := nf.f("gaussian.directions.var_linear_exact", dir.VarLinearExact, false)
				b := nf.f("gaussian.directions.prior_precision.linear_exact", dir.Prior.LinearExact, math.IsInf(dir.Prior.LinearExact, 1))
				dj.VarLinearExact, dj.PriorPrecision.LinearExact = &a, &b
			}
			gj.Directions = append(gj.Directions, dj)
		}
		val := func(e *PriorEig) *jsonnum.Float {
			if e == nil {
				return nil
			}
			v := nf.f("gaussian.prior_precision_min_eig", e.Value, false)
			return &v
		}
		vec := func(e *PriorEig) *OutputPriorEig {
			if e == nil {
				return nil
			}
			return &OutputPriorEig{Hessian: jsonnum.Float(e.Hessian), HessianRel: jsonnum.Float(e.HessianRel), Noise: jsonnum.Float(e.Noise),
				NoiseRel: jsonnum.Float(e.NoiseRel), Infinite: e.Infinite, Weights: nf.vec("gaussian.prior_precision_min_eig_vector.weights", e.Weights)}
		}
		me := g.MinEig
		gj.PriorMinEig = &OutputPriorMinEig{Note: val(me.Note), Continuous: val(me.Continuous), Discrete: val(me.Discrete), Exact: val(me.LinearExact)}
		gj.PriorMinEigVector = &OutputPriorEigVectors{Note: vec(me.Note), Continuous: vec(me.Continuous), Discrete: vec(me.Discrete), Exact: vec(me.LinearExact)}
		gj.Coverage = &OutputCoverage{K: g.Coverage.K, D: g.Coverage.D, NoNoise: g.Coverage.NoNoise, Full: g.Coverage.Full}
		out.Gaussian = gj
	}
	out.OptimalLR = nf.f("optimal_lr", rep.OptimalLR, rep.Noise.TraceBatch == 0)
	out.ImplicitRegularizer = nf.f("implicit_regularizer", rep.ImplicitRegularizer, false)
	out.Warnings = append(append([]string{}, rep.Warnings...), nf.warnings()...)
	return out
}

// Write writes the output as JSON to jsonPath (atomically), after writing its large
// matrices beside it: the Gaussian covariances go inline as d×d arrays in the parameter
// basis when d ≤ InlineMaxDim, and otherwise to <base>.<key>.npy files (base: jsonPath
// without ".json"); for a Hessian subspace the k×k matrices go inline and the d×k basis to
// <base>.basis.npy. The JSON names the files relative to its own directory (filepath.Base).
// The covariances of a report are rendered by the first Write.
func (o *Output) Write(jsonPath string) error {
	if err := o.writeCovariances(jsonPath); err != nil {
		return err
	}
	return atomicfile.WriteJSON(jsonPath, o)
}

func (o *Output) writeCovariances(jsonPath string) error {
	rep := o.rep
	if rep == nil || rep.Gaussian == nil || o.Gaussian == nil {
		return nil
	}
	g := rep.Gaussian
	base := strings.TrimSuffix(jsonPath, ".json")
	var nf nonFinite
	render := func(name string, c *mat.SymDense) (*jsonnum.Matrix, error) {
		if c == nil {
			return nil, nil
		}
		if g.Subspace {
			return nf.matrix("gaussian."+name, c), nil
		}
		var p mat.SymDense
		g.ToParams(&p, c)
		if rep.D <= o.InlineMaxDim {
			return nf.matrix("gaussian."+name, &p), nil
		}
		file := base + "." + name + ".npy"
		if err := data.WriteMatrix(file, &p); err != nil {
			return nil, err
		}
		return &jsonnum.Matrix{File: filepath.Base(file)}, nil
	}
	gj := o.Gaussian
	var err error
	for _, c := range []struct {
		name string
		dst  **jsonnum.Matrix
		cov  *mat.SymDense
	}{{"cov_seed", &gj.CovNote, g.CovNote}, {"cov_continuous", &gj.CovContinuous, g.CovContinuous},
		{"cov_discrete", &gj.CovDiscrete, g.CovDiscrete}, {"cov_posterior", &gj.CovPosterior, g.CovPosterior},
		{"cov_linear_exact", &gj.CovLinearExact, g.CovLinearExact}} {
		if *c.dst, err = render(c.name, c.cov); err != nil {
			return err
		}
	}
	if g.Subspace {
		file := base + ".basis.npy"
		if err := data.WriteMatrix(file, g.Basis); err != nil {
			return err
		}
		gj.Basis = filepath.Base(file)
	}
	o.Warnings = append(o.Warnings, nf.warnings()...)
	o.rep = nil
	return nil
}

// floatPtr converts an optional value (nil or NaN, not computed: absent) without a
// non-finite warning.
func floatPtr(v *float64) *jsonnum.Float {
	if v == nil || math.IsNaN(*v) {
		return nil
	}
	f := jsonnum.Float(*v)
	return &f
}
