package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
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
// dependency level, each task `sgdprior task --plan`, and compares the merged output byte
// for byte with the local executor's (results.json's executor field aside). Then a run
// with --no-wait whose long task is killed mid-run (SIGKILL through scancel): run --resume
// resubmits that task alone, keeps every other, and ends with the same bytes.
func TestSlurmExecutor(t *testing.T) {
	c := slurmtest.StartCluster(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "slurm.toml", slurmStudy)
	out := filepath.Join(dir, "out") // one --out for every run: the logs record it
	env := c.Env

	code, stdout := runBinary(t, bin, nil, "run", "--config", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("local run: exit %d\n%s", code, stdout)
	}
	local := withoutExecutor(t, treeFiles(t, out))

	os.RemoveAll(out)
	start := time.Now()
	code, stdout = runBinary(t, bin, env, "run", "--config", cfg, "--out", out, "--executor", "slurm", "--slurm-cpus", "1")
	t.Logf("slurm run (%.1f s):\n%s", time.Since(start).Seconds(), stdout)
	if code != 0 {
		logTaskLogs(t, out)
		t.Fatalf("slurm run: exit %d", code)
	}
	subs := submittedRE.FindAllStringSubmatch(stdout, -1)
	if len(subs) != 2 || subs[0][2] != "4" || subs[1][2] != "9" {
		t.Errorf("submitted %v, want 4 tasks at level 0 and 9 at level 1", subs)
	}
	logTaskLogs(t, out)
	got := treeFiles(t, out)
	if !bytes.Contains(got[study.ResultsFile], []byte(`"executor": "slurm"`)) {
		t.Error("results.json does not name the slurm executor")
	}
	sameTree(t, local, withoutExecutor(t, got))

	// Kill the long task mid-run, then resume.
	os.RemoveAll(out)
	code, stdout = runBinary(t, bin, env, "run", "--config", cfg, "--out", out, "--executor", "slurm", "--slurm-cpus", "1", "--no-wait")
	t.Logf("slurm run --no-wait:\n%s", stdout)
	subs = submittedRE.FindAllStringSubmatch(stdout, -1)
	if code != 0 || len(subs) != 2 {
		t.Fatalf("--no-wait: exit %d, submitted %v", code, subs)
	}
	plan, err := study.ReadPlan(filepath.Join(out, study.PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	slow := slices.IndexFunc(plan.Tasks, func(pt study.PlanTask) bool { return pt.ID == "slow/verify-lr0.3-B16-sgd" })
	if slow < 0 || plan.Tasks[slow].Level != 1 {
		t.Fatalf("no level-1 task slow/verify in the plan: %+v", plan.Tasks)
	}
	target := subs[1][4] + "_" + itoa(slow)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		st, err := c.States(ctx, []string{subs[1][4]})
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
	if err := c.Signal(ctx, target, "KILL"); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed task %s", target)
	if err := c.Wait(ctx, []string{subs[0][4], subs[1][4]}, func(msg string) { t.Log(msg) }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(study.TaskRecord(out, plan.Tasks[slow].ID)); err == nil {
		t.Fatalf("the killed task %s recorded itself as finished", target)
	}
	// report --from refuses: one task has not finished.
	if code, msg := runBinary(t, bin, env, "report", "--from", out); code != 1 || !strings.Contains(msg, "1 of 13 tasks have not finished ("+itoa(slow)+")") {
		t.Errorf("report --from with a killed task: exit %d: %s", code, msg)
	}
	code, stdout = runBinary(t, bin, env, "run", "--config", cfg, "--out", out, "--executor", "slurm", "--slurm-cpus", "1", "--resume")
	t.Logf("slurm run --resume:\n%s", stdout)
	if code != 0 {
		logTaskLogs(t, out)
		t.Fatalf("resume: exit %d", code)
	}
	subs = submittedRE.FindAllStringSubmatch(stdout, -1)
	if len(subs) != 1 || subs[0][2] != "1" || subs[0][3] != itoa(slow) {
		t.Errorf("resume submitted %v, want the killed task %d alone", subs, slow)
	}
	if n := strings.Count(stdout, ": kept from the earlier run"); n != 12 {
		t.Errorf("resume kept %d tasks, want 12", n)
	}
	got = treeFiles(t, out)
	sameTree(t, local, withoutExecutor(t, got))
}

// logTaskLogs logs the SLURM task logs of a run directory.
func logTaskLogs(t *testing.T, out string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(out, study.LogsDir, "slurm", "*.txt"))
	for _, p := range logs {
		b, _ := os.ReadFile(p)
		t.Logf("%s:\n%s", p, b)
	}
}
