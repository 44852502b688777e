package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sgdprior/sgdprior/internal/slurm"
	"github.com/sgdprior/sgdprior/internal/slurm/slurmtest"
	"github.com/sgdprior/sgdprior/study"
)

// slurmStudy has 13 steps in 2 dependency levels: level 0 the three train steps and the
// landscape, level 1 the score and verify steps. The verify step of "slow" runs for
// seconds, so that it can be killed mid-run.
const slurmStudy = `
title = "a study for the SLURM executor"
seed = 3

[[problem]]
name = "logit"
data = "breast-cancer"
model = "logistic"
weight_decay = 0.05
lr = [0.1, 0.2]
batch = [64]
simulators = ["sgd"]
chains = 4
steps = 1500
burnin = 500

[[problem]]
name = "linreg"
data = "diabetes"
model = "linreg"
lr = [0.2]
batch = [16]
simulators = ["sgd", "gauss"]
chains = 4
steps = 3000
burnin = 500

[[problem]]
name = "slow"
data = "diabetes"
model = "linreg"
lr = [0.3]
batch = [16]
simulators = ["sgd"]
chains = 8
steps = 200000
burnin = 1000
thin = 8

[[landscape]]
name = "wells"
preset = "wells"
chains = 2
steps = 20000
`

// runBinary runs the built sgdprior with env added to the environment; it returns the exit
// code and the combined output.
func runBinary(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return code, string(out)
}

var submittedRE = regexp.MustCompile(`slurm: submitted level (\d+) \((\d+) tasks: ([0-9,-]+)\) as job (\d+)`)

// TestSlurmExecutor runs a study through a one-node SLURM cluster on localhost (Debian's
// slurmctld, slurmd and munge, started by scripts/slurm-localhost): one job array per
// dependency level, each task `sgdprior task --plan`. First with --no-wait, merged by
// `report --from` once the jobs have left the queue: the output equals the local
// executor's byte for byte (results.json's executor field aside). Then a waiting run whose
// long task is killed mid-run (SIGKILL, with no chance to clean up): the run fails naming the task and
// its logs, and run --resume resubmits that task alone, keeps every other, and ends with
// the same bytes.
func TestSlurmExecutor(t *testing.T) {
	c := slurmtest.StartCluster(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "slurm.toml", slurmStudy)
	out := filepath.Join(dir, "out") // one --out for every run: the logs record it
	env := c.Env
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	code, stdout := runBinary(t, bin, nil, "run", "--config", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("local run: exit %d\n%s", code, stdout)
	}
	local := withoutExecutor(t, treeFiles(t, out))

	os.RemoveAll(out)
	start := time.Now()
	code, stdout = runBinary(t, bin, env, "run", "--config", cfg, "--out", out, "--executor", "slurm", "--slurm-cpus", "1", "--no-wait")
	t.Logf("slurm run --no-wait:\n%s", stdout)
	subs := submittedRE.FindAllStringSubmatch(stdout, -1)
	if code != 0 || len(subs) != 2 || subs[0][2] != "4" || subs[1][2] != "9" {
		t.Fatalf("exit %d; submitted %v, want 4 tasks at level 0 and 9 at level 1", code, subs)
	}
	if err := c.Wait(ctx, []string{subs[0][4], subs[1][4]}, func(msg string) { t.Log(msg) }); err != nil {
		t.Fatal(err)
	}
	code, stdout = runBinary(t, bin, env, "report", "--from", out)
	t.Logf("report --from after %.1f s: %s", time.Since(start).Seconds(), stdout)
	logTaskLogs(t, out, 2)
	if code != 0 {
		t.Fatalf("report --from: exit %d", code)
	}
	got := treeFiles(t, out)
	if !bytes.Contains(got[study.ResultsFile], []byte(`"executor": "slurm"`)) {
		t.Error("results.json does not name the slurm executor")
	}
	sameTree(t, local, withoutExecutor(t, got))

	// A waiting run; kill its long task mid-run.
	os.RemoveAll(out)
	cmd := exec.Command(bin, "run", "--config", cfg, "--out", out, "--executor", "slurm", "--slurm-cpus", "1")
	cmd.Env = append(os.Environ(), env...)
	var runOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &runOut, &runOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var plan *study.Plan
	for plan == nil || len(plan.Jobs) < 2 {
		if ctx.Err() != nil {
			t.Fatalf("no plan with its jobs: %s", runOut.String())
		}
		time.Sleep(100 * time.Millisecond)
		plan, _ = study.ReadPlan(filepath.Join(out, study.PlanFile))
	}
	slow := slices.IndexFunc(plan.Tasks, func(pt study.PlanTask) bool { return pt.ID == "slow/verify-lr0.3-B16-sgd" })
	if slow < 0 || plan.Tasks[slow].Level != 1 {
		t.Fatalf("no level-1 task slow/verify in the plan: %+v", plan.Tasks)
	}
	target := plan.Jobs[1] + "_" + strconv.Itoa(slow)
	for {
		st, err := c.States(ctx, []string{plan.Jobs[1]})
		if err != nil {
			t.Fatal(err)
		}
		if st[target] == "RUNNING" {
			break
		}
		if slurm.Terminal(st[target]) {
			t.Fatalf("task %s ended (%s) before it could be killed", target, st[target])
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // mid-run: its chains are running
	pid := taskPID(t, bin, plan.Jobs[1], slow)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed task %s (pid %d) with SIGKILL", target, pid)
	err := cmd.Wait()
	t.Logf("the waiting run:\n%s", runOut.String())
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("the run with a killed task: %v, want exit status 1", err)
	}
	want := "slurm: task " + strconv.Itoa(slow) + " (slow/verify-lr0.3-B16-sgd) did not finish: " + filepath.Join(out, "logs", "slurm", target+".txt")
	if !strings.Contains(runOut.String(), want) || !strings.Contains(runOut.String(), "1 of the submitted tasks did not finish") {
		t.Errorf("the failed task is not reported with its log (%q)", want)
	}
	if _, err := os.Stat(study.TaskRecord(out, plan.Tasks[slow].ID)); err == nil {
		t.Fatalf("the killed task %s recorded itself as finished", target)
	}
	code, stdout = runBinary(t, bin, env, "run", "--config", cfg, "--out", out, "--executor", "slurm", "--slurm-cpus", "1", "--resume")
	t.Logf("slurm run --resume:\n%s", stdout)
	if code != 0 {
		logTaskLogs(t, out, -1)
		t.Fatalf("resume: exit %d", code)
	}
	subs = submittedRE.FindAllStringSubmatch(stdout, -1)
	if len(subs) != 1 || subs[0][2] != "1" || subs[0][3] != strconv.Itoa(slow) {
		t.Errorf("resume submitted %v, want the killed task %d alone", subs, slow)
	}
	if n := strings.Count(stdout, ": kept from the earlier run"); n != 12 {
		t.Errorf("resume kept %d tasks, want 12", n)
	}
	sameTree(t, local, withoutExecutor(t, treeFiles(t, out)))
}

// taskPID finds the process of a SLURM array task running bin: the one whose environment
// holds the task's SLURM_ARRAY_JOB_ID and SLURM_ARRAY_TASK_ID.
func taskPID(t *testing.T, bin, job string, index int) int {
	t.Helper()
	want := [][]byte{[]byte("SLURM_ARRAY_JOB_ID=" + job), []byte("SLURM_ARRAY_TASK_ID=" + strconv.Itoa(index))}
	for range 50 {
		procs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range procs {
			exe, err := os.Readlink(filepath.Join(p, "exe"))
			if err != nil || exe != bin {
				continue
			}
			environ, err := os.ReadFile(filepath.Join(p, "environ"))
			if err != nil {
				continue
			}
			vars := bytes.Split(environ, []byte{0})
			if slices.ContainsFunc(vars, func(v []byte) bool { return bytes.Equal(v, want[0]) }) &&
				slices.ContainsFunc(vars, func(v []byte) bool { return bytes.Equal(v, want[1]) }) {
				pid, _ := strconv.Atoi(filepath.Base(p))
				return pid
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no process of task %s_%d", job, index)
	return 0
}

// logTaskLogs logs the SLURM task logs of a run directory (the first n of them; n < 0: all).
func logTaskLogs(t *testing.T, out string, n int) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(out, study.LogsDir, "slurm", "*.txt"))
	if n >= 0 && len(logs) > n {
		logs = logs[:n]
	}
	for _, p := range logs {
		b, _ := os.ReadFile(p)
		t.Logf("%s:\n%s", p, b)
	}
}
