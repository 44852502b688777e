package landscape

import (
	"cmp"
	"context"
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/sim"
)

// Settings configures Run: the settings of the `sgdprior landscape` command (the preset is
// chosen and configured by PresetSettings).
type Settings struct {
	// LR is η and Batch is B; 0 means the preset's Defaults() (which depend on the preset).
	LR    float64
	Batch int
	// Sampling is SGD's mini-batch scheme; it sets κ_B = noise.Kappa(Sampling, N, B) for every
	// law.
	Sampling noise.Sampling
	// Exact configures the 1-D quadrature (domain, display bins, tolerance); FP the 2-D
	// Fokker–Planck grid.
	Exact Exact1DSettings
	FP    FP2DSettings
	// NoSim skips every simulation (only the exact answers are computed).
	NoSim bool
	// Methods are the simulated dynamics (SGD, Gauss, SDE); empty means SGD only. Gauss and
	// SDE cost O(N) per step (they draw noise through all N examples), SGD O(B).
	Methods Methods
	// Chains, Time (per chain, in SGD steps), Burnin, Seed and DT configure the simulations
	// as in SimSettings (burn-in 0 means time/10). Run reads zero Chains, Time and DT as
	// DefaultSettings' values.
	Chains, Time, Burnin int
	Seed                 uint64
	DT                   float64
	// SweepLR and SweepBatch span the sweep grid (every pair); empty: no sweep. A missing
	// list means the run's own η or B. SweepTime is each sweep point's SGD time per chain;
	// 0 means Time.
	SweepLR    LRList
	SweepBatch BatchList
	SweepTime  int
}

// DefaultSettings returns the command's defaults: the preset's η and B, sampling without
// replacement, SGD simulated in 8 chains for time 200000 each, SDE step 0.1, seed 1, no
// sweep.
func DefaultSettings() Settings {
	return Settings{Sampling: noise.Without, Methods: Methods{sim.SGD}, Chains: 8, Time: 200000, DT: 0.1, Seed: 1}
}

// Validate checks the settings that do not depend on the preset (B ≤ N is checked by Run).
// The error is a *field.Error keyed by the flag name.
func (s Settings) Validate() error {
	switch {
	case s.LR < 0 || math.IsNaN(s.LR) || math.IsInf(s.LR, 0):
		return field.Errorf("lr", "must be > 0, not %v", s.LR)
	case s.Batch < 0:
		return field.Errorf("batch", "must be ≥ 1, not %d", s.Batch)
	case s.Chains < 2:
		return field.Errorf("chains", "must be ≥ 2 (error bars come from the spread between chains), not %d", s.Chains)
	case s.Time < 100:
		return field.Errorf("steps", "must be ≥ 100, not %d", s.Time)
	case !(s.DT > 0 && s.DT <= 1):
		return field.Errorf("dt", "must be in (0, 1], not %v", s.DT)
	case s.SweepTime < 0 || s.SweepTime > 0 && s.SweepTime < 100:
		return field.Errorf("sweep-steps", "must be ≥ 100 (or 0: the run's steps), not %d", s.SweepTime)
	}
	for _, m := range s.Methods {
		if !studied(m) {
			return field.Errorf("simulators", "has %v, not one of sgd, gauss, sde", m)
		}
	}
	for _, v := range s.SweepLR {
		if !(v > 0) || math.IsInf(v, 0) {
			return field.Errorf("sweep-lr", "has %v, not a positive number", v)
		}
	}
	for _, v := range s.SweepBatch {
		if v < 1 {
			return field.Errorf("sweep-batch", "has %d, not a positive integer", v)
		}
	}
	return s.checkSizes()
}

// maxSimSteps bounds the simulated steps per chain, time/dt: 2⁵³, the largest count a
// float64 holds exactly.
const maxSimSteps = 1 << 53

// checkSizes checks, before anything is allocated, that the step count time/dt fits
// (≤ 2⁵³) and that the chains' histograms fit in the memory available (internal/memlimit):
// per chain one count per cell of the larger display grid (Exact.Bins, default 200, or
// FP.NX × FP.NY, default 120 × 120) and 16 numbers more.
func (s Settings) checkSizes() error {
	for _, t := range []struct {
		key  string
		time int
	}{{"steps", s.Time}, {"sweep-steps", s.SweepTime}} {
		if steps := float64(t.time) / s.DT; !(steps <= maxSimSteps) {
			return field.Errorf(t.key, "%d at --dt %v means %.3g steps per chain, more than the %d (2⁵³) a run can count", t.time, s.DT, steps, maxSimSteps)
		}
	}
	bins := cmp.Or(s.Exact.Bins, 200)
	nx, ny := cmp.Or(s.FP.NX, 120), cmp.Or(s.FP.NY, 120)
	cells, _ := memlimit.MulInt(nx, ny)
	cells = memlimit.Add(max(cells, uint64(max(bins, 0))), 16)
	b, _ := memlimit.Mul(8, uint64(s.Chains), cells)
	return memlimit.Need("chains", b, fmt.Sprintf("%s chains × %d histogram cells", memlimit.Count(s.Chains), cells-16))
}

// studied reports whether Run can simulate m.
func studied(m sim.Method) bool { return m == sim.SGD || m == sim.Gauss || m == sim.SDE }

// Run computes everything the `sgdprior landscape` command reports for one preset: the
// exact stationary density of the SDE and the note's density (1-D quadrature, Exact1D, or
// the 2-D Fokker–Planck solution, Stationary2DFP), each well's mass and escape time,
// closed-form variances for the unimodal presets, the simulated histograms, variances,
// masses and escape times (Simulate), and the sweep over η and B. Warnings from every part
// are collected in Result.Warnings, prefixed by the part. A batch size outside [1, N] or a
// learning rate that is not positive and finite (after the preset's defaults) is a
// *field.Error.
func Run(ctx context.Context, p Preset, s Settings) (*Result, error) {
	d := p.Dim()
	if d != 1 && d != 2 {
		panic(fmt.Sprintf("landscape: Run needs a 1-D or 2-D preset, %s has d = %d", p.Name(), d))
	}
	lr, batch := p.Defaults()
	if s.LR != 0 {
		lr = s.LR
	}
	if s.Batch != 0 {
		batch = s.Batch
	}
	n := p.NumExamples()
	if batch < 1 || batch > n {
		return nil, field.Errorf("batch", "%d outside [1, N = %d]", batch, n)
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, field.Errorf("lr", "must be positive and finite, not %v", lr)
	}
	kappa, err := noise.Kappa(s.Sampling, n, batch)
	if err != nil {
		return nil, err
	}
	methods := []sim.Method(s.Methods)
	if len(methods) == 0 {
		methods = []sim.Method{sim.SGD}
	}
	def := DefaultSettings()
	if s.Chains == 0 {
		s.Chains = def.Chains
	}
	if s.Time == 0 {
		s.Time = def.Time
	}
	if s.DT == 0 {
		s.DT = def.DT
	}
	r := &Result{Preset: p.Name(), Params: p.Params(), LR: Float(lr), Batch: batch,
		Sampling: s.Sampling.String(), Kappa: Float(kappa), DT: Float(math.NaN()), Seed: s.Seed,
		Current: Float(math.NaN()), NoteNonGradient: Float(math.NaN())}
	warn := func(part string, ws []string) {
		for _, w := range ws {
			r.Warnings = append(r.Warnings, part+": "+w)
		}
	}
	minima := p.Minima()
	nw := len(minima)
	r.Wells = make([]WellOut, nw)
	nan := Float(math.NaN())
	for k, m := range minima {
		r.Wells[k] = WellOut{Center: toFloats(m), MassExact: nan, MassNote: nan, MassSGD: nan, MassSGDStderr: nan,
			MassGauss: nan, MassGaussStderr: nan, MassSDE: nan, MassSDEStderr: nan,
			EscapeExact: nan, EscapeKramers: nan, EscapeSGD: nan, EscapeSGDStderr: nan,
			EscapeSDE: nan, EscapeSDEStderr: nan}
	}

	// Exact answers.
	var grid Grid
	var exactVar, noteVar []float64
	switch d {
	case 1:
		ex, err := Exact1D(p, lr, kappa, &s.Exact)
		if err != nil {
			return nil, err
		}
		warn("exact", ex.Warnings)
		r.Grid.X = toFloats(ex.Centers)
		r.Density.Exact, r.Density.Note = toFloats(ex.Exact), toFloats(ex.Note)
		r.Domain = [][2]Float{{Float(ex.Lo), Float(ex.Hi)}}
		grid = Grid{Lo: []float64{ex.Edges[0]}, Hi: []float64{ex.Edges[len(ex.Edges)-1]}, N: []int{len(ex.Centers)}}
		for k := range r.Wells {
			r.Wells[k].MassExact, r.Wells[k].MassNote = Float(ex.MassExact[k]), Float(ex.MassNote[k])
			if nw > 1 {
				r.Wells[k].EscapeExact, r.Wells[k].EscapeKramers = Float(ex.Escape[k]), Float(ex.Kramers[k])
			}
		}
		exactVar, noteVar = []float64{ex.VarExact}, []float64{ex.VarNote}
	case 2:
		fp, err := Stationary2DFP(p, lr, kappa, &s.FP)
		if err != nil {
			return nil, err
		}
		warn("fokker-planck", fp.Warnings)
		r.Grid.X, r.Grid.Y = toFloats(fp.X), toFloats(fp.Y)
		r.Density.Exact, r.Density.Note = toFloats(fp.Density), toFloats(fp.Note)
		r.Current, r.NoteNonGradient = Float(fp.Current), Float(fp.NoteNonGradient)
		r.CurrentField = &CurrentFieldOut{JX: toFloats(fp.JX), JY: toFloats(fp.JY)}
		r.Domain = [][2]Float{{Float(fp.Lo[0]), Float(fp.Hi[0])}, {Float(fp.Lo[1]), Float(fp.Hi[1])}}
		grid = Grid{Lo: fp.Lo, Hi: fp.Hi, N: []int{fp.NX, fp.NY}}
		for k := range r.Wells {
			r.Wells[k].MassExact, r.Wells[k].MassNote = Float(fp.MassExact[k]), Float(fp.MassNote[k])
			if nw > 1 {
				r.Wells[k].EscapeExact = Float(fp.Escape[k])
			}
		}
		exactVar, noteVar = fp.Cov, fp.NoteCov
		if nw > 1 {
			r.Warnings = append(r.Warnings, "exact: Kramers' approximation is computed in 1-D only")
		}
	}

	// Variances (unimodal presets): closed forms where known, else the exact laws' moments.
	if nw == 1 {
		v := &VarianceOut{Exact: toFloats(exactVar), Note: toFloats(noteVar)}
		if cf, ok := p.(ClosedForm); ok {
			c := cf.Variances(lr, kappa)
			v.Exact, v.Note, v.Discrete = toFloats(c.SDE), toFloats(c.Note), toFloats(c.Discrete)
			for _, x := range []*[]Float{&v.Exact, &v.Note, &v.Discrete} {
				if *x == nil {
					*x = nanFloats(d * d)
				}
			}
			warn("variance", c.Warnings)
		} else {
			v.Discrete = nanFloats(d * d)
		}
		r.Variance = v
	}

	// Simulations.
	if !s.NoSim {
		r.Time, r.Chains = s.Time, s.Chains
		for _, m := range methods {
			if !studied(m) {
				return nil, fmt.Errorf("landscape: method %v cannot be studied (want sgd, gauss or sde)", m)
			}
			if m == sim.SDE {
				r.DT = Float(s.DT)
			}
			g := grid
			sr, err := Simulate(ctx, p, SimSettings{Method: m, Sampling: s.Sampling, LR: lr, Batch: batch,
				DT: s.DT, Chains: s.Chains, Time: s.Time, Burnin: s.Burnin, Seed: s.Seed, Grid: &g})
			if err != nil {
				return nil, err
			}
			warn(m.String(), sr.Warnings)
			if sr.Outside > 1e-3 {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%v: %.3g of the iterates fall outside the display grid", m, sr.Outside))
			}
			dens, derr := toFloats(sr.Density), toFloats(sr.DensityErr)
			cov, cerr := toFloats(sr.Cov), toFloats(sr.CovErr)
			for k := range r.Wells {
				w := &r.Wells[k]
				switch m {
				case sim.SGD:
					w.MassSGD, w.MassSGDStderr, w.MassSGDChains = Float(sr.Mass[k]), Float(sr.MassErr[k]), toFloats(sr.MassChains[k])
					if nw > 1 {
						w.EscapeSGD, w.EscapeSGDStderr, w.EscapesSGD = Float(sr.Escape[k]), Float(sr.EscapeErr[k]), sr.Escapes[k]
					}
				case sim.Gauss:
					w.MassGauss, w.MassGaussStderr = Float(sr.Mass[k]), Float(sr.MassErr[k])
				case sim.SDE:
					w.MassSDE, w.MassSDEStderr = Float(sr.Mass[k]), Float(sr.MassErr[k])
					if nw > 1 {
						w.EscapeSDE, w.EscapeSDEStderr, w.EscapesSDE = Float(sr.Escape[k]), Float(sr.EscapeErr[k]), sr.Escapes[k]
					}
				}
			}
			switch m {
			case sim.SGD:
				r.Density.SGD, r.Density.SGDStderr = dens, derr
				if r.Variance != nil {
					r.Variance.SGD, r.Variance.SGDStderr = cov, cerr
				}
			case sim.Gauss:
				r.Density.Gauss, r.Density.GaussStderr = dens, derr
				if r.Variance != nil {
					r.Variance.Gauss, r.Variance.GaussStderr = cov, cerr
				}
			case sim.SDE:
				r.Density.SDE, r.Density.SDEStderr = dens, derr
				if r.Variance != nil {
					r.Variance.SDE, r.Variance.SDEStderr = cov, cerr
				}
			}
		}
	}

	// Sweep.
	if len(s.SweepLR) > 0 || len(s.SweepBatch) > 0 {
		sw, ws, err := Sweep(ctx, p, SweepSettings{LR: []float64(s.SweepLR), Batch: []int(s.SweepBatch), DefaultLR: lr, DefaultBatch: batch,
			Sampling: s.Sampling, Exact: s.Exact, FP: s.FP, NoSim: s.NoSim, Chains: s.Chains,
			Time: s.SweepTime, Seed: s.Seed})
		if err != nil {
			return nil, err
		}
		r.Sweep = sw
		warn("sweep", ws)
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r, nil
}

// SweepSettings configures Sweep. Zero fields mean defaults.
type SweepSettings struct {
	// LR and Batch span the grid (every pair); an empty list means {DefaultLR} or
	// {DefaultBatch}, which default to the preset's Defaults().
	LR           []float64
	Batch        []int
	DefaultLR    float64
	DefaultBatch int
	Sampling     noise.Sampling
	Exact        Exact1DSettings
	FP           FP2DSettings
	// NoSim skips SGD; Chains (default 8), Time (per chain, default 200000) and Seed
	// configure it (burn-in Time/10).
	NoSim  bool
	Chains int
	Time   int
	Seed   uint64
}

// Sweep returns, for every (η, B) of the grid, each well's share of the probability under
// the exact density, the note's density and SGD (with its between-chain standard error),
// and the warnings of every point (prefixed with η and B).
func Sweep(ctx context.Context, p Preset, s SweepSettings) ([]SweepOut, []string, error) {
	lr0, b0 := p.Defaults()
	if s.DefaultLR != 0 {
		lr0 = s.DefaultLR
	}
	if s.DefaultBatch != 0 {
		b0 = s.DefaultBatch
	}
	lrs, bs := s.LR, s.Batch
	if len(lrs) == 0 {
		lrs = []float64{lr0}
	}
	if len(bs) == 0 {
		bs = []int{b0}
	}
	n := p.NumExamples()
	var out []SweepOut
	var warns []string
	for _, lr := range lrs {
		for _, b := range bs {
			if b < 1 || b > n {
				return nil, nil, field.Errorf("sweep-batch", "has %d, outside [1, N = %d]", b, n)
			}
			if !(lr > 0) || math.IsInf(lr, 0) {
				return nil, nil, field.Errorf("sweep-lr", "has %v, not positive and finite", lr)
			}
			kappa, err := noise.Kappa(s.Sampling, n, b)
			if err != nil {
				return nil, nil, err
			}
			tag := fmt.Sprintf("η = %g, B = %d: ", lr, b)
			pt := SweepOut{LR: Float(lr), Batch: b, Kappa: Float(kappa)}
			var mass, note []float64
			if p.Dim() == 1 {
				set := s.Exact
				set.Lo, set.Hi, set.BinLo, set.BinHi = 0, 0, 0, 0 // the domain depends on η and B
				ex, err := Exact1D(p, lr, kappa, &set)
				if err != nil {
					return nil, nil, err
				}
				mass, note = ex.MassExact, ex.MassNote
				for _, w := range ex.Warnings {
					warns = append(warns, tag+w)
				}
			} else {
				set := s.FP
				set.Lo, set.Hi = nil, nil
				fp, err := Stationary2DFP(p, lr, kappa, &set)
				if err != nil {
					return nil, nil, err
				}
				mass, note = fp.MassExact, fp.MassNote
				for _, w := range fp.Warnings {
					warns = append(warns, tag+w)
				}
			}
			pt.Shares.Exact, pt.Shares.Note = toFloats(mass), toFloats(note)
			pt.Shares.SGD, pt.Shares.SGDStderr = nanFloats(len(mass)), nanFloats(len(mass))
			if !s.NoSim {
				sr, err := Simulate(ctx, p, SimSettings{Sampling: s.Sampling, LR: lr, Batch: b,
					Chains: s.Chains, Time: s.Time, Seed: s.Seed})
				if err != nil {
					return nil, nil, err
				}
				pt.Shares.SGD, pt.Shares.SGDStderr = toFloats(sr.Mass), toFloats(sr.MassErr)
				for _, w := range sr.Warnings {
					warns = append(warns, tag+w)
				}
			}
			out = append(out, pt)
		}
	}
	return out, warns, nil
}
