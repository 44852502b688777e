package landscape

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
	"github.com/sgdprior/sgdprior/sim"
)

// Methods is a list of simulated dynamics. A *Methods is a flag.Value: a comma-separated
// list of sgd, gauss and sde.
type Methods []sim.Method

// String returns the comma-separated method names.
func (m Methods) String() string {
	parts := make([]string, len(m))
	for i, x := range m {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

// Set parses a comma-separated list of sgd, gauss and sde into m (replacing it).
func (m *Methods) Set(v string) error {
	var out Methods
	for _, s := range splitList(v) {
		x, err := sim.ParseMethod(s)
		if err != nil || !studied(x) {
			return fmt.Errorf("%q is not one of sgd, gauss, sde", s)
		}
		out = append(out, x)
	}
	*m = out
	return nil
}

// LRList is a list of learning rates. A *LRList is a flag.Value: comma-separated positive
// numbers.
type LRList []float64

// String returns the comma-separated numbers.
func (l LRList) String() string {
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// Set parses comma-separated positive finite numbers into l (replacing it).
func (l *LRList) Set(v string) error {
	var out LRList
	for _, f := range splitList(v) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil || !(x > 0) || math.IsInf(x, 0) {
			return fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, x)
	}
	*l = out
	return nil
}

// BatchList is a list of batch sizes. A *BatchList is a flag.Value: comma-separated positive
// integers.
type BatchList []int

// String returns the comma-separated integers.
func (b BatchList) String() string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ",")
}

// Set parses comma-separated positive integers into b (replacing it).
func (b *BatchList) Set(v string) error {
	var out BatchList
	for _, f := range splitList(v) {
		x, err := strconv.Atoi(f)
		if err != nil || x < 1 {
			return fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, x)
	}
	*b = out
	return nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Validate checks the settings NewPreset parses: the preset's name, the wells list (in the
// form of the named preset: "center:depth:width" or, for wells2d, "cx:cy:depth:width") and
// ou2d's matrices, and that N examples fit in the memory available (internal/memlimit: 64
// bytes per example). The error is a *field.Error keyed by the flag name ("preset", "wells",
// "hess2", "noise2"). NewPreset may still refuse values out of a preset's range.
func (s PresetSettings) Validate() error {
	name := strings.ToLower(strings.TrimSpace(s.Name))
	known := name == "" || name == "mult"
	for _, n := range PresetNames {
		known = known || name == n
	}
	if !known {
		return field.Errorf("preset", "%q is unknown (want %s)", s.Name, strings.Join(PresetNames, ", "))
	}
	if s.Wells != "" {
		var err error
		if name == "wells2d" {
			_, err = ParseWells2D(s.Wells)
		} else {
			_, err = ParseWells(s.Wells)
		}
		if err != nil {
			return field.Errorf("wells", "%v", err)
		}
	}
	for _, m := range []struct{ key, v string }{{"hess2", s.Hess2}, {"noise2", s.Cov2}} {
		if m.v == "" {
			continue
		}
		if _, err := ParseSym2(m.v); err != nil {
			return field.Errorf(m.key, "%q: %v", m.v, err)
		}
	}
	// Every preset holds a few numbers per example and the Gaussian-noise simulators one
	// more per worker: 8 numbers of 8 bytes per example bound them all.
	b, _ := memlimit.MulInt(64, s.N)
	return memlimit.Need("n", b, fmt.Sprintf("%s examples", memlimit.Count(s.N)))
}

// BindFlags defines the preset flags on fs, bound to p; their defaults are p's current
// values. A numeric field left at its zero value means the preset's default, so the flags
// refuse an explicit 0 where it is not a valid value (a usage error naming the flag)
// instead of reading it as "the default"; --spread, for which 0 is valid (constant noise),
// is a *float64 whose nil means the default.
func (p *PresetSettings) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&p.Name, "preset", p.Name, "landscape: "+strings.Join(PresetNames, ", "))
	fs.Var(positiveInt{&p.N}, "n", "number of examples N (default 1000)")
	fs.Var(positiveFloat{&p.H}, "hess", "ou, multiplicative: curvature h (default 1)")
	fs.Var(positiveFloat{&p.V}, "var", "ou: per-example gradient variance v (default 1)")
	fs.Var(positiveFloat{&p.V0}, "var0", "multiplicative: noise floor v0 (default 1); wells, wells2d: variance of the additive noise floor (default 0.3)")
	fs.Var(positiveFloat{&p.V1}, "var1", "multiplicative: v1 in the noise variance v0 + v1·θ² (default 1)")
	fs.StringVar(&p.Wells, "wells", p.Wells, "wells: \"center:depth:width,…\" (default two wells of equal depth in L, one four times wider)")
	fs.Var(optFloat{&p.Spread}, "spread", "wells, wells2d: spread of the example shifts, ≥ 0; 0 gives constant noise (default 0.15)")
	fs.Var(positiveFloat{&p.Confine}, "confine", "wells, wells2d: weak quadratic confinement (default 0.05, wells2d 0.2)")
	fs.StringVar(&p.Hess2, "hess2", p.Hess2, "ou2d: H as \"h11,h12,h22\"")
	fs.StringVar(&p.Cov2, "noise2", p.Cov2, "ou2d: per-example noise covariance C as \"c11,c12,c22\"")
}

// positiveFloat is the flag.Value of a setting whose zero value means a default: it
// accepts only positive finite numbers.
type positiveFloat struct{ p *float64 }

func (f positiveFloat) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*f.p, 'g', -1, 64)
}

func (f positiveFloat) Set(v string) error {
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(x > 0) || math.IsInf(x, 0) {
		return fmt.Errorf("must be a positive finite number, not %q", v)
	}
	*f.p = x
	return nil
}

// positiveInt is the flag.Value of an integer setting whose zero value means a default: it
// accepts only positive integers.
type positiveInt struct{ p *int }

func (f positiveInt) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.Itoa(*f.p)
}

func (f positiveInt) Set(v string) error {
	x, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || x < 1 {
		return fmt.Errorf("must be a positive integer, not %q", v)
	}
	*f.p = x
	return nil
}

// optFloat is the flag.Value of an optional setting (nil: the default, written ""): it
// accepts finite numbers ≥ 0.
type optFloat struct{ p **float64 }

func (f optFloat) String() string {
	if f.p == nil || *f.p == nil {
		return ""
	}
	return strconv.FormatFloat(**f.p, 'g', -1, 64)
}

func (f optFloat) Set(v string) error {
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(x >= 0) || math.IsInf(x, 0) {
		return fmt.Errorf("must be a finite number ≥ 0, not %q", v)
	}
	*f.p = &x
	return nil
}

// BindFlags defines the run's flags on fs, bound to s; their defaults are s's current
// values (start from DefaultSettings).
func (s *Settings) BindFlags(fs *flag.FlagSet) {
	fs.Var(positiveFloat{&s.LR}, "lr", "learning rate η (default: the preset's)")
	fs.Var(positiveInt{&s.Batch}, "batch", "batch size B (default: the preset's)")
	fs.Var(&s.Sampling, "sampling", "mini-batch sampling: with, without or reshuffle")
	fs.IntVar(&s.Chains, "chains", s.Chains, "simulated chains")
	fs.IntVar(&s.Time, "steps", s.Time, "simulated time per chain, in SGD steps")
	fs.Var(&s.Methods, "simulators", "comma-separated: sgd, gauss (Gaussian-noise SGD), sde (Euler–Maruyama); gauss and sde cost O(N) per step")
	fs.Float64Var(&s.DT, "dt", s.DT, "SDE step in units of SGD steps")
	fs.BoolVar(&s.NoSim, "exact-only", s.NoSim, "compute only the exact answers, no simulation")
	fs.Var(&s.SweepLR, "sweep-lr", "comma-separated learning rates for the sweep of well shares")
	fs.Var(&s.SweepBatch, "sweep-batch", "comma-separated batch sizes for the sweep")
	fs.IntVar(&s.SweepTime, "sweep-steps", s.SweepTime, "SGD time per chain at each sweep point (default --steps)")
	fs.Uint64Var(&s.Seed, "seed", s.Seed, "random seed")
}
