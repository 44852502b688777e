package slurm

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// naiveExpand expands a FormatArray string by splitting it into parts and counting each
// range out, independently of ParseArray.
func naiveExpand(t *testing.T, s string) []int {
	t.Helper()
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			t.Fatalf("%q: part %q", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b <= a {
				t.Fatalf("%q: part %q is not a range a-b with a < b", s, part)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out
}

func TestFormatArray(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{
		{[]int{0}, "0"},
		{[]int{9, 0, 1, 2, 3, 7, 10}, "0-3,7,9-10"},
		{[]int{5, 5, 5}, "5"},
		{[]int{1, 3, 5}, "1,3,5"},
		{[]int{2, 1}, "1-2"},
		{[]int{100, 101, 102, 0}, "0,100-102"},
	} {
		in := slices.Clone(c.in)
		if got := FormatArray(in); got != c.want {
			t.Errorf("FormatArray(%v) = %q, want %q", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("FormatArray modified its input %v to %v", c.in, in)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 500; trial++ {
		n := 1 + rng.IntN(30)
		in := make([]int, n)
		for i := range in {
			in[i] = rng.IntN(40)
		}
		want := slices.Clone(in)
		slices.Sort(want)
		want = slices.Compact(want)
		s := FormatArray(in)
		got := naiveExpand(t, s)
		if !slices.Equal(got, want) {
			t.Fatalf("FormatArray(%v) = %q expands to %v, want %v", in, s, got, want)
		}
		// Compact: consecutive parts are separated by a gap, else they would be one range.
		parts := strings.Split(s, ",")
		for i := 1; i < len(parts); i++ {
			prev := naiveExpand(t, parts[i-1])
			next := naiveExpand(t, parts[i])
			if next[0] <= prev[len(prev)-1]+1 {
				t.Fatalf("FormatArray(%v) = %q: parts %q and %q could be one range", in, s, parts[i-1], parts[i])
			}
		}
		back, err := ParseArray(s)
		if err != nil || !slices.Equal(back, want) {
			t.Fatalf("ParseArray(%q) = %v, %v, want %v", s, back, err, want)
		}
	}
}

func TestFormatArrayPanics(t *testing.T) {
	for _, in := range [][]int{nil, {}, {3, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("FormatArray(%v) did not panic", in)
				}
			}()
			FormatArray(in)
		}()
	}
}

func TestParseArray(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"7", []int{7}},
		{"[0-3,7]", []int{0, 1, 2, 3, 7}},
		{"[1-3]%2", nil}, // the limit after the bracket: not sacct's form, rejected below
		{"1-3%2", []int{1, 2, 3}},
		{"0-6:2", []int{0, 2, 4, 6}},
		{"3,1,3", []int{1, 3}},
	} {
		got, err := ParseArray(c.in)
		if c.want == nil {
			if err == nil {
				t.Errorf("ParseArray(%q) = %v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseArray(%q) = %v, %v, want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "[]", "a", "3-1", "-1", "1-", "1:2", "0-4:0", "1,,2"} {
		if got, err := ParseArray(bad); err == nil {
			t.Errorf("ParseArray(%q) = %v, want an error", bad, got)
		}
	}
}

func TestTerminal(t *testing.T) {
	for _, st := range []string{"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", StateUnknown} {
		if !Terminal(st) {
			t.Errorf("Terminal(%s) = false", st)
		}
	}
	for _, st := range []string{"PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "REQUEUED", "SOMETHING_NEW"} {
		if Terminal(st) {
			t.Errorf("Terminal(%s) = true", st)
		}
	}
}

// fakeScript stands in for a SLURM command: call n (counted in NAME.count) records its
// arguments one per line in NAME.argv.n, prints NAME.out.n (else NAME.out), prints
// NAME.err to stderr and exits with NAME.rc (else 0), all in $FAKE_DIR.
const fakeScript = `#!/bin/sh
d=$FAKE_DIR; n=$(basename "$0")
c=$(cat "$d/$n.count" 2>/dev/null || echo 0); c=$((c + 1)); echo $c >"$d/$n.count"
printf '%s\n' "$@" >"$d/$n.argv.$c"
out="$d/$n.out.$c"; [ -f "$out" ] || out="$d/$n.out"
if [ -f "$out" ]; then cat "$out"; fi
if [ -f "$d/$n.err" ]; then cat "$d/$n.err" >&2; fi
exit $(cat "$d/$n.rc" 2>/dev/null || echo 0)
`

// fakeCluster puts fake SLURM commands first in PATH and returns the directory of their
// files and a client that points them at it (through Env, so Env is tested too).
func fakeCluster(t *testing.T) (string, *Client) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sbatch", "squeue", "sacct", "scontrol", "scancel"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(fakeScript), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir, &Client{Env: []string{"FAKE_DIR=" + dir}, Poll: time.Millisecond, MaxPoll: 4 * time.Millisecond}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// argv is the argument list of call n of a fake command, or nil if there was none.
func argv(t *testing.T, dir, name string, n int) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+".argv."+strconv.Itoa(n)))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestSubmitArrayArgv(t *testing.T) {
	dir, c := fakeCluster(t)
	writeFile(t, filepath.Join(dir, "sbatch.out.1"), "42\n")
	writeFile(t, filepath.Join(dir, "sbatch.out.2"), "43;cluster2\n")
	ctx := context.Background()
	id, err := c.SubmitArray(ctx, Job{
		Name: "lvl0", Script: "/s/task.sh", Args: []string{"plan.json", "a b"}, Indices: []int{3, 0, 1, 2, 7},
		AfterOK: []string{"40", "41"}, Partition: "short", Minutes: 90, MemMB: 512, CPUs: 2,
		Output: "/o/%A_%a.txt", Dir: "/o",
	})
	if err != nil || id != "42" {
		t.Fatalf("SubmitArray = %q, %v, want 42", id, err)
	}
	want := []string{"--parsable", "--kill-on-invalid-dep=yes", "--job-name=lvl0", "--array=0-3,7",
		"--dependency=afterok:40:41", "--partition=short", "--time=90", "--mem=512M", "--cpus-per-task=2",
		"--output=/o/%A_%a.txt", "--chdir=/o", "/s/task.sh", "plan.json", "a b"}
	if got := argv(t, dir, "sbatch", 1); !slices.Equal(got, want) {
		t.Errorf("sbatch argv\n got %q\nwant %q", got, want)
	}
	// The zero values leave the cluster's defaults: no flags for them.
	id, err = c.SubmitArray(ctx, Job{Script: "t.sh", Indices: []int{5}})
	if err != nil || id != "43" {
		t.Fatalf("SubmitArray = %q, %v, want 43 (from \"43;cluster2\")", id, err)
	}
	want = []string{"--parsable", "--kill-on-invalid-dep=yes", "--array=5", "t.sh"}
	if got := argv(t, dir, "sbatch", 2); !slices.Equal(got, want) {
		t.Errorf("sbatch argv\n got %q\nwant %q", got, want)
	}
}

func TestSubmitArrayErrors(t *testing.T) {
	dir, c := fakeCluster(t)
	ctx := context.Background()
	for _, j := range []Job{
		{Name: "x", Indices: []int{0}},
		{Name: "x", Script: "t.sh"},
		{Name: "x", Script: "t.sh", Indices: []int{0, -2}},
		{Name: "x", Script: "t.sh", Indices: []int{0}, MemMB: -1},
		{Name: "x", Script: "t.sh", Indices: []int{0}, AfterOK: []string{"12_3"}},
		{Name: "x", Script: "t.sh", Indices: []int{0}, AfterOK: []string{""}},
	} {
		if id, err := c.SubmitArray(ctx, j); err == nil || !strings.Contains(err.Error(), `job "x"`) {
			t.Errorf("SubmitArray(%+v) = %q, %v, want an error naming the job", j, id, err)
		}
	}
	if got := argv(t, dir, "sbatch", 1); got != nil {
		t.Fatalf("sbatch ran for an invalid job: %q", got)
	}

	writeFile(t, filepath.Join(dir, "sbatch.err"), "sbatch: error: Batch job submission failed:\nInvalid partition name specified\n")
	writeFile(t, filepath.Join(dir, "sbatch.rc"), "1")
	_, err := c.SubmitArray(ctx, Job{Script: "t.sh", Indices: []int{0}})
	want := "slurm: sbatch: exit status 1: sbatch: error: Batch job submission failed:; Invalid partition name specified"
	if err == nil || err.Error() != want {
		t.Errorf("SubmitArray's error = %v, want %q", err, want)
	}

	writeFile(t, filepath.Join(dir, "sbatch.rc"), "0")
	writeFile(t, filepath.Join(dir, "sbatch.err"), "")
	writeFile(t, filepath.Join(dir, "sbatch.out"), "Submitted batch job 12\n")
	_, err = c.SubmitArray(ctx, Job{Script: "t.sh", Indices: []int{0}})
	want = `slurm: sbatch printed "Submitted batch job 12", want a job id`
	if err == nil || err.Error() != want {
		t.Errorf("SubmitArray's error = %v, want %q", err, want)
	}
}

// jobCompLines are records as jobcomp/filetxt writes them (22.05), shortened in the
// middle: array 9's tasks ran (2 failed), array 10 was cancelled before any task started,
// 15 is a plain job, 16 a later array whose task 1 was requeued after a failure.
const jobCompLines = `JobId=12 UserId=root(0) GroupId=root(0) Name=a.sh JobState=COMPLETED Partition=local NodeList=vm WorkDir=/tmp ArrayJobId=9 ArrayTaskId=1 DerivedExitCode=0:0 ExitCode=0:0
JobId=11 UserId=root(0) GroupId=root(0) Name=a.sh JobState=COMPLETED Partition=local ArrayJobId=9 ArrayTaskId=0 DerivedExitCode=0:0 ExitCode=0:0
JobId=13 UserId=root(0) GroupId=root(0) Name=a.sh JobState=FAILED Partition=local ArrayJobId=9 ArrayTaskId=2 DerivedExitCode=0:0 ExitCode=1:0
JobId=9 UserId=root(0) GroupId=root(0) Name=a.sh JobState=COMPLETED Partition=local ArrayJobId=9 ArrayTaskId=3 DerivedExitCode=0:0 ExitCode=0:0
JobId=10 UserId=root(0) GroupId=root(0) Name=a.sh JobState=CANCELLED Partition=local NodeList=(null) EligibleTime=unknown DerivedExitCode=0:0 ExitCode=0:0
JobId=15 UserId=root(0) GroupId=root(0) Name=my job JobState=COMPLETED Partition=local WorkDir=/tmp/a dir DerivedExitCode=0:0 ExitCode=0:0
JobId=17 UserId=root(0) GroupId=root(0) Name=wrap JobState=FAILED Partition=local ArrayJobId=16 ArrayTaskId=1 ExitCode=1:0
`

func TestStatesJobComp(t *testing.T) {
	dir, c := fakeCluster(t)
	log := filepath.Join(dir, "jobcomp.log")
	writeFile(t, log, jobCompLines)
	writeFile(t, filepath.Join(dir, "scontrol.out"), "Configuration data as of 2026-12-03T12:00:00\n"+
		"AccountingStorageType   = accounting_storage/none\nJobCompLoc              = "+log+"\n"+
		"JobCompType             = jobcomp/filetxt\nMinJobAge               = 60 sec\n")
	// squeue knows array 16 (task 1 requeued, pending again; task 0 running).
	writeFile(t, filepath.Join(dir, "squeue.out"), "16_0|RUNNING\n16_1|PENDING\n")
	ids := []string{"9", "10_0", "10_3", "15", "16", "99", "98_1"}
	got, err := c.States(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"9_0": "COMPLETED", "9_1": "COMPLETED", "9_2": "FAILED", "9_3": "COMPLETED",
		"10_0": "CANCELLED", "10_3": "CANCELLED", "15": "COMPLETED",
		"16_0": "RUNNING", "16_1": "PENDING", "99": StateUnknown, "98_1": StateUnknown,
	}
	if !mapsEqual(got, want) {
		t.Errorf("States(%v)\n got %v\nwant %v", ids, got, want)
	}
	wantArgv := []string{"-h", "-r", "-t", "all", "-j", strings.Join(ids, ","), "-o", "%i|%T"}
	if a := argv(t, dir, "squeue", 1); !slices.Equal(a, wantArgv) {
		t.Errorf("squeue argv %q, want %q", a, wantArgv)
	}
	if a := argv(t, dir, "sacct", 1); a != nil {
		t.Errorf("sacct ran (%q) although the job-completion log is readable", a)
	}
	// The configuration is asked for once.
	if _, err := c.States(context.Background(), ids); err != nil {
		t.Fatal(err)
	}
	if a := argv(t, dir, "scontrol", 2); a != nil {
		t.Errorf("scontrol ran twice, the second time with %q", a)
	}

	// While squeue still lists array 10's tasks, they supersede its record as a whole.
	writeFile(t, filepath.Join(dir, "squeue.out"), "10_0|CANCELLED\n10_1|CANCELLED\n")
	got, err = c.States(context.Background(), []string{"10"})
	if want := map[string]string{"10_0": "CANCELLED", "10_1": "CANCELLED"}; err != nil || !mapsEqual(got, want) {
		t.Errorf("States([10]) = %v, %v, want %v", got, err, want)
	}

	// squeue -j with one id it no longer knows fails: an empty answer.
	writeFile(t, filepath.Join(dir, "squeue.err"), "slurm_load_jobs error: Invalid job id specified\n")
	writeFile(t, filepath.Join(dir, "squeue.rc"), "1")
	got, err = c.States(context.Background(), []string{"10"})
	if err != nil || !mapsEqual(got, map[string]string{"10": "CANCELLED"}) {
		t.Errorf("States([10]) = %v, %v, want 10: CANCELLED", got, err)
	}
	// Any other failure is an error of one line.
	writeFile(t, filepath.Join(dir, "squeue.err"), "squeue: error: Unable to contact slurm controller\n(connect failure)\n")
	_, err = c.States(context.Background(), []string{"10"})
	wantErr := "slurm: squeue: exit status 1: squeue: error: Unable to contact slurm controller; (connect failure)"
	if err == nil || err.Error() != wantErr {
		t.Errorf("States' error = %v, want %q", err, wantErr)
	}

	if _, err := c.States(context.Background(), []string{"9", "9x"}); err == nil || !strings.Contains(err.Error(), `"9x"`) {
		t.Errorf("States with a bad id: %v, want an error naming it", err)
	}
	// A line that is not a record names the file and line.
	writeFile(t, filepath.Join(dir, "squeue.rc"), "0")
	writeFile(t, log, jobCompLines+"garbage\n")
	_, err = c.States(context.Background(), []string{"9"})
	if wantErr := "slurm: " + log + ":8: not a jobcomp/filetxt record (JobId, JobState)"; err == nil || err.Error() != wantErr {
		t.Errorf("States' error = %v, want %q", err, wantErr)
	}
}

func TestStatesSacct(t *testing.T) {
	dir, c := fakeCluster(t)
	writeFile(t, filepath.Join(dir, "scontrol.out"), "AccountingStorageType   = accounting_storage/slurmdbd\n"+
		"JobCompLoc              = (null)\nJobCompType             = jobcomp/none\n")
	writeFile(t, filepath.Join(dir, "sacct.out"), "21_0|COMPLETED\n21_[1-2,4]|PENDING\n21_3|RUNNING\n22|CANCELLED by 0\n23_[0-1]|CANCELLED by 0\n")
	writeFile(t, filepath.Join(dir, "squeue.out"), "21_1|RUNNING\n")
	ids := []string{"21", "22", "23_1"}
	got, err := c.States(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"21_0": "COMPLETED", "21_1": "RUNNING", "21_2": "PENDING", "21_3": "RUNNING",
		"21_4": "PENDING", "22": "CANCELLED", "23_1": "CANCELLED"}
	if !mapsEqual(got, want) {
		t.Errorf("States(%v)\n got %v\nwant %v", ids, got, want)
	}
	wantArgv := []string{"-n", "-P", "-X", "-j", "21,22,23_1", "-o", "JobID,State"}
	if a := argv(t, dir, "sacct", 1); !slices.Equal(a, wantArgv) {
		t.Errorf("sacct argv %q, want %q", a, wantArgv)
	}
	writeFile(t, filepath.Join(dir, "sacct.out"), "21_[1-x]|PENDING\n")
	if _, err := c.States(context.Background(), ids); err == nil || !strings.Contains(err.Error(), "21_[1-x]") {
		t.Errorf("States with sacct printing a bad array: %v, want an error quoting the line", err)
	}
}

func TestStatesNoRecords(t *testing.T) {
	// Neither a readable job-completion log nor accounting: squeue alone.
	dir, c := fakeCluster(t)
	writeFile(t, filepath.Join(dir, "scontrol.out"), "AccountingStorageType = accounting_storage/none\n"+
		"JobCompLoc = "+filepath.Join(dir, "absent.log")+"\nJobCompType = jobcomp/filetxt\n")
	writeFile(t, filepath.Join(dir, "squeue.out"), "5_0|COMPLETED\n")
	got, err := c.States(context.Background(), []string{"5", "6"})
	if err != nil || !mapsEqual(got, map[string]string{"5_0": "COMPLETED", "6": StateUnknown}) {
		t.Errorf("States = %v, %v", got, err)
	}
	if a := argv(t, dir, "sacct", 1); a != nil {
		t.Errorf("sacct ran (%q) on a cluster without accounting", a)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestWait(t *testing.T) {
	dir, c := fakeCluster(t)
	c.JobCompLog = filepath.Join(dir, "none.log") // no scontrol call; the file does not exist
	writeFile(t, filepath.Join(dir, "squeue.out.1"), "3_0|PENDING\n3_1|PENDING\n")
	writeFile(t, filepath.Join(dir, "squeue.out.2"), "3_0|PENDING\n3_1|PENDING\n")
	writeFile(t, filepath.Join(dir, "squeue.out.3"), "3_0|RUNNING\n3_1|PENDING\n")
	writeFile(t, filepath.Join(dir, "squeue.out.4"), "3_0|COMPLETED\n3_1|COMPLETING\n")
	writeFile(t, filepath.Join(dir, "squeue.out"), "3_0|COMPLETED\n3_1|FAILED\n")
	var msgs []string
	if err := c.Wait(context.Background(), []string{"3"}, func(m string) { msgs = append(msgs, m) }); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"jobs 3: 2 PENDING",
		"jobs 3: 1 PENDING, 1 RUNNING",
		"jobs 3: 1 COMPLETED, 1 COMPLETING",
		"jobs 3: 1 COMPLETED, 1 FAILED",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("progress\n got %q\nwant %q", msgs, want)
	}
	if a := argv(t, dir, "squeue", 5); a == nil || argv(t, dir, "squeue", 6) != nil {
		t.Errorf("Wait polled squeue other than 5 times")
	}
}

func TestWaitContext(t *testing.T) {
	dir, c := fakeCluster(t)
	c.JobCompLog = filepath.Join(dir, "none.log")
	writeFile(t, filepath.Join(dir, "squeue.out"), "3_0|RUNNING\n")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Wait(ctx, []string{"3"}, nil)
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") || !strings.Contains(err.Error(), "1 RUNNING") {
		t.Errorf("Wait = %v, want a deadline error with the last states", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Wait returned %v after its deadline of 100ms", d)
	}
	// The failure of a poll ends the wait.
	writeFile(t, filepath.Join(dir, "squeue.rc"), "2")
	if err := c.Wait(context.Background(), []string{"3"}, nil); err == nil || !strings.HasPrefix(err.Error(), "slurm: squeue: exit status 2") {
		t.Errorf("Wait = %v, want squeue's failure", err)
	}
}

func TestCancelSignal(t *testing.T) {
	dir, c := fakeCluster(t)
	ctx := context.Background()
	if err := c.Cancel(ctx, "12_3"); err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(ctx, "12_4", "KILL"); err != nil {
		t.Fatal(err)
	}
	if a := argv(t, dir, "scancel", 1); !slices.Equal(a, []string{"12_3"}) {
		t.Errorf("scancel argv %q", a)
	}
	if a := argv(t, dir, "scancel", 2); !slices.Equal(a, []string{"--full", "--signal=KILL", "12_4"}) {
		t.Errorf("scancel argv %q", a)
	}
	if err := c.Cancel(ctx, "12 13"); err == nil {
		t.Error("Cancel of a bad id succeeded")
	}
	if err := c.Signal(ctx, "12", "kill; rm"); err == nil {
		t.Error("Signal with a bad signal succeeded")
	}
	if a := argv(t, dir, "scancel", 3); a != nil {
		t.Errorf("scancel ran with bad arguments: %q", a)
	}
	writeFile(t, filepath.Join(dir, "scancel.err"), "scancel: error: Kill job error on job id 12: Invalid job id specified\n")
	writeFile(t, filepath.Join(dir, "scancel.rc"), "1")
	err := c.Cancel(ctx, "12")
	if want := "slurm: scancel: exit status 1: scancel: error: Kill job error on job id 12: Invalid job id specified"; err == nil || err.Error() != want {
		t.Errorf("Cancel's error = %v, want %q", err, want)
	}
}
