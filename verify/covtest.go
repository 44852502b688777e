package verify

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/sgdprior/sgdprior/sim"
)

// RangeRTol is the relative tolerance of the range of a predicted covariance Σ_p: its
// eigenvalues at most RangeRTol·λ_max(Σ_p) count as zero (MATH.md §7.2). Below it a
// predicted standard deviation is 10⁻⁴ of the largest, beneath what a linearised theory can
// claim.
const RangeRTol = 1e-8

// NullFractionTol is the largest fraction of the measured variance that may lie outside the
// range of the prediction (where it predicts none) before the prediction fails (MATH.md
// §7.2): 1%.
const NullFractionTol = 0.01

// PowerTarget is the power at which detectable_rel_error is defined (MATH.md §7.2).
const PowerTarget = 0.8

// CovTest is the covariance test of one prediction Σ_p against K chains (MATH.md §7.2): a
// whitened statistic on the range of Σ_p whose null distribution comes from the chain
// replicates, the bias-corrected effect size with its confidence bounds, the power, and the
// measured variance outside the range.
type CovTest struct {
	// Dim is k (the comparison basis), Rank r the dimension of the range of Σ_p, Chains K.
	Dim, Rank, Chains int
	// T = ‖D̄‖²_F, D̄ = mean_c S_c − I_r; Trace = tr Σ̂_D and Trace2 the unbiased estimate of
	// tr Σ_D² (Σ_D the covariance of vec D̄).
	T, Trace, Trace2 float64
	// F = T/Trace, compared with the F(DF1, DF2) distribution: Critical its 1 − α quantile,
	// PValue the upper tail; Reject is F > Critical.
	F, DF1, DF2, Critical, PValue float64
	Reject                        bool
	// RelError = √(max(0, T − Trace)/r), with 1 − α lower and upper confidence bounds
	// (CILow = 0 exactly when the test does not reject).
	RelError, CILow, CIHigh float64
	// Detectable is the smallest ε at which the test has power PowerTarget against
	// Σ = (1 + ε)Σ_p (NaN when not computable); DetectableRotation the smallest angle (radians)
	// of a rotation in the plane of Σ_p's two leading eigenvectors detected with that power
	// (NaN for r < 2, equal leading eigenvalues or no angle up to π/2).
	Detectable, DetectableRotation float64
	// NullFraction is the fraction of the measured variance outside the range (tr of the
	// measured covariance there over its trace), NullFractionSE its between-chain standard
	// error, NullLow and NullHigh its 1 − α confidence bounds (Student t, K − 1 df).
	NullFraction, NullFractionSE, NullLow, NullHigh float64

	model  powerModel
	cScale float64 // uᵀΣ̂_D u for u = vec(I_r)/√r
}

// ScalePower returns the power of the test against Σ = (1 + eps)Σ_p at this sample size
// (powerModel with Δ = eps²·r).
func (t *CovTest) ScalePower(eps float64) float64 {
	return t.model.power(eps*eps*float64(t.Rank), t.Critical, t.cScale)
}

// CovarianceTest tests the predicted covariance pred (k×k, comparison basis) against the
// per-chain covariances chainCov (each about the pooled mean, divisor n: sim.ChainSummary
// ChainCov) and the per-chain means chainMean, at level alpha (MATH.md §7.2):
//
//   - Σ_p = QΛQᵀ; the range keeps λ_i > RangeRTol·λ_max (rank r); W = Λ_r^{-1/2}Q_rᵀ;
//   - per chain S_c = W(Σ̂_c + V̂/K)Wᵀ, V̂ the between-chain covariance of the chain means
//     (the term removes the O(τ/(nK)) bias of centring on the pooled mean);
//   - D̄ = mean_c S_c − I_r, T = ‖D̄‖²_F; with z_c = vec S_c (upper triangle, off-diagonal
//     entries ×√2) and Z the K×p centred z_c, Σ̂_D = ZᵀZ/(K(K−1)); tr Σ̂_D = tr G/(K(K−1))
//     and the Bai–Saranadasa estimate of tr Σ_D² from the Gram matrix G = ZZᵀ (K×K);
//   - Satterthwaite T ≈ gχ²_h, h = (tr Σ_D)²/tr Σ_D², so F = T/tr Σ̂_D ~ F(h, h(K − 1));
//   - RelError, its bounds by inverting the test, Detectable and DetectableRotation from the
//     same distributions (powerAt).
//
// It panics unless there are K ≥ 3 chains of the dimension of pred. An error means the
// test cannot be made (a prediction with no positive eigenvalue, non-finite inputs).
func CovarianceTest(chainCov []*mat.SymDense, chainMean [][]float64, pred mat.Symmetric, alpha float64) (*CovTest, error) {
	K := len(chainCov)
	k := pred.SymmetricDim()
	if K < 3 || len(chainMean) != K {
		panic(fmt.Sprintf("verify: CovarianceTest needs K ≥ 3 chains with their means, have %d and %d", K, len(chainMean)))
	}
	for c := range chainCov {
		if chainCov[c].SymmetricDim() != k || len(chainMean[c]) != k {
			panic(fmt.Sprintf("verify: CovarianceTest: chain %d has dimension %d, prediction %d", c, chainCov[c].SymmetricDim(), k))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(pred, true) {
		return nil, fmt.Errorf("the eigendecomposition of the prediction failed")
	}
	vals := eig.Values(nil)
	var q mat.Dense
	eig.VectorsTo(&q)
	lmax := vals[k-1]
	if !(lmax > 0) || math.IsInf(lmax, 0) {
		return nil, fmt.Errorf("the prediction has no positive finite eigenvalue (largest %v)", lmax)
	}
	// Range directions in decreasing order of predicted variance.
	var rng, null []int
	for i := k - 1; i >= 0; i-- {
		if vals[i] > RangeRTol*lmax {
			rng = append(rng, i)
		} else {
			null = append(null, i)
		}
	}
	r := len(rng)
	w := mat.NewDense(r, k, nil)
	for a, i := range rng {
		s := 1 / math.Sqrt(vals[i])
		for j := 0; j < k; j++ {
			w.Set(a, j, s*q.At(j, i))
		}
	}
	// V̂/K from the chain means.
	mbar := make([]float64, k)
	for _, m := range chainMean {
		for j, v := range m {
			mbar[j] += v / float64(K)
		}
	}
	vk := mat.NewSymDense(k, nil)
	diff := mat.NewVecDense(k, nil)
	for _, m := range chainMean {
		for j := range m {
			diff.SetVec(j, m[j]-mbar[j])
		}
		vk.SymRankOne(vk, 1/float64((K-1)*K), diff)
	}
	p := r * (r + 1) / 2
	z := mat.NewDense(K, p, nil)
	nullFrac := make([]float64, K)
	var a mat.SymDense
	var wa, s mat.Dense
	mean := mat.NewSymDense(k, nil)
	for c, cc := range chainCov {
		a.AddSym(cc, vk)
		mean.AddSym(mean, &a)
		wa.Mul(w, &a)
		s.Mul(&wa, w.T())
		row := z.RawRowView(c)
		vecUpper(row, &s)
		nullFrac[c] = nullFraction(&a, &q, null)
	}
	mean.ScaleSym(1/float64(K), mean)
	for _, v := range z.RawMatrix().Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("the whitened covariances are not finite")
		}
	}
	t := &CovTest{Dim: k, Rank: r, Chains: K}
	t.NullFraction = nullFraction(mean, &q, null)
	t.NullFractionSE = sim.BetweenChainSE(nullFrac)
	tq := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(K - 1)}.Quantile(1 - alpha)
	t.NullLow, t.NullHigh = t.NullFraction-tq*t.NullFractionSE, t.NullFraction+tq*t.NullFractionSE
	if len(null) == 0 {
		t.NullLow, t.NullHigh = 0, 0
	}

	// D̄ and the centred replicates.
	zbar := make([]float64, p)
	for c := 0; c < K; c++ {
		for j, v := range z.RawRowView(c) {
			zbar[j] += v / float64(K)
		}
	}
	dvec := make([]float64, p)
	copy(dvec, zbar)
	for i := 0; i < r; i++ {
		dvec[upperIndex(i, i, r)] -= 1
	}
	for c := 0; c < K; c++ {
		row := z.RawRowView(c)
		for j := range row {
			row[j] -= zbar[j]
		}
	}
	for _, v := range dvec {
		t.T += v * v
	}
	t.Trace, t.Trace2 = replicateTraces(z)
	t.DF1 = t.Trace * t.Trace / t.Trace2
	// The denominator's degrees of freedom: the smaller of h(K − 1) and the replicates' own
	// (replicateDF2), so that heavy-tailed replicates do not make the test liberal.
	t.DF2 = t.DF1 * float64(K-1)
	if df2 := replicateDF2(z); df2 < t.DF2 {
		t.DF2 = df2
	}
	t.F = t.T / t.Trace
	fd := distuv.F{D1: t.DF1, D2: t.DF2}
	t.Critical = fd.Quantile(1 - alpha)
	t.PValue = fSurvival(t.F, t.DF1, t.DF2)
	t.Reject = t.F > t.Critical
	t.RelError = math.Sqrt(math.Max(0, t.T-t.Trace) / float64(r))

	// Effect-size bounds by inverting the test along the measured direction of D̄.
	cHat := t.Trace2 / t.Trace
	if dn := norm(dvec); dn > 0 {
		cHat = quadForm(z, dvec) / (dn * dn)
	}
	m := powerModel{trace: t.Trace, trace2: t.Trace2, df2: t.DF2}
	lo, hi := 0.0, 0.0
	if t.Reject {
		lo = m.solve(t.F, 1-alpha, cHat)
	}
	if m.quantile(0, alpha, cHat) < t.F {
		hi = m.solve(t.F, alpha, cHat)
	}
	t.CILow, t.CIHigh = math.Sqrt(lo/float64(r)), math.Sqrt(hi/float64(r))

	// Power against the scale alternative Σ = (1 + ε)Σ_p: D = εI_r.
	eye := make([]float64, p)
	for i := 0; i < r; i++ {
		eye[upperIndex(i, i, r)] = 1
	}
	cScale := quadForm(z, eye) / float64(r)
	t.model, t.cScale = m, cScale
	t.Detectable = m.detectable(t.Critical, func(eps float64) (float64, float64) {
		return eps * eps * float64(r), cScale
	}, 10)
	t.DetectableRotation = math.NaN()
	if r >= 2 {
		rho := vals[rng[1]] / vals[rng[0]]
		if rho < 1-1e-9 {
			u := make([]float64, p)
			t.DetectableRotation = m.detectable(t.Critical, func(phi float64) (float64, float64) {
				size := rotationD(u, phi, rho, r)
				if size == 0 {
					return 0, cScale
				}
				return size, quadForm(z, u) / size
			}, math.Pi/2)
		}
	}
	return t, nil
}

// rotationD writes into u (length p) vec D of the whitened error D = W R Σ_p Rᵀ Wᵀ − I of a
// rotation R of angle phi in the plane of Σ_p's two leading eigenvectors (ratio rho = λ₂/λ₁
// of their eigenvalues), and returns ‖D‖²_F (MATH.md §7.2):
// D₁₁ = −s²(1 − ρ), D₂₂ = s²(1/ρ − 1), D₁₂ = cs(1 − ρ)/√ρ with c = cos φ, s = sin φ.
func rotationD(u []float64, phi, rho float64, r int) float64 {
	for i := range u {
		u[i] = 0
	}
	c, s := math.Cos(phi), math.Sin(phi)
	d11 := -s * s * (1 - rho)
	d22 := s * s * (1/rho - 1)
	d12 := c * s * (1 - rho) / math.Sqrt(rho)
	u[upperIndex(0, 0, r)] = d11
	u[upperIndex(1, 1, r)] = d22
	u[upperIndex(0, 1, r)] = math.Sqrt2 * d12
	return d11*d11 + d22*d22 + 2*d12*d12
}

// powerModel is the distribution of the statistic F = T/tr Σ̂_D when ‖D‖²_F = Δ along a
// direction u with uᵀΣ_D u = c (MATH.md §7.2): T ≈ g_Δ χ²_{h_Δ} with mean tr Σ_D + Δ and
// variance 2 tr Σ_D² + 4cΔ, tr Σ̂_D ≈ tr Σ_D χ²_m/m (m = df2), so that
// F ≈ (tr Σ_D + Δ)/tr Σ_D · F(h_Δ, m), h_Δ = (tr Σ_D + Δ)²/(tr Σ_D² + 2cΔ). At Δ = 0 it is the
// test's null distribution F(h, m).
type powerModel struct{ trace, trace2, df2 float64 }

func (m powerModel) dist(delta, c float64) (scale float64, f distuv.F) {
	h := (m.trace + delta) * (m.trace + delta) / (m.trace2 + 2*c*delta)
	return (m.trace + delta) / m.trace, distuv.F{D1: h, D2: m.df2}
}

// quantile returns the prob quantile of F at Δ.
func (m powerModel) quantile(delta, prob, c float64) float64 {
	scale, f := m.dist(delta, c)
	return scale * f.Quantile(prob)
}

// power returns P(F > crit) at Δ.
func (m powerModel) power(delta, crit, c float64) float64 {
	scale, f := m.dist(delta, c)
	return f.Survival(crit / scale)
}

// solve returns the Δ ≥ 0 at which the prob quantile of F equals fObs (the quantile grows
// with Δ), by bisection to a relative 1e-10.
func (m powerModel) solve(fObs, prob, c float64) float64 {
	lo, hi := 0.0, m.trace
	for m.quantile(hi, prob, c) < fObs {
		hi *= 2
		if hi > 1e300 {
			return math.Inf(1)
		}
	}
	for range 200 {
		mid := (lo + hi) / 2
		if m.quantile(mid, prob, c) < fObs {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-10*hi {
			break
		}
	}
	return (lo + hi) / 2
}

// detectable returns the smallest x in (0, xmax] at which the power against the alternative
// alt(x) = (Δ, c) reaches PowerTarget (NaN when it does not by xmax), by bisection; the
// power is taken to grow with x.
func (m powerModel) detectable(crit float64, alt func(x float64) (delta, c float64), xmax float64) float64 {
	pw := func(x float64) float64 {
		d, c := alt(x)
		return m.power(d, crit, c)
	}
	if pw(xmax) < PowerTarget {
		return math.NaN()
	}
	lo, hi := 0.0, xmax
	for range 100 {
		mid := (lo + hi) / 2
		if pw(mid) < PowerTarget {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-9*hi {
			break
		}
	}
	return hi
}

// replicateTraces returns tr Σ̂_D = tr G/(K(K − 1)) and the Bai–Saranadasa estimate of
// tr Σ_D² = tr A²/K², A the covariance of one replicate (MATH.md §7.2):
// tr A² ≈ (K−1)²/((K−2)(K+1)) · [tr S² − (tr S)²/(K−1)] with S = ZᵀZ/(K − 1), computed from the
// K×K Gram matrix G = ZZᵀ (tr S = tr G/(K−1), tr S² = ‖G‖²_F/(K−1)²) and clamped to
// [(tr S)²/p, (tr S)²], the range of tr A² for a p×p covariance. z holds the centred
// replicates (K×p).
func replicateTraces(z *mat.Dense) (trace, trace2 float64) {
	K, p := z.Dims()
	var g mat.SymDense
	g.SymOuterK(1, z)
	var trG, g2 float64
	for i := 0; i < K; i++ {
		trG += g.At(i, i)
		for j := 0; j < K; j++ {
			g2 += g.At(i, j) * g.At(i, j)
		}
	}
	kf := float64(K)
	trS := trG / (kf - 1)
	trS2 := g2 / ((kf - 1) * (kf - 1))
	a2 := (kf - 1) * (kf - 1) / ((kf - 2) * (kf + 1)) * (trS2 - trS*trS/(kf-1))
	a2 = math.Min(math.Max(a2, trS*trS/float64(p)), trS*trS)
	return trS / kf, a2 / (kf * kf)
}

// quadForm returns uᵀΣ̂_D u = ‖Zu‖²/(K(K − 1)) for the centred replicates z (K×p).
func quadForm(z *mat.Dense, u []float64) float64 {
	K, _ := z.Dims()
	var s float64
	for c := 0; c < K; c++ {
		var dot float64
		for j, v := range z.RawRowView(c) {
			dot += v * u[j]
		}
		s += dot * dot
	}
	return s / float64(K*(K-1))
}

// vecUpper writes the upper triangle of the r×r symmetric s row by row into dst, the
// off-diagonal entries multiplied by √2 so that the Euclidean norm is the Frobenius norm.
func vecUpper(dst []float64, s mat.Matrix) {
	r, _ := s.Dims()
	n := 0
	for i := 0; i < r; i++ {
		dst[n] = s.At(i, i)
		n++
		for j := i + 1; j < r; j++ {
			dst[n] = math.Sqrt2 * 0.5 * (s.At(i, j) + s.At(j, i))
			n++
		}
	}
}

// upperIndex is the position of entry (i, j), i ≤ j, in vecUpper's layout.
func upperIndex(i, j, r int) int {
	return i*r - i*(i-1)/2 + (j - i)
}

// nullFraction returns tr(Q_Nᵀ A Q_N)/tr A for the columns null of q (0 without any).
func nullFraction(a mat.Symmetric, q *mat.Dense, null []int) float64 {
	if len(null) == 0 {
		return 0
	}
	k := a.SymmetricDim()
	var tr float64
	for i := 0; i < k; i++ {
		tr += a.At(i, i)
	}
	v := mat.NewVecDense(k, nil)
	av := mat.NewVecDense(k, nil)
	var num float64
	for _, i := range null {
		mat.Col(v.RawVector().Data, i, q)
		av.MulVec(a, v)
		num += mat.Dot(v, av)
	}
	return num / tr
}

func norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// replicateDF2 returns the degrees of freedom of tr Σ̂_D measured from the replicates
// themselves (MATH.md §7.2): tr Σ̂_D = Σ_c q_c/(K(K − 1)) with q_c = ‖z_c − z̄‖², so by
// Satterthwaite m = 2(E tr Σ̂_D)²/Var tr Σ̂_D ≈ 2(K − 1)q̄²/s_q², q̄ and s_q² the mean and
// sample variance (divisor K − 1) of the q_c. For Gaussian replicates E q_c = (K−1)/K·tr A and
// Var q_c ≈ 2 tr A², so m ≈ h(K − 1), the Satterthwaite value; heavy-tailed replicates (few
// effective draws per chain) spread the q_c more and give a smaller m, a heavier-tailed
// reference. z holds the centred replicates (K×p).
func replicateDF2(z *mat.Dense) float64 {
	K, _ := z.Dims()
	q := make([]float64, K)
	var mean float64
	for c := 0; c < K; c++ {
		for _, v := range z.RawRowView(c) {
			q[c] += v * v
		}
		mean += q[c] / float64(K)
	}
	var v float64
	for _, x := range q {
		v += (x - mean) * (x - mean) / float64(K-1)
	}
	return 2 * float64(K-1) * mean * mean / v
}

// fSurvival returns P(F(d1, d2) > x) = I_{d2/(d2 + d1 x)}(d2/2, d1/2), the regularized
// incomplete beta function, accurate in the far tail where 1 − CDF would round to ε.
func fSurvival(x, d1, d2 float64) float64 {
	if !(x > 0) {
		return 1
	}
	return mathext.RegIncBeta(d2/2, d1/2, d2/(d2+d1*x))
}
