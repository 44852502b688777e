package linalg

import (
	"errors"

	"gonum.org/v1/gonum/floats"
)

// CGInverse solves (C_B + λI) x = b by conjugate gradients on the products of a SymOperator
// (matrix-free, MATH.md §2), starting from x = 0 and stopping when
// ‖b − (C_B + λI)x‖ ≤ CGTol·‖b‖.
//
// With damping λ > 0 the system is positive definite and CG converges (in at most d steps in
// exact arithmetic, at a rate set by (λ_max + λ)/(λ_min + λ)). Without damping C_B must be
// positive definite: CG watches the Rayleigh quotients pᵀC_Bp/pᵀp of its search directions,
// which lie in [λ_min, λ_max]; one at or below RCond times the largest seen proves
// λ_min ≤ RCond·λ_max, and Solve returns a *RankDeficientError (Rank −1: not computed). This
// test is sufficient, not necessary: when b lies in the range of a singular C_B the Krylov
// space never leaves that range and CG returns C_B⁺b without noticing. A run that reaches
// CGMaxIter returns a *NotConvergedError. Range mode is not available
// (the range of a matrix-free operator is not known): use DenseInverse or WoodburyInverse.
//
// A CGInverse is safe for concurrent use when its operator is.
type CGInverse struct {
	op  SymOperator
	set InverseSettings
}

// NewCGInverse returns a CG solver for c (= C_B) with the given settings (nil means
// defaults). Range mode is an error.
func NewCGInverse(c SymOperator, s *InverseSettings) (*CGInverse, error) {
	d := c.Dim()
	if d == 0 {
		panic("linalg: empty operator")
	}
	set, err := s.withDefaults(d)
	if err != nil {
		return nil, err
	}
	if set.Range {
		return nil, errors.New("linalg: the CG inverse has no range pseudo-inverse: use damping, or the dense or Woodbury inverse")
	}
	return &CGInverse{op: c, set: set}, nil
}

// Dim returns d.
func (c *CGInverse) Dim() int { return c.op.Dim() }

// Rank returns d: CG inverts the damped system or a full-rank C_B.
func (c *CGInverse) Rank() int { return c.op.Dim() }

// RangeFraction returns 0: CG never restricts to a range.
func (c *CGInverse) RangeFraction(b []float64) float64 {
	if len(b) != c.op.Dim() {
		panic("linalg: CGInverse.RangeFraction: length mismatch")
	}
	return 0
}

// Solve runs CG (see CGInverse). On error dst holds the last iterate.
func (c *CGInverse) Solve(dst, b []float64) error {
	d := c.op.Dim()
	if len(dst) != d || len(b) != d {
		panic("linalg: CGInverse.Solve: length mismatch")
	}
	lam := c.set.Damping
	var pp, pcp, maxRQ float64
	apply := func(ap, p []float64) {
		c.op.Apply(ap, p)
		pp = floats.Dot(p, p)
		pcp = floats.Dot(p, ap) // pᵀ C_B p
		if lam != 0 {
			floats.AddScaled(ap, lam, p)
		}
	}
	curvature := func(p, ap []float64) (float64, error) {
		if lam == 0 {
			rq := pcp / pp
			maxRQ = max(maxRQ, rq)
			if rq <= c.set.RCond*maxRQ {
				return 0, &RankDeficientError{Rank: -1, Dim: d, RCond: c.set.RCond}
			}
		}
		pap := pcp + lam*pp
		if !(pap > 0) {
			return 0, &NotPSDError{What: "C_B + λI (seen by CG)", Eigenvalue: pap / pp, MaxEig: maxRQ}
		}
		return pap, nil
	}
	_, err := PCG(dst, b, apply, c.set.CGTol, c.set.CGMaxIter, PCGOptions{Curvature: curvature, ZeroStart: true, Method: "CG"})
	return err
}
