package landscape

import (
	"fmt"
	"math"
)

// FP2DSettings configures Stationary2DFP. Zero fields mean defaults.
type FP2DSettings struct {
	// Lo and Hi bound the grid box (zero-flux boundaries); default the preset's
	// Domain(lr, κ_B).
	Lo, Hi []float64
	// NX and NY are the numbers of cells along each axis; default 120 each.
	NX, NY int
}

// Stationary2D is the stationary Fokker–Planck solution on a grid (MATH.md §8). Cell (i, j)
// has centre (X[i], Y[j]) and flat index i·NY + j in every per-cell slice.
type Stationary2D struct {
	// LR is η, Kappa is κ_B: μ = −η∇L, D = η²κ_B C.
	LR, Kappa float64
	// NX, NY, X, Y describe the cells; HX, HY their sides.
	NX, NY int
	X, Y   []float64
	HX, HY float64
	// Density is the stationary density (Σ Density·HX·HY = 1), cell averages.
	Density []float64
	// JX, JY are the probability current J = μp − ½∇·(Dp) at the cell centres: the mean of
	// the discrete fluxes through the cell's two faces normal to each axis.
	JX, JY []float64
	// Current is max|J| / max|μp| over the cells: 0 (up to discretisation error) exactly
	// when the stationary state has zero current.
	Current float64
	// Note is the note's density exp(ψ), normalised, with ψ the line integral of the note's
	// score field F = 2D⁻¹μ along the straight ray from the lowest minimum m:
	// ψ(θ) = ∫_0^1 F(m + t(θ − m))·(θ − m) dt. It is the note's density exactly when F is a
	// gradient field; for a quadratic with constant noise, F = −Pθ with P = (2/η)C_B⁻¹H and
	// ψ = −½θᵀPθ, i.e. the Gaussian with precision sym(P) of MATH.md §6 whether or not C
	// and H commute.
	Note []float64
	// NoteNonGradient is ‖∇ψ − F‖/‖F‖ over the cell faces (F at the face midpoints, ∇ψ by
	// differences): how far F is from a gradient field (discretisation error only when it is
	// one, e.g. when C and H commute in the quadratic case).
	NoteNonGradient float64
	// Mean and Cov (row-major 2×2) are the moments of Density; NoteMean and NoteCov those
	// of Note.
	Mean, Cov, NoteMean, NoteCov []float64
	// Minima and Saddles of L; MassExact and MassNote the probability of each well: cell
	// (centre θ) belongs to well k when it lies beyond the first k of the lines through
	// each saddle perpendicular to the segment between the minima it separates.
	Minima, Saddles     [][]float64
	MassExact, MassNote []float64
	// Escape is the mean first-passage time (in SGD steps) from each minimum to the line
	// through a neighbouring minimum perpendicular to the axis from the first to the last
	// minimum (Simulate's definition), from the backward equation ½D:∇²T + μ·∇T = −1
	// discretised by the transpose of the finite-volume generator (reflecting at the box);
	// the absorbing line is resolved to a cell. Empty with a single minimum.
	Escape []float64
	// Lo and Hi are the grid box.
	Lo, Hi []float64
	// Warnings report negative densities (grid too coarse for the cross-diffusion terms)
	// and probability at the boundary.
	Warnings []string
}

// Stationary2DFP solves the stationary Fokker–Planck equation
// 0 = −∇·(μp) + ½ Σ_ij ∂_i∂_j(D_ij p), μ = −η∇L, D = η²κ_B C(θ)
// for a 2-D preset by finite volumes on a uniform grid with zero-flux boundaries. The flux
// through a face normal to axis n is J_n = −½[∂_n q − a q] − ½∂_t(D_nt p) with q = D_nn p
// and a = 2μ_n/D_nn: the first part by Scharfetter–Gummel exponential fitting,
// (1/2h)[B(−z) q_left − B(z) q_right], B(z) = z/(eᶻ − 1), z = h·a at the face midpoint
// (exact for a zero-flux 1-D profile up to the midpoint rule for ∫a, robust at any cell
// Péclet number); the tangential term by the centred difference averaged over the two
// cells (one-sided at the boundary). The scheme is second-order accurate and conserves
// probability exactly. The singular linear system (its columns sum
// to zero) is solved by banded LU with partial pivoting after replacing the equation of the
// cell at the lowest minimum by p = 1, then normalised. It returns an error if the solve
// fails or D is not positive definite somewhere.
func Stationary2DFP(p Preset, lr, kappa float64, s *FP2DSettings) (*Stationary2D, error) {
	if p.Dim() != 2 {
		panic(fmt.Sprintf("landscape: Stationary2DFP needs a 2-D preset, %s has d = %d", p.Name(), p.Dim()))
	}
	if !(lr > 0) || !(kappa > 0) || math.IsInf(lr, 0) || math.IsInf(kappa, 0) {
		return nil, fmt.Errorf("landscape: learning rate %v and κ_B %v must be positive and finite", lr, kappa)
	}
	var set FP2DSettings
	if s != nil {
		set = *s
	}
	if set.Lo == nil || set.Hi == nil {
		set.Lo, set.Hi = p.Domain(lr, kappa)
	}
	checkLen("Lo", set.Lo, 2)
	checkLen("Hi", set.Hi, 2)
	if !(set.Lo[0] < set.Hi[0]) || !(set.Lo[1] < set.Hi[1]) {
		panic(fmt.Sprintf("landscape: FP2DSettings: empty box %v–%v", set.Lo, set.Hi))
	}
	if set.NX == 0 {
		set.NX = 120
	}
	if set.NY == 0 {
		set.NY = 120
	}
	if set.NX < 3 || set.NY < 3 {
		panic(fmt.Sprintf("landscape: FP2DSettings: %d×%d cells, need at least 3×3", set.NX, set.NY))
	}
	nx, ny := set.NX, set.NY
	r := &Stationary2D{LR: lr, Kappa: kappa, NX: nx, NY: ny,
		HX: (set.Hi[0] - set.Lo[0]) / float64(nx), HY: (set.Hi[1] - set.Lo[1]) / float64(ny),
		Minima: p.Minima(), Saddles: p.Saddles(), Lo: set.Lo, Hi: set.Hi}
	hx, hy := r.HX, r.HY
	r.X = make([]float64, nx)
	r.Y = make([]float64, ny)
	for i := range r.X {
		r.X[i] = set.Lo[0] + (float64(i)+0.5)*hx
	}
	for j := range r.Y {
		r.Y[j] = set.Lo[1] + (float64(j)+0.5)*hy
	}
	n := nx * ny
	idx := func(i, j int) int { return i*ny + j }
	ek := lr * kappa
	g := make([]float64, 2)
	c := make([]float64, 4)

	// D and μ at the cell centres.
	dxx, dxy, dyy := make([]float64, n), make([]float64, n), make([]float64, n)
	mux, muy := make([]float64, n), make([]float64, n)
	for i := range nx {
		for j := range ny {
			k := idx(i, j)
			p.Moments(g, c, []float64{r.X[i], r.Y[j]})
			if !(c[0] > 0) || !(c[0]*c[3]-c[1]*c[2] > 0) || math.IsInf(c[0]+c[3], 0) {
				return nil, fmt.Errorf("landscape: noise C(θ) = %v at θ = (%.4g, %.4g) is not positive definite", c, r.X[i], r.Y[j])
			}
			dxx[k], dxy[k], dyy[k] = lr*ek*c[0], lr*ek*c[1], lr*ek*c[3]
			mux[k], muy[k] = -lr*g[0], -lr*g[1]
		}
	}
	// μ·n and the note's field F·n = (2D⁻¹μ)·n at the face midpoints.
	type face struct{ mu, f, dnn float64 }
	xf := make([]face, (nx-1)*ny) // face between (i, j) and (i+1, j): index i*ny + j
	yf := make([]face, nx*(ny-1)) // face between (i, j) and (i, j+1): index i*(ny−1) + j
	fieldAt := func(x, y float64, e int) face {
		p.Moments(g, c, []float64{x, y})
		det := c[0]*c[3] - c[1]*c[2]
		inv := [2]float64{(c[3]*g[0] - c[1]*g[1]) / det, (-c[2]*g[0] + c[0]*g[1]) / det}
		return face{mu: -lr * g[e], f: -2 / ek * inv[e], dnn: lr * ek * c[3*e]}
	}
	for i := 0; i+1 < nx; i++ {
		for j := range ny {
			xf[i*ny+j] = fieldAt(r.X[i]+hx/2, r.Y[j], 0)
		}
	}
	for i := range nx {
		for j := 0; j+1 < ny; j++ {
			yf[i*(ny-1)+j] = fieldAt(r.X[i], r.Y[j]+hy/2, 1)
		}
	}

	// Flux stencils. fluxX returns the (cell, coefficient) pairs of the flux through x-face
	// (i, j) as a linear function of p.
	type term struct {
		k int
		v float64
	}
	var buf []term
	fluxX := func(i, j int) []term {
		buf = buf[:0]
		a, b := idx(i, j), idx(i+1, j)
		f := xf[i*ny+j]
		z := hx * 2 * f.mu / f.dnn
		buf = append(buf, term{a, bernoulli(-z) * dxx[a] / (2 * hx)}, term{b, -bernoulli(z) * dxx[b] / (2 * hx)})
		jm, jp := max(j-1, 0), min(j+1, ny-1)
		den := 2 * float64(jp-jm) * hy // ½ of the mean over the two cells of the centred difference
		for _, ii := range []int{i, i + 1} {
			up, dn := idx(ii, jp), idx(ii, jm)
			buf = append(buf, term{up, -0.5 * dxy[up] / den}, term{dn, 0.5 * dxy[dn] / den})
		}
		return buf
	}
	fluxY := func(i, j int) []term {
		buf = buf[:0]
		a, b := idx(i, j), idx(i, j+1)
		f := yf[i*(ny-1)+j]
		z := hy * 2 * f.mu / f.dnn
		buf = append(buf, term{a, bernoulli(-z) * dyy[a] / (2 * hy)}, term{b, -bernoulli(z) * dyy[b] / (2 * hy)})
		im, ip := max(i-1, 0), min(i+1, nx-1)
		den := 2 * float64(ip-im) * hx
		for _, jj := range []int{j, j + 1} {
			up, dn := idx(ip, jj), idx(im, jj)
			buf = append(buf, term{up, -0.5 * dxy[up] / den}, term{dn, 0.5 * dxy[dn] / den})
		}
		return buf
	}

	// Assemble: row k of A is the net outflow of cell k, so dp/dt = −Ap; with transpose,
	// Aᵀ, whose negative is the discrete backward generator (½D:∇² + μ·∇ with the same
	// central stencils, reflecting at the box).
	bw := ny + 1
	assemble := func(transpose bool) *bandLU {
		A := newBand(n, bw, bw)
		add := func(row, col int, v float64) {
			if transpose {
				row, col = col, row
			}
			A.add(row, col, v)
		}
		for i := 0; i+1 < nx; i++ {
			for j := range ny {
				a, b := idx(i, j), idx(i+1, j)
				for _, t := range fluxX(i, j) {
					add(a, t.k, t.v/hx)
					add(b, t.k, -t.v/hx)
				}
			}
		}
		for i := range nx {
			for j := 0; j+1 < ny; j++ {
				a, b := idx(i, j), idx(i, j+1)
				for _, t := range fluxY(i, j) {
					add(a, t.k, t.v/hy)
					add(b, t.k, -t.v/hy)
				}
			}
		}
		return A
	}
	A := assemble(false)
	// Pin the cell holding the lowest minimum.
	pin := 0
	{
		best := math.Inf(1)
		for _, m := range r.Minima {
			if l := p.Loss(m); l < best {
				best = l
				i := min(max(int((m[0]-set.Lo[0])/hx), 0), nx-1)
				j := min(max(int((m[1]-set.Lo[1])/hy), 0), ny-1)
				pin = idx(i, j)
			}
		}
	}
	A.setRowUnit(pin)
	if err := A.factorize(); err != nil {
		return nil, fmt.Errorf("landscape: Fokker–Planck solve: %v", err)
	}
	dens := make([]float64, n)
	dens[pin] = 1
	A.solve(dens)
	var total, pmax, pmin float64
	for _, v := range dens {
		total += v
		pmax = math.Max(pmax, v)
		pmin = math.Min(pmin, v)
	}
	if !(total > 0) || math.IsNaN(total) || math.IsInf(total, 0) {
		return nil, fmt.Errorf("landscape: Fokker–Planck solve produced total mass %v", total)
	}
	for k := range dens {
		dens[k] /= total * hx * hy
	}
	if pmin < -1e-6*pmax {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the discrete density has negative values down to %.3g of its peak: the grid is too coarse", pmin/pmax))
	}
	r.Density = dens

	// Current at the centres: the mean of the discrete fluxes through the two faces
	// normal to each axis (zero through the boundary faces).
	r.JX, r.JY = make([]float64, n), make([]float64, n)
	apply := func(ts []term) float64 {
		var v float64
		for _, t := range ts {
			v += t.v * dens[t.k]
		}
		return v
	}
	for i := 0; i+1 < nx; i++ {
		for j := range ny {
			f := apply(fluxX(i, j))
			r.JX[idx(i, j)] += f / 2
			r.JX[idx(i+1, j)] += f / 2
		}
	}
	for i := range nx {
		for j := 0; j+1 < ny; j++ {
			f := apply(fluxY(i, j))
			r.JY[idx(i, j)] += f / 2
			r.JY[idx(i, j+1)] += f / 2
		}
	}
	var jmax, mpmax float64
	for k := range n {
		jmax = math.Max(jmax, math.Hypot(r.JX[k], r.JY[k]))
		mpmax = math.Max(mpmax, math.Hypot(mux[k], muy[k])*dens[k])
	}
	r.Current = jmax / mpmax

	// The note's density: ψ(θ) = ∫_0^1 F(m + t(θ − m))·(θ − m) dt from the lowest minimum m,
	// F = 2D⁻¹μ bilinearly interpolated from the cell centres, composite Simpson along the
	// ray with steps of at most half a cell.
	fcx, fcy := make([]float64, n), make([]float64, n)
	for k := range n {
		det := dxx[k]*dyy[k] - dxy[k]*dxy[k]
		fcx[k] = 2 * (dyy[k]*mux[k] - dxy[k]*muy[k]) / det
		fcy[k] = 2 * (-dxy[k]*mux[k] + dxx[k]*muy[k]) / det
	}
	interp := func(x, y float64) (fx, fy float64) {
		u := min(max((x-r.X[0])/hx, 0), float64(nx-1))
		v := min(max((y-r.Y[0])/hy, 0), float64(ny-1))
		i0, j0 := min(int(u), nx-2), min(int(v), ny-2)
		a, b := u-float64(i0), v-float64(j0)
		k00, k01, k10, k11 := idx(i0, j0), idx(i0, j0+1), idx(i0+1, j0), idx(i0+1, j0+1)
		w00, w01, w10, w11 := (1-a)*(1-b), (1-a)*b, a*(1-b), a*b
		return w00*fcx[k00] + w01*fcx[k01] + w10*fcx[k10] + w11*fcx[k11],
			w00*fcy[k00] + w01*fcy[k01] + w10*fcy[k10] + w11*fcy[k11]
	}
	m0, m1 := r.X[pin/ny], r.Y[pin%ny]
	if len(r.Minima) > 0 {
		best := math.Inf(1)
		for _, m := range r.Minima {
			if l := p.Loss(m); l < best {
				best, m0, m1 = l, m[0], m[1]
			}
		}
	}
	psi := make([]float64, n)
	hmin := math.Min(hx, hy)
	for i := range nx {
		for j := range ny {
			d0, d1 := r.X[i]-m0, r.Y[j]-m1
			steps := 2 * int(math.Ceil(math.Hypot(d0, d1)/hmin))
			if steps == 0 {
				continue
			}
			var sum float64
			for q := 0; q <= steps; q++ {
				t := float64(q) / float64(steps)
				fx, fy := interp(m0+t*d0, m1+t*d1)
				wq := 2.0
				switch {
				case q == 0 || q == steps:
					wq = 1
				case q%2 == 1:
					wq = 4
				}
				sum += wq * (fx*d0 + fy*d1)
			}
			psi[idx(i, j)] = sum / (3 * float64(steps))
		}
	}
	var res2, f2 float64
	for i := 0; i+1 < nx; i++ {
		for j := range ny {
			f := xf[i*ny+j].f
			d := (psi[idx(i+1, j)]-psi[idx(i, j)])/hx - f
			res2 += d * d
			f2 += f * f
		}
	}
	for i := range nx {
		for j := 0; j+1 < ny; j++ {
			f := yf[i*(ny-1)+j].f
			d := (psi[idx(i, j+1)]-psi[idx(i, j)])/hy - f
			res2 += d * d
			f2 += f * f
		}
	}
	r.NoteNonGradient = math.Sqrt(res2 / f2)
	psiMax := math.Inf(-1)
	for _, v := range psi {
		psiMax = math.Max(psiMax, v)
	}
	r.Note = make([]float64, n)
	var zs float64
	for k, v := range psi {
		r.Note[k] = math.Exp(v - psiMax)
		zs += r.Note[k]
	}
	for k := range r.Note {
		r.Note[k] /= zs * hx * hy
	}

	r.Mean, r.Cov = gridMoments(r.Density, r.X, r.Y, hx*hy)
	r.NoteMean, r.NoteCov = gridMoments(r.Note, r.X, r.Y, hx*hy)

	// Boundary mass.
	var edge float64
	for i := range nx {
		for j := range ny {
			if i == 0 || j == 0 || i == nx-1 || j == ny-1 {
				edge += dens[idx(i, j)] * hx * hy
			}
		}
	}
	if edge > 1e-6 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the boundary cells hold probability %.3g: the box truncates the density", edge))
	}

	// Well masses.
	nw := len(r.Minima)
	r.MassExact = make([]float64, nw)
	r.MassNote = make([]float64, nw)
	for i := range nx {
		for j := range ny {
			w := wellOf2D(r.X[i], r.Y[j], r.Minima, r.Saddles)
			r.MassExact[w] += dens[idx(i, j)] * hx * hy
			r.MassNote[w] += r.Note[idx(i, j)] * hx * hy
		}
	}

	// Mean first-passage times: Aᵀ T = 1 off the target, T = 0 beyond the line through the
	// neighbouring minimum (perpendicular to the axis from the first to the last minimum, as
	// Simulate detects passages), evaluated at the start minimum by bilinear interpolation.
	if nw > 1 {
		A = nil
		u0, u1 := r.Minima[nw-1][0]-r.Minima[0][0], r.Minima[nw-1][1]-r.Minima[0][1]
		proj := func(x, y float64) float64 { return (x-r.Minima[0][0])*u0 + (y-r.Minima[0][1])*u1 }
		for k := range nw {
			M := assemble(true)
			rhs := make([]float64, n)
			for i := range nx {
				for j := range ny {
					c, pr := idx(i, j), proj(r.X[i], r.Y[j])
					target := (k+1 < nw && pr >= proj(r.Minima[k+1][0], r.Minima[k+1][1])) ||
						(k > 0 && pr <= proj(r.Minima[k-1][0], r.Minima[k-1][1]))
					if target {
						M.setRowUnit(c)
					} else {
						rhs[c] = 1
					}
				}
			}
			if err := M.factorize(); err != nil {
				return nil, fmt.Errorf("landscape: escape-time solve: %v", err)
			}
			M.solve(rhs)
			r.Escape = append(r.Escape, bilinear(rhs, r.X, r.Y, r.Minima[k][0], r.Minima[k][1]))
		}
	}
	return r, nil
}

// bilinear interpolates cell-centre values v on X × Y at (x, y) (clamped to the centres).
func bilinear(v, xs, ys []float64, x, y float64) float64 {
	nx, ny := len(xs), len(ys)
	hx, hy := xs[1]-xs[0], ys[1]-ys[0]
	u := min(max((x-xs[0])/hx, 0), float64(nx-1))
	w := min(max((y-ys[0])/hy, 0), float64(ny-1))
	i0, j0 := min(int(u), nx-2), min(int(w), ny-2)
	a, b := u-float64(i0), w-float64(j0)
	return (1-a)*(1-b)*v[i0*ny+j0] + (1-a)*b*v[i0*ny+j0+1] + a*(1-b)*v[(i0+1)*ny+j0] + a*b*v[(i0+1)*ny+j0+1]
}

// wellOf2D returns the well of θ = (x, y): the number of saddles k for which θ lies beyond
// the line through saddle k perpendicular to minima[k+1] − minima[k].
func wellOf2D(x, y float64, minima, saddles [][]float64) int {
	w := 0
	for k, s := range saddles {
		d0, d1 := minima[k+1][0]-minima[k][0], minima[k+1][1]-minima[k][1]
		if (x-s[0])*d0+(y-s[1])*d1 > 0 {
			w++
		}
	}
	return w
}

// gridMoments returns the mean and the covariance (row-major) of a density given by its cell
// values on the grid X × Y with cell area da.
func gridMoments(p, xs, ys []float64, da float64) (mean, cov []float64) {
	ny := len(ys)
	mean = make([]float64, 2)
	cov = make([]float64, 4)
	for i, x := range xs {
		for j, y := range ys {
			w := p[i*ny+j] * da
			mean[0] += w * x
			mean[1] += w * y
		}
	}
	for i, x := range xs {
		for j, y := range ys {
			w := p[i*ny+j] * da
			dx, dy := x-mean[0], y-mean[1]
			cov[0] += w * dx * dx
			cov[1] += w * dx * dy
			cov[3] += w * dy * dy
		}
	}
	cov[2] = cov[1]
	return mean, cov
}

// bernoulli returns B(z) = z/(eᶻ − 1) (B(0) = 1).
func bernoulli(z float64) float64 {
	if math.Abs(z) < 1e-10 {
		return 1 - z/2
	}
	return z / math.Expm1(z)
}
