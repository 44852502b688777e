package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/slurm"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/study"
)

// slurmSettings are the resources each task asks for. Zero values are estimated from the
// steps' sizes (estimateMemMB) or take the defaults below; a study's [slurm] table sets
// them too, the flags win.
type slurmSettings struct {
	partition string
	minutes   int
	memMB     int
	cpus      int
}

// The SLURM defaults: a step of the default study takes seconds to minutes; a task that
// outruns its time limit is reported as failed with its log, and resubmitted by a resume
// with --slurm-time raised.
const (
	defaultSlurmMinutes = 60
	defaultSlurmCPUs    = 2
)

func (s *slurmSettings) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.partition, "slurm-partition", "", "slurm: partition of every task (default: the cluster's default partition)")
	fs.IntVar(&s.minutes, "slurm-time", 0, fmt.Sprintf("slurm: time limit of each task in minutes (default %d)", defaultSlurmMinutes))
	fs.IntVar(&s.memMB, "slurm-mem", 0, "slurm: memory of each task in MB (default: estimated from the largest step of each level)")
	fs.IntVar(&s.cpus, "slurm-cpus", 0, fmt.Sprintf("slurm: CPUs of each task (default %d; a step's results do not depend on it)", defaultSlurmCPUs))
}

// fill takes the study's [slurm] keys for the flags not given.
func (s *slurmSettings) fill(keys *study.Slurm) {
	if keys == nil {
		return
	}
	if s.partition == "" {
		s.partition = keys.Partition
	}
	if s.minutes == 0 {
		s.minutes = keys.Time
	}
	if s.memMB == 0 {
		s.memMB = keys.Mem
	}
	if s.cpus == 0 {
		s.cpus = keys.CPUs
	}
}

func (s *slurmSettings) validate() error {
	switch {
	case s.minutes < 0:
		return usagef("--slurm-time: %d, want minutes > 0", s.minutes)
	case s.memMB < 0:
		return usagef("--slurm-mem: %d, want MB > 0", s.memMB)
	case s.cpus < 0:
		return usagef("--slurm-cpus: %d, want at least 1", s.cpus)
	case strings.ContainsAny(s.partition, " \t\n,'\"\\"):
		return usagef("--slurm-partition: %q is not a partition name", s.partition)
	}
	return nil
}

// estimateMemMB is a memory request for a step on pr: the data, a few dense d×d matrices
// when score or verify forms them (d ≤ the dense limit), the chains' parameters, and the
// runtime's own, with a factor 2 of headroom, rounded up to 256 MB.
func estimateMemMB(st *study.Step, pr *problem.Problem) int {
	const mb = 1 << 20
	bytes := 256.0 * mb
	if pr != nil {
		r, c := pr.Data.X.Dims()
		d := float64(pr.D())
		bytes += 3 * 8 * float64(r) * float64(c) // the design matrix and its copies
		if d <= 5000 && (st.Command == study.KindScore || st.Command == study.KindVerify) {
			bytes += 8 * 8 * d * d
		}
		bytes += 8 * 64 * d * 16
	}
	mbs := int(2*bytes/mb+255) / 256 * 256
	return mbs
}

// slurmClient is the client of the cluster sbatch and squeue reach (SLURM_CONF and PATH
// from the environment).
func slurmClient() *slurm.Client { return &slurm.Client{} }

// runSlurm writes the plan and submits one job array per dependency level of the steps to
// run, each level after the one below it (afterok; --kill-on-invalid-dep=yes, so that a
// failed task's dependents are cancelled, not left pending). It reports whether it
// submitted anything; unless --no-wait it waits for the arrays and checks that every task
// recorded its step as finished, else it lists the failed tasks with their logs.
func (r *studyRun) runSlurm(ctx context.Context, e *env, xs *executorSettings, keys *study.Slurm) (bool, error) {
	xs.slurm.fill(keys)
	if err := r.writePlan(e, xs); err != nil {
		return false, err
	}
	levels := r.plan.Levels()
	if len(levels) == 0 {
		return false, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return false, err
	}
	out, err := filepath.Abs(r.out)
	if err != nil {
		return false, err
	}
	script := filepath.Join(out, study.LogsDir, "slurm", "task.sh")
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		return false, err
	}
	// GOMAXPROCS follows the task's CPUs; the results do not depend on it.
	text := "#!/bin/sh\n# One task of the plan beside it: the step at index $SLURM_ARRAY_TASK_ID.\n" +
		"export GOMAXPROCS=\"${SLURM_CPUS_PER_TASK:-1}\"\n" +
		"exec " + taskCommand(exe, filepath.Join(out, study.PlanFile)) + "\n"
	if err := atomicfile.WriteBytes(script, []byte(text)); err != nil {
		return false, err
	}
	if err := os.Chmod(script, 0o755); err != nil {
		return false, err
	}
	mem, err := r.levelMemory(levels, xs.slurm.memMB)
	if err != nil {
		return false, err
	}
	c := slurmClient()
	var jobs []string
	for k, idx := range levels {
		job := slurm.Job{Name: fmt.Sprintf("sgdprior-L%d", k), Script: script, Indices: idx, Partition: xs.slurm.partition,
			Minutes: orDefault(xs.slurm.minutes, defaultSlurmMinutes), MemMB: mem[k], CPUs: orDefault(xs.slurm.cpus, defaultSlurmCPUs),
			Output: filepath.Join(out, study.LogsDir, "slurm", "%A_%a.txt"), Dir: out}
		if k > 0 {
			job.AfterOK = []string{jobs[k-1]}
		}
		id, err := c.SubmitArray(ctx, job)
		if err != nil {
			if len(jobs) > 0 {
				err = fmt.Errorf("%v (jobs %s were submitted: scancel them)", err, strings.Join(jobs, ", "))
			}
			return false, err
		}
		jobs = append(jobs, id)
		fmt.Fprintf(e.stdout, "slurm: submitted level %d (%d tasks: %s) as job %s\n", k, len(idx), slurm.FormatArray(idx), id)
	}
	r.plan.Jobs = jobs
	if err := r.plan.Write(r.out); err != nil {
		return true, err
	}
	if xs.noWait {
		fmt.Fprintf(e.stdout, "slurm: not waiting; when squeue shows none of jobs %s: sgdprior report --from %s\n", strings.Join(jobs, ", "), r.out)
		return true, nil
	}
	if err := c.Wait(ctx, jobs, func(msg string) { fmt.Fprintf(e.stdout, "slurm: %s\n", msg) }); err != nil {
		return true, err
	}
	return true, r.collect(e)
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// levelMemory is the memory request of each level's array: memMB when set, else the
// largest estimate among its steps (one problem load per entry).
func (r *studyRun) levelMemory(levels [][]int, memMB int) ([]int, error) {
	mem := make([]int, len(levels))
	loaded := map[string]*problem.Problem{}
	for k, idx := range levels {
		for _, i := range idx {
			if memMB > 0 {
				mem[k] = memMB
				continue
			}
			st := &r.steps[i]
			var pr *problem.Problem
			if st.Spec != nil {
				if pr = loaded[st.Entry]; pr == nil {
					var err error
					if pr, err = problem.Load(*st.Spec); err != nil {
						return nil, err
					}
					loaded[st.Entry] = pr
				}
			}
			mem[k] = max(mem[k], estimateMemMB(st, pr))
		}
	}
	return mem, nil
}

// collect folds the task records into the manifest and checks that every step to run has
// finished; the others are listed with their logs.
func (r *studyRun) collect(e *env) error {
	if _, err := r.man.FoldTaskRecords(r.out, r.steps); err != nil {
		return err
	}
	r.sortManifest()
	if err := r.man.Write(r.out); err != nil {
		return err
	}
	var failed []string
	for _, i := range r.unfinished(r.run) {
		t := r.plan.Tasks[i]
		logs := []string{filepath.Join(r.out, study.LogsDir, stepLogName(r.steps[i]))}
		if t.Level >= 0 && t.Level < len(r.plan.Jobs) {
			logs = append([]string{filepath.Join(r.out, study.LogsDir, "slurm", fmt.Sprintf("%s_%d.txt", r.plan.Jobs[t.Level], i))}, logs...)
		}
		fmt.Fprintf(e.stdout, "slurm: task %d (%s) did not finish: %s%s\n", i, r.steps[i].ID, strings.Join(logs, ", "), lastLine(logs))
		failed = append(failed, fmt.Sprint(i))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of the submitted tasks did not finish (tasks %s; their logs are listed above): `sgdprior run --resume` with the same flags resubmits them and their dependents", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// unfinished lists the steps marked in only that have no record of finishing under the
// run's program in its manifest.
func (r *studyRun) unfinished(only []bool) []int {
	var out []int
	for i := range r.steps {
		if only[i] && r.man.Finished(r.out, r.program, &r.steps[i]) == nil {
			out = append(out, i)
		}
	}
	return out
}

// lastLine is ": " and the last non-empty line of the first existing log of logs, or "" (a
// task killed before it wrote anything).
func lastLine(logs []string) string {
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
			return ": " + l
		}
	}
	return ""
}

// writePlan writes the plan of the steps to run to the output directory, and for the plan
// executor says how to run it.
func (r *studyRun) writePlan(e *env, xs *executorSettings) error {
	r.plan.SetTasks(r.program, r.steps, r.run)
	if err := r.plan.Write(r.out); err != nil {
		return err
	}
	if xs.name != executorPlan {
		return nil
	}
	levels := r.plan.Levels()
	if len(levels) == 0 {
		fmt.Fprintf(e.stdout, "plan: every step has finished\n")
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	planPath, err := filepath.Abs(filepath.Join(r.out, study.PlanFile))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "plan: %s: %d tasks in %d levels; run each level's tasks (in any order, in parallel), level after level:\n", planPath, countRun(r.run), len(levels))
	for k, idx := range levels {
		fmt.Fprintf(e.stdout, "  level %d: %s --index I, for I in %s (or --level %d --index K, for K in 0-%d)\n", k, taskCommand(exe, planPath), slurm.FormatArray(idx), k, len(idx)-1)
	}
	fmt.Fprintf(e.stdout, "then merge: sgdprior report --from %s\n", r.out)
	return nil
}

func countRun(run []bool) int {
	n := 0
	for _, b := range run {
		if b {
			n++
		}
	}
	return n
}

// checkQueued refuses an output directory whose earlier run's SLURM jobs (recorded in its
// plan) still have tasks pending or running: a second run would write the same files.
// Without squeue here (a directory moved off the cluster) there is nothing to check.
func checkQueued(ctx context.Context, out string) error {
	path := filepath.Join(out, study.PlanFile)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	plan, err := study.ReadPlan(path)
	if err != nil || plan.Executor != executorSlurm || len(plan.Jobs) == 0 {
		return err
	}
	if _, err := exec.LookPath("squeue"); err != nil {
		return nil
	}
	states, err := slurmClient().States(ctx, plan.Jobs)
	if err != nil {
		return err
	}
	active := 0
	for _, st := range states {
		if !slurm.Terminal(st) {
			active++
		}
	}
	if active > 0 {
		return fmt.Errorf("--out %s: %d tasks of its SLURM jobs %s are still pending or running (%s): wait for them, or scancel them, before running into it again", out, active, strings.Join(plan.Jobs, ", "), slurm.Summary(states))
	}
	return nil
}
