package study

import (
	"fmt"
	"math"
	"strings"

	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/landscape"
)

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
			v.setValue("stationary current max|J|/max|μp|", float64(o.Current))
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
	// SGD decides when it was measured (landscape.CompareMasses' test).
	list := desc + strings.Join(parts, "; ") + "."
	if fw.MassSGD.OK() && sw.MassSGD.OK() {
		v.setValue("SGD's mass in the flat well", float64(fw.MassSGD))
		mt := landscape.CompareMasses(fw, sw)
		test := massTestText(mt)
		switch mt.Result {
		case landscape.FirstWins:
			v.Status = Holds
			v.Short = "yes, ×" + ratio(fw.MassSGD, sw.MassSGD) + " under SGD"
			v.Text = at + "yes: SGD puts more probability in the flat well (" + test + "): " + list
		case landscape.SecondWins:
			v.Status = Fails
			v.Short = "no, the sharp well wins under SGD"
			v.Text = at + "no: SGD puts more probability in the sharp well (" + test + "): " + list
		default:
			v.Status = Inconclusive
			v.Short = "inconclusive: SGD's masses do not differ significantly"
			v.Text = at + "inconclusive: the test does not tell SGD's two masses apart (" + test + "); longer or more chains may resolve it: " + list
		}
		return v
	}
	v.setValue("the exact SDE density's mass in the flat well", float64(fw.MassExact))
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
	if len(va.SGD) == 1 {
		v.setValue("SGD's stationary variance", float64(va.SGD[0]))
	}
	if len(va.SGD) == 1 && len(va.SGDStderr) == 1 {
		sgd = FormatSE(float64(va.SGD[0]), float64(va.SGDStderr[0]))
	} else if len(va.SGDStderr) > 0 {
		sgd += " (standard errors " + formatList(jsonnum.Values(va.SGDStderr)) + ")"
	}
	v.Text = at + fmt.Sprintf("SGD's stationary variance %s; the SDE's exact %s, the note's %s, discrete-time SGD's closed form %s (covariances row-major in 2-D).",
		sgd, formatList(jsonnum.Values(va.Exact)), formatList(jsonnum.Values(va.Note)), formatList(jsonnum.Values(va.Discrete)))
	return v
}

// massTestText states landscape.CompareMasses' test of the flat well's mass against the
// sharp one's: the difference, its standard error, the statistic, the level and the
// critical value (MATH.md §8).
func massTestText(t landscape.MassTest) string {
	level := Format(landscape.MassAlpha)
	if t.DF > 0 {
		return fmt.Sprintf("m_flat − m_sharp = %s ± %s, paired over the chains: t = %s on %d degrees of freedom, against %s at the two-sided level %s",
			Format(t.Diff), Format(t.SE), Format(t.Stat), t.DF, Format(t.Crit), level)
	}
	return fmt.Sprintf("m_flat − m_sharp = %s ± %s (the standard error bounded by the sum of the two masses' own): z = %s against %s at the two-sided level %s",
		Format(t.Diff), Format(t.SE), Format(t.Stat), Format(t.Crit), level)
}
