// Command gobench runs the sgdprior side of the speed benchmarks (see ../../main.go, which
// runs it in both builds next to the PyTorch scripts, and BENCHMARKS.md, section "speed").
//
//	gobench -prepare -dir DIR [-mnist IDXDIR]   write the workloads' inputs as .npy files
//	gobench -dir DIR [-only a,b] [-out results.json] [-cpuprofile f]
//	gobench -dir DIR -serve                     answer requests on stdin (the harness's rounds)
//
// -prepare writes, from fixed seeds: M = 4096 MNIST training images (a seeded random subset;
// random data of the same shape when no MNIST directory is found) with their labels, θ for
// mlp:128 (PyTorch's default initialisation), the vectors u and v the covariance and
// Hessian products are applied to, and the breast-cancer and digits data (standardised, as
// sgdprior loads them) with the initial θ of their chains. The PyTorch scripts read the same
// files, so both sides compute the same numbers: the results are written beside them and
// compared.
//
// -serve reads one request a line from stdin and answers each with one JSON line on stdout:
// "list" with {"workloads": [names]}, "run NAME MINTIME" (MINTIME a Go duration) with the
// Result of one measurement of that workload. The harness keeps one server per build and
// sends the requests of its rounds, so that every implementation of a workload runs next to
// the others.
//
// A measurement is one warm-up call, then repetitions until MINTIME has passed (at least
// one); when the warm-up alone took more than 5 × MINTIME it is the measurement. The
// covariance is the population covariance of the n examples' gradients,
// C = (1/n) Σ (g_i − ḡ)(g_i − ḡ)ᵀ, MATH.md §2. The workloads:
//
//	gemm_peak         C = A·B, 2048×2048×2048 on both cores: two concurrent single-threaded
//	                  OpenBLAS calls in the openblas build, sgdprior's threaded GEMM (gonum's
//	                  blas64 Dgemm) otherwise
//	gemm_1t           the same product on one core (one OpenBLAS call; in the pure-Go build
//	                  with GOMAXPROCS 1 during the call)
//	cov_N             u ↦ Cu over N = 256 or 4096 examples: GradDotSum (one pass)
//	gram_N            the N×N Gram matrix g_i·g_j (Model.Gram)
//	hvp_N             (1/N) Σ H_i v (Model.HessVec)
//	chains_logistic   SGD, 64 chains, B = 32 (with replacement), logistic on breast-cancer
//	chains_mlp32      the same for mlp:32 on digits
//	lenet_cov_N       the covariance product for LeNet-5 (lenetSpec, tanh, max pooling) on
//	                  the first N = 256 or 4096 of the same MNIST images (1×28×28)
//	lenet_gram_256    its Gram matrix over the first 256
//	lenet_hvp_N       its Hessian–vector product
//	chains_lenet      SGD, 64 chains, B = 32 (with replacement), LeNet-5 on the 4096 images
//
// The flops each workload performs are counted by the harness (bench/table.go, flopCount);
// gobench reports times, and chain-steps per second for the chains.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/internal/blasimpl"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/sim"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gobench:", err)
		os.Exit(1)
	}
}

// Workload sizes. The PyTorch scripts read them from inputs.json.
const (
	subsetM    = 4096
	batchN     = 256
	hidden     = 128
	chains     = 64
	chainBatch = 32
	gemmSize   = 2048
	// lenetSpec is LeNet-5 (LeCun et al. 1998) in the cnn grammar, with PyTorch's
	// conventional padding of 2 on the first convolution so that 28×28 MNIST images give
	// the original 32×32 geometry: d = 61,706.
	lenetSpec = "cnn:c6k5p2,max2,c16k5,max2,f120,f84"
)

// inputsMeta is inputs.json, written by -prepare.
type inputsMeta struct {
	MNIST       string  `json:"mnist"` // where the images came from, or "random"
	M           int     `json:"m"`
	N           int     `json:"n"`
	Hidden      int     `json:"hidden"`
	Chains      int     `json:"chains"`
	ChainBatch  int     `json:"chain_batch"`
	LRLogistic  float64 `json:"lr_logistic"`
	LRMLP       float64 `json:"lr_mlp"`
	WeightDecay float64 `json:"weight_decay"`
	GemmSize    int     `json:"gemm_size"`
	// The chains' models, for the harness's flop counts: mlp:ChainHidden on digits
	// (DigitsP features, DigitsK classes), logistic on breast-cancer (BCP features).
	ChainHidden int `json:"chain_hidden"`
	DigitsP     int `json:"digits_p"`
	DigitsK     int `json:"digits_k"`
	BCP         int `json:"bc_p"`
	// Steps of one call of chains_logistic and chains_mlp32.
	StepsLogistic int `json:"steps_logistic"`
	StepsMLP      int `json:"steps_mlp"`
	// LeNet: the spec (tanh), its d, its forward flops per example (the GEMMs of its
	// convolutions and dense layers: 2·Cout·CinK²·positions and 2·out·in; lenetFwdFlops)
	// and the first convolution's share of them (no input gradient is needed there), the learning
	// rate and the steps of one chains_lenet call.
	LeNetSpec     string  `json:"lenet_spec"`
	LeNetD        int     `json:"lenet_d"`
	LeNetFwdFlops float64 `json:"lenet_fwd_flops"`
	LeNetL1Flops  float64 `json:"lenet_l1_flops"` // the first convolution's part
	// LeNetGramDims is what each pair (i, j) of the Gram matrix costs in multiply–adds: the
	// conv-parameter rows (Σ_conv Cout·(Cin·K² + 1)) and, per dense layer, the inner
	// products of its inputs and of its errors (Σ_dense In + Out).
	LeNetGramDims int `json:"lenet_gram_dims"`

	LRLeNet    float64 `json:"lr_lenet"`
	StepsLeNet int     `json:"steps_lenet"`
}

// Result is one workload's timing.
type Result struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"` // best repetition
	Median  float64 `json:"median"`
	Reps    int     `json:"reps"`
	// Rate is chain-steps per second (chains only; the harness counts the others' flops).
	Rate float64 `json:"rate,omitempty"`
	Unit string  `json:"unit,omitempty"`
	// AllocsPerOp counts heap allocations per repetition (runtime.MemStats.Mallocs).
	AllocsPerOp float64 `json:"allocs_per_op"`
}

// Report is the -out file.
type Report struct {
	Build      string   `json:"build"`
	BLAS       string   `json:"blas"`
	GOMAXPROCS int      `json:"gomaxprocs"`
	Results    []Result `json:"results"`
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gobench", flag.ContinueOnError)
	prepare := fs.Bool("prepare", false, "write the inputs into -dir and exit")
	dir := fs.String("dir", "", "directory of the inputs (and of the result arrays)")
	mnist := fs.String("mnist", "", "MNIST IDX directory for -prepare (default: $SGDPRIOR_MNIST, else ../shared/datasets/mnist beside the repository, else random data)")
	small := fs.Bool("small", false, "-prepare: tiny sizes (for tests of the harness)")
	only := fs.String("only", "", "comma-separated workload names (default all)")
	out := fs.String("out", "", "write the results as JSON here")
	minTime := fs.Duration("mintime", 2*time.Second, "time spent repeating each workload (at least 3 repetitions)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed workloads here")
	serveMode := fs.Bool("serve", false, "answer list/run requests on stdin (see the command's doc)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required")
	}
	if *prepare {
		return prepareInputs(*dir, *mnist, *small, stdout)
	}
	in, err := loadInputs(*dir)
	if err != nil {
		return err
	}
	if *serveMode {
		return serve(in, *dir, os.Stdin, stdout)
	}
	rep := Report{Build: buildName(), BLAS: blasimpl.Name(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s != "" {
			want[s] = true
		}
	}
	for _, w := range in.workloads() {
		if len(want) > 0 && !want[w.name] {
			continue
		}
		r, err := w.run(*minTime)
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		r.Name = w.name
		rep.Results = append(rep.Results, r)
		fmt.Fprintf(stdout, "%-18s %10.3f ms  (median %.3f ms, %d reps, %.0f allocs/op)", r.Name, 1e3*r.Seconds, 1e3*r.Median, r.Reps, r.AllocsPerOp)
		if r.Unit != "" {
			fmt.Fprintf(stdout, "  %.4g %s", r.Rate, r.Unit)
		}
		fmt.Fprintln(stdout)
		if err := w.saveTo(*dir); err != nil {
			return err
		}
	}
	if *out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*out, append(b, '\n'), 0o644)
	}
	return nil
}

func buildName() string {
	if blasimpl.OpenBLAS {
		return "sgdprior (OpenBLAS build)"
	}
	return "sgdprior (pure Go)"
}

func buildTag() string {
	if blasimpl.OpenBLAS {
		return "openblas"
	}
	return "purego"
}

// --- inputs ------------------------------------------------------------------------------

// findMNIST returns the MNIST directory to use, or "" for random data.
func findMNIST(flagValue string) string {
	cands := []string{flagValue, os.Getenv("SGDPRIOR_MNIST")}
	if wd, err := os.Getwd(); err == nil {
		// From the repository root or any directory below it.
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				cands = append(cands, filepath.Join(d, "..", "shared", "datasets", "mnist"))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	cands = append(cands, "/work/shared/datasets/mnist")
	for _, c := range cands {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "train-images-idx3-ubyte.gz")); err == nil {
			return c
		}
		if _, err := os.Stat(filepath.Join(c, "train-images-idx3-ubyte")); err == nil {
			return c
		}
	}
	return ""
}

func prepareInputs(dir, mnistFlag string, small bool, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	meta := inputsMeta{M: subsetM, N: batchN, Hidden: hidden, Chains: chains, ChainBatch: chainBatch,
		LRLogistic: 0.1, LRMLP: 0.05, WeightDecay: 1e-3, GemmSize: gemmSize, ChainHidden: 32,
		StepsLogistic: 3000, StepsMLP: 1000, LeNetSpec: lenetSpec, LRLeNet: 0.05, StepsLeNet: 10}
	if small {
		meta.M, meta.N, meta.Hidden, meta.Chains, meta.GemmSize = 64, 16, 8, 4, 64
		meta.StepsLogistic, meta.StepsMLP, meta.StepsLeNet = 50, 50, 2
	}
	rng := rand.New(rand.NewPCG(1, 0))
	var X *mat.Dense
	var Y []float64
	if src := findMNIST(mnistFlag); src != "" && !small {
		ds, err := data.Load(data.Spec{Source: "idx:" + src})
		if err != nil {
			return err
		}
		perm := rng.Perm(ds.Len())[:meta.M]
		X = mat.NewDense(meta.M, ds.NumFeatures(), nil)
		Y = make([]float64, meta.M)
		for r, i := range perm {
			X.SetRow(r, ds.X.RawRowView(i))
			Y[r] = ds.Y[i]
		}
		meta.MNIST = src
	} else {
		// Random data of MNIST's shape: pixels in [0, 1), labels uniform.
		X = mat.NewDense(meta.M, 784, nil)
		Y = make([]float64, meta.M)
		raw := X.RawMatrix().Data
		for i := range raw {
			raw[i] = rng.Float64()
		}
		for i := range Y {
			Y[i] = float64(rng.IntN(10))
		}
		meta.MNIST = "random"
	}
	net, err := model.New(fmt.Sprintf("mlp:%d", meta.Hidden), 784, 10, model.Options{})
	if err != nil {
		return err
	}
	theta := make([]float64, net.NumParams())
	model.InitParams(theta, net, rng)
	u, v := make([]float64, len(theta)), make([]float64, len(theta))
	for i := range u {
		u[i], v[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	files := map[string]any{"X.npy": X, "y.npy": Y, "theta.npy": theta, "u.npy": u, "v.npy": v}
	lenet, err := newLeNet()
	if err != nil {
		return err
	}
	meta.LeNetD = lenet.NumParams()
	meta.LeNetFwdFlops, meta.LeNetL1Flops, meta.LeNetGramDims = lenetFwdFlops(lenet)
	lth := make([]float64, lenet.NumParams())
	model.InitParams(lth, lenet, rng)
	lu, lv := make([]float64, len(lth)), make([]float64, len(lth))
	for i := range lu {
		lu[i], lv[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	files["lenet_theta.npy"], files["lenet_u.npy"], files["lenet_v.npy"] = lth, lu, lv
	for _, c := range []struct{ name, src, spec string }{
		{"bc", "breast-cancer", "logistic"},
		{"digits", "digits", "mlp:32"},
	} {
		ds, err := data.Load(data.Spec{Source: c.src})
		if err != nil {
			return err
		}
		m, err := model.New(c.spec, ds.NumFeatures(), ds.NumClasses(), model.Options{})
		if err != nil {
			return err
		}
		th := make([]float64, m.NumParams())
		model.InitParams(th, m, rng)
		files[c.name+"_X.npy"], files[c.name+"_y.npy"], files[c.name+"_theta0.npy"] = ds.X, ds.Y, th
		if c.name == "bc" {
			meta.BCP = ds.NumFeatures()
		} else {
			meta.DigitsP, meta.DigitsK = ds.NumFeatures(), ds.NumClasses()
		}
	}
	for name, val := range files {
		var err error
		switch v := val.(type) {
		case *mat.Dense:
			err = data.WriteMatrix(filepath.Join(dir, name), v)
		case []float64:
			err = data.WriteVector(filepath.Join(dir, name), v)
		}
		if err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "inputs in %s (MNIST: %s)\n", dir, meta.MNIST)
	return os.WriteFile(filepath.Join(dir, "inputs.json"), append(b, '\n'), 0o644)
}

type inputs struct {
	meta          inputsMeta
	X             *mat.Dense
	Y             []float64
	theta, u, v   []float64
	bcX, digitsX  *mat.Dense
	bcY, digitsY  []float64
	bcTh, digitTh []float64
	// LeNet-5's θ and the vectors of its products.
	lenetTh, lenetU, lenetV []float64
}

func loadInputs(dir string) (*inputs, error) {
	in := &inputs{}
	b, err := os.ReadFile(filepath.Join(dir, "inputs.json"))
	if err != nil {
		return nil, fmt.Errorf("%w (run gobench -prepare first)", err)
	}
	if err := json.Unmarshal(b, &in.meta); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "inputs.json"), err)
	}
	for _, f := range []struct {
		name string
		m    **mat.Dense
		v    *[]float64
	}{
		{"X.npy", &in.X, nil}, {"y.npy", nil, &in.Y}, {"theta.npy", nil, &in.theta}, {"u.npy", nil, &in.u},
		{"v.npy", nil, &in.v}, {"bc_X.npy", &in.bcX, nil}, {"bc_y.npy", nil, &in.bcY},
		{"bc_theta0.npy", nil, &in.bcTh}, {"digits_X.npy", &in.digitsX, nil}, {"digits_y.npy", nil, &in.digitsY},
		{"digits_theta0.npy", nil, &in.digitTh}, {"lenet_theta.npy", nil, &in.lenetTh},
		{"lenet_u.npy", nil, &in.lenetU}, {"lenet_v.npy", nil, &in.lenetV},
	} {
		p := filepath.Join(dir, f.name)
		var err error
		if f.m != nil {
			*f.m, err = data.ReadMatrix(p)
		} else {
			*f.v, err = data.ReadVector(p)
		}
		if err != nil {
			return nil, err
		}
	}
	return in, nil
}

// --- workloads ---------------------------------------------------------------------------

type workload struct {
	name string
	// op runs the workload once; steps > 0 makes the rate chain-steps per second.
	op    func() error
	steps float64
	// save writes the last result, for the comparison with PyTorch (nil: nothing to save).
	save func(path string) error
}

// saveTo writes the workload's last result into dir as go_<build>_<name>.npy.
func (w workload) saveTo(dir string) error {
	if w.save == nil {
		return nil
	}
	return w.save(filepath.Join(dir, "go_"+buildTag()+"_"+w.name+".npy"))
}

// run measures the workload: one warm-up call, then repetitions until minTime has passed
// (at least one, at most 200); a warm-up longer than 5 × minTime is the measurement itself.
func (w workload) run(minTime time.Duration) (Result, error) {
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	t0 := time.Now()
	if err := w.op(); err != nil { // warm-up: scratch space, page faults, thread start-up
		return Result{}, err
	}
	times := []float64{time.Since(t0).Seconds()}
	if times[0] <= 5*minTime.Seconds() {
		times = times[:0]
		runtime.ReadMemStats(&ms0)
		start := time.Now()
		for len(times) < 1 || (time.Since(start) < minTime && len(times) < 200) {
			t0 := time.Now()
			if err := w.op(); err != nil {
				return Result{}, err
			}
			times = append(times, time.Since(t0).Seconds())
		}
	}
	runtime.ReadMemStats(&ms1)
	slices.Sort(times)
	r := Result{Seconds: times[0], Median: times[len(times)/2], Reps: len(times),
		AllocsPerOp: float64(ms1.Mallocs-ms0.Mallocs) / float64(len(times))}
	if w.steps > 0 {
		r.Rate, r.Unit = w.steps/r.Median, "chain-steps/s"
	}
	return r, nil
}

// serve answers the harness's requests (one a line on r, one JSON line each on w) until r
// ends: "list" and "run NAME MINTIME".
func serve(in *inputs, dir string, r io.Reader, w io.Writer) error {
	ws := in.workloads()
	byName := map[string]workload{}
	var names []string
	for _, x := range ws {
		byName[x.name] = x
		names = append(names, x.name)
	}
	enc := json.NewEncoder(w)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 1 && f[0] == "list":
			if err := enc.Encode(map[string]any{"workloads": names, "build": buildName(), "blas": blasimpl.Name(), "gomaxprocs": runtime.GOMAXPROCS(0)}); err != nil {
				return err
			}
		case len(f) == 3 && f[0] == "run":
			x, ok := byName[f[1]]
			d, err := time.ParseDuration(f[2])
			if !ok || err != nil {
				return fmt.Errorf("bad request %q", sc.Text())
			}
			res, err := x.run(d)
			if err != nil {
				return fmt.Errorf("%s: %w", x.name, err)
			}
			res.Name = x.name
			if err := x.saveTo(dir); err != nil {
				return err
			}
			if err := enc.Encode(res); err != nil {
				return err
			}
		default:
			return fmt.Errorf("bad request %q", sc.Text())
		}
	}
	return sc.Err()
}

func (in *inputs) workloads() []workload {
	ws := []workload{in.gemmPeak(false), in.gemmPeak(true)}
	net, err := model.NewNetwork(fmt.Sprintf("mlp:%d", in.meta.Hidden), 784, 10, model.Options{})
	if err != nil {
		panic(err) // the spec is a constant
	}
	for _, n := range []int{in.meta.N, in.meta.M} {
		b := model.Batch{X: in.X.Slice(0, n, 0, 784).(*mat.Dense), Y: in.Y[:n]}
		ws = append(ws, covWorkload(net, in.theta, b, in.u), gramWorkload(net, in.theta, b), hvpWorkload(net, in.theta, b, in.v))
	}
	ws = append(ws,
		in.chainWorkload("chains_logistic", "logistic", in.bcX, in.bcY, in.bcTh, in.meta.LRLogistic, in.meta.StepsLogistic),
		in.chainWorkload("chains_mlp32", "mlp:32", in.digitsX, in.digitsY, in.digitTh, in.meta.LRMLP, in.meta.StepsMLP))
	lenet, err := newLeNet()
	if err != nil {
		panic(err) // the spec is a constant
	}
	for _, n := range []int{in.meta.N, in.meta.M} {
		b := model.Batch{X: in.X.Slice(0, n, 0, 784).(*mat.Dense), Y: in.Y[:n]}
		ws = append(ws, named("lenet_", covWorkload(lenet, in.lenetTh, b, in.lenetU)))
		if n == in.meta.N {
			ws = append(ws, named("lenet_", gramWorkload(lenet, in.lenetTh, b)))
		}
		ws = append(ws, named("lenet_", hvpWorkload(lenet, in.lenetTh, b, in.lenetV)))
	}
	ws = append(ws, in.chainModelWorkload("chains_lenet", lenet, in.X, in.Y, in.lenetTh, in.meta.LRLeNet, in.meta.StepsLeNet))
	return ws
}

// newLeNet returns LeNet-5 (lenetSpec) on 1×28×28 images with 10 classes.
func newLeNet() (*model.ConvNet, error) {
	return model.NewConvNet(lenetSpec, 784, 10, model.Options{Shape: []int{1, 28, 28}})
}

// lenetFwdFlops counts the flops of one example's forward pass through LeNet-5's products
// (lenetSpec on 1×28×28): 2·Cout·(Cin·K²)·Hout·Wout per convolution — c6k5p2 on 28×28 gives
// 28×28 positions, max2 14×14, c16k5 10×10, max2 5×5 — and 2·out·in per dense layer
// (400→120→84→10); biases, activations and pooling are not counted. It checks the geometry
// against m's parameter count. It returns the total, the first convolution's part, and
// the Gram matrix's multiply–adds per pair (inputsMeta.LeNetGramDims).
func lenetFwdFlops(m *model.ConvNet) (total, first float64, gramDims int) {
	type layer struct{ out, in, pos int }
	ls := []layer{{6, 1 * 5 * 5, 28 * 28}, {16, 6 * 5 * 5, 10 * 10}, {120, 16 * 5 * 5, 1}, {84, 120, 1}, {10, 84, 1}}
	d := 0
	for _, l := range ls {
		total += 2 * float64(l.out*l.in*l.pos)
		d += l.out * (l.in + 1)
		if l.pos > 1 { // a convolution: its parameter rows
			gramDims += l.out * (l.in + 1)
		} else {
			gramDims += l.in + l.out
		}
	}
	if d != m.NumParams() {
		panic(fmt.Sprintf("gobench: LeNet-5 geometry gives d = %d, the model has %d", d, m.NumParams()))
	}
	return total, 2 * float64(ls[0].out*ls[0].in*ls[0].pos), gramDims
}

// named prefixes a workload's name.
func named(prefix string, w workload) workload {
	w.name = prefix + w.name
	return w
}

// covWorkload: u ↦ Cu with C = (1/n) Σ (g_i − ḡ)(g_i − ḡ)ᵀ in one forward and backward
// pass (Network.GradDotSum): w_i = (g_i·u − ḡ·u)/n, Cu = Σ w_i g_i. ḡ is computed once
// before the timing, as a caller applying C many times at one θ does (score's factor).
func covWorkload(net model.Model, theta []float64, b model.Batch, u []float64) workload {
	n, _ := b.X.Dims()
	w, dst, mean := make([]float64, n), make([]float64, len(theta)), make([]float64, len(theta))
	net.Loss(mean, theta, b)
	return workload{
		name: fmt.Sprintf("cov_%d", n),
		op: func() error {
			var mu float64
			for j, g := range mean {
				mu += g * u[j]
			}
			model.GradDotSum(net, dst, w, theta, b, u, mu, 1/float64(n), 1)
			return nil
		},
		save: func(path string) error { return data.WriteVector(path, dst) },
	}
}

// gramWorkload: the n×n Gram matrix.
func gramWorkload(net model.Model, theta []float64, b model.Batch) workload {
	n, _ := b.X.Dims()
	G := mat.NewDense(n, n, nil)
	return workload{
		name: fmt.Sprintf("gram_%d", n),
		op:   func() error { net.Gram(G, theta, b); return nil },
		save: func(path string) error {
			// The first min(n, 256) rows are enough to compare.
			r := min(n, 256)
			return data.WriteMatrix(path, G.Slice(0, r, 0, n))
		},
	}
}

// hvpWorkload: (1/n) Σ H_i v by the R-operator.
func hvpWorkload(net model.Model, theta []float64, b model.Batch, v []float64) workload {
	n, _ := b.X.Dims()
	dst := make([]float64, len(theta))
	return workload{
		name: fmt.Sprintf("hvp_%d", n),
		op:   func() error { net.HessVec(dst, theta, b, v); return nil },
		save: func(path string) error { return data.WriteVector(path, dst) },
	}
}

// chainWorkload: steps SGD steps of 64 chains (sampling with replacement, weight decay as in
// inputs.json). θ is checked for NaN and Inf at every step, as sim always does; the loss
// over all N examples is not evaluated (CheckLossEvery = steps + 1): PyTorch's chains check
// only that θ is finite at the end, and for LeNet-5 one loss pass over the 4096 images of
// 64 chains costs more than the steps.
func (in *inputs) chainWorkload(name, spec string, X *mat.Dense, Y, init []float64, lr float64, steps int) workload {
	_, p := X.Dims()
	k := 0
	for _, y := range Y {
		k = max(k, int(y)+1)
	}
	m, err := model.New(spec, p, k, model.Options{})
	if err != nil {
		panic(err)
	}
	return in.chainModelWorkload(name, m, X, Y, init, lr, steps)
}

// chainModelWorkload is chainWorkload for a model built by the caller.
func (in *inputs) chainModelWorkload(name string, m model.Model, X *mat.Dense, Y, init []float64, lr float64, steps int) workload {
	n, _ := X.Dims()
	prob := sim.NewModelProblem(m, model.Batch{X: X, Y: Y}, in.meta.WeightDecay)
	cfg := sim.Config{Method: sim.SGD, Sampling: noise.With, LR: lr, Batch: min(in.meta.ChainBatch, n),
		Chains: in.meta.Chains, Steps: steps, Burnin: steps - 1, Seed: 1, Init: init, CheckLossEvery: steps + 1}
	return workload{
		name: name,
		op: func() error {
			_, err := sim.Run(context.Background(), prob, cfg)
			return err
		},
		steps: float64(cfg.Chains) * float64(steps),
	}
}

// gemmPeak: C = A·B for square matrices through blas64 on both cores, or on one
// (oneCore). In the openblas build OpenBLAS runs one thread per call, so two goroutines
// each multiply their own matrices at once (the machine's peak as sgdprior can use it), or
// one does; in the pure-Go build sgdprior's GEMM (blas64's Dgemm) splits one product
// between the cores itself, and GOMAXPROCS is 1 during the call for one core.
func (in *inputs) gemmPeak(oneCore bool) workload {
	s := in.meta.GemmSize
	calls, name := 1, "gemm_peak"
	if oneCore {
		name = "gemm_1t"
	} else if blasimpl.OpenBLAS {
		calls = runtime.GOMAXPROCS(0)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	type op struct{ a, b, c []float64 }
	ops := make([]op, calls)
	for i := range ops {
		ops[i] = op{make([]float64, s*s), make([]float64, s*s), make([]float64, s*s)}
		for j := range ops[i].a {
			ops[i].a[j], ops[i].b[j] = rng.NormFloat64(), rng.NormFloat64()
		}
	}
	impl := blas64.Implementation()
	return workload{
		name: name,
		op: func() error {
			if oneCore && !blasimpl.OpenBLAS {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			}
			var wg sync.WaitGroup
			for i := range ops {
				wg.Add(1)
				go func() {
					defer wg.Done()
					impl.Dgemm(blas.NoTrans, blas.NoTrans, s, s, s, 1, ops[i].a, s, ops[i].b, s, 0, ops[i].c, s)
				}()
			}
			wg.Wait()
			if math.IsNaN(ops[0].c[0]) {
				return errors.New("NaN in the product")
			}
			return nil
		},
	}
}
