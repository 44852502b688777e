package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A worker is one long-running measuring process: gobench -serve of one build, or
// torch_bench.py --serve at one thread setting. It waits on its standard input between
// requests, so an idle worker takes no CPU from the one measuring.
type worker struct {
	name    string // "purego", "openblas", "torch_1", "torch_2"
	torch   bool
	threads int // PyTorch's thread setting (0 for Go)
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Scanner
	offers  [][2]string // (workload, impl); impl is "" for Go
	info    map[string]any
}

// startWorker starts a worker and asks for its list of workloads.
func (h *harness) startWorker(w *worker, env []string, name string, args ...string) error {
	w.cmd = exec.Command(name, args...)
	w.cmd.Dir = h.root
	w.cmd.Env = append(os.Environ(), env...)
	logf, err := os.Create(filepath.Join(h.out, "worker_"+w.name+".log"))
	if err != nil {
		return err
	}
	w.cmd.Stderr = logf
	if w.in, err = w.cmd.StdinPipe(); err != nil {
		return err
	}
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	w.out = bufio.NewScanner(stdout)
	w.out.Buffer(make([]byte, 1<<16), 1<<24)
	if err := w.cmd.Start(); err != nil {
		return err
	}
	var list struct {
		Workloads json.RawMessage `json:"workloads"`
	}
	line, err := w.request("list")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(line, &list); err != nil {
		return fmt.Errorf("worker %s: %w", w.name, err)
	}
	_ = json.Unmarshal(line, &w.info)
	if w.torch {
		var pairs [][2]string
		if err := json.Unmarshal(list.Workloads, &pairs); err != nil {
			return fmt.Errorf("worker %s: %w", w.name, err)
		}
		w.offers = pairs
	} else {
		var names []string
		if err := json.Unmarshal(list.Workloads, &names); err != nil {
			return fmt.Errorf("worker %s: %w", w.name, err)
		}
		for _, n := range names {
			w.offers = append(w.offers, [2]string{n, ""})
		}
	}
	return nil
}

// request sends one line and returns the worker's one-line answer.
func (w *worker) request(line string) ([]byte, error) {
	if _, err := fmt.Fprintln(w.in, line); err != nil {
		return nil, fmt.Errorf("worker %s: %w", w.name, err)
	}
	if !w.out.Scan() {
		err := w.out.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("worker %s stopped on %q (see worker_%s.log): %w", w.name, line, w.name, err)
	}
	return slices.Clone(w.out.Bytes()), nil
}

// stop closes the worker's input and waits for it to exit.
func (w *worker) stop() {
	if w.cmd == nil || w.cmd.Process == nil {
		return
	}
	w.in.Close()
	done := make(chan struct{})
	go func() { w.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		w.cmd.Process.Kill()
		<-done
	}
}

// measure asks w for one measurement of workload (impl for PyTorch).
func (w *worker) measure(workload, impl string, mintime time.Duration) (Sample, error) {
	req := fmt.Sprintf("run %s %s", workload, mintime)
	if w.torch {
		req = fmt.Sprintf("run %s %s %g", workload, impl, mintime.Seconds())
	}
	line, err := w.request(req)
	if err != nil {
		return Sample{}, err
	}
	var r struct {
		Name    string  `json:"name"`
		Seconds float64 `json:"seconds"`
		Median  float64 `json:"median"`
		Reps    int     `json:"reps"`
		Allocs  float64 `json:"allocs_per_op"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return Sample{}, fmt.Errorf("worker %s: %q: %w", w.name, line, err)
	}
	if r.Name != workload || !(r.Median > 0) {
		return Sample{}, fmt.Errorf("worker %s: answer %q to %q", w.name, line, req)
	}
	s := Sample{Workload: workload, Impl: w.name, Threads: w.threads, Seconds: r.Median, Best: r.Seconds, Reps: r.Reps}
	if w.torch {
		s.Impl = impl
	} else {
		s.Allocs = r.Allocs
	}
	return s, nil
}

// task is one implementation of one workload on one worker.
type task struct {
	w              *worker
	workload, impl string
}

// tasks lists every implementation of every workload, workloads in the Go workers' order,
// within a workload Go builds first, then PyTorch's thread settings and implementations.
func tasks(ws []*worker) []task {
	var order []string
	seen := map[string]bool{}
	for _, w := range ws {
		for _, o := range w.offers {
			if !seen[o[0]] {
				seen[o[0]] = true
				order = append(order, o[0])
			}
		}
	}
	var out []task
	for _, name := range order {
		for _, w := range ws {
			for _, o := range w.offers {
				if o[0] == name {
					out = append(out, task{w, o[0], o[1]})
				}
			}
		}
	}
	return out
}

// roundOrder returns the implementations of one workload in the order of round r (from 0):
// as listed in even rounds, reversed in odd ones (A B … / … B A).
func roundOrder[T any](impls []T, r int) []T {
	out := slices.Clone(impls)
	if r%2 == 1 {
		slices.Reverse(out)
	}
	return out
}

// loadavg returns the first three fields of /proc/loadavg ("" if unreadable).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// rounds runs every implementation of every workload once per round, the implementations
// of each workload in alternating order (roundOrder), with the load printed at the start and
// end of each round. A PyTorch implementation whose first measurement took longer than
// -slow runs in the first round only (it is no target: the per-example Gram matrix at
// n = 4096).
func (h *harness) rounds(ws []*worker) error {
	var all []task
	for _, t := range tasks(ws) {
		if (t.w.torch && h.opt.skip[t.workload+":"+t.impl]) || (len(h.opt.only) > 0 && !h.opt.only[t.workload]) {
			continue
		}
		all = append(all, t)
	}
	for k := range h.opt.skip {
		h.note("PyTorch's %s not measured (-skip)", k)
	}
	byWorkload := map[string][]task{}
	var names []string
	for _, t := range all {
		if _, ok := byWorkload[t.workload]; !ok {
			names = append(names, t.workload)
		}
		byWorkload[t.workload] = append(byWorkload[t.workload], t)
	}
	slow := map[task]bool{}
	for r := 0; r < h.opt.rounds; r++ {
		info := RoundInfo{Round: r + 1, LoadStart: loadavg(), Start: time.Now().UTC().Format(time.RFC3339)}
		fmt.Fprintf(h.log, "\n== round %d of %d, load %s\n", r+1, h.opt.rounds, info.LoadStart)
		t0 := time.Now()
		for _, name := range names {
			for _, t := range roundOrder(byWorkload[name], r) {
				if slow[t] {
					continue
				}
				s, err := t.w.measure(t.workload, t.impl, h.opt.mintime)
				if err != nil {
					return err
				}
				s.Round = r + 1
				h.res.Samples = append(h.res.Samples, s)
				fmt.Fprintf(h.log, "%-16s %-10s %-18s %10.3f ms (%d reps)\n", name, t.w.name, t.impl, 1e3*s.Seconds, s.Reps)
				if t.w.torch && r == 0 && s.Seconds > h.opt.slow.Seconds() {
					slow[t] = true
					h.note("PyTorch's %s (%s, %d thread(s)) took %s a call: measured in the first round only", name, t.impl, t.w.threads, fmtTime(s.Seconds))
				}
			}
		}
		info.LoadEnd, info.Seconds = loadavg(), time.Since(t0).Seconds()
		fmt.Fprintf(h.log, "== round %d done in %.0f s, load %s\n", r+1, info.Seconds, info.LoadEnd)
		h.res.Rounds = append(h.res.Rounds, info)
	}
	return nil
}
