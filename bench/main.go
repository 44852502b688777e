// Command bench runs sgdprior's speed benchmarks next to PyTorch's, in one run, and prints a
// table of times and ratios with the targets of BENCHMARKS.md (section "speed").
//
//	go run ./bench [-out DIR] [-mintime 2s] [-threads 1,2] [-python /usr/bin/python3]
//	               [-no-score] [-no-openblas] [-no-torch]
//
// It builds the Go workloads (bench/cmd/gobench) and the sgdprior command twice, pure Go
// (CGO_ENABLED=0) and with -tags openblas; writes the inputs once (gobench -prepare: 4096
// MNIST images from ../shared/datasets/mnist or $SGDPRIOR_MNIST, else random data of that
// shape); runs both Go builds; runs bench/torch_bench.py once per PyTorch thread setting
// (torch.set_num_threads, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS all set to it: Debian's
// torch multiplies matrices with OpenBLAS); runs `sgdprior score` end to end in both builds
// and bench/torch_score.py, with their wall times and peak memory; checks that every
// implementation computed the same numbers (relative differences against the pure-Go
// result); and prints the table. PyTorch's time for a workload is its best over
// implementations and thread settings, each cell naming which.
//
// Everything is written to DIR (default $TMPDIR/sgdprior-bench): the inputs, each
// program's log and JSON results, results.json and results.md (the table).
//
// Timings are best-of-repetitions and share the machine with whatever else runs on it: run
// the harness on a quiet machine, and compare the medians in the JSON files with the best.
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
	mintime                      time.Duration
	threads                      []int
	noScore, noOpenBLAS, noTorch bool
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "out", filepath.Join(os.TempDir(), "sgdprior-bench"), "directory for inputs, logs, results and the table")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter with torch, functorch and numpy (Debian's python3-torch)")
	fs.DurationVar(&o.mintime, "mintime", 2*time.Second, "time spent repeating each workload (at least 3 repetitions)")
	threads := fs.String("threads", "1,2", "PyTorch thread settings to try (the best is reported)")
	fs.BoolVar(&o.noScore, "no-score", false, "skip the end-to-end score comparison")
	fs.BoolVar(&o.noOpenBLAS, "no-openblas", false, "skip the openblas build")
	fs.BoolVar(&o.noTorch, "no-torch", false, "skip PyTorch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
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
		bin: filepath.Join(out, "bin"), res: &Results{Go: map[string]*GoReport{}}}
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
	if _, _, err := h.command(nil, filepath.Join(h.out, "prepare.log"), filepath.Join(h.bin, "gobench-purego"), "-prepare", "-dir", h.inputs); err != nil {
		return err
	}
	var meta struct {
		MNIST string `json:"mnist"`
	}
	if err := readJSON(filepath.Join(h.inputs, "inputs.json"), &meta); err != nil {
		return err
	}
	h.res.MNIST = meta.MNIST
	for _, b := range h.builds {
		fmt.Fprintf(h.log, "\n== sgdprior, %s build\n", b.name)
		js := filepath.Join(h.out, "go_"+b.name+".json")
		if _, _, err := h.command(nil, filepath.Join(h.out, "go_"+b.name+".log"), filepath.Join(h.bin, "gobench-"+b.name),
			"-dir", h.inputs, "-mintime", h.opt.mintime.String(), "-out", js); err != nil {
			return err
		}
		var r GoReport
		if err := readJSON(js, &r); err != nil {
			return err
		}
		h.res.Go[b.name] = &r
	}
	// PyTorch.
	if !h.opt.noTorch {
		h.torchOK = h.checkTorch()
	}
	if h.torchOK {
		for _, t := range h.opt.threads {
			fmt.Fprintf(h.log, "\n== PyTorch, %d thread(s)\n", t)
			js := filepath.Join(h.out, fmt.Sprintf("torch_%d.json", t))
			if _, _, err := h.command(threadEnv(t), filepath.Join(h.out, fmt.Sprintf("torch_%d.log", t)), h.opt.python,
				filepath.Join(h.root, "bench", "torch_bench.py"), "--dir", h.inputs, "--threads", fmt.Sprint(t),
				"--mintime", fmt.Sprint(h.opt.mintime.Seconds()), "--out", js); err != nil {
				return err
			}
			var r TorchReport
			if err := readJSON(js, &r); err != nil {
				return err
			}
			for i := range r.Results {
				r.Results[i].Threads = t
			}
			h.res.Torch = append(h.res.Torch, r)
		}
	}
	// score, end to end.
	if !h.opt.noScore {
		if err := h.scoreRuns(meta.MNIST); err != nil {
			return err
		}
	}
	// Agreement, table, files.
	h.res.Agreement = append(compareArrays(h.inputs, h.res), h.res.Agreement...)
	table := Table(h.res)
	fmt.Fprintln(h.log)
	fmt.Fprint(h.log, table)
	if err := os.WriteFile(filepath.Join(h.out, "results.md"), []byte(table), 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(h.res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(h.out, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(h.log, "\nresults in %s (results.md, results.json, logs)\n", h.out)
	return nil
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
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = fmt.Sprintf(", load average at the start %s %s %s", f[0], f[1], f[2])
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s %s/%s%s", cpu, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}
