package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/report"
	"github.com/sgdprior/sgdprior/study"
)

func init() {
	register(&command{
		name:    "run",
		summary: "run a study (default: the embedded one) and write its report (what `sgdprior` with no arguments does)",
		run:     runStudy,
	})
}

const runSynopsis = "[--config study.toml] [--quick] [--out DIR] [--print-default]"

// runStudy is the main job: it expands a study file into typed steps (train, score,
// verify, landscape), runs each by calling the library directly (study.Step.Exec) with
// its output under the output directory, merges the outputs with the steps' rendered
// command lines into results.json, and renders the report from results.json alone.
func runStudy(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "run", runSynopsis)
	config := fs.String("config", "", "study file (TOML); default: the embedded default study (see --print-default)")
	quick := fs.Bool("quick", false, "run the reduced version of the study (each entry's [quick] table): under a minute on 2 cores for the default")
	out := fs.String("out", "sgdprior-report", "output directory: report.html, results.json, figures/, tables/, and each step's files")
	printDefault := fs.Bool("print-default", false, "print the embedded default study file (a template for your own) and exit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *printDefault {
		_, err := e.stdout.Write(study.DefaultSource())
		return err
	}
	if *out == "" {
		return usagef("--out must name a directory")
	}
	var s *study.Study
	name := study.DefaultName
	if *config != "" {
		var err error
		if s, err = study.Load(*config); err != nil {
			return err
		}
		name = *config
	} else {
		s = study.Default()
	}
	if *quick {
		var err error
		if s, err = s.Quick(); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	steps := s.Steps()
	if err := prepareOut(*out, s); err != nil {
		return err
	}
	res := &study.Results{Version: version, CommandLine: e.cmdline, StudyFile: name, Quick: *quick, Study: s}
	prog := newProgress(e.stdout)
	fmt.Fprintf(e.stdout, "sgdprior %s: %d steps of %s%s into %s\n", version, len(steps), name, map[bool]string{true: " (quick)"}[*quick], *out)
	start := time.Now()
	for i := range steps {
		sr, err := runStep(ctx, e, prog, *out, &steps[i], i, len(steps))
		if err != nil {
			return err
		}
		res.Steps = append(res.Steps, *sr)
	}
	res.Summary = study.Summarize(res)
	resultsPath := filepath.Join(*out, study.ResultsFile)
	if err := res.Write(resultsPath); err != nil {
		return err
	}
	if err := renderReport(res, *out); err != nil {
		return err
	}
	printVerdicts(e.stdout, res)
	fmt.Fprintf(e.stdout, "done in %s: %s, %s\n", time.Since(start).Round(100*time.Millisecond),
		filepath.Join(*out, report.HTMLFile), resultsPath)
	return nil
}

// prepareOut creates the output directory and the entries' subdirectories. It refuses a
// non-empty directory that is not a previous report (one without results.json), so that a
// mistyped --out cannot litter a user's directory.
func prepareOut(out string, s *study.Study) error {
	if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
		if _, err := os.Stat(filepath.Join(out, study.ResultsFile)); err != nil {
			return fmt.Errorf("--out %s is a non-empty directory without %s: refusing to write into it (choose a new directory)", out, study.ResultsFile)
		}
	}
	dirs := []string{out, filepath.Join(out, "logs")}
	for _, p := range s.Problems {
		dirs = append(dirs, filepath.Join(out, p.Name))
	}
	for _, l := range s.Landscapes {
		dirs = append(dirs, filepath.Join(out, l.Name))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// runStep runs one step: its readable summary goes to logs/<entry>-<step>.txt (after its
// command line), and on a terminal its progress is shown in the progress line.
func runStep(ctx context.Context, e *env, prog *progress, out string, st *study.Step, i, n int) (sr *study.StepResult, err error) {
	head := fmt.Sprintf("[%d/%d] %s", i+1, n, st.Title)
	frac := float64(i) / float64(n)
	if prog.tty {
		prog.update(fitTerminal(e.stdout, head), frac)
	} else {
		fmt.Fprintf(e.stdout, "%s …\n", head)
	}
	logPath := filepath.Join(out, "logs", strings.ReplaceAll(st.ID, "/", "-")+".txt")
	var log bytes.Buffer
	fmt.Fprintf(&log, "$ cd %s && %s\n", out, st.CommandLine())
	defer func() {
		if werr := atomicfile.Write(logPath, func(w io.Writer) error { _, err := w.Write(log.Bytes()); return err }); werr != nil && err == nil {
			sr, err = nil, werr
		}
	}()
	// A stale output from an earlier run must not pass for this one.
	jsonPath := filepath.Join(out, st.JSON)
	if err := os.Remove(jsonPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	t0 := time.Now()
	env := study.Env{Dir: out, Version: version, Progress: stageProgress(st, func(msg string, f float64) {
		fmt.Fprintln(&log, msg)
		if prog.tty {
			prog.update(fitTerminal(prog.w, head+": "+msg), frac)
		}
	})}
	o, err := st.Exec(ctx, env)
	if prog.tty && prog.shown {
		// The step's own line replaces its progress bar.
		fmt.Fprint(e.stdout, "\r\x1b[K")
		prog.shown = false
	}
	if err != nil {
		fmt.Fprintf(&log, "error: %v\n", err)
		return nil, fmt.Errorf("step %s failed: %s (log: %s; to rerun it alone: cd %s && %s)", st.ID, oneLine(err.Error()), logPath, out, st.CommandLine())
	}
	printOutcome(&log, st, o)
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, fmt.Errorf("step %s wrote no JSON output: %v", st.ID, err)
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", head, time.Since(t0).Round(100*time.Millisecond))
	return &study.StepResult{Step: *st, CommandLine: st.CommandLine(), Output: bytes.TrimSpace(raw)}, nil
}

// fitTerminal shortens a progress message so that it fits on one line of the terminal w
// beside the progress bar (a wrapped line could not be redrawn in place).
func fitTerminal(w io.Writer, msg string) string {
	width := 80
	if f, ok := w.(*os.File); ok {
		if c, _, err := term.GetSize(int(f.Fd())); err == nil && c > 0 {
			width = c
		}
	}
	room := width - 34 // the bar "[…] " is 33 columns
	if r := []rune(msg); room > 1 && len(r) > room {
		return string(r[:room-1]) + "…"
	}
	return msg
}

// renderReport builds the report from res and writes it to dir.
func renderReport(res *study.Results, dir string) error {
	rep, err := report.Build(res)
	if err != nil {
		return err
	}
	return rep.Write(dir)
}

// statusMarks word each verdict status in the console's first column.
var statusMarks = map[string]string{study.Holds: "holds", study.Fails: "fails", study.Partly: "partly", study.Inconclusive: "inconclusive",
	study.Unknown: "unknown", study.Info: "·"}

// printVerdicts lists the verdicts on stdout, one line each: the status, the question and
// its short answer (the names of the matching predictions, "none", "inconclusive", …) in
// aligned columns, then the step.
func printVerdicts(w io.Writer, res *study.Results) {
	markWidth := 0
	for _, m := range statusMarks {
		markWidth = max(markWidth, utf8.RuneCountInString(m))
	}
	pad := func(s string, n int) string { return s + strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s))) }
	for _, en := range res.Summary.Entries {
		fmt.Fprintf(w, "%s\n", en.Name)
		topicWidth := 0
		for _, v := range en.Verdicts {
			topicWidth = max(topicWidth, utf8.RuneCountInString(v.Topic))
		}
		for _, v := range en.Verdicts {
			mark, ok := statusMarks[v.Status]
			if !ok {
				mark = v.Status
			}
			short := v.Short
			if short == "" {
				short = "—"
			}
			fmt.Fprintf(w, "  %s  %s  %s  (%s)\n", pad(mark, markWidth), pad(v.Topic, topicWidth), short, v.Step)
		}
	}
	if n := len(res.Summary.Warnings); n > 0 {
		fmt.Fprintf(w, "%d warnings: see the report\n", n)
	}
}
