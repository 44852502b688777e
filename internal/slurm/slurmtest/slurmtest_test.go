package slurmtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSlurmLocalhostScript checks scripts/slurm-localhost's errors (one line, exit 1), that
// stop is idempotent, that a running cluster refuses a second start, and that a cluster
// can be started again in the same directory after a stop.
func TestSlurmLocalhostScript(t *testing.T) {
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	fails := func(want string, args ...string) {
		t.Helper()
		msg, err := run(script, nil, args...)
		if err == nil || !strings.Contains(msg, "exit status 1: slurm-localhost: ") || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("%s %v: %q, %v, want one line with exit status 1 and %q", script, args, msg, err, want)
		}
	}
	fails("usage: slurm-localhost start|stop|env DIR", "status", empty)
	fails("usage", "start")
	fails(filepath.Join(empty, "slurm.conf")+" does not exist", "env", empty)
	fails("is not a directory", "env", filepath.Join(empty, "absent"))
	for _, bad := range []struct{ dir, want string }{
		{filepath.Join(empty, "a b"), "contains whitespace"},
		{filepath.Join(empty, strings.Repeat("x", 64)), "longer than 64 bytes"},
	} {
		fails(bad.want, "start", bad.dir)
		if _, err := os.Stat(bad.dir); !os.IsNotExist(err) {
			t.Errorf("start %s created the directory: %v", bad.dir, err)
		}
	}
	if msg, err := run(script, []string{"SLURM_LOCALHOST_MIN_JOB_AGE=0"}, "start", empty); err == nil || !strings.Contains(msg, "SLURM_LOCALHOST_MIN_JOB_AGE=0 is not a number of seconds") {
		t.Errorf("start with MinJobAge 0: %q, %v", msg, err)
	}
	for _, dir := range []string{empty, filepath.Join(empty, "absent")} {
		if msg, err := run(script, nil, "stop", dir); err != nil {
			t.Errorf("stop without a cluster: %s", msg)
		}
	}
	if _, err := os.Stat(filepath.Join(empty, "absent")); !os.IsNotExist(err) {
		t.Errorf("stop created the directory it was given: %v", err)
	}

	Available(t)
	dir := shortTempDir(t)
	t.Cleanup(func() {
		if t.Failed() {
			logTails(t, dir)
		}
		run(script, nil, "stop", dir)
	})
	for round := 0; round < 2; round++ {
		conf, err := Start(script, dir)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, "slurm.conf"); conf != want {
			t.Errorf("start: SLURM_CONF=%s, want %s", conf, want)
		}
		pids := map[string]int{}
		for _, name := range []string{"munged", "slurmctld", "slurmd"} {
			b, err := os.ReadFile(filepath.Join(dir, "run", name+".pid"))
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || !running(pid, name) {
				t.Fatalf("%s's pid file holds %q, not a running %s", name, b, name)
			}
			pids[name] = pid
		}
		fails("a cluster is already running in "+dir, "start", dir)
		if out, err := run(script, nil, "env", dir); err != nil || out != "export SLURM_CONF="+conf {
			t.Errorf("env: %q, %v", out, err)
		}
		for i := 0; i < 2; i++ {
			if msg, err := run(script, nil, "stop", dir); err != nil {
				t.Fatalf("stop %d: %s", i+1, msg)
			}
		}
		for name, pid := range pids {
			if running(pid, name) {
				t.Errorf("%s (pid %d) still runs after stop", name, pid)
			}
		}
	}
}

// running reports whether process pid runs and is called name.
func running(pid int, name string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && strings.TrimSpace(string(b)) == name
}
