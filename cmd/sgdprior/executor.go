package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
)

// The executors of `sgdprior run`.
const (
	executorLocal = "local" // this process, --jobs steps at a time
	executorSlurm = "slurm" // SLURM job arrays, one per dependency level
	executorPlan  = "plan"  // the plan file only: another driver runs `sgdprior task`
)

// executorSettings are run's executor flags.
type executorSettings struct {
	name   string
	jobs   int
	noWait bool
	slurm  slurmSettings
}

func (x *executorSettings) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&x.name, "executor", executorLocal, "who runs the steps: local (this process), slurm (job arrays submitted with sbatch, one per dependency level), or plan (write plan.json and stop: run each task with `sgdprior task --plan DIR/plan.json --index I`, level by level, then `sgdprior run --resume` merges)")
	fs.IntVar(&x.jobs, "jobs", 1, "local executor: steps run at a time (independent steps only; each step already uses every core)")
	fs.BoolVar(&x.noWait, "no-wait", false, "slurm: return once the job arrays are submitted; `sgdprior report --from DIR` merges when they have finished")
	x.slurm.bindFlags(fs)
}

func (x *executorSettings) validate() error {
	switch x.name {
	case executorLocal, executorSlurm, executorPlan:
	default:
		return usagef("--executor: %q is not local, slurm or plan", x.name)
	}
	if x.jobs < 1 {
		return usagef("--jobs: %d, want at least 1", x.jobs)
	}
	if x.jobs > 1 && x.name != executorLocal {
		return usagef("--jobs: only the local executor runs steps in this process (the %s executor's tasks are scheduled by it)", x.name)
	}
	if x.noWait && x.name != executorSlurm {
		return usagef("--no-wait: only with --executor slurm")
	}
	return x.slurm.validate()
}

// runFlags are run's flags that choose how, not what: results.json records the command
// line without them, so that every executor writes the same bytes (with its name in the
// executor field). The value says whether the flag takes a value.
var runFlags = map[string]bool{"resume": false, "no-wait": false, "executor": true, "jobs": true,
	"slurm-partition": true, "slurm-time": true, "slurm-mem": true, "slurm-cpus": true}

// lockedWriter serialises the writes of concurrent steps.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// runLocal runs the steps marked in r.run in this process, at most jobs at a time: a step
// starts once every step it needs has finished, and among the ready steps the first in the
// study's order starts first, so that --jobs 1 runs them in the study's order. A failed
// step stops new ones from starting; the running ones finish (and are kept for a resume).
func (r *studyRun) runLocal(ctx context.Context, e *env, jobs int) error {
	n := len(r.steps)
	done := make([]bool, n)
	started := make([]bool, n)
	for i := range done {
		done[i] = !r.run[i]
	}
	prog := newProgress(e.stdout)
	se := e
	if jobs > 1 {
		// Concurrent steps print whole lines, no progress bar.
		var mu sync.Mutex
		se = &env{stdout: lockedWriter{&mu, e.stdout}, stderr: lockedWriter{&mu, e.stderr}, cmdline: e.cmdline}
		prog = &progress{w: se.stdout, announced: true}
	}
	ready := func(i int) bool {
		for _, j := range r.needs[i] {
			if !done[j] {
				return false
			}
		}
		return true
	}
	type result struct {
		i   int
		err error
	}
	results := make(chan result)
	running := 0
	var firstErr error
	failedAt := ""
	for {
		for i := 0; i < n && running < jobs && firstErr == nil && ctx.Err() == nil; i++ {
			if started[i] || done[i] || !ready(i) {
				continue
			}
			started[i] = true
			running++
			if prog.announced {
				fmt.Fprintf(se.stdout, "[%d/%d] %s … (started; %d running)\n", i+1, n, r.steps[i].Title, running)
			}
			go func(i int) {
				err := runStep(ctx, se, prog, r.out, &r.steps[i], i, n)
				if err == nil {
					err = r.finished(i)
				}
				results <- result{i, err}
			}(i)
		}
		if running == 0 {
			break
		}
		res := <-results
		running--
		if res.err != nil {
			if firstErr == nil {
				firstErr, failedAt = res.err, r.steps[res.i].ID
			}
			continue
		}
		done[res.i] = true
	}
	if firstErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("at step %s, with %d steps finished", failedAt, len(r.man.Steps))
		}
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("with %d steps finished: %w", len(r.man.Steps), err)
	}
	return nil
}

// quoteSh quotes s for a POSIX shell.
func quoteSh(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// taskCommand is the command line of the task entry point for the plan in out.
func taskCommand(exe, planPath string) string {
	return quoteSh(exe) + " task --plan " + quoteSh(planPath)
}
