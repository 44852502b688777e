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
	out = append(out, def)

	// Zero current.
	cur := Verdict{Topic: TopicCurrent, Step: s.ID}
	dg := o.Diagnostics
	commutator, asymNote, asymGeneral := Float(jsonnum.Get(dg.Commutator)), Float(jsonnum.Get(dg.AsymmetryNote)), Float(jsonnum.Get(dg.AsymmetryGeneral))
	asym := ""
	if asymNote.OK() {
		asym = fmt.Sprintf(" The Jacobian asymmetry of the note's score field is %s (threshold %s).", Format(float64(asymNote)), Format(th.Asymmetry))
	}
	if asymGeneral.OK() {
		asym += fmt.Sprintf(" That of the general field D⁻¹(2μ − ∇·D) is %s.", Format(float64(asymGeneral)))
	}
	switch {
	case !commutator.OK() && !asymNote.OK():
		cur.Status = Unknown
		cur.Text = at + "score reports neither the commutator of C and H nor the Jacobian asymmetry."
	case (commutator.OK() && float64(commutator) > th.Commutator) || (asymNote.OK() && float64(asymNote) > th.Asymmetry):
		cur.Status = Fails
		cur.Text = at + fmt.Sprintf("no. ‖CH − HC‖/(‖C‖‖H‖) = %s (threshold %s): the noise and the curvature do not share eigendirections, so the note's score field is not a gradient field, SGD's stationary state carries a probability current, and 2D⁻¹μ is not the score of any density.%s",
			Format(float64(commutator)), Format(th.Commutator), asym)
	default:
		cur.Status = Holds
		cur.Text = at + fmt.Sprintf("yes, to the threshold. ‖CH − HC‖/(‖C‖‖H‖) = %s ≤ %s: C and H nearly commute, so a zero-current stationary state is possible.%s",
			Format(float64(commutator)), Format(th.Commutator), asym)
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
		text := fmt.Sprintf("the note's stationary score 2D⁻¹μ vanishes at θ*, but the general score D⁻¹(2μ − ∇·D) does not: ‖s_gen − s_st‖ = %s against a typical stationary score of %s there (√tr Σ⁻¹ of the continuous-Lyapunov Gaussian over the %d directions of the table), a ratio of %s (threshold %s; computed by the study from score's output).",
			Format(diff), Format(scale), k, Format(rel), Format(th.Divergence))
		if rel > th.Divergence {
			dif.Status = Fails
			dif.Text = at + "no: " + text + " The dropped term moves the stationary density by a sizeable fraction of its width: the note's zero-current density is not stationary."
		} else {
			dif.Status = Holds
			dif.Text = at + "yes, to the threshold: " + text
		}
	case !divRatio.OK():
		dif.Status = Unknown
		dif.Text = at + "not measured (score was run without --divergence)."
	case r > th.Divergence:
		dif.Status = Fails
		dif.Text = at + fmt.Sprintf("no. The divergence term ∇·D that the note drops changes the stationary score by %s relative to 2D⁻¹μ (threshold %s).", Format(r), Format(th.Divergence))
	default:
		dif.Status = Holds
		dif.Text = at + fmt.Sprintf("yes, to the threshold. Dropping the divergence term ∇·D changes the stationary score by %s relative (≤ %s).", Format(r), Format(th.Divergence))
	}
	out = append(out, dif)

	// Gaussian noise.
	gau := Verdict{Topic: TopicGaussian, Step: s.ID}
	kurt := finiteValues(jsonnum.Values(dg.NoiseKurtosis))
	tail := ""
	if tv := finiteValues(jsonnum.Values(dg.NoiseTailIndex)); len(tv) > 0 {
		tail = " Tail index along the same directions: " + formatList(tv) + "."
	}
	switch {
	case len(kurt) == 0:
		gau.Status = Unknown
		gau.Text = at + "score reports no kurtosis of the mini-batch noise."
	default:
		worst := 0.0
		for _, k := range kurt {
			worst = math.Max(worst, math.Abs(k))
		}
		se := ""
		if kse := Float(jsonnum.Get(dg.NoiseKurtosisStderr)); kse.OK() {
			se = fmt.Sprintf(", ±%s if the noise were Gaussian", Format(float64(kse)))
		}
		if worst > th.Kurtosis {
			gau.Status = Fails
			gau.Text = at + fmt.Sprintf("no. The excess kurtosis of the mini-batch noise along the top noise directions is %s (largest |value| %s > %s%s): heavier tails than the SDE's Gaussian.%s",
				formatList(kurt), Format(worst), Format(th.Kurtosis), se, tail)
		} else {
			gau.Status = Holds
			gau.Text = at + fmt.Sprintf("yes, to the threshold. The excess kurtosis along the top noise directions is %s (|value| ≤ %s%s).%s",
				formatList(kurt), Format(th.Kurtosis), se, tail)
		}
	}
	out = append(out, gau)

	// Rank.
	rk := Verdict{Topic: TopicRank, Step: s.ID}
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
		out = append(out, priorVerdict(s, g, at))
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
