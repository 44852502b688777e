package slurm_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgdprior/sgdprior/internal/slurm"
	"github.com/sgdprior/sgdprior/internal/slurm/slurmtest"
)

// taskScript writes DIR/NAME_INDEX with the task's start and end times in nanoseconds
// (one clock: every task runs on this machine); it exits 1 for the index in $FAIL_INDEX
// and sleeps 30 s for the one in $SLOW_INDEX.
const taskScript = `#!/bin/sh
out="$1/$2_$SLURM_ARRAY_TASK_ID"
start=$(date +%s%N)
echo "task $2_$SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID on $(hostname -s)"
if [ "$SLURM_ARRAY_TASK_ID" = "$SLOW_INDEX" ]; then sleep 30; fi
sleep 0.5
if [ "$SLURM_ARRAY_TASK_ID" = "$FAIL_INDEX" ]; then echo "failing on purpose" >&2; exit 1; fi
echo "$start $(date +%s%N)" >"$out"
`

// TestSlurmArrays runs job arrays with afterok dependencies on a one-node cluster on
// localhost (scripts/slurm-localhost): two levels of 4 tasks in order; a failed task and a
// killed task, after which the dependent level is cancelled rather than left pending.
func TestSlurmArrays(t *testing.T) {
	c := slurmtest.StartCluster(t)
	started := time.Now()
	dir := t.TempDir()
	script := filepath.Join(dir, "task.sh")
	if err := os.WriteFile(script, []byte(taskScript), 0o755); err != nil {
		t.Fatal(err)
	}
	// Each case is bounded by its own 120 s (ctx, set by bound).
	var ctx context.Context
	bound := func(t *testing.T) {
		c, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		t.Cleanup(cancel)
		ctx = c
	}
	indices := []int{0, 1, 2, 3}

	// submit submits level name (in its own directory under dir) after the jobs afterOK.
	submit := func(t *testing.T, c *slurm.Client, name string, env []string, afterOK ...string) (string, string) {
		t.Helper()
		out := filepath.Join(dir, t.Name())
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		cl := clientWith(c, env)
		id, err := cl.SubmitArray(ctx, slurm.Job{Name: name, Script: script, Args: []string{out, name},
			Indices: indices, AfterOK: afterOK, Minutes: 5, MemMB: 100, CPUs: 1,
			Output: filepath.Join(out, "%A_%a.log"), Dir: out})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("submitted %s as job %s", name, id)
		return id, out
	}
	tasksOf := func(ids ...string) []string {
		var tasks []string
		for _, id := range ids {
			for _, i := range indices {
				tasks = append(tasks, id+"_"+strconv.Itoa(i))
			}
		}
		return tasks
	}
	wait := func(t *testing.T, c *slurm.Client, ids ...string) map[string]string {
		t.Helper()
		if err := c.Wait(ctx, ids, func(m string) { t.Log(m) }); err != nil {
			t.Fatal(err)
		}
		states, err := c.States(ctx, tasksOf(ids...))
		if err != nil {
			t.Fatal(err)
		}
		return states
	}

	t.Run("two levels", func(t *testing.T) {
		bound(t)
		a, out := submit(t, c, "L1", nil)
		b, _ := submit(t, c, "L2", nil, a)
		states := wait(t, c, a, b)
		logTaskOutputs(t, out)
		var l1End, l2Start int64 = 0, 1 << 62
		for _, lv := range []struct{ name, id string }{{"L1", a}, {"L2", b}} {
			for _, i := range indices {
				task := lv.id + "_" + strconv.Itoa(i)
				if states[task] != "COMPLETED" {
					t.Errorf("task %s (%s) is %s, want COMPLETED", task, lv.name, states[task])
				}
				start, end := readTimes(t, filepath.Join(out, fmt.Sprintf("%s_%d", lv.name, i)))
				if lv.name == "L1" {
					l1End = max(l1End, end)
				} else {
					l2Start = min(l2Start, start)
				}
			}
		}
		if l2Start < l1End {
			t.Errorf("a level-2 task started at %d ns, before the last level-1 task ended at %d ns", l2Start, l1End)
		}
	})

	t.Run("failed task", func(t *testing.T) {
		bound(t)
		a, out := submit(t, c, "L1", []string{"FAIL_INDEX=2"})
		b, _ := submit(t, c, "L2", nil, a)
		states := wait(t, c, a, b)
		logTaskOutputs(t, out)
		checkCancelled(t, states, a, "2", "FAILED", b)
		checkNotRun(t, out, "L2")
	})

	t.Run("killed task", func(t *testing.T) {
		bound(t)
		a, out := submit(t, c, "L1", []string{"SLOW_INDEX=1"})
		b, _ := submit(t, c, "L2", nil, a)
		task := a + "_1"
		// Kill the slow task once it runs.
		for {
			st, err := c.States(ctx, []string{task})
			if err != nil {
				t.Fatal(err)
			}
			if st[task] == "RUNNING" {
				break
			}
			if slurm.Terminal(st[task]) {
				t.Fatalf("task %s is %s before it was killed", task, st[task])
			}
			select {
			case <-ctx.Done():
				t.Fatalf("task %s never ran: %v", task, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
		if err := c.Signal(ctx, task, "KILL"); err != nil {
			t.Fatal(err)
		}
		t.Logf("killed task %s", task)
		states := wait(t, c, a, b)
		logTaskOutputs(t, out)
		checkCancelled(t, states, a, "1", "CANCELLED", b)
		checkNotRun(t, out, "L2")
	})
	t.Logf("cluster jobs took %.1f s", time.Since(started).Seconds())

	// Once the controller has purged the jobs (MinJobAge after they end), their states
	// come from the job-completion log, found through scontrol by a client that is not
	// told where it is; the dependent array cancelled before it started has one record.
	t.Run("after purge", func(t *testing.T) {
		bound(t)
		pc := slurmtest.StartCluster(t, "SLURM_LOCALHOST_MIN_JOB_AGE=5")
		dc := &slurm.Client{Env: pc.Env}
		if log, err := slurm.DiscoveredJobCompLog(ctx, dc); err != nil || log != pc.JobCompLog {
			t.Fatalf("job-completion log discovered: %q, %v, want %s", log, err, pc.JobCompLog)
		}
		a, _ := submit(t, pc, "L1", []string{"FAIL_INDEX=2"})
		b, _ := submit(t, pc, "L2", nil, a)
		before := wait(t, dc, a, b)
		checkCancelled(t, before, a, "2", "FAILED", b)
		purgeStart := time.Now()
		for {
			cmd := exec.CommandContext(ctx, "squeue", "-h", "-t", "all", "-j", a+","+b, "-o", "%i")
			cmd.Env = append(os.Environ(), pc.Env...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("squeue: %v", err)
			}
			if len(strings.TrimSpace(string(out))) == 0 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("jobs %s, %s still in squeue after %.0f s: %v", a, b, time.Since(purgeStart).Seconds(), ctx.Err())
			case <-time.After(time.Second):
			}
		}
		t.Logf("jobs %s, %s left squeue %.1f s after they ended", a, b, time.Since(purgeStart).Seconds())
		after, err := dc.States(ctx, tasksOf(a, b))
		if err != nil {
			t.Fatal(err)
		}
		checkCancelled(t, after, a, "2", "FAILED", b)
		byJob, err := dc.States(ctx, []string{a, b})
		if err != nil {
			t.Fatal(err)
		}
		if len(byJob) != 5 || byJob[b] != "CANCELLED" || byJob[a+"_2"] != "FAILED" {
			t.Errorf("States(%s, %s) after the purge = %v, want %s's 4 tasks and %s: CANCELLED", a, b, byJob, a, b)
		}
	})
}

// clientWith is a copy of c's settings with env added.
func clientWith(c *slurm.Client, env []string) *slurm.Client {
	return &slurm.Client{Env: append(append([]string(nil), c.Env...), env...), JobCompLog: c.JobCompLog}
}

// checkCancelled checks that task bad of array a is in state badState, a's other tasks
// completed and every task of the dependent array b was cancelled.
func checkCancelled(t *testing.T, states map[string]string, a, bad, badState, b string) {
	t.Helper()
	for i := 0; i < 4; i++ {
		task, want := a+"_"+strconv.Itoa(i), "COMPLETED"
		if strconv.Itoa(i) == bad {
			want = badState
		}
		if states[task] != want {
			t.Errorf("task %s is %s, want %s", task, states[task], want)
		}
		if task := b + "_" + strconv.Itoa(i); states[task] != "CANCELLED" {
			t.Errorf("dependent task %s is %s, want CANCELLED", task, states[task])
		}
	}
}

// checkNotRun checks that no task of level name wrote its file in dir.
func checkNotRun(t *testing.T, dir, name string) {
	t.Helper()
	if files, _ := filepath.Glob(filepath.Join(dir, name+"_*")); len(files) > 0 {
		t.Errorf("cancelled tasks ran: %v", files)
	}
}

// readTimes reads a task's file "START END" (ns).
func readTimes(t *testing.T, path string) (int64, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		t.Errorf("%s: %q, want \"START END\"", path, b)
		return 0, 0
	}
	start, err1 := strconv.ParseInt(f[0], 10, 64)
	end, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || end < start {
		t.Errorf("%s: %q, want START ≤ END in ns", path, b)
	}
	return start, end
}

// logTaskOutputs logs the tasks' SLURM output files (%A_%a.log) in dir.
func logTaskOutputs(t *testing.T, dir string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			continue
		}
		t.Logf("%s: %s", p, strings.TrimSpace(string(b)))
	}
}
