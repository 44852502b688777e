package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/sgdprior/sgdprior/basins"
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

const runSynopsis = "[--config study.toml] [--quick] [--seeds S1,S2,…] [--out DIR] [--executor local|slurm|plan] [--jobs N] [--no-wait] [--print-default]"

// runStudy is the main job: it expands a study file into typed steps (train, score,
// verify, landscape, …), has an executor run the ones not finished before (each by calling
// the library directly, study.Step.Exec, with its output under the output directory), and
// merges the outputs with the steps' rendered command lines into results.json, from which
// alone the report is rendered. The executors: local (this process, --jobs steps at a
// time, dependencies respected), slurm (one job array per dependency level, each task
// `sgdprior task --plan` of one step) and plan (the plan file alone, for another driver).
// Every executor writes the same bytes.
func runStudy(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "run", runSynopsis)
	config := fs.String("config", "", "study file (TOML); default: the embedded default study (see --print-default)")
	quick := fs.Bool("quick", false, "run the reduced version of the study (each entry's [quick] table): under a minute on 2 cores for the default")
	out := fs.String("out", "sgdprior-report", "output directory: report.html, results.json, figures/, tables/, and each step's files")
	resume := fs.Bool("resume", false, "continue an interrupted or failed run in --out (a rerun into the same --out does so too; this flag also refuses a directory with no run to resume)")
	printDefault := fs.Bool("print-default", false, "print the embedded default study file (a template for your own) and exit")
	var seeds basins.SeedList
	fs.Var(&seeds, "seeds", "comma-separated seeds: replicate every stochastic step once per seed (replaces the study's seed and seeds), and aggregate each verdict over them")
	var xs executorSettings
	xs.bindFlags(fs)
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
	if err := xs.validate(); err != nil {
		return err
	}
	plan := &study.Plan{StudyFile: study.DefaultName, Source: string(study.DefaultSource()), Quick: *quick,
		Seeds: seeds, CommandLine: e.cmdline, Executor: xs.name}
	if *config != "" {
		if err := plan.SetStudyFile(*config); err != nil {
			return err
		}
	}
	s, err := plan.Study()
	if err != nil {
		return flagError(err)
	}
	steps := s.Steps()
	r := &studyRun{out: *out, steps: steps, needs: study.Needs(steps), plan: plan,
		// A finished step is kept only for the same program: its version and the SHA-256 of
		// the executable (a rebuilt binary reruns every step).
		program: version + "+" + executableID()}
	if err := checkQueued(ctx, *out); err != nil {
		return err
	}
	prev, err := r.prepare(*resume)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "sgdprior %s: %d steps of %s%s into %s\n", version, len(steps), plan.StudyFile, map[bool]string{true: " (quick)"}[*quick], *out)
	start := time.Now()
	kept := r.keep(e, prev)
	if err := r.man.Write(*out); err != nil {
		return err
	}
	switch xs.name {
	case executorLocal:
		err = r.runLocal(ctx, e, xs.jobs)
	case executorSlurm:
		var submitted bool
		if submitted, err = r.runSlurm(ctx, e, &xs, s.Slurm); err == nil && submitted && xs.noWait {
			return nil
		}
	case executorPlan:
		if err = r.writePlan(e, &xs); err == nil && slices.Contains(r.run, true) {
			return nil
		}
	}
	if err != nil {
		return err
	}
	if kept > 0 {
		note := fmt.Sprintf("%s: resumed %s: %d of %d steps kept from the earlier run\n", time.Now().UTC().Format(time.RFC3339), strings.Join(e.cmdline, " "), kept, len(steps))
		fmt.Fprint(e.stdout, note)
		if err := appendLog(filepath.Join(*out, study.LogsDir, resumeLog), note); err != nil {
			return err
		}
	}
	res, err := r.merge(s)
	if err != nil {
		return err
	}
	printVerdicts(e.stdout, res)
	fmt.Fprintf(e.stdout, "done in %s: %s, %s\n", time.Since(start).Round(100*time.Millisecond),
		filepath.Join(*out, report.HTMLFile), filepath.Join(*out, study.ResultsFile))
	return nil
}

// studyRun is one run of a study into an output directory.
type studyRun struct {
	out     string
	steps   []study.Step
	needs   [][]int // study.Needs(steps)
	plan    *study.Plan
	program string
	// man is the manifest: the finished steps. run marks the steps this run executes: the
	// ones not finished before, and their dependents.
	mu  sync.Mutex
	man *study.Manifest
	run []bool
}

// prepare reads the manifest of an earlier run in the output directory, folds into it the
// records of the tasks an executor ran, and prepares the directory (prepareOut). It returns
// that manifest (nil when there is none).
func (r *studyRun) prepare(resume bool) (*study.Manifest, error) {
	prev, err := study.ReadManifest(r.out)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		n, err := prev.FoldTaskRecords(r.out, r.steps)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			if err := prev.Write(r.out); err != nil {
				return nil, err
			}
		}
	}
	if err := prepareOut(r.out, r.steps, prev, resume); err != nil {
		return nil, err
	}
	return prev, nil
}

// keep decides which steps run: a step finished before with the same settings and files is
// kept, unless a step it needs reruns. It sets r.man to the kept steps' records and r.run,
// prints the kept steps, and returns how many there are.
func (r *studyRun) keep(e *env, prev *study.Manifest) int {
	r.man = keptSteps(prev, r.steps)
	r.run = make([]bool, len(r.steps))
	for i := range r.steps {
		r.run[i] = r.man.Finished(r.out, r.program, &r.steps[i]) == nil
	}
	r.run = study.WithDependents(r.needs, r.run)
	kept := 0
	for i := range r.steps {
		if r.run[i] {
			id := r.steps[i].ID
			r.man.Steps = slices.DeleteFunc(r.man.Steps, func(ms study.ManifestStep) bool { return ms.ID == id })
			continue
		}
		fmt.Fprintf(e.stdout, "[%d/%d] %s: kept from the earlier run\n", i+1, len(r.steps), r.steps[i].Title)
		kept++
	}
	r.sortManifest()
	return kept
}

// finished records step i as finished in the manifest, which is rewritten.
func (r *studyRun) finished(i int) error {
	rec, err := study.Record(r.out, r.program, &r.steps[i])
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.man.Steps = append(r.man.Steps, rec)
	r.sortManifest()
	return r.man.Write(r.out)
}

// sortManifest puts the manifest's records in the study's order, whichever order the steps
// finished in, so that every executor writes the same manifest.
func (r *studyRun) sortManifest() {
	pos := map[string]int{}
	for i := range r.steps {
		pos[r.steps[i].ID] = i
	}
	slices.SortStableFunc(r.man.Steps, func(a, b study.ManifestStep) int { return pos[a.ID] - pos[b.ID] })
}

// merge reads every step's output, in the study's order, into results.json, summarises it
// and renders the report. Every step must have finished.
func (r *studyRun) merge(s *study.Study) (*study.Results, error) {
	p := r.plan
	res := &study.Results{Version: version, CommandLine: p.CommandLine, StudyFile: p.StudyFile, Quick: p.Quick, Study: s, Executor: p.Executor}
	for i := range r.steps {
		st := &r.steps[i]
		raw, err := os.ReadFile(filepath.Join(r.out, st.JSON))
		if err != nil {
			return nil, fmt.Errorf("step %s wrote no JSON output: %v", st.ID, err)
		}
		res.Steps = append(res.Steps, study.StepResult{Step: *st, CommandLine: st.CommandLine(), Output: bytes.TrimSpace(raw)})
	}
	res.Summary = study.Summarize(res)
	if err := res.Write(filepath.Join(r.out, study.ResultsFile)); err != nil {
		return nil, err
	}
	return res, renderReport(res, r.out)
}

// resumeLog is the log of the resumes of a run directory (logs/resume.txt): a resumed run's
// outputs are byte-identical to an uninterrupted run's, and the resume is recorded here.
const resumeLog = "resume.txt"

// keptSteps is the manifest of this run to start from: the records of prev whose steps are
// in the plan (nil prev: none).
func keptSteps(prev *study.Manifest, steps []study.Step) *study.Manifest {
	m := &study.Manifest{}
	if prev == nil {
		return m
	}
	ids := map[string]bool{}
	for _, st := range steps {
		ids[st.ID] = true
	}
	for _, ms := range prev.Steps {
		if ids[ms.ID] {
			m.Steps = append(m.Steps, ms)
		}
	}
	return m
}

// appendLog appends a line to a log file, atomically (the whole file rewritten).
func appendLog(path, line string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(old); err != nil {
			return err
		}
		_, err := io.WriteString(w, line)
		return err
	})
}

// prepareOut creates the output directory and the entries' subdirectories; prev is the
// manifest of an earlier run in it (nil when there is none). It refuses a non-empty
// directory that is neither an earlier run (ManifestFile) nor a finished report
// (results.json), so that a mistyped --out cannot litter a user's directory; resume refuses
// a directory with no earlier run. In a directory of an earlier run every file this run
// would not write is removed (results.json, the report, figures and tables are rebuilt at
// the end; the files of entries and steps no longer in the study, stale temporary files),
// so that nothing of the earlier run passes for this one.
func prepareOut(out string, steps []study.Step, prev *study.Manifest, resume bool) error {
	ents, err := os.ReadDir(out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(ents) > 0 {
		if prev == nil {
			if _, err := os.Stat(filepath.Join(out, study.ResultsFile)); err != nil {
				return fmt.Errorf("--out %s is a non-empty directory without %s: refusing to write into it (choose a new directory)", out, study.ResultsFile)
			}
		}
		if err := removeStale(out, steps); err != nil {
			return err
		}
	}
	if resume && prev == nil {
		return usagef("--resume: %s holds no run to resume (%s is missing)", out, study.ManifestFile)
	}
	dirs := []string{out, filepath.Join(out, study.LogsDir)}
	for _, st := range steps {
		dirs = append(dirs, filepath.Join(out, st.Entry))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// removeStale removes from the directory of an earlier run every file and directory that the
// steps would not write: what is kept is the manifest, logs/resume.txt, and per step its
// output files, its side files (study.Step.SideFilePrefix) and its log. Only names read from the directory itself are removed, and
// only inside it.
func removeStale(out string, steps []study.Step) error {
	keep := map[string]bool{study.ManifestFile: true, filepath.Join(study.LogsDir, resumeLog): true}
	dirs := map[string]bool{study.LogsDir: true}
	var sidePrefixes []string
	for _, st := range steps {
		sidePrefixes = append(sidePrefixes, st.SideFilePrefix())
		for _, f := range st.OutputFiles() {
			keep[filepath.Clean(f)] = true
		}
		keep[filepath.Join(study.LogsDir, stepLogName(st))] = true
		dirs[st.Entry] = true
	}
	top, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, t := range top {
		if keep[t.Name()] {
			continue
		}
		if !t.IsDir() || !dirs[t.Name()] {
			if err := os.RemoveAll(filepath.Join(out, t.Name())); err != nil {
				return err
			}
			continue
		}
		sub, err := os.ReadDir(filepath.Join(out, t.Name()))
		if err != nil {
			return err
		}
		for _, f := range sub {
			rel := filepath.Join(t.Name(), f.Name())
			side := f.Type().IsRegular() && slices.ContainsFunc(sidePrefixes, func(p string) bool { return strings.HasPrefix(rel, p) })
			if !keep[rel] && !side {
				if err := os.RemoveAll(filepath.Join(out, rel)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// stepLogName is the name of a step's log in logs/.
func stepLogName(st study.Step) string {
	return strings.ReplaceAll(st.ID, "/", "-") + ".txt"
}

// runStep runs one step: its readable summary goes to logs/<entry>-<step>.txt (after its
// command line), and on a terminal its progress is shown in the progress line.
func runStep(ctx context.Context, e *env, prog *progress, out string, st *study.Step, i, n int) (err error) {
	head := fmt.Sprintf("[%d/%d] %s", i+1, n, st.Title)
	frac := float64(i) / float64(n)
	switch {
	case prog.tty:
		prog.update(fitTerminal(e.stdout, head), frac)
	case !prog.announced:
		fmt.Fprintf(e.stdout, "%s …\n", head)
	}
	logPath := filepath.Join(out, study.LogsDir, stepLogName(*st))
	var log bytes.Buffer
	fmt.Fprintf(&log, "$ cd %s && %s\n", out, st.CommandLine())
	defer func() {
		if werr := atomicfile.Write(logPath, func(w io.Writer) error { _, err := w.Write(log.Bytes()); return err }); werr != nil && err == nil {
			err = werr
		}
	}()
	// A stale output from an earlier run must not pass for this one.
	jsonPath := filepath.Join(out, st.JSON)
	if err := os.Remove(jsonPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	t0 := time.Now()
	// Progress goes to the terminal only, not to the log: parallel runs report in the order
	// they finish, and the log, like every output, is byte-identical across runs.
	env := study.Env{Dir: out, Version: version, Progress: stageProgress(st, func(msg string, f float64) {
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
		return fmt.Errorf("step %s failed: %s (log: %s; to rerun it alone: cd %s && %s)", st.ID, oneLine(err.Error()), logPath, out, st.CommandLine())
	}
	printOutcome(&log, st, o)
	// merge reads the output; here it is only checked for.
	if _, err := os.Stat(jsonPath); err != nil {
		return fmt.Errorf("step %s wrote no JSON output: %v", st.ID, err)
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", head, time.Since(t0).Round(100*time.Millisecond))
	return nil
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
