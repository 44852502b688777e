package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/study"
)

// withoutExecutor removes the executor's own files from a run directory's tree (the plan,
// the task records, the SLURM logs and script) and results.json's executor line, the one
// place where the executors' outputs differ by design.
func withoutExecutor(t *testing.T, files map[string][]byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, b := range files {
		switch {
		case name == study.PlanFile, strings.HasPrefix(name, study.TasksDir+"/"), strings.HasPrefix(name, filepath.Join(study.LogsDir, "slurm")+"/"):
			continue
		case name == study.ResultsFile:
			b = executorLine.ReplaceAll(b, nil)
		}
		out[name] = b
	}
	return out
}

var executorLine = regexp.MustCompile(`(?m)^  "executor": "[a-z]+",\n`)

// TestRunExecutors: the tiny study run by the local executor with --jobs 2 (its independent
// steps run concurrently, visible in the log), and by the plan executor with its tasks run
// one by one through `sgdprior task` and merged by `report --from`, writes the same bytes as
// the serial run, results.json's executor field aside.
func TestRunExecutors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.toml", tinyStudy)
	out := filepath.Join(dir, "out") // the same --out for every run: the logs record it
	run := func(args ...string) string {
		t.Helper()
		os.RemoveAll(out)
		code, stdout, stderr := runCmd(t, append([]string{"run", "--config", cfg, "--out", out}, args...)...)
		if code != 0 {
			t.Fatalf("run %v: code %d, stderr %q, stdout %q", args, code, stderr, stdout)
		}
		return stdout
	}
	run()
	serial := treeFiles(t, out)
	if !bytes.Contains(serial[study.ResultsFile], []byte(`"executor": "local"`)) {
		t.Fatalf("results.json has no executor field")
	}

	stdout := run("--jobs", "2")
	// Two steps started before the first one finished: the scheduler starts every ready
	// step up to --jobs before it waits.
	lines := strings.Split(stdout, "\n")
	if len(lines) < 3 || !strings.Contains(lines[1], "(started; 1 running)") || !strings.Contains(lines[2], "(started; 2 running)") {
		t.Errorf("--jobs 2 did not start two steps at once:\n%s", stdout)
	}
	got := treeFiles(t, out)
	sameTree(t, serial, got)
	res, err := study.ReadResults(filepath.Join(out, study.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(res.CommandLine, " "), "jobs") {
		t.Errorf("results.json records the executor flag: %q", res.CommandLine)
	}

	stdout = run("--executor", "plan")
	if !strings.Contains(stdout, "5 tasks in 2 levels") {
		t.Errorf("plan:\n%s", stdout)
	}
	plan, err := study.ReadPlan(filepath.Join(out, study.PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	planPath := filepath.Join(out, study.PlanFile)
	levels := plan.Levels()
	// A level-1 task before its level-0 need is refused, naming the need.
	code, _, stderr := runCmd(t, "task", "--plan", planPath, "--index", strconv.Itoa(levels[1][0]))
	if code != 1 || !strings.Contains(stderr, "which has not finished") {
		t.Errorf("task before its need: code %d, %q", code, stderr)
	}
	// report --from refuses to merge before every task has finished.
	code, _, stderr = runCmd(t, "report", "--from", out)
	if code != 1 || !strings.Contains(stderr, "5 of 5 tasks have not finished") {
		t.Errorf("early merge: code %d, %q", code, stderr)
	}
	// Level 0 by --level and the index within the level; level 1 by the global index as a
	// SLURM array task sees it.
	for k := range levels[0] {
		if code, _, stderr := runCmd(t, "task", "--plan", planPath, "--level", "0", "--index", strconv.Itoa(k)); code != 0 {
			t.Fatalf("task %d of level 0: code %d, %q", k, code, stderr)
		}
	}
	for _, i := range levels[1] {
		t.Setenv("SLURM_ARRAY_TASK_ID", strconv.Itoa(i))
		if code, _, stderr := runCmd(t, "task", "--plan", planPath); code != 0 {
			t.Fatalf("task %d: code %d, %q", i, code, stderr)
		}
	}
	if code, _, stderr := runCmd(t, "report", "--from", out); code != 0 {
		t.Fatalf("report --from: code %d, %q", code, stderr)
	}
	got = treeFiles(t, out)
	if !bytes.Contains(got[study.ResultsFile], []byte(`"executor": "plan"`)) {
		t.Errorf("results.json of the plan executor does not say so")
	}
	sameTree(t, withoutExecutor(t, serial), withoutExecutor(t, got))
	if _, ok := got[study.PlanFile]; !ok {
		t.Error("no plan file")
	}
}

// TestRunExecutorFlags: the executor flags' usage errors, and the task entry point's.
func TestRunExecutorFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.toml", tinyStudy)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "--config", cfg, "--jobs", "0"}, 2, "--jobs"},
		{[]string{"run", "--config", cfg, "--executor", "k8s"}, 2, "--executor"},
		{[]string{"run", "--config", cfg, "--no-wait"}, 2, "--no-wait"},
		{[]string{"run", "--config", cfg, "--executor", "slurm", "--jobs", "2"}, 2, "--jobs"},
		{[]string{"run", "--config", cfg, "--executor", "slurm", "--slurm-mem", "-1"}, 2, "--slurm-mem"},
		{[]string{"run", "--config", cfg, "--executor", "slurm", "--slurm-partition", "a b"}, 2, "--slurm-partition"},
		{[]string{"task"}, 2, "--plan"},
		{[]string{"task", "--plan", filepath.Join(dir, "none.json"), "--index", "0"}, 1, "none.json"},
	} {
		code, _, stderr := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: code %d, stderr %q; want %d naming %s", c.args, code, stderr, c.code, c.msg)
		}
	}
	// Without sbatch: a one-line runtime error naming it.
	t.Run("NoSbatch", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		code, _, stderr := runCmd(t, "run", "--config", cfg, "--out", filepath.Join(dir, "nosbatch"), "--executor", "slurm")
		if code != 1 || !strings.Contains(stderr, "sbatch") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("no sbatch: code %d, %q", code, stderr)
		}
	})
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCmd(t, "run", "--config", cfg, "--out", out, "--executor", "plan"); code != 0 {
		t.Fatalf("plan: %d %q", code, stderr)
	}
	planPath := filepath.Join(out, study.PlanFile)
	os.Unsetenv("SLURM_ARRAY_TASK_ID")
	if code, _, stderr := runCmd(t, "task", "--plan", planPath); code != 2 || !strings.Contains(stderr, "SLURM_ARRAY_TASK_ID") {
		t.Errorf("no index: %d %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "task", "--plan", planPath, "--index", "5"); code != 2 || !strings.Contains(stderr, "tasks 0 to 4") {
		t.Errorf("index out of range: %d %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "task", "--plan", planPath, "--level", "2", "--index", "0"); code != 2 || !strings.Contains(stderr, "has 2 levels") {
		t.Errorf("level out of range: %d %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "task", "--plan", planPath, "--level", "1", "--index", "2"); code != 2 || !strings.Contains(stderr, "level 1 of the plan") {
		t.Errorf("index out of its level: %d %q", code, stderr)
	}
	// A Kubernetes Indexed Job's index: level 1's first task, refused for its unfinished need.
	t.Setenv("JOB_COMPLETION_INDEX", "0")
	if code, _, stderr := runCmd(t, "task", "--plan", planPath, "--level", "1"); code != 1 || !strings.Contains(stderr, "which has not finished") {
		t.Errorf("JOB_COMPLETION_INDEX: %d %q", code, stderr)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "x")
	if code, _, stderr := runCmd(t, "task", "--plan", planPath); code != 2 || !strings.Contains(stderr, "JOB_COMPLETION_INDEX") {
		t.Errorf("a bad JOB_COMPLETION_INDEX: %d %q", code, stderr)
	}
	os.Unsetenv("JOB_COMPLETION_INDEX")
	raw, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	other := regexp.MustCompile(`"program": "[^"]*"`).ReplaceAll(raw, []byte(`"program": "0.0.1+abc"`))
	if err := os.WriteFile(planPath, other, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "task", "--plan", planPath, "--index", "0"); code != 1 || !strings.Contains(stderr, "another build") {
		t.Errorf("another program's plan: %d %q", code, stderr)
	}
}

// seedStudy is a logistic problem on a 2-point grid of η, for seed replicates.
const seedStudy = `
title = "seeds"

[[problem]]
name = "logit"
data = "breast-cancer"
model = "logistic"
weight_decay = 0.05
lr = [0.1, 0.4]
batch = [64]
simulators = ["sgd"]
chains = 4
steps = 1500
burnin = 500
`

// TestRunSeeds: --seeds 1,2,3 replicates every step of the study (15 steps); each verdict
// of results.json carries its agreement over the 3 seeds, the summary holds the η/B
// scaling of the measured variance with a fitted slope, the report shows both, and the
// local executor with --jobs 2 writes the same bytes as the serial run.
func TestRunSeeds(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "seeds.toml", seedStudy)
	out := filepath.Join(dir, "out")
	var serial map[string][]byte
	for _, jobs := range []string{"1", "2"} {
		os.RemoveAll(out)
		code, stdout, stderr := runCmd(t, "run", "--config", cfg, "--out", out, "--seeds", "1,2,3", "--jobs", jobs)
		if code != 0 {
			t.Fatalf("--jobs %s: code %d, stderr %q, stdout %q", jobs, code, stderr, stdout)
		}
		if !strings.Contains(stdout, "15 steps") {
			t.Errorf("--jobs %s: not 15 steps:\n%s", jobs, stdout)
		}
		if jobs == "1" {
			serial = treeFiles(t, out)
			continue
		}
		sameTree(t, serial, treeFiles(t, out))
	}
	res, err := study.ReadResults(filepath.Join(out, study.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(res.CommandLine, " "), "jobs") || !strings.Contains(strings.Join(res.CommandLine, " "), "--seeds 1,2,3") {
		t.Errorf("results.json command line %q", res.CommandLine)
	}
	n := 0
	for _, en := range res.Summary.Entries {
		for _, v := range en.Verdicts {
			if v.Agreement == nil {
				t.Errorf("%s: %q has no agreement", en.Name, v.Topic)
				continue
			}
			a := v.Agreement
			if a.Seeds != 3 || a.Holds+a.Fails+a.Inconclusive+a.Partly+a.Unknown+a.Info+a.Missing != 3 {
				t.Errorf("%s: %q: agreement %+v", en.Name, v.Topic, *a)
			}
			n++
		}
	}
	if n == 0 {
		t.Error("no verdicts")
	}
	if len(res.Summary.Scaling) != 1 {
		t.Fatalf("scaling %+v", res.Summary.Scaling)
	}
	page := string(serial["report.html"])
	for _, want := range []string{"Scaling with η/B", "all 3 seeds", "seed 1 only"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestSlurmSubmitArgs: the slurm executor's sbatch command lines, with a fake sbatch that
// records its arguments: one array per level, the second afterok on the first, the study's
// [slurm] keys under the flags (the flag --slurm-time wins over the key time), the memory
// estimated when neither sets it, and --kill-on-invalid-dep=yes.
func TestSlurmSubmitArgs(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, "sbatch-args")
	// Each call appends its arguments as one line and prints job id 100, 101, ….
	writeFile(t, bin, "sbatch", "#!/bin/sh\nn=$(wc -l < "+record+" 2>/dev/null || echo 0)\necho \"$@\" >> "+record+"\necho $((100 + n))\n")
	if err := os.Chmod(filepath.Join(bin, "sbatch"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfg := writeFile(t, dir, "tiny.toml", tinyStudy+"\n[slurm]\npartition = \"short\"\ntime = 30\ncpus = 1\n")
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCmd(t, "run", "--config", cfg, "--out", out, "--executor", "slurm", "--no-wait", "--slurm-time", "45")
	if code != 0 {
		t.Fatalf("code %d, %q", code, stderr)
	}
	raw, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	calls := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(calls) != 2 {
		t.Fatalf("sbatch called %d times:\n%s", len(calls), raw)
	}
	script := filepath.Join(out, "logs", "slurm", "task.sh")
	for k, want := range [][]string{
		{"--parsable", "--kill-on-invalid-dep=yes", "--job-name=sgdprior-L0", "--array=0,3-4", "--partition=short", "--time=45", "--cpus-per-task=1", script},
		{"--job-name=sgdprior-L1", "--array=1-2", "--dependency=afterok:100", "--partition=short", "--time=45"},
	} {
		args := strings.Fields(calls[k])
		for _, w := range want {
			if !slices.Contains(args, w) {
				t.Errorf("sbatch call %d lacks %s: %s", k, w, calls[k])
			}
		}
		if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--mem=") && strings.HasSuffix(a, "M") }) {
			t.Errorf("sbatch call %d has no estimated --mem: %s", k, calls[k])
		}
	}
	if !strings.Contains(stdout, "as job 101") {
		t.Errorf("stdout:\n%s", stdout)
	}
	text, err := os.ReadFile(script)
	if err != nil || !strings.Contains(string(text), " task --plan '"+filepath.Join(out, study.PlanFile)+"'") {
		t.Errorf("task script %q, %v", text, err)
	}
	plan, err := study.ReadPlan(filepath.Join(out, study.PlanFile))
	if err != nil || !slices.Equal(plan.Jobs, []string{"100", "101"}) {
		t.Errorf("plan jobs %v, %v", plan.Jobs, err)
	}
}
