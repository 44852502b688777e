package score

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/model"
)

// divPlan fixes how the divergence term ∇·C is computed, so that evaluations at nearby θ
// use the same examples and probes (common random numbers for finite differences).
type divPlan struct {
	m      model.Model
	b      model.Batch // the examples S'
	scale  float64     // c'²: ∇·C ≈ c'² Σ_{i∈S'} [H_i a_i + a_i tr(H_i)]
	probes *mat.Dense  // P×d Rademacher probes (nil: exact traces)
	method string
}

// newDivPlan chooses exact traces on all covariance examples when d ≤ ExactTraceMaxDim,
// otherwise Hutchinson probes on a seeded subset of at most DivergenceExamples of them.
func (c *computation) newDivPlan() *divPlan {
	s := c.msrc
	d := s.dim()
	n, m := s.numExamples(), s.covExamples()
	p := &divPlan{m: s.m, b: s.sub, scale: s.scale}
	where := fmt.Sprintf("all N = %d examples", n)
	if m < n {
		where = fmt.Sprintf("the M = %d covariance examples (an unbiased estimate)", m)
	}
	if d <= c.set.ExactTraceMaxDim {
		p.method = fmt.Sprintf("exact: tr(H_i) from d = %d per-example Hessian–vector products with unit vectors, on %s", d, where)
		return p
	}
	if m > c.set.DivergenceExamples {
		sub := drawSubset(rand.New(rand.NewPCG(c.set.Seed, streamDivergenceSubset)), m, c.set.DivergenceExamples)
		p.b = gather(s.sub, sub)
		p.scale = subsetScale(n, len(sub))
		where = fmt.Sprintf("a seeded subset of %d of the covariance examples (an unbiased estimate)", len(sub))
	}
	np := c.set.TraceProbes
	rnd := rand.New(rand.NewPCG(c.set.Seed, streamTrace))
	p.probes = mat.NewDense(np, d, nil)
	for k := 0; k < np; k++ {
		row := p.probes.RawRowView(k)
		for j := range row {
			if rnd.Uint64()&1 == 0 {
				row[j] = 1
			} else {
				row[j] = -1
			}
		}
	}
	p.method = fmt.Sprintf("estimate: tr(H_i) from %d Hutchinson (Rademacher) probes, on %s", np, where)
	return p
}

// at writes ∇·C(θ) = c'² Σ_{i∈S'} [H_i a_i + a_i tr(H_i)], a_i = g_i − ḡ_{S'} (MATH.md §5)
// into dst, from per-example Hessian–vector products along each example's own deviation and
// the traces tr(H_i) (exact from unit vectors, or Hutchinson's (1/P) Σ_p z_pᵀH_i z_p).
func (p *divPlan) at(dst, theta []float64) {
	d := p.m.NumParams()
	clear(dst)
	n := p.b.Len()
	cr := min(chunkRowsFor(d), n)
	hv := mat.NewDense(cr, d, nil)
	vbuf := mat.NewDense(cr, d, nil)
	t := make([]float64, cr)
	centredChunks(p.m, p.b, theta, func(i0 int, a *mat.Dense) {
		r, _ := a.Dims()
		chunk := rows(p.b, i0, i0+r)
		h := hv.Slice(0, r, 0, d).(*mat.Dense)
		p.m.PerExampleHessVec(h, theta, chunk, a)
		for i := 0; i < r; i++ {
			floats.Add(dst, h.RawRowView(i))
		}
		// Traces.
		clear(t)
		v := vbuf.Slice(0, r, 0, d).(*mat.Dense)
		if p.probes == nil {
			v.Zero()
			for j := 0; j < d; j++ {
				for i := 0; i < r; i++ {
					v.Set(i, j, 1)
				}
				p.m.PerExampleHessVec(h, theta, chunk, v)
				for i := 0; i < r; i++ {
					t[i] += h.At(i, j)
					v.Set(i, j, 0)
				}
			}
		} else {
			np, _ := p.probes.Dims()
			for k := 0; k < np; k++ {
				z := p.probes.RawRowView(k)
				for i := 0; i < r; i++ {
					copy(v.RawRowView(i), z)
				}
				p.m.PerExampleHessVec(h, theta, chunk, v)
				for i := 0; i < r; i++ {
					t[i] += floats.Dot(z, h.RawRowView(i)) / float64(np)
				}
			}
		}
		for i := 0; i < r; i++ {
			floats.AddScaled(dst, t[i], a.RawRowView(i))
		}
	})
	floats.Scale(p.scale, dst)
}

// divergence computes ∇·C, the general stationary score s_gen = s_st − A⁻¹ κ_B (∇·C) (A the
// inverse's C_B, damped or pseudo-inverted) and the divergence ratio ‖s_gen − s_st‖/‖s_st‖
// (MATH.md §5).
func (c *computation) divergence() error {
	d := c.src.dim()
	plan := c.newDivPlan()
	c.div = plan
	v := &c.r.Vectors
	v.DivergenceC = make([]float64, d)
	plan.at(v.DivergenceC, c.theta)
	x := make([]float64, d)
	b := make([]float64, d)
	floats.ScaleTo(b, c.r.Kappa, v.DivergenceC)
	if err := c.cs.inv.Solve(x, b); err != nil {
		return fmt.Errorf("score: solving C_B x = κ_B ∇·C: %w", err)
	}
	v.StationaryGeneral = make([]float64, d)
	floats.SubTo(v.StationaryGeneral, v.Stationary, x)
	norm := floats.Norm(x, 2)
	c.r.Diagnostics.DivergenceNorm = &norm
	ratio := norm / floats.Norm(v.Stationary, 2)
	if c.r.AtMinimum {
		// s_st = −(2/η)C_B⁻¹∇L vanishes at a minimum while the divergence term does not.
		ratio = math.NaN()
		c.warn(fmt.Sprintf("at a minimum s_st vanishes, so the divergence ratio ‖s_gen − s_st‖/‖s_st‖ is undefined (null); the divergence term itself has ‖s_gen − s_st‖ = ‖C_B⁻¹κ_B∇·C‖ = %.4g, so s_gen ≠ 0 there: the note's zero-current density is not stationary", norm))
	}
	c.r.Diagnostics.DivergenceRatio = &ratio
	c.r.Diagnostics.DivergenceMethod = plan.method
	return nil
}
