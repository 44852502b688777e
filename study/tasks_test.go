package study

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// naiveLevels is the dependency level by its definition: the length of the longest chain
// of steps to run that ends at the step, found by trying every chain length.
func naiveLevels(needs [][]int, run []bool) []int {
	n := len(needs)
	level := make([]int, n)
	var longest func(i int) int
	longest = func(i int) int {
		best := 0
		for _, j := range needs[i] {
			if run[j] {
				best = max(best, 1+longest(j))
			}
		}
		return best
	}
	for i := range n {
		level[i] = -1
		if run[i] {
			level[i] = longest(i)
		}
	}
	return level
}

// naiveDependents marks every step from which a chain of needs reaches a step in run.
func naiveDependents(needs [][]int, run []bool) []bool {
	out := slices.Clone(run)
	for changed := true; changed; {
		changed = false
		for i := range needs {
			for _, j := range needs[i] {
				if out[j] && !out[i] {
					out[i], changed = true, true
				}
			}
		}
	}
	return out
}

// TestNeedsDefault: in the default study every score, verify and escape step needs its
// problem's train step and nothing else, the other steps need none, and Levels and
// WithDependents agree with their naive definitions for every subset of the steps of one
// problem (and a few subsets of all).
func TestNeedsDefault(t *testing.T) {
	for _, quick := range []bool{false, true} {
		s := Default()
		if quick {
			var err error
			if s, err = s.Quick(); err != nil {
				t.Fatal(err)
			}
		}
		steps := s.Steps()
		needs := Needs(steps)
		train := map[string]int{}
		for i, st := range steps {
			if st.Command == KindTrain {
				train[st.Entry] = i
			}
		}
		for i, st := range steps {
			var want []int
			switch st.Command {
			case KindScore, KindVerify, KindEscape:
				want = []int{train[st.Entry]}
			}
			if !slices.Equal(needs[i], want) {
				t.Errorf("quick %v: %s needs %v, want %v", quick, st.ID, needs[i], want)
			}
		}
		n := len(steps)
		all := make([]bool, n)
		for i := range all {
			all[i] = true
		}
		if got := Levels(needs, all); !slices.Equal(got, naiveLevels(needs, all)) || slices.Max(got) != 1 {
			t.Errorf("levels %v", got)
		}
		for mask := range 1 << 6 {
			run := make([]bool, n)
			for i := range n {
				run[i] = mask>>(i%6)&1 == 1 && (i*7+mask)%3 != 0
			}
			if got, want := Levels(needs, run), naiveLevels(needs, run); !slices.Equal(got, want) {
				t.Errorf("mask %d: levels %v, want %v", mask, got, want)
			}
			if got, want := WithDependents(needs, run), naiveDependents(needs, run); !slices.Equal(got, want) {
				t.Errorf("mask %d: dependents %v, want %v", mask, got, want)
			}
		}
	}
}

// TestNeedsChain: a chain a ← b ← c (c reads b's file, b reads a's) gets levels 0, 1, 2,
// and a rerun of a reruns both dependents; a step reading a file of a later step panics.
func TestNeedsChain(t *testing.T) {
	steps := []Step{
		{ID: "e/train", Entry: "e", Command: KindTrain, JSON: "e/train.json", Theta: "e/a.npy"},
		{ID: "e/train2", Entry: "e", Command: KindTrain, JSON: "e/train2.json", Theta: "e/b.npy", Init: "e/a.npy"},
		{ID: "e/score", Entry: "e", Command: KindScore, JSON: "e/score.json", Theta: "e/b.npy"},
		{ID: "f/landscape", Entry: "f", Command: KindLandscape, JSON: "f/landscape.json"},
	}
	needs := Needs(steps)
	if want := [][]int{nil, {0}, {1}, nil}; !slices.EqualFunc(needs, want, slices.Equal) {
		t.Fatalf("needs %v, want %v", needs, want)
	}
	run := []bool{true, false, false, false}
	if got := WithDependents(needs, run); !slices.Equal(got, []bool{true, true, true, false}) {
		t.Errorf("dependents %v", got)
	}
	if got := Levels(needs, []bool{true, true, true, true}); !slices.Equal(got, []int{0, 1, 2, 0}) {
		t.Errorf("levels %v", got)
	}
	if got := Levels(needs, []bool{false, true, true, false}); !slices.Equal(got, []int{-1, 0, 1, -1}) {
		t.Errorf("levels without the finished first step %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a step reading a later step's file did not panic")
		}
	}()
	Needs([]Step{steps[2], steps[1], steps[0]})
}

// TestPlanRoundTrip: a plan written and read back expands to the same steps and levels; a
// crafted plan (a step ID with "..", a need on a later task, a bad hash, a wrong format) is
// an error naming the file.
func TestPlanRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := &Plan{StudyFile: DefaultName, Source: string(DefaultSource()), Quick: true, CommandLine: []string{"sgdprior", "run"}, Executor: "plan"}
	s, err := p.Study()
	if err != nil {
		t.Fatal(err)
	}
	steps := s.Steps()
	run := make([]bool, len(steps))
	for i := range run {
		run[i] = i%2 == 0
	}
	p.SetTasks("v+x", steps, run)
	if err := p.Write(dir); err != nil {
		t.Fatal(err)
	}
	q, err := ReadPlan(filepath.Join(dir, PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := q.Study()
	if err != nil {
		t.Fatal(err)
	}
	steps2 := s2.Steps()
	if len(steps2) != len(steps) {
		t.Fatalf("%d steps, want %d", len(steps2), len(steps))
	}
	for i := range steps {
		if steps2[i].ID != steps[i].ID || StepHash("v+x", &steps2[i]) != q.Tasks[i].Hash {
			t.Errorf("task %d: %s, want %s", i, steps2[i].ID, steps[i].ID)
		}
	}
	lv := q.Levels()
	var flat []int
	for _, l := range lv {
		flat = append(flat, l...)
	}
	slices.Sort(flat)
	var want []int
	for i := range run {
		if run[i] {
			want = append(want, i)
		}
	}
	if !slices.Equal(flat, want) {
		t.Errorf("levels hold %v, want %v", flat, want)
	}
	raw, err := os.ReadFile(filepath.Join(dir, PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ old, new string }{
		{`"id": "` + steps[0].ID + `"`, `"id": "../../etc"`},
		{`"format": 1`, `"format": 7`},
		{`"hash": "` + q.Tasks[0].Hash + `"`, `"hash": "zz"`},
	} {
		bad := strings.Replace(string(raw), c.old, c.new, 1)
		if bad == string(raw) {
			t.Fatalf("%q not in the plan", c.old)
		}
		path := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPlan(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s → %s: error %v", c.old, c.new, err)
		}
	}
	// A task that needs a later one.
	q.Tasks[1].Needs = []int{3}
	if err := q.Write(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlan(filepath.Join(dir, PlanFile)); err == nil || !strings.Contains(err.Error(), "task 1: needs 3") {
		t.Errorf("a need on a later task: %v", err)
	}
}

// TestTaskRecords: a task's record folds into a manifest (replacing its own record of the
// step); a crafted record is an error naming its file.
func TestTaskRecords(t *testing.T) {
	dir := t.TempDir()
	st := Step{ID: "e/score", Entry: "e", Command: KindScore, JSON: "e/score.json"}
	if err := os.MkdirAll(filepath.Join(dir, "e"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, st.JSON), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteTaskRecord(dir, "p", &st); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Steps: []ManifestStep{{ID: "e/score", Hash: strings.Repeat("0", 64)}}}
	if n, err := m.FoldTaskRecords(dir, []Step{st}); err != nil || n != 1 || len(m.Steps) != 1 {
		t.Fatalf("fold: %d, %v, %+v", n, err, m.Steps)
	}
	if m.Finished(dir, "p", &st) == nil {
		t.Error("the folded record does not count as finished")
	}
	if m.Finished(dir, "another program", &st) != nil {
		t.Error("a record of another program counts as finished")
	}
	path := TaskRecord(dir, st.ID)
	if err := os.WriteFile(path, []byte(`{"id": "e/score", "hash": "`+strings.Repeat("a", 64)+`", "files": [{"path": "../x", "sha256": "`+strings.Repeat("b", 64)+`"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Manifest{}).FoldTaskRecords(dir, []Step{st}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("crafted record: %v", err)
	}
}
