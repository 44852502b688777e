package stationary

// The names of the stationary-covariance predictions near a minimum (docs/MATH.md §6, §9),
// as they appear in every output (keys of verify's "predictions", score's prior precisions
// and the report). PredNote keeps the key "seed" of earlier outputs: it is the note's
// prediction.
const (
	PredNote         = "seed"          // the note's: precision (2/η)C_B⁻¹H
	PredContinuous   = "continuous"    // continuous Lyapunov
	PredDiscrete     = "discrete"      // discrete Lyapunov
	PredLinearExact  = "linear_exact"  // exact for linear least squares
	PredPosterior    = "posterior"     // Laplace posterior
	PredSGLDDiscrete = "sgld_discrete" // SGLD's discrete Lyapunov
	PredSGLDExact    = "sgld_exact"    // SGLD's exact least squares
)

// PredictionNames lists the predictions in the order the outputs and the report give them.
var PredictionNames = []string{PredNote, PredContinuous, PredDiscrete, PredLinearExact, PredPosterior, PredSGLDDiscrete, PredSGLDExact}
