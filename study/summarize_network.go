package study

import (
	"fmt"
	"math"
	"strings"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/escape"
	"github.com/sgdprior/sgdprior/track"
)

// The real-network questions (verdict topics of the track, basins and escape steps).
const (
	TopicSGDFlatter  = "Does SGD find flatter minima than GD here?"
	TopicFlatGeneral = "Do flatter minima generalize better here?"
	TopicSGDEscape   = "Does SGD escape sharp minima where isotropic noise does not?"
	TopicTrack       = "What does the note's formula say along the trajectory?"
)

// NetworkTopics are the real-network questions in the report's order.
var NetworkTopics = []string{TopicSGDFlatter, TopicFlatGeneral, TopicSGDEscape, TopicTrack}

// escapeZ is the normal quantile of the escaped fractions' 95% Wilson intervals.
const escapeZ = 1.96

// networkVerdicts words the verdicts of a problem's real-network steps: from basins the
// SGD-vs-GD sharpness and the sharpness–test-error rank correlation, from escape SGD's
// escapes against isotropic noise, and from the track steps the note's prior score along
// the trajectory (Info).
func networkVerdicts(steps []*StepResult) []Verdict {
	var vs []Verdict
	var tracks []*StepResult
	for _, s := range steps {
		switch s.Command {
		case KindBasins:
			vs = append(vs, basinsVerdicts(s)...)
		case KindEscape:
			vs = append(vs, networkEscapeVerdict(s))
		case KindTrack:
			tracks = append(tracks, s)
		}
	}
	if len(tracks) > 0 {
		vs = append(vs, trackVerdict(tracks))
	}
	return vs
}

// ciSign is +1 when [lo, hi] lies above 0, −1 below, 0 when it contains 0 (or is absent).
func ciSign(lo, hi float64) int {
	switch {
	case lo > 0:
		return 1
	case hi < 0:
		return -1
	}
	return 0
}

// basinsVerdicts answers TopicSGDFlatter from the paired SGD − GD differences of λ_max over
// seeds (at the minimum; at the last iterate in the text) and TopicFlatGeneral from
// Spearman's ρ(λ_max, test error) with its bootstrap interval over seeds.
func basinsVerdicts(s *StepResult) []Verdict {
	o, err := s.Basins()
	if err != nil {
		return []Verdict{unknown(TopicSGDFlatter, s.ID, err), unknown(TopicFlatGeneral, s.ID, err)}
	}
	flat := Verdict{Topic: TopicSGDFlatter, Step: s.ID, Where: fmt.Sprintf("%d runs, weight decay %s", len(o.Runs), Format(o.WeightDecay))}
	var atMin, atIter []string
	flatter, sharper, undecided := 0, 0, 0
	iterFlatter, iterSharper := 0, 0
	for _, c := range o.Summary.SGDvsGD {
		desc := fmt.Sprintf("%s − %s: %s [%s, %s]", c.A, c.B, Format(float64(c.MeanDiff)), Format(float64(c.CILow)), Format(float64(c.CIHigh)))
		sign := ciSign(float64(c.CILow), float64(c.CIHigh))
		switch c.Quantity {
		case "lambda_max":
			atMin = append(atMin, desc)
			switch sign {
			case -1:
				flatter++
			case 1:
				sharper++
			default:
				undecided++
			}
		case "iterate_lambda_max":
			atIter = append(atIter, desc)
			switch sign {
			case -1:
				iterFlatter++
			case 1:
				iterSharper++
			}
		}
	}
	switch {
	case len(atMin) == 0:
		flat.Status, flat.Text = Unknown, "The basins output has no SGD-against-GD comparison (run it with --gd)."
	default:
		switch {
		case flatter > 0 && sharper == 0 && undecided == 0:
			flat.Status, flat.Short = Holds, "yes, at every cell"
		case sharper > 0 && flatter == 0 && undecided == 0:
			flat.Status, flat.Short = Fails, "no: sharper"
		case flatter == 0 && sharper == 0:
			flat.Status, flat.Short = Inconclusive, "no difference resolved"
		default:
			flat.Status, flat.Short = Inconclusive, "mixed"
		}
		flat.Text = fmt.Sprintf("At the minimum each run descends to (‖∇L‖ ≤ %s), the paired differences SGD − GD of λ_max over %s seeds (mean, %s%% Student-t interval) are: %s. "+
			"SGD is flatter in %d of %d cells, sharper in %d, and the interval contains 0 in %d. "+
			"At the last SGD iterate, before the descent: %s (flatter in %d, sharper in %d). "+
			"The descent to the minimum, with weight decay λ = %s in the objective, tends to erase the difference that the noise makes along the trajectory: the minima SGD and GD reach from the same initialisation are close.",
			Format(o.GradTol), seedCount(o.Summary.SGDvsGD), Format(100*basins.Level), strings.Join(atMin, "; "), flatter, len(atMin), sharper, undecided,
			orDash(strings.Join(atIter, "; ")), iterFlatter, iterSharper, Format(o.WeightDecay))
	}
	gen := Verdict{Topic: TopicFlatGeneral, Step: s.ID}
	rc := o.Summary.SharpnessTestErrorRankCorr
	gen.Where = fmt.Sprintf("%d runs", rc.Runs)
	target := strings.ReplaceAll(rc.Target, "_", " ")
	switch {
	case !rc.Rho.OK():
		gen.Status, gen.Text = Unknown, fmt.Sprintf("Spearman's ρ between λ_max and %s is undefined here (%d runs).", target, rc.Runs)
	default:
		head := fmt.Sprintf("Spearman's ρ between λ_max at the minimum and the %s over %d runs is %s, %s%% bootstrap interval over seeds [%s, %s] (%d of %d resamples valid). ",
			target, rc.Runs, Format(float64(rc.Rho)), Format(100*rc.Level), Format(float64(rc.CILow)), Format(float64(rc.CIHigh)), rc.ValidResamples, rc.Resamples)
		switch ciSign(float64(rc.CILow), float64(rc.CIHigh)) {
		case 1:
			gen.Status, gen.Short = Holds, "yes: sharper minima test worse"
			gen.Text = head + "The interval lies above 0: the sharper minima have the larger " + target + "."
		case -1:
			gen.Status, gen.Short = Fails, "no: sharper minima test better"
			gen.Text = head + "The interval lies below 0: here the sharper minima have the smaller " + target + "."
		default:
			gen.Status = Inconclusive
			gen.Text = head + "The interval contains 0: these runs do not tell whether flatter minima generalize better."
		}
		if ic := o.Summary.IterateSharpnessTestErrorRankCorr; ic.Rho.OK() {
			gen.Text += fmt.Sprintf(" At the last iterates (the models training returns, Keskar et al.'s setting), ρ between λ_max and the %s there is %s [%s, %s]; "+
				"it is not the verdict, because at a fixed number of epochs a larger batch takes fewer steps, so iterate sharpness and test error both also measure how far training has gone.",
				target, Format(float64(ic.Rho)), Format(float64(ic.CILow)), Format(float64(ic.CIHigh)))
		}
		if !o.HasTest {
			gen.Text += " The problem has no test set (set test or holdout), so this is the training error, not generalization."
		}
	}
	return []Verdict{flat, gen}
}

// seedCount is the number of seeds of the comparisons ("—" without any).
func seedCount(cs []basins.Comparison) string {
	if len(cs) == 0 {
		return "—"
	}
	return fmt.Sprint(cs[0].Seeds)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// networkEscapeVerdict answers TopicSGDEscape from the escaped fractions of SGD and of
// isotropic noise of the same total variance: each fraction E/K is quoted with its binomial
// SE and compared through its 95% Wilson score interval (wilson: unlike f ± 1.96·SE it does
// not collapse to a point at 0/K or K/K). Holds when SGD's interval lies above isotropic
// noise's, Fails when it lies below, Inconclusive when they overlap.
func networkEscapeVerdict(s *StepResult) Verdict {
	v := Verdict{Topic: TopicSGDEscape, Step: s.ID}
	o, err := s.Escape()
	if err != nil {
		return unknown(TopicSGDEscape, s.ID, err)
	}
	st := o.Settings
	v.Where = fmt.Sprintf("η = %s, B = %d, %d chains per noise", Format(st.LR), st.Batch, st.Chains)
	sgd, iso := o.Noises.Get(escape.SGDNoise), o.Noises.Get(escape.IsotropicNoise)
	if sgd == nil || iso == nil || !sgd.EscapedFraction.OK() || !iso.EscapedFraction.OK() || st.Chains < 1 {
		v.Status, v.Text = Unknown, "The escape output lacks the SGD or the isotropic chains."
		return v
	}
	var parts []string
	for _, n := range escape.Noises {
		r := o.Noises.Get(n)
		if r == nil {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d = %s (median escape step %s)", n, r.Escaped, st.Chains,
			FormatSE(float64(r.EscapedFraction), float64(r.EscapedFractionStderr)), Format(float64(r.MedianEscapeStep))))
	}
	v.setValue("SGD's escaped fraction − isotropic noise's", float64(sgd.EscapedFraction)-float64(iso.EscapedFraction))
	sLo, sHi := wilson(sgd.Escaped, st.Chains, escapeZ)
	iLo, iHi := wilson(iso.Escaped, st.Chains, escapeZ)
	head := fmt.Sprintf("From θ* (L = %s, λ_max = %s, ηλ_max = %s), a chain escapes when L exceeds L(θ*) + δ = %s within %d steps (checked every %d). Escaped fractions (± binomial SE): %s. ",
		Format(float64(o.Loss)), Format(float64(o.LambdaMax)), Format(float64(o.Stability)), Format(float64(o.Threshold)), st.Steps, st.CheckEvery, strings.Join(parts, "; "))
	cmp := fmt.Sprintf("SGD's 95%% Wilson interval [%s, %s] against isotropic noise's [%s, %s]", Format(sLo), Format(sHi), Format(iLo), Format(iHi))
	switch {
	case sLo > iHi:
		v.Status, v.Short = Holds, "yes"
		v.Text = head + cmp + ": SGD escapes more often than isotropic noise of the same total variance (as Zhu et al. 2019 found)."
	case sHi < iLo:
		v.Status, v.Short = Fails, "no: isotropic escapes more"
		v.Text = head + cmp + ": isotropic noise escapes more often than SGD here."
	default:
		v.Status = Inconclusive
		v.Text = head + cmp + ": the intervals overlap, so these chains do not tell (more chains, a longer horizon or another δ would)."
	}
	return v
}

// wilson is the Wilson score interval of a binomial proportion e/n at normal quantile z:
// (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n) with p = e/n (Wilson 1927).
func wilson(e, n int, z float64) (lo, hi float64) {
	p, nf := float64(e)/float64(n), float64(n)
	den := 1 + z*z/nf
	c := (p + z*z/(2*nf)) / den
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return math.Max(0, c-h), math.Min(1, c+h)
}

// trackVerdict is Info: for each track step the size of the note's implicit prior part
// relative to the likelihood score and its cosine with −∇L at the first and the last row
// with a prior, and Yaida's ratio over the first and the last window.
func trackVerdict(steps []*StepResult) Verdict {
	v := Verdict{Topic: TopicTrack, Status: Info, Step: steps[0].ID}
	var parts []string
	for _, s := range steps {
		o, err := s.Track()
		if err != nil {
			parts = append(parts, fmt.Sprintf("%s: %v", s.ID, err))
			continue
		}
		parts = append(parts, trackText(o))
	}
	v.Where = fmt.Sprintf("%d trajectories", len(steps))
	v.Text = strings.Join(parts, " ") + " The implicit part vanishes at every critical point (only the explicit weight decay remains there), so the note's formula speaks along the trajectory, not at the minima; Yaida's R near 1 is necessary for stationarity, R ≪ 1 means descent."
	return v
}

// firstLast returns the first and last rows (after step 0) where f is finite.
func firstLast(rows []track.Row, f func(*track.Row) Float) (first, last *track.Row) {
	for i := range rows {
		r := &rows[i]
		if r.Step == 0 || !f(r).OK() {
			continue
		}
		if first == nil {
			first = r
		}
		last = r
	}
	return first, last
}

func trackText(o *track.Output) string {
	head := fmt.Sprintf("SGD η = %s, B = %d, %d steps:", Format(float64(o.LR)), o.Batch, o.Steps)
	var bits []string
	ratio := func(r *track.Row) Float { return r.ImplicitRatio }
	if a, b := firstLast(o.Rows, ratio); a != nil {
		bits = append(bits, fmt.Sprintf("‖implicit‖/‖s_lik‖ %s at step %d, %s at step %d; cos(s_prior, −∇L) %s → %s; ‖∇L‖ %s → %s",
			Format(float64(a.ImplicitRatio)), a.Step, Format(float64(b.ImplicitRatio)), b.Step, Format(float64(a.PriorCos)), Format(float64(b.PriorCos)),
			Format(float64(a.GradNorm)), Format(float64(b.GradNorm))))
		if o.Inverse == "damped" {
			bits = append(bits, fmt.Sprintf("these use (C_B + λI)⁻¹ with λ = %s: where C_B is rank-deficient (here whenever d exceeds the covariance examples) the implicit part's size is set by λ, not by the data, and only its direction is a finding", Format(o.Damping)))
		}
	} else {
		bits = append(bits, "no row has the prior score (C_B rank-deficient without damping, or --no-prior)")
	}
	fdr := func(r *track.Row) Float { return r.FDRRatio }
	if a, b := firstLast(o.Rows, fdr); a != nil {
		bits = append(bits, fmt.Sprintf("Yaida's ratio R = %s over the window ending at step %d, %s over the last (ending at step %d)",
			Format(float64(a.FDRRatio)), a.Step, Format(float64(b.FDRRatio)), b.Step))
	}
	if n := len(o.Rows); n > 0 && o.Rows[n-1].LambdaMax.OK() {
		lm := o.Rows[n-1].LambdaMax
		bits = append(bits, fmt.Sprintf("λ_max at the end %s beside 2/η = %s", Format(float64(lm)), Format(float64(o.TwoOverLR))))
	}
	return head + " " + strings.Join(bits, "; ") + "."
}
