package model

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// PerExampleLoss writes ℓ_i into dst (length n).
func (n *Network) PerExampleLoss(dst, theta []float64, b Batch) {
	nb := n.checkBatch("PerExampleLoss", theta, b)
	checkLen("PerExampleLoss", "dst", len(dst), nb)
	n.call(laneArgs{op: opPerExampleLoss, nb: nb, theta: theta, b: b, out: dst}, nil)
}

// Outputs writes the outputs z of the last layer for the rows of X into dst (n×NumOutputs;
// an empty dst is sized): the logits of a categorical head, the logit of P(class 1) of a
// Bernoulli head, the predicted mean of a Gaussian head.
func (n *Network) Outputs(dst *mat.Dense, theta []float64, X *mat.Dense) {
	checkLen("Outputs", "theta", len(theta), n.d)
	nb, p := X.Dims()
	if p != n.NumInputs() {
		panic(fmt.Sprintf("model: Outputs: X has %d features, %s takes %d", p, n.name, n.NumInputs()))
	}
	K := n.NumOutputs()
	D := prepDense("Outputs", "dst", dst, nb, K)
	s := n.ensure(min(nb, chunkRows))
	R := X.RawMatrix()
	for i0 := 0; i0 < nb; i0 += chunkRows {
		nr := min(chunkRows, nb-i0)
		n.forward(theta, R.Data[i0*R.Stride:], R.Stride, nr)
		for i := 0; i < nr; i++ {
			copy(D.Data[(i0+i)*D.Stride:(i0+i)*D.Stride+K], s.out[i*K:(i+1)*K])
		}
	}
}

// gradChunk runs forward, head and backward on one chunk, leaving Δ_l in s.del.
func (n *Network) gradChunk(theta []float64, X blas64.General, y []float64, i0, nr int) []float64 {
	x := X.Data[i0*X.Stride:]
	n.forward(theta, x, X.Stride, nr)
	n.evalHead(y[i0:i0+nr], nr, i0, headGrad)
	n.backward(theta, nr)
	return x
}

// PerExampleGrads writes g_i into row i of dst (n×d; an empty dst is sized): per layer
// outer(Δ_{l,i}, A_{l−1,i}) for W_l (row-major) and Δ_{l,i} for b_l.
func (n *Network) PerExampleGrads(dst *mat.Dense, theta []float64, b Batch) {
	nb := n.checkBatch("PerExampleGrads", theta, b)
	D := prepDense("PerExampleGrads", "dst", dst, nb, n.d)
	s := n.ensure(min(nb, chunkRows))
	X := b.X.RawMatrix()
	for i0 := 0; i0 < nb; i0 += chunkRows {
		nr := min(chunkRows, nb-i0)
		x := n.gradChunk(theta, X, b.Y, i0, nr)
		for l, ly := range n.layers {
			in, ldin := n.input(l, x, X.Stride)
			del := s.del[l]
			for i := 0; i < nr; i++ {
				row := D.Data[(i0+i)*D.Stride:]
				e := del[i*ly.Out : (i+1)*ly.Out]
				outer(row[ly.WeightOffset:ly.BiasOffset], e, in[i*ldin:i*ldin+ly.In])
				copy(row[ly.BiasOffset:ly.BiasOffset+ly.Out], e)
			}
		}
	}
}

// outer writes the row-major outer product e aᵀ (len(e)×len(a)) into dst.
func outer(dst, e, a []float64) {
	w := len(a)
	for r, ev := range e {
		kernel.ScaleTo(dst[r*w:(r+1)*w], ev, a)
	}
}

// outer2 writes e aᵀ + f bᵀ into dst (a and b of equal length).
func outer2(dst, e, a, f, b []float64) {
	w := len(a)
	for r, ev := range e {
		kernel.AxpbyTo(dst[r*w:(r+1)*w], ev, a, f[r], b)
	}
}

// GradDot writes (g_i·u)_i into dst (length n) without materialising the g_i:
// g_i·u = Σ_l Σ_r Δ_{l,i,r} (A_{l−1} U_lᵀ + 1 u_{b,l}ᵀ)_{i,r}, with U_l, u_{b,l} the layer-l
// blocks of u.
func (n *Network) GradDot(dst, theta []float64, b Batch, u []float64) {
	nb := n.checkBatch("GradDot", theta, b)
	checkLen("GradDot", "dst", len(dst), nb)
	checkLen("GradDot", "u", len(u), n.d)
	n.call(laneArgs{op: opGradDot, nb: nb, theta: theta, b: b, vecs: one(&n.vec1, u), outs: one(&n.out1, dst)}, nil)
}

// gradDotChunk writes (g_i·u)_i for the len(out) examples of a chunk into out, from their
// Δ_l (del), hidden activations (acts) and features (x, leading dimension ldx).
func (n *Network) gradDotChunk(out []float64, del, acts [][]float64, x []float64, ldx int, u []float64) {
	s := n.s
	nr := len(out)
	clear(out)
	for l, ly := range n.layers {
		in, ldin := n.inputFrom(acts, l, x, ldx)
		_, ub := n.weights(u, l)
		t := s.tmp[:nr*ly.Out]
		fillRows(t, nr, ub)
		n.mulInput(l, in, ldin, nr, u, t)
		d := del[l]
		for i := range out {
			out[i] += kernel.Dot(d[i*ly.Out:(i+1)*ly.Out], t[i*ly.Out:(i+1)*ly.Out])
		}
	}
}

// GradSum writes Σ_i w_i g_i into dst (length d) without materialising the g_i: per layer
// Δ_lᵀ diag(w) A_{l−1} for W_l and Δ_lᵀ w for b_l.
func (n *Network) GradSum(dst, theta []float64, b Batch, w []float64) {
	nb := n.checkBatch("GradSum", theta, b)
	checkLen("GradSum", "dst", len(dst), n.d)
	checkLen("GradSum", "w", len(w), nb)
	n.call(laneArgs{op: opGradSum, nb: nb, theta: theta, b: b, w: w}, dst)
}

// GradDotSum writes the weights w_i = β (α (g_i·u − μ)) into w (length n) and Σ_i w_i g_i into
// dst (length d), in one forward and backward pass: bitwise GradDot(w, θ, b, u), then the
// weights, then GradSum(dst, θ, b, w) (the same chunks, products and order), with one
// forward pass instead of two. Per chunk it makes three products of the first layer's size
// (the forward pass X W₁ᵀ, X U₁ᵀ for the dots, Δ₁ᵀ diag(w) X for the sum) where the two
// calls make four.
//
// With α = 1/n, β = 1 and μ = ḡ·u (ḡ the mean gradient over b), dst is the covariance
// product C u = (1/n) Σ_i (g_i·u) g_i − ḡ (ḡ·u), C = (1/n) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ
// (docs/MATH.md §2, population form); μ is an input because the centring needs the mean
// of the dots over the whole batch, which a chunked single pass does not have before its
// sum (ḡ is fixed at a fixed θ, so callers applying C many times compute it once).
func (n *Network) GradDotSum(dst, w, theta []float64, b Batch, u []float64, mu, alpha, beta float64) {
	nb := n.checkBatch("GradDotSum", theta, b)
	checkLen("GradDotSum", "dst", len(dst), n.d)
	checkLen("GradDotSum", "w", len(w), nb)
	checkLen("GradDotSum", "u", len(u), n.d)
	n.call(laneArgs{op: opGradDotSum, nb: nb, theta: theta, b: b, vecs: one(&n.vec1, u), out: w, mu: mu, alpha: alpha, beta: beta}, dst)
}

// covWeights turns the dots a_i = g_i·u of a chunk into the weights β (α (a_i − μ)) in
// place: for α = 1/n, β = 1, μ = ḡ·u, the weights of C u = Σ_i w_i g_i (MATH.md §2).
func covWeights(a []float64, mu, alpha, beta float64) {
	for i, v := range a {
		a[i] = beta * (alpha * (v - mu))
	}
}

// Gram writes the n×n matrix G_ij = g_i·g_j into dst (an empty dst is sized) without
// materialising the g_i: G = Σ_l (Δ_l Δ_lᵀ) ∘ (A_{l−1} A_{l−1}ᵀ + 1) (∘ the elementwise
// product). Only the lower triangle is computed, in tiles, and mirrored, so G is exactly
// symmetric.
func (n *Network) Gram(dst *mat.Dense, theta []float64, b Batch) {
	nb := n.checkBatch("Gram", theta, b)
	D := prepDense("Gram", "dst", dst, nb, nb)
	s := n.ensure(nb)
	X := b.X.RawMatrix()
	// All rows at once: tiles pair any two examples.
	x := n.gradChunk(theta, X, b.Y, 0, nb)
	n.gram(D, x, X.Stride, s.del, s.act)
}

// gram computes the Gram matrix into D (nb×nb) from every example's Δ_l (del), hidden
// activations (acts) and features (x, leading dimension ldx). The tiles of the lower
// triangle are shared with an idle helper, each taking the next one; a tile's result does
// not depend on who computes it.
func (n *Network) gram(D blas64.General, x []float64, ldx int, del, acts [][]float64) {
	s := n.ensure(min(D.Rows, chunkRows))
	s.t1 = kernel.GrowBuf(s.t1, gramTile*gramTile)
	s.t2 = kernel.GrowBuf(s.t2, gramTile*gramTile)
	tile := gramTileFor(D.Rows)
	nt := (D.Rows + tile - 1) / tile
	j := n.gj
	if j == nil {
		j = &gramJob{}
		n.gj = j
	}
	j.n, j.D, j.x, j.ldx, j.del, j.acts, j.tile, j.ntile = n, D, x, ldx, del, acts, tile, nt*(nt+1)/2
	j.next.Store(0)
	j.wg.Add(1)
	if j.ntile >= 2 && kernel.Pool.TryGive(j) {
		n.gramTiles(j, &s.g, s.t1, s.t2)
	} else {
		j.Done()
		n.gramTiles(j, &s.g, s.t1, s.t2)
	}
	j.wg.Wait()
	j.n, j.D, j.x, j.del, j.acts = nil, blas64.General{}, nil, nil, nil
	mirrorLower(D)
}

// gramJob is a Gram matrix's tiles, shared between the caller and one helper.
type gramJob struct {
	n      *Network
	D      blas64.General
	x      []float64
	ldx    int
	del    [][]float64 // Δ_l of every example
	acts   [][]float64 // hidden activations of every example
	tile   int         // tile size
	ntile  int         // number of tiles
	next   atomic.Int64
	wg     sync.WaitGroup
	g      kernel.GemmCtx // the helper's
	t1, t2 []float64
}

func (j *gramJob) Work(*kernel.GemmWork) {
	j.t1 = kernel.GrowBuf(j.t1, gramTile*gramTile)
	j.t2 = kernel.GrowBuf(j.t2, gramTile*gramTile)
	j.n.gramTiles(j, &j.g, j.t1, j.t2)
}

func (j *gramJob) Done() { j.wg.Done() }

// gramTiles computes tiles of j until none is left, with the GEMM context g and the tile
// buffers t1, t2.
func (n *Network) gramTiles(j *gramJob, g *kernel.GemmCtx, t1, t2 []float64) {
	for {
		k := int(j.next.Add(1)) - 1
		if k >= j.ntile {
			return
		}
		// Tile k of the lower triangle, row by row: (0,0), (1,0), (1,1), (2,0), …
		I := int((math.Sqrt(8*float64(k)+1) - 1) / 2)
		for I*(I+1)/2 > k {
			I--
		}
		for (I+1)*(I+2)/2 <= k {
			I++
		}
		J := k - I*(I+1)/2
		n.gramTileAt(j, I*j.tile, J*j.tile, g, t1, t2)
	}
}

// gramTileAt computes the tile of job at rows I… and columns J… (J ≤ I) of the Gram matrix
// (its lower triangle on the diagonal).
func (n *Network) gramTileAt(job *gramJob, I, J int, g *kernel.GemmCtx, t1, t2 []float64) {
	D, tile := job.D, job.tile
	nb := D.Rows
	bi := min(tile, nb-I)
	bj := min(tile, nb-J)
	diag := I == J
	for i := 0; i < bi; i++ {
		clear(D.Data[(I+i)*D.Stride+J : (I+i)*D.Stride+J+bj])
	}
	for l, ly := range n.layers {
		in, ldin := n.inputFrom(job.acts, l, job.x, job.ldx)
		del := job.del[l]
		if diag {
			g.SyrkLower(bi, ly.In, 1, in[I*ldin:], ldin, 0, t2, bj)
		} else {
			g.Gemm(false, true, bi, bj, ly.In, 1, in[I*ldin:], ldin, in[J*ldin:], ldin, 0, t2, bj)
		}
		if ly.Out == 1 {
			// Δ_l Δ_lᵀ is the outer product of one column: no product needed.
			for i := 0; i < bi; i++ {
				w := bj
				if diag {
					w = i + 1
				}
				drow := D.Data[(I+i)*D.Stride+J : (I+i)*D.Stride+J+w]
				t2r := t2[i*bj : i*bj+w]
				ei, ej := del[I+i], del[J:J+w]
				for j := range drow {
					drow[j] += ei * ej[j] * (t2r[j] + 1)
				}
			}
			continue
		}
		if diag {
			g.SyrkLower(bi, ly.Out, 1, del[I*ly.Out:], ly.Out, 0, t1, bj)
		} else {
			g.Gemm(false, true, bi, bj, ly.Out, 1, del[I*ly.Out:], ly.Out, del[J*ly.Out:], ly.Out, 0, t1, bj)
		}
		for i := 0; i < bi; i++ {
			w := bj
			if diag {
				w = i + 1
			}
			drow := D.Data[(I+i)*D.Stride+J : (I+i)*D.Stride+J+w]
			t1r := t1[i*bj : i*bj+w]
			t2r := t2[i*bj : i*bj+w]
			for j := range drow {
				drow[j] += t1r[j] * (t2r[j] + 1)
			}
		}
	}
}

// mirrorLower copies the strict lower triangle of the square matrix D onto its upper
// triangle, in blocks small enough that source and destination stay in L1.
func mirrorLower(D blas64.General) {
	const blk = 32
	n, ld := D.Rows, D.Stride
	for I := 0; I < n; I += blk {
		ie := min(I+blk, n)
		for J := I; J < n; J += blk {
			je := min(J+blk, n)
			for i := I; i < ie; i++ {
				j0 := max(J, i+1)
				if j0 >= je {
					continue
				}
				dst := D.Data[i*ld+j0 : i*ld+je]
				src := D.Data[j0*ld+i:]
				for j := range dst {
					dst[j] = src[j*ld]
				}
			}
		}
	}
}

// HessVec writes (1/n) Σ_i H_i v into dst by the R-operator (forward-over-reverse):
// per layer (1/n)[R(Δ_l)ᵀ A_{l−1} + Δ_lᵀ R(A_{l−1})] for W_l and (1/n) R(Δ_l)ᵀ 1 for b_l,
// with R(·) the directional derivative along v (see rforward, rhead, rbackward). It is
// exact, including the output-layer Hessian and the activations' second derivatives.
func (n *Network) HessVec(dst, theta []float64, b Batch, v []float64) {
	nb := n.checkBatch("HessVec", theta, b)
	checkLen("HessVec", "dst", len(dst), n.d)
	checkLen("HessVec", "v", len(v), n.d)
	n.call(laneArgs{op: opHessVec, nb: nb, theta: theta, b: b, vecs: one(&n.vec1, v), alpha: 1 / float64(nb)}, dst)
}

// HessVecs writes (1/n) Σ_i H_i v_k into dst[k] for each direction v[k], as HessVec would
// (bitwise), with the forward pass and the head shared by all directions.
func (n *Network) HessVecs(dst [][]float64, theta []float64, b Batch, v [][]float64) {
	nb := n.checkBatch("HessVecs", theta, b)
	checkLen("HessVecs", "dst", len(dst), len(v))
	for k := range v {
		checkLen("HessVecs", "dst[k]", len(dst[k]), n.d)
		checkLen("HessVecs", "v[k]", len(v[k]), n.d)
	}
	if len(v) == 0 {
		return
	}
	n.la = laneArgs{op: opHessVec, nb: nb, theta: theta, b: b, vecs: v, alpha: 1 / float64(nb)}
	n.lanes(&n.la, dst)
	n.la = laneArgs{}
}

// hessVecChunk adds α Σ_i H_i v_k over the nr examples of the chunk at row i0 to dst[k]
// (writes it, when overwrite), for each direction v[k].
func (n *Network) hessVecChunk(dst [][]float64, alpha float64, theta []float64, X blas64.General, y []float64, i0, nr int, v [][]float64, overwrite bool) {
	s := n.s
	x := X.Data[i0*X.Stride:]
	n.forward(theta, x, X.Stride, nr)
	n.evalHead(y[i0:i0+nr], nr, i0, headGrad|headHess)
	for k, vk := range v {
		// rbackward recomputes Δ_{l<L} from Δ_L each time: the directions do not interact.
		n.rforward(theta, x, X.Stride, nr, vk, 0, false, nil)
		n.rhead(nr)
		n.rbackward(theta, nr, vk, 0, false)
		n.accumulate(dst[k], alpha, s.rdel, s.act, x, X.Stride, nr, nil, overwrite)
		for l := 1; l < len(n.layers); l++ {
			ly := n.layers[l]
			dw, _ := n.weights(dst[k], l)
			s.g.Gemm(true, false, ly.Out, ly.In, nr, alpha, s.del[l], ly.Out, s.ract[l-1], ly.In, 1, dw, ly.In)
		}
	}
}

// GradDots writes (g_i·u_k)_i into dst[k] (length n) for each direction u[k], as GradDot
// would (bitwise), with the forward and backward pass shared by all directions.
func (n *Network) GradDots(dst [][]float64, theta []float64, b Batch, u [][]float64) {
	nb := n.checkBatch("GradDots", theta, b)
	checkLen("GradDots", "dst", len(dst), len(u))
	for k := range u {
		checkLen("GradDots", "dst[k]", len(dst[k]), nb)
		checkLen("GradDots", "u[k]", len(u[k]), n.d)
	}
	if len(u) == 0 {
		return
	}
	n.la = laneArgs{op: opGradDot, nb: nb, theta: theta, b: b, vecs: u, outs: dst}
	n.lanes(&n.la, nil)
	n.la = laneArgs{}
}

// PerExampleHessVec writes H_i V_i (V_i row i of V, n×d) into row i of dst (n×d; an empty
// dst is sized): the R-operator of HessVec with a direction per example; the terms that
// involve V_i are matrix–vector products per example, the rest is batched.
func (n *Network) PerExampleHessVec(dst *mat.Dense, theta []float64, b Batch, V *mat.Dense) {
	nb := n.checkBatch("PerExampleHessVec", theta, b)
	if vr, vc := V.Dims(); vr != nb || vc != n.d {
		panic(fmt.Sprintf("model: PerExampleHessVec: V is %d×%d, want %d×%d", vr, vc, nb, n.d))
	}
	D := prepDense("PerExampleHessVec", "dst", dst, nb, n.d)
	n.ensure(min(nb, chunkRows))
	X := b.X.RawMatrix()
	VR := V.RawMatrix()
	for i0 := 0; i0 < nb; i0 += chunkRows {
		nr := min(chunkRows, nb-i0)
		x := X.Data[i0*X.Stride:]
		vc := VR.Data[i0*VR.Stride:]
		n.forward(theta, x, X.Stride, nr)
		n.evalHead(b.Y[i0:i0+nr], nr, i0, headGrad|headHess)
		n.rforward(theta, x, X.Stride, nr, vc, VR.Stride, true, nil)
		n.rhead(nr)
		n.rbackward(theta, nr, vc, VR.Stride, true)
		n.perExampleHVRows(D.Data[i0*D.Stride:], D.Stride, 0, x, X.Stride, nr, nil)
	}
}
