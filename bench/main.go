// Command bench runs sgdprior's speed benchmarks next to PyTorch's, in one run, and prints a
// table of times and ratios with the targets of BENCHMARKS.md (section "speed").
//
//	go run ./bench [-out DIR] [-rounds 5] [-mintime 300ms] [-threads 1,2] [-score-rounds 3] [-skip w:impl,…]
//	               [-python /usr/bin/python3] [-no-score] [-no-openblas] [-no-torch]
//
// It builds the Go workloads (bench/cmd/gobench) and the sgdprior command twice, pure Go
// (CGO_ENABLED=0) and with -tags openblas; writes the inputs once (gobench -prepare: 4096
// MNIST images from ../shared/datasets/mnist or $SGDPRIOR_MNIST, else random data of that
// shape); then starts one measuring process per implementation and keeps it for the whole
// run: gobench -serve of each build, and bench/torch_bench.py --serve once per PyTorch thread
// setting (torch.set_num_threads, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS all set to it:
// Debian's torch multiplies matrices with OpenBLAS).
//
// The measurements run in rounds (-rounds, at least 5 by default): each round measures
// every implementation of every workload once — pure Go, OpenBLAS, each PyTorch
// implementation at each thread setting — one after the other, the implementations of a
// workload in the listed order in odd rounds and reversed in even ones (A B … / … B A), so
// every side sees the same load. The dgemm peak (OpenBLAS on two cores and on one, and the
// pure-Go GEMM) is one of the workloads, measured in the same rounds. The load average is
// read at the start and the end of every round. A measurement is one warm-up call and
// repetitions for -mintime (its median is the round's value); the table gives per
// implementation the median over rounds and the min–max spread, the ratios are ratios of
// medians, and "% of peak" is the rate of the flops the code performs (flopCount) over the
// median peak. Then `sgdprior score` end to end in both builds and bench/torch_score.py, in
// -score-rounds rounds alternated the same way, with their wall times and peak memory; the
// harness checks that every implementation computed the same numbers (relative
// differences against the pure-Go result) and prints the table.
//
// Everything is written to DIR (default $TMPDIR/sgdprior-bench): the inputs, each
// program's log, results.json (every sample) and results.md (the table).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	out, python                  string
	mintime, slow                time.Duration
	rounds, scoreRounds          int
	threads                      []int
	skip                         map[string]bool // "workload:impl" of PyTorch not measured
	only                         map[string]bool // the workloads to measure (empty: all)
	noScore, noOpenBLAS, noTorch bool
	small                        bool
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "out", filepath.Join(os.TempDir(), "sgdprior-bench"), "directory for inputs, logs, results and the table")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter with torch, functorch and numpy (Debian's python3-torch)")
	fs.DurationVar(&o.mintime, "mintime", 300*time.Millisecond, "time spent repeating a workload in one measurement (after one warm-up call; at least one repetition)")
	fs.IntVar(&o.rounds, "rounds", 5, "rounds: each measures every implementation of every workload once")
	fs.IntVar(&o.scoreRounds, "score-rounds", 3, "rounds of the end-to-end score runs")
	fs.DurationVar(&o.slow, "slow", 10*time.Second, "a PyTorch implementation slower than this a call in the first round is measured in that round only")
	threads := fs.String("threads", "1,2", "PyTorch thread settings to try (the best is reported)")
	skip := fs.String("skip", "gram_4096:perex_outer", "comma-separated workload:impl of PyTorch not to measure (the default, 3.4 TFLOP a call, is no target)")
	fs.BoolVar(&o.noScore, "no-score", false, "skip the end-to-end score comparison")
	fs.BoolVar(&o.noOpenBLAS, "no-openblas", false, "skip the openblas build")
	fs.BoolVar(&o.noTorch, "no-torch", false, "skip PyTorch")
	only := fs.String("only", "", "comma-separated workloads to measure (default all), e.g. gemm_peak,gemm_1t,cov_256,cov_4096")
	fs.BoolVar(&o.small, "small", false, "tiny inputs, no score runs (a test of the harness, not a benchmark)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.noScore = o.noScore || o.small
	o.only = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s != "" {
			o.only[s] = true
		}
	}
	o.skip = map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		if s != "" {
			o.skip[s] = true
		}
	}
	if o.rounds < 1 || o.scoreRounds < 1 {
		return errors.New("-rounds and -score-rounds must be at least 1")
	}
	for _, s := range strings.Split(*threads, ",") {
		var t int
		if _, err := fmt.Sscan(s, &t); err != nil || t < 1 {
			return fmt.Errorf("-threads: %q is not a positive integer", s)
		}
		o.threads = append(o.threads, t)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	h := &harness{opt: o, root: root, out: out, log: stdout, inputs: filepath.Join(out, "inputs"),
		bin: filepath.Join(out, "bin"), res: &Results{Builds: map[string]BuildInfo{}}}
	if err := h.all(); err != nil {
		return err
	}
	return nil
}

// repoRoot returns the directory holding sgdprior's go.mod (bench runs from the repository).
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/sgdprior/sgdprior\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("run bench from inside the sgdprior repository")
		}
	}
}

// goBuild is one build of sgdprior.
type goBuild struct {
	name, tags, cgo string
}

var goBuilds = []goBuild{{"purego", "", "0"}, {"openblas", "openblas", "1"}}

type harness struct {
	opt         options
	root, out   string
	inputs, bin string
	log         io.Writer
	res         *Results
	builds      []goBuild // those that built
	sgdprior    map[string]string
	torchOK     bool
}

func (h *harness) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	h.res.Notes = append(h.res.Notes, s)
	fmt.Fprintln(h.log, "bench: note:", s)
}

func (h *harness) all() error {
	for _, d := range []string{h.out, h.inputs, h.bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	h.res.Machine = machine()
	h.res.Load = loadavg()
	h.res.Date = time.Now().UTC().Format(time.RFC3339)
	// Builds.
	h.sgdprior = map[string]string{}
	for _, b := range goBuilds {
		if b.name == "openblas" && h.opt.noOpenBLAS {
			continue
		}
		exe := filepath.Join(h.bin, "gobench-"+b.name)
		if err := h.goBuild(b, exe, "./bench/cmd/gobench"); err != nil {
			if b.name == "purego" {
				return err
			}
			h.note("the openblas build failed (is libopenblas-dev installed?): %v", err)
			continue
		}
		h.builds = append(h.builds, b)
		if !h.opt.noScore {
			exe := filepath.Join(h.bin, "sgdprior-"+b.name)
			if err := h.goBuild(b, exe, "./cmd/sgdprior"); err != nil {
				h.note("sgdprior (%s) does not build, no score timing for it: %v", b.name, err)
			} else {
				h.sgdprior[b.name] = exe
			}
		}
	}
	// Inputs, then the Go workloads.
	prep := []string{"-prepare", "-dir", h.inputs}
	if h.opt.small {
		prep = append(prep, "-small")
	}
	if _, _, err := h.command(nil, filepath.Join(h.out, "prepare.log"), filepath.Join(h.bin, "gobench-purego"), prep...); err != nil {
		return err
	}
	var meta struct {
		MNIST string `json:"mnist"`
	}
	if err := readJSON(filepath.Join(h.inputs, "inputs.json"), &meta); err != nil {
		return err
	}
	h.res.MNIST = meta.MNIST
	if err := readJSON(filepath.Join(h.inputs, "inputs.json"), &h.res.Meta); err != nil {
		return err
	}
	h.res.NRounds = h.opt.rounds
	h.res.MinTime = h.opt.mintime.String()
	// The workers, then the rounds.
	var ws []*worker
	defer func() {
		for _, w := range ws {
			w.stop()
		}
	}()
	for _, b := range h.builds {
		w := &worker{name: b.name}
		if err := h.startWorker(w, nil, filepath.Join(h.bin, "gobench-"+b.name), "-serve", "-dir", h.inputs); err != nil {
			return err
		}
		ws = append(ws, w)
		bi := BuildInfo{}
		if v, ok := w.info["blas"].(string); ok {
			bi.BLAS = v
		}
		if v, ok := w.info["gomaxprocs"].(float64); ok {
			bi.GOMAXPROCS = int(v)
		}
		h.res.Builds[b.name] = bi
	}
	if !h.opt.noTorch {
		h.torchOK = h.checkTorch()
	}
	if h.torchOK {
		for _, t := range h.opt.threads {
			w := &worker{name: fmt.Sprintf("torch_%d", t), torch: true, threads: t}
			if err := h.startWorker(w, threadEnv(t), h.opt.python, filepath.Join(h.root, "bench", "torch_bench.py"),
				"--dir", h.inputs, "--threads", fmt.Sprint(t), "--serve"); err != nil {
				return err
			}
			ws = append(ws, w)
		}
	}
	if err := h.rounds(ws); err != nil {
		return err
	}
	for _, w := range ws {
		w.stop()
	}
	ws = nil
	if err := h.write(); err != nil { // the rounds' results, should the score runs be stopped
		return err
	}
	// score, end to end.
	if !h.opt.noScore {
		if err := h.scoreRuns(meta.MNIST); err != nil {
			return err
		}
	}
	// Agreement, table, files.
	h.res.Agreement = append(compareArrays(h.inputs, h.res), h.res.Agreement...)
	if err := h.write(); err != nil {
		return err
	}
	fmt.Fprintln(h.log)
	fmt.Fprint(h.log, Table(h.res))
	fmt.Fprintf(h.log, "\nresults in %s (results.md, results.json, logs)\n", h.out)
	return nil
}

// write writes results.md and results.json (after the rounds, and again after the score
// runs).
func (h *harness) write() error {
	if err := os.WriteFile(filepath.Join(h.out, "results.md"), []byte(Table(h.res)), 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(h.res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(h.out, "results.json"), append(b, '\n'), 0o644)
}

// threadEnv pins every thread pool PyTorch may use to t threads.
func threadEnv(t int) []string {
	s := fmt.Sprint(t)
	return []string{"OMP_NUM_THREADS=" + s, "OPENBLAS_NUM_THREADS=" + s, "MKL_NUM_THREADS=" + s}
}

// checkTorch reports whether the interpreter has torch, functorch and numpy.
func (h *harness) checkTorch() bool {
	cmd := exec.Command(h.opt.python, "-c", "import torch, numpy, functorch; print(torch.__version__)")
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.note("%s cannot import torch, functorch and numpy (apt-get install python3-torch): PyTorch skipped: %s", h.opt.python, strings.TrimSpace(string(out)))
		return false
	}
	h.res.TorchVersion = strings.TrimSpace(string(out))
	return true
}

func (h *harness) goBuild(b goBuild, exe, pkg string) error {
	args := []string{"build", "-o", exe}
	if b.tags != "" {
		args = append(args, "-tags", b.tags)
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = h.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// command runs name with args in the repository root, its output copied to the log and to
// logFile, and returns its wall time and peak resident memory in bytes.
func (h *harness) command(env []string, logFile string, name string, args ...string) (time.Duration, int64, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = h.root
	cmd.Env = append(os.Environ(), env...)
	f, err := os.Create(logFile)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	w := io.MultiWriter(h.log, f)
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss * 1024 // Linux reports kilobytes
		}
	}
	if err != nil {
		return wall, rss, fmt.Errorf("%s %s: %w (log: %s)", filepath.Base(name), strings.Join(args, " "), err, logFile)
	}
	return wall, rss, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// machine describes the CPU and Go runtime the harness ran on.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				if i := strings.Index(line, ":"); i >= 0 {
					cpu = strings.TrimSpace(line[i+1:])
				}
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s %s/%s", cpu, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
