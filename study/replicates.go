package study

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// This file aggregates the verdicts of a study replicated over seeds (Study.Seeds with two
// or more seeds, Study.Replicates). Each seed's replicate is summarised on its own, exactly
// as a single run (summarizeReplicate), and each verdict is then aggregated over the seeds:
// the statuses are counted (Agreement), a unanimous status is the aggregate's, and any
// disagreement, or a verdict that some seeds do not give, is Inconclusive: a majority of
// seeds is never presented as a finding.

// Agreement counts the statuses one verdict has over a replicated study's seeds. Every seed
// is counted once: Seeds = Holds + Fails + Inconclusive + Partly + Unknown + Info + Missing.
// Partly is its own count (neither holds nor fails); Missing counts the seeds whose
// replicate gives no such verdict (its step is missing or its output does not lead to it).
type Agreement struct {
	Seeds        int `json:"seeds"`
	Holds        int `json:"holds"`
	Fails        int `json:"fails"`
	Inconclusive int `json:"inconclusive"`
	Partly       int `json:"partly"`
	Unknown      int `json:"unknown"`
	Info         int `json:"info"`
	Missing      int `json:"missing"`
}

// SeedMissing is a SeedVerdict's status for a seed whose replicate gives no such verdict.
const SeedMissing = "missing"

// SeedVerdict is one seed's answer to a replicated verdict.
type SeedVerdict struct {
	Seed uint64 `json:"seed"`
	// Step is the ID of the seed's step ("" when missing).
	Step string `json:"step"`
	// Status is the seed's status, or SeedMissing.
	Status string `json:"status"`
	Short  string `json:"short,omitempty"`
	Value  *Float `json:"value,omitempty"`
}

// setValue sets the verdict's headline number when x is finite.
func (v *Verdict) setValue(name string, x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return
	}
	f := Float(x)
	v.Value, v.ValueName = &f, name
}

// Summarize reads the steps' outputs and words the verdicts. Outputs that cannot be read
// give an Unknown verdict saying why; Summarize itself does not fail.
//
// For a study with two or more seeds (Study.Replicates), each seed's replicate (the steps
// with that Replicate and the steps that are not replicated, such as basins) is summarised
// on its own, and each verdict of a replicated step is aggregated over the seeds by
// aggregateVerdict (matched by topic, base step and Where within an entry); the verdicts of
// steps that are not replicated appear once, as the first seed's summary words them. The
// warnings are every replicate's, with their own step IDs, in step order (those of steps
// that are not replicated once). Each replicate is its own family of covariance tests
// (Multiplicity, MATH.md §7.3): an aggregate fails only when every seed fails, so a false
// "fails" in the aggregate needs a false one in the first seed's family, whose probability
// Holm's correction bounds by α. The summary's Multiplicity holds every replicate's
// adjusted p-values, with Tests the size of the largest family.
//
// The summary's Scaling is each problem's quantities against η/B (Scaling), over every seed.
func Summarize(r *Results) *Summary {
	sum := summarizeSeeds(r)
	sum.Scaling = Scaling(r)
	return sum
}

// summarizeSeeds is Summarize without the scaling.
func summarizeSeeds(r *Results) *Summary {
	seeds := r.Study.Replicates()
	if seeds == nil {
		return summarizeReplicate(r)
	}
	base := map[string]string{} // replicated step ID → its Base
	order := map[string]int{}   // step ID → its index in r.Steps
	for i := range r.Steps {
		st := &r.Steps[i]
		order[st.ID] = i
		if st.Base != "" {
			base[st.ID] = st.Base
		}
	}
	subs := make([]*Summary, len(seeds))
	for k, seed := range seeds {
		sub := *r
		sub.Steps = nil
		for _, st := range r.Steps {
			if st.InReplicate(seed) {
				sub.Steps = append(sub.Steps, st)
			}
		}
		subs[k] = summarizeReplicate(&sub)
	}

	sum := &Summary{Thresholds: subs[0].Thresholds, Warnings: []StepWarning{}, Multiplicity: mergeMultiplicity(subs)}
	for e := range subs[0].Entries {
		sum.Entries = append(sum.Entries, aggregateEntry(subs, e, seeds, base))
	}
	for k, sub := range subs {
		for _, w := range sub.Warnings {
			if _, rep := base[w.Step]; rep || k == 0 {
				sum.Warnings = append(sum.Warnings, w)
			}
		}
	}
	slices.SortStableFunc(sum.Warnings, func(a, b StepWarning) int { return order[a.Step] - order[b.Step] })
	return sum
}

// mergeMultiplicity joins the replicates' families of covariance tests: every adjusted
// p-value (keyed by the replicate's own step IDs), Tests the largest family and Alpha the
// smallest level.
func mergeMultiplicity(subs []*Summary) *Multiplicity {
	m := &Multiplicity{Method: "holm", adjusted: map[testKey]float64{}}
	for _, s := range subs {
		sm := s.Multiplicity
		if sm == nil {
			continue
		}
		m.Tests = max(m.Tests, sm.Tests)
		if sm.Alpha > 0 && (m.Alpha == 0 || sm.Alpha < m.Alpha) {
			m.Alpha = sm.Alpha
		}
		for k, p := range sm.adjusted {
			m.adjusted[k] = p
		}
	}
	return m
}

// verdictKey matches one verdict across replicates: its topic, base step and Where, and n
// counts the verdicts of the same key before it in its replicate.
type verdictKey struct {
	topic, base, where string
	n                  int
}

// aggregateEntry aggregates entry e of every replicate's summary. The verdicts keep the
// order in which they first appear (the first seed's, then any that only later seeds give).
func aggregateEntry(subs []*Summary, e int, seeds []uint64, base map[string]string) EntrySummary {
	first := subs[0].Entries[e]
	es := EntrySummary{Name: first.Name, Kind: first.Kind}
	type group struct {
		plain *Verdict   // a verdict of a step that is not replicated (first seed's)
		per   []*Verdict // by seed
		base  string
	}
	var groups []*group
	at := map[verdictKey]*group{}
	for k, sub := range subs {
		en := sub.Entries[e]
		if es.SweepX == nil {
			es.SweepX = en.SweepX
		}
		if es.FlatWell == nil {
			es.FlatWell = en.FlatWell
		}
		count := map[verdictKey]int{}
		for i := range en.Verdicts {
			v := &en.Verdicts[i]
			b, rep := base[v.Step]
			if !rep {
				if k == 0 {
					groups = append(groups, &group{plain: v})
				}
				continue
			}
			key := verdictKey{v.Topic, b, v.Where, 0}
			key.n = count[key]
			count[verdictKey{v.Topic, b, v.Where, 0}]++
			g := at[key]
			if g == nil {
				g = &group{per: make([]*Verdict, len(seeds)), base: b}
				at[key] = g
				groups = append(groups, g)
			}
			g.per[k] = v
		}
	}
	for _, g := range groups {
		if g.plain != nil {
			es.Verdicts = append(es.Verdicts, *g.plain)
			continue
		}
		es.Verdicts = append(es.Verdicts, aggregateVerdict(g.per, seeds, g.base))
	}
	return es
}

// aggregateVerdict is the aggregate over seeds of one verdict: per[k] is seed seeds[k]'s
// (nil when that replicate does not give it; at least one is not nil), base the ID of the
// step without its seed suffix. Its status is the seeds' common status when every seed
// gives the verdict with the same status, and Inconclusive otherwise ("seeds disagree", or
// missing for some seeds, or, for which prediction matches, naming different ones). Its
// Short counts the seeds ("4 of 5 seeds hold, 1 fails"), or is
// the seeds' common Short with "(all n seeds)" when they are unanimous and agree on it; its Text states the
// counts, the spread of the verdict's number over the seeds (seedSpread: mean, standard
// deviation and range, when every seed that has the number names the same one), each
// seed's answer, and the first seed's text. (docs/MATH.md §15)
func aggregateVerdict(per []*Verdict, seeds []uint64, base string) Verdict {
	var ref *Verdict
	refSeed := uint64(0)
	for k, v := range per {
		if v != nil {
			ref, refSeed = v, seeds[k]
			break
		}
	}
	if ref == nil {
		panic("study: aggregateVerdict without a verdict")
	}
	agg := Verdict{Topic: ref.Topic, Step: base, Where: ref.Where, Agreement: &Agreement{Seeds: len(seeds)}}
	a := agg.Agreement
	var vals []float64
	valueName, sameName := "", true
	statuses := map[string]bool{}
	shorts := map[string]bool{}
	for k, v := range per {
		sv := SeedVerdict{Seed: seeds[k], Status: SeedMissing}
		if v == nil {
			a.Missing++
			agg.PerSeed = append(agg.PerSeed, sv)
			continue
		}
		sv.Step, sv.Status, sv.Short, sv.Value = v.Step, v.Status, v.Short, v.Value
		agg.PerSeed = append(agg.PerSeed, sv)
		statuses[v.Status] = true
		shorts[v.Short] = true
		switch v.Status {
		case Holds:
			a.Holds++
		case Fails:
			a.Fails++
		case Inconclusive:
			a.Inconclusive++
		case Partly:
			a.Partly++
		case Unknown:
			a.Unknown++
		default:
			a.Info++
		}
		if v.Value != nil {
			if valueName == "" {
				valueName = v.ValueName
			} else if v.ValueName != valueName {
				sameName = false
			}
			vals = append(vals, float64(*v.Value))
		}
	}
	n := len(seeds)
	unanimous := a.Missing == 0 && len(statuses) == 1
	// Which prediction matches is the answer itself, in Short: seeds that name different
	// predictions disagree whatever their status.
	differentAnswers := ref.Topic == TopicPrediction && len(shorts) > 1
	head := fmt.Sprintf("Over %d seeds (%s): ", n, seedListText(seeds))
	switch {
	case unanimous && differentAnswers:
		agg.Status = Inconclusive
		agg.Short = "the seeds name different predictions"
		head += agreementPhrase(a) + ", but the seeds name different predictions, so the answer is inconclusive."
	case unanimous:
		agg.Status = ref.Status
		agg.Short = agreementPhrase(a)
		if len(shorts) == 1 && ref.Short != "" {
			agg.Short = fmt.Sprintf("%s (all %d seeds)", ref.Short, n)
		}
		head += agreementPhrase(a) + "."
	case a.Missing > 0 && len(statuses) <= 1:
		agg.Status = Inconclusive
		agg.Short = agreementPhrase(a)
		head += agreementPhrase(a) + ": the verdict is missing for some seeds, so it is inconclusive."
	default:
		agg.Status = Inconclusive
		agg.Short = agreementPhrase(a)
		head += "the seeds disagree (" + agreementPhrase(a) + "), so the answer is inconclusive: no majority is taken for a finding."
	}
	spread := ""
	switch {
	case len(vals) == 0:
	case !sameName:
		spread = " The number the verdict rests on is not the same one for every seed (see each seed's value)."
	case len(vals) == 1:
		agg.setValue(valueName, vals[0])
		spread = fmt.Sprintf(" %s: %s (one seed).", capitalize(valueName), Format(vals[0]))
	default:
		mean, sd, lo, hi := seedSpread(vals)
		agg.setValue(valueName, mean)
		spread = fmt.Sprintf(" %s over %d seeds: mean %s, standard deviation %s, range %s to %s.", capitalize(valueName), len(vals), Format(mean), Format(sd), Format(lo), Format(hi))
	}
	var each []string
	for _, sv := range agg.PerSeed {
		t := fmt.Sprintf("seed %d %s", sv.Seed, sv.Status)
		if sv.Short != "" && sv.Short != defaultShort[sv.Status] {
			t += " (" + sv.Short + ")"
		}
		if sv.Value != nil {
			t += ", " + Format(float64(*sv.Value))
		}
		each = append(each, t)
	}
	agg.Text = head + spread + " Per seed: " + strings.Join(each, "; ") + ". " + fmt.Sprintf("Seed %d's run: ", refSeed) + ref.Text
	return agg
}

// seedSpread returns, over the n = len(xs) ≥ 1 values of a verdict's number across seeds,
// the mean x̄ = (1/n) Σ xᵢ, the sample standard deviation s = √(Σ (xᵢ − x̄)²/(n − 1)) (NaN
// for n = 1) and the range [min xᵢ, max xᵢ]. Two passes: the deviations are summed about
// the computed mean. (docs/MATH.md §15)
func seedSpread(xs []float64) (mean, sd, lo, hi float64) {
	if len(xs) == 0 {
		panic("study: seedSpread of no values")
	}
	lo, hi = xs[0], xs[0]
	for _, x := range xs {
		mean += x
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, math.NaN(), lo, hi
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1)), lo, hi
}

// agreementPhrase counts the seeds in words: "all 5 seeds hold" when they agree, else
// "3 of 5 seeds hold, 1 fails, 1 is missing" (the largest count first; ties in the order
// holds, fails, partly, inconclusive, unknown, info, missing).
func agreementPhrase(a *Agreement) string {
	type part struct {
		n         int
		one, many string
	}
	parts := []part{
		{a.Holds, "holds", "hold"},
		{a.Fails, "fails", "fail"},
		{a.Partly, "partly holds", "partly hold"},
		{a.Inconclusive, "is inconclusive", "are inconclusive"},
		{a.Unknown, "is unknown", "are unknown"},
		{a.Info, "measured", "measured"},
		{a.Missing, "is missing", "are missing"},
	}
	slices.SortStableFunc(parts, func(x, y part) int { return y.n - x.n })
	if parts[0].n == a.Seeds {
		if a.Seeds == 1 {
			return "the one seed " + parts[0].one
		}
		return fmt.Sprintf("all %d seeds %s", a.Seeds, parts[0].many)
	}
	var out []string
	for i, p := range parts {
		if p.n == 0 {
			continue
		}
		verb := p.many
		if p.n == 1 {
			verb = p.one
		}
		if i == 0 {
			out = append(out, fmt.Sprintf("%d of %d seeds %s", p.n, a.Seeds, verb))
			continue
		}
		out = append(out, strconv.Itoa(p.n)+" "+verb)
	}
	return strings.Join(out, ", ")
}

// seedListText lists the seeds: "1, 2, 3".
func seedListText(seeds []uint64) string {
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = strconv.FormatUint(s, 10)
	}
	return strings.Join(parts, ", ")
}

// capitalize upper-cases the first letter of s when it is an ASCII letter.
func capitalize(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
