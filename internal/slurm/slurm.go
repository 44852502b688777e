// Package slurm is a thin client of a SLURM cluster through its commands (sbatch, squeue,
// sacct, scontrol, scancel), run with os/exec: it submits job arrays with afterok
// dependencies, reads the states of their tasks, waits for them and cancels or signals
// them. It knows nothing of studies; cmd/sgdprior plans a study into arrays, one per
// dependency level.
//
// Identifiers are SLURM's: an array job is "123", its task with index 4 is "123_4" (as
// squeue -r and sacct print them).
//
// # Where states come from
//
// A job is in the controller's memory while it is pending or running and for MinJobAge
// seconds after it ends; squeue shows it then, and its state there is the truth. After
// that it is gone from squeue, and only a record of its end remains: the job-completion
// log of jobcomp/filetxt (a file on the controller's machine, readable here on a one-node
// cluster such as scripts/slurm-localhost's) or the accounting database (sacct). States
// asks squeue, and also reads the job-completion log when the cluster writes one that is
// readable here, else asks sacct when the cluster has accounting; squeue wins for a task
// that both know (a requeued task is pending again after a failure record). Limits:
//   - jobcomp/filetxt writes one record for the tasks of an array that never started (the
//     unsplit rest of an array cancelled while pending, e.g. by --kill-on-invalid-dep): it
//     has the array's id ("123") and no task index. A task asked for by its own id is
//     given that record's state when it has none of its own.
//   - A job that is in no source (purged, and neither a readable job-completion log nor
//     accounting) is reported as StateUnknown.
//   - Job ids restart when a controller's state is cleared (scripts/slurm-localhost
//     start does), so ids are only meaningful for the life of one cluster.
//
// # Dependencies on jobs that have left the controller
//
// SLURM evaluates an afterok dependency against the controller's memory: a dependency on
// a job already purged (ended more than MinJobAge ago) counts as satisfied, even if that
// job failed (seen with 22.05 on scripts/slurm-localhost: a job after a purged failed job
// ran). So submit a level's dependents right after the level itself, as one plan, and
// never name an old job in Job.AfterOK; resubmit a failed task's dependents together with
// it.
package slurm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// StateUnknown is the state of a job that no source knows (see the package doc).
const StateUnknown = "UNKNOWN"

// Client runs the SLURM commands found in PATH. Its zero value is ready to use; a Client
// may be used by several goroutines at once.
type Client struct {
	// Env is appended to the process's environment for every command, e.g.
	// "SLURM_CONF=/tmp/cluster/slurm.conf". sbatch passes the whole environment on to
	// the job (its default --export=ALL).
	Env []string
	// Poll is Wait's first interval between polls; 0 means 200 ms. After a poll that
	// changes nothing the interval grows by half, up to MaxPoll; a change resets it.
	Poll time.Duration
	// MaxPoll is Wait's longest interval between polls; 0 means 5 s.
	MaxPoll time.Duration
	// JobCompLog is the path of the cluster's jobcomp/filetxt log. "" means: ask
	// `scontrol show config` once, and use its JobCompLoc when JobCompType is
	// jobcomp/filetxt and the file is readable here.
	JobCompLog string

	mu      sync.Mutex // guards cfg and cfgDone
	cfg     clusterConfig
	cfgDone bool
}

// clusterConfig is what States needs to know of the cluster's configuration.
type clusterConfig struct {
	jobCompLog string // "" when there is no readable jobcomp/filetxt log
	accounting bool   // AccountingStorageType is not accounting_storage/none
}

// Job is one job array to submit. Zero values leave sbatch's (the cluster's) defaults.
type Job struct {
	Name    string   // --job-name
	Script  string   // path of the batch script (a shell script with #! line); required
	Args    []string // arguments of the script
	Indices []int    // array task indices (≥ 0, at least one) → --array in FormatArray's form
	// AfterOK are job ids that must all complete successfully first →
	// --dependency=afterok:a:b; jobs still in the controller's memory (see the package
	// doc).
	AfterOK []string
	// Partition is --partition; "" means the cluster's default partition.
	Partition string
	Minutes   int    // --time in minutes; 0: the partition's default
	MemMB     int    // --mem in MB per node; 0: the cluster's default
	CPUs      int    // --cpus-per-task; 0: 1
	Output    string // --output, a path pattern with %A (array job id) and %a (task index)
	Dir       string // --chdir, the working directory of the tasks
}

var (
	jobIDRe  = regexp.MustCompile(`^[0-9]+$`)
	taskIDRe = regexp.MustCompile(`^[0-9]+(_[0-9]+)?$`)
	// signalRe is a signal name or number as scancel --signal takes it.
	signalRe = regexp.MustCompile(`^(SIG)?[A-Z0-9]+$`)
)

// SubmitArray submits j as a job array with `sbatch --parsable --kill-on-invalid-dep=yes`
// (so that a task whose dependency failed is cancelled instead of pending forever) and
// returns its job id.
func (c *Client) SubmitArray(ctx context.Context, j Job) (string, error) {
	args, err := sbatchArgs(j)
	if err != nil {
		return "", err
	}
	out, err := c.run(ctx, "sbatch", args...)
	if err != nil {
		return "", err
	}
	// --parsable prints "jobid" or "jobid;cluster".
	line := strings.TrimSpace(out)
	id, _, _ := strings.Cut(line, ";")
	if !jobIDRe.MatchString(id) {
		return "", fmt.Errorf("slurm: sbatch printed %q, want a job id", oneLine(line))
	}
	return id, nil
}

// sbatchArgs is sbatch's argument list for j.
func sbatchArgs(j Job) ([]string, error) {
	name := j.Name
	if name == "" {
		name = j.Script
	}
	switch {
	case j.Script == "":
		return nil, fmt.Errorf("slurm: job %q: no script", name)
	case len(j.Indices) == 0:
		return nil, fmt.Errorf("slurm: job %q: no array indices", name)
	case j.Minutes < 0 || j.MemMB < 0 || j.CPUs < 0:
		return nil, fmt.Errorf("slurm: job %q: negative minutes %d, memory %d MB or CPUs %d", name, j.Minutes, j.MemMB, j.CPUs)
	}
	for _, i := range j.Indices {
		if i < 0 {
			return nil, fmt.Errorf("slurm: job %q: array index %d, want ≥ 0", name, i)
		}
	}
	for _, id := range j.AfterOK {
		if !jobIDRe.MatchString(id) {
			return nil, fmt.Errorf("slurm: job %q: dependency %q is not a job id", name, id)
		}
	}
	args := []string{"--parsable", "--kill-on-invalid-dep=yes"}
	if j.Name != "" {
		args = append(args, "--job-name="+j.Name)
	}
	args = append(args, "--array="+FormatArray(j.Indices))
	if len(j.AfterOK) > 0 {
		args = append(args, "--dependency=afterok:"+strings.Join(j.AfterOK, ":"))
	}
	if j.Partition != "" {
		args = append(args, "--partition="+j.Partition)
	}
	if j.Minutes > 0 {
		args = append(args, "--time="+strconv.Itoa(j.Minutes))
	}
	if j.MemMB > 0 {
		args = append(args, "--mem="+strconv.Itoa(j.MemMB)+"M")
	}
	if j.CPUs > 0 {
		args = append(args, "--cpus-per-task="+strconv.Itoa(j.CPUs))
	}
	if j.Output != "" {
		args = append(args, "--output="+j.Output)
	}
	if j.Dir != "" {
		args = append(args, "--chdir="+j.Dir)
	}
	args = append(args, j.Script)
	return append(args, j.Args...), nil
}

// FormatArray is the compact form of a set of array indices that sbatch --array takes:
// the sorted distinct indices, each maximal run of consecutive ones written "a-b" (or "a"
// alone), joined by commas: [9 0 1 2 3 7 10] → "0-3,7,9-10". The input is not modified.
// It panics on a negative index or an empty set (programmer misuse).
func FormatArray(indices []int) string {
	if len(indices) == 0 {
		panic("slurm: FormatArray of no indices")
	}
	s := slices.Clone(indices)
	slices.Sort(s)
	s = slices.Compact(s)
	if s[0] < 0 {
		panic(fmt.Sprintf("slurm: FormatArray: negative index %d", s[0]))
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(s[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(s[j]))
		}
		i = j + 1
	}
	return b.String()
}

// ParseArray is the set of indices of an array expression as sbatch --array and sacct
// print it: comma-separated "a" or "a-b", optionally in brackets, with an optional
// "%limit" suffix (ignored) and "a-b:step" steps. The result is sorted and distinct.
func ParseArray(s string) ([]int, error) {
	expr := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if i := strings.IndexByte(expr, '%'); i >= 0 {
		expr = expr[:i]
	}
	if expr == "" {
		return nil, fmt.Errorf("slurm: empty array expression %q", s)
	}
	var out []int
	for _, part := range strings.Split(expr, ",") {
		rng, stepStr, hasStep := strings.Cut(part, ":")
		loStr, hiStr, isRange := strings.Cut(rng, "-")
		lo, err1 := strconv.Atoi(loStr)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(hiStr)
		}
		step, err3 := 1, error(nil)
		if hasStep {
			step, err3 = strconv.Atoi(stepStr)
		}
		if err1 != nil || err2 != nil || err3 != nil || lo < 0 || hi < lo || step < 1 || (hasStep && !isRange) {
			return nil, fmt.Errorf("slurm: bad array expression %q (part %q)", s, part)
		}
		for i := lo; i <= hi; i += step {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Terminal reports whether a job state is final: the job will not run (again) by itself.
// Every other state (PENDING, RUNNING, COMPLETING, CONFIGURING, SUSPENDED, REQUEUED, …)
// counts as active, so that an unforeseen state keeps Wait waiting rather than returning
// early.
func Terminal(state string) bool {
	switch state {
	case "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
		"OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT", StateUnknown:
		return true
	}
	return false
}

// States is the state of every task of the given jobs, keyed by task id ("123_4"; "123"
// for a job that is not an array, or for an array's tasks that never started, see the
// package doc). ids are array job ids ("123") or task ids ("123_4"); an id that no source
// knows is reported under its own key as StateUnknown.
func (c *Client) States(ctx context.Context, ids []string) (map[string]string, error) {
	if len(ids) == 0 {
		return map[string]string{}, nil
	}
	for _, id := range ids {
		if !taskIDRe.MatchString(id) {
			return nil, fmt.Errorf("slurm: %q is not a job or task id", id)
		}
	}
	cfg, err := c.config(ctx)
	if err != nil {
		return nil, err
	}
	// Records of ended jobs first, then squeue's current states over them.
	states := map[string]string{}
	switch {
	case cfg.jobCompLog != "":
		if err := readJobComp(cfg.jobCompLog, ids, states); err != nil {
			return nil, err
		}
	case cfg.accounting:
		out, err := c.run(ctx, "sacct", "-n", "-P", "-X", "-j", strings.Join(ids, ","), "-o", "JobID,State")
		if err != nil {
			return nil, err
		}
		if err := parseSacct(out, states); err != nil {
			return nil, err
		}
	}
	out, err := c.run(ctx, "squeue", "-h", "-r", "-t", "all", "-j", strings.Join(ids, ","), "-o", "%i|%T")
	if err != nil && !strings.Contains(err.Error(), "Invalid job id specified") {
		// squeue -j with a single id the controller no longer knows fails with this
		// message; that is an empty answer, not an error.
		return nil, err
	}
	if err == nil {
		queued := map[string]string{}
		if err := parseSqueue(out, queued); err != nil {
			return nil, err
		}
		for k, st := range queued {
			if arr, _, isTask := strings.Cut(k, "_"); isTask {
				// squeue -r lists every task of an array it knows, so a record of
				// the array's unstarted tasks as a whole is superseded.
				delete(states, arr)
			}
			states[k] = st
		}
	}
	for _, id := range ids {
		if _, ok := states[id]; ok {
			continue
		}
		if arr, _, isTask := strings.Cut(id, "_"); isTask {
			if st, ok := states[arr]; ok {
				// The record of the array's tasks that never started.
				states[id] = st
				continue
			}
		} else if hasTask(states, id) {
			continue
		}
		states[id] = StateUnknown
	}
	// Keep only what was asked for: squeue and sacct answer per job, the log has all jobs.
	for k := range states {
		if !wanted(k, ids) {
			delete(states, k)
		}
	}
	return states, nil
}

// hasTask reports whether states has a task of array job id.
func hasTask(states map[string]string, id string) bool {
	for k := range states {
		if arr, _, ok := strings.Cut(k, "_"); ok && arr == id {
			return true
		}
	}
	return false
}

// wanted reports whether key (a job or task id) is one of ids or a task of one of them.
func wanted(key string, ids []string) bool {
	arr, _, _ := strings.Cut(key, "_")
	for _, id := range ids {
		if key == id || arr == id {
			return true
		}
	}
	return false
}

// related reports whether key (a job or task id) belongs to the same job as one of ids.
func related(key string, ids []string) bool {
	arr, _, _ := strings.Cut(key, "_")
	for _, id := range ids {
		if idArr, _, _ := strings.Cut(id, "_"); arr == idArr {
			return true
		}
	}
	return false
}

// parseSqueue adds the lines "id|STATE" of `squeue -h -r -o %i|%T` to states.
func parseSqueue(out string, states map[string]string) error {
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		id, st, ok := strings.Cut(line, "|")
		if !ok || !taskIDRe.MatchString(id) || st == "" {
			return fmt.Errorf("slurm: squeue printed %q, want \"id|STATE\"", oneLine(line))
		}
		states[id] = st
	}
	return nil
}

// parseSacct adds the lines "JobID|State" of `sacct -n -P -X -o JobID,State` to states:
// "123_4|COMPLETED", "123_[5-7]|PENDING" (an array's tasks not yet split off),
// "123|CANCELLED by 0" (the state is the first word).
func parseSacct(out string, states map[string]string) error {
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		id, st, ok := strings.Cut(line, "|")
		st, _, _ = strings.Cut(st, " ")
		if !ok || st == "" {
			return fmt.Errorf("slurm: sacct printed %q, want \"JobID|State\"", oneLine(line))
		}
		arr, task, isTask := strings.Cut(id, "_")
		if !jobIDRe.MatchString(arr) {
			return fmt.Errorf("slurm: sacct printed %q, want a job id", oneLine(line))
		}
		if !isTask {
			states[id] = st
			continue
		}
		idx, err := ParseArray(task)
		if err != nil {
			return fmt.Errorf("slurm: sacct printed %q: %v", oneLine(line), err)
		}
		for _, i := range idx {
			states[arr+"_"+strconv.Itoa(i)] = st
		}
	}
	return nil
}

// jobCompRecord is what States reads of one line of a jobcomp/filetxt log.
type jobCompRecord struct {
	jobID, state, arrayJobID, arrayTaskID string
}

// key is the record's task id: "A_T" for an array task, else the job id.
func (r jobCompRecord) key() string {
	if r.arrayJobID != "" && r.arrayJobID != "0" && r.arrayTaskID != "" {
		return r.arrayJobID + "_" + r.arrayTaskID
	}
	return r.jobID
}

// parseJobCompLine reads the fields JobId, JobState, ArrayJobId and ArrayTaskId of a line
// "JobId=12 UserId=root(0) … JobState=COMPLETED … ArrayJobId=9 ArrayTaskId=2 …". Values
// have no spaces except in free text (Name, WorkDir), whose pieces are not key=value
// pairs with these keys unless a name was made to look like one.
func parseJobCompLine(line string) (jobCompRecord, bool) {
	var r jobCompRecord
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "JobId":
			if r.jobID == "" {
				r.jobID = v
			}
		case "JobState":
			r.state = v
		case "ArrayJobId":
			r.arrayJobID = v
		case "ArrayTaskId":
			r.arrayTaskID = v
		}
	}
	ok := jobIDRe.MatchString(r.jobID) && r.state != "" &&
		(r.arrayJobID == "" || jobIDRe.MatchString(r.arrayJobID)) &&
		(r.arrayTaskID == "" || jobIDRe.MatchString(r.arrayTaskID))
	return r, ok
}

// readJobComp adds to states the records of the jobcomp/filetxt log at path that belong to
// ids, later records over earlier ones (a requeued job ends more than once).
func readJobComp(path string, ids []string, states map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // no job has ended yet
		}
		return fmt.Errorf("slurm: job-completion log: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		r, ok := parseJobCompLine(line)
		if !ok {
			return fmt.Errorf("slurm: %s:%d: not a jobcomp/filetxt record (JobId, JobState)", path, n)
		}
		if k := r.key(); related(k, ids) {
			states[k] = r.state
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("slurm: %s: %v", path, err)
	}
	return nil
}

// config is the cluster's configuration as far as States needs it, asked of
// `scontrol show config` once (a failure is not remembered: the next call asks again).
func (c *Client) config(ctx context.Context) (clusterConfig, error) {
	if c.JobCompLog != "" {
		return clusterConfig{jobCompLog: c.JobCompLog}, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfgDone {
		return c.cfg, nil
	}
	out, err := c.run(ctx, "scontrol", "show", "config")
	if err != nil {
		return clusterConfig{}, err
	}
	c.cfg, c.cfgDone = parseConfig(out), true
	return c.cfg, nil
}

// parseConfig reads `scontrol show config`'s lines "Key = value".
func parseConfig(out string) clusterConfig {
	kv := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	var cfg clusterConfig
	if kv["JobCompType"] == "jobcomp/filetxt" {
		if loc := kv["JobCompLoc"]; loc != "" {
			if f, err := os.Open(loc); err == nil {
				f.Close()
				cfg.jobCompLog = loc
			}
		}
	}
	acct := kv["AccountingStorageType"]
	cfg.accounting = acct != "" && acct != "accounting_storage/none"
	return cfg
}

// Wait polls States until no task of the given jobs is active (Terminal holds for every
// state), calling progress (if not nil) with a one-line summary whenever the states
// change, e.g. "jobs 3, 4: 2 COMPLETED, 1 PENDING, 1 RUNNING". Polls start Poll apart and
// back off to MaxPoll. Wait has no deadline of its own: bound it with ctx. It does not
// judge the final states; ask States for them.
func (c *Client) Wait(ctx context.Context, ids []string, progress func(msg string)) error {
	poll, maxPoll := c.Poll, c.MaxPoll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	if maxPoll <= 0 {
		maxPoll = 5 * time.Second
	}
	d := poll
	last := ""
	var states map[string]string
	for {
		now, err := c.States(ctx, ids)
		if err != nil {
			if ctx.Err() != nil {
				// The poll was cut short by ctx (its command killed).
				return fmt.Errorf("slurm: waiting for jobs %s: %w (%s)", strings.Join(ids, ", "), ctx.Err(), Summary(states))
			}
			return err
		}
		states = now
		msg := "jobs " + strings.Join(ids, ", ") + ": " + Summary(states)
		if msg != last {
			if progress != nil {
				progress(msg)
			}
			last = msg
			d = poll
		} else {
			d = min(d*3/2, maxPoll)
		}
		active := false
		for _, st := range states {
			active = active || !Terminal(st)
		}
		if !active {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("slurm: waiting for jobs %s: %w (%s)", strings.Join(ids, ", "), ctx.Err(), Summary(states))
		case <-t.C:
		}
	}
}

// Summary is the number of tasks in each state, by state name: "2 COMPLETED, 1 FAILED".
func Summary(states map[string]string) string {
	count := map[string]int{}
	for _, st := range states {
		count[st]++
	}
	names := make([]string, 0, len(count))
	for st := range count {
		names = append(names, st)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, st := range names {
		parts[i] = fmt.Sprintf("%d %s", count[st], st)
	}
	if len(parts) == 0 {
		return "no tasks"
	}
	return strings.Join(parts, ", ")
}

// Cancel cancels a job, an array job with all its tasks ("123") or one task ("123_4")
// with scancel.
func (c *Client) Cancel(ctx context.Context, id string) error {
	if !taskIDRe.MatchString(id) {
		return fmt.Errorf("slurm: cancel: %q is not a job or task id", id)
	}
	_, err := c.run(ctx, "scancel", id)
	return err
}

// Signal sends a signal ("KILL", "TERM", "USR1", …) to a job or one array task and to all
// their processes, the batch script included (scancel --full --signal). SLURM records a
// task killed this way with KILL as CANCELLED.
func (c *Client) Signal(ctx context.Context, id, signal string) error {
	if !taskIDRe.MatchString(id) {
		return fmt.Errorf("slurm: signal: %q is not a job or task id", id)
	}
	if !signalRe.MatchString(signal) {
		return fmt.Errorf("slurm: signal: %q is not a signal name or number", signal)
	}
	_, err := c.run(ctx, "scancel", "--full", "--signal="+signal, id)
	return err
}

// run runs a SLURM command with c.Env and returns its stdout; on failure the error is one
// line: the command, its exit status and its stderr with newlines folded.
func (c *Client) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), c.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := oneLine(stderr.String()); msg != "" {
			return "", fmt.Errorf("slurm: %s: %v: %s", name, err, msg)
		}
		return "", fmt.Errorf("slurm: %s: %v", name, err)
	}
	return stdout.String(), nil
}

// oneLine folds s's lines into one, "; "-separated, without empty lines.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
