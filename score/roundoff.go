package score

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
)

// floorTraceProbes is the number of Rademacher probes of the Hutchinson estimate of tr H in
// the round-off floor for large d.
const floorTraceProbes = 10

// meanGradNorm returns (1/N) Σ_i ‖g_i‖ over the N examples (the popSize examples for a
// gradient input): from the factorised norms when the model has them
// (model.Network.PerExampleGradNorms: one forward and backward pass, where materialising
// the 60000 gradients of mlp:128 on MNIST took 22 s of CPU in a profile), from the
// materialised per-example gradients otherwise or should the factorised sum not be finite.
func (s *modelSource) meanGradNorm(theta []float64) float64 {
	d := s.dim()
	n := s.all.Len()
	if fm, ok := s.m.(interface {
		PerExampleGradNorms(dst, theta []float64, b model.Batch)
	}); ok {
		norms := make([]float64, n)
		fm.PerExampleGradNorms(norms, theta, s.all)
		var t float64
		for _, v := range norms {
			t += v
		}
		if t <= math.MaxFloat64 {
			return t / float64(n)
		}
	}
	cr := min(chunkRowsFor(d), n)
	buf := mat.NewDense(cr, d, nil)
	var t float64
	for i0 := 0; i0 < n; i0 += cr {
		i1 := min(n, i0+cr)
		a := buf.Slice(0, i1-i0, 0, d).(*mat.Dense)
		s.m.PerExampleGrads(a, theta, rows(s.all, i0, i1))
		for i := 0; i < i1-i0; i++ {
			t += floats.Norm(a.RawRowView(i), 2)
		}
	}
	return t / float64(n)
}

func (s *gradsSource) meanGradNorm(_ []float64) float64 {
	m, _ := s.g.Dims()
	var t float64
	for i := 0; i < m; i++ {
		t += floats.Norm(s.g.RawRowView(i), 2)
	}
	return t / float64(m)
}

// roundoff computes the round-off floor F = noise.RoundoffFloor(d, tr H, ‖θ‖, mean‖g_i‖) of
// ∇L at θ (MATH.md §2), with tr H exact from the dense Hessian or by a seeded Hutchinson
// estimate, and what follows from ‖∇L‖ ≤ F (MATH.md §4): θ is a critical point to
// round-off, where the implicit part of the note's prior score is 0 in exact arithmetic and
// its computed value is bounded by ‖N I − (2/η)A⁻¹‖₂·F; the fraction of ‖∇L‖² outside the
// range of C_B is then a fraction of round-off (null).
func (c *computation) roundoff() {
	r := c.r
	d := c.src.dim()
	var tr float64
	switch {
	case c.hess != nil && c.hess.dense != nil:
		tr = mat.Trace(c.hess.dense)
		r.RoundoffMethod = "tr H exact (dense Hessian)"
	case c.src.hasHessian():
		rnd := rand.New(rand.NewPCG(c.set.Seed, streamFloorTrace))
		z := make([][]float64, floorTraceProbes)
		hz := make([][]float64, floorTraceProbes)
		for k := range z {
			z[k], hz[k] = make([]float64, d), make([]float64, d)
			for i := range z[k] {
				z[k][i] = float64(1 - 2*int(rnd.Uint64()&1))
			}
		}
		c.src.hessVecs(hz, c.theta, z)
		for k := range z {
			tr += floats.Dot(z[k], hz[k]) / floorTraceProbes
		}
		r.RoundoffMethod = fmt.Sprintf("tr H by a seeded Hutchinson estimate (%d Rademacher probes)", floorTraceProbes)
	default:
		r.RoundoffFloor = math.NaN()
		r.Diagnostics.RangeFraction = c.rangeFraction
		r.Diagnostics.ImplicitBound = math.NaN()
		return
	}
	var gn float64
	switch s := c.src.(type) {
	case *modelSource:
		gn = s.meanGradNorm(c.theta)
	case *gradsSource:
		gn = s.meanGradNorm(c.theta)
	}
	r.RoundoffFloor = noise.RoundoffFloor(d, tr, floats.Norm(c.theta, 2), gn)
	r.AtCriticalPoint = r.GradNorm <= r.RoundoffFloor
	dg := &r.Diagnostics
	dg.RangeFraction = c.rangeFraction
	dg.ImplicitBound = math.NaN()
	if !r.AtCriticalPoint {
		if r.AtMinimum && r.Vectors.ImplicitPrior != nil {
			c.warn(fmt.Sprintf("θ is an approximate minimiser (‖∇L‖ = %.3g, above the round-off floor %.3g): the implicit part of the note's prior score, (N I − (2/η)C_B⁻¹)∇L, is the minimiser's residual ∇L amplified by 2ηD⁻¹; it vanishes at the exact minimum", r.GradNorm, r.RoundoffFloor))
		}
		return
	}
	if r.Inverse == InverseRange {
		dg.RangeFraction = math.NaN()
		dg.RangeFractionNote = fmt.Sprintf("not meaningful: ‖∇L‖ = %.3g is below the round-off floor %.3g, so the fraction of ‖∇L‖² outside the range of C_B is a fraction of round-off", r.GradNorm, r.RoundoffFloor)
	}
	norm, how := c.implicitAmplification()
	dg.ImplicitBound = norm * r.RoundoffFloor
	msg := fmt.Sprintf("θ is a critical point to round-off (‖∇L‖ = %.3g ≤ floor %.3g): the implicit part of the note's prior score, (N I − (2/η)C_B⁻¹)∇L, is exactly 0 in exact arithmetic, as it is at every critical point, so the note's vector says nothing here beyond the explicit prior −N∇r; what is computed is round-off amplified by (I − 2ηD⁻¹)", r.GradNorm, r.RoundoffFloor)
	if !math.IsNaN(dg.ImplicitBound) {
		msg += fmt.Sprintf(", bounded by ‖N I − (2/η)A⁻¹‖₂·floor = %.3g (%s)", dg.ImplicitBound, how)
	}
	dg.ImplicitNote = msg + ". Its Jacobian at the minimum (the seed precision) is what carries information; comparing two minima would need a path integral of a field that is not a gradient field."
	c.warn(dg.ImplicitNote)
}

// implicitAmplification returns ‖N I − (2/η)A⁻¹‖₂ = max over the eigenvalues a of A of
// |N − 2/(ηa)|, A = C_B damped (+λI) or restricted to its range as the inverse used, and how
// the extreme eigenvalues of A were found (NaN when they are unknown).
func (c *computation) implicitAmplification() (float64, string) {
	r := c.r
	n := float64(r.N)
	lam := r.Damping
	amax := r.Kappa*firstOr(r.Noise.TopEigenvalues, math.NaN()) + lam
	var amin float64
	var how string
	switch {
	case c.cs.dense != nil:
		var es mat.EigenSym
		if !es.Factorize(c.cs.cb(), false) {
			return math.NaN(), "eigenvalues of C_B failed"
		}
		vals := es.Values(nil)
		amax = vals[len(vals)-1] + lam
		amin = vals[0] + lam
		if r.Inverse == InverseRange {
			for _, v := range vals {
				if v > r.RCond*vals[len(vals)-1] {
					amin = v
					break
				}
			}
		}
		how = "eigenvalues of the dense C_B"
	case lam > 0 && r.Noise.Rank < r.D:
		amin = lam
		how = "the smallest eigenvalue of C_B + λI is λ, C_B being singular"
	case r.Inverse == InverseRange:
		amin = r.RCond * (amax - lam)
		how = "the pseudo-inverse keeps eigenvalues above rcond·λ_max"
	default:
		return math.NaN(), "the smallest eigenvalue of C_B is not known"
	}
	return math.Max(math.Abs(n-2/(r.LR*amin)), math.Abs(n-2/(r.LR*amax))), how
}

func firstOr(v []float64, def float64) float64 {
	if len(v) == 0 {
		return def
	}
	return v[0]
}
