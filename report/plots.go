package report

import (
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/study"
	"github.com/sgdprior/sgdprior/verify"
)

// The figures of the report. Each takes the numbers of one output as they are; the only
// values made here are plot coordinates (index k = 1, 2, … along the x axis, a reference
// line at 1).

// indices returns 1, 2, …, n.
func indices(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i + 1)
	}
	return x
}

// nans returns n NaNs (absent values).
func nans(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = math.NaN()
	}
	return x
}

func cov2(m [][]jsonnum.Float) ([2][2]float64, bool) {
	var c [2][2]float64
	if len(m) < 2 || len(m[0]) < 2 || len(m[1]) < 2 {
		return c, false
	}
	c[0][0], c[0][1], c[1][0], c[1][1] = float64(m[0][0]), float64(m[0][1]), float64(m[1][0]), float64(m[1][1])
	return c, true
}

// cloudFigure: the stationary cloud in the plane of the two sharpest Hessian directions,
// with the measured covariance and each prediction's 2-SD ellipse.
func cloudFigure(name, where string, c *verify.Cloud) (*Figure, error) {
	var els []Ellipse
	if cv, ok := cov2(c.Cov); ok && len(c.Mean) >= 2 {
		els = append(els, Ellipse{Name: "measured", Center: [2]float64{float64(c.Mean[0]), float64(c.Mean[1])}, Cov: cv})
	}
	for _, n := range study.PredictionNames(c.Predictions) {
		if cv, ok := cov2(c.Predictions[n]); ok {
			els = append(els, Ellipse{Name: study.PredictionLabel(n), Cov: cv})
		}
	}
	return CloudPlot(name, "Stationary cloud, "+where, "along v1 (sharpest Hessian direction)", "along v2",
		"SGD's iterates around θ* projected on the two sharpest Hessian eigendirections, with the 2-standard-deviation ellipse of the measured covariance and of each prediction (centred at θ*).",
		jsonnum.Values(c.X), jsonnum.Values(c.Y), els)
}

// ratioFigure: measured variance over each prediction along each Hessian eigendirection,
// with ±2 SE bars.
func ratioFigure(name, where string, v *verify.Report) (*Figure, error) {
	n := len(v.Directions)
	x := indices(n)
	names := map[string]bool{}
	for _, d := range v.Directions {
		for k := range d.Ratio {
			names[k] = true
		}
	}
	var series []Series
	for _, pn := range study.PredictionNames(names) {
		y, se := nans(n), nans(n)
		for k, d := range v.Directions {
			if r, ok := d.Ratio[pn]; ok {
				y[k] = float64(r)
			}
			if r, ok := d.RatioSE[pn]; ok {
				se[k] = float64(r)
			}
		}
		series = append(series, Series{Name: study.PredictionLabel(pn), X: x, Y: y, Err: se, Points: true})
	}
	series = append(series, Series{Name: "agreement (1)", X: []float64{1, float64(max(n, 2))}, Y: []float64{1, 1}})
	basis := "Hessian eigendirection k (sharpest first)"
	return LinePlot(name, "Measured / predicted variance, "+where, basis, "variance ratio", fmt.Sprintf(
		"Ratio of SGD's measured variance along each Hessian eigendirection v_k to each prediction's, with ±2 standard-error bars (basis: %s). A prediction that describes SGD stays at 1.", v.Basis),
		series, false, true)
}

// spectraFigure: the Hessian's eigenvalues, the noise along the Hessian directions and the
// top eigenvalues of the per-example noise covariance C, of score step s.
func spectraFigure(name string, s *study.StepResult, o *score.Output) (*Figure, error) {
	var series []Series
	if g := o.Gaussian; g != nil && len(g.Directions) > 0 {
		n := len(g.Directions)
		h, c := make([]float64, n), make([]float64, n)
		for k, d := range g.Directions {
			h[k], c[k] = float64(d.H), float64(d.C)
		}
		series = append(series,
			Series{Name: "Hessian eigenvalue h_k", X: indices(n), Y: h, Points: true},
			Series{Name: "noise along v_k: c_k = v_kᵀ C_B v_k", X: indices(n), Y: c, Points: true})
	}
	if ev := o.Noise.TopEigenvalues; len(ev) > 0 {
		series = append(series, Series{Name: "top eigenvalues of C (per example)", X: indices(len(ev)), Y: jsonnum.Values(ev)})
	}
	if len(series) == 0 {
		return nil, nil
	}
	return LinePlot(name, fmt.Sprintf("Noise and Hessian spectra at θ* (η = %s, B = %d)", study.Format(s.LR), s.Batch), "index k", "eigenvalue",
		"The Hessian's eigenvalues h_k (sharpest first), the mini-batch noise c_k along the same directions, and the top eigenvalues of the per-example gradient covariance C (C_B = κ_B C).",
		series, false, true)
}

// landscapeFigures: 1-D densities, well shares against η/B, escape times and the 2-D
// current field, as far as the output has them.
func landscapeFigures(name string, o *landscape.Output, sum *study.EntrySummary) ([]*Figure, []string, error) {
	var figs []*Figure
	var missing []string
	where := fmt.Sprintf("%s, η = %s, B = %d", o.Preset, study.Format(float64(o.LR)), o.Batch)
	d := o.Density
	gx, gy := jsonnum.Values(o.Grid.X), jsonnum.Values(o.Grid.Y)
	if n := len(o.Grid.X); n > 0 && len(o.Grid.Y) == 0 && len(d.Exact) == n {
		var series []Series
		add := func(label string, y, se []jsonnum.Float, points bool) {
			if len(y) == n {
				var e []float64
				if len(se) == n {
					e = jsonnum.Values(se)
				}
				series = append(series, Series{Name: label, X: gx, Y: jsonnum.Values(y), Err: e, Points: points})
			}
		}
		add("exact (SDE)", d.Exact, nil, false)
		add("the note's (seed)", d.Note, nil, false)
		add("SGD", d.SGD, d.SGDStderr, true)
		add("Gaussian-noise SGD", d.Gauss, d.GaussStderr, true)
		add("SDE (Euler–Maruyama)", d.SDE, d.SDEStderr, true)
		f, err := LinePlot(name+"-density", "Stationary density, "+where, "θ", "density",
			"The SDE's exact stationary density, the note's density (without the 1/D factor), and histograms of the simulations with ±2 standard-error bars.",
			series, false, false)
		if err != nil {
			return nil, nil, err
		}
		figs = append(figs, f)
	}
	if nx, ny := len(o.Grid.X), len(o.Grid.Y); nx > 1 && ny > 1 && len(d.Exact) == nx*ny {
		var fields []Contour
		add := func(label string, z []jsonnum.Float) {
			if len(z) == nx*ny {
				fields = append(fields, Contour{Name: label, Z: rowMajorByY(jsonnum.Values(z), nx, ny)})
			}
		}
		add("exact (Fokker–Planck)", d.Exact)
		add("the note's (seed)", d.Note)
		add("SGD (histogram)", d.SGD)
		f, err := ContourPlot(name+"-density", "Stationary density, "+where, "θ1", "θ2",
			"Contours at 10%, 30%, 50%, 70% and 90% of the exact density's peak: the stationary Fokker–Planck solution, the note's density, and SGD's histogram.",
			gx, gy, fields)
		if err != nil {
			return nil, nil, err
		}
		figs = append(figs, f)
	}
	if len(o.Sweep) > 0 {
		well := 0
		which := "the first well"
		if sum != nil && sum.FlatWell != nil {
			well, which = *sum.FlatWell, "the flat well"
		}
		n := len(o.Sweep)
		x := nans(n)
		if sum != nil && len(sum.SweepX) == n {
			for i, v := range sum.SweepX {
				x[i] = float64(v)
			}
		}
		ex, sd, sg, se := nans(n), nans(n), nans(n), nans(n)
		pick := func(dst []float64, i int, src []jsonnum.Float) {
			if well < len(src) {
				dst[i] = float64(src[well])
			}
		}
		for i, sw := range o.Sweep {
			pick(ex, i, sw.Shares.Exact)
			pick(sd, i, sw.Shares.Note)
			pick(sg, i, sw.Shares.SGD)
			pick(se, i, sw.Shares.SGDStderr)
		}
		f, err := LinePlot(name+"-shares", "Share of "+which+" against η/B ("+o.Preset+")", "η/B", "probability of "+which,
			"The probability of "+which+" under the SDE's exact density, the note's density and SGD (±2 standard errors), as the learning rate and batch size vary.",
			[]Series{{Name: "exact (SDE)", X: x, Y: ex, Points: true}, {Name: "the note's (seed)", X: x, Y: sd, Points: true}, {Name: "SGD", X: x, Y: sg, Err: se, Points: true}},
			false, false)
		if err != nil {
			return nil, nil, err
		}
		figs = append(figs, f)
	} else if len(o.Wells) >= 2 {
		missing = append(missing, "well shares against η/B: the landscape step ran no sweep")
	}
	if nw := len(o.Wells); nw >= 2 {
		ex, kr, sg, se := nans(nw), nans(nw), nans(nw), nans(nw)
		for i, w := range o.Wells {
			ex[i], kr[i], sg[i], se[i] = float64(w.EscapeExact), float64(w.EscapeKramers), float64(w.EscapeSGD), float64(w.EscapeSGDStderr)
		}
		x := indices(nw)
		f, err := LinePlot(name+"-escape", "Mean escape times, "+where, "well (left to right)", "steps",
			"Mean first-passage time from each well's minimum to the other well's minimum: exact (quadrature), Kramers' approximation, and measured on SGD (±2 standard errors).",
			[]Series{{Name: "exact (first passage)", X: x, Y: ex, Points: true}, {Name: "Kramers", X: x, Y: kr, Points: true}, {Name: "SGD", X: x, Y: sg, Err: se, Points: true}},
			false, true)
		if err != nil {
			return nil, nil, err
		}
		figs = append(figs, f)
	}
	if cf := o.CurrentField; cf != nil {
		nx, ny := len(o.Grid.X), len(o.Grid.Y)
		if nx > 0 && ny > 0 && len(cf.JX) == nx*ny && len(cf.JY) == nx*ny {
			// At most about 24 arrows per axis: every sx-th cell along x, sy-th along y.
			sx, sy := (nx+23)/24, (ny+23)/24
			var xs, ys, u, v []float64
			for i := 0; i < nx; i += sx {
				xs = append(xs, float64(o.Grid.X[i]))
			}
			for j := 0; j < ny; j += sy {
				ys = append(ys, float64(o.Grid.Y[j]))
				for i := 0; i < nx; i += sx {
					u, v = append(u, float64(cf.JX[i*ny+j])), append(v, float64(cf.JY[i*ny+j]))
				}
			}
			f, err := FieldPlot(name+"-current", "Stationary probability current, "+where,
				fmt.Sprintf("The probability current J = μp − ½∇·(Dp) of the stationary Fokker–Planck solution, on every %d-th cell (arrows scaled to the largest); max|J|/max|μp| = %s. The note assumes J = 0.", max(sx, sy), study.Format(float64(o.Current))),
				xs, ys, u, v)
			if err != nil {
				return nil, nil, err
			}
			figs = append(figs, f)
		} else {
			missing = append(missing, "current field: its grid and components do not match in size")
		}
	} else if o.Current.OK() {
		missing = append(missing, "current field: the landscape output has no \"current_field\" (only the summary max|J|/max|μp| = "+study.Format(float64(o.Current))+")")
	}
	return figs, missing, nil
}

// rowMajorByY reorders a grid field from the landscape output's layout (cell (i, j) at
// i·ny + j) to the figures' (j·nx + i).
func rowMajorByY(z []float64, nx, ny int) []float64 {
	out := make([]float64, nx*ny)
	for i := 0; i < nx; i++ {
		for j := 0; j < ny; j++ {
			out[j*nx+i] = z[i*ny+j]
		}
	}
	return out
}
