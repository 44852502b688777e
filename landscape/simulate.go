package landscape

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/sim"
)

// Grid is a uniform histogram grid: N[a] equal bins over [Lo[a], Hi[a]] on each axis a.
// In 2-D cell (i, j) has the flat index i·N[1] + j, as in Stationary2D.
type Grid struct {
	Lo, Hi []float64
	N      []int
}

// cells returns the number of cells and panics on a malformed grid of dimension d.
func (g Grid) cells(d int) int {
	if len(g.Lo) != d || len(g.Hi) != d || len(g.N) != d {
		panic(fmt.Sprintf("landscape: grid of dimension %d/%d/%d for a %d-D preset", len(g.Lo), len(g.Hi), len(g.N), d))
	}
	n := 1
	for a := range d {
		if g.N[a] < 1 || !(g.Lo[a] < g.Hi[a]) {
			panic(fmt.Sprintf("landscape: grid axis %d: %d bins over [%v, %v]", a, g.N[a], g.Lo[a], g.Hi[a]))
		}
		n *= g.N[a]
	}
	return n
}

// index returns θ's cell, or −1 outside the grid.
func (g Grid) index(theta []float64) int {
	k := 0
	for a, x := range theta {
		t := (x - g.Lo[a]) / (g.Hi[a] - g.Lo[a]) * float64(g.N[a])
		if !(t >= 0) || t >= float64(g.N[a]) {
			return -1
		}
		k = k*g.N[a] + int(t)
	}
	return k
}

// cellVolume returns the volume of one cell.
func (g Grid) cellVolume() float64 {
	v := 1.0
	for a := range g.N {
		v *= (g.Hi[a] - g.Lo[a]) / float64(g.N[a])
	}
	return v
}

// SimSettings configures Simulate. Zero fields mean defaults (LR and Batch: the preset's).
type SimSettings struct {
	// Method is the simulated dynamics (sim.SGD, sim.Gauss or sim.SDE); default SGD.
	Method sim.Method
	// Sampling is SGD's mini-batch scheme (and picks κ_B for Gauss and SDE); default
	// without replacement.
	Sampling noise.Sampling
	// LR is η and Batch is B; defaults the preset's Defaults().
	LR    float64
	Batch int
	// DT is the SDE's step; default 0.1. Other methods ignore it.
	DT float64
	// Chains is the number of independent chains; default 8.
	Chains int
	// Time is the simulated time per chain in SGD steps (the SDE takes Time/DT steps of
	// size DT); default 200000.
	Time int
	// Burnin is the simulated time discarded from histograms, moments and masses (escape
	// times are recorded from the start); default Time/10.
	Burnin int
	// Seed seeds the chains (chain k uses the stream (Seed, k), see sim.Config).
	Seed uint64
	// Init is every chain's starting point; default the first minimum of L.
	Init []float64
	// Grid is the histogram grid; default none (no histogram).
	Grid *Grid
}

// SimResult holds the measurements of Simulate. Every figure has a standard error; NaN marks
// what could not be measured.
type SimResult struct {
	// Method, LR, Batch, Kappa and DT describe the run; Time is the simulated time per
	// chain (in SGD steps) and Kept the number of iterates per chain after burn-in.
	Method        sim.Method
	LR, Kappa, DT float64
	Batch         int
	Time          float64
	Kept          int
	// Density is the histogram density on the grid (the mean over chains of each chain's
	// count/(kept·cell volume)); DensityErr its between-chain standard error; Outside the
	// fraction of iterates outside the grid.
	Density, DensityErr []float64
	Outside             float64
	// Mean (d) and Cov (d×d, row-major) are the moments of all kept iterates (pooled, Cov
	// about the pooled mean with divisor n − 1); MeanErr and CovErr their between-chain
	// standard errors (sim.ChainMoments).
	Mean, MeanErr, Cov, CovErr []float64
	// Mass is the fraction of kept iterates in each well (split as in Stationary1D and
	// Stationary2D), MassErr its between-chain standard error; MassChains[w][k] is well w's
	// mass in chain k.
	Mass, MassErr []float64
	MassChains    [][]float64
	// Escape is the mean time (in SGD steps) from reaching a well's minimum to reaching a
	// neighbouring minimum, over all such passages in all chains; EscapeErr is its standard
	// error sd/√n (successive passages are independent by the Markov property); Escapes is
	// n. In 2-D "reaching a minimum" means crossing the line through it perpendicular to
	// the axis from the first to the last minimum. The iterates are monitored once per
	// step, which biases SDE passage times by O(√DT).
	Escape, EscapeErr []float64
	Escapes           []int
	// Warnings are sim's and Simulate's.
	Warnings []string
}

// chainObs is one chain's running record (touched only from that chain's goroutine).
type chainObs struct {
	counts  []float64
	outside float64
	kept    int
	mean    []float64 // running mean of the kept iterates (Welford)
	m2      []float64 // running co-moment Σ (θ − mean)(θ − mean)ᵀ, d×d
	delta   []float64
	inWell  []float64
	track   *passageTracker
}

// passageTracker records passages between minima at positions pos (projected on the axis):
// minimum j is reached when the path, linearly interpolated between observations, crosses
// or touches pos[j]; each time a minimum other than the last one reached is reached, the
// time since reaching the last one is recorded as a passage out of it.
type passageTracker struct {
	pos      []float64
	cur      int // index of the last minimum reached, −1 before the first
	start    float64
	prev     float64 // previous position
	passages [][]float64
}

func newPassageTracker(pos []float64, x0 float64) *passageTracker {
	t := &passageTracker{pos: pos, cur: -1, prev: x0, passages: make([][]float64, len(pos))}
	for j, m := range pos {
		if m == x0 {
			t.cur = j
		}
	}
	return t
}

// observe records the position x at time t.
func (p *passageTracker) observe(t, x float64) {
	// The minimum reached is the first crossed in the direction of motion.
	best := -1
	for j, m := range p.pos {
		if j != p.cur && (p.prev-m)*(x-m) <= 0 {
			if best < 0 || math.Abs(m-p.prev) < math.Abs(p.pos[best]-p.prev) {
				best = j
			}
		}
	}
	if best >= 0 {
		if p.cur >= 0 {
			p.passages[p.cur] = append(p.passages[p.cur], t-p.start)
		}
		p.cur, p.start = best, t
	}
	p.prev = x
}

// Simulate runs s.Chains chains of s.Method with sim.Run on p and records, on the fly
// through sim.Config.Observe, the histogram on s.Grid, the moments, the time spent in each
// well and every passage from one minimum to a neighbouring one (MATH.md §7, §8).
func Simulate(ctx context.Context, p Preset, s SimSettings) (*SimResult, error) {
	d := p.Dim()
	lr, batch := p.Defaults()
	if s.LR != 0 {
		lr = s.LR
	}
	if s.Batch != 0 {
		batch = s.Batch
	}
	dt := 1.0
	if s.Method == sim.SDE {
		dt = s.DT
		if dt == 0 {
			dt = 0.1
		}
	}
	if s.Chains == 0 {
		s.Chains = 8
	}
	if s.Time == 0 {
		s.Time = 200000
	}
	if s.Burnin == 0 {
		s.Burnin = s.Time / 10
	}
	if s.Time < 1 || s.Burnin < 0 || s.Burnin >= s.Time {
		return nil, fmt.Errorf("landscape: simulated time %d and burn-in %d: need 0 ≤ burn-in < time", s.Time, s.Burnin)
	}
	minima, saddles := p.Minima(), p.Saddles()
	init := s.Init
	if init == nil {
		init = minima[0]
	}
	checkLen("Init", init, d)
	ncell := 0
	if s.Grid != nil {
		ncell = s.Grid.cells(d)
	}
	steps := int(math.Round(float64(s.Time) / dt))
	burn := int(math.Round(float64(s.Burnin) / dt))
	if steps-burn < 2 {
		return nil, fmt.Errorf("landscape: simulated time %d after burn-in %d keeps fewer than 2 iterates per chain", s.Time, s.Burnin)
	}

	// Projection for passages: 1-D θ itself; 2-D onto the axis from the first to the last
	// minimum.
	axis := make([]float64, d)
	if d == 1 {
		axis[0] = 1
	} else if len(minima) > 1 {
		var nrm float64
		for a := range d {
			axis[a] = minima[len(minima)-1][a] - minima[0][a]
			nrm += axis[a] * axis[a]
		}
		for a := range d {
			axis[a] /= math.Sqrt(nrm)
		}
	}
	proj := func(x []float64) float64 {
		var v float64
		for a := range d {
			v += (x[a] - minima[0][a]) * axis[a]
		}
		return v
	}
	mpos := make([]float64, len(minima))
	for j, m := range minima {
		mpos[j] = proj(m)
	}
	well := func(x []float64) int {
		if d == 1 {
			w := 0
			for _, sd := range saddles {
				if x[0] > sd[0] {
					w++
				}
			}
			return w
		}
		return wellOf2D(x[0], x[1], minima, saddles)
	}

	obs := make([]*chainObs, s.Chains)
	for k := range obs {
		o := &chainObs{counts: make([]float64, ncell), inWell: make([]float64, len(minima)),
			track: newPassageTracker(mpos, proj(init))}
		o.mean, o.m2, o.delta = make([]float64, d), make([]float64, d*d), make([]float64, d)
		obs[k] = o
	}
	observe := func(chain, step int, theta []float64) {
		o := obs[chain]
		t := float64(step) * dt
		if len(minima) > 1 {
			o.track.observe(t, proj(theta))
		}
		if step <= burn {
			return
		}
		o.kept++
		for a := range d {
			o.delta[a] = theta[a] - o.mean[a]
			o.mean[a] += o.delta[a] / float64(o.kept)
		}
		for a := range d {
			for b := range d {
				o.m2[a*d+b] += o.delta[a] * (theta[b] - o.mean[b])
			}
		}
		o.inWell[well(theta)]++
		if s.Grid != nil {
			if c := s.Grid.index(theta); c >= 0 {
				o.counts[c]++
			} else {
				o.outside++
			}
		}
	}
	cfg := sim.Config{Method: s.Method, Sampling: s.Sampling, LR: lr, Batch: batch, DT: dt,
		Chains: s.Chains, Steps: steps, Burnin: 0, Thin: steps, Seed: s.Seed, Init: init,
		Observe: observe, ConfigTag: "landscape"}
	if s.Method != sim.SDE {
		cfg.DT = 0
	}
	sr, err := sim.Run(ctx, p, cfg)
	if err != nil {
		return nil, err
	}
	r := &SimResult{Method: s.Method, LR: lr, Batch: batch, Kappa: sr.Kappa, DT: dt,
		Time: float64(steps) * dt, Kept: steps - burn, Warnings: sr.Warnings}
	K := float64(s.Chains)

	// Histogram.
	if s.Grid != nil {
		vol := s.Grid.cellVolume()
		r.Density, r.DensityErr = make([]float64, ncell), make([]float64, ncell)
		per := make([]float64, s.Chains)
		for c := range ncell {
			for k, o := range obs {
				per[k] = o.counts[c] / (float64(o.kept) * vol)
				r.Density[c] += per[k] / K
			}
			r.DensityErr[c] = sim.BetweenChainSE(per)
		}
		for _, o := range obs {
			r.Outside += o.outside / float64(o.kept) / K
		}
	}
	// Moments.
	r.Mean, r.MeanErr, r.Cov, r.CovErr = pooledMoments(obs, d)
	// Masses.
	per := make([]float64, s.Chains)
	for w := range minima {
		var m float64
		for k, o := range obs {
			per[k] = o.inWell[w] / float64(o.kept)
			m += per[k] / K
		}
		r.Mass = append(r.Mass, m)
		r.MassErr = append(r.MassErr, sim.BetweenChainSE(per))
		r.MassChains = append(r.MassChains, slices.Clone(per))
	}
	// Escapes.
	if len(minima) > 1 {
		for w := range minima {
			var all []float64
			for _, o := range obs {
				all = append(all, o.track.passages[w]...)
			}
			n := len(all)
			r.Escapes = append(r.Escapes, n)
			if n == 0 {
				r.Escape = append(r.Escape, math.NaN())
				r.EscapeErr = append(r.EscapeErr, math.NaN())
				r.Warnings = append(r.Warnings, fmt.Sprintf("%v: no escape from well %d in simulated time %g per chain", s.Method, w, r.Time))
				continue
			}
			m, v := meanVar(all)
			r.Escape = append(r.Escape, m)
			if n > 1 {
				r.EscapeErr = append(r.EscapeErr, math.Sqrt(v*float64(n)/float64(n-1)/float64(n)))
			} else {
				r.EscapeErr = append(r.EscapeErr, math.NaN())
			}
			if n < 20 {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%v: only %d escapes from well %d: the mean escape time is uncertain and biased low (runs are cut off)", s.Method, n, w))
			}
		}
	}
	return r, nil
}

// pooledMoments combines the chains' running moments (Chan, Golub and LeVeque 1979): the
// pooled mean, the covariance of all iterates about it (divisor n − 1), and the
// between-chain standard errors of the per-chain means and covariances (divisor n_k − 1),
// as sim.ChainMoments defines them.
func pooledMoments(obs []*chainObs, d int) (mean, meanErr, cov, covErr []float64) {
	mean, meanErr = make([]float64, d), make([]float64, d)
	cov, covErr = make([]float64, d*d), make([]float64, d*d)
	var n float64
	for _, o := range obs {
		n += float64(o.kept)
		for a := range d {
			mean[a] += float64(o.kept) * o.mean[a]
		}
	}
	for a := range d {
		mean[a] /= n
	}
	per := make([]float64, len(obs))
	for a := range d {
		for k, o := range obs {
			per[k] = o.mean[a]
		}
		meanErr[a] = sim.BetweenChainSE(per)
		for b := range d {
			var m2 float64
			for k, o := range obs {
				nk := float64(o.kept)
				m2 += o.m2[a*d+b] + nk*(o.mean[a]-mean[a])*(o.mean[b]-mean[b])
				per[k] = o.m2[a*d+b] / (nk - 1)
			}
			cov[a*d+b] = m2 / (n - 1)
			covErr[a*d+b] = sim.BetweenChainSE(per)
		}
	}
	return mean, meanErr, cov, covErr
}
