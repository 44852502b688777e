package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/report"
	"github.com/sgdprior/sgdprior/study"
)

// craftedResults writes DIR/results.json whose one problem is named entry, with a score
// step (which the report turns into the table ENTRY-quantities.csv), and returns DIR.
func craftedResults(t *testing.T, dir, entry string) string {
	t.Helper()
	from := filepath.Join(dir, "from")
	if err := os.MkdirAll(from, 0o755); err != nil {
		t.Fatal(err)
	}
	st := study.Step{ID: entry + "/score-lr0.1-B8", Entry: entry, Command: study.KindScore, JSON: entry + "/score-lr0.1-B8.json", LR: 0.1, Batch: 8}
	res := &study.Results{Version: "test", CommandLine: []string{"sgdprior", "run"}, StudyFile: "crafted.toml",
		Study: &study.Study{Title: "crafted", Problems: []study.Problem{{Name: entry, Data: "iris", Model: "softmax"}}},
		Steps: []study.StepResult{{Step: st, CommandLine: "sgdprior score", Output: json.RawMessage(`{"n": 10, "d": 3, "lr": 0.1, "batch": 8}`)}}}
	res.Summary = study.Summarize(res)
	if err := res.Write(filepath.Join(from, study.ResultsFile)); err != nil {
		t.Fatal(err)
	}
	return from
}

// files lists the regular files under root, relative to it.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			r, _ := filepath.Rel(root, p)
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReportRefusesCraftedNames (issue 14, item 1): `report --from` holds the names in
// results.json to the study's rules; a crafted name is a one-line data error (exit 1)
// naming results.json, and nothing is written, inside --out or outside it.
func TestReportRefusesCraftedNames(t *testing.T) {
	for _, name := range []string{"../evil", "../../evil", "/tmp/evil", "a/b", "..", "figures"} {
		t.Run(strings.ReplaceAll(name, "/", "|"), func(t *testing.T) {
			root := t.TempDir()
			from := craftedResults(t, filepath.Join(root, "share"), name)
			for _, out := range []string{filepath.Join(root, "share", "out"), ""} {
				args := []string{"report", "--from", from}
				if out != "" {
					args = append(args, "--out", out)
				}
				code, stdout, stderr := runCmd(t, args...)
				if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, filepath.Join(from, study.ResultsFile)+": problem ") ||
					!strings.Contains(stderr, "name ") {
					t.Errorf("%v: code %d, stderr %q, stdout %q", args, code, stderr, stdout)
				}
				if got := files(t, root); !slices.Equal(got, []string{filepath.Join("share", "from", study.ResultsFile)}) {
					t.Errorf("%v: files written: %v", args, got)
				}
			}
		})
	}
	// The same results with a good name render.
	root := t.TempDir()
	from := craftedResults(t, root, "good")
	if code, _, stderr := runCmd(t, "report", "--from", from); code != 0 {
		t.Fatalf("good name: code %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(from, report.TablesDir, "good-quantities.csv")); err != nil {
		t.Error(err)
	}
}

// TestReportRefusesSymlinkedDirs (item 1): a shared folder whose figures/ is a symbolic
// link elsewhere is refused, not written through.
func TestReportRefusesSymlinkedDirs(t *testing.T) {
	root := t.TempDir()
	from := craftedResults(t, root, "good")
	elsewhere := filepath.Join(root, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(from, report.TablesDir)); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "report", "--from", from)
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "symbolic link") {
		t.Errorf("code %d, stderr %q", code, stderr)
	}
	if got := files(t, elsewhere); len(got) > 0 {
		t.Errorf("written through the link: %v", got)
	}
}

// TestRunRefusesReservedNames (item 8): an entry named like one of the report's own files
// is refused when the study is parsed: exit 2, one line naming the file, the entry and the
// key, and no output directory.
func TestRunRefusesReservedNames(t *testing.T) {
	dir := t.TempDir()
	for _, n := range study.ReservedNames {
		cfg := writeFile(t, dir, "s.toml", "[[landscape]]\nname = '"+n+"'\npreset = 'ou'\nexact_only = true\n")
		out := filepath.Join(dir, "out")
		code, _, stderr := runCmd(t, "run", "--config", cfg, "--out", out)
		want := "sgdprior run: " + cfg + `: landscape "` + n + `": name is reserved`
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, want) {
			t.Errorf("%s: code %d, stderr %q, want it to begin %q", n, code, stderr, want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: an output directory was created", n)
		}
	}
}

// TestRunNegativeSeed (item 9): seed = -1 in a study file is a usage error naming the key,
// as --seed -1 is.
func TestRunNegativeSeed(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "s.toml", "seed = -1\n[[landscape]]\nname = 'o'\npreset = 'ou'\nexact_only = true\n")
	out := filepath.Join(dir, "out")
	code, _, stderr := runCmd(t, "run", "--config", cfg, "--out", out)
	if want := "sgdprior run: " + cfg + ": seed must be ≥ 0, not -1\n"; code != 2 || stderr != want {
		t.Errorf("code %d, stderr %q, want %q", code, stderr, want)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an output directory was created")
	}
}

// TestOneClassIsDataError (item 9): data of one class is a data error (exit 1) naming the
// data, like a missing --labels, not a usage error blaming --model.
func TestOneClassIsDataError(t *testing.T) {
	dir := t.TempDir()
	one := writeFile(t, dir, "one.csv", "a,b,y\n1,2,x\n2,1,x\n3,3,x\n")
	for _, m := range []string{"logistic", "softmax", "mlp:4"} {
		out := filepath.Join(dir, "theta.npy")
		code, _, stderr := runCmd(t, "train", "--data", one, "--model", m, "--method", "lbfgs", "--out", out)
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, one) || !strings.Contains(stderr, `class "x"`) ||
			strings.Contains(stderr, "--model") {
			t.Errorf("%s: code %d, stderr %q", m, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: an output file was written", m)
		}
	}
}

// TestUsagePrintedOnce (item 9): `help CMD`, `CMD -h` and `CMD --help` print the usage once.
func TestUsagePrintedOnce(t *testing.T) {
	for _, c := range []struct {
		cmd  string
		args []string
	}{{"train", []string{"help", "train"}}, {"train", []string{"train", "-h"}}, {"train", []string{"train", "--help"}},
		{"report", []string{"help", "report"}}, {"run", []string{"run", "-h"}}} {
		code, stdout, stderr := runCmd(t, c.args...)
		if n := strings.Count(stdout, "usage: sgdprior "+c.cmd+" "); code != 0 || n != 1 || stderr != "" {
			t.Errorf("%v: code %d, usage printed %d times, stderr %q", c.args, code, n, stderr)
		}
	}
}

// TestUsageNotPrintedOnError (item 9): a bad flag gives its one line on stderr and no usage
// on stdout (flag.FlagSet.Parse prints the usage on every error).
func TestUsageNotPrintedOnError(t *testing.T) {
	for _, args := range [][]string{{"train", "--seed", "-1"}, {"train", "--frobnicate"}, {"report", "--from"}} {
		code, stdout, stderr := runCmd(t, args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: code %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}
