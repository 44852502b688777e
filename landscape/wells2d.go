package landscape

import (
	"fmt"
	"math"
	"slices"

	"github.com/sgdprior/sgdprior/sim"
)

// Well2D is one isotropic Gaussian well of the 2-D base potential.
type Well2D struct {
	Center       [2]float64
	Depth, Width float64
}

// ParseWells2D parses "cx:cy:depth:width,…" (depth, width > 0).
func ParseWells2D(s string) ([]Well2D, error) {
	rows, err := parseWellList(s, "cx:cy:depth:width")
	if err != nil {
		return nil, err
	}
	ws := make([]Well2D, len(rows))
	for i, v := range rows {
		ws[i] = Well2D{[2]float64{v[0], v[1]}, v[2], v[3]}
	}
	return ws, nil
}

// Wells2DSettings configures the wells2d preset. Zero fields mean defaults.
type Wells2DSettings struct {
	// Wells is "cx:cy:depth:width,…"; default DefaultWells2D (a sharp and a four times
	// wider flat well on the first axis), balanced to equal minima of L.
	Wells string
	// Spread is the standard deviation of each coordinate of the shifts; nil means the
	// default 0.15 (0: constant noise).
	Spread *float64
	// Var0 is the variance of each coordinate of the noise floor a_i; default 0.3.
	Var0 float64
	// Confine is the curvature of U's confinement ½·Confine·‖θ‖²; default 0.2 (stronger
	// than wells' 0.05 so that the Fokker–Planck box stays small enough for a uniform grid
	// to resolve the sharp well).
	Confine float64
	// N is the number of examples, even and at least 6; default 1000.
	N int
	// Balance rescales the depths of wells 2…K so that L's minima are equal (always done
	// for the default wells).
	Balance bool
}

// DefaultWells2D is the wells2d preset's default base potential (before balancing).
const DefaultWells2D = "-1:0:0.3:0.25,1.5:0:0.3:1"

// Wells2D is the 2-D shifted-examples landscape: ℓ_i(θ) = U(θ − s_i) + a_iᵀθ with
// U(t) = −Σ_k depth_k·exp(−‖t − c_k‖²/(2w_k²)) + ½·confine·‖t‖². The N examples come in
// N/2 pairs: pair j has shift s_j = spread·w_j (w the whitened quantile points of
// whitenedPair: mean 0, covariance I exactly) and noise floors a = ±√var0·w_j, so a is
// exactly uncorrelated with every function of the shift and
// C(θ) = Cov_j ∇U(θ − s_j) + var0·I.
type Wells2D struct {
	wells   []Well2D
	spread  float64
	var0    float64
	confine float64
	s0, s1  []float64 // the N/2 distinct shifts
	a0, a1  []float64 // per example
	acov    [3]float64
	minima  [][]float64
	saddles [][]float64
}

// NewWells2D returns the wells2d preset. It fails when Newton's method does not find one
// minimum per well, or a saddle between consecutive minima.
func NewWells2D(s Wells2DSettings) (*Wells2D, error) {
	spec, balance := s.Wells, s.Balance
	if spec == "" {
		spec, balance = DefaultWells2D, true
	}
	ws, err := ParseWells2D(spec)
	if err != nil {
		return nil, fmt.Errorf("landscape: wells2d: %v", err)
	}
	slices.SortFunc(ws, func(x, y Well2D) int { return cmpFloat(x.Center[0], y.Center[0]) })
	w := &Wells2D{wells: ws}
	if w.spread, err = nonNegative("spread", s.Spread, 0.15); err != nil {
		return nil, err
	}
	if w.var0, err = positive("var0", s.Var0, 0.3); err != nil {
		return nil, err
	}
	if w.confine, err = positive("confine", s.Confine, 0.2); err != nil {
		return nil, err
	}
	n, err := numExamples(s.N, 6, 1000)
	if err != nil {
		return nil, err
	}
	if n%2 != 0 {
		return nil, fmt.Errorf("landscape: wells2d: n = %d must be even (examples come in ± pairs)", n)
	}
	x, y := whitenedPair(n / 2)
	w.s0, w.s1 = make([]float64, n/2), make([]float64, n/2)
	w.a0, w.a1 = make([]float64, n), make([]float64, n)
	sv := math.Sqrt(w.var0)
	for j := range x {
		w.s0[j], w.s1[j] = w.spread*x[j], w.spread*y[j]
		w.a0[2*j], w.a1[2*j] = sv*x[j], sv*y[j]
		w.a0[2*j+1], w.a1[2*j+1] = -sv*x[j], -sv*y[j]
	}
	_, w.acov[0] = meanVar(w.a0)
	_, w.acov[2] = meanVar(w.a1)
	w.acov[1] = covariance(w.a0, w.a1)
	if err := w.findCritical(); err != nil {
		return nil, err
	}
	if balance && len(ws) > 1 {
		if err := w.balance(); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Wells returns the base potential's wells (after balancing).
func (w *Wells2D) Wells() []Well2D { return slices.Clone(w.wells) }

func (w *Wells2D) Name() string { return "wells2d" }
func (w *Wells2D) Params() map[string]float64 {
	p := map[string]float64{"spread": w.spread, "var0": w.var0, "confine": w.confine, "n": float64(len(w.a0))}
	for k, x := range w.wells {
		p[fmt.Sprintf("center%d_x", k)] = x.Center[0]
		p[fmt.Sprintf("center%d_y", k)] = x.Center[1]
		p[fmt.Sprintf("depth%d", k)] = x.Depth
		p[fmt.Sprintf("width%d", k)] = x.Width
	}
	return p
}

// Defaults returns η = 0.2 and B = 1 (as wells).
func (w *Wells2D) Defaults() (float64, int) { return 0.2, 1 }
func (w *Wells2D) Dim() int                 { return 2 }
func (w *Wells2D) NumExamples() int         { return len(w.a0) }

// gradU writes ∇U(t) into g and, when h is non-nil, ∇²U(t) (row-major) into h; it returns
// U(t).
func (w *Wells2D) gradU(g, h []float64, t0, t1 float64) float64 {
	u := 0.5 * w.confine * (t0*t0 + t1*t1)
	g[0], g[1] = w.confine*t0, w.confine*t1
	if h != nil {
		h[0], h[1], h[2], h[3] = w.confine, 0, 0, w.confine
	}
	for _, k := range w.wells {
		z0, z1 := t0-k.Center[0], t1-k.Center[1]
		iw2 := 1 / (k.Width * k.Width)
		e := k.Depth * math.Exp(-0.5*(z0*z0+z1*z1)*iw2)
		u -= e
		g[0] += e * z0 * iw2
		g[1] += e * z1 * iw2
		if h != nil {
			h[0] += e * (iw2 - z0*z0*iw2*iw2)
			h[1] -= e * z0 * z1 * iw2 * iw2
			h[3] += e * (iw2 - z1*z1*iw2*iw2)
		}
	}
	if h != nil {
		h[2] = h[1]
	}
	return u
}

func (w *Wells2D) MiniBatchGrad(dst, theta []float64, idx []int) {
	checkLen("dst", dst, 2)
	checkLen("theta", theta, 2)
	var g [2]float64
	var s0, s1 float64
	for _, i := range idx {
		j := i / 2
		w.gradU(g[:], nil, theta[0]-w.s0[j], theta[1]-w.s1[j])
		s0 += g[0] + w.a0[i]
		s1 += g[1] + w.a1[i]
	}
	k := float64(len(idx))
	dst[0], dst[1] = s0/k, s1/k
}

func (w *Wells2D) WeightedGrad(dst, theta []float64, wt []float64) {
	checkLen("dst", dst, 2)
	checkLen("theta", theta, 2)
	checkLen("w", wt, len(w.a0))
	var g [2]float64
	var s0, s1 float64
	for j := range w.s0 {
		w.gradU(g[:], nil, theta[0]-w.s0[j], theta[1]-w.s1[j])
		ws := wt[2*j] + wt[2*j+1]
		s0 += ws*g[0] + wt[2*j]*w.a0[2*j] + wt[2*j+1]*w.a0[2*j+1]
		s1 += ws*g[1] + wt[2*j]*w.a1[2*j] + wt[2*j+1]*w.a1[2*j+1]
	}
	dst[0], dst[1] = s0, s1
}

func (w *Wells2D) RegGrad(dst, theta []float64) {}

// Loss returns L(θ) = (1/(N/2)) Σ_j U(θ − s_j) (the a_iᵀθ terms cancel pairwise exactly).
func (w *Wells2D) Loss(theta []float64) float64 {
	checkLen("theta", theta, 2)
	var g [2]float64
	var l float64
	for j := range w.s0 {
		l += w.gradU(g[:], nil, theta[0]-w.s0[j], theta[1]-w.s1[j])
	}
	return l / float64(len(w.s0))
}

func (w *Wells2D) Clone() sim.Problem { c := *w; return &c }

// Moments writes ∇L = mean_j ∇U(θ − s_j) and C = Cov_j ∇U(θ − s_j) + Cov(a) (Welford).
func (w *Wells2D) Moments(grad, cov, theta []float64) {
	checkLen("theta", theta, 2)
	var g [2]float64
	var m0, m1, c00, c01, c11 float64
	for j := range w.s0 {
		w.gradU(g[:], nil, theta[0]-w.s0[j], theta[1]-w.s1[j])
		n := float64(j + 1)
		d0, d1 := g[0]-m0, g[1]-m1
		m0 += d0 / n
		m1 += d1 / n
		c00 += d0 * (g[0] - m0)
		c01 += d0 * (g[1] - m1)
		c11 += d1 * (g[1] - m1)
	}
	if grad != nil {
		checkLen("grad", grad, 2)
		grad[0], grad[1] = m0, m1
	}
	if cov != nil {
		checkLen("cov", cov, 4)
		n := float64(len(w.s0))
		cov[0] = c00/n + w.acov[0]
		cov[1] = c01/n + w.acov[1]
		cov[2] = cov[1]
		cov[3] = c11/n + w.acov[2]
	}
}

func (w *Wells2D) Hess(dst, theta []float64) {
	checkLen("dst", dst, 4)
	checkLen("theta", theta, 2)
	var g [2]float64
	var h [4]float64
	dst[0], dst[1], dst[2], dst[3] = 0, 0, 0, 0
	for j := range w.s0 {
		w.gradU(g[:], h[:], theta[0]-w.s0[j], theta[1]-w.s1[j])
		for k := range 4 {
			dst[k] += h[k]
		}
	}
	for k := range 4 {
		dst[k] /= float64(len(w.s0))
	}
}

func (w *Wells2D) Minima() [][]float64  { return cloneRows(w.minima) }
func (w *Wells2D) Saddles() [][]float64 { return cloneRows(w.saddles) }

func cloneRows(x [][]float64) [][]float64 {
	r := make([][]float64, len(x))
	for i := range x {
		r[i] = slices.Clone(x[i])
	}
	return r
}

// Domain returns the bounding box of autoDomain2D's marches from every minimum.
func (w *Wells2D) Domain(lr, kappa float64) (lo, hi []float64) {
	return autoDomain2D(w, lr, kappa)
}

// newton2 runs Newton's method on ∇L = 0 from x (for minima, steps along −∇L when the
// Hessian is not positive definite, with backtracking on L). It stops when ‖∇L‖ < 1e-13 or
// the step is below 1e-14·(1 + ‖x‖), and reports whether ‖∇L‖ ended below 1e-9.
func newton2(p Preset, x []float64, minimize bool) ([]float64, bool) {
	x = slices.Clone(x)
	g := make([]float64, 2)
	h := make([]float64, 4)
	for range 100 {
		p.Moments(g, nil, x)
		if math.Hypot(g[0], g[1]) < 1e-13 {
			return x, true
		}
		p.Hess(h, x)
		det := h[0]*h[3] - h[1]*h[2]
		var d [2]float64
		if minimize && !(h[0] > 0 && det > 0) {
			d = [2]float64{-g[0], -g[1]}
		} else {
			d = [2]float64{-(h[3]*g[0] - h[1]*g[1]) / det, -(-h[2]*g[0] + h[0]*g[1]) / det}
		}
		t := 1.0
		if minimize {
			// Accept increases at the rounding level of L: near the minimum the decrease
			// ½gᵀH⁻¹g falls below it and the full Newton step must still be taken.
			l0 := p.Loss(x)
			tol := 1e-13 * (1 + math.Abs(l0))
			for range 60 {
				if p.Loss([]float64{x[0] + t*d[0], x[1] + t*d[1]}) <= l0+tol {
					break
				}
				t /= 2
			}
		}
		x[0] += t * d[0]
		x[1] += t * d[1]
		if t*math.Hypot(d[0], d[1]) < 1e-14*(1+math.Hypot(x[0], x[1])) {
			break
		}
	}
	p.Moments(g, nil, x)
	return x, math.Hypot(g[0], g[1]) < 1e-9
}

func (w *Wells2D) findCritical() error {
	w.minima = w.minima[:0]
	for k, c := range w.wells {
		m, ok := newton2(w, c.Center[:], true)
		if !ok {
			return fmt.Errorf("landscape: wells2d: no minimum of L near well %d", k)
		}
		for _, o := range w.minima {
			if math.Hypot(o[0]-m[0], o[1]-m[1]) < 1e-6 {
				return fmt.Errorf("landscape: wells2d: wells %d and another share one minimum of L (they overlap)", k)
			}
		}
		w.minima = append(w.minima, m)
	}
	w.saddles = w.saddles[:0]
	for k := 0; k+1 < len(w.minima); k++ {
		a, b := w.minima[k], w.minima[k+1]
		// The highest point of L on the segment, then Newton on ∇L = 0.
		best, bt := math.Inf(-1), 0.5
		for i := 1; i < 400; i++ {
			t := float64(i) / 400
			if l := w.Loss([]float64{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}); l > best {
				best, bt = l, t
			}
		}
		sd, ok := newton2(w, []float64{a[0] + bt*(b[0]-a[0]), a[1] + bt*(b[1]-a[1])}, false)
		h := make([]float64, 4)
		w.Hess(h, sd)
		if !ok || !(h[0]*h[3]-h[1]*h[2] < 0) {
			return fmt.Errorf("landscape: wells2d: no saddle between minima %d and %d", k, k+1)
		}
		w.saddles = append(w.saddles, sd)
	}
	return nil
}

// balance rescales the depths of wells 1…K−1 so that L(min_k) = L(min_0) (Gauss–Seidel
// sweeps of 1-D root finds; the minima are re-found by Newton's method each time).
func (w *Wells2D) balance() error {
	refind := func() bool {
		for k := range w.minima {
			m, ok := newton2(w, w.minima[k], true)
			if !ok {
				return false
			}
			w.minima[k] = m
		}
		return true
	}
	err := balanceDepths("wells2d", len(w.wells), func(k int) float64 { return w.wells[k].Depth }, func(k int, d float64) float64 {
		w.wells[k].Depth = d
		if !refind() {
			return math.NaN()
		}
		return w.Loss(w.minima[k]) - w.Loss(w.minima[0])
	})
	if err != nil {
		return err
	}
	return w.findCritical()
}

// autoDomain2D marches from every minimum along ±e_1 and ±e_2 until the note's log-density
// along that line, ∫ e·2D⁻¹μ, and the exact one (less the change of log D_ee) have dropped
// by 20 (a factor 2·10⁻⁹), and returns the bounding box of the end points (a heuristic: the Fokker–Planck
// solver warns when the boundary cells still hold probability).
func autoDomain2D(p Preset, lr, kappa float64) (lo, hi []float64) {
	lo = []float64{math.Inf(1), math.Inf(1)}
	hi = []float64{math.Inf(-1), math.Inf(-1)}
	g := make([]float64, 2)
	c := make([]float64, 4)
	h := make([]float64, 4)
	fdir := func(x []float64, e int) (f, logDee float64) {
		p.Moments(g, c, x)
		det := c[0]*c[3] - c[1]*c[2]
		// 2D⁻¹μ = −(2/(ηκ)) C⁻¹∇L.
		inv := [2]float64{(c[3]*g[0] - c[1]*g[1]) / det, (-c[2]*g[0] + c[0]*g[1]) / det}
		return -2 / (lr * kappa) * inv[e], math.Log(c[3*e])
	}
	for _, m := range p.Minima() {
		p.Hess(h, m)
		p.Moments(nil, c, m)
		for e := range 2 {
			for _, dir := range []float64{-1, 1} {
				step := 0.1
				if h[3*e] > 0 {
					step = math.Sqrt(lr * kappa * c[3*e] / (2 * h[3*e]))
				}
				limit := 1e4 * step
				x := slices.Clone(m)
				_, ld0 := fdir(x, e)
				phi := 0.0
				for math.Abs(x[e]-m[e]) < limit {
					// Simpson on the step.
					f0, _ := fdir(x, e)
					xm := slices.Clone(x)
					xm[e] += dir * step / 2
					f1, _ := fdir(xm, e)
					xn := slices.Clone(x)
					xn[e] += dir * step
					f2, ld := fdir(xn, e)
					phi += dir * step / 6 * (f0 + 4*f1 + f2)
					x = xn
					if phi <= -20 && phi-(ld-ld0) <= -20 {
						break
					}
					step *= 1.2
				}
				lo[e] = math.Min(lo[e], x[e])
				hi[e] = math.Max(hi[e], x[e])
			}
		}
	}
	return lo, hi
}
