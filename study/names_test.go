package study

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestReservedNames: an entry may not take a name the output directory uses for itself
// (issue 14, item 8); the error is a *FileError naming the entry and the key.
func TestReservedNames(t *testing.T) {
	for _, n := range []string{"results.json", "report.html", "figures", "tables", "logs", "Figures", "LOGS"} {
		for _, text := range []string{
			"[[landscape]]\nname='" + n + "'\npreset='wells'\n",
			"[[problem]]\nname='" + n + "'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n",
		} {
			_, err := Parse([]byte(text), "s.toml", "")
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("%s: error %v, want a *FileError", n, err)
			}
			want := `s.toml: ` + strings.SplitN(strings.TrimPrefix(text, "[["), "]", 2)[0] + ` "` + n + `": name is reserved`
			if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %q, want it to begin %q", n, err, want)
			}
		}
	}
	if _, err := Parse([]byte("[[landscape]]\nname='figures2'\npreset='wells'\n"), "s.toml", ""); err != nil {
		t.Errorf("figures2: %v", err)
	}
}

// TestNegativeSeed: seed = -1 is refused with its key named, not wrapped to 2⁶⁴−1 (item 9).
func TestNegativeSeed(t *testing.T) {
	prob := "[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n"
	for _, c := range []struct{ text, want string }{
		{"seed = -1\n" + prob, "s.toml: seed must be ≥ 0, not -1"},
		{prob + "seed = -2\n", `s.toml: problem "a": seed must be ≥ 0, not -2`},
		{prob + "holdout = 0.2\nholdout_seed = -3\n", `s.toml: problem "a": holdout_seed must be ≥ 0, not -3`},
		{"[[landscape]]\nname='w'\npreset='wells'\nseed = -4\n", `s.toml: landscape "w": seed must be ≥ 0, not -4`},
	} {
		s, err := Parse([]byte(c.text), "s.toml", "")
		var fe *FileError
		if !errors.As(err, &fe) || err.Error() != c.want {
			if s != nil && s.Seed != nil {
				t.Errorf("seed parsed as %d", *s.Seed)
			}
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	s, err := Parse([]byte("seed = 9223372036854775807\n"+prob), "s.toml", "")
	if err != nil || *s.Seed != 1<<63-1 {
		t.Errorf("the largest TOML seed: %v", err)
	}
}

// TestResolvePrefixedSources: a prefixed relative path is resolved against the study's
// directory after its prefix (item 4: it was "st/csv:train.dat"); absolute paths and
// embedded names are kept.
func TestResolvePrefixedSources(t *testing.T) {
	for _, pre := range []string{"csv:", "libsvm:", "npy:", "idx:"} {
		labels := ""
		if pre == "npy:" {
			labels = "labels='y.npy'\ntest_labels='ty.npy'\n"
		}
		text := "[[problem]]\nname='a'\ndata='" + pre + "train.dat'\ntest='" + pre + "sub/test.dat'\n" + labels + "model='softmax'\nlr=[0.1]\nbatch=[8]\n" +
			"[[problem]]\nname='b'\ndata='" + pre + "/abs/train.dat'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n" + strings.ReplaceAll(labels, "test_labels='ty.npy'\n", "")
		s, err := Parse([]byte(text), "s.toml", "/st")
		if err != nil {
			t.Fatalf("%s: %v", pre, err)
		}
		a, b := s.Problems[0], s.Problems[1]
		if want := pre + filepath.Join("/st", "train.dat"); a.Data != want {
			t.Errorf("%s: data %q, want %q", pre, a.Data, want)
		}
		if want := pre + filepath.Join("/st", "sub", "test.dat"); a.Test != want {
			t.Errorf("%s: test %q, want %q", pre, a.Test, want)
		}
		if want := pre + "/abs/train.dat"; b.Data != want {
			t.Errorf("%s: data %q, want %q", pre, b.Data, want)
		}
		if pre == "npy:" && (a.Labels != filepath.Join("/st", "y.npy") || a.TestLabels != filepath.Join("/st", "ty.npy")) {
			t.Errorf("npy: labels %q, test_labels %q", a.Labels, a.TestLabels)
		}
	}
}

// TestResultsCheckNames: the names read back from results.json are held to the rules of
// the study file (item 1), so that a crafted file cannot direct the report's writes.
func TestResultsCheckNames(t *testing.T) {
	good := func() *Results {
		return &Results{Study: &Study{Landscapes: []Landscape{{Name: "w", Preset: "wells"}}},
			Steps: []StepResult{{Step: Step{ID: "w/landscape", Entry: "w", Command: KindLandscape, JSON: filepath.Join("w", "landscape.json")}}}}
	}
	if err := good().CheckNames(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(r *Results)
		want string
	}{
		{"dot-dot", func(r *Results) { r.Study.Landscapes[0].Name = "../evil" }, `landscape "../evil": name may hold only`},
		{"absolute", func(r *Results) { r.Study.Landscapes[0].Name = "/tmp/evil" }, `landscape "/tmp/evil": name may hold only`},
		{"separator", func(r *Results) { r.Study.Landscapes[0].Name = "a/b" }, `name may hold only`},
		{"NUL", func(r *Results) { r.Study.Landscapes[0].Name = "a\x00b" }, `name may hold only`},
		{"empty", func(r *Results) { r.Study.Landscapes[0].Name = "" }, `landscape 1: name is required`},
		{"reserved", func(r *Results) { r.Study.Landscapes[0].Name = "figures" }, `name is reserved`},
		{"twice", func(r *Results) { r.Study.Problems = []Problem{{Name: "w"}} }, `landscape "w": name is used twice`},
		{"step entry", func(r *Results) { r.Steps[0].Entry = "../x" }, `step 1 ("w/landscape"): entry "../x" is not one of the study's`},
		{"step json", func(r *Results) { r.Steps[0].JSON = "w/../../x.json" }, `json "w/../../x.json" is not a file in the directory of entry "w"`},
		{"step json abs", func(r *Results) { r.Steps[0].JSON = "/w/x.json" }, `is not a file in the directory`},
		{"no study", func(r *Results) { r.Study = nil }, `no study`},
	} {
		r := good()
		c.edit(r)
		err := r.CheckNames()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
