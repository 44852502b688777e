package escape

import (
	"fmt"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
)

// Output is the result of Run, and the escape command's JSON.
type Output struct {
	Provenance problem.Provenance `json:"provenance"`
	Settings   OutSettings        `json:"settings"`
	N          int                `json:"n"`
	D          int                `json:"d"`
	// Loss is L(θ*), GradNorm ‖∇L(θ*)‖, Threshold L(θ*) + δ.
	Loss      jsonnum.Float `json:"loss_star"`
	GradNorm  jsonnum.Float `json:"grad_norm_star"`
	Threshold jsonnum.Float `json:"threshold"`
	// LambdaMax is λ_max(∇²L(θ*)), TopEigenvalues the top-k, Stability η·λ_max (< 2).
	LambdaMax      jsonnum.Float   `json:"lambda_max"`
	TopEigenvalues []jsonnum.Float `json:"top_eigenvalues"`
	Stability      jsonnum.Float   `json:"lr_lambda_max"`
	// TraceC is tr C(θ*), TraceCB tr C_B(θ*) = κ_B tr C(θ*).
	TraceC  jsonnum.Float `json:"trace_c"`
	TraceCB jsonnum.Float `json:"trace_cb"`
	// StationaryExcess is (η/4)·tr C_B(θ*), the stationary loss excess of SGD near θ*; a δ
	// below 3× it draws a warning.
	StationaryExcess jsonnum.Float `json:"stationary_excess"`
	Noises           NoiseResults  `json:"noises"`
	Warnings         []string      `json:"warnings"`
}

// OutSettings records the settings of a run.
type OutSettings struct {
	LR         float64 `json:"lr"`
	Batch      int     `json:"batch"`
	Sampling   string  `json:"sampling"`
	Kappa      float64 `json:"kappa"`
	Chains     int     `json:"chains"`
	Steps      int     `json:"steps"`
	CheckEvery int     `json:"check_every"`
	Delta      float64 `json:"delta"`
	TopK       int     `json:"top_k"`
	Landing    int     `json:"landing"`
	Seed       uint64  `json:"seed"`
	// Minimum says where θ* came from.
	Minimum string `json:"minimum"`
}

// NoiseResults holds one NoiseResult per noise.
type NoiseResults struct {
	SGD        *NoiseResult `json:"sgd"`
	Gauss      *NoiseResult `json:"gauss"`
	Isotropic  *NoiseResult `json:"isotropic"`
	TopHessian *NoiseResult `json:"top_hessian"`
}

func (r *NoiseResults) set(n Noise, v *NoiseResult) {
	switch n {
	case SGDNoise:
		r.SGD = v
	case GaussNoise:
		r.Gauss = v
	case IsotropicNoise:
		r.Isotropic = v
	case TopHessianNoise:
		r.TopHessian = v
	}
}

// Get returns the result of noise n.
func (r *NoiseResults) Get(n Noise) *NoiseResult {
	switch n {
	case SGDNoise:
		return r.SGD
	case GaussNoise:
		return r.Gauss
	case IsotropicNoise:
		return r.Isotropic
	case TopHessianNoise:
		return r.TopHessian
	}
	return nil
}

// NoiseResult summarises the escapes of one noise's chains (MATH.md §12).
type NoiseResult struct {
	Description string `json:"description"`
	// Escaped is the number of chains that escaped before the horizon; EscapedFraction
	// E/K and its binomial standard error.
	Escaped               int           `json:"escaped"`
	EscapedFraction       jsonnum.Float `json:"escaped_fraction"`
	EscapedFractionStderr jsonnum.Float `json:"escaped_fraction_stderr"`
	// MedianEscapeStep is the Kaplan–Meier median (null when survival stays above ½).
	MedianEscapeStep jsonnum.Float `json:"median_escape_step"`
	// MeanEscapeStep is the censored-exponential mean exposure/E and its standard error
	// exposure/E^{3/2} (null without escapes).
	MeanEscapeStep       jsonnum.Float `json:"mean_escape_step"`
	MeanEscapeStepStderr jsonnum.Float `json:"mean_escape_step_stderr"`
	// RestrictedMean is the area under the Kaplan–Meier curve up to the horizon, the
	// restricted mean E[min(T, horizon)] at the check resolution.
	RestrictedMean jsonnum.Float `json:"restricted_mean_escape_step"`
	// Survival is the Kaplan–Meier curve at the check times.
	Survival []SurvivalPoint `json:"survival"`
	// EscapeSteps is each chain's escape step (the first check that saw it escaped), null
	// when censored at the horizon.
	EscapeSteps []*int  `json:"escape_steps"`
	Landing     Landing `json:"landing"`
}

// Landing is where escaped chains land after a full-batch descent: means over the descended
// chains with their standard errors (null when none).
type Landing struct {
	Chains          int           `json:"chains"`
	LambdaMax       jsonnum.Float `json:"lambda_max"`
	LambdaMaxStderr jsonnum.Float `json:"lambda_max_stderr"`
	TestError       jsonnum.Float `json:"test_error"`
	TestErrorStderr jsonnum.Float `json:"test_error_stderr"`
}

// Write writes o as JSON to path, atomically.
func (o *Output) Write(path string) error { return atomicfile.WriteJSON(path, o) }

// ReadOutput reads an Output that Write wrote.
func ReadOutput(path string) (*Output, error) {
	var o Output
	if err := atomicfile.ReadJSON(path, &o); err != nil {
		return nil, fmt.Errorf("escape: %w", err)
	}
	return &o, nil
}
