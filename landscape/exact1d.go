package landscape

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Exact1DSettings configures Exact1D. Zero fields mean defaults.
type Exact1DSettings struct {
	// Lo, Hi bound the integration domain (reflecting boundaries); default the preset's
	// Domain(lr, κ_B), which holds the density up to a relative tail of ~10⁻¹⁶.
	Lo, Hi float64
	// Bins is the number of equal bins of the display grid; default 200.
	Bins int
	// BinLo, BinHi bound the display grid; default the interval where the exact or the note's
	// density exceeds 10⁻⁷ of its peak.
	BinLo, BinHi float64
	// Tol is the per-panel quadrature tolerance: each panel's Gauss–Kronrod error estimate
	// for ∫2μ/D must be at most Tol·max(1, |∫2μ/D|); default 1e-10. Panels are also split
	// until log D and ∫2μ/D vary by at most 1 across each, so that the exponentials are
	// integrated to the same relative accuracy. The K15−G7 estimate is pessimistic: the
	// actual relative error of densities, masses and escape times is far below
	// Tol·(number of panels).
	Tol float64
}

// Stationary1D holds the exact 1-D answers of MATH.md §8 at one (η, κ_B).
type Stationary1D struct {
	// LR is η and Kappa is κ_B; the drift is μ = −ηL' and the diffusion D = η²κ_B C.
	LR, Kappa float64
	// Lo and Hi are the integration domain (reflecting boundaries).
	Lo, Hi float64
	// Edges are the Bins+1 edges and Centers the Bins centres of the display grid.
	Edges, Centers []float64
	// Exact and Note are the normalised densities at Centers: the SDE's stationary density
	// p ∝ (1/D) exp(∫2μ/D) and the note's p ∝ exp(∫2μ/D); LogExact and LogNote their logs.
	Exact, Note, LogExact, LogNote []float64
	// BinExact and BinNote are the probabilities of each display bin.
	BinExact, BinNote []float64
	// Minima and Saddles of L (Saddles[k] separates wells k and k+1).
	Minima, Saddles []float64
	// MassExact and MassNote are the probabilities of each well, split at the saddles.
	MassExact, MassNote []float64
	// Escape is the exact mean first-passage time (in SGD steps) from each well's minimum to
	// the neighbouring minimum (to either neighbour for a middle well), with reflecting
	// domain boundaries; Kramers its approximation
	// τ ≈ 2π/(η√(L''(a)|L''(s)|))·exp(2ΔL/(ηκ_B C(a))) (summing the rates over both saddles
	// for a middle well). Both are empty with a single minimum.
	Escape, Kramers []float64
	// MeanExact, VarExact, MeanNote, VarNote are the moments of the two densities on the
	// domain.
	MeanExact, VarExact, MeanNote, VarNote float64
	// Panels is the number of quadrature panels used.
	Panels int
	// Warnings report truncation and resolution problems.
	Warnings []string
}

// panel1 is one Gauss–Kronrod panel [a, b] with the integrand data at its 15 nodes.
type panel1 struct {
	a, b       float64
	x          [15]float64
	f          [15]float64 // 2μ/D = −2L'/(ηκ_B C)
	logD       [15]float64
	phi        [15]float64 // φ = ∫_{lo}^{x} 2μ/D
	phiA, phiB float64
	lw         [15]float64 // log of the Kronrod weights scaled to the panel
}

type field1 struct {
	p         Preset
	lr, kappa float64
	g, c      []float64
}

// eval returns 2μ/D and log D at θ.
func (fl *field1) eval(t float64) (f, logD float64, err error) {
	fl.p.Moments(fl.g, fl.c, []float64{t})
	c := fl.c[0]
	if !(c > 0) || math.IsInf(c, 0) || math.IsNaN(fl.g[0]) || math.IsInf(fl.g[0], 0) {
		return 0, 0, fmt.Errorf("landscape: noise C(θ) = %v (gradient %v) at θ = %.6g: the diffusion must be positive and finite", c, fl.g[0], t)
	}
	ek := fl.lr * fl.kappa
	return -2 * fl.g[0] / (ek * c), math.Log(fl.lr * ek * c), nil
}

func newField1(p Preset, lr, kappa float64) *field1 {
	return &field1{p: p, lr: lr, kappa: kappa, g: make([]float64, 1), c: make([]float64, 1)}
}

// buildPanels covers [bp[0], bp[len−1]] with adaptive panels whose ends include every
// breakpoint; φ is accumulated from bp[0].
func buildPanels(fl *field1, bp []float64, tol float64) ([]panel1, []string, error) {
	var ps []panel1
	var warn []string
	minWidth := 1e-12 * (bp[len(bp)-1] - bp[0])
	narrow := 0
	var rec func(a, b float64, depth int) error
	rec = func(a, b float64, depth int) error {
		var p panel1
		p.a, p.b = a, b
		c, h := (a+b)/2, (b-a)/2
		var k, g float64
		for j, x := range gkNodes {
			p.x[j] = c + h*x
			var err error
			if p.f[j], p.logD[j], err = fl.eval(p.x[j]); err != nil {
				return err
			}
			k += gkWeights[j] * p.f[j]
			g += gaussAt[j] * p.f[j]
			p.lw[j] = math.Log(gkWeights[j] * h)
		}
		integral, errEst := k*h, math.Abs(k-g)*h
		pmin, pmax := 0.0, integral
		if pmax < pmin {
			pmin, pmax = pmax, pmin
		}
		dmin, dmax := p.logD[0], p.logD[0]
		for j := range 15 {
			var s float64
			for m := range 15 {
				s += gkCum[j][m] * p.f[m]
			}
			p.phi[j] = s * h // relative to φ(a) for now
			pmin, pmax = math.Min(pmin, p.phi[j]), math.Max(pmax, p.phi[j])
			dmin, dmax = math.Min(dmin, p.logD[j]), math.Max(dmax, p.logD[j])
		}
		good := errEst <= tol*math.Max(1, math.Abs(integral)) && pmax-pmin <= 1 && dmax-dmin <= 1
		if !good && (b-a)/2 > minWidth && depth < 60 {
			if err := rec(a, c, depth+1); err != nil {
				return err
			}
			return rec(c, b, depth+1)
		}
		if !good {
			narrow++
		}
		p.phiB = integral // increment for now
		ps = append(ps, p)
		return nil
	}
	for i := 0; i+1 < len(bp); i++ {
		if bp[i+1] <= bp[i] {
			continue
		}
		if err := rec(bp[i], bp[i+1], 0); err != nil {
			return nil, nil, err
		}
	}
	phi := 0.0
	for i := range ps {
		p := &ps[i]
		p.phiA = phi
		for j := range 15 {
			p.phi[j] += phi
		}
		phi += p.phiB
		p.phiB = phi
	}
	if narrow > 0 {
		warn = append(warn, fmt.Sprintf("quadrature: %d panels reached the minimum width without meeting the tolerance", narrow))
	}
	return ps, warn, nil
}

// logAdd returns log(e^a + e^b).
func logAdd(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// logIntegral returns log ∫ e^{g} over panels ps (g given at the nodes).
func logIntegral(ps []panel1, g func(i, j int) float64) float64 {
	total := math.Inf(-1)
	for i := range ps {
		ref := math.Inf(-1)
		var v [15]float64
		for j := range 15 {
			v[j] = g(i, j)
			ref = math.Max(ref, v[j]+ps[i].lw[j])
		}
		if math.IsInf(ref, -1) {
			continue
		}
		var s float64
		for j := range 15 {
			s += math.Exp(v[j] + ps[i].lw[j] - ref)
		}
		total = logAdd(total, ref+math.Log(s))
	}
	return total
}

// logCumulative returns log ∫ e^{g} from the start of ps to each node (forward) or from each
// node to the end of ps (backward), using the panel interpolants (gkCum).
func logCumulative(ps []panel1, g func(i, j int) float64, backward bool) [][15]float64 {
	out := make([][15]float64, len(ps))
	acc := math.Inf(-1)
	for n := range ps {
		i := n
		if backward {
			i = len(ps) - 1 - n
		}
		p := &ps[i]
		h := (p.b - p.a) / 2
		var v [15]float64
		ref := math.Inf(-1)
		for j := range 15 {
			v[j] = g(i, j)
			ref = math.Max(ref, v[j])
		}
		var e [15]float64
		var total float64
		for j := range 15 {
			e[j] = math.Exp(v[j] - ref)
			total += gkWeights[j] * e[j]
		}
		total *= h
		for j := range 15 {
			var s float64
			for m := range 15 {
				s += gkCum[j][m] * e[m]
			}
			s *= h
			if backward {
				s = total - s
			}
			// A sub-panel integral of a positive integrand; guard rounding below zero.
			s = math.Max(s, 1e-300)
			out[i][j] = logAdd(acc, ref+math.Log(s))
		}
		if total > 0 {
			acc = logAdd(acc, ref+math.Log(total))
		}
	}
	return out
}

// panelRange returns the indices [i0, i1) of the panels covering [a, b] (a and b must be
// panel ends).
func panelRange(ps []panel1, a, b float64) (int, int) {
	i0 := slices.IndexFunc(ps, func(p panel1) bool { return p.a >= a })
	i1 := slices.IndexFunc(ps, func(p panel1) bool { return p.a >= b })
	if i1 < 0 {
		i1 = len(ps)
	}
	return i0, i1
}

// Exact1D computes the exact stationary answers of MATH.md §8 for a 1-D preset at learning
// rate lr = η and κ_B = kappa by adaptive Gauss–Kronrod quadrature in log space (see
// Exact1DSettings.Tol): the stationary density of the SDE p ∝ (1/D) exp(∫2μ/D) and the
// note's p ∝ exp(∫2μ/D), their moments, each well's mass (split at the saddles), the mean
// first-passage time out of each well
// T(x) = ∫_x^b s(y) ∫_a^y m(z) dz dy, s = exp(−∫2μ/D), m = 2/(D s)
// (reflecting at the far domain boundary a, absorbing at the neighbouring minimum b; for a
// middle well, absorbing at both neighbours via the Green's function
// G(x, z) = S(l, min(x,z))·S(max(x,z), r)/S(l, r), S the integral of s), and Kramers'
// approximation.
//
// It panics if p is not 1-D or s is malformed (Lo > Hi, BinLo > BinHi); it returns an error
// when D(θ) is not positive and finite somewhere on the domain.
func Exact1D(p Preset, lr, kappa float64, s *Exact1DSettings) (*Stationary1D, error) {
	if p.Dim() != 1 {
		panic(fmt.Sprintf("landscape: Exact1D needs a 1-D preset, %s has d = %d", p.Name(), p.Dim()))
	}
	if !(lr > 0) || !(kappa > 0) || math.IsInf(lr, 0) || math.IsInf(kappa, 0) {
		return nil, fmt.Errorf("landscape: learning rate %v and κ_B %v must be positive and finite", lr, kappa)
	}
	var set Exact1DSettings
	if s != nil {
		set = *s
	}
	if set.Lo > set.Hi || set.BinLo > set.BinHi {
		panic("landscape: Exact1DSettings: Lo > Hi or BinLo > BinHi")
	}
	if set.Lo == set.Hi {
		lo, hi := p.Domain(lr, kappa)
		set.Lo, set.Hi = lo[0], hi[0]
	}
	if set.Bins == 0 {
		set.Bins = 200
	}
	if set.Bins < 1 {
		panic(fmt.Sprintf("landscape: Exact1DSettings: %d bins", set.Bins))
	}
	if set.Tol == 0 {
		set.Tol = 1e-10
	}
	r := &Stationary1D{LR: lr, Kappa: kappa, Lo: set.Lo, Hi: set.Hi}
	for _, m := range p.Minima() {
		if m[0] > set.Lo && m[0] < set.Hi {
			r.Minima = append(r.Minima, m[0])
		}
	}
	for _, sd := range p.Saddles() {
		if sd[0] > set.Lo && sd[0] < set.Hi {
			r.Saddles = append(r.Saddles, sd[0])
		}
	}
	if len(r.Saddles) != max(0, len(r.Minima)-1) {
		return nil, fmt.Errorf("landscape: the domain [%.6g, %.6g] cuts the wells of %s", set.Lo, set.Hi, p.Name())
	}
	fl := newField1(p, lr, kappa)
	special := append(slices.Clone(r.Minima), r.Saddles...)

	// Pass 1 (only to choose the display grid): a coarse partition.
	if set.BinLo == set.BinHi {
		bp := uniformPoints(set.Lo, set.Hi, 64)
		bp = mergePoints(bp, special)
		ps, _, err := buildPanels(fl, bp, set.Tol)
		if err != nil {
			return nil, err
		}
		set.BinLo, set.BinHi = displayRange(ps)
	}
	r.Edges = uniformPoints(set.BinLo, set.BinHi, set.Bins)
	r.Centers = make([]float64, set.Bins)
	for i := range r.Centers {
		r.Centers[i] = (r.Edges[i] + r.Edges[i+1]) / 2
	}

	// Pass 2: every edge, centre, minimum and saddle is a panel end.
	bp := []float64{set.Lo, set.Hi}
	for _, x := range append(append(slices.Clone(r.Edges), r.Centers...), special...) {
		if x > set.Lo && x < set.Hi {
			bp = append(bp, x)
		}
	}
	bp = mergePoints(bp, nil)
	ps, warn, err := buildPanels(fl, bp, set.Tol)
	if err != nil {
		return nil, err
	}
	r.Warnings = append(r.Warnings, warn...)
	r.Panels = len(ps)

	// φ and log D at every panel end (log D needs one extra evaluation per end).
	ends := make([]float64, len(ps)+1)
	phiEnd := make([]float64, len(ps)+1)
	for i, q := range ps {
		ends[i], phiEnd[i] = q.a, q.phiA
	}
	ends[len(ps)], phiEnd[len(ps)] = ps[len(ps)-1].b, ps[len(ps)-1].phiB
	valueAt := func(x float64) (phi, logD float64, err error) {
		i, ok := slices.BinarySearch(ends, x)
		if !ok {
			return 0, 0, errors.New("landscape: internal error: not a panel end")
		}
		_, logD, err = fl.eval(x)
		return phiEnd[i], logD, err
	}

	logExact := func(i, j int) float64 { return ps[i].phi[j] - ps[i].logD[j] }
	logNote := func(i, j int) float64 { return ps[i].phi[j] }
	zExact := logIntegral(ps, logExact)
	zNote := logIntegral(ps, logNote)

	// Display grid.
	r.LogExact = make([]float64, set.Bins)
	r.LogNote = make([]float64, set.Bins)
	r.Exact = make([]float64, set.Bins)
	r.Note = make([]float64, set.Bins)
	for i, x := range r.Centers {
		if x <= set.Lo || x >= set.Hi {
			r.LogExact[i], r.LogNote[i] = math.Inf(-1), math.Inf(-1)
			continue
		}
		phi, logD, err := valueAt(x)
		if err != nil {
			return nil, err
		}
		r.LogExact[i] = phi - logD - zExact
		r.LogNote[i] = phi - zNote
		r.Exact[i], r.Note[i] = math.Exp(r.LogExact[i]), math.Exp(r.LogNote[i])
	}
	massBetween := func(a, b float64) (exact, note float64) {
		a, b = math.Max(a, set.Lo), math.Min(b, set.Hi)
		if a >= b {
			return 0, 0
		}
		i0, i1 := panelRange(ps, a, b)
		sub := ps[i0:i1]
		le := logIntegral(sub, func(i, j int) float64 { return sub[i].phi[j] - sub[i].logD[j] })
		ls := logIntegral(sub, func(i, j int) float64 { return sub[i].phi[j] })
		return math.Exp(le - zExact), math.Exp(ls - zNote)
	}
	r.BinExact = make([]float64, set.Bins)
	r.BinNote = make([]float64, set.Bins)
	for i := range r.BinExact {
		r.BinExact[i], r.BinNote[i] = massBetween(r.Edges[i], r.Edges[i+1])
	}

	// Moments.
	var m1e, m2e, m1s, m2s float64
	for i := range ps {
		for j := range 15 {
			x := ps[i].x[j]
			we := math.Exp(ps[i].lw[j] + logExact(i, j) - zExact)
			ws := math.Exp(ps[i].lw[j] + logNote(i, j) - zNote)
			m1e += we * x
			m1s += ws * x
		}
	}
	for i := range ps {
		for j := range 15 {
			x := ps[i].x[j]
			we := math.Exp(ps[i].lw[j] + logExact(i, j) - zExact)
			ws := math.Exp(ps[i].lw[j] + logNote(i, j) - zNote)
			m2e += we * (x - m1e) * (x - m1e)
			m2s += ws * (x - m1s) * (x - m1s)
		}
	}
	r.MeanExact, r.VarExact, r.MeanNote, r.VarNote = m1e, m2e, m1s, m2s

	// Truncation check: density at the domain ends.
	for _, x := range []float64{set.Lo, set.Hi} {
		phi, logD, err := valueAt(x)
		if err != nil {
			return nil, err
		}
		le, ls := phi-logD-zExact, phi-zNote
		if le > -30 || ls > -30 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("domain [%.6g, %.6g] truncates the density: at θ = %.6g log p_exact = %.3g, log p_seed = %.3g (the boundaries reflect)", set.Lo, set.Hi, x, le, ls))
			break
		}
	}

	// Well masses.
	bounds := append(append([]float64{set.Lo}, r.Saddles...), set.Hi)
	for k := 0; k+1 < len(bounds); k++ {
		e, s := massBetween(bounds[k], bounds[k+1])
		r.MassExact = append(r.MassExact, e)
		r.MassNote = append(r.MassNote, s)
	}

	// Escape times.
	nm := len(r.Minima)
	if nm >= 2 {
		logm := func(sub []panel1) func(i, j int) float64 {
			return func(i, j int) float64 { return math.Ln2 - sub[i].logD[j] + sub[i].phi[j] }
		}
		logs := func(sub []panel1) func(i, j int) float64 {
			return func(i, j int) float64 { return -sub[i].phi[j] }
		}
		for k := range nm {
			var logT float64
			switch k {
			case 0, nm - 1:
				var x, b float64
				var mc [][15]float64
				if k == 0 {
					x, b = r.Minima[0], r.Minima[1]
					mc = logCumulative(ps, logm(ps), false) // ∫_lo^y m
				} else {
					x, b = r.Minima[nm-2], r.Minima[nm-1]
					mc = logCumulative(ps, logm(ps), true) // ∫_y^hi m
				}
				i0, i1 := panelRange(ps, x, b)
				sub := ps[i0:i1]
				logT = logIntegral(sub, func(i, j int) float64 { return -sub[i].phi[j] + mc[i0+i][j] })
			default:
				l, x, rr := r.Minima[k-1], r.Minima[k], r.Minima[k+1]
				i0, i1 := panelRange(ps, l, x)
				left := ps[i0:i1]
				j0, j1 := panelRange(ps, x, rr)
				right := ps[j0:j1]
				sl := logCumulative(left, logs(left), false)  // S(l, z)
				sr := logCumulative(right, logs(right), true) // S(z, r)
				lm := logm(left)
				rm := logm(right)
				a1 := logIntegral(left, func(i, j int) float64 { return sl[i][j] + lm(i, j) })
				a2 := logIntegral(right, func(i, j int) float64 { return sr[i][j] + rm(i, j) })
				sLX := logIntegral(left, logs(left))
				sXR := logIntegral(right, logs(right))
				sLR := logAdd(sLX, sXR)
				logT = logAdd(sXR-sLR+a1, sLX-sLR+a2)
			}
			r.Escape = append(r.Escape, math.Exp(logT))
		}
		// Kramers: the rates over the barriers on either side add up.
		g := make([]float64, 1)
		c := make([]float64, 1)
		h := make([]float64, 1)
		for k, a := range r.Minima {
			p.Moments(g, c, []float64{a})
			p.Hess(h, []float64{a})
			ha, ca, la := h[0], c[0], p.Loss([]float64{a})
			var rate float64
			for _, si := range []int{k - 1, k} {
				if si < 0 || si >= len(r.Saddles) {
					continue
				}
				sd := r.Saddles[si]
				p.Hess(h, []float64{sd})
				dl := p.Loss([]float64{sd}) - la
				rate += KramersRate(lr, kappa, ca, ha, h[0], dl)
			}
			r.Kramers = append(r.Kramers, 1/rate)
		}
	}
	return r, nil
}

// uniformPoints returns n+1 equally spaced points from lo to hi.
func uniformPoints(lo, hi float64, n int) []float64 {
	x := make([]float64, n+1)
	for i := range x {
		x[i] = lo + (hi-lo)*float64(i)/float64(n)
	}
	x[n] = hi
	return x
}

// mergePoints returns the sorted union of a and b without duplicates.
func mergePoints(a, b []float64) []float64 {
	x := append(slices.Clone(a), b...)
	slices.Sort(x)
	return slices.Compact(x)
}

// displayRange returns the interval where the exact or the note's log-density (at the panel
// nodes) is within log(10⁷) of its maximum, widened by one node spacing.
func displayRange(ps []panel1) (lo, hi float64) {
	maxE, maxS := math.Inf(-1), math.Inf(-1)
	for _, p := range ps {
		for j := range 15 {
			maxE = math.Max(maxE, p.phi[j]-p.logD[j])
			maxS = math.Max(maxS, p.phi[j])
		}
	}
	cut := math.Log(1e7)
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range ps {
		for j := range 15 {
			if p.phi[j]-p.logD[j] >= maxE-cut || p.phi[j] >= maxS-cut {
				lo = math.Min(lo, p.a)
				hi = math.Max(hi, p.b)
			}
		}
	}
	return lo, hi
}

// autoDomain1D returns [lo, hi] such that both the exact and the note's log-densities have
// dropped by at least 36 (a factor 2·10⁻¹⁶) from their values at the outer minima left and
// right: it marches outwards with steps growing by 1.2 from the local standard deviation
// √(ηκ_B C/(2L”)), integrating 2μ/D with adaptive Gauss–Kronrod, and stops after
// 10⁴ local standard deviations at the latest.
func autoDomain1D(p Preset, lr, kappa, left, right float64) (lo, hi float64) {
	fl := newField1(p, lr, kappa)
	march := func(x0, dir float64) float64 {
		h := make([]float64, 1)
		p.Hess(h, []float64{x0})
		c := make([]float64, 1)
		p.Moments(nil, c, []float64{x0})
		step := 0.1 * (1 + math.Abs(x0))
		if h[0] > 0 && c[0] > 0 {
			step = math.Sqrt(lr * kappa * c[0] / (2 * h[0]))
		}
		limit := 1e4 * step
		_, logD0, err := fl.eval(x0)
		if err != nil {
			return x0 + dir*limit
		}
		f := func(t float64) float64 {
			v, _, err := fl.eval(t)
			if err != nil {
				return math.NaN()
			}
			return v
		}
		x, phi := x0, 0.0
		for math.Abs(x-x0) < limit {
			nx := x + dir*step
			d, _, _ := Integrate(f, x, nx, 1e-8, 1e-8, 50)
			_, logD, err := fl.eval(nx)
			if err != nil || math.IsNaN(d) {
				return nx
			}
			x, phi = nx, phi+d
			if phi <= -36 && phi-(logD-logD0) <= -36 {
				return x
			}
			step *= 1.2
		}
		return x
	}
	return march(left, -1), march(right, 1)
}

// KramersRate returns Kramers' escape rate over one barrier of a 1-D landscape (docs/MATH.md
// §8), the reciprocal of the mean escape time
//
//	τ ≈ 2π / (η √(L''(a)|L''(s)|)) · exp(2ΔL/(η c)),  c = κ_B C(a),
//
// for learning rate lr = η, kappa = κ_B, the per-example gradient variance cMin = C(a) and
// the curvature hMin = L″(a) at the minimum a, the curvature hSaddle = L″(s) at the saddle s
// (its sign is ignored) and the barrier ΔL = L(s) − L(a). A well with saddles on both sides
// escapes at the sum of the two rates.
func KramersRate(lr, kappa, cMin, hMin, hSaddle, barrier float64) float64 {
	return lr * math.Sqrt(hMin*math.Abs(hSaddle)) / (2 * math.Pi) * math.Exp(-2*barrier/(lr*kappa*cMin))
}
