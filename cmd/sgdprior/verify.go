package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/train"
	"github.com/sgdprior/sgdprior/verify"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "run many SGD chains at a minimum and judge every prediction of the stationary covariance",
		run:     runVerify,
	})
}

const verifySynopsis = "<problem flags> --lr η --batch B [--params θ*.npy] [--chains K --steps T --burnin T0 --thin s] [--simulator sgd|gauss|sde|sgld] [--dt h] [--top-k k] [--damping λ | --inverse range --rcond r] [--checkpoint F] [--resume F] [--json out.json]"

// inverseFlags are the flags that choose how C_B is inverted (shared with score).
type inverseFlags struct {
	damping float64
	inverse string
	rcond   float64
}

func (f *inverseFlags) register(fs interface {
	Float64Var(*float64, string, float64, string)
	StringVar(*string, string, string, string)
}) {
	fs.Float64Var(&f.damping, "damping", 0, "add λI to C_B in the inverse the scores use (absolute, in the units of C_B)")
	fs.StringVar(&f.inverse, "inverse", "", "\"range\": use the pseudo-inverse of C_B on its range")
	fs.Float64Var(&f.rcond, "rcond", linalg.DefaultRCond, "with --inverse range: drop eigenvalues below rcond·λ_max")
}

func (f *inverseFlags) settings() (linalg.Settings, error) {
	s := linalg.Settings{Damping: f.damping, RCond: f.rcond}
	switch f.inverse {
	case "":
	case "range":
		s.Range = true
	default:
		return s, usagef("--inverse must be range, not %q", f.inverse)
	}
	if !(f.damping >= 0) || math.IsInf(f.damping, 0) {
		return s, usagef("--damping must be ≥ 0 and finite, not %v", f.damping)
	}
	if f.damping > 0 && s.Range {
		return s, usagef("--damping and --inverse range are exclusive: choose one")
	}
	if !(f.rcond > 0 && f.rcond < 1) {
		return s, usagef("--rcond must be in (0, 1), not %v", f.rcond)
	}
	return s, nil
}

// rankHint turns a rank-deficiency error into one that names both remedies.
func rankHint(err error) error {
	var rd *linalg.RankDeficientError
	if errors.As(err, &rd) {
		rank := fmt.Sprintf("numerical rank %d of %d", rd.Rank, rd.Dim)
		if rd.Rank < 0 {
			rank = fmt.Sprintf("singular, d = %d", rd.Dim)
		}
		return fmt.Errorf("the noise covariance C_B is rank-deficient (%s): pass --damping λ (absolute, in the units of C_B) or --inverse range (pseudo-inverse on its range)", rank)
	}
	return err
}

// verifyJSON is the --json output of verify (an interface: keys are kept).
type verifyJSON struct {
	Chains      int                       `json:"chains"`
	Steps       int                       `json:"steps"`
	Burnin      int                       `json:"burnin"`
	Thin        int                       `json:"thin"`
	Samples     int                       `json:"samples"`
	Simulator   string                    `json:"simulator"`
	DT          float64                   `json:"dt,omitempty"`
	Sampling    string                    `json:"sampling"`
	LR          float64                   `json:"lr"`
	Batch       int                       `json:"batch"`
	Kappa       float64                   `json:"kappa"`
	N           int                       `json:"n"`
	D           int                       `json:"d"`
	Basis       string                    `json:"basis"`
	BasisDim    int                       `json:"basis_dim"`
	Removed     map[string]int            `json:"removed_directions"`
	Mean        any                       `json:"mean"`
	Cov         any                       `json:"cov"`
	CovStderr   any                       `json:"cov_stderr"`
	RHatMax     jsonFloat                 `json:"rhat_max"`
	ESSMin      jsonFloat                 `json:"ess_min"`
	Directions  []verifyDirection         `json:"directions"`
	Predictions map[string]verifyPredJSON `json:"predictions"`
	Cloud       *verifyCloud              `json:"cloud,omitempty"`
	Provenance  provenance                `json:"provenance"`
	Warnings    []string                  `json:"warnings"`
}

// verifyCloud is the stationary cloud in the plane of the two sharpest comparison-basis
// directions (coordinates relative to θ*): up to 2000 kept samples spread over the chains,
// their measured mean and covariance, and the leading 2×2 block of each prediction.
type verifyCloud struct {
	X           []jsonFloat              `json:"x"`
	Y           []jsonFloat              `json:"y"`
	Mean        []jsonFloat              `json:"mean"`
	Cov         [][]jsonFloat            `json:"cov"`
	Predictions map[string][][]jsonFloat `json:"predictions"`
}

// newCloud builds the cloud from kept samples in basis coordinates (k ≥ 2).
func newCloud(samples [][]float64, k int, sum *sim.Summary, cmp []verify.Comparison) *verifyCloud {
	const most = 2000
	total := 0
	for _, c := range samples {
		total += len(c) / k
	}
	stride := (total + most - 1) / most
	c := &verifyCloud{Mean: finiteSlice(sum.Mean[:2]), Cov: block2(sum.Cov), Predictions: map[string][][]jsonFloat{}}
	i := 0
	for _, ch := range samples {
		for off := 0; off+k <= len(ch); off += k {
			if i%stride == 0 {
				c.X = append(c.X, jsonFloat(ch[off]))
				c.Y = append(c.Y, jsonFloat(ch[off+1]))
			}
			i++
		}
	}
	for _, p := range cmp {
		if p.Cov != nil {
			c.Predictions[p.Name] = block2(p.Cov)
		}
	}
	return c
}

func block2(m mat.Symmetric) [][]jsonFloat {
	return [][]jsonFloat{{jsonFloat(m.At(0, 0)), jsonFloat(m.At(0, 1))}, {jsonFloat(m.At(1, 0)), jsonFloat(m.At(1, 1))}}
}

type verifyDirection struct {
	H       jsonFloat            `json:"h"`
	Var     jsonFloat            `json:"var"`
	VarSE   jsonFloat            `json:"var_stderr"`
	Ratio   map[string]jsonFloat `json:"ratio"`
	RatioSE map[string]jsonFloat `json:"ratio_stderr"`
	RHat    jsonFloat            `json:"rhat"`
	ESS     jsonFloat            `json:"ess"`
}

type verifyPredJSON struct {
	Cov          any       `json:"cov"`
	RelFrobenius jsonFloat `json:"rel_frobenius"`
	KL           jsonFloat `json:"kl"`
	ScoreError   jsonFloat `json:"score_error"`
	MaxAbsT      jsonFloat `json:"max_abs_t"`
	Critical     jsonFloat `json:"critical"`
	Consistent   *bool     `json:"consistent"`
	Test         string    `json:"test"`
	Alpha        float64   `json:"alpha"`
	Why          string    `json:"why,omitempty"`
}

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "verify", verifySynopsis)
	var pf problemFlags
	pf.register(fs)
	var inv inverseFlags
	inv.register(fs)
	params := fs.String("params", "", "θ* as a 1-D .npy file; without it a full-batch minimisation (L-BFGS + Newton–CG) runs first")
	chains := fs.Int("chains", 32, "number of independent chains K")
	steps := fs.Int("steps", 20000, "steps per chain (of size --dt for the SDE), burn-in included")
	burnin := fs.Int("burnin", 2000, "initial steps not kept")
	thin := fs.Int("thin", 1, "keep every s-th iterate after burn-in")
	simName := fs.String("simulator", "sgd", "sgd, gauss (Gaussian-noise SGD), sde (Euler–Maruyama) or sgld")
	dt := fs.Float64("dt", 1, "SDE step in units of SGD steps, 0 < dt ≤ 1")
	topK := fs.Int("top-k", 20, "for d > 500: compare in the top-k Hessian subspace")
	alpha := fs.Float64("alpha", 0.01, "level of the consistency test")
	checkpoint := fs.String("checkpoint", "", "write the run's state here at intervals (atomically)")
	every := fs.Int("checkpoint-every", 0, "checkpoint interval in steps (default max(1000, steps/20))")
	resume := fs.String("resume", "", "resume from this checkpoint")
	jsonPath := fs.String("json", "", "write the results as JSON here")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := pf.checkLRBatch(); err != nil {
		return err
	}
	invSet, err := inv.settings()
	if err != nil {
		return err
	}
	method, err := sim.ParseMethod(*simName)
	if err != nil {
		return usagef("--simulator: %v", strings.TrimPrefix(err.Error(), "sim: "))
	}
	switch {
	case *chains < 2:
		return usagef("--chains must be ≥ 2 (standard errors come from the spread between chains), not %d", *chains)
	case *steps < 1:
		return usagef("--steps must be ≥ 1, not %d", *steps)
	case *burnin < 0 || *burnin >= *steps:
		return usagef("--burnin must be in [0, --steps), not %d", *burnin)
	case *thin < 1 || (*steps-*burnin)/(*thin) < 4:
		return usagef("--thin %d leaves fewer than 4 samples per chain", *thin)
	case !(*dt > 0 && *dt <= 1):
		return usagef("--dt must be in (0, 1], not %v", *dt)
	case *topK < 1:
		return usagef("--top-k must be ≥ 1, not %d", *topK)
	case !(*alpha > 0 && *alpha < 1):
		return usagef("--alpha must be in (0, 1), not %v", *alpha)
	}
	pr, err := pf.load()
	if err != nil {
		return err
	}
	if err := flagError(pr.CheckBatch(pf.batch)); err != nil {
		return err
	}
	n, d := pr.Data.Len(), pr.Model.NumParams()
	obj := model.Objective{Model: pr.Model, WeightDecay: pf.spec.WeightDecay}
	samp := pf.sampling
	kappa := sim.Kappa(samp, n, pf.batch)
	out := verifyJSON{Chains: *chains, Steps: *steps, Burnin: *burnin, Thin: *thin, Simulator: method.String(),
		Sampling: pf.sampling.String(), LR: pf.lr, Batch: pf.batch, Kappa: kappa, N: n, D: d,
		Provenance: newProvenance(e, pf.seed, pr), Warnings: []string{}}
	if method == sim.SDE {
		out.DT = *dt
	}
	if samp == sim.Reshuffle {
		out.Warnings = append(out.Warnings, "sampling reshuffle is predicted with κ_B of sampling without replacement")
	}

	// θ*.
	theta := make([]float64, d)
	if *params != "" {
		v, err := pr.ReadParams("params", *params)
		if err != nil {
			return flagError(err)
		}
		copy(theta, v)
	} else {
		model.InitParams(theta, pr.Model, rand.New(rand.NewPCG(pf.seed, 0x5eed)))
		if _, err := train.Minimize(obj, pr.Batch, theta, train.Settings{}); err != nil {
			return err
		}
	}
	grad := make([]float64, d)
	obj.Loss(grad, theta, pr.Batch)
	if gn := floats.Norm(grad, 2); gn > 1e-6 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("‖∇L(θ*)‖ = %.3g: θ* is not a minimum to 1e-6, so the Gaussian predictions are approximate", gn))
	}

	// The comparison basis and the predictions.
	setup, err := minimumSetup(obj, pr.Batch, theta, pf.lr, kappa, d <= 500, *topK, pf.seed)
	if err != nil {
		return err
	}
	out.Warnings = append(out.Warnings, setup.warnings...)
	s := setup.Setup
	out.BasisDim = len(s.Curvatures)
	out.Removed = map[string]int{"null": s.Null, "flat": s.Flat, "negative": s.Negative}
	if s.Full {
		out.Basis = "full"
	} else {
		out.Basis = "hessian-top-k"
		out.Warnings = append(out.Warnings, fmt.Sprintf("d = %d > 500: the comparison is made in the top-%d Hessian subspace V, with the predictions computed from VᵀHV and VᵀC_B V (the seed's C_B⁻¹ is that of the projected noise)", d, out.BasisDim))
	}
	ps := verify.PredictSettings{Inverse: invSet, SGLD: method == sim.SGLD}
	if lin := pr.Model.Name() == "linreg"; lin {
		ps.LS = leastSquaresOf(pr, theta, pf.spec.WeightDecay, pf.spec.Sigma)
	}
	preds, w, err := verify.Predictions(s, ps)
	out.Warnings = append(out.Warnings, w...)
	if err != nil {
		return rankHint(err)
	}
	if s.Full && d <= exactFieldMaxDim {
		setExactFields(preds, obj, pr.Batch, theta, s.Basis, pf.lr, kappa, invSet)
	} else {
		out.Warnings = append(out.Warnings, fmt.Sprintf("score errors use each prediction's Gaussian field −Σ⁻¹(θ − θ*): the exact fields of the note's and the posterior's scores are evaluated only in the full basis with d ≤ %d", exactFieldMaxDim))
	}

	// Simulate.
	V := s.Basis
	k := out.BasisDim
	vt := mat.DenseCopyOf(V.T()) // k×d, rows contiguous
	project := func(dst, th []float64) {
		for j := 0; j < k; j++ {
			row := vt.RawRowView(j)
			var sum float64
			for i, x := range row {
				sum += x * (th[i] - theta[i])
			}
			dst[j] = sum
		}
	}
	prog := newProgress(e.stdout)
	cfg := sim.Config{
		Method: method, Sampling: samp, LR: pf.lr, Batch: pf.batch, DT: *dt,
		Chains: *chains, Steps: *steps, Burnin: *burnin, Thin: *thin, Seed: pf.seed,
		Init: theta, LambdaMax: s.Curvatures[0], Project: project, ProjectDim: k,
		Checkpoint: *checkpoint, CheckpointEvery: *every, Resume: *resume,
		ConfigTag: fmt.Sprintf("%s|%s|wd=%g|sigma=%g|theta=%x", pr.Data.SHA256, pr.Model.Name(), pf.spec.WeightDecay, pf.spec.Sigma, floats.Sum(theta)),
		Observe: func(chain, step int, _ []float64) {
			if chain == 0 && step%1000 == 0 {
				prog.update(fmt.Sprintf("chain 0: step %d/%d", step, *steps), float64(step)/float64(*steps))
			}
		},
	}
	res, err := sim.Run(ctx, sim.NewModelProblem(pr.Model, pr.Batch, pf.spec.WeightDecay), cfg)
	prog.done()
	if err != nil {
		if errors.Is(err, context.Canceled) && *checkpoint != "" {
			return fmt.Errorf("interrupted; resume with --resume %s", *checkpoint)
		}
		return err
	}
	out.Warnings = append(out.Warnings, res.Warnings...)
	out.Samples = res.Chains * res.Kept
	sum := sim.Summarize(res.Samples, k)
	out.Warnings = append(out.Warnings, sum.Warnings...)
	out.RHatMax, out.ESSMin = jsonFloat(maxOf(sum.RHat)), jsonFloat(minOf(sum.ESS))
	if r := float64(out.RHatMax); r > 1.01 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("max split-R̂ = %.3f > 1.01: the chains may not have reached stationarity; increase --burnin or --steps", r))
	}
	cmp := verify.Compare(sum, res.Samples, preds, verify.Settings{Alpha: *alpha})
	// Matrices in the parameter basis when the basis is full and d ≤ 500, else in the
	// comparison basis, inline when small enough, otherwise as .npy files.
	emit := func(name string, m *mat.SymDense) (any, error) {
		if m == nil {
			return nil, nil
		}
		if s.Full {
			m = verify.Unproject(m, V)
		}
		if m.SymmetricDim() <= 500 {
			return symRows(m), nil
		}
		if *jsonPath == "" {
			return nil, nil
		}
		path := strings.TrimSuffix(*jsonPath, filepath.Ext(*jsonPath)) + "-" + name + ".npy"
		if err := data.WriteMatrix(path, m); err != nil {
			return nil, err
		}
		return filepath.Base(path), nil
	}
	if s.Full {
		mean := make([]float64, d)
		mat.NewVecDense(d, mean).MulVec(V, mat.NewVecDense(k, sum.Mean))
		floats.Add(mean, theta)
		out.Mean = finiteSlice(mean)
	} else {
		out.Mean = finiteSlice(sum.Mean)
	}
	if out.Cov, err = emit("cov", sum.Cov); err != nil {
		return err
	}
	if out.CovStderr, err = emit("cov_stderr", sum.CovSE); err != nil {
		return err
	}
	out.Predictions = map[string]verifyPredJSON{}
	for _, c := range cmp {
		pj := verifyPredJSON{RelFrobenius: jsonFloat(c.RelFrobenius), KL: jsonFloat(c.KL), ScoreError: jsonFloat(c.ScoreError),
			MaxAbsT: jsonFloat(c.MaxAbsZ), Critical: jsonFloat(c.Critical), Test: c.Test, Alpha: c.Alpha}
		if c.Cov != nil {
			cons := c.Consistent
			pj.Consistent = &cons
			if pj.Cov, err = emit("pred-"+c.Name, c.Cov); err != nil {
				return err
			}
		}
		for _, p := range preds {
			if p.Name == c.Name {
				pj.Why = p.Why
			}
		}
		out.Warnings = append(out.Warnings, c.Warnings...)
		out.Predictions[c.Name] = pj
	}
	for j := 0; j < k; j++ {
		dir := verifyDirection{H: jsonFloat(s.Curvatures[j]), Var: jsonFloat(sum.Cov.At(j, j)), VarSE: jsonFloat(sum.CovSE.At(j, j)),
			Ratio: map[string]jsonFloat{}, RatioSE: map[string]jsonFloat{}, RHat: jsonFloat(sum.RHat[j]), ESS: jsonFloat(sum.ESS[j])}
		for _, c := range cmp {
			if c.Ratios != nil {
				dir.Ratio[c.Name] = jsonFloat(c.Ratios[j])
				dir.RatioSE[c.Name] = jsonFloat(c.RatioSE[j])
			}
		}
		out.Directions = append(out.Directions, dir)
	}
	if k >= 2 {
		out.Cloud = newCloud(res.Samples, k, sum, cmp)
	}
	printVerify(e, pr, &out, cmp)
	if *jsonPath != "" {
		if err := writeJSON(*jsonPath, out); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", *jsonPath)
	}
	return nil
}

func printVerify(e *env, pr *problem.Problem, out *verifyJSON, cmp []verify.Comparison) {
	fmt.Fprintf(e.stdout, "%s on %s (n = %d, d = %d): %s, η = %g, B = %d, sampling %s (κ_B = %.4g)\n",
		pr.Model.Name(), pr.Data.Name, out.N, out.D, out.Simulator, out.LR, out.Batch, out.Sampling, out.Kappa)
	fmt.Fprintf(e.stdout, "%d chains × %d kept samples; basis %s (%d directions); max R̂ %.4f, min ESS %.0f\n",
		out.Chains, out.Samples/out.Chains, out.Basis, out.BasisDim, float64(out.RHatMax), float64(out.ESSMin))
	fmt.Fprintf(e.stdout, "%-14s %12s %10s %12s %9s  %s\n", "prediction", "rel. Frob.", "KL", "score err.", "max|t|", "verdict")
	for _, c := range cmp {
		verdict := "consistent"
		switch {
		case c.Cov == nil:
			verdict = "no prediction"
		case !c.Consistent:
			verdict = "inconsistent"
		}
		fmt.Fprintf(e.stdout, "%-14s %12.4g %10.4g %12.4g %9.3g  %s\n", c.Name, c.RelFrobenius, c.KL, c.ScoreError, c.MaxAbsZ, verdict)
	}
	if len(cmp) > 0 {
		fmt.Fprintf(e.stdout, "test: %s, α = %g\n", cmp[0].Test, cmp[0].Alpha)
	}
	for _, w := range out.Warnings {
		fmt.Fprintf(e.stdout, "warning: %s\n", w)
	}
}

func symRows(m mat.Symmetric) [][]jsonFloat {
	n := m.SymmetricDim()
	rows := make([][]jsonFloat, n)
	for i := range rows {
		rows[i] = make([]jsonFloat, n)
		for j := range rows[i] {
			rows[i][j] = jsonFloat(m.At(i, j))
		}
	}
	return rows
}

func finiteSlice(v []float64) []jsonFloat {
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = jsonFloat(x)
	}
	return out
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		if x > m || math.IsNaN(x) {
			m = x
		}
	}
	return m
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		if x < m || math.IsNaN(x) {
			m = x
		}
	}
	return m
}
