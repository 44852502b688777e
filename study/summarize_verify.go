package study

import (
	"fmt"
	"sort"
	"strings"
)

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
