package linalg

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
)

// Inverse applies an inverse of a noise covariance C_B, damped or restricted to its range
// (MATH.md §4, "Rank deficiency"). The strategies are DenseInverse (a d×d matrix),
// WoodburyInverse (a low-rank Factor) and CGInverse (matrix-free conjugate gradients).
type Inverse interface {
	// Dim returns d.
	Dim() int
	// Solve writes the solution x of the (damped, or range-restricted) system into dst:
	// x = (C_B + λI)⁻¹ b when damped, x = C_B⁺ b (pseudo-inverse on the kept range) in range
	// mode, x = C_B⁻¹ b otherwise. dst and b have length d and may be the same slice.
	Solve(dst, b []float64) error
	// Rank returns the numerical rank of the matrix actually inverted: d when damped or when
	// C_B has full numerical rank, the number of kept eigenvalues in range mode.
	Rank() int
	// RangeFraction returns ‖b − P b‖² / ‖b‖², the fraction of ‖b‖² outside the range used,
	// P the orthogonal projector on it: 0 when damped or full rank, and 0 for b = 0.
	RangeFraction(b []float64) float64
}

// InverseSettings controls how C_B is inverted. The zero value means an exact inverse, which
// fails with a *RankDeficientError when C_B is numerically rank-deficient.
type InverseSettings struct {
	// Damping is the absolute amount λ ≥ 0 added to C_B (in the units of C_B): the inverse is
	// that of C_B + λI. Default 0 (no damping). Exclusive with Range.
	Damping float64
	// Range selects the Moore–Penrose pseudo-inverse on the range of C_B (eigenvalues at or
	// below RCond·λ_max dropped). Default false. Not available for CGInverse.
	Range bool
	// RCond is the relative threshold of the numerical rank: eigenvalues at or below
	// RCond·λ_max count as zero (MATH.md §2). Default 1e-10.
	RCond float64
	// CGTol is the relative residual at which CG stops: ‖b − (C_B + λI)x‖ ≤ CGTol·‖b‖.
	// Default 1e-10.
	CGTol float64
	// CGMaxIter is the largest number of CG iterations. Default max(2d, 100).
	CGMaxIter int
}

// Default values of InverseSettings.
const (
	DefaultRCond = 1e-10
	DefaultCGTol = 1e-10
)

// withDefaults returns the settings with defaults filled in, or an error for invalid values.
func (s *InverseSettings) withDefaults(d int) (InverseSettings, error) {
	var out InverseSettings
	if s != nil {
		out = *s
	}
	switch {
	case out.Damping < 0 || math.IsNaN(out.Damping) || math.IsInf(out.Damping, 0):
		return out, fmt.Errorf("linalg: damping %g must be finite and ≥ 0", out.Damping)
	case out.Damping > 0 && out.Range:
		return out, fmt.Errorf("linalg: damping (%g) and the range pseudo-inverse are exclusive: choose one", out.Damping)
	case out.RCond < 0 || math.IsNaN(out.RCond) || out.RCond >= 1:
		return out, fmt.Errorf("linalg: rcond %g must be in [0, 1)", out.RCond)
	case out.CGTol < 0 || math.IsNaN(out.CGTol):
		return out, fmt.Errorf("linalg: CG tolerance %g must be ≥ 0", out.CGTol)
	case out.CGMaxIter < 0:
		return out, fmt.Errorf("linalg: CG iteration limit %d must be ≥ 0", out.CGMaxIter)
	}
	if out.RCond == 0 {
		out.RCond = DefaultRCond
	}
	if out.CGTol == 0 {
		out.CGTol = DefaultCGTol
	}
	if out.CGMaxIter == 0 {
		out.CGMaxIter = max(2*d, 100)
	}
	return out, nil
}

// RankDeficientError reports a numerically rank-deficient C_B that was to be inverted with
// neither damping nor the range pseudo-inverse. Rank is −1 when the rank is not known (CG
// detected the deficiency without computing a spectrum).
type RankDeficientError struct {
	Rank, Dim int
	RCond     float64
}

func (e *RankDeficientError) Error() string {
	rank := fmt.Sprintf("numerical rank %d of %d", e.Rank, e.Dim)
	if e.Rank < 0 {
		rank = fmt.Sprintf("numerical rank below %d", e.Dim)
	}
	return fmt.Sprintf("linalg: noise covariance C_B is rank-deficient (%s at rcond %g): set a damping or use the range pseudo-inverse", rank, e.RCond)
}

// NotPSDError reports a matrix that should be positive semidefinite but has a clearly
// negative eigenvalue (below −max(rcond, d·ε)·λ_max).
type NotPSDError struct {
	What       string
	Eigenvalue float64
	MaxEig     float64
}

func (e *NotPSDError) Error() string {
	return fmt.Sprintf("linalg: %s is not positive semidefinite: eigenvalue %g (largest %g)", e.What, e.Eigenvalue, e.MaxEig)
}

// NotConvergedError reports an iterative method that stopped before reaching its tolerance.
type NotConvergedError struct {
	Method    string
	Iter      int
	Residual  float64 // relative residual reached
	Tolerance float64
}

func (e *NotConvergedError) Error() string {
	return fmt.Sprintf("linalg: %s did not converge in %d iterations (relative residual %.3g > tolerance %.3g)", e.Method, e.Iter, e.Residual, e.Tolerance)
}

// classify splits the eigenvalues vals (any order) of a PSD matrix by the rcond rule. It
// returns λ_max, whether each value is kept (> rcond·λ_max), the count kept, and an error if a
// value is clearly negative (below −max(rcond, n·ε)·λ_max).
func classify(vals []float64, rcond float64, what string) (lmax float64, keep []bool, rank int, err error) {
	lmax = math.Inf(-1)
	for _, v := range vals {
		lmax = max(lmax, v)
	}
	keep = make([]bool, len(vals))
	if lmax <= 0 {
		// The zero matrix (or a negative semidefinite one, reported below).
		for _, v := range vals {
			if v < 0 {
				return lmax, keep, 0, &NotPSDError{What: what, Eigenvalue: v, MaxEig: lmax}
			}
		}
		return 0, keep, 0, nil
	}
	neg := -max(rcond, float64(len(vals))*eps) * lmax
	for i, v := range vals {
		if v < neg {
			return lmax, keep, 0, &NotPSDError{What: what, Eigenvalue: v, MaxEig: lmax}
		}
		if v > rcond*lmax {
			keep[i] = true
			rank++
		}
	}
	return lmax, keep, rank, nil
}

const eps = 0x1p-52

// sameSlice reports whether a and b share their first element.
func sameSlice(a, b []float64) bool {
	return len(a) > 0 && len(b) > 0 && &a[0] == &b[0]
}

func errEigen(what string) error {
	return fmt.Errorf("linalg: eigendecomposition of %s failed to converge", what)
}

// NonFiniteError is an input matrix holding a NaN or an infinity.
type NonFiniteError struct {
	// What names the computation, Value is the entry and I, J its position.
	What  string
	Value float64
	I, J  int
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("%s: input matrix has a non-finite entry %g at (%d, %d)", e.What, e.Value, e.I, e.J)
}

// CheckFinite returns a *NonFiniteError naming what when one of ms holds a NaN or an
// infinity; nil matrices are skipped.
func CheckFinite(what string, ms ...mat.Matrix) error {
	for _, m := range ms {
		if m == nil {
			continue
		}
		r, c := m.Dims()
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				if v := m.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
					return &NonFiniteError{What: what, Value: v, I: i, J: j}
				}
			}
		}
	}
	return nil
}

// checkFinite is CheckFinite with linalg's prefix.
func checkFinite(what string, ms ...mat.Matrix) error {
	if err := CheckFinite(what, ms...); err != nil {
		return fmt.Errorf("linalg: %w", err)
	}
	return nil
}

// DefaultInverseSettings returns an exact inverse with rcond DefaultRCond.
func DefaultInverseSettings() InverseSettings { return InverseSettings{RCond: DefaultRCond} }

// Validate checks settings as a user gives them (the damping, range and rcond of the score
// and verify commands): damping ≥ 0 and finite, damping and range exclusive, rcond in (0, 1).
// The error is a *field.Error keyed by the flag name.
func (s *InverseSettings) Validate() error {
	switch {
	case !(s.Damping >= 0) || math.IsInf(s.Damping, 0):
		return field.Errorf("damping", "must be ≥ 0 and finite, not %v", s.Damping)
	case s.Damping > 0 && s.Range:
		return field.Errorf("damping", "and --inverse range are exclusive: choose one")
	case !(s.RCond > 0 && s.RCond < 1):
		return field.Errorf("rcond", "must be in (0, 1), not %v", s.RCond)
	}
	return nil
}
