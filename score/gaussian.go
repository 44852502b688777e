package score

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/stationary"
)

// gaussian computes the stationary covariances near a minimum and the implied prior
// precisions (MATH.md §6). H and C_B come from the covariance examples: dense (SolverDense,
// stationary.Dense), or in the top-k eigenspace of H found by Lanczos on Hessian–vector
// products (stationary.TopK, C_B projected on it with k covariance products). Null directions
// are removed and negative or flat ones dropped (stationary.ReduceNull with
// stationary.NullTol); every prediction is made on the remaining positive-curvature subspace,
// in the basis of H's eigenvectors.
func (c *computation) gaussian() error {
	set := &c.set
	r := c.r
	d, n := c.src.dim(), r.N
	eta, kappa, lam := r.LR, r.Kappa, c.src.weightDecay()
	g := &Gaussian{ExplicitPriorPrecision: float64(n) * lam}
	var red *stationary.Minimum
	var warn []string
	var err error
	if r.Solver == SolverDense {
		red, warn, err = stationary.Dense(c.hess.dense, c.cs.cb())
	} else {
		red, warn, err = stationary.TopK(hOperator{c}, set.TopK, rand.NewPCG(set.Seed, streamLanczosH), func(cw *mat.SymDense, sub *mat.Dense) {
			k := cw.SymmetricDim()
			cv := make([]float64, d)
			vi := make([]float64, d)
			for i := 0; i < k; i++ {
				mat.Col(vi, i, sub)
				c.cs.applyC(cv, vi)
				for j := 0; j <= i; j++ {
					var s float64
					for t := 0; t < d; t++ {
						s += sub.At(t, j) * cv[t]
					}
					cw.SetSym(j, i, kappa*s)
				}
			}
		})
		g.Subspace = true
	}
	r.Warnings = append(r.Warnings, warn...)
	if err != nil {
		return fmt.Errorf("score: Gaussian predictions: %w", err)
	}
	if !red.Full {
		c.warn(fmt.Sprintf("the Gaussian predictions are made in the top-%d eigenspace of H (Lanczos): directions of lower curvature are not covered", min(set.TopK, d)))
	}
	g.Basis = red.Basis
	g.Removed, g.Flat, g.Negative = red.Null, red.Flat, red.Negative
	k := len(red.Curvatures)

	note, warn, err := stationary.NoteCovariance(red.H, red.CB, eta, &set.Inverse)
	if err != nil {
		return fmt.Errorf("score: seed covariance: %w", err)
	}
	r.Warnings = append(r.Warnings, warn...)
	g.CovNote, g.NoteAsymmetry = note.Cov, note.Asymmetry
	g.CovContinuous = mat.NewSymDense(k, nil)
	if err := stationary.ContinuousLyapunov(g.CovContinuous, red.H, red.CB, eta); err != nil {
		return fmt.Errorf("score: continuous Lyapunov covariance: %w", err)
	}
	g.CovDiscrete = mat.NewSymDense(k, nil)
	if err := stationary.DiscreteLyapunov(g.CovDiscrete, red.H, red.CB, eta); err != nil {
		return fmt.Errorf("score: discrete Lyapunov covariance: %w", err)
	}
	g.CovPosterior = mat.NewSymDense(k, nil)
	if err := stationary.LaplaceCovariance(g.CovPosterior, red.H, n); err != nil {
		return fmt.Errorf("score: Laplace posterior: %w", err)
	}
	if r.Solver != SolverDense && c.msrc != nil && c.msrc.m.Name() == "linreg" {
		c.warn("the exact least-squares covariance (cov_linear_exact) needs the dense solver: not computed in a Hessian subspace")
	}
	if r.Solver == SolverDense && c.msrc != nil {
		if x, ok := linregDesign(c.msrc.m, c.msrc.sub); ok {
			var xb mat.Dense
			xb.Mul(x, g.Basis)
			cper := mat.NewSymDense(k, nil)
			cper.ScaleSym(1/kappa, red.CB)
			g.CovLinearExact = mat.NewSymDense(k, nil)
			if err := stationary.ExactLeastSquares(g.CovLinearExact, &xb, lam, eta, kappa, cper, nil); err != nil {
				return fmt.Errorf("score: exact least-squares covariance: %w", err)
			}
		}
	}

	// The implied prior as a matrix (MATH.md §6): smallest eigenvalues and coverage.
	if note.Precision != nil {
		g.MinEig.Note = priorEig(stationary.SeedPriorPrecision(note.Precision, red.H, lam, n), nil, red, 0)
	}
	g.MinEig.Continuous = covPriorEig(g.CovContinuous, red, lam, n)
	g.MinEig.Discrete = covPriorEig(g.CovDiscrete, red, lam, n)
	g.MinEig.LinearExact = covPriorEig(g.CovLinearExact, red, lam, n)
	g.Coverage = Coverage{K: k, D: d, NoNoise: max(d-r.Noise.Rank, 0)}
	g.Coverage.Full = red.Full && k+g.Removed == d
	c.red = red

	// The per-direction table.
	precNote := diagOrNaN(note.Precision, k)
	precCont, infCont := invDiag(g.CovContinuous)
	precDisc, _ := invDiag(g.CovDiscrete)
	precExact, _ := invDiag(g.CovLinearExact)
	if precExact == nil {
		precExact = nanSlice(k)
	}
	if infCont > 0 {
		c.warn(fmt.Sprintf("the stationary covariances are singular along %d of %d Hessian directions that carry no gradient noise: SGD does not move along them, their variance is 0 and the implied prior precision infinite (null)", infCont, k))
	}
	varNote := diagOrNaN(g.CovNote, k)
	varExact := diagOrNaN(g.CovLinearExact, k)
	neg := map[string][]int{}
	g.Directions = make([]Direction, k)
	for i := 0; i < k; i++ {
		h := red.Curvatures[i]
		dir := Direction{
			H: h, C: red.CB.At(i, i),
			VarNote: varNote[i], VarContinuous: g.CovContinuous.At(i, i), VarDiscrete: g.CovDiscrete.At(i, i),
			VarPosterior: g.CovPosterior.At(i, i), VarLinearExact: varExact[i],
			Prior: PriorPrecision{
				Note:        stationary.ImpliedPriorPrecision(precNote[i], h, lam, n),
				Continuous:  stationary.ImpliedPriorPrecision(precCont[i], h, lam, n),
				Discrete:    stationary.ImpliedPriorPrecision(precDisc[i], h, lam, n),
				LinearExact: stationary.ImpliedPriorPrecision(precExact[i], h, lam, n),
			},
		}
		for name, v := range map[string]float64{stationary.PredNote: dir.Prior.Note, stationary.PredContinuous: dir.Prior.Continuous, stationary.PredDiscrete: dir.Prior.Discrete, stationary.PredLinearExact: dir.Prior.LinearExact} {
			if v < 0 {
				neg[name] = append(neg[name], i)
			}
		}
		g.Directions[i] = dir
	}
	mins := map[string]*PriorEig{stationary.PredNote: g.MinEig.Note, stationary.PredContinuous: g.MinEig.Continuous, stationary.PredDiscrete: g.MinEig.Discrete, stationary.PredLinearExact: g.MinEig.LinearExact}
	for _, name := range []string{stationary.PredNote, stationary.PredContinuous, stationary.PredDiscrete, stationary.PredLinearExact} {
		if e := mins[name]; e != nil && e.Value < 0 && len(neg[name]) == 0 {
			c.warn(fmt.Sprintf("the %s implied prior precision matrix has a negative eigenvalue %.4g (its eigenvector: vᵀHv/h_max = %.2g, vᵀC_Bv/c_max = %.2g) although every Hessian-eigendirection diagonal entry is positive: the \"prior\" widens along that combination of directions", name, e.Value, e.HessianRel, e.NoiseRel))
		}
	}
	for _, name := range []string{stationary.PredNote, stationary.PredContinuous, stationary.PredDiscrete, stationary.PredLinearExact} {
		idx := neg[name]
		if len(idx) == 0 {
			continue
		}
		ks := make([]string, 0, min(len(idx), 5))
		for _, i := range idx[:min(len(idx), 5)] {
			ks = append(ks, fmt.Sprintf("%d (h = %.3g)", i+1, red.Curvatures[i]))
		}
		more := ""
		if len(idx) > 5 {
			more = ", …"
		}
		c.warn(fmt.Sprintf("the %s covariance implies a negative prior precision along %d of %d Hessian directions (%s%s): there the implicit \"prior\" widens rather than confines, and the note's reading of it as a prior does not hold",
			name, len(idx), k, strings.Join(ks, ", "), more))
	}
	r.Gaussian = g
	return nil
}

// linregDesign returns the design X̃ = [X, 1]/σ of a linreg model (stationary.LinregDesign)
// and true, or false for other models.
func linregDesign(m model.Model, b model.Batch) (*mat.Dense, bool) {
	if m.Name() != "linreg" {
		return nil, false
	}
	sigma := 1.0
	if s, ok := m.(interface{ Sigma() float64 }); ok {
		sigma = s.Sigma()
	}
	_, p := b.X.Dims()
	if m.NumParams() != p+1 {
		return nil, false
	}
	x, _ := stationary.LinregDesign(b.X, nil, sigma)
	return x, true
}

// diagOrNaN returns the diagonal of a (k NaNs when a is nil).
func diagOrNaN(a *mat.SymDense, k int) []float64 {
	out := nanSlice(k)
	if a == nil {
		return out
	}
	for i := range out {
		out[i] = a.At(i, i)
	}
	return out
}

func nanSlice(k int) []float64 {
	out := make([]float64, k)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// invDiag returns the diagonal of Σ⁻¹ for a positive semidefinite Σ: (Σ⁺)_kk on the range
// of Σ (eigenvalues above 1e-12·λ_max), and +Inf for a coordinate direction with a
// component in its null space (zero stationary variance: an infinite precision). It also
// returns the number of +Inf entries; nil for a nil Σ.
func invDiag(s *mat.SymDense) ([]float64, int) {
	if s == nil {
		return nil, 0
	}
	k := s.SymmetricDim()
	var es mat.EigenSym
	if !es.Factorize(s, true) {
		return nanSlice(k), 0
	}
	vals := es.Values(nil)
	var q mat.Dense
	es.VectorsTo(&q)
	lmax := vals[k-1]
	out := make([]float64, k)
	inf := 0
	for i := 0; i < k; i++ {
		var r, nul float64
		for j, v := range vals {
			x := q.At(i, j)
			if v > 1e-12*lmax {
				r += x * x / v
			} else {
				nul += x * x
			}
		}
		out[i] = r
		if nul > 1e-8 {
			out[i] = math.Inf(1)
			inf++
		}
	}
	return out, inf
}
