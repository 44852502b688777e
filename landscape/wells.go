package landscape

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/sim"
)

// Well is one Gaussian well of the base potential U (1-D: Center is a number; 2-D wells use
// Well2D).
type Well struct {
	Center, Depth, Width float64
}

// ParseWells parses "center:depth:width,…" (depth, width > 0).
func ParseWells(s string) ([]Well, error) {
	rows, err := parseWellList(s, "center:depth:width")
	if err != nil {
		return nil, err
	}
	ws := make([]Well, len(rows))
	for i, v := range rows {
		ws[i] = Well{v[0], v[1], v[2]}
	}
	return ws, nil
}

// parseWellList parses a comma-separated list of wells, each a colon-separated list of
// finite numbers of the given form ("center:depth:width" or "cx:cy:depth:width") whose last
// two entries, depth and width, are positive.
func parseWellList(s, form string) ([][]float64, error) {
	n := strings.Count(form, ":") + 1
	var out [][]float64
	for _, item := range strings.Split(s, ",") {
		f := strings.Split(strings.TrimSpace(item), ":")
		if len(f) != n {
			return nil, fmt.Errorf("well %q: want %s", item, form)
		}
		v := make([]float64, n)
		for i, t := range f {
			x, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("well %q: %q is not a finite number", item, t)
			}
			v[i] = x
		}
		if !(v[n-2] > 0) || !(v[n-1] > 0) {
			return nil, fmt.Errorf("well %q: depth and width must be positive", item)
		}
		out = append(out, v)
	}
	return out, nil
}

// WellsSettings configures the wells preset. Zero fields mean defaults.
type WellsSettings struct {
	// Wells is the base potential's wells, "center:depth:width,…". Default: DefaultWells,
	// a sharp well at −1 (width 0.25) and a flat one at +1.5 four times wider, both of
	// depth 0.3 in U before the flat one's depth is balanced so that L's two minima are
	// equal (Balance is implied).
	Wells string
	// Spread is the population standard deviation of the shifts s_i; nil means the default
	// 0.15. 0 gives constant noise Var0.
	Spread *float64
	// Var0 is the variance of the additive noise floor a_i; default 0.3.
	Var0 float64
	// Confine is the curvature of U's weak quadratic confinement ½·Confine·θ²; default
	// 0.05.
	Confine float64
	// N is the number of examples, even and at least 4; default 1000.
	N int
	// Balance rescales the depths of wells 2…K (in U) by root finding so that all of L's
	// minima have the same value (to 1e-12). Always done for the default wells.
	Balance bool
}

// DefaultWells is the wells preset's default base potential (before balancing).
const DefaultWells = "-1:0.3:0.25,1.5:0.3:1"

// Wells is the 1-D "shifted examples" landscape of MATH.md §8:
// ℓ_i(θ) = U(θ − s_i) + a_iθ with
// U(t) = −Σ_k depth_k·exp(−(t − c_k)²/(2w_k²)) + ½·confine·t².
// The N examples come in N/2 pairs: pair j has shift s_j = spread·q_j (q the N/2
// standardised normal quantiles, so the shifts have population mean 0 and standard
// deviation spread exactly) and noise floors a = ±√var0·q_j. Every function of the shift is
// therefore exactly uncorrelated with a, and
// C(θ) = Var_j U'(θ − s_j) + var0 ≈ spread²·U”(θ)² + var0,
// L(θ) = (1/(N/2)) Σ_j U(θ − s_j).
type Wells struct {
	wells   []Well
	spread  float64
	var0    float64
	confine float64
	s, a    []float64 // per example
	su      []float64 // the N/2 distinct shifts
	avar    float64   // population variance of a (var0 to rounding)
	minima  []float64
	saddles []float64
	lr      float64
	batch   int
}

// NewWells returns the wells preset. It fails when L does not have one minimum per well
// (overlapping wells) or when balancing does not converge.
func NewWells(s WellsSettings) (*Wells, error) {
	spec, balance := s.Wells, s.Balance
	if spec == "" {
		spec, balance = DefaultWells, true
	}
	ws, err := ParseWells(spec)
	if err != nil {
		return nil, fmt.Errorf("landscape: wells: %v", err)
	}
	slices.SortFunc(ws, func(x, y Well) int { return cmpFloat(x.Center, y.Center) })
	w := &Wells{wells: ws, lr: 0.2, batch: 1}
	if w.spread, err = nonNegative("spread", s.Spread, 0.15); err != nil {
		return nil, err
	}
	if w.var0, err = positive("var0", s.Var0, 0.3); err != nil {
		return nil, err
	}
	if w.confine, err = positive("confine", s.Confine, 0.05); err != nil {
		return nil, err
	}
	n, err := numExamples(s.N, 4, 1000)
	if err != nil {
		return nil, err
	}
	if n%2 != 0 {
		return nil, fmt.Errorf("landscape: wells: %w", field.Errorf("n", "%d must be even (examples come in ± pairs)", n))
	}
	q := normalQuantiles(n / 2)
	w.su = make([]float64, n/2)
	w.s = make([]float64, n)
	w.a = make([]float64, n)
	for j, qj := range q {
		w.su[j] = w.spread * qj
		w.s[2*j], w.s[2*j+1] = w.su[j], w.su[j]
		w.a[2*j] = math.Sqrt(w.var0) * qj
		w.a[2*j+1] = -w.a[2*j]
	}
	_, w.avar = meanVar(w.a)
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

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// Wells returns the base potential's wells (after balancing).
func (w *Wells) Wells() []Well { return slices.Clone(w.wells) }

func (w *Wells) Name() string { return "wells" }
func (w *Wells) Params() map[string]float64 {
	p := map[string]float64{"spread": w.spread, "var0": w.var0, "confine": w.confine, "n": float64(len(w.s))}
	for k, x := range w.wells {
		p[fmt.Sprintf("center%d", k)] = x.Center
		p[fmt.Sprintf("depth%d", k)] = x.Depth
		p[fmt.Sprintf("width%d", k)] = x.Width
	}
	return p
}

// Defaults returns η = 0.2 and B = 1. With the default wells, spread and var0 this gives
// ηL” ≈ 0.59 in the sharp well, noise C about 1.7 times larger there than in the flat
// well, and exact mean escape times of about 2·10³ (sharp) and 2·10⁴ (flat) steps.
func (w *Wells) Defaults() (float64, int) { return w.lr, w.batch }
func (w *Wells) Dim() int                 { return 1 }
func (w *Wells) NumExamples() int         { return len(w.s) }

// u returns U(t), U'(t), U”(t).
func (w *Wells) u(t float64) (u, u1, u2 float64) {
	u = 0.5 * w.confine * t * t
	u1 = w.confine * t
	u2 = w.confine
	for _, k := range w.wells {
		z := t - k.Center
		iw2 := 1 / (k.Width * k.Width)
		e := k.Depth * math.Exp(-0.5*z*z*iw2)
		u -= e
		u1 += e * z * iw2
		u2 += e * (iw2 - z*z*iw2*iw2)
	}
	return u, u1, u2
}

func (w *Wells) uprime(t float64) float64 {
	u1 := w.confine * t
	for _, k := range w.wells {
		z := t - k.Center
		iw2 := 1 / (k.Width * k.Width)
		u1 += k.Depth * math.Exp(-0.5*z*z*iw2) * z * iw2
	}
	return u1
}

func (w *Wells) MiniBatchGrad(dst, theta []float64, idx []int) {
	checkLen("dst", dst, 1)
	checkLen("theta", theta, 1)
	var g float64
	for _, i := range idx {
		g += w.uprime(theta[0]-w.s[i]) + w.a[i]
	}
	dst[0] = g / float64(len(idx))
}

func (w *Wells) WeightedGrad(dst, theta []float64, wt []float64) {
	checkLen("dst", dst, 1)
	checkLen("theta", theta, 1)
	checkLen("w", wt, len(w.s))
	var g float64
	for j, s := range w.su { // the pair shares its shift: one U' for both examples
		g += (wt[2*j]+wt[2*j+1])*w.uprime(theta[0]-s) + wt[2*j]*w.a[2*j] + wt[2*j+1]*w.a[2*j+1]
	}
	dst[0] = g
}

func (w *Wells) RegGrad(dst, theta []float64) {}

// Loss returns L(θ) = (1/(N/2)) Σ_j U(θ − s_j) (the a_iθ terms cancel pairwise exactly).
func (w *Wells) Loss(theta []float64) float64 {
	checkLen("theta", theta, 1)
	return w.loss(theta[0])
}

func (w *Wells) loss(t float64) float64 {
	var l float64
	for _, s := range w.su {
		u, _, _ := w.u(t - s)
		l += u
	}
	return l / float64(len(w.su))
}

func (w *Wells) grad(t float64) float64 {
	var g float64
	for _, s := range w.su {
		g += w.uprime(t - s)
	}
	return g / float64(len(w.su))
}

func (w *Wells) Clone() sim.Problem { c := *w; return &c }

// Moments writes L'(θ) = mean_j U'(θ − s_j) and C(θ) = Var_j U'(θ − s_j) + Var a (the cross
// covariance of a with any function of the shift is exactly 0 by the ± pairing).
func (w *Wells) Moments(grad, cov, theta []float64) {
	checkLen("theta", theta, 1)
	// Welford's update for the mean and variance of U'(θ − s_j).
	var m, ss float64
	for j, s := range w.su {
		u1 := w.uprime(theta[0] - s)
		d := u1 - m
		m += d / float64(j+1)
		ss += d * (u1 - m)
	}
	if grad != nil {
		checkLen("grad", grad, 1)
		grad[0] = m
	}
	if cov != nil {
		checkLen("cov", cov, 1)
		cov[0] = ss/float64(len(w.su)) + w.avar
	}
}

func (w *Wells) Hess(dst, theta []float64) {
	checkLen("dst", dst, 1)
	checkLen("theta", theta, 1)
	var h float64
	for _, s := range w.su {
		_, _, u2 := w.u(theta[0] - s)
		h += u2
	}
	dst[0] = h / float64(len(w.su))
}

func (w *Wells) Minima() [][]float64  { return wrap1(w.minima) }
func (w *Wells) Saddles() [][]float64 { return wrap1(w.saddles) }

func wrap1(x []float64) [][]float64 {
	r := make([][]float64, len(x))
	for i, v := range x {
		r[i] = []float64{v}
	}
	return r
}

// Domain marches outwards from the outer minima until the exact log-density has dropped by
// 36 (a factor 2·10⁻¹⁶) below its value there (see autoDomain1D).
func (w *Wells) Domain(lr, kappa float64) (lo, hi []float64) {
	l, h := autoDomain1D(w, lr, kappa, w.minima[0], w.minima[len(w.minima)-1])
	return []float64{l}, []float64{h}
}

// scanBox is the interval scanned for critical points of L.
func (w *Wells) scanBox() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, k := range w.wells {
		lo = math.Min(lo, k.Center-6*k.Width)
		hi = math.Max(hi, k.Center+6*k.Width)
	}
	pad := 6 * w.spread
	return lo - pad, hi + pad
}

// findCritical locates L's minima and the maxima between them, and checks there is one
// minimum per well.
func (w *Wells) findCritical() error {
	lo, hi := w.scanBox()
	mins, maxs := criticalPoints1D(w.grad, lo, hi, 4000)
	if len(mins) != len(w.wells) {
		return fmt.Errorf("landscape: wells: L has %d local minima for %d wells (wells overlap or the confinement dominates)", len(mins), len(w.wells))
	}
	var sad []float64
	for k := 0; k+1 < len(mins); k++ {
		found := false
		for _, x := range maxs {
			if x > mins[k] && x < mins[k+1] {
				sad = append(sad, x)
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("landscape: wells: no saddle between minima %.6g and %.6g", mins[k], mins[k+1])
		}
	}
	w.minima, w.saddles = mins, sad
	return nil
}

// refineMinima moves each stored minimum to the nearby zero of L' (after a small change of
// the depths).
func (w *Wells) refineMinima() error {
	for k, x := range w.minima {
		h := 0.25 * w.wells[k].Width
		a, b := x-h, x+h
		for range 20 {
			if w.grad(a) < 0 && w.grad(b) > 0 {
				break
			}
			a -= h
			b += h
		}
		r, err := brent(w.grad, a, b, 1e-14*(1+math.Abs(x)))
		if err != nil {
			return fmt.Errorf("landscape: wells: lost minimum %d while balancing: %v", k, err)
		}
		w.minima[k] = r
	}
	return nil
}

// balance rescales the depths of wells 1…K−1 so that L(min_k) = L(min_0), one 1-D root find
// per well (Gauss–Seidel sweeps until every gap is below 1e-12).
func (w *Wells) balance() error {
	err := balanceDepths("wells", len(w.wells), func(k int) float64 { return w.wells[k].Depth }, func(k int, d float64) float64 {
		w.wells[k].Depth = d
		if err := w.refineMinima(); err != nil {
			return math.NaN()
		}
		return w.loss(w.minima[k]) - w.loss(w.minima[0])
	})
	if err != nil {
		return err
	}
	return w.findCritical()
}
