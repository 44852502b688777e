package study

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/field"
)

// replicatedStudy has a network problem with every kind of step and a landscape.
const replicatedStudy = `
seeds = [3, 5]
[[problem]]
name = "p"
data = "iris"
model = "mlp:4"
weight_decay = 0.01
lr = [0.1]
batch = [8]
simulators = ["sgd"]
chains = 4
steps = 200
burnin = 20
track = { lr = [0.1], batch = 8, steps = 20 }
basins = { lr = [0.1], batch = [8], seeds = [1, 2, 3, 4, 5], epochs = 1 }
escape = { lr = 0.1, batch = 8, chains = 2, steps = 100 }

[[landscape]]
name = "w"
preset = "wells"
chains = 4
steps = 100
`

// TestSeedsReplicateSteps: with two seeds every stochastic step runs once per seed, under
// the suffixed ID and files, each replicate reading its own seed's θ*, after the train step
// that writes it; basins runs once.
func TestSeedsReplicateSteps(t *testing.T) {
	s, err := Parse([]byte(replicatedStudy), "r.toml", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Replicates(); !reflect.DeepEqual(got, []uint64{3, 5}) {
		t.Fatalf("replicates %v", got)
	}
	steps := s.Steps()
	var ids []string
	for _, st := range steps {
		ids = append(ids, st.ID)
	}
	want := []string{
		"p/train-seed3", "p/score-lr0.1-B8-seed3", "p/verify-lr0.1-B8-sgd-seed3", "p/track-lr0.1-seed3", "p/escape-seed3",
		"p/train-seed5", "p/score-lr0.1-B8-seed5", "p/verify-lr0.1-B8-sgd-seed5", "p/track-lr0.1-seed5", "p/escape-seed5",
		"p/basins",
		"w/landscape-seed3", "w/landscape-seed5",
	}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("steps\n%s\nwant\n%s", strings.Join(ids, "\n"), strings.Join(want, "\n"))
	}
	written := map[string]int{} // θ* file → index of the train step writing it
	for i, st := range steps {
		if st.JSON != st.ID+".json" {
			t.Errorf("%s: JSON %s", st.ID, st.JSON)
		}
		if st.Command == KindBasins {
			if st.Replicate != 0 || st.Base != "" || st.Seed != 3 {
				t.Errorf("basins: replicate %d, base %q, seed %d", st.Replicate, st.Base, st.Seed)
			}
			continue
		}
		suffix := "-seed" + strconv.FormatUint(st.Replicate, 10)
		if st.Base+suffix != st.ID || st.Seed != st.Replicate {
			t.Errorf("%s: base %q, replicate %d, seed %d", st.ID, st.Base, st.Replicate, st.Seed)
		}
		if !slices.Contains(st.Args, "--seed") || st.Args[slices.Index(st.Args, "--seed")+1] != strconv.FormatUint(st.Replicate, 10) {
			t.Errorf("%s: command line %s does not pass its seed", st.ID, st.CommandLine())
		}
		theta := "p/theta-star" + suffix + ".npy"
		switch st.Command {
		case KindTrain:
			if st.Theta != theta || !strings.Contains(st.CommandLine(), "--out "+theta) {
				t.Errorf("%s writes θ* to %s", st.ID, st.Theta)
			}
			written[st.Theta] = i
		case KindScore, KindVerify, KindEscape:
			j, ok := written[st.Theta]
			if st.Theta != theta || !ok || j > i || !strings.Contains(st.CommandLine(), "--params "+theta) {
				t.Errorf("%s reads θ* %s (written by step %d of %d)", st.ID, st.Theta, j, i)
			}
		case KindTrack:
			if st.Theta != "" {
				t.Errorf("%s reads θ* %s", st.ID, st.Theta)
			}
		}
	}
	// A basins table without seeds takes the study's.
	five := strings.Replace(strings.Replace(replicatedStudy, "seeds = [3, 5]", "seeds = [9, 8, 7, 6, 5]", 1), "seeds = [1, 2, 3, 4, 5], ", "", 1)
	s5, err := Parse([]byte(five), "r.toml", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range s5.Steps() {
		if st.Command == KindBasins {
			if !reflect.DeepEqual(st.Basins.Seeds, basins.SeedList{9, 8, 7, 6, 5}) || !strings.Contains(st.CommandLine(), "--seeds 9,8,7,6,5") || st.Seed != 9 {
				t.Errorf("basins seeds %v, seed %d: %s", st.Basins.Seeds, st.Seed, st.CommandLine())
			}
		}
	}
	// Its own seeds stay.
	for _, st := range steps {
		if st.Command == KindBasins && !reflect.DeepEqual(st.Basins.Seeds, basins.SeedList{1, 2, 3, 4, 5}) {
			t.Errorf("basins seeds %v", st.Basins.Seeds)
		}
	}
}

// TestSeedsOneSeedIsTheSingleRun: seeds = [s] gives exactly the steps of seed = s.
func TestSeedsOneSeedIsTheSingleRun(t *testing.T) {
	a, err := Parse([]byte(exampleStudy), "ex.toml", "/home/u/st")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte(strings.Replace(exampleStudy, "seed = 7\n", "seeds = [7]\n", 1)), "ex.toml", "/home/u/st")
	if err != nil {
		t.Fatal(err)
	}
	if b.Replicates() != nil || a.Replicates() != nil {
		t.Fatal("one seed replicates")
	}
	if !reflect.DeepEqual(a.Steps(), b.Steps()) {
		t.Error("seeds = [7] and seed = 7 give different steps")
	}
	// And the study's JSON of a study without seeds has no seeds key.
	j, err := json.Marshal(a)
	if err != nil || strings.Contains(string(j), `"seeds"`) {
		t.Errorf("study JSON: %s %v", j, err)
	}
}

func TestSeedsParseErrors(t *testing.T) {
	prob := "[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n"
	for _, c := range []struct{ text, want string }{
		{"seeds = [1, 2, 1]\n" + prob, "s.toml: seeds holds 1 twice"},
		{"seeds = [1, -2]\n" + prob, "s.toml: seeds must be ≥ 0, not -2"},
		{"seeds = []\n" + prob, "s.toml: seeds needs at least one seed"},
		{"seed = 1\nseeds = [1, 2]\n" + prob, "s.toml: seeds and seed exclude each other"},
		{"seed = 2\nseeds = [1]\n" + prob, "s.toml: seeds and seed exclude each other"},
		{"seeds = [1, 2]\n" + prob + "seed = 4\n", `s.toml: problem "a": seed is not allowed beside the study's seeds`},
		{"seeds = [1, 2]\n[[landscape]]\nname='w'\npreset='wells'\nseed = 4\n", `s.toml: landscape "w": seed is not allowed beside the study's seeds`},
		{"seeds = [1, 2]\n" + prob + "basins = { lr = [0.1], batch = [8] }\n", `s.toml: seeds gives problem "a"'s basins table (which has no seeds key) 2 seeds, but basins needs ≥ 5`},
		{"seeds = 3\n" + prob, "s.toml: "},
	} {
		_, err := Parse([]byte(c.text), "s.toml", "")
		var fe *FileError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
	for _, text := range []string{"seed = 3\nseeds = [3]\n" + prob, "seeds = [1]\n" + prob + "seed = 4\n", "seeds = [0, 9223372036854775807]\n" + prob} {
		if _, err := Parse([]byte(text), "s.toml", ""); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

func TestWithSeeds(t *testing.T) {
	prob := "seed = 4\n[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n"
	s, err := Parse([]byte(prob), "s.toml", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.WithSeeds([]uint64{2, 1})
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != nil || !reflect.DeepEqual(c.Seeds, []uint64{2, 1}) || len(c.Steps()) != 2*2 {
		t.Errorf("copy: seed %v, seeds %v, %d steps", c.Seed, c.Seeds, len(c.Steps()))
	}
	if *s.Seed != 4 || s.Seeds != nil {
		t.Error("WithSeeds modified the study it was called on")
	}
	own, err := Parse([]byte(prob+"seed = 6\nbasins = { lr = [0.1], batch = [8] }\n"), "s.toml", "")
	if err != nil {
		t.Fatal(err)
	}
	basinsOnly, err := Parse([]byte(prob+"basins = { lr = [0.1], batch = [8] }\n"), "s.toml", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s     *Study
		seeds []uint64
		want  string
	}{
		{s, nil, "--seeds needs at least one seed"},
		{s, []uint64{1, 2, 2}, "--seeds holds 2 twice"},
		{own, []uint64{1, 2, 3, 4, 5}, `--seeds replicates every entry, but problem "a" sets its own seed`},
		{basinsOnly, []uint64{1, 2}, `--seeds gives problem "a"'s basins table (which has no seeds key) 2 seeds, but basins needs ≥ 5`},
	} {
		_, err := c.s.WithSeeds(c.seeds)
		fe := field.As(err)
		if fe == nil || fe.Key != "seeds" || !strings.HasPrefix(fe.Flag(), c.want) || strings.Contains(fe.Flag(), "\n") {
			t.Errorf("WithSeeds(%v): %v, want %q", c.seeds, err, c.want)
		}
	}
	// One seed keeps an entry's own seed, which overrides it.
	one, err := own.WithSeeds([]uint64{8})
	if err != nil {
		t.Fatal(err)
	}
	if st := one.Steps()[0]; st.Seed != 6 || st.Replicate != 0 || st.ID != "a/train" {
		t.Errorf("one seed: %s seed %d replicate %d", st.ID, st.Seed, st.Replicate)
	}
}

// repStep is seed's replicate of a step.
func repStep(entry, cmd, stem string, seed uint64, lr float64, b int, sim, output string) StepResult {
	st := step(entry, cmd, stem+"-seed"+strconv.FormatUint(seed, 10), lr, b, sim, output)
	st.Base, st.Replicate = entry+"/"+stem, seed
	return st
}

// verifyWith is verifyOut with the discrete prediction's verdict and relative error replaced.
func verifyWith(verdict string, relErr float64) string {
	out := strings.Replace(verifyOut, `"verdict": "holds", "effect": {"rel_error": 0,`, fmt.Sprintf(`"verdict": %q, "effect": {"rel_error": %v,`, verdict, relErr), 1)
	if out == verifyOut && (verdict != "holds" || relErr != 0) {
		panic("verifyWith: fixture changed")
	}
	return out
}

// replicatedResults is a study over seeds 1, 2, 3: problem p's score and verify steps
// (their outputs for seed k are score[k] and verify[k]; "" leaves the verify step out),
// problem n's basins step (not replicated) and landscape w.
func replicatedResults(score, verify []string) *Results {
	seeds := []uint64{1, 2, 3}
	r := &Results{Study: &Study{Seeds: seeds, Problems: []Problem{{Name: "p"}, {Name: "n"}}, Landscapes: []Landscape{{Name: "w", Preset: "wells"}}}}
	for k, seed := range seeds {
		r.Steps = append(r.Steps, repStep("p", KindScore, "score-lr0.1-B10", seed, 0.1, 10, "", score[k]))
		if verify[k] != "" {
			r.Steps = append(r.Steps, repStep("p", KindVerify, "verify-lr0.1-B10-sgd", seed, 0.1, 10, "sgd", verify[k]))
		}
	}
	below := `"ci_low": -0.3, "ci_high": -0.01`
	r.Steps = append(r.Steps, StepResult{Step: Step{ID: "n/basins", Entry: "n", Command: KindBasins},
		Output: json.RawMessage(basinsFixture(below, below, `{"rho": 0.5, "ci_low": 0.1, "ci_high": 0.8, "runs": 10}`, true))})
	for _, seed := range seeds {
		r.Steps = append(r.Steps, repStep("w", KindLandscape, "landscape", seed, 0, 0, "", wellsOut))
	}
	return r
}

func aggregateFor(t *testing.T, sum *Summary, entry, topic string) Verdict {
	t.Helper()
	v := verdictFor(t, sum, entry, topic, "")
	if v.Agreement != nil {
		a := v.Agreement
		if a.Holds+a.Fails+a.Inconclusive+a.Partly+a.Unknown+a.Info+a.Missing != a.Seeds || len(v.PerSeed) != a.Seeds {
			t.Errorf("%s: agreement %+v does not count each of the seeds once (%d per seed)", topic, *a, len(v.PerSeed))
		}
	}
	return v
}

// TestSummarizeReplicatesUnanimous: identical replicates give each verdict's status, with
// every seed counted under it, and each verdict of a step that is not replicated once.
func TestSummarizeReplicatesUnanimous(t *testing.T) {
	r := replicatedResults(same(scoreFull), same(verifyOut))
	sum := Summarize(r)
	one := &Results{Study: &Study{Problems: r.Study.Problems, Landscapes: r.Study.Landscapes}}
	for _, st := range r.Steps {
		if st.Replicate == 1 || st.Base == "" {
			one.Steps = append(one.Steps, st)
		}
	}
	single := summarizeReplicate(one)
	if len(sum.Entries) != len(single.Entries) {
		t.Fatalf("%d entries, want %d", len(sum.Entries), len(single.Entries))
	}
	for e, en := range single.Entries {
		got := sum.Entries[e]
		if got.Name != en.Name || len(got.Verdicts) != len(en.Verdicts) {
			t.Fatalf("entry %s: %d verdicts, want %d", got.Name, len(got.Verdicts), len(en.Verdicts))
		}
		if !reflect.DeepEqual(got.SweepX, en.SweepX) || !reflect.DeepEqual(got.FlatWell, en.FlatWell) {
			t.Errorf("entry %s: sweep %v flat %v", got.Name, got.SweepX, got.FlatWell)
		}
		for i, v := range en.Verdicts {
			a := got.Verdicts[i]
			if en.Name == "n" {
				if !reflect.DeepEqual(a, v) {
					t.Errorf("basins verdict %q changed: %+v", v.Topic, a)
				}
				continue
			}
			base := strings.TrimSuffix(v.Step, "-seed1")
			if a.Topic != v.Topic || a.Status != v.Status || a.Step != base || a.Where != v.Where || a.Agreement == nil || a.Agreement.Seeds != 3 {
				t.Errorf("%s %q: aggregate %+v of %+v", en.Name, v.Topic, a, v)
				continue
			}
			n := map[string]int{Holds: a.Agreement.Holds, Fails: a.Agreement.Fails, Inconclusive: a.Agreement.Inconclusive, Partly: a.Agreement.Partly, Unknown: a.Agreement.Unknown, Info: a.Agreement.Info}
			if n[v.Status] != 3 {
				t.Errorf("%s %q: agreement %+v, want all 3 %s", en.Name, v.Topic, *a.Agreement, v.Status)
			}
			if a.Short != v.Short+" (all 3 seeds)" || !strings.HasSuffix(a.Text, "Seed 1's run: "+v.Text) {
				t.Errorf("%s %q: short %q, text %q", en.Name, v.Topic, a.Short, a.Text)
			}
			for k, ps := range a.PerSeed {
				if ps.Seed != uint64(k+1) || ps.Status != v.Status || ps.Step != base+"-seed"+strconv.Itoa(k+1) {
					t.Errorf("%s %q: seed %+v", en.Name, v.Topic, ps)
				}
			}
		}
	}
	// The warnings are every replicate's, under their own step IDs, in step order.
	var ws []string
	for _, w := range sum.Warnings {
		ws = append(ws, w.Step+": "+w.Text)
	}
	var want []string
	for _, st := range r.Steps {
		var o struct{ Warnings []string }
		if err := json.Unmarshal(st.Output, &o); err != nil {
			t.Fatal(err)
		}
		for _, w := range o.Warnings {
			want = append(want, st.ID+": "+w)
		}
	}
	if len(want) < 7 || !reflect.DeepEqual(ws, want) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(ws, "\n"), strings.Join(want, "\n"))
	}
}

// same is x for each of the three seeds.
func same(x string) []string { return []string{x, x, x} }

// TestSummarizeReplicatesDisagree: seeds that disagree are inconclusive, never the
// majority's status; the counts and each seed's answer are kept.
func TestSummarizeReplicatesDisagree(t *testing.T) {
	gradient := strings.Replace(scoreFull, `"asymmetry_seed": 0.2`, `"asymmetry_seed": 0.01`, 1)
	if gradient == scoreFull {
		t.Fatal("fixture changed")
	}
	sum := Summarize(replicatedResults([]string{scoreFull, scoreFull, gradient}, []string{verifyOut, verifyWith("fails", 0.2), verifyOut}))
	v := aggregateFor(t, sum, "p", TopicCurrent)
	expect(t, v, Inconclusive, "the seeds disagree (2 of 3 seeds fail, 1 holds)", "no majority", "seed 3 holds, 0.01", "seed 1 fails, 0.2",
		"Jacobian asymmetry of the note's score field over 3 seeds: mean 0.1367")
	if *v.Agreement != (Agreement{Seeds: 3, Holds: 1, Fails: 2}) || v.Short != "2 of 3 seeds fail, 1 holds" {
		t.Errorf("agreement %+v, short %q", *v.Agreement, v.Short)
	}
	// A seed whose verify is inconclusive (the note's prediction and one more undecided)
	// against two that hold.
	p := aggregateFor(t, sum, "p", TopicPrediction)
	expect(t, p, Inconclusive, "the seeds disagree (2 of 3 seeds hold, 1 is inconclusive)", "seed 1 holds (discrete Lyapunov), 0")
	if *p.Agreement != (Agreement{Seeds: 3, Holds: 2, Inconclusive: 1}) || p.PerSeed[1].Status != Inconclusive || p.PerSeed[1].Value != nil || p.PerSeed[0].Value == nil {
		t.Errorf("agreement %+v, per seed %+v", *p.Agreement, p.PerSeed)
	}
	// The others still agree.
	expect(t, aggregateFor(t, sum, "p", TopicGaussian), Fails, "all 3 seeds fail")
}

// TestSummarizeReplicatesMissing: a verdict that a seed does not give is counted as missing
// and makes the aggregate inconclusive, even when the other seeds agree.
func TestSummarizeReplicatesMissing(t *testing.T) {
	sum := Summarize(replicatedResults(same(scoreFull), []string{verifyOut, verifyOut, ""}))
	v := aggregateFor(t, sum, "p", TopicPrediction)
	expect(t, v, Inconclusive, "2 of 3 seeds hold, 1 is missing", "missing for some seeds", "seed 3 missing")
	if *v.Agreement != (Agreement{Seeds: 3, Holds: 2, Missing: 1}) || v.PerSeed[2] != (SeedVerdict{Seed: 3, Status: SeedMissing}) {
		t.Errorf("agreement %+v, seed 3 %+v", *v.Agreement, v.PerSeed[2])
	}
}

// TestSummarizeReplicatesSpread: the aggregate states the mean, standard deviation and range
// of the verdict's number over the seeds, checked against a naive computation.
func TestSummarizeReplicatesSpread(t *testing.T) {
	rel := []float64{0.01, 0.025, 0.07}
	sum := Summarize(replicatedResults(same(scoreFull), []string{verifyWith("holds", rel[0]), verifyWith("holds", rel[1]), verifyWith("holds", rel[2])}))
	v := aggregateFor(t, sum, "p", TopicPrediction)
	var s, s2 float64
	for _, x := range rel {
		s += x
		s2 += x * x
	}
	n := float64(len(rel))
	mean := s / n
	sd := math.Sqrt((s2 - n*mean*mean) / (n - 1))
	expect(t, v, Holds, fmt.Sprintf("Relative error of discrete Lyapunov over 3 seeds: mean %s, standard deviation %s, range 0.01 to 0.07.", Format(mean), Format(sd)),
		"seed 2 holds (discrete Lyapunov), 0.025")
	if v.Value == nil || math.Abs(float64(*v.Value)-mean) > 1e-15 || v.ValueName != "relative error of discrete Lyapunov" || v.Short != "discrete Lyapunov (all 3 seeds)" {
		t.Errorf("value %v %q, short %q", v.Value, v.ValueName, v.Short)
	}
	for k, ps := range v.PerSeed {
		if ps.Value == nil || float64(*ps.Value) != rel[k] {
			t.Errorf("seed %d value %v, want %v", ps.Seed, ps.Value, rel[k])
		}
	}
}

// TestSeedSpread compares seedSpread with gonum's mean and unbiased standard deviation and
// a loop for the range.
func TestSeedSpread(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 7; n++ {
		xs := make([]float64, n)
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range xs {
			xs[i] = 3 + 100*rng.NormFloat64()
			lo, hi = math.Min(lo, xs[i]), math.Max(hi, xs[i])
		}
		mean, sd, gotLo, gotHi := seedSpread(xs)
		wantMean, wantSD := stat.MeanStdDev(xs, nil)
		if math.Abs(mean-wantMean) > 1e-12*math.Abs(wantMean) || gotLo != lo || gotHi != hi {
			t.Errorf("n = %d: mean %v range [%v, %v], want %v [%v, %v]", n, mean, gotLo, gotHi, wantMean, lo, hi)
		}
		if n == 1 && !math.IsNaN(sd) || n > 1 && math.Abs(sd-wantSD) > 1e-12*wantSD {
			t.Errorf("n = %d: sd %v, want %v", n, sd, wantSD)
		}
	}
}

func TestAgreementPhrase(t *testing.T) {
	for _, c := range []struct {
		a    Agreement
		want string
	}{
		{Agreement{Seeds: 5, Holds: 5}, "all 5 seeds hold"},
		{Agreement{Seeds: 5, Holds: 4, Fails: 1}, "4 of 5 seeds hold, 1 fails"},
		{Agreement{Seeds: 5, Holds: 1, Fails: 2, Missing: 2}, "2 of 5 seeds fail, 2 are missing, 1 holds"},
		{Agreement{Seeds: 3, Info: 3}, "all 3 seeds measured"},
		{Agreement{Seeds: 4, Partly: 1, Inconclusive: 3}, "3 of 4 seeds are inconclusive, 1 partly holds"},
	} {
		if got := agreementPhrase(&c.a); got != c.want {
			t.Errorf("%+v: %q, want %q", c.a, got, c.want)
		}
	}
}

// TestVerdictValues: the verdicts that rest on one number carry it.
func TestVerdictValues(t *testing.T) {
	sum := Summarize(testResults())
	for _, c := range []struct {
		entry, topic, name string
		want               float64
	}{
		{"p", TopicMinimum, "‖∇L‖ at θ*", 1e-12},
		{"p", TopicCurrent, "Jacobian asymmetry of the note's score field", 0.2},
		{"p", TopicDiffusion, "divergence ratio (change of the stationary score)", 0.02},
		{"p", TopicGaussian, "largest |sampled excess kurtosis|", 2.5},
		{"p", TopicPrediction, "relative error of discrete Lyapunov", 0},
		{"q", TopicCurrent, "commutator ‖CH − HC‖/(‖C‖‖H‖)", 0.01},
		{"w", TopicFlat, "SGD's mass in the flat well", 0.98},
		{"o", TopicCurrent2D, "stationary current max|J|/max|μp|", 0.149},
	} {
		v := verdictFor(t, sum, c.entry, c.topic, "")
		if v.Value == nil || float64(*v.Value) != c.want || v.ValueName != c.name {
			t.Errorf("%s %q: value %v %q, want %v %q", c.entry, c.topic, v.Value, v.ValueName, c.want, c.name)
		}
	}
	if v := verdictFor(t, sum, "q", TopicDiffusion, ""); v.Value != nil {
		t.Errorf("an unknown verdict has value %v", *v.Value)
	}
}

// TestAggregateDifferentPredictions: "Which covariance prediction matches SGD?" holding for
// every seed is unanimous only when the seeds name the same prediction; naming different
// ones is inconclusive, with every seed's answer in the text.
func TestAggregateDifferentPredictions(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	mk := func(shorts ...string) []*Verdict {
		var per []*Verdict
		for k, s := range shorts {
			per = append(per, &Verdict{Topic: TopicPrediction, Status: Holds, Short: s, Step: fmt.Sprintf("p/verify-seed%d", seeds[k]), Text: "t"})
		}
		return per
	}
	same := aggregateVerdict(mk("discrete Lyapunov", "discrete Lyapunov", "discrete Lyapunov"), seeds, "p/verify")
	if same.Status != Holds || same.Short != "discrete Lyapunov (all 3 seeds)" {
		t.Errorf("same prediction: %s, %q", same.Status, same.Short)
	}
	diff := aggregateVerdict(mk("discrete Lyapunov", "discrete Lyapunov", "continuous Lyapunov"), seeds, "p/verify")
	if diff.Status != Inconclusive || !strings.Contains(diff.Text, "different predictions") || !strings.Contains(diff.Text, "continuous Lyapunov") {
		t.Errorf("different predictions: %s, %q, %q", diff.Status, diff.Short, diff.Text)
	}
	if a := diff.Agreement; a.Holds != 3 || a.Seeds != 3 {
		t.Errorf("agreement %+v", *a)
	}
	// Another topic's Short is a detail of the same answer: unanimous.
	other := mk("no: indefinite for 1 of 3 predictions", "no: indefinite for 2 of 3 predictions", "no: indefinite for 1 of 3 predictions")
	for _, v := range other {
		v.Topic, v.Status = TopicPrior, Fails
	}
	if g := aggregateVerdict(other, seeds, "p/score"); g.Status != Fails {
		t.Errorf("the prior's verdict with different details: %s", g.Status)
	}
}
