package study

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/score"
)

func scoreVerdicts(s *StepResult, th Thresholds) []Verdict {
	o, err := s.Score()
	if err != nil {
		return []Verdict{unknown(TopicDefined, s.ID, err)}
	}
	at := "At θ*, " + gridText(s.LR, s.Batch) + ": "
	rank, d := float64(o.Noise.Rank), float64(o.D)
	rankText := fmt.Sprintf("C_B has numerical rank %s of d = %d", Format(rank), o.D)
	if o.Noise.RankEstimated {
		rankText = fmt.Sprintf("C_B has an estimated numerical rank of %s of d = %d", Format(rank), o.D)
	}
	var out []Verdict

	// Is the score defined?
	def := Verdict{Topic: TopicDefined, Step: s.ID}
	switch {
	case o.Inverse == "range":
		def.Status, def.Short = Partly, "only on the range of C_B"
		def.Text = at + fmt.Sprintf("only on the range of C_B. %s; the scores use its pseudo-inverse, and a fraction %s of ‖∇L‖² lies outside the range, where SGD has no noise and the note's stationary density does not exist.",
			rankText, Format(float64(o.Diagnostics.RangeFraction)))
	case o.Damping > 0:
		def.Status, def.Short = Partly, "only with damping"
		def.Text = at + fmt.Sprintf("only after damping. %s; D⁻¹ is replaced by (η²(C_B + λI))⁻¹ with λ = %s, a choice of the user that sets the score along the null directions.",
			rankText, Format(o.Damping))
	case rank >= d:
		def.Status = Holds
		def.Text = at + fmt.Sprintf("yes. %s, so D = η²C_B is invertible and the note's score (I − 2ηD⁻¹)∇L_full is defined.", rankText)
	default:
		def.Status = Fails
		def.Text = at + fmt.Sprintf("no. %s, so D⁻¹ does not exist.", rankText)
	}
	if o.Diagnostics.AtCriticalPoint {
		def.Text += fmt.Sprintf(" θ* is a critical point to round-off (‖∇L‖ = %s ≤ floor %s): there the implicit part of the note's prior score is exactly 0, as at every critical point, so the note's vector is the explicit prior −N∇r alone; what carries information is its Jacobian (the seed precision).",
			Format(float64(o.GradNorm)), Format(float64(o.Diagnostics.RoundoffFloor)))
	}
	def.setValue("numerical rank of C_B", rank)
	out = append(out, def)

	// Zero current.
	cur := Verdict{Topic: TopicCurrent, Step: s.ID}
	dg := o.Diagnostics
	commutator, asymNote, asymGeneral := Float(jsonnum.Get(dg.Commutator)), Float(jsonnum.Get(dg.AsymmetryNote)), Float(jsonnum.Get(dg.AsymmetryGeneral))
	asymSE := Float(jsonnum.Get(dg.AsymmetryNoteSE)) // NaN for a dense Jacobian: no sampling error
	cause := ""
	if commutator.OK() {
		cause = fmt.Sprintf(" The commutator ‖CH − HC‖/(‖C‖‖H‖) = %s is the cause (C and H not sharing eigendirections), reported as such: it measures the same effect in another normalisation and does not decide.", Format(float64(commutator)))
	}
	general := ""
	if asymGeneral.OK() {
		general = fmt.Sprintf(" The general field D⁻¹(2μ − ∇·D) has asymmetry %s.", Format(float64(asymGeneral)))
	}
	var ladderAsym []float64
	for _, r := range dg.Ladder {
		ladderAsym = append(ladderAsym, float64(r.AsymmetryNote))
	}
	switch {
	case asymNote.OK():
		cur.setValue("Jacobian asymmetry of the note's score field", float64(asymNote))
		a := fmt.Sprintf("the Jacobian asymmetry ‖J − Jᵀ‖/‖J‖ of the note's score field, the direct measure of a non-gradient field, is %s (threshold %s)", FormatSE(float64(asymNote), float64(asymSE)), Format(th.Asymmetry))
		switch side := thresholdSide(float64(asymNote), float64(asymSE), th.Asymmetry); {
		case ladderDisagrees(ladderAsym, th.Asymmetry):
			cur.Status, cur.Short = Inconclusive, "depends on the regularisation"
			cur.Text = at + "depends on the regularisation: " + a + ", but over the regularisation ladder of C_B it is " + formatLadder(dg.Ladder, ladderAsym) + ", on both sides of the threshold." + cause + general
		case side > 0:
			cur.Status = Fails
			cur.Text = at + "no: " + a + ", so the note's score field is not a gradient field, SGD's stationary state carries a probability current, and 2D⁻¹μ is not the score of any density." + cause + general
		case side < 0:
			cur.Status = Holds
			cur.Text = at + "yes, to the threshold: " + a + ", so the note's field is a gradient field to that tolerance and a zero-current stationary state is possible." + cause + general
		default:
			cur.Status = Inconclusive
			cur.Text = at + "inconclusive: " + a + "; the interval of two standard errors (probe-to-probe spread) straddles the threshold." + cause + general
		}
	case commutator.OK():
		// Without the asymmetry only the cause is measured: at a critical point the seed
		// field's Jacobian is ∝ C_B⁻¹H, non-symmetric exactly when C and H do not commute.
		cur.setValue("commutator ‖CH − HC‖/(‖C‖‖H‖)", float64(commutator))
		c := fmt.Sprintf("the Jacobian asymmetry was not computed; the commutator ‖CH − HC‖/(‖C‖‖H‖) = %s (threshold %s), the cause of an asymmetry, decides instead", Format(float64(commutator)), Format(th.Commutator))
		if float64(commutator) > th.Commutator {
			cur.Status = Fails
			cur.Text = at + "no: " + c + ": C and H do not share eigendirections, so the note's field is not a gradient field and SGD's stationary state carries a probability current."
		} else {
			cur.Status = Holds
			cur.Text = at + "yes, to the threshold: " + c + ": C and H nearly commute (" + Format(float64(commutator)) + " ≤ " + Format(th.Commutator) + "), so a zero-current stationary state is possible."
		}
	default:
		cur.Status = Unknown
		cur.Text = at + "score reports neither the commutator of C and H nor the Jacobian asymmetry."
	}
	out = append(out, cur)

	// Constant diffusion.
	dif := Verdict{Topic: TopicDiffusion, Step: s.ID}
	vec := o.Vectors
	divRatio := Float(jsonnum.Get(dg.DivergenceRatio))
	switch r := float64(divRatio); {
	case !divRatio.OK() && len(vec.StationaryScoreGeneral) > 0 && len(vec.StationaryScoreGeneral) == len(vec.StationaryScore):
		// At a minimum 2D⁻¹μ = 0 and score's ratio to it is undefined: measure the shift
		// s_gen − s_st in units of the stationary density's width (MATH.md §5).
		var vars []float64
		if g := o.Gaussian; g != nil {
			for _, d := range g.Directions {
				vars = append(vars, float64(d.VarContinuous))
			}
		}
		diff, scale, rel, k := score.DivergenceShiftAtMinimum(jsonnum.Values(vec.StationaryScoreGeneral), jsonnum.Values(vec.StationaryScore), vars)
		if k == 0 {
			dif.Status = Unknown
			dif.Text = at + fmt.Sprintf("the note's stationary score 2D⁻¹μ vanishes at θ*, while the general score D⁻¹(2μ − ∇·D) does not (‖s_gen − s_st‖ = %s); without the Gaussian predictions there is no scale to judge it against.", Format(diff))
			break
		}
		se := Float(jsonnum.Get(dg.DivergenceShiftSE)) // standard error of the estimate of ∇·C (NaN: none reported)
		dif.setValue("‖s_gen − s_st‖ relative to the stationary score", rel)
		text := fmt.Sprintf("the note's stationary score 2D⁻¹μ vanishes at θ*, but the general score D⁻¹(2μ − ∇·D) does not: ‖s_gen − s_st‖ = %s against a typical stationary score of %s there (√tr Σ⁻¹ of the continuous-Lyapunov Gaussian over the %d directions of the table), a ratio of %s (threshold %s; computed by the study from score's output%s).",
			Format(diff), Format(scale), k, FormatSE(rel, float64(se)), Format(th.Divergence), divergenceSEText(se))
		switch thresholdSide(rel, float64(se), th.Divergence) {
		case 1:
			dif.Status = Fails
			dif.Text = at + "no: " + text + " The dropped term moves the stationary density by a sizeable fraction of its width: the note's zero-current density is not stationary."
		case -1:
			dif.Status = Holds
			dif.Text = at + "yes, to the threshold: " + text
		default:
			dif.Status = Inconclusive
			dif.Text = at + "inconclusive: " + text + " The interval of two standard errors of the estimate of ∇·C straddles the threshold."
		}
	case !divRatio.OK():
		dif.Status = Unknown
		dif.Text = at + "not measured (score was run without --divergence)."
	default:
		se := Float(jsonnum.Get(dg.DivergenceRatioSE))
		val := FormatSE(r, float64(se))
		dif.setValue("divergence ratio (change of the stationary score)", r)
		switch thresholdSide(r, float64(se), th.Divergence) {
		case 1:
			dif.Status = Fails
			dif.Text = at + fmt.Sprintf("no. The divergence term ∇·D that the note drops changes the stationary score by %s relative to 2D⁻¹μ (threshold %s%s).", val, Format(th.Divergence), divergenceSEText(se))
		case -1:
			dif.Status = Holds
			dif.Text = at + fmt.Sprintf("yes, to the threshold. Dropping the divergence term ∇·D changes the stationary score by %s relative (≤ %s%s).", val, Format(th.Divergence), divergenceSEText(se))
		default:
			dif.Status = Inconclusive
			dif.Text = at + fmt.Sprintf("inconclusive. Dropping the divergence term ∇·D changes the stationary score by %s relative, within two standard errors of the threshold %s%s.", val, Format(th.Divergence), divergenceSEText(se))
		}
	}
	if len(dg.Ladder) > 0 && dif.Status != Unknown {
		var vals []float64
		for _, r := range dg.Ladder {
			v := float64(r.DivergenceShift)
			if divRatio.OK() {
				v = float64(r.DivergenceRatio)
			}
			vals = append(vals, v)
		}
		if ladderDisagrees(vals, th.Divergence) {
			dif.Status, dif.Short = Inconclusive, "depends on the regularisation"
			dif.Text += " But C_B is rank-deficient and this number depends on the regularisation of its inverse: over the ladder it is " + formatLadder(dg.Ladder, vals) + ", on both sides of the threshold " + Format(th.Divergence) + ", so the verdict depends on the regularisation."
		} else {
			dif.Text += " C_B is rank-deficient and the number depends on the regularisation of its inverse: over the ladder it is " + formatLadder(dg.Ladder, vals) + ", all on the same side of the threshold, so the verdict does not."
		}
	}
	out = append(out, dif)

	// Gaussian noise.
	gau := Verdict{Topic: TopicGaussian, Step: s.ID}
	kurt := finiteValues(jsonnum.Values(dg.NoiseKurtosis))
	exact := finiteValues(jsonnum.Values(dg.NoiseKurtosisExact))
	kse := jsonnum.Values(dg.NoiseKurtosisStderr)
	tail := ""
	if tv := finiteValues(jsonnum.Values(dg.NoiseTailIndex)); len(tv) > 0 {
		tail = " Tail index along the same directions: " + formatList(tv) + "."
	}
	worstOf := func(xs []float64) (float64, int) {
		w, at := 0.0, 0
		for i, k := range xs {
			if math.Abs(k) > w {
				w, at = math.Abs(k), i
			}
		}
		return w, at
	}
	switch {
	case len(exact) > 0:
		worst, _ := worstOf(exact)
		gau.setValue("largest |exact excess kurtosis|", worst)
		check := ""
		if len(kurt) > 0 {
			check = fmt.Sprintf(" (The sampled estimates %s, bootstrap standard errors %s, are a check.)", formatList(kurt), formatList(finiteValues(kse)))
		}
		if worst > th.Kurtosis {
			gau.Status = Fails
			gau.Text = at + fmt.Sprintf("no. The exact excess kurtosis of the mini-batch noise along the top noise directions (from the per-example moments, no sampling error) is %s: largest |value| %s > %s, heavier tails than the SDE's Gaussian.%s%s",
				formatList(exact), Format(worst), Format(th.Kurtosis), check, tail)
		} else {
			gau.Status = Holds
			gau.Text = at + fmt.Sprintf("yes, to the threshold. The exact excess kurtosis of the mini-batch noise along the top noise directions (from the per-example moments, no sampling error) is %s (|value| ≤ %s).%s%s",
				formatList(exact), Format(th.Kurtosis), check, tail)
		}
	case len(kurt) > 0:
		worst, i := worstOf(kurt)
		gau.setValue("largest |sampled excess kurtosis|", worst)
		se := math.NaN()
		if i < len(kse) {
			se = kse[i]
		}
		switch side := thresholdSide(worst, se, th.Kurtosis); {
		case side > 0:
			gau.Status = Fails
			gau.Text = at + fmt.Sprintf("no. The sampled excess kurtosis along the top noise directions is %s (largest |value| %s > %s).%s", formatList(kurt), FormatSE(worst, se), Format(th.Kurtosis), tail)
		case side < 0:
			gau.Status = Holds
			gau.Text = at + fmt.Sprintf("yes, to the threshold. The sampled excess kurtosis along the top noise directions is %s (|value| %s ≤ %s).%s", formatList(kurt), FormatSE(worst, se), Format(th.Kurtosis), tail)
		default:
			gau.Status = Inconclusive
			gau.Text = at + fmt.Sprintf("inconclusive. The sampled excess kurtosis %s (largest |value| %s) is within two standard errors of the threshold %s.%s", formatList(kurt), FormatSE(worst, se), Format(th.Kurtosis), tail)
		}
	default:
		gau.Status = Unknown
		gau.Text = at + "score reports no kurtosis of the mini-batch noise."
	}
	out = append(out, gau)

	// Rank.
	rk := Verdict{Topic: TopicRank, Step: s.ID}
	rk.setValue("numerical rank of C_B", rank)
	switch {
	case rank >= d:
		rk.Status = Holds
		rk.Text = at + "yes. " + rankText + "."
	default:
		rk.Status = Fails
		rk.Text = at + fmt.Sprintf("no. %s: along %s directions SGD has no noise at all.", rankText, Format(d-rank))
	}
	out = append(out, rk)

	// Negative prior precision.
	if g := o.Gaussian; g != nil && len(g.Directions) > 0 {
		if v, ok := priorMatrixVerdict(s, g, dg.Ladder, at); ok {
			out = append(out, v)
		} else {
			out = append(out, priorVerdict(s, g, at))
		}
	}
	return out
}

// predictionOrder lists the predictions in the order the report names them; others
// follow alphabetically.
func priorVerdict(s *StepResult, g *score.OutputGaussian, at string) Verdict {
	v := Verdict{Topic: TopicPrior, Step: s.ID}
	n := len(g.Directions)
	prec := make([]map[string]Float, n)
	var names []string
	for i, d := range g.Directions {
		prec[i] = d.PriorPrecision.ByName()
		for k := range prec[i] {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	m := map[string]bool{}
	for _, k := range names {
		m[k] = true
	}
	names = PredictionNames(m)
	var bad, good []string
	worst := 0
	for _, name := range names {
		var neg []string
		known := 0
		for k, pk := range prec {
			p, ok := pk[name]
			if !ok || !p.OK() {
				continue
			}
			known++
			if p < 0 {
				neg = append(neg, strconv.Itoa(k+1))
			}
		}
		switch {
		case known == 0:
		case len(neg) == 0:
			good = append(good, PredictionLabel(name))
		default:
			bad = append(bad, fmt.Sprintf("%s: %d of %d (k = %s)", PredictionLabel(name), len(neg), known, abbreviate(neg, 12)))
			worst = max(worst, len(neg))
		}
	}
	switch {
	case len(bad) == 0 && len(good) == 0:
		v.Status = Unknown
		v.Text = at + "score reports no prior precisions."
	case len(bad) == 0:
		v.Status = Holds
		v.Text = at + fmt.Sprintf("yes. Along all %d Hessian eigendirections the implied prior precision Σ⁻¹ − N·H_nll is positive for %s: the prior confines in every direction.",
			n, strings.Join(good, ", "))
	default:
		v.Status = Fails
		v.Short = fmt.Sprintf("no: negative along %d of %d directions", worst, n)
		v.Text = at + fmt.Sprintf("no. The implied prior precision Σ⁻¹ − N·H_nll is negative along some Hessian eigendirections (k counts from the sharpest): %s. There the \"prior\" widens rather than confines, and the note's reading of SGD's stationary distribution as a posterior does not hold.",
			strings.Join(bad, "; "))
		if len(good) > 0 {
			v.Text += " Positive in every direction for " + strings.Join(good, ", ") + "."
		}
	}
	return v
}

// thresholdSide returns +1 when x − 2se > th, −1 when x + 2se ≤ th and 0 when the interval
// x ± 2se straddles th (MATH.md §5: every threshold check carries its statistic's
// uncertainty); a NaN se counts as 0.
func thresholdSide(x, se, th float64) int {
	if math.IsNaN(se) || math.IsInf(se, 0) {
		se = 0
	}
	switch {
	case x-2*se > th:
		return 1
	case x+2*se <= th:
		return -1
	}
	return 0
}

// divergenceSEText says what the standard error of a divergence statistic covers ("" when
// none is reported).
func divergenceSEText(se Float) string {
	switch {
	case !se.OK():
		return ""
	case se == 0:
		return "; ∇·C exact, no sampling error"
	}
	return "; ± one jackknife standard error over the Hutchinson probes and the example subset of the estimate of ∇·C"
}

// ladderDisagrees reports whether the finite values fall on both sides of th.
func ladderDisagrees(vals []float64, th float64) bool {
	above, below := false, false
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if v > th {
			above = true
		} else {
			below = true
		}
	}
	return above && below
}

// formatLadder lists vals beside their rungs: "λ = 1e-05: 800, …, pinv: 1e9".
func formatLadder(rungs []score.OutputRung, vals []float64) string {
	parts := make([]string, 0, len(rungs))
	for i, r := range rungs {
		name := "λ = " + Format(r.Damping)
		if r.Range {
			name = "pseudo-inverse"
		}
		if r.User {
			name += " (used)"
		}
		parts = append(parts, name+": "+Format(vals[i]))
	}
	return strings.Join(parts, ", ")
}

// priorMatrixVerdict judges the implied prior as a matrix (MATH.md §6): the smallest
// eigenvalue of each implied prior precision on the predicted subspace, and the part of the
// space that subspace covers. It returns false when score reports no smallest eigenvalue.
func priorMatrixVerdict(s *StepResult, g *score.OutputGaussian, ladder []score.OutputRung, at string) (Verdict, bool) {
	v := Verdict{Topic: TopicPrior, Step: s.ID}
	if g.PriorMinEig == nil || g.Coverage == nil {
		return v, false
	}
	me := g.PriorMinEig
	vecs := score.OutputPriorEigVectors{}
	if g.PriorMinEigVector != nil {
		vecs = *g.PriorMinEigVector
	}
	type pred struct {
		name string
		val  Float
		vec  *score.OutputPriorEig
	}
	all := []pred{{"seed", Float(jsonnum.Get(me.Note)), vecs.Note}, {"continuous", Float(jsonnum.Get(me.Continuous)), vecs.Continuous},
		{"discrete", Float(jsonnum.Get(me.Discrete)), vecs.Discrete}, {"linear_exact", Float(jsonnum.Get(me.Exact)), vecs.Exact}}
	var neg, pos []string
	for _, p := range all {
		if !p.val.OK() {
			continue
		}
		text := fmt.Sprintf("%s %s", PredictionLabel(p.name), Format(float64(p.val)))
		if p.vec != nil && p.val < 0 {
			text += fmt.Sprintf(" (its eigenvector: vᵀHv/h_max %s, vᵀC_Bv/c_max %s)", Format(float64(p.vec.HessianRel)), Format(float64(p.vec.NoiseRel)))
		}
		if p.val < 0 {
			neg = append(neg, text)
		} else {
			pos = append(pos, text)
		}
	}
	if len(neg) == 0 && len(pos) == 0 {
		return v, false
	}
	cov := *g.Coverage
	coverage := fmt.Sprintf("on the %d of d = %d directions the predictions cover; %d of the d directions carry no noise", cov.K, cov.D, cov.NoNoise)
	var seedLadder []float64
	for _, r := range ladder {
		seedLadder = append(seedLadder, float64(r.PriorMinEigNote))
	}
	depends := ""
	if ladderDisagrees(seedLadder, 0) {
		depends = " The seed's smallest eigenvalue depends on the regularisation of C_B: over the ladder it is " + formatLadder(ladder, seedLadder) + "."
	}
	switch {
	case len(neg) > 0:
		v.Status = Fails
		v.Short = fmt.Sprintf("no: indefinite for %d of %d predictions", len(neg), len(neg)+len(pos))
		v.Text = at + fmt.Sprintf("no. Judged as a matrix, the implied prior precision Σ⁻¹ − N·H_nll (%s) has a negative smallest eigenvalue for %s: along that combination of directions the \"prior\" widens rather than confines, whatever its per-direction diagonal entries say, and the note's reading of SGD's stationary distribution as a posterior does not hold there.",
			coverage, strings.Join(neg, "; "))
		if len(pos) > 0 {
			v.Text += " Positive definite (smallest eigenvalue) for " + strings.Join(pos, ", ") + "."
		}
	case cov.Full:
		v.Status = Holds
		v.Text = at + fmt.Sprintf("yes. The implied prior precision Σ⁻¹ − N·H_nll is positive definite (smallest eigenvalue %s) %s, that is the whole parameter space.", strings.Join(pos, ", "), coverage)
	default:
		v.Status = Partly
		v.Short = fmt.Sprintf("only on %d of %d directions", cov.K, cov.D)
		v.Text = at + fmt.Sprintf("partly: only %s. There the implied prior precision Σ⁻¹ − N·H_nll is positive definite (smallest eigenvalue %s); the other %d directions are not predicted, so nothing is said about them.",
			coverage, strings.Join(pos, ", "), cov.D-cov.K)
	}
	v.Text += depends
	return v, true
}
