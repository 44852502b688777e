// Package slurmtest starts a one-node SLURM cluster on localhost for tests, with the
// repository's scripts/slurm-localhost, and stops it when the test ends.
package slurmtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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
// then. The time from start to an idle node is logged. env is added to the script's
// environment (e.g. "SLURM_LOCALHOST_MIN_JOB_AGE=5").
//
// The client's Env is SLURM_CONF=DIR/slurm.conf; code under test that makes its own
// client from the process's environment needs SetEnv.
func StartCluster(t testing.TB, env ...string) *slurm.Client {
	t.Helper()
	script := Available(t)
	dir := shortTempDir(t)
	t.Cleanup(func() {
		if t.Failed() {
			logTails(t, dir)
		}
		if msg, err := run(script, nil, "stop", dir); err != nil {
			t.Errorf("slurmtest: %s", msg)
		}
	})
	start := time.Now()
	conf, err := Start(script, dir, env...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slurmtest: cluster in %s idle after %.1f s", dir, time.Since(start).Seconds())
	return &slurm.Client{Env: []string{"SLURM_CONF=" + conf}, JobCompLog: filepath.Join(dir, "jobcomp.log")}
}

// Available is the path of scripts/slurm-localhost if a cluster can run here; otherwise it
// skips the test, or fails it when SGDPRIOR_SLURM=1.
func Available(t testing.TB) string {
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
	return script
}

// SetEnv sets the client's Env in the process's environment for the rest of the test
// (t.Setenv), so that SLURM commands run by the code under test reach the cluster.
func SetEnv(t testing.TB, c *slurm.Client) {
	t.Helper()
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Start runs `script start dir` with env added to its environment and returns the path
// of the cluster's slurm.conf.
func Start(script, dir string, env ...string) (string, error) {
	out, err := run(script, env, "start", dir)
	if err != nil {
		return "", errors.New("slurmtest: " + out)
	}
	conf, ok := strings.CutPrefix(out, "export SLURM_CONF=")
	if !ok {
		return "", fmt.Errorf("slurmtest: %s start printed %q, want an export SLURM_CONF= line", script, out)
	}
	return conf, nil
}

// run runs the script with env added to its environment, with a bound of 90 s, and
// returns its stdout, or on failure a line with the command, its error and its stderr.
func run(script string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Sprintf("%s %s: %v: %s", script, strings.Join(args, " "), err, strings.TrimSpace(stderr.String())), err
	}
	return strings.TrimSpace(stdout.String()), nil
}

// shortTempDir is a new temporary directory, removed when the test ends. It is made
// directly in os.TempDir() rather than by t.TempDir(), whose paths carry the test's name:
// the Unix socket paths under a cluster's directory must stay short.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "slurm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
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
