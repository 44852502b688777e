package score

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
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
	nAll   int   // N, the population the examples S' stand for
	group  []int // jackknife group of each example of S' (nil: S' is all N examples)
}

// divJackGroups is the number of groups of the delete-a-group jackknife over the examples
// S' of the divergence estimate (MATH.md §5, "Standard error of the divergence term").
const divJackGroups = 16

// newDivPlan chooses exact traces on all covariance examples when d ≤ ExactTraceMaxDim,
// otherwise Hutchinson probes on a seeded subset of at most DivergenceExamples of them.
func (c *computation) newDivPlan() *divPlan {
	s := c.msrc
	d := s.dim()
	n, m := s.numExamples(), s.covExamples()
	p := &divPlan{m: s.m, b: s.sub, scale: s.scale, nAll: n}
	where := fmt.Sprintf("all N = %d examples", n)
	if m < n {
		where = fmt.Sprintf("the M = %d covariance examples (an unbiased estimate)", m)
	}
	defer p.assignGroups(c.set.Seed)
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

// assignGroups splits the examples S' at random (seeded) into divJackGroups groups of
// (nearly) equal size when S' is a sample (|S'| < N); otherwise there is no sampling of
// examples and no groups.
func (p *divPlan) assignGroups(seed uint64) {
	n := p.b.Len()
	if n >= p.nAll || n < 2*divJackGroups {
		return
	}
	perm := rand.New(rand.NewPCG(seed, streamDivergenceGroups)).Perm(n)
	p.group = make([]int, n)
	for i, k := range perm {
		p.group[i] = k % divJackGroups
	}
}

// divReplicates are the jackknife replicates of the estimate of ∇·C (MATH.md §5, "Standard
// error of the divergence term"): probe[j] leaves out Hutchinson probe j, group[g] the
// examples of jackknife group g (with S' re-centred on the others and c'² for the smaller
// sample).
type divReplicates struct {
	probe, group [][]float64
	fpc          float64 // 1 − n/N, the finite-population factor of the group variance
}

// at writes ∇·C(θ) = c'² Σ_{i∈S'} [H_i a_i + a_i tr(H_i)], a_i = g_i − ḡ_{S'} (MATH.md §5)
// into dst, from per-example Hessian–vector products along each example's own deviation and
// the traces tr(H_i) (exact from unit vectors, or Hutchinson's (1/P) Σ_p z_pᵀH_i z_p).
func (p *divPlan) at(dst, theta []float64) { p.eval(dst, theta, nil) }

// atReplicates is at, also returning the jackknife replicates of the estimate.
func (p *divPlan) atReplicates(dst, theta []float64) *divReplicates {
	reps := new(divReplicates)
	p.eval(dst, theta, reps)
	return reps
}

// eval is at, filling reps when not nil. With probes, the estimate is B + W̄ for
// W_p = c'² Σ_i a_i z_pᵀH_i z_p, so leaving out probe j gives ∇·C + (W̄ − W_j)/(P − 1).
// Leaving out group g (n_g of the n examples) re-centres a_i on ḡ_{−g}, a_i + δ_g with
// δ_g = Σ_{i∈g} a_i/(n − n_g):
//
//	(∇·C)_{−g} = c'²_{n−n_g} Σ_{i∉g} [y_i + (H_i + t̂_i) δ_g],  y_i = H_i a_i + t̂_i a_i,
//
// which needs one more per-example Hessian–vector product per example and group.
func (p *divPlan) eval(dst, theta []float64, reps *divReplicates) {
	d := p.m.NumParams()
	clear(dst)
	n := p.b.Len()
	cr := min(chunkRowsFor(d), n)
	hv := mat.NewDense(cr, d, nil)
	vbuf := mat.NewDense(cr, d, nil)
	t := make([]float64, cr)
	np := 0
	if p.probes != nil {
		np, _ = p.probes.Dims()
	}
	var w [][]float64      // W_p / c'² (reps with probes)
	var yg, ag [][]float64 // Σ_{i∈g} y_i, Σ_{i∈g} a_i
	var tg []float64       // Σ_{i∈g} t̂_i
	var ng []int           // n_g
	var tAll []float64     // t̂_i of every example
	groups := reps != nil && p.group != nil
	if reps != nil && np >= 2 {
		w = newVecs(np, d)
	}
	if groups {
		yg, ag = newVecs(divJackGroups, d), newVecs(divJackGroups, d)
		tg, ng = make([]float64, divJackGroups), make([]int, divJackGroups)
		tAll = make([]float64, n)
	}
	centredChunks(p.m, p.b, theta, func(i0 int, a *mat.Dense) {
		r, _ := a.Dims()
		chunk := rows(p.b, i0, i0+r)
		h := hv.Slice(0, r, 0, d).(*mat.Dense)
		p.m.PerExampleHessVec(h, theta, chunk, a)
		if groups {
			for i := 0; i < r; i++ {
				g := p.group[i0+i]
				floats.Add(yg[g], h.RawRowView(i))
				floats.Add(ag[g], a.RawRowView(i))
				ng[g]++
			}
		}
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
			for k := 0; k < np; k++ {
				z := p.probes.RawRowView(k)
				for i := 0; i < r; i++ {
					copy(v.RawRowView(i), z)
				}
				p.m.PerExampleHessVec(h, theta, chunk, v)
				for i := 0; i < r; i++ {
					q := floats.Dot(z, h.RawRowView(i))
					t[i] += q / float64(np)
					if w != nil {
						floats.AddScaled(w[k], q, a.RawRowView(i))
					}
				}
			}
		}
		for i := 0; i < r; i++ {
			floats.AddScaled(dst, t[i], a.RawRowView(i))
			if groups {
				g := p.group[i0+i]
				floats.AddScaled(yg[g], t[i], a.RawRowView(i))
				tg[g] += t[i]
				tAll[i0+i] = t[i]
			}
		}
	})
	if reps != nil && w != nil {
		// (∇·C)_{−j} = c'² [Σ y + (W̄ − W_j)/(P − 1)].
		wbar := make([]float64, d)
		for _, wk := range w {
			floats.AddScaled(wbar, 1/float64(np), wk)
		}
		reps.probe = newVecs(np, d)
		for k, wk := range w {
			rep := reps.probe[k]
			floats.SubTo(rep, wbar, wk)
			floats.Scale(1/float64(np-1), rep)
			floats.Add(rep, dst)
			floats.Scale(p.scale, rep)
		}
	}
	if groups {
		// Σ_{i∉g} (H_i + t̂_i) δ_g from per-example products with δ_g.
		tsum := floats.Sum(tAll)
		reps.group = newVecs(divJackGroups, d)
		reps.fpc = 1 - float64(n)/float64(p.nAll)
		delta := newVecs(divJackGroups, d)
		for g := range delta {
			floats.ScaleTo(delta[g], 1/float64(n-ng[g]), ag[g])
		}
		v := vbuf
		for i0 := 0; i0 < n; i0 += cr {
			r := min(n, i0+cr) - i0
			chunk := rows(p.b, i0, i0+r)
			h := hv.Slice(0, r, 0, d).(*mat.Dense)
			vs := v.Slice(0, r, 0, d).(*mat.Dense)
			for g := range delta {
				for i := 0; i < r; i++ {
					copy(vs.RawRowView(i), delta[g])
				}
				p.m.PerExampleHessVec(h, theta, chunk, vs)
				for i := 0; i < r; i++ {
					if p.group[i0+i] != g {
						floats.Add(reps.group[g], h.RawRowView(i))
					}
				}
			}
		}
		for g, rep := range reps.group {
			floats.AddScaled(rep, tsum-tg[g], delta[g])
			floats.Add(rep, dst)
			floats.Sub(rep, yg[g])
			floats.Scale(subsetScale(p.nAll, n-ng[g]), rep)
		}
	}
	floats.Scale(p.scale, dst)
}

// newVecs returns k zero vectors of length d.
func newVecs(k, d int) [][]float64 {
	out := make([][]float64, k)
	for i := range out {
		out[i] = make([]float64, d)
	}
	return out
}

// jackknifeSE returns the standard errors of the statistics f of ∇·C from its replicates
// (MATH.md §5), f evaluated once on each source's replicates (all of them at once, so that
// their solves can be batched): for each statistic √(V_probes + (1 − n/N)·
// V_groups), V = (K−1)/K Σ_k (f_k − f̄)² the jackknife variance over the K replicates of a
// source, the two sources independent, and 1 − n/N the finite-population correction of a
// subset of n of the N examples drawn without replacement. A standard error is 0 without
// replicates, NaN when a replicate's value is not finite.
func (r *divReplicates) jackknifeSE(f func(reps [][]float64) [][3]float64) [3]float64 {
	var v [3]float64
	for s, set := range [][][]float64{r.probe, r.group} {
		k := len(set)
		if k < 2 {
			continue
		}
		vals := f(set)
		w := 1.0
		if s == 1 {
			w = r.fpc
		}
		col := make([]float64, k)
		for j := range v {
			for i := range vals {
				col[i] = vals[i][j]
			}
			v[j] += w * jackknifeVar(col)
		}
	}
	for j := range v {
		v[j] = math.Sqrt(v[j])
	}
	return v
}

// jackknifeVar returns (K−1)/K Σ_k (x_k − x̄)² for the K leave-out values x_k.
func jackknifeVar(x []float64) float64 {
	k := float64(len(x))
	mean := floats.Sum(x) / k
	var s float64
	for _, v := range x {
		s += (v - mean) * (v - mean)
	}
	return (k - 1) / k * s
}

// divergence computes ∇·C, the general stationary score s_gen = s_st − A⁻¹ κ_B (∇·C) (A the
// inverse's C_B, damped or pseudo-inverted) and the divergence ratio ‖s_gen − s_st‖/‖s_st‖
// (MATH.md §5), with the jackknife replicates of ∇·C behind their standard errors.
func (c *computation) divergence() error {
	d := c.src.dim()
	plan := c.newDivPlan()
	c.div = plan
	v := &c.r.Vectors
	v.DivergenceC = make([]float64, d)
	c.divReps = plan.atReplicates(v.DivergenceC, c.theta)
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

// divergenceSE fills the standard errors of the divergence norm, ratio and shift of the
// report's inverse (after the Gaussian predictions, which the shift needs).
func (c *computation) divergenceSE() {
	if c.divReps == nil || c.r.Vectors.DivergenceC == nil {
		return
	}
	st := c.divergenceStats(c.cs.inv, c.r.Vectors.Stationary, c.gaussianVars())
	dg := &c.r.Diagnostics
	for k, dst := range []**float64{&dg.DivergenceNormSE, &dg.DivergenceRatioSE, &dg.DivergenceShiftSE} {
		if !math.IsNaN(st.se[k]) {
			*dst = &st.se[k]
		}
	}
}

// gaussianVars returns the continuous-Lyapunov variances of the Gaussian directions (nil
// without the Gaussian predictions).
func (c *computation) gaussianVars() []float64 {
	var vars []float64
	if g := c.r.Gaussian; g != nil {
		for _, dir := range g.Directions {
			vars = append(vars, dir.VarContinuous)
		}
	}
	return vars
}

// divStats are the divergence norm ‖A⁻¹κ_B∇·C‖, its ratio to ‖s_st‖ (NaN at a minimum) and
// its shift DivergenceShiftAtMinimum (NaN away from a minimum or without vars), in val, and
// their jackknife standard errors in se (NaN where the value is NaN).
type divStats struct{ val, se [3]float64 }

// divergenceStats computes the divergence statistics of inverse inv, sst its stationary
// score, and their standard errors from c.divReps (divReplicates.jackknifeSE; MATH.md §5,
// "Standard error of the divergence term").
func (c *computation) divergenceStats(inv linalg.Inverse, sst, vars []float64) (out divStats) {
	d := c.src.dim()
	x := make([]float64, d)
	b := make([]float64, d)
	gen := make([]float64, d)
	sstNorm := floats.Norm(sst, 2)
	// stats returns the three statistics of a solved x = A⁻¹κ_B∇·C (NaN when ok is false).
	stats := func(x []float64, ok bool) [3]float64 {
		res := [3]float64{math.NaN(), math.NaN(), math.NaN()}
		if !ok {
			return res
		}
		res[0] = floats.Norm(x, 2)
		if !c.r.AtMinimum {
			res[1] = res[0] / sstNorm
		} else if vars != nil {
			floats.SubTo(gen, sst, x)
			if _, _, rel, n := DivergenceShiftAtMinimum(gen, sst, vars); n > 0 {
				res[2] = rel
			}
		}
		return res
	}
	floats.ScaleTo(b, c.r.Kappa, c.r.Vectors.DivergenceC)
	out.val = stats(x, inv.Solve(x, b) == nil)
	out.se = c.divReps.jackknifeSE(func(reps [][]float64) [][3]float64 {
		bs := make([][]float64, len(reps))
		xs := make([][]float64, len(reps))
		for i, rep := range reps {
			bs[i] = make([]float64, d)
			floats.ScaleTo(bs[i], c.r.Kappa, rep)
			xs[i] = make([]float64, d)
		}
		err := solveMany(inv, xs, bs)
		vals := make([][3]float64, len(reps))
		for i := range reps {
			vals[i] = stats(xs[i], err == nil)
		}
		return vals
	})
	for k := range out.se {
		if math.IsNaN(out.val[k]) {
			out.se[k] = math.NaN()
		}
	}
	return out
}
