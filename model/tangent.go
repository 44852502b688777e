package model

import "github.com/sgdprior/sgdprior/internal/kernel"

// CovTangenter is a model with an exact directional derivative of its covariance product
// (*Network): see Network.CovTangents.
type CovTangenter interface {
	Model
	CovTangents(dst, s [][]float64, theta []float64, b Batch, u, x [][]float64, mu []float64)
}

var _ CovTangenter = (*Network)(nil)

// CovTangents writes, for each direction u[k] and vector x[j] (J = len(x), index
// q = k·J + j), the sums over the n examples of b
//
//	dst[q] = Σ_i [(g_i·x_j − μ_j) H_i u_k + (u_kᵀ H_i x_j) g_i]   (length d)
//
// and the per-example bilinear forms s[q][i] = u_kᵀ H_i x_j (length n), with g_i and H_i
// the gradient and Hessian of example i's loss ℓ_i at θ. With μ_j = ḡ·x_j (ḡ the mean
// gradient over b), dst[q] − (Σ_i s[q][i]) ḡ is ∂_{u_k} of Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ x_j, the
// exact tangent of the covariance product (docs/MATH.md §5, the product rule of the
// asymmetry check): the term Σ_i c_i H_i u_k with c_i = g_i·x_j − μ_j, and Σ_i s_i g_i.
//
// One forward and backward pass per chunk is shared by every direction and vector; per
// direction one R-forward and R-backward pass (Pearlmutter's R-operator, as HessVec), per
// (direction, vector) one weighted sum of the chunk's gradients and Hessian products:
//
//	(Σ_i c_i H_i u + s_i g_i)_{W_l} = Σ_i (c_i R(Δ_{l,i}) + s_i Δ_{l,i}) ⊗ a_{l−1,i} + c_i Δ_{l,i} ⊗ R(a_{l−1,i}),
//	s_i = Σ_l R(Δ_{l,i})·(X_l a_{l−1,i} + x_{b,l}) + Δ_{l,i}·(X_l R(a_{l−1,i})),
//
// (X_l, x_{b,l}) the weight and bias blocks of x_j, R(a_0) = 0, and the biases' blocks
// the same without the outer products.
func (n *Network) CovTangents(dst, s [][]float64, theta []float64, b Batch, u, x [][]float64, mu []float64) {
	nb := n.checkBatch("CovTangents", theta, b)
	checkLen("CovTangents", "mu", len(mu), len(x))
	checkLen("CovTangents", "dst", len(dst), len(u)*len(x))
	checkLen("CovTangents", "s", len(s), len(u)*len(x))
	for k := range u {
		checkLen("CovTangents", "u[k]", len(u[k]), n.d)
	}
	for j := range x {
		checkLen("CovTangents", "x[j]", len(x[j]), n.d)
	}
	for q := range dst {
		checkLen("CovTangents", "dst[q]", len(dst[q]), n.d)
		checkLen("CovTangents", "s[q]", len(s[q]), nb)
	}
	if len(dst) == 0 {
		return
	}
	n.la = laneArgs{op: opCovTangent, nb: nb, theta: theta, b: b, vecs: u, xs: x, mus: mu, outs: s}
	n.lanes(&n.la, dst)
	n.la = laneArgs{}
}

// tangentScratch holds CovTangents' buffers for one chunk (one per lane's Network).
type tangentScratch struct {
	rows, nx int
	t        [][]float64 // t[j·L+l] = A_{l−1} X_{j,l}ᵀ + 1 x_{b,j,l}ᵀ (rows×Out_l)
	c        [][]float64 // c[j]: g_i·x_j − μ_j (rows)
	e        [][]float64 // e[l] = c ∘ R(Δ_l) + s ∘ Δ_l, row by row (rows×Out_l)
	cd       []float64   // c ∘ Δ_l, row by row (rows×max Out_l)
	q        []float64   // R(A_{l−1}) X_{j,l}ᵀ (rows×max Out_l)
}

// tangentScratch returns the Network's CovTangents buffers for nx vectors and rows rows.
func (n *Network) tangentScratch(nx, rows int) *tangentScratch {
	s := n.s
	if t := s.tan; t != nil && t.rows >= rows && t.nx >= nx {
		return t
	}
	L := len(n.layers)
	maxOut := 0
	t := &tangentScratch{rows: rows, nx: nx, t: make([][]float64, nx*L), c: make([][]float64, nx), e: make([][]float64, L)}
	for l, ly := range n.layers {
		maxOut = max(maxOut, ly.Out)
		t.e[l] = make([]float64, rows*ly.Out)
		for j := 0; j < nx; j++ {
			t.t[j*L+l] = make([]float64, rows*ly.Out)
		}
	}
	for j := range t.c {
		t.c[j] = make([]float64, rows)
	}
	t.cd = make([]float64, rows*maxOut)
	t.q = make([]float64, rows*maxOut)
	s.tan = t
	return t
}

// covTangentChunk is CovTangents' work on the chunk of nr rows at i0 (features at x,
// leading dimension ldx): the per-example s into a.outs, the sums into acc (overwritten
// when first).
func (n *Network) covTangentChunk(acc [][]float64, a *laneArgs, x []float64, ldx, i0, nr int, first bool) {
	s := n.s
	ts := n.tangentScratch(len(a.xs), s.rows)
	L, J := len(n.layers), len(a.xs)
	n.forward(a.theta, x, ldx, nr)
	n.evalHead(a.b.Y[i0:i0+nr], nr, i0, headGrad|headHess)
	n.backward(a.theta, nr)
	// The weights c_i = g_i·x_j − μ_j, and the products A_{l−1} X_{j,l}ᵀ the bilinear forms
	// reuse for every direction.
	for j, xj := range a.xs {
		c := ts.c[j][:nr]
		clear(c)
		for l, ly := range n.layers {
			in, ldin := n.input(l, x, ldx)
			_, xb := n.weights(xj, l)
			t := ts.t[j*L+l][:nr*ly.Out]
			fillRows(t, nr, xb)
			n.mulInput(l, in, ldin, nr, xj, t)
			rowDotsAdd(c, s.del[l], t, ly.Out)
		}
		for i := range c {
			c[i] -= a.mus[j]
		}
	}
	for k, uk := range a.vecs {
		n.rforward(a.theta, x, ldx, nr, uk, 0, false, nil)
		n.rhead(nr)
		n.rbackward(a.theta, nr, uk, 0, false)
		for j, xj := range a.xs {
			q := k*J + j
			sv := a.outs[q][i0 : i0+nr]
			c := ts.c[j][:nr]
			clear(sv)
			for l, ly := range n.layers {
				rowDotsAdd(sv, s.rdel[l], ts.t[j*L+l], ly.Out)
				if l > 0 {
					xw, _ := n.weights(xj, l)
					p := ts.q[:nr*ly.Out]
					s.g.Gemm(false, true, nr, ly.Out, ly.In, 1, s.ract[l-1], ly.In, xw, ly.In, 0, p, ly.Out)
					rowDotsAdd(sv, s.del[l], p, ly.Out)
				}
			}
			for l, ly := range n.layers {
				e, rd, d := ts.e[l], s.rdel[l], s.del[l]
				for i := 0; i < nr; i++ {
					r := i * ly.Out
					kernel.AxpbyTo(e[r:r+ly.Out], c[i], rd[r:r+ly.Out], sv[i], d[r:r+ly.Out])
				}
			}
			n.accumulate(acc[q], 1, ts.e, s.act, x, ldx, nr, nil, first)
			for l := 1; l < L; l++ {
				ly := n.layers[l]
				cd, d := ts.cd[:nr*ly.Out], s.del[l]
				for i := 0; i < nr; i++ {
					r := i * ly.Out
					kernel.ScaleTo(cd[r:r+ly.Out], c[i], d[r:r+ly.Out])
				}
				dw, _ := n.weights(acc[q], l)
				s.g.Gemm(true, false, ly.Out, ly.In, nr, 1, cd, ly.Out, s.ract[l-1], ly.In, 1, dw, ly.In)
			}
		}
	}
}

// rowDotsAdd adds the dot product of row i of a and of b (both len(out) × w) to out[i].
func rowDotsAdd(out, a, b []float64, w int) {
	for i := range out {
		out[i] += kernel.Dot(a[i*w:(i+1)*w], b[i*w:(i+1)*w])
	}
}
