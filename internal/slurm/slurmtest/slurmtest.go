// Package slurmtest starts a one-node SLURM cluster on localhost for tests, with the
// repository's scripts/slurm-localhost, and stops it when the test ends.
package slurmtest

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgdprior/sgdprior/internal/slurm"
)

// EnvRequire is the environment variable that makes StartCluster fail instead of skip
// when the cluster cannot run (CI sets SGDPRIOR_SLURM=1).
const EnvRequire = "SGDPRIOR_SLURM"

// tools are the commands the cluster and the client need (Debian's slurm-wlm and munge).
var tools = []string{"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo"}

// StartCluster starts a cluster in a fresh temporary directory and returns a client of it;
// t.Cleanup stops the daemons (also when the test fails, then after logging the end of
// their logs) and removes the directory. Without SGDPRIOR_SLURM=1 it skips the test when
// a SLURM or munge command is missing or the test does not run as root; with it, it fails
// then. The time from start to an idle node is logged.
func StartCluster(t testing.TB) *slurm.Client {
	t.Helper()
	required := os.Getenv(EnvRequire) == "1"
	unavailable := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format+" ("+EnvRequire+"=1)", args...)
		}
		t.Skipf(format, args...)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable("slurmtest: %s not found: install Debian's slurm-wlm and munge", tool)
		}
	}
	if os.Geteuid() != 0 {
		unavailable("slurmtest: the localhost cluster runs as root (SlurmUser=root); uid is %d", os.Geteuid())
	}
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	// A short path of our own rather than t.TempDir(): munge's and slurmd's Unix socket
	// paths live under it and must stay within 108 bytes.
	dir, err := os.MkdirTemp("", "slurm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Cleanup(func() {
		if t.Failed() {
			logTails(t, dir)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, script, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("slurmtest: %s stop %s: %v: %s", script, dir, err, strings.TrimSpace(string(out)))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, script, "start", dir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("slurmtest: %s start %s: %v: %s", script, dir, err, strings.TrimSpace(string(ee.Stderr)))
		}
		t.Fatalf("slurmtest: %s start %s: %v", script, dir, err)
	}
	line := strings.TrimSpace(string(out))
	conf, ok := strings.CutPrefix(line, "export SLURM_CONF=")
	if !ok {
		t.Fatalf("slurmtest: %s start printed %q, want an export SLURM_CONF= line", script, line)
	}
	t.Logf("slurmtest: cluster in %s idle after %.1f s", dir, time.Since(start).Seconds())
	return &slurm.Client{Env: []string{"SLURM_CONF=" + conf}, JobCompLog: filepath.Join(dir, "jobcomp.log")}
}

// findScript is scripts/slurm-localhost in the module containing the working directory.
func findScript() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "scripts", "slurm-localhost")
			if _, err := os.Stat(p); err != nil {
				return "", errors.New("slurmtest: " + p + " not found")
			}
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("slurmtest: no go.mod above " + wd)
		}
	}
}

// logTails logs the last lines of the cluster's daemon logs and job-completion log.
func logTails(t testing.TB, dir string) {
	for _, name := range []string{"log/slurmctld.log", "log/slurmd.log", "log/munged.log", "jobcomp.log"} {
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if err != nil {
			t.Logf("slurmtest: %s: %v", p, err)
			continue
		}
		var lines []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if len(lines) > 20 {
				lines = lines[1:]
			}
		}
		f.Close()
		t.Logf("slurmtest: last lines of %s:\n%s", p, strings.Join(lines, "\n"))
	}
}
