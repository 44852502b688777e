package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

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

// skipUnregistered, set only by tests, drops the steps whose subcommand this build does not
// register (instead of refusing the study), so that the runner can be tested while the
// subcommands are being written. The dropped steps are listed in the results.
var skipUnregistered = false

// runStudy is the main job: it expands a study file into the steps `train`, `score`,
// `verify` and `landscape`, runs each subcommand in-process with --json pointing into the
// output directory, merges the JSON outputs with the steps' command lines into
// results.json, and renders the report from results.json alone.
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
	steps := s.Steps(*out)
	var run, skipped []study.Step
	for _, st := range steps {
		if commands[st.Command] != nil {
			run = append(run, st)
			continue
		}
		if !skipUnregistered {
			return fmt.Errorf("step %s needs `sgdprior %s`, which this build does not have yet; remove the %s entries from the study (--config) or use a build that has it",
				st.ID, st.Command, st.Command)
		}
		skipped = append(skipped, st)
	}
	if err := prepareOut(*out, s); err != nil {
		return err
	}
	res := &study.Results{Version: version, CommandLine: e.cmdline, StudyFile: name, Quick: *quick, Study: s, Skipped: skipped}
	prog := newProgress(e.stdout)
	fmt.Fprintf(e.stdout, "sgdprior %s: %d steps of %s%s into %s\n", version, len(run), name, map[bool]string{true: " (quick)"}[*quick], *out)
	start := time.Now()
	for i, st := range run {
		sr, err := runStep(ctx, e, prog, *out, st, i, len(run))
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

// runStep runs one step in-process: its readable output goes to logs/<entry>-<step>.txt,
// and on a terminal its latest line is shown in the progress line.
func runStep(ctx context.Context, e *env, prog *progress, out string, st study.Step, i, n int) (*study.StepResult, error) {
	head := fmt.Sprintf("[%d/%d] %s", i+1, n, st.Title)
	if prog.tty {
		prog.update(fitTerminal(e.stdout, head), float64(i)/float64(n))
	} else {
		fmt.Fprintf(e.stdout, "%s …\n", head)
	}
	logPath := filepath.Join(out, "logs", strings.ReplaceAll(st.ID, "/", "-")+".txt")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "$ %s\n", st.CommandLine())
	var w io.Writer = logf
	if prog.tty {
		w = &liveWriter{w: logf, prog: prog, head: head, frac: float64(i) / float64(n)}
	}
	sub := &env{stdout: w, stderr: w, cmdline: append([]string{"sgdprior", st.Command}, st.Args...)}
	// A stale output from an earlier run must not pass for this one.
	if err := os.Remove(st.JSON); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	t0 := time.Now()
	err = commands[st.Command].run(ctx, sub, st.Args)
	if prog.tty && prog.shown {
		// The step's own line replaces its progress bar.
		fmt.Fprint(e.stdout, "\r\x1b[K")
		prog.shown = false
	}
	if err != nil {
		return nil, fmt.Errorf("step %s failed: %s (log: %s; to rerun it alone: %s)", st.ID, oneLine(err.Error()), logPath, st.CommandLine())
	}
	raw, err := os.ReadFile(st.JSON)
	if err != nil {
		return nil, fmt.Errorf("step %s wrote no JSON output: %v", st.ID, err)
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("step %s: %s is not valid JSON", st.ID, st.JSON)
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", head, time.Since(t0).Round(100*time.Millisecond))
	return &study.StepResult{Step: st, CommandLine: st.CommandLine(), Output: bytes.TrimSpace(raw)}, nil
}

// liveWriter copies a step's output to its log and shows its latest complete line in the
// terminal's progress line.
type liveWriter struct {
	w    io.Writer
	prog *progress
	head string
	frac float64
	line []byte
}

func (l *liveWriter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	l.line = append(l.line, p[:n]...)
	if k := bytes.LastIndexAny(l.line, "\r\n"); k >= 0 {
		last := l.line[:k]
		if j := bytes.LastIndexAny(last, "\r\n"); j >= 0 {
			last = last[j+1:]
		}
		if msg := strings.TrimSpace(string(last)); msg != "" {
			l.prog.update(fitTerminal(l.prog.w, l.head+": "+msg), l.frac)
		}
		l.line = append(l.line[:0], l.line[k+1:]...)
	}
	return n, err
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

// printVerdicts lists the verdicts on stdout, one line each.
func printVerdicts(w io.Writer, res *study.Results) {
	mark := map[string]string{study.Holds: "yes    ", study.Fails: "no     ", study.Partly: "partly ", study.Unknown: "?      ", study.Info: "·      "}
	for _, en := range res.Summary.Entries {
		fmt.Fprintf(w, "%s\n", en.Name)
		for _, v := range en.Verdicts {
			fmt.Fprintf(w, "  %s%s  (%s)\n", mark[v.Status], v.Topic, v.Step)
		}
	}
	if n := len(res.Summary.Warnings); n > 0 {
		fmt.Fprintf(w, "%d warnings: see the report\n", n)
	}
	for _, st := range res.Skipped {
		fmt.Fprintf(w, "skipped %s: this build has no `sgdprior %s`\n", st.ID, st.Command)
	}
}
