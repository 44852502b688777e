package study

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/stationary"
)

// Float is a JSON number that may be null (read as NaN, written back as null).
type Float = jsonnum.Float

// Summary is what Summarize draws from the steps' outputs: plain-language verdicts per
// entry and every warning.
type Summary struct {
	// Thresholds are the ones the verdicts were held to (defaults filled in).
	Thresholds Thresholds `json:"thresholds"`
	// Entries follow the study's order: problems, then landscapes.
	Entries []EntrySummary `json:"entries"`
	// Warnings are every step's warnings, in step order.
	Warnings []StepWarning `json:"warnings"`
}

// EntrySummary holds the verdicts on one problem or landscape.
type EntrySummary struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"` // "problem" or "landscape"
	Verdicts []Verdict `json:"verdicts"`
	// SweepX is, for a landscape with a sweep, η/B of each sweep point (the abscissa of
	// the well-share figure).
	SweepX []Float `json:"sweep_x,omitempty"`
	// FlatWell is, for a landscape whose wells report their curvature, the index of the
	// flattest well (whose share the report plots).
	FlatWell *int `json:"flat_well,omitempty"`
}

// Verdict statuses.
const (
	Holds   = "holds"   // the claim or assumption holds
	Fails   = "fails"   // it does not
	Partly  = "partly"  // it holds with a qualification stated in the text
	Unknown = "unknown" // the outputs do not tell
	Info    = "info"    // a measurement, not a yes/no question
)

// defaultShort words each status when a verdict has no answer of its own.
var defaultShort = map[string]string{Holds: "yes", Fails: "no", Partly: "partly", Unknown: "unknown", Info: "measured"}

// Verdict is one plain-language answer to a question of the report.
type Verdict struct {
	// Topic is the question, e.g. "Is the implicit prior score defined here?".
	Topic string `json:"topic"`
	// Status is Holds, Fails, Partly, Unknown or Info.
	Status string `json:"status"`
	// Text answers in words, quoting the numbers it rests on.
	Text string `json:"text"`
	// Step is the ID of the step whose output the verdict reads, and Where says which run
	// that is in words ("η = 0.1, B = 32", "SGD, η = 0.1, B = 32").
	Step  string `json:"step"`
	Where string `json:"where"`
	// Short is the answer in a few words ("yes", "no", "exact least squares").
	Short string `json:"short"`
}

// StepWarning is a warning of one step.
type StepWarning struct {
	Step string `json:"step"`
	Text string `json:"text"`
}

// The report's questions (verdict topics).
const (
	TopicMinimum    = "Is there a minimum to study?"
	TopicDefined    = "Is the implicit prior score defined here?"
	TopicCurrent    = "Assumption: zero probability current"
	TopicDiffusion  = "Assumption: constant diffusion"
	TopicGaussian   = "Assumption: Gaussian mini-batch noise"
	TopicRank       = "Assumption: full-rank noise"
	TopicPrediction = "Which covariance prediction matches SGD?"
	TopicPrior      = "Is the implied prior a prior in every direction?"
	TopicFlat       = "Do flat wells win, and by how much?"
	TopicEscape     = "How long does SGD stay in each well?"
	TopicCurrent2D  = "Is the stationary probability current zero?"
	TopicVariance   = "Which stationary variance does SGD have?"
)

// Format formats a number for people: four significant digits, "—" when absent. The
// report and the verdicts use it for every number they show.
func Format(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	if x == math.Trunc(x) && math.Abs(x) < 1e6 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// FormatSE formats x ± se.
func FormatSE(x, se float64) string {
	if math.IsNaN(se) || math.IsInf(se, 0) {
		return Format(x)
	}
	return Format(x) + " ± " + Format(se)
}

// Summarize reads the steps' outputs and words the verdicts. Outputs that cannot be read
// give an Unknown verdict saying why; Summarize itself does not fail.
func Summarize(r *Results) *Summary {
	th := r.Study.Thresholds.WithDefaults()
	sum := &Summary{Thresholds: th, Warnings: []StepWarning{}}
	for _, p := range r.Study.Problems {
		sum.Entries = append(sum.Entries, summarizeProblem(r, &p, th))
	}
	for _, l := range r.Study.Landscapes {
		sum.Entries = append(sum.Entries, summarizeLandscape(r, &l, th))
	}
	steps := map[string]*StepResult{}
	for i := range r.Steps {
		steps[r.Steps[i].ID] = &r.Steps[i]
	}
	for _, e := range sum.Entries {
		for i := range e.Verdicts {
			v := &e.Verdicts[i]
			if v.Short == "" {
				v.Short = defaultShort[v.Status]
			}
			if st := steps[v.Step]; st != nil && v.Where == "" {
				switch st.Command {
				case KindTrain:
					v.Where = "θ*"
				case KindScore:
					v.Where = gridText(st.LR, st.Batch)
				case KindVerify:
					v.Where = simulatorLabel(st.Simulator) + ", " + gridText(st.LR, st.Batch)
				}
			}
		}
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		var ws struct {
			Warnings []string `json:"warnings"`
		}
		if err := decode(s.Output, &ws, s.ID); err != nil {
			sum.Warnings = append(sum.Warnings, StepWarning{Step: s.ID, Text: err.Error()})
			continue
		}
		for _, w := range ws.Warnings {
			sum.Warnings = append(sum.Warnings, StepWarning{Step: s.ID, Text: w})
		}
	}
	return sum
}

func unknown(topic, step string, err error) Verdict {
	return Verdict{Topic: topic, Status: Unknown, Text: err.Error(), Step: step}
}

func gridText(lr float64, b int) string {
	return fmt.Sprintf("η = %s, B = %d", Format(lr), b)
}

func summarizeProblem(r *Results, p *Problem, th Thresholds) EntrySummary {
	es := EntrySummary{Name: p.Name, Kind: "problem"}
	for _, s := range r.EntrySteps(p.Name) {
		switch s.Command {
		case KindTrain:
			es.Verdicts = append(es.Verdicts, trainVerdict(s))
		case KindScore:
			es.Verdicts = append(es.Verdicts, scoreVerdicts(s, th)...)
		case KindVerify:
			es.Verdicts = append(es.Verdicts, verifyVerdict(s))
		}
	}
	return es
}

func trainVerdict(s *StepResult) Verdict {
	o, err := s.Train()
	if err != nil {
		return unknown(TopicMinimum, s.ID, err)
	}
	v := Verdict{Topic: TopicMinimum, Step: s.ID}
	wd := "no weight decay"
	if float64(o.Provenance.WeightDecay) > 0 {
		wd = "weight decay λ = " + Format(float64(o.Provenance.WeightDecay))
	}
	if o.Converged != nil && *o.Converged {
		v.Status = Holds
		v.Text = fmt.Sprintf("Yes: full-batch minimisation (%s) reached θ* with ‖∇L‖ = %s after %d iterations; loss %s.",
			wd, Format(float64(o.GradNorm)), o.Iterations, Format(float64(o.Loss)))
	} else {
		v.Status = Partly
		v.Text = fmt.Sprintf("Only approximately: the minimisation (%s) stopped at ‖∇L‖ = %s; the predictions near a minimum are less reliable.",
			wd, Format(float64(o.GradNorm)))
	}
	return v
}

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
var predictionOrder = stationary.PredictionNames

// PredictionNames returns the keys of m in the report's order.
func PredictionNames[V any](m map[string]V) []string {
	var names []string
	for _, n := range predictionOrder {
		if _, ok := m[n]; ok {
			names = append(names, n)
		}
	}
	var rest []string
	for n := range m {
		if !slices.Contains(predictionOrder, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// PredictionLabel is the name of a prediction in words.
func PredictionLabel(name string) string {
	switch name {
	case stationary.PredNote:
		return "the note's (seed)"
	case stationary.PredContinuous:
		return "continuous Lyapunov"
	case stationary.PredDiscrete:
		return "discrete Lyapunov"
	case stationary.PredLinearExact:
		return "exact least squares"
	case stationary.PredPosterior:
		return "Bayesian posterior (Laplace)"
	case stationary.PredSGLDDiscrete:
		return "SGLD discrete Lyapunov"
	case stationary.PredSGLDExact:
		return "SGLD exact least squares"
	}
	return name
}

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

func verifyVerdict(s *StepResult) Verdict {
	v := Verdict{Topic: TopicPrediction, Step: s.ID}
	o, err := s.Verify()
	if err != nil {
		return unknown(TopicPrediction, s.ID, err)
	}
	sim := o.Simulator
	if sim == "" {
		sim = s.Simulator
	}
	head := fmt.Sprintf("%s (%s; %d chains, %d samples kept in all; largest split-R̂ %s, smallest effective sample size %s): ", simulatorLabel(sim), gridText(s.LR, s.Batch),
		o.Chains, o.Samples, Format(float64(o.RHatMax)), Format(float64(o.ESSMin)))
	var yes, no, undecided, yesNames []string
	tests := map[string]bool{}
	for _, name := range PredictionNames(o.Predictions) {
		p := o.Predictions[name]
		desc := fmt.Sprintf("%s (rel. Frobenius error %s, KL %s)", PredictionLabel(name), Format(float64(p.RelFrobenius)), Format(float64(p.KL)))
		switch {
		case p.Consistent == nil:
			if p.Why != "" {
				desc = fmt.Sprintf("%s (%s)", PredictionLabel(name), strings.TrimSuffix(p.Why, "."))
			} else if !p.RelFrobenius.OK() && !p.KL.OK() {
				desc = PredictionLabel(name) + " (no prediction)"
			}
			undecided = append(undecided, desc)
		case *p.Consistent:
			yes = append(yes, desc)
			yesNames = append(yesNames, PredictionLabel(name))
		default:
			no = append(no, desc)
		}
		if p.Test != "" {
			t := p.Test
			if p.Alpha > 0 { // a level in (0, 1); 0 when absent
				t += " at level α = " + Format(p.Alpha)
			}
			tests[t] = true
		}
	}
	var parts []string
	if len(yes) > 0 {
		parts = append(parts, "consistent with "+strings.Join(yes, ", "))
	}
	if len(no) > 0 {
		parts = append(parts, "not consistent with "+strings.Join(no, ", "))
	}
	if len(undecided) > 0 {
		parts = append(parts, "no verdict on "+strings.Join(undecided, ", "))
	}
	switch {
	case len(parts) == 0:
		v.Status = Unknown
		v.Text = head + "verify reports no predictions."
		return v
	case len(yes) > 0:
		v.Status = Holds
		v.Short = strings.Join(yesNames, ", ")
	case len(no) > 0:
		v.Status = Fails
		v.Short = "none"
	default:
		v.Status = Unknown
	}
	v.Text = head + strings.Join(parts, "; ") + "."
	if len(tests) > 0 {
		ts := make([]string, 0, len(tests))
		for t := range tests {
			ts = append(ts, t)
		}
		sort.Strings(ts)
		v.Text += " Test: " + strings.Join(ts, "; ") + "."
	}
	return v
}

func simulatorLabel(m string) string {
	switch m {
	case "sgd":
		return "SGD"
	case "gauss":
		return "Gaussian-noise SGD"
	case "sde":
		return "the SDE (Euler–Maruyama)"
	case "sgld":
		return "SGLD"
	}
	return m
}

// SimulatorLabel is the name of a verify simulator in words.
func SimulatorLabel(m string) string { return simulatorLabel(m) }

func summarizeLandscape(r *Results, l *Landscape, th Thresholds) EntrySummary {
	es := EntrySummary{Name: l.Name, Kind: "landscape"}
	for _, s := range r.EntrySteps(l.Name) {
		if s.Command != KindLandscape {
			continue
		}
		o, err := s.Landscape()
		if err != nil {
			es.Verdicts = append(es.Verdicts, unknown(TopicFlat, s.ID, err))
			continue
		}
		at := fmt.Sprintf("%s, η = %s, B = %d: ", l.Preset, Format(float64(o.LR)), o.Batch)
		first := len(es.Verdicts)
		if len(o.Wells) >= 2 {
			es.Verdicts = append(es.Verdicts, flatVerdict(s, o, at), escapeVerdict(s, o, at))
			if flat, _, _, ok := flatSharp(o); ok {
				es.FlatWell = &flat
			}
		}
		if o.Variance != nil {
			es.Verdicts = append(es.Verdicts, varianceVerdict(s, o, at))
		}
		if o.Current.OK() {
			v := Verdict{Topic: TopicCurrent2D, Step: s.ID}
			if float64(o.Current) > th.Current {
				v.Status = Fails
				v.Text = at + fmt.Sprintf("no. The stationary current is max|J|/max|μp| = %s (threshold %s): probability circulates, as it must when C and H do not commute, and no potential describes the stationary density.", Format(float64(o.Current)), Format(th.Current))
			} else {
				v.Status = Holds
				v.Text = at + fmt.Sprintf("yes, to the threshold: max|J|/max|μp| = %s ≤ %s.", Format(float64(o.Current)), Format(th.Current))
			}
			es.Verdicts = append(es.Verdicts, v)
		}
		for i := first; i < len(es.Verdicts); i++ {
			es.Verdicts[i].Where = gridText(float64(o.LR), o.Batch)
		}
		for _, sw := range o.Sweep {
			x := Float(math.NaN())
			if sw.Batch > 0 && sw.LR.OK() {
				x = Float(float64(sw.LR) / float64(sw.Batch))
			}
			es.SweepX = append(es.SweepX, x)
		}
	}
	return es
}

// flatSharp returns the indices of the flattest and the sharpest well by
// landscape.WellBreadths, with each well's breadth in words, or ok = false when they cannot
// be told apart. (The landscape output reports no curvature; the preset's widths are the
// only flatness measure.)
func flatSharp(o *landscape.Output) (flat, sharp int, words []string, ok bool) {
	b, ok := landscape.WellBreadths(&o.Result)
	if !ok {
		return 0, 0, nil, false
	}
	words = make([]string, len(b))
	for i := range b {
		words[i] = "width " + Format(b[i])
	}
	for i := range b {
		if b[i] > b[flat] {
			flat = i
		}
		if b[i] < b[sharp] {
			sharp = i
		}
	}
	return flat, sharp, words, flat != sharp
}

func wellName(w landscape.WellOut) string {
	return "θ = " + formatList(jsonnum.Values(w.Center))
}

func flatVerdict(s *StepResult, o *landscape.Output, at string) Verdict {
	v := Verdict{Topic: TopicFlat, Step: s.ID}
	flat, sharp, words, ok := flatSharp(o)
	if !ok {
		var parts []string
		for _, w := range o.Wells {
			parts = append(parts, fmt.Sprintf("%s: exact %s, note %s, SGD %s", wellName(w), Format(float64(w.MassExact)), Format(float64(w.MassNote)), FormatSE(float64(w.MassSGD), float64(w.MassSGDStderr))))
		}
		v.Status = Unknown
		v.Text = at + "the output tells neither the curvature nor the width of the wells, so flat and sharp cannot be told apart. Masses: " + strings.Join(parts, "; ") + "."
		return v
	}
	fw, sw := o.Wells[flat], o.Wells[sharp]
	ratio := func(a, b Float) string {
		if !a.OK() || !b.OK() || b == 0 {
			return "—"
		}
		return Format(float64(a) / float64(b))
	}
	line := func(label string, a, b Float, se Float) string {
		return fmt.Sprintf("%s: flat %s, sharp %s (×%s)", label, FormatSE(float64(a), float64(se)), Format(float64(b)), ratio(a, b))
	}
	desc := fmt.Sprintf("the flat well (%s, %s) against the sharp one (%s, %s) — ",
		wellName(fw), words[flat], wellName(sw), words[sharp])
	parts := []string{
		line("exact SDE density", fw.MassExact, sw.MassExact, Float(math.NaN())),
		line("the note's density", fw.MassNote, sw.MassNote, Float(math.NaN())),
	}
	if fw.MassSGD.OK() {
		parts = append(parts, line("SGD", fw.MassSGD, sw.MassSGD, fw.MassSGDStderr))
	}
	// SGD decides when it was measured (landscape.CompareMasses).
	list := desc + strings.Join(parts, "; ") + "."
	if fw.MassSGD.OK() && sw.MassSGD.OK() {
		_, _, cmp := landscape.CompareMasses(fw, sw)
		switch cmp {
		case landscape.FirstWins:
			v.Status = Holds
			v.Short = "yes, ×" + ratio(fw.MassSGD, sw.MassSGD) + " under SGD"
			v.Text = at + "yes: SGD puts more probability in the flat well (by more than twice the summed standard errors): " + list
		case landscape.SecondWins:
			v.Status = Fails
			v.Short = "no, the sharp well wins under SGD"
			v.Text = at + "no: SGD puts more probability in the sharp well (by more than twice the summed standard errors): " + list
		default:
			v.Status = Unknown
			v.Text = at + "not resolved: SGD's masses differ by less than twice their summed standard errors: " + list
		}
		return v
	}
	switch {
	case !fw.MassExact.OK() || !sw.MassExact.OK():
		v.Status = Unknown
		v.Text = at + "the masses are not reported: " + list
	case fw.MassExact > sw.MassExact:
		v.Status = Holds
		v.Short = "yes, ×" + ratio(fw.MassExact, sw.MassExact) + " under the exact density"
		v.Text = at + "yes, under the exact SDE density the flat well holds more probability (SGD was not simulated): " + list
	default:
		v.Status = Fails
		v.Text = at + "no, under the exact SDE density the sharp well holds at least as much probability (SGD was not simulated): " + list
	}
	return v
}

func escapeVerdict(s *StepResult, o *landscape.Output, at string) Verdict {
	v := Verdict{Topic: TopicEscape, Step: s.ID, Status: Info}
	var parts []string
	for _, w := range o.Wells {
		parts = append(parts, fmt.Sprintf("from %s: exact %s steps, Kramers %s, SGD %s", wellName(w),
			Format(float64(w.EscapeExact)), Format(float64(w.EscapeKramers)), FormatSE(float64(w.EscapeSGD), float64(w.EscapeSGDStderr))))
	}
	v.Text = at + "mean escape times (first passage to the other well's minimum) " + strings.Join(parts, "; ") + "."
	return v
}

func varianceVerdict(s *StepResult, o *landscape.Output, at string) Verdict {
	v := Verdict{Topic: TopicVariance, Step: s.ID, Status: Info}
	va := o.Variance
	sgd := formatList(jsonnum.Values(va.SGD))
	if len(va.SGD) == 1 && len(va.SGDStderr) == 1 {
		sgd = FormatSE(float64(va.SGD[0]), float64(va.SGDStderr[0]))
	} else if len(va.SGDStderr) > 0 {
		sgd += " (standard errors " + formatList(jsonnum.Values(va.SGDStderr)) + ")"
	}
	v.Text = at + fmt.Sprintf("SGD's stationary variance %s; the SDE's exact %s, the note's %s, discrete-time SGD's closed form %s (covariances row-major in 2-D).",
		sgd, formatList(jsonnum.Values(va.Exact)), formatList(jsonnum.Values(va.Note)), formatList(jsonnum.Values(va.Discrete)))
	return v
}

func finiteValues(xs []float64) []float64 {
	var out []float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

func formatList(xs []float64) string {
	if len(xs) == 0 {
		return "—"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = Format(x)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func abbreviate(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return strings.Join(xs[:n], ", ") + fmt.Sprintf(", … (%d more)", len(xs)-n)
}
