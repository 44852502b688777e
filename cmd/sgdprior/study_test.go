package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/report"
	"github.com/sgdprior/sgdprior/study"
)

// tinyStudy is a study small enough for a unit test: one logistic problem and one 1-D and
// one 2-D landscape, each with few, short chains.
const tinyStudy = `
title = "tiny study"
seed = 3

[[problem]]
name = "logit"
title = "Logistic regression on breast-cancer (tiny)"
data = "breast-cancer"
model = "logistic"
weight_decay = 0.05
lr = [0.1]
batch = [64]
simulators = ["sgd"]
chains = 4
steps = 1500
burnin = 500
divergence = true

[[landscape]]
name = "wells"
preset = "wells"
chains = 2
steps = 20000
sweep_lr = [0.2, 0.3]
sweep_steps = 5000

[[landscape]]
name = "ou2d"
preset = "ou2d"
flags = { hess2 = "1,0.4,0.5", noise2 = "0.5,-0.2,1" }
chains = 2
steps = 5000
`

// runTiny runs the tiny study into a new directory and returns it with its results.
func runTiny(t *testing.T) (string, *study.Results) {
	t.Helper()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.toml", tinyStudy)
	out := filepath.Join(dir, "report")
	code, stdout, stderr := runCmd(t, "run", "--config", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("run: code %d, stderr %q, stdout %q", code, stderr, stdout)
	}
	res, err := study.ReadResults(filepath.Join(out, study.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

// TestTinyStudy runs a tiny study once and checks it from every side (subtests).
func TestTinyStudy(t *testing.T) {
	out, res := runTiny(t)
	t.Run("Results", func(t *testing.T) { checkTinyResults(t, out, res) })
	t.Run("StepsEqualCommands", func(t *testing.T) { checkStepsEqualCommands(t, out, res) })
	t.Run("NumbersMatchResults", func(t *testing.T) { checkNumbersMatchResults(t, out, res) })
	t.Run("Browser", func(t *testing.T) { checkInBrowser(t, out, res) })
}

// checkTinyResults: every step that ran has its JSON output in results.json byte for byte
// (up to surrounding white space), the report and its files exist, and `report --from`
// re-renders the same page without running anything.
func checkTinyResults(t *testing.T, out string, res *study.Results) {
	if len(res.Steps) == 0 {
		t.Fatal("no step ran")
	}
	if res.Summary == nil || len(res.Summary.Entries) != 3 {
		t.Fatalf("summary: %+v", res.Summary)
	}
	for _, s := range res.Steps {
		b, err := os.ReadFile(filepath.Join(out, s.JSON))
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, b, s.Output) {
			t.Errorf("step %s: results.json differs from %s", s.ID, s.JSON)
		}
		if s.CommandLine != s.Step.CommandLine() || !strings.HasPrefix(s.CommandLine, "sgdprior "+s.Command+" ") {
			t.Errorf("step %s: command line %q", s.ID, s.CommandLine)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, page)
	// Every figure of the page exists as SVG and PNG; every table as CSV.
	rep, err := report.Build(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Figures {
		for _, ext := range []string{".svg", ".png"} {
			if st, err := os.Stat(filepath.Join(out, report.FiguresDir, f.Name+ext)); err != nil || st.Size() == 0 {
				t.Errorf("figure file %s%s: %v", f.Name, ext, err)
			}
		}
	}
	for _, tb := range rep.Tables {
		if _, err := os.Stat(filepath.Join(out, report.TablesDir, tb.Name+".csv")); err != nil {
			t.Errorf("table %s: %v", tb.Name, err)
		}
	}
	if !bytes.Equal(rep.HTML, page) {
		t.Error("rendering results.json again gives a different page")
	}
	// report --from into a fresh directory: same page, no step run (the registry is
	// emptied of the study's subcommands while it runs).
	re := filepath.Join(t.TempDir(), "again")
	saved := map[string]*command{}
	for _, k := range []string{"train", "score", "verify", "landscape"} {
		saved[k] = commands[k]
		delete(commands, k)
	}
	code, _, stderr := runCmd(t, "report", "--from", out, "--out", re)
	for k, c := range saved {
		if c != nil {
			commands[k] = c
		}
	}
	if code != 0 {
		t.Fatalf("report --from: code %d, stderr %q", code, stderr)
	}
	again, err := os.ReadFile(filepath.Join(re, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, page) {
		t.Error("report --from renders a different page")
	}
}

// checkStepsEqualCommands: each step's output in results.json equals that of the same
// subcommand run alone with the step's command line (same settings, same seed), up to the
// output file names. The command lines' paths are relative to the output directory, so
// they run from there.
func checkStepsEqualCommands(t *testing.T, out string, res *study.Results) {
	t.Chdir(out)
	for _, s := range res.Steps {
		// Run the step's command line again, as a user would, into a scratch copy of its
		// outputs: --json (and train's --out) point elsewhere.
		dir := t.TempDir()
		args := append([]string{}, s.Args...)
		alone := filepath.Join(dir, "alone.json")
		for i := range args {
			if i > 0 && args[i-1] == "--json" {
				args[i] = alone
			}
			if i > 0 && args[i-1] == "--out" {
				args[i] = filepath.Join(dir, "theta.npy")
			}
		}
		code, _, stderr := runCmd(t, append([]string{s.Command}, args...)...)
		if code != 0 {
			t.Fatalf("%s alone: code %d, stderr %q", s.ID, code, stderr)
		}
		b, err := os.ReadFile(alone)
		if err != nil {
			t.Fatal(err)
		}
		var got, want map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(s.Output, &want); err != nil {
			t.Fatal(err)
		}
		// The command lines differ in the output paths only.
		scrub := func(m map[string]any) {
			if pv, ok := m["provenance"].(map[string]any); ok {
				delete(pv, "command_line")
			}
			delete(m, "params")
		}
		scrub(got)
		scrub(want)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if !bytes.Equal(gb, wb) {
			t.Errorf("%s: the study's output differs from the command run alone:\nstudy %.300s\nalone %.300s", s.ID, wb, gb)
		}
	}
}

// jsonEqual compares two JSON texts after compacting them.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var ca, cb bytes.Buffer
	if err := json.Compact(&ca, a); err != nil {
		t.Fatal(err)
	}
	if err := json.Compact(&cb, b); err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// checkSelfContained: no scripts, no external resources, inline SVG.
func checkSelfContained(t *testing.T, page []byte) {
	t.Helper()
	s := string(page)
	for _, bad := range []string{"<script", "<link", "@import", "src=\"http", "href=\"http", "url(http", "<img"} {
		if strings.Contains(s, bad) {
			t.Errorf("the page contains %q: it must not load anything", bad)
		}
	}
	if !strings.Contains(s, "<svg") {
		t.Error("the page has no inline SVG")
	}
}

func TestRunBadStudyFile(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, text string
		substr     []string
	}{
		{"unknown key", "title = 'x'\n[[problem]]\nname = 'a'\ndata = 'iris'\nmodel = 'softmax'\nlr = [0.1]\nbatch = [8]\nlearning_rate = 3\n", []string{"unknown key", "problem.learning_rate"}},
		{"unknown table key", "[[landscape]]\nname = 'w'\npreset = 'wells'\n[landscape.quick]\nchainz = 2\n", []string{"landscape.quick.chainz"}},
		{"landscape burn-in", "[[landscape]]\nname = 'w'\npreset = 'wells'\nburnin = 2\n", []string{"burnin"}},
		{"syntax", "[[problem]\nname = 'a'\n", []string{"line "}},
		{"wrong type", "[[problem]]\nname = 'a'\ndata = 'iris'\nmodel = 'softmax'\nlr = 0.1\nbatch = [8]\n", []string{"lr"}},
		{"bad simulator", "[[problem]]\nname = 'a'\ndata = 'iris'\nmodel = 'softmax'\nlr = [0.1]\nbatch = [8]\nsimulators = ['langevin']\n", []string{"simulators", "langevin"}},
		{"bad preset", "[[landscape]]\nname = 'w'\npreset = 'valley'\n", []string{"preset", "valley"}},
		{"quick burn-in", "[[problem]]\nname = 'a'\ndata = 'iris'\nmodel = 'softmax'\nlr = [0.1]\nbatch = [8]\nsteps = 100\nburnin = 10\n[problem.quick]\nsteps = 5\n", []string{"quick", "burnin"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := writeFile(t, dir, strings.ReplaceAll(c.name, " ", "_")+".toml", c.text)
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(c.name, " ", "_"))
			args := []string{"run", "--config", cfg, "--out", out}
			if c.name == "quick burn-in" {
				args = append(args, "--quick")
			}
			code, _, stderr := runCmd(t, args...)
			// A study file's text is what the user typed: exit 2 (issue 14).
			if code != 2 || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("code %d, stderr %q", code, stderr)
			}
			for _, s := range append(c.substr, filepath.Base(cfg)) {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q does not name %q", stderr, s)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output directory was created for an invalid study")
			}
		})
	}
}

// TestRunRefusesForeignDirectory: --out naming a non-empty directory that is not a report
// is refused.
func TestRunRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "thesis.tex", "precious")
	cfg := writeFile(t, t.TempDir(), "s.toml", tinyStudy)
	code, _, stderr := runCmd(t, "run", "--config", cfg, "--out", dir)
	if code != 1 || !strings.Contains(stderr, "refusing") {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
}

// TestPrintDefault: --print-default prints the embedded study, which parses.
func TestPrintDefault(t *testing.T) {
	code, stdout, _ := runCmd(t, "run", "--print-default")
	if code != 0 {
		t.Fatal(code)
	}
	if _, err := study.Parse([]byte(stdout), "printed", ""); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultStudyFlags: every step of the default study (full and quick) passes its
// subcommand's flag parsing (each command is run with its arguments and a final -h, which
// stops before any work once every earlier flag is known).
func TestDefaultStudyFlags(t *testing.T) {
	for _, quick := range []bool{false, true} {
		s := study.Default()
		if quick {
			var err error
			if s, err = s.Quick(); err != nil {
				t.Fatal(err)
			}
		}
		for _, st := range s.Steps() {
			c := commands[st.Command]
			if c == nil {
				t.Logf("%s: `sgdprior %s` is not registered yet; its flags are not checked", st.ID, st.Command)
				continue
			}
			e := &env{stdout: io.Discard, stderr: io.Discard, cmdline: []string{"sgdprior", st.Command}}
			err := c.run(context.Background(), e, append(append([]string{}, st.Args...), "-h"))
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%s: %s: %v", st.ID, st.CommandLine(), err)
			}
		}
	}
}
