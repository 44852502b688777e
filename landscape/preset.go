package landscape

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/sim"
)

// Preset is a landscape with a finite example set (so sim's SGD is real mini-batch SGD on
// it) and exact per-θ functions. Every Preset has no regulariser: L = (1/N) Σ ℓ_i.
type Preset interface {
	sim.Problem
	// Name is the preset's command-line spelling ("ou", "multiplicative", "wells", "ou2d",
	// "wells2d").
	Name() string
	// Params returns the preset's parameters, for reports.
	Params() map[string]float64
	// Moments writes ∇L(θ) into grad (length d) and C(θ) = (1/N) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ,
	// the population covariance of the per-example gradients computed exactly from the
	// example set, into cov (d×d, row-major). Either destination may be nil. The drift is
	// μ = −η∇L and the diffusion D = η²κ_B C (MATH.md §3).
	Moments(grad, cov, theta []float64)
	// Hess writes ∇²L(θ) into dst (d×d, row-major).
	Hess(dst, theta []float64)
	// Domain returns a box [lo, hi] that holds the stationary density at learning rate lr
	// and noise factor kappa = κ_B up to a negligible tail.
	Domain(lr, kappa float64) (lo, hi []float64)
	// Minima returns the local minima of L: in 1-D in increasing order, in 2-D ordered
	// along the first coordinate.
	Minima() [][]float64
	// Saddles returns the len(Minima())−1 saddles of L: saddle k separates minima k and k+1.
	Saddles() [][]float64
	// Defaults returns the preset's default learning rate η and batch size B.
	Defaults() (lr float64, batch int)
}

// Variances are closed-form stationary covariances (d×d, row-major) at a given η and κ_B. A
// nil entry means the covariance does not exist (infinite or undefined); Warnings say why.
type Variances struct {
	// SDE is the stationary covariance of the SDE dθ = −η∇L dt + (η²κ_B C)^{1/2} dW.
	SDE []float64
	// Note is the covariance of the note's density (the SDE's without the 1/D factor, or
	// its precision (2/η) C_B⁻¹H for constant noise).
	Note []float64
	// Discrete is the stationary covariance of discrete-time SGD.
	Discrete []float64
	// Warnings explain nil entries.
	Warnings []string
}

// ClosedForm is implemented by the presets whose stationary covariances are known in closed
// form (ou, multiplicative, ou2d; MATH.md §6, §8).
type ClosedForm interface {
	Variances(lr, kappa float64) Variances
}

// PresetSettings selects and configures any preset (the command line's view). Zero fields
// mean the preset's defaults; fields a preset does not use are ignored.
type PresetSettings struct {
	// Name is "ou", "multiplicative", "wells", "ou2d" or "wells2d"; default "wells".
	Name string
	// N is the number of examples (all presets); default 1000.
	N int
	// H is ou's and multiplicative's curvature h; default 1.
	H float64
	// V is ou's per-example gradient variance; default 1.
	V float64
	// V0 and V1 are multiplicative's noise C(θ) = V0 + V1·θ²; defaults 1 and 1. V0 is also
	// the wells presets' Var0, the variance of their additive noise floor (flag --var0).
	V0, V1 float64
	// Wells, Spread, Confine and Balance configure wells and wells2d (see WellsSettings and
	// Wells2DSettings); Spread nil means the default.
	Wells   string
	Spread  *float64
	Confine float64
	Balance bool
	// Hess2 and Cov2 are ou2d's H and C as "h11,h12,h22" and "c11,c12,c22".
	Hess2, Cov2 string
}

// PresetNames lists the presets NewPreset knows.
var PresetNames = []string{"ou", "multiplicative", "wells", "ou2d", "wells2d"}

// NewPreset builds the preset s names. Errors name the setting that is out of range.
func NewPreset(s PresetSettings) (Preset, error) {
	switch strings.ToLower(strings.TrimSpace(s.Name)) {
	case "ou":
		return NewOU(OUSettings{H: s.H, V: s.V, N: s.N})
	case "multiplicative", "mult":
		return NewMultiplicative(MultiplicativeSettings{H: s.H, V0: s.V0, V1: s.V1, N: s.N})
	case "wells", "":
		return NewWells(WellsSettings{Wells: s.Wells, Spread: s.Spread, Var0: s.V0, Confine: s.Confine, N: s.N, Balance: s.Balance})
	case "ou2d":
		var o OU2DSettings
		var err error
		o.N = s.N
		if s.Hess2 != "" {
			if o.H, err = ParseSym2(s.Hess2); err != nil {
				return nil, fmt.Errorf("landscape: hessian %q: %v", s.Hess2, err)
			}
		}
		if s.Cov2 != "" {
			if o.C, err = ParseSym2(s.Cov2); err != nil {
				return nil, fmt.Errorf("landscape: covariance %q: %v", s.Cov2, err)
			}
		}
		return NewOU2D(o)
	case "wells2d":
		return NewWells2D(Wells2DSettings{Wells: s.Wells, Spread: s.Spread, Var0: s.V0, Confine: s.Confine, N: s.N, Balance: s.Balance})
	}
	return nil, fmt.Errorf("landscape: unknown preset %q (want %s)", s.Name, strings.Join(PresetNames, ", "))
}

// ParseSym2 parses a symmetric 2×2 matrix written "a11,a12,a22" into [a11, a12, a22].
func ParseSym2(s string) ([3]float64, error) {
	var m [3]float64
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return m, fmt.Errorf("want three numbers \"a11,a12,a22\", have %d", len(f))
	}
	for i, t := range f {
		v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return m, fmt.Errorf("%q is not a finite number", t)
		}
		m[i] = v
	}
	return m, nil
}

// checkLen panics unless len(x) == n.
func checkLen(what string, x []float64, n int) {
	if len(x) != n {
		panic(fmt.Sprintf("landscape: len(%s) = %d, want %d", what, len(x), n))
	}
}

// positive returns def when v is 0, an error (a *field.Error keyed by the preset's flag,
// key) when v is negative or not finite, else v.
func positive(key string, v, def float64) (float64, error) {
	if v == 0 {
		return def, nil
	}
	if !(v > 0) || math.IsInf(v, 1) {
		return 0, fmt.Errorf("landscape: %w", field.Errorf(key, "must be positive and finite, not %v", v))
	}
	return v, nil
}

// nonNegative returns def when v is nil, an error (a *field.Error keyed by the preset's
// flag, key) when *v is negative or not finite, else *v.
func nonNegative(key string, v *float64, def float64) (float64, error) {
	if v == nil {
		return def, nil
	}
	if !(*v >= 0) || math.IsInf(*v, 1) {
		return 0, fmt.Errorf("landscape: %w", field.Errorf(key, "must be ≥ 0 and finite, not %v", *v))
	}
	return *v, nil
}

// numExamples returns def when n is 0, an error (a *field.Error keyed "n") when n < min.
func numExamples(n, min, def int) (int, error) {
	if n == 0 {
		return def, nil
	}
	if n < min {
		return 0, fmt.Errorf("landscape: %w", field.Errorf("n", "is %d examples, need at least %d", n, min))
	}
	return n, nil
}

// meanVar returns the population mean and variance of x (two passes).
func meanVar(x []float64) (m, v float64) {
	for _, t := range x {
		m += t
	}
	m /= float64(len(x))
	for _, t := range x {
		v += (t - m) * (t - m)
	}
	return m, v / float64(len(x))
}

// covariance returns the population covariance of x and y (two passes).
func covariance(x, y []float64) float64 {
	mx, _ := meanVar(x)
	my, _ := meanVar(y)
	var c float64
	for i := range x {
		c += (x[i] - mx) * (y[i] - my)
	}
	return c / float64(len(x))
}

// Coefficients writes the SDE's drift μ(θ) = −η∇L(θ) into mu (length d) and its diffusion
// D(θ) = η²κ_B C(θ) into diff (d×d, row-major) for learning rate lr = η and kappa = κ_B
// (MATH.md §3). Either destination may be nil.
func Coefficients(p Preset, lr, kappa float64, mu, diff, theta []float64) {
	p.Moments(mu, diff, theta)
	for i := range mu {
		mu[i] *= -lr
	}
	for i := range diff {
		diff[i] *= lr * lr * kappa
	}
}
