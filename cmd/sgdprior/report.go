package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sgdprior/sgdprior/report"
	"github.com/sgdprior/sgdprior/study"
)

func init() {
	register(&command{
		name:    "report",
		summary: "re-render a study's report from its results.json, without recomputing",
		run:     runReport,
	})
}

// runReport renders report.html, figures/ and tables/ from DIR/results.json. It runs no
// step and recomputes nothing: the verdicts and numbers are those stored in results.json.
// A directory with a plan and no results.json (a run whose tasks an executor ran apart
// from it) is merged first, once every task has finished.
func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "report", "--from DIR [--out DIR2]")
	from := fs.String("from", "", "report directory holding results.json (written by `sgdprior run`)")
	out := fs.String("out", "", "write the report here (default: the --from directory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return usagef("--from is required")
	}
	dst := *out
	if dst == "" {
		dst = *from
	}
	path := filepath.Join(*from, study.ResultsFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(*from, study.PlanFile)); err == nil {
			// The tasks of a plan (run --executor slurm --no-wait, or plan) have run: merge.
			if err := mergePlan(e, *from); err != nil {
				return err
			}
		}
	}
	res, err := study.ReadResults(path)
	if err != nil {
		return err
	}
	if res.Summary == nil {
		return fmt.Errorf("%s: no summary (an interrupted study?)", path)
	}
	// Build checks the names read back (a results.json may come from anyone) before
	// anything is written.
	rep, err := report.Build(res)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if dst != *from {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		// The page links to results.json beside it.
		if err := res.Write(filepath.Join(dst, study.ResultsFile)); err != nil {
			return err
		}
	}
	if err := rep.Write(dst); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", filepath.Join(dst, report.HTMLFile))
	return nil
}

// mergePlan merges the outputs of a plan's tasks in dir into results.json and the report,
// when every task has recorded its step as finished.
func mergePlan(e *env, dir string) error {
	plan, err := study.ReadPlan(filepath.Join(dir, study.PlanFile))
	if err != nil {
		return err
	}
	s, err := plan.Study()
	if err != nil {
		return err
	}
	steps := s.Steps()
	man, err := study.ReadManifest(dir)
	if err != nil {
		return err
	}
	if man == nil {
		return fmt.Errorf("%s: no %s: not the directory of a run", dir, study.ManifestFile)
	}
	if _, err := man.FoldTaskRecords(dir, steps); err != nil {
		return err
	}
	all := make([]bool, len(steps))
	for i := range all {
		all[i] = true
	}
	r := &studyRun{out: dir, steps: steps, needs: study.Needs(steps), plan: plan, program: plan.Program, man: man}
	if missing := r.unfinished(all); len(missing) > 0 {
		ids := make([]string, len(missing))
		for k, i := range missing {
			ids[k] = fmt.Sprint(i)
		}
		return fmt.Errorf("%s: %d of %d tasks have not finished (%s): wait for them (squeue), or rerun `sgdprior run --resume` with the run's flags", dir, len(missing), len(steps), strings.Join(ids, ", "))
	}
	r.sortManifest()
	if err := man.Write(dir); err != nil {
		return err
	}
	_, err = r.merge(s)
	return err
}
