package study

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/internal/jsonnum"
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
	// Multiplicity is the family-wise correction of the covariance verdicts (MATH.md §7.3).
	Multiplicity *Multiplicity `json:"multiplicity,omitempty"`
	// Scaling is each problem's measured and predicted quantities against η/B (Scaling).
	Scaling []ScalingEntry `json:"scaling,omitempty"`
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
	Holds  = "holds"  // the claim or assumption holds
	Fails  = "fails"  // it does not
	Partly = "partly" // it holds with a qualification stated in the text
	// Inconclusive: the measurement exists but does not decide (unconverged chains, an
	// interval straddling the threshold, a value below the round-off floor); the text says why.
	Inconclusive = "inconclusive"
	Unknown      = "unknown" // the outputs do not tell
	Info         = "info"    // a measurement, not a yes/no question
)

// defaultShort words each status when a verdict has no answer of its own.
var defaultShort = map[string]string{Holds: "yes", Fails: "no", Partly: "partly", Inconclusive: "inconclusive", Unknown: "unknown", Info: "measured"}

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
	// Value is the one number the verdict rests on, when it rests on one (the relative error
	// of the matching prediction, the Jacobian asymmetry, the flat well's mass, …), and
	// ValueName says which number that is. On the aggregate of a replicated verdict it is the
	// mean over the seeds that have it, and the text states its spread.
	Value     *Float `json:"value,omitempty"`
	ValueName string `json:"value_name,omitempty"`
	// Agreement and PerSeed are set on the aggregate of a replicated verdict (a study with
	// two or more seeds, Summarize): how many seeds gave each status, and each seed's answer
	// in the order of the study's seeds.
	Agreement *Agreement    `json:"agreement,omitempty"`
	PerSeed   []SeedVerdict `json:"per_seed,omitempty"`
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

// summarizeReplicate reads the steps' outputs and words the verdicts: the summary of a
// study with at most one seed, or of one seed's replicate (Summarize). Outputs that cannot
// be read give an Unknown verdict saying why; it does not fail.
func summarizeReplicate(r *Results) *Summary {
	th := r.Study.Thresholds.WithDefaults()
	sum := &Summary{Thresholds: th, Warnings: []StepWarning{}, Multiplicity: studyMultiplicity(r)}
	for _, p := range r.Study.Problems {
		sum.Entries = append(sum.Entries, summarizeProblem(r, &p, th, sum.Multiplicity))
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

func summarizeProblem(r *Results, p *Problem, th Thresholds, mult *Multiplicity) EntrySummary {
	es := EntrySummary{Name: p.Name, Kind: "problem"}
	for _, s := range r.EntrySteps(p.Name) {
		switch s.Command {
		case KindTrain:
			es.Verdicts = append(es.Verdicts, trainVerdict(s))
		case KindScore:
			es.Verdicts = append(es.Verdicts, scoreVerdicts(s, th)...)
		case KindVerify:
			es.Verdicts = append(es.Verdicts, verifyVerdict(s, mult))
		}
	}
	es.Verdicts = append(es.Verdicts, networkVerdicts(r.EntrySteps(p.Name))...)
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
	v.setValue("‖∇L‖ at θ*", float64(o.GradNorm))
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
