package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/stationary"
)

func init() {
	register(&command{
		name:    "score",
		summary: "the note's scores, gradient noise and checks of its assumptions at one θ (a model, or your own per-example gradients)",
		run:     runScore,
	})
}

const scoreSynopsis = "<problem flags> --params θ.npy --lr η --batch B [--sampling S] [--damping λ | --inverse range --rcond r] [--subset M] [--top-k k] [--divergence] [--json out.json]\n" +
	"       sgdprior score --grads G.npy [--hessian H.npy] [--n N] --lr η --batch B [--sampling S] [--damping λ | --inverse range] [--json out.json]"

// inlineMaxDim is the largest d whose d×d covariances are written inline in the JSON; larger
// ones go to .npy files named in it.
var inlineMaxDim = 500

// scoreJSON is the --json output of score. Its keys are an interface: keep them.
type scoreJSON struct {
	N                   int           `json:"n"`
	D                   int           `json:"d"`
	LR                  float64       `json:"lr"`
	Batch               int           `json:"batch"`
	Sampling            string        `json:"sampling"`
	Kappa               jsonFloat     `json:"kappa"`
	Damping             float64       `json:"damping"`
	Inverse             string        `json:"inverse"`
	RCond               float64       `json:"rcond"`
	Solver              string        `json:"solver"`
	CovExamples         int           `json:"cov_examples"`
	Subset              []int         `json:"subset,omitempty"`
	Loss                *jsonFloat    `json:"loss,omitempty"`
	GradNorm            jsonFloat     `json:"grad_norm"`
	AtMinimum           bool          `json:"at_minimum"`
	Noise               noiseJSON     `json:"noise"`
	Vectors             vectorsJSON   `json:"vectors"`
	Diagnostics         diagJSON      `json:"diagnostics"`
	Gaussian            *gaussianJSON `json:"gaussian,omitempty"`
	OptimalLR           jsonFloat     `json:"optimal_lr"`
	ImplicitRegularizer jsonFloat     `json:"implicit_regularizer"`
	Input               *gradsInput   `json:"input,omitempty"`
	Provenance          provenance    `json:"provenance"`
	Warnings            []string      `json:"warnings"`
}

type noiseJSON struct {
	Trace          jsonFloat   `json:"trace"`
	TraceBatch     jsonFloat   `json:"trace_batch"`
	Rank           int         `json:"rank"`
	RankEstimated  bool        `json:"rank_estimated"`
	RankMethod     string      `json:"rank_method"`
	TopEigenvalues []jsonFloat `json:"top_eigenvalues"`
	EigenMethod    string      `json:"eigen_method"`
	NoiseScale     jsonFloat   `json:"noise_scale"`
}

type vectorsJSON struct {
	Grad                   []jsonFloat `json:"grad"`
	StationaryScore        []jsonFloat `json:"stationary_score"`
	LikelihoodScore        []jsonFloat `json:"likelihood_score"`
	PriorScore             []jsonFloat `json:"prior_score"`
	StationaryScoreGeneral []jsonFloat `json:"stationary_score_general,omitempty"`
	DivergenceC            []jsonFloat `json:"divergence_c,omitempty"`
	ExplicitPriorScore     []jsonFloat `json:"explicit_prior_score,omitempty"`
	ImplicitPriorScore     []jsonFloat `json:"implicit_prior_score,omitempty"`
}

type diagJSON struct {
	RangeFraction       jsonFloat   `json:"range_fraction"`
	Commutator          *jsonFloat  `json:"commutator,omitempty"`
	CommutatorMethod    string      `json:"commutator_method,omitempty"`
	AsymmetrySeed       *jsonFloat  `json:"asymmetry_seed,omitempty"`
	AsymmetryGeneral    *jsonFloat  `json:"asymmetry_general,omitempty"`
	AsymmetryMethod     string      `json:"asymmetry_method,omitempty"`
	DivergenceRatio     *jsonFloat  `json:"divergence_ratio,omitempty"`
	DivergenceNorm      *jsonFloat  `json:"divergence_norm,omitempty"`
	DivergenceMethod    string      `json:"divergence_method,omitempty"`
	NoiseKurtosis       []jsonFloat `json:"noise_kurtosis,omitempty"`
	NoiseKurtosisStderr *jsonFloat  `json:"noise_kurtosis_stderr,omitempty"`
	NoiseTailIndex      []jsonFloat `json:"noise_tail_index,omitempty"`
	NoiseVariance       []jsonFloat `json:"noise_variance,omitempty"`
	NoiseMethod         string      `json:"noise_method,omitempty"`
}

type gaussianJSON struct {
	// Basis is "parameters" when the covariances are d×d in the parameter basis, otherwise
	// the .npy file holding the d×k basis V whose span the k×k covariances live in
	// (Σ_parameters = V Σ Vᵀ).
	Basis                  string          `json:"basis"`
	BasisDim               int             `json:"basis_dim"`
	Subspace               bool            `json:"subspace"`
	CovSeed                any             `json:"cov_seed"`
	CovContinuous          any             `json:"cov_continuous"`
	CovDiscrete            any             `json:"cov_discrete"`
	CovPosterior           any             `json:"cov_posterior"`
	CovLinearExact         any             `json:"cov_linear_exact,omitempty"`
	SeedAsymmetry          jsonFloat       `json:"seed_asymmetry"`
	RemovedDirections      int             `json:"removed_directions"`
	FlatDirections         int             `json:"flat_directions"`
	NegativeDirections     int             `json:"negative_directions"`
	ExplicitPriorPrecision jsonFloat       `json:"explicit_prior_precision"`
	Directions             []directionJSON `json:"directions"`
}

type directionJSON struct {
	H              jsonFloat  `json:"h"`
	C              jsonFloat  `json:"c"`
	VarSeed        jsonFloat  `json:"var_seed"`
	VarContinuous  jsonFloat  `json:"var_continuous"`
	VarDiscrete    jsonFloat  `json:"var_discrete"`
	VarPosterior   jsonFloat  `json:"var_posterior"`
	VarLinearExact *jsonFloat `json:"var_linear_exact,omitempty"`
	PriorPrecision priorJSON  `json:"prior_precision"`
}

type priorJSON struct {
	Seed        jsonFloat  `json:"seed"`
	Continuous  jsonFloat  `json:"continuous"`
	Discrete    jsonFloat  `json:"discrete"`
	LinearExact *jsonFloat `json:"linear_exact,omitempty"`
}

// gradsInput records the files of a --grads run.
type gradsInput struct {
	Grads   string `json:"grads"`
	Hessian string `json:"hessian,omitempty"`
	Params  string `json:"params,omitempty"`
	Rows    int    `json:"rows"`
}

func runScore(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "score", scoreSynopsis)
	var pf problemFlags
	pf.register(fs)
	var inv inverseFlags
	inv.register(fs)
	params := fs.String("params", "", "θ as a 1-D .npy file (PyTorch layout); required with --data")
	gradsPath := fs.String("grads", "", "bring your own gradients: an M×d .npy matrix of per-example NLL gradients (row = example) instead of --data/--model")
	hessPath := fs.String("hessian", "", "with --grads: the d×d Hessian of the mean objective (.npy), for the commutator and the Gaussian predictions")
	nFlag := fs.Int("n", 0, "with --grads: the number N of training examples (default M, the rows of G: the population)")
	subset := fs.Int("subset", 0, "estimate C from a seeded random subset of M examples ((N−1)/N·S); 0: all N")
	topK := fs.Int("top-k", score.DefaultTopK, "number of top eigenvalues of C reported, and for large d the Hessian subspace of the Gaussian predictions")
	divergence := fs.Bool("divergence", false, "compute the general stationary score D⁻¹(2μ − ∇·D) with its divergence term")
	solverName := fs.String("solver", "auto", "auto, dense, woodbury (Gram matrix of the M examples) or cg (covariance products only)")
	cgTol := fs.Float64("cg-tol", linalg.DefaultCGTol, "CG solver: relative residual at which CG stops")
	cgMaxIter := fs.Int("cg-maxiter", 0, "CG solver: largest number of iterations (default max(2d, 100))")
	precExamples := fs.Int("preconditioner-examples", score.DefaultPreconditionerExamples, "CG solver with --damping: size of the seeded subset whose Woodbury inverse preconditions CG (−1: plain CG)")
	traceProbes := fs.Int("trace-probes", score.DefaultTraceProbes, "--divergence on large models: Hutchinson probes for tr(H_i)")
	divExamples := fs.Int("divergence-examples", score.DefaultDivergenceExamples, "--divergence on large models: examples the divergence term is estimated from")
	asymProbes := fs.Int("asymmetry-probes", score.DefaultAsymmetryProbes, "large models: random directions estimating the Jacobian asymmetry (−1: skip)")
	commProbes := fs.Int("commutator-probes", score.DefaultCommutatorProbes, "large models: Gaussian probes estimating the commutator")
	noiseDirs := fs.Int("noise-directions", score.DefaultNoiseDirections, "top noise directions the Gaussianity of mini-batch noise is measured along (−1: skip)")
	noiseBatches := fs.Int("noise-batches", score.DefaultNoiseBatches, "mini-batches sampled for the Gaussianity of the noise")
	minTol := fs.Float64("minimum-tol", score.DefaultMinimumTol, "θ is a minimum when ‖∇L‖ ≤ this; the Gaussian predictions need one")
	forceGauss := fs.Bool("gaussian", false, "compute the Gaussian predictions even when θ is not a minimum (with a warning)")
	jsonPath := fs.String("json", "", "write the results as JSON here (large covariances go to .npy files beside it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	invSet, err := inv.settings()
	if err != nil {
		return err
	}
	invSet.CGTol, invSet.CGMaxIter = *cgTol, *cgMaxIter
	solver, err := score.ParseSolver(*solverName)
	if err != nil {
		return usagef("--solver must be auto, dense, woodbury or cg, not %q", *solverName)
	}
	switch {
	case *subset < 0 || *subset == 1:
		return usagef("--subset must be 0 (all examples) or ≥ 2, not %d", *subset)
	case *topK < 1:
		return usagef("--top-k must be ≥ 1, not %d", *topK)
	case !(*cgTol > 0 && *cgTol < 1):
		return usagef("--cg-tol must be in (0, 1), not %v", *cgTol)
	case *cgMaxIter < 0:
		return usagef("--cg-maxiter must be ≥ 0, not %d", *cgMaxIter)
	case *precExamples == 0 || *precExamples == 1 || *precExamples < -1:
		return usagef("--preconditioner-examples must be ≥ 2 (or −1 for plain CG), not %d", *precExamples)
	case *traceProbes < 1:
		return usagef("--trace-probes must be ≥ 1, not %d", *traceProbes)
	case *divExamples < 2:
		return usagef("--divergence-examples must be ≥ 2, not %d", *divExamples)
	case *asymProbes == 0 || *asymProbes == 1 || *asymProbes < -1:
		return usagef("--asymmetry-probes must be ≥ 2 (or −1 to skip), not %d", *asymProbes)
	case *commProbes < 1:
		return usagef("--commutator-probes must be ≥ 1, not %d", *commProbes)
	case *noiseDirs == 0 || *noiseDirs < -1:
		return usagef("--noise-directions must be ≥ 1 (or −1 to skip), not %d", *noiseDirs)
	case *noiseBatches < 2:
		return usagef("--noise-batches must be ≥ 2, not %d", *noiseBatches)
	case !(*minTol >= 0) || math.IsInf(*minTol, 0):
		return usagef("--minimum-tol must be ≥ 0, not %v", *minTol)
	}
	set := &score.Settings{
		LR: pf.lr, Batch: pf.batch, Inverse: invSet, Solver: solver, Subset: *subset, TopK: *topK, PreconditionerExamples: *precExamples,
		Divergence: *divergence, DivergenceExamples: *divExamples, TraceProbes: *traceProbes,
		AsymmetryProbes: *asymProbes, CommutatorProbes: *commProbes, NoiseDirections: *noiseDirs,
		NoiseBatches: *noiseBatches, MinimumTol: *minTol, ForceGaussian: *forceGauss, Seed: pf.seed,
	}
	if *minTol == 0 {
		set.MinimumTol = math.SmallestNonzeroFloat64 // 0 means "exactly zero"
	}
	prog := newProgress(e.stdout)
	set.Progress = func(stage string) { prog.update("score: "+stage, -1) }

	var rep *score.Report
	var out scoreJSON
	var heading string
	if *gradsPath != "" {
		rep, out, heading, err = scoreGrads(e, &pf, set, *gradsPath, *hessPath, *params, *nFlag, fs)
	} else {
		rep, out, heading, err = scoreModel(e, &pf, set, *params, fs)
	}
	prog.done()
	if err != nil {
		return scoreErr(err, pf.lr)
	}
	fillScoreJSON(&out, rep)
	if *jsonPath != "" {
		if err := writeCovariances(&out, rep, *jsonPath); err != nil {
			return err
		}
	}
	printScore(e.stdout, heading, rep, &out)
	if *jsonPath != "" {
		if err := writeJSON(*jsonPath, out); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", *jsonPath)
	}
	return nil
}

// scoreModel runs the model path.
func scoreModel(e *env, pf *problemFlags, set *score.Settings, params string, fs *flag.FlagSet) (*score.Report, scoreJSON, string, error) {
	var out scoreJSON
	if params == "" {
		return nil, out, "", usagef("--params θ.npy is required (or --grads G.npy to bring your own gradients)")
	}
	if scoreFlagGiven(fs, "hessian") || scoreFlagGiven(fs, "n") {
		return nil, out, "", usagef("--hessian and --n go with --grads, not with --data")
	}
	if err := pf.checkLRBatch(); err != nil {
		return nil, out, "", err
	}
	samp := pf.sampling
	set.Sampling = samp
	pr, err := pf.load()
	if err != nil {
		return nil, out, "", err
	}
	if err := flagError(pr.CheckBatch(pf.batch)); err != nil {
		return nil, out, "", err
	}
	n, d := pr.Data.Len(), pr.Model.NumParams()
	if samp != sim.With && pf.batch == n {
		return nil, out, "", usagef("--batch %d equals the %d examples: sampling without replacement has no mini-batch noise", pf.batch, n)
	}
	if set.Subset > n {
		return nil, out, "", usagef("--subset %d is larger than the %d examples of %s", set.Subset, n, pr.Data.Name)
	}
	theta, err := pr.ReadParams("params", params)
	if err != nil {
		return nil, out, "", flagError(err)
	}
	for j, v := range theta {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, out, "", fmt.Errorf("%s: parameter %d is %v", params, j, v)
		}
	}
	rep, err := score.ComputeModel(score.ModelProblem{Model: pr.Model, Batch: pr.Batch, WeightDecay: pf.spec.WeightDecay}, theta, set)
	if err != nil {
		return nil, out, "", err
	}
	out.Provenance = newProvenance(e, pf.seed, pr)
	l := jsonFloat(rep.Loss)
	out.Loss = &l
	heading := fmt.Sprintf("%s on %s (n = %d, d = %d), θ from %s", pr.Model.Name(), pr.Data.Name, n, d, params)
	if lm := pr.LabelMapping(); lm != "" {
		heading += "\nlabels: " + lm
	}
	return rep, out, heading, nil
}

// scoreGrads runs the bring-your-own-gradients path.
func scoreGrads(e *env, pf *problemFlags, set *score.Settings, gradsPath, hessPath, params string, n int, fs *flag.FlagSet) (*score.Report, scoreJSON, string, error) {
	var out scoreJSON
	for _, f := range []string{"data", "model", "labels", "target", "subset", "divergence"} {
		if scoreFlagGiven(fs, f) {
			return nil, out, "", usagef("--%s does not go with --grads (the gradients replace the data and the model)", f)
		}
	}
	if err := pf.checkLRBatch(); err != nil {
		return nil, out, "", err
	}
	samp := pf.sampling
	set.Sampling = samp
	if !(pf.spec.WeightDecay >= 0) || math.IsInf(pf.spec.WeightDecay, 0) {
		return nil, out, "", usagef("--weight-decay must be ≥ 0 and finite, not %v", pf.spec.WeightDecay)
	}
	if set.ForceGaussian && hessPath == "" {
		return nil, out, "", usagef("--gaussian with --grads needs --hessian H.npy")
	}
	if pf.spec.WeightDecay > 0 && params == "" {
		return nil, out, "", usagef("--weight-decay with --grads needs --params θ.npy (∇r = λθ)")
	}
	g, err := data.ReadMatrix(gradsPath)
	if err != nil {
		return nil, out, "", err
	}
	m, d := g.Dims()
	if m < 2 {
		return nil, out, "", usagef("--grads %s has %d row(s): the covariance needs at least 2 examples", gradsPath, m)
	}
	if n == 0 {
		n = m
	}
	if n < m {
		return nil, out, "", usagef("--n %d is smaller than the %d gradient rows of %s", n, m, gradsPath)
	}
	if pf.batch > n {
		return nil, out, "", usagef("--batch %d is larger than N = %d", pf.batch, n)
	}
	if samp != sim.With && pf.batch == n {
		return nil, out, "", usagef("--batch %d equals N: sampling without replacement has no mini-batch noise", pf.batch)
	}
	in := score.Grads{G: g, N: n, WeightDecay: pf.spec.WeightDecay}
	if hessPath != "" {
		h, err := data.ReadMatrix(hessPath)
		if err != nil {
			return nil, out, "", err
		}
		if r, c := h.Dims(); r != d || c != d {
			return nil, out, "", usagef("--hessian %s is %d×%d, but the gradients of %s have d = %d", hessPath, r, c, gradsPath, d)
		}
		in.Hessian = h
	}
	if params != "" {
		theta, err := data.ReadVector(params)
		if err != nil {
			return nil, out, "", err
		}
		if len(theta) != d {
			return nil, out, "", usagef("--params %s has %d values, but the gradients of %s have d = %d", params, len(theta), gradsPath, d)
		}
		in.Theta = theta
	}
	rep, err := score.ComputeGrads(in, set)
	if err != nil {
		return nil, out, "", err
	}
	out.Provenance = newProvenance(e, pf.seed, nil)
	out.Provenance.WeightDecay = pf.spec.WeightDecay
	out.Input = &gradsInput{Grads: gradsPath, Hessian: hessPath, Params: params, Rows: m}
	heading := fmt.Sprintf("per-example gradients from %s (M = %d rows, N = %d, d = %d)", gradsPath, m, n, d)
	return rep, out, heading, nil
}

// scoreFlagGiven reports whether the flag name was given on the command line.
func scoreFlagGiven(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// scoreErr turns score's errors into messages naming the command's options.
func scoreErr(err error, lr float64) error {
	var rd *linalg.RankDeficientError
	if errors.As(err, &rd) {
		rank := fmt.Sprintf("numerical rank %d of %d", rd.Rank, rd.Dim)
		if rd.Rank < 0 {
			rank = fmt.Sprintf("numerical rank below %d", rd.Dim)
		}
		return fmt.Errorf("the noise covariance C_B is rank-deficient (%s at rcond %g): pass --damping λ (absolute, in the units of C_B) or --inverse range (pseudo-inverse on its range)", rank, rd.RCond)
	}
	var ue *stationary.UnstableError
	if errors.As(err, &ue) {
		if ue.Detail != "" {
			return fmt.Errorf("SGD is unstable at --lr %g: %s", lr, ue.Detail)
		}
		return fmt.Errorf("SGD is unstable at --lr %g: the Hessian's eigenvalue λ = %.6g gives ηλ = %.4g ≥ 2; it is stable only for η < 2/λ_max = %.6g", lr, ue.Eigenvalue, lr*ue.Eigenvalue, 2/ue.LambdaMax)
	}
	return err
}

// nonFinite collects the names of unexpected non-finite numbers written as null.
type nonFinite struct {
	names []string
	count map[string]int
}

// f converts v, noting it when it is not finite and not expected to be.
func (nf *nonFinite) f(name string, v float64, expected bool) jsonFloat {
	if !expected && (math.IsNaN(v) || math.IsInf(v, 0)) {
		if nf.count == nil {
			nf.count = map[string]int{}
		}
		if nf.count[name] == 0 {
			nf.names = append(nf.names, name)
		}
		nf.count[name]++
	}
	return jsonFloat(v)
}

func (nf *nonFinite) vec(name string, v []float64) []jsonFloat {
	if v == nil {
		return nil
	}
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = nf.f(name, x, false)
	}
	return out
}

func (nf *nonFinite) ptr(name string, v *float64) *jsonFloat {
	if v == nil {
		return nil
	}
	f := nf.f(name, *v, false)
	return &f
}

func (nf *nonFinite) warnings() []string {
	var w []string
	for _, n := range nf.names {
		w = append(w, fmt.Sprintf("%s: %d value(s) not finite, written as null", n, nf.count[n]))
	}
	return w
}

// fillScoreJSON renders the report (all but the covariance matrices, the provenance, the
// loss and the input files).
func fillScoreJSON(out *scoreJSON, rep *score.Report) {
	var nf nonFinite
	out.N, out.D, out.LR, out.Batch = rep.N, rep.D, rep.LR, rep.Batch
	out.Sampling = rep.Sampling.String()
	out.Kappa = nf.f("kappa", rep.Kappa, false)
	out.Damping, out.Inverse, out.RCond = rep.Damping, rep.Inverse, rep.RCond
	out.Solver = rep.Solver.String()
	out.CovExamples, out.Subset = rep.CovExamples, rep.Subset
	out.GradNorm = nf.f("grad_norm", rep.GradNorm, false)
	out.AtMinimum = rep.AtMinimum
	if out.Loss != nil {
		l := nf.f("loss", rep.Loss, false)
		out.Loss = &l
	}
	n := rep.Noise
	out.Noise = noiseJSON{
		Trace: nf.f("noise.trace", n.Trace, false), TraceBatch: nf.f("noise.trace_batch", n.TraceBatch, false),
		Rank: n.Rank, RankEstimated: n.RankEstimated, RankMethod: n.RankMethod,
		TopEigenvalues: nf.vec("noise.top_eigenvalues", n.TopEigenvalues), EigenMethod: n.EigenMethod,
		NoiseScale: nf.f("noise.noise_scale", n.NoiseScale, rep.AtMinimum),
	}
	v := rep.Vectors
	out.Vectors = vectorsJSON{
		Grad: nf.vec("vectors.grad", v.Grad), StationaryScore: nf.vec("vectors.stationary_score", v.Stationary),
		LikelihoodScore: nf.vec("vectors.likelihood_score", v.Likelihood), PriorScore: nf.vec("vectors.prior_score", v.Prior),
		StationaryScoreGeneral: nf.vec("vectors.stationary_score_general", v.StationaryGeneral),
		DivergenceC:            nf.vec("vectors.divergence_c", v.DivergenceC),
		ExplicitPriorScore:     nf.vec("vectors.explicit_prior_score", v.ExplicitPrior),
		ImplicitPriorScore:     nf.vec("vectors.implicit_prior_score", v.ImplicitPrior),
	}
	dg := rep.Diagnostics
	var divRatio *jsonFloat
	if dg.DivergenceRatio != nil {
		r := nf.f("diagnostics.divergence_ratio", *dg.DivergenceRatio, rep.AtMinimum)
		divRatio = &r
	}
	out.Diagnostics = diagJSON{
		RangeFraction: nf.f("diagnostics.range_fraction", dg.RangeFraction, false),
		Commutator:    nf.ptr("diagnostics.commutator", dg.Commutator), CommutatorMethod: dg.CommutatorMethod,
		AsymmetrySeed:    nf.ptr("diagnostics.asymmetry_seed", dg.AsymmetrySeed),
		AsymmetryGeneral: nf.ptr("diagnostics.asymmetry_general", dg.AsymmetryGeneral), AsymmetryMethod: dg.AsymmetryMethod,
		DivergenceRatio: divRatio, DivergenceNorm: nf.ptr("diagnostics.divergence_norm", dg.DivergenceNorm), DivergenceMethod: dg.DivergenceMethod,
		NoiseKurtosis:  nf.vec("diagnostics.noise_kurtosis", dg.NoiseKurtosis),
		NoiseTailIndex: nf.vec("diagnostics.noise_tail_index", dg.NoiseTailIndex),
		NoiseVariance:  nf.vec("diagnostics.noise_variance", dg.NoiseVariance), NoiseMethod: dg.NoiseMethod,
	}
	if dg.NoiseKurtosis != nil {
		se := jsonFloat(dg.NoiseKurtosisSE)
		out.Diagnostics.NoiseKurtosisStderr = &se
	}
	if g := rep.Gaussian; g != nil {
		_, k := g.Basis.Dims()
		gj := &gaussianJSON{Basis: "parameters", BasisDim: k, Subspace: g.Subspace,
			SeedAsymmetry:     nf.f("gaussian.seed_asymmetry", g.SeedAsymmetry, false),
			RemovedDirections: g.Removed, FlatDirections: g.Flat, NegativeDirections: g.Negative,
			ExplicitPriorPrecision: jsonFloat(g.ExplicitPriorPrecision)}
		seedNull := g.CovSeed == nil
		for _, dir := range g.Directions {
			dj := directionJSON{
				H: nf.f("gaussian.directions.h", dir.H, false), C: nf.f("gaussian.directions.c", dir.C, false),
				VarSeed:       nf.f("gaussian.directions.var_seed", dir.VarSeed, seedNull),
				VarContinuous: nf.f("gaussian.directions.var_continuous", dir.VarContinuous, false),
				VarDiscrete:   nf.f("gaussian.directions.var_discrete", dir.VarDiscrete, false),
				VarPosterior:  nf.f("gaussian.directions.var_posterior", dir.VarPosterior, false),
				PriorPrecision: priorJSON{
					Seed:       nf.f("gaussian.directions.prior_precision.seed", dir.Prior.Seed, seedNull),
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
		out.Gaussian = gj
	}
	out.OptimalLR = nf.f("optimal_lr", rep.OptimalLR, rep.Noise.TraceBatch == 0)
	out.ImplicitRegularizer = nf.f("implicit_regularizer", rep.ImplicitRegularizer, false)
	out.Warnings = append(append([]string{}, rep.Warnings...), nf.warnings()...)
}

// writeCovariances puts the Gaussian covariances into out: inline d×d arrays in the
// parameter basis when d ≤ inlineMaxDim, d×d .npy files beside the JSON otherwise, and for a
// Hessian subspace the k×k matrices inline with the d×k basis in a .npy file.
func writeCovariances(out *scoreJSON, rep *score.Report, jsonPath string) error {
	g := rep.Gaussian
	if g == nil {
		return nil
	}
	base := strings.TrimSuffix(jsonPath, ".json")
	var nf nonFinite
	render := func(name string, c *mat.SymDense) (any, error) {
		if c == nil {
			return nil, nil
		}
		if g.Subspace {
			return matrixJSON(&nf, "gaussian."+name, c), nil
		}
		var p mat.SymDense
		g.ToParams(&p, c)
		if rep.D <= inlineMaxDim {
			return matrixJSON(&nf, "gaussian."+name, &p), nil
		}
		file := base + "." + name + ".npy"
		if err := data.WriteMatrix(file, &p); err != nil {
			return nil, err
		}
		return file, nil
	}
	gj := out.Gaussian
	var err error
	for _, c := range []struct {
		name string
		dst  *any
		cov  *mat.SymDense
	}{{"cov_seed", &gj.CovSeed, g.CovSeed}, {"cov_continuous", &gj.CovContinuous, g.CovContinuous},
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
		gj.Basis = file
	}
	out.Warnings = append(out.Warnings, nf.warnings()...)
	return nil
}

func matrixJSON(nf *nonFinite, name string, a mat.Matrix) [][]jsonFloat {
	r, c := a.Dims()
	out := make([][]jsonFloat, r)
	for i := range out {
		out[i] = make([]jsonFloat, c)
		for j := range out[i] {
			out[i][j] = nf.f(name, a.At(i, j), false)
		}
	}
	return out
}

// printScore writes the readable summary.
func printScore(w io.Writer, heading string, rep *score.Report, out *scoreJSON) {
	fmt.Fprintln(w, heading)
	fmt.Fprintf(w, "SGD: η = %g, B = %d, sampling %s, κ_B = %.6g\n", rep.LR, rep.Batch, rep.Sampling, rep.Kappa)
	inv := "exact inverse of C_B"
	switch rep.Inverse {
	case "damped":
		inv = fmt.Sprintf("(C_B + λI)⁻¹ with λ = %g", rep.Damping)
	case "range":
		inv = fmt.Sprintf("pseudo-inverse of C_B on its range (rcond %g)", rep.RCond)
	}
	cov := fmt.Sprintf("all %d examples", rep.N)
	if rep.CovExamples < rep.N {
		cov = fmt.Sprintf("%d of the %d examples", rep.CovExamples, rep.N)
	}
	fmt.Fprintf(w, "inverse: %s; solver %s; C from %s\n", inv, rep.Solver, cov)
	minimum := "not a minimum"
	if rep.AtMinimum {
		minimum = "a minimum"
	}
	if out.Loss != nil {
		fmt.Fprintf(w, "loss %.10g  ‖∇L‖ %.3g (%s)\n", rep.Loss, rep.GradNorm, minimum)
	} else {
		fmt.Fprintf(w, "‖∇L‖ %.3g (%s)\n", rep.GradNorm, minimum)
	}
	n := rep.Noise
	rank := fmt.Sprintf("%d", n.Rank)
	if n.RankEstimated {
		rank += " (" + n.RankMethod + ")"
	}
	fmt.Fprintf(w, "noise: tr C %.6g, tr C_B %.6g, rank %s of d = %d\n", n.Trace, n.TraceBatch, rank, rep.D)
	fmt.Fprintf(w, "  top eigenvalues of C: %s\n", fmtFloats(n.TopEigenvalues, 6))
	fmt.Fprintf(w, "  gradient noise scale tr C/‖ḡ‖²: %s\n", fmtOne(n.NoiseScale))
	v := rep.Vectors
	fmt.Fprintf(w, "scores: ‖s_st‖ %.6g  ‖s_lik‖ %.6g  ‖s_prior‖ %.6g  cos(s_prior, s_lik) %s\n",
		floats.Norm(v.Stationary, 2), floats.Norm(v.Likelihood, 2), floats.Norm(v.Prior, 2), fmtOne(cosine(v.Prior, v.Likelihood)))
	if v.ExplicitPrior != nil {
		fmt.Fprintf(w, "  weight decay: explicit ‖−N∇r‖ %.6g, implicit ‖s_prior + N∇r‖ %.6g\n", floats.Norm(v.ExplicitPrior, 2), floats.Norm(v.ImplicitPrior, 2))
	}
	dg := rep.Diagnostics
	if rep.Inverse == "range" {
		fmt.Fprintf(w, "  fraction of ‖∇L‖² outside the range of C_B: %.4g\n", dg.RangeFraction)
	}
	fmt.Fprintln(w, "checks of the note's assumptions:")
	if dg.DivergenceRatio != nil {
		fmt.Fprintf(w, "  divergence term: ‖s_gen − s_st‖ %.4g, ratio to ‖s_st‖ %s  [%s]\n", *dg.DivergenceNorm, fmtOne(*dg.DivergenceRatio), dg.DivergenceMethod)
	}
	if dg.AsymmetrySeed != nil {
		line := fmt.Sprintf("  Jacobian asymmetry ‖J − Jᵀ‖/‖J‖: seed %.4g", *dg.AsymmetrySeed)
		if dg.AsymmetryGeneral != nil {
			line += fmt.Sprintf(", general %.4g", *dg.AsymmetryGeneral)
		}
		fmt.Fprintf(w, "%s  [%s]\n", line, dg.AsymmetryMethod)
	} else if dg.AsymmetryMethod != "" {
		fmt.Fprintf(w, "  Jacobian asymmetry: %s\n", dg.AsymmetryMethod)
	}
	if dg.Commutator != nil {
		fmt.Fprintf(w, "  commutator ‖CH − HC‖/(‖C‖‖H‖): %.4g  [%s]\n", *dg.Commutator, dg.CommutatorMethod)
	}
	if dg.NoiseKurtosis != nil {
		fmt.Fprintf(w, "  mini-batch noise on the top %d noise directions: excess kurtosis %s (±%.2g if Gaussian), tail index %s (2 if Gaussian)\n",
			len(dg.NoiseKurtosis), fmtFloats(dg.NoiseKurtosis, 4), dg.NoiseKurtosisSE, fmtFloats(dg.NoiseTailIndex, 4))
	}
	if g := rep.Gaussian; g != nil {
		where := "all positive-curvature directions"
		if g.Subspace {
			where = fmt.Sprintf("the top-%d Hessian subspace", len(g.Directions))
		}
		fmt.Fprintf(w, "Gaussian predictions near the minimum (%s; %d null, %d flat, %d negative-curvature directions removed):\n",
			where, g.Removed, g.Flat, g.Negative)
		fmt.Fprintf(w, "  %-11s %-11s %-11s %-11s %-11s %-11s %-11s %-11s %-11s\n", "h", "c", "var seed", "var cont", "var disc", "var post", "P seed", "P cont", "P disc")
		for i, d := range g.Directions {
			if i == 12 && len(g.Directions) > 13 {
				fmt.Fprintf(w, "  … %d more directions in the JSON\n", len(g.Directions)-12)
				break
			}
			fmt.Fprintf(w, "  %-11.4g %-11.4g %-11s %-11.4g %-11.4g %-11.4g %-11s %-11.4g %-11.4g\n", d.H, d.C, fmtOne(d.VarSeed),
				d.VarContinuous, d.VarDiscrete, d.VarPosterior, fmtOne(d.Prior.Seed), d.Prior.Continuous, d.Prior.Discrete)
		}
		if g.ExplicitPriorPrecision > 0 {
			fmt.Fprintf(w, "  (prior precisions P = Σ⁻¹ − N H_nll include the weight-decay prior's N λ = %.4g)\n", g.ExplicitPriorPrecision)
		}
	}
	fmt.Fprintf(w, "lenses: Mandt et al. optimal η* = 2d/(N tr C_B) = %s; Smith et al. implicit regulariser (η/4)(‖∇L‖² + tr C_B) = %.6g\n",
		fmtOne(rep.OptimalLR), rep.ImplicitRegularizer)
	for _, wn := range out.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
}

func cosine(a, b []float64) float64 {
	return floats.Dot(a, b) / (floats.Norm(a, 2) * floats.Norm(b, 2))
}

func fmtOne(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "null"
	}
	return fmt.Sprintf("%.4g", x)
}

func fmtFloats(v []float64, max int) string {
	parts := make([]string, 0, len(v))
	for i, x := range v {
		if i == max {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmtOne(x))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
