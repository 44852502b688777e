package study

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
)

// This file holds read-only views of the subcommands' JSON outputs: the keys the report and
// Summarize use, as the commands' --json interfaces define them (issues 3, 4 and 5). Every
// other key stays in Results as the command wrote it.

// Float is a JSON number that may be null (read as NaN, written back as null).
type Float = jsonnum.Float

// NaN is a Float that marks a value absent from the output it was read from.
func NaN() Float { return Float(math.NaN()) }

// Floats is a JSON number, null, or an array of them (a scalar reads as one element), so
// that a key given per direction or as one value can be read either way.
type Floats []float64

// UnmarshalJSON reads a number, null or an array of numbers and nulls (null as NaN).
// Nested arrays (a 2-D grid) are flattened in order.
func (fs *Floats) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make([]float64, 0, len(raw))
		for _, r := range raw {
			var sub Floats
			if err := sub.UnmarshalJSON(r); err != nil {
				return err
			}
			out = append(out, sub...)
		}
		*fs = out
		return nil
	}
	var f Float
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*fs = []float64{float64(f)}
	return nil
}

// Matrix is a matrix given as an array of rows; null entries read as NaN.
type Matrix [][]float64

// UnmarshalJSON reads an array of rows of numbers and nulls.
func (m *Matrix) UnmarshalJSON(b []byte) error {
	var rows []Floats
	if err := json.Unmarshal(b, &rows); err != nil {
		return err
	}
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	*m = out
	return nil
}

// NewFloats returns a Floats filled with NaN (absent values), of length n.
func NewFloats(n int) Floats {
	f := make(Floats, n)
	for i := range f {
		f[i] = math.NaN()
	}
	return f
}

// ScoreOutput is score --json (issue 3).
type ScoreOutput struct {
	N        int    `json:"n"`
	D        int    `json:"d"`
	LR       Float  `json:"lr"`
	Batch    int    `json:"batch"`
	Sampling string `json:"sampling"`
	Kappa    Float  `json:"kappa"`
	Damping  Float  `json:"damping"`
	Inverse  string `json:"inverse"`
	Loss     Float  `json:"loss"`
	GradNorm Float  `json:"grad_norm"`
	Noise    struct {
		Trace          Float  `json:"trace"`
		TraceBatch     Float  `json:"trace_batch"`
		Rank           Float  `json:"rank"`
		RankEstimated  bool   `json:"rank_estimated"`
		TopEigenvalues Floats `json:"top_eigenvalues"`
		NoiseScale     Float  `json:"noise_scale"`
	} `json:"noise"`
	AtMinimum bool `json:"at_minimum"`
	// Vectors are the note's vectors at θ (length d each).
	Vectors struct {
		StationaryScore        Floats `json:"stationary_score"`
		LikelihoodScore        Floats `json:"likelihood_score"`
		PriorScore             Floats `json:"prior_score"`
		StationaryScoreGeneral Floats `json:"stationary_score_general"`
	} `json:"vectors"`
	Diagnostics struct {
		RangeFraction       Float  `json:"range_fraction"`
		Commutator          Float  `json:"commutator"`
		AsymmetrySeed       Float  `json:"asymmetry_seed"`
		AsymmetryGeneral    Float  `json:"asymmetry_general"`
		DivergenceRatio     Float  `json:"divergence_ratio"`
		DivergenceMethod    string `json:"divergence_method"`
		NoiseKurtosis       Floats `json:"noise_kurtosis"`
		NoiseKurtosisStderr Float  `json:"noise_kurtosis_stderr"`
		NoiseTailIndex      Floats `json:"noise_tail_index"`
	} `json:"diagnostics"`
	Gaussian            *ScoreGaussian     `json:"gaussian"`
	OptimalLR           Float              `json:"optimal_lr"`
	ImplicitRegularizer Float              `json:"implicit_regularizer"`
	Provenance          problem.Provenance `json:"provenance"`
	Warnings            []string           `json:"warnings"`
}

// ScoreGaussian is score's "gaussian" object: the predictions near a minimum (MATH.md §6).
type ScoreGaussian struct {
	RemovedDirections int              `json:"removed_directions"`
	Directions        []ScoreDirection `json:"directions"`
}

// ScoreDirection is one row of score's per-direction table, along the Hessian
// eigendirection v_k (sorted by h descending).
type ScoreDirection struct {
	H              Float            `json:"h"`
	C              Float            `json:"c"`
	VarSeed        Float            `json:"var_seed"`
	VarContinuous  Float            `json:"var_continuous"`
	VarDiscrete    Float            `json:"var_discrete"`
	VarLinearExact Float            `json:"var_linear_exact"`
	VarPosterior   Float            `json:"var_posterior"`
	PriorPrecision map[string]Float `json:"prior_precision"`
}

// UnmarshalJSON presets the optional keys to NaN so that an absent key reads as absent.
func (d *ScoreDirection) UnmarshalJSON(b []byte) error {
	type plain ScoreDirection
	p := plain{H: NaN(), C: NaN(), VarSeed: NaN(), VarContinuous: NaN(), VarDiscrete: NaN(), VarLinearExact: NaN(), VarPosterior: NaN()}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*d = ScoreDirection(p)
	return nil
}

// UnmarshalJSON presets the optional keys to NaN.
func (s *ScoreOutput) UnmarshalJSON(b []byte) error {
	type plain ScoreOutput
	var p plain
	p.Damping, p.Loss, p.OptimalLR, p.ImplicitRegularizer = NaN(), NaN(), NaN(), NaN()
	p.Noise.Trace, p.Noise.TraceBatch, p.Noise.Rank, p.Noise.NoiseScale = NaN(), NaN(), NaN(), NaN()
	dg := &p.Diagnostics
	dg.RangeFraction, dg.Commutator, dg.AsymmetrySeed, dg.AsymmetryGeneral, dg.DivergenceRatio = NaN(), NaN(), NaN(), NaN(), NaN()
	dg.NoiseKurtosisStderr = NaN()
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = ScoreOutput(p)
	return nil
}

// VerifyOutput is verify --json (issue 4).
type VerifyOutput struct {
	Chains      int                         `json:"chains"`
	Steps       int                         `json:"steps"`
	Burnin      int                         `json:"burnin"`
	Thin        int                         `json:"thin"`
	Samples     int                         `json:"samples"`
	Simulator   string                      `json:"simulator"`
	Sampling    string                      `json:"sampling"`
	LR          Float                       `json:"lr"`
	Batch       int                         `json:"batch"`
	Basis       string                      `json:"basis"`
	RhatMax     Float                       `json:"rhat_max"`
	ESSMin      Float                       `json:"ess_min"`
	Directions  []VerifyDirection           `json:"directions"`
	Predictions map[string]VerifyPrediction `json:"predictions"`
	Cloud       *Cloud                      `json:"cloud"`
	Provenance  problem.Provenance          `json:"provenance"`
	Warnings    []string                    `json:"warnings"`
}

// VerifyDirection is verify's per-direction measurement along a Hessian eigendirection:
// the measured variance, its standard error, and its ratio to each prediction (with the
// ratio's standard error).
type VerifyDirection struct {
	H           Float            `json:"h"`
	Var         Float            `json:"var"`
	VarStderr   Float            `json:"var_stderr"`
	Ratio       map[string]Float `json:"ratio"`
	RatioStderr map[string]Float `json:"ratio_stderr"`
}

// VerifyPrediction is verify's judgement of one prediction.
type VerifyPrediction struct {
	RelFrobenius Float  `json:"rel_frobenius"`
	KL           Float  `json:"kl"`
	ScoreError   Float  `json:"score_error"`
	Consistent   *bool  `json:"consistent"`
	Test         string `json:"test"`
	Alpha        Float  `json:"alpha"`
	// Why says why a prediction could not be made (its covariance is null).
	Why string `json:"why"`
}

// UnmarshalJSON presets the optional numbers to NaN.
func (p *VerifyPrediction) UnmarshalJSON(b []byte) error {
	type plain VerifyPrediction
	q := plain{RelFrobenius: NaN(), KL: NaN(), ScoreError: NaN(), Alpha: NaN()}
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*p = VerifyPrediction(q)
	return nil
}

// Cloud is the stationary cloud in the plane of the two sharpest Hessian directions: the
// samples' coordinates X, Y along v_1, v_2 relative to θ*, their mean and covariance, and
// each prediction's 2×2 covariance in that plane.
type Cloud struct {
	X           Floats            `json:"x"`
	Y           Floats            `json:"y"`
	Mean        Floats            `json:"mean"`
	Cov         Matrix            `json:"cov"`
	Predictions map[string]Matrix `json:"predictions"`
}

// decode reads raw into v, naming the step on failure.
func decode(raw json.RawMessage, v any, step string) error {
	if len(raw) == 0 {
		return fmt.Errorf("step %s has no output", step)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("step %s: reading its JSON output: %v", step, err)
	}
	return nil
}
