package model

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// The factorised products of a ConvNet (docs/MATH.md §2). The per-example gradient of a
// conv stage is g_i = (Δ_i U_iᵀ, Δ_i 1) for its weight and bias, with Δ_i = ∂ℓ_i/∂Z_i
// (Cout × positions) and U_i the example's unfolded input (Cin·K·K × positions); the dense
// tail's blocks are Network's outer products, never formed. The conv-parameter blocks
// of the g_i (toff = Σ_conv Cout (Cin K² + 1) floats per example: 2572 of LeNet-5's 61706
// parameters) are formed chunk by chunk, one product per example (convRows), because
// every product then reads them instead of U: the dots g_i·u take toff multiply–adds per
// example for the conv part where ⟨u_W U_i + u_b 1ᵀ, Δ_i⟩ would take Cout·Cin·K²·positions
// (a product as large as the forward pass) and pack U once more, and the weighted sum
// Σ_i w_i g_i takes toff per example where (Δ diag_i(w)) Uᵀ would take another such product.

// cnnView is one chunk's factors of the per-example gradients: the conv-parameter blocks
// of its g_i (rows, nr × toff), the tail's Δ_l (del) and hidden A_l (act), and the
// flattened features (feat, leading dimension ldf). They come from the scratch space
// after forward, head and backward (gradChunk) or from a ConvGradCache.
type cnnView struct {
	nr       int
	rows     []float64
	del, act [][]float64
	feat     []float64
	ldf      int
}

// gradChunk runs forward, the head (gradient) and backward on the chunk of nr rows at i0,
// forms the conv-parameter blocks of its g_i (convRows), and returns its factors.
func (m *ConvNet) gradChunk(theta []float64, b Batch, i0, nr int) *cnnView {
	s := m.cs
	X := b.X.RawMatrix()
	feat, ldf := m.forward(theta, X.Data[i0*X.Stride:], X.Stride, nr)
	m.tail.evalHead(b.Y[i0:i0+nr], nr, i0, headGrad)
	m.backward(theta, nr)
	s.crow = kernel.GrowBuf(s.crow, cnnChunk*m.toff)
	m.convRows(s.crow, m.toff, nr)
	s.view = cnnView{nr: nr, rows: s.crow, del: m.tail.s.del, act: m.tail.s.act, feat: feat, ldf: ldf}
	return &s.view
}

// dotsChunk writes (g_i·u_k)_i for the chunk of v into outs[k][i0 : i0+nr]: the tail's
// dots by Network.gradDotChunk (which overwrites), then the conv part, the dot of row i of
// v.rows with u_k's first toff elements.
func (m *ConvNet) dotsChunk(outs [][]float64, i0 int, v *cnnView, u [][]float64) {
	T := m.toff
	for k, uk := range u {
		out := outs[k][i0 : i0+v.nr]
		m.tail.gradDotChunk(out, v.del, v.act, v.feat, v.ldf, uk[T:])
		if T == 0 {
			continue
		}
		for i := range out {
			out[i] += kernel.Dot(v.rows[i*T:(i+1)*T], uk[:T])
		}
	}
}

// sumChunk adds Σ_i w_i g_i over the chunk of v to dst (writes it, when overwrite), w the
// chunk's weights: v.rowsᵀ w for the conv parameters, then the tail's Network.accumulate.
func (m *ConvNet) sumChunk(dst []float64, v *cnnView, w []float64, overwrite bool) {
	T := m.toff
	if T > 0 {
		beta := 1.0
		if overwrite {
			beta = 0
		}
		m.cs.g.Gemm(true, false, 1, T, v.nr, 1, w, 1, v.rows, T, beta, dst[:T], T)
	}
	m.tail.accumulate(dst[T:], 1, v.del, v.act, v.feat, v.ldf, v.nr, w, overwrite)
}

// dotSumChunk is GradDotSum's work on the chunk of v at row i0: the dots g_i·u into
// a.w[i0:], their weights β (α (g_i·u − μ)), then Σ_i w_i g_i into acc (overwritten when
// first); with a.u = nil only the sum, with the given weights a.w.
func (m *ConvNet) dotSumChunk(acc []float64, a *cnnArgs, v *cnnView, i0 int, first bool) {
	wc := a.w[i0 : i0+v.nr]
	if a.u != nil {
		m.dot1[0], m.dir1[0] = a.w, a.u
		m.dotsChunk(m.dot1[:], i0, v, m.dir1[:])
		m.dot1[0], m.dir1[0] = nil, nil
		covWeights(wc, a.mu, a.alpha, a.beta)
	}
	m.sumChunk(acc, v, wc, first)
}

// convRows writes the conv-parameter blocks of g_i, Δ_i U_iᵀ and Δ_i 1 per conv stage (one
// product per example), into row i of the matrix at dst (leading dimension ldd) for the nr
// examples of the chunk just run through backward (Δ_Z in the scratch's dout, U in col).
func (m *ConvNet) convRows(dst []float64, ldd, nr int) {
	s := m.cs
	for si := range m.stages {
		st := &m.stages[si]
		if st.kind != stageConv {
			continue
		}
		npos := st.hout * st.wout
		ld := nr * npos
		dz, col := s.dout[si], s.col[si]
		for i := 0; i < nr; i++ {
			row := dst[i*ldd:]
			s.g.Gemm(false, true, st.cout, st.ckk(), npos, 1, dz[i*npos:], ld, col[i*npos:], ld, 0, row[st.woff:st.boff], st.ckk())
			for o := 0; o < st.cout; o++ {
				var sum float64
				for _, x := range dz[o*ld+i*npos : o*ld+(i+1)*npos] {
					sum += x
				}
				row[st.boff+o] = sum
			}
		}
	}
}

// GradDot writes (g_i·u)_i into dst (length n) without materialising the g_i: the conv
// part from the conv-parameter blocks (convRows), the dense tail as Network.GradDot.
func (m *ConvNet) GradDot(dst, theta []float64, b Batch, u []float64) {
	nb := m.checkBatch("GradDot", theta, b)
	checkLen("GradDot", "dst", len(dst), nb)
	checkLen("GradDot", "u", len(u), m.d)
	m.out1[0], m.vec1[0] = dst, u
	m.call(cnnArgs{op: cnnOpGradDots, nb: nb, theta: theta, b: b, vecs: m.vec1[:], outs: m.out1[:]}, nil)
	m.out1[0], m.vec1[0] = nil, nil
}

// GradDots writes (g_i·u_k)_i into dst[k] for each direction u[k], bitwise as GradDot per
// direction, with one forward and backward pass per chunk shared by the directions.
func (m *ConvNet) GradDots(dst [][]float64, theta []float64, b Batch, u [][]float64) {
	nb := m.checkBatch("GradDots", theta, b)
	checkLen("GradDots", "dst", len(dst), len(u))
	for k := range u {
		checkLen("GradDots", "dst[k]", len(dst[k]), nb)
		checkLen("GradDots", "u[k]", len(u[k]), m.d)
	}
	if len(u) == 0 {
		return
	}
	m.call(cnnArgs{op: cnnOpGradDots, nb: nb, theta: theta, b: b, vecs: u, outs: dst}, nil)
}

// GradSum writes Σ_i w_i g_i into dst (length d) without materialising the g_i: the conv
// part as Σ_i w_i times the conv-parameter blocks (convRows), the tail as Network.GradSum.
func (m *ConvNet) GradSum(dst, theta []float64, b Batch, w []float64) {
	nb := m.checkBatch("GradSum", theta, b)
	checkLen("GradSum", "dst", len(dst), m.d)
	checkLen("GradSum", "w", len(w), nb)
	m.call(cnnArgs{op: cnnOpGradDotSum, nb: nb, theta: theta, b: b, w: w}, dst)
}

// GradDotSum writes w_i = β (α (g_i·u − μ)) into w and Σ_i w_i g_i into dst, as
// GradDot, the weights and GradSum (bitwise), in one forward and backward pass per chunk.
// With α = 1/n, β = 1, μ = ḡ·u it is the covariance product C u (MATH.md §2).
func (m *ConvNet) GradDotSum(dst, w, theta []float64, b Batch, u []float64, mu, alpha, beta float64) {
	nb := m.checkBatch("GradDotSum", theta, b)
	checkLen("GradDotSum", "dst", len(dst), m.d)
	checkLen("GradDotSum", "w", len(w), nb)
	checkLen("GradDotSum", "u", len(u), m.d)
	m.call(cnnArgs{op: cnnOpGradDotSum, nb: nb, theta: theta, b: b, u: u, w: w, mu: mu, alpha: alpha, beta: beta}, dst)
}

// cnnStore is every example's factors of g_i: the conv-parameter blocks (all, n × toff),
// and as Network.gram reads them the features (n×F, nil without stages: the data) and the
// tail's hidden A_l and Δ_l (n×Out_l).
type cnnStore struct {
	feat     []float64
	act, del [][]float64
	all      []float64
}

// size makes st hold nb examples of m (reusing its storage when large enough).
func (st *cnnStore) size(m *ConvNet, nb int) {
	t := m.tail
	if len(m.stages) > 0 {
		st.feat = kernel.GrowBuf(st.feat, nb*t.layers[0].In)
	}
	L := len(t.layers)
	if st.del == nil {
		st.del = make([][]float64, L)
		st.act = make([][]float64, L-1)
	}
	for l, ly := range t.layers {
		if l < L-1 {
			st.act[l] = kernel.GrowBuf(st.act[l], nb*ly.Out)
		}
		st.del[l] = kernel.GrowBuf(st.del[l], nb*ly.Out)
	}
	st.all = kernel.GrowBuf(st.all, nb*m.toff)
}

// put copies the factors of the chunk of v at row i0 into st.
func (st *cnnStore) put(m *ConvNet, v *cnnView, i0 int) {
	nr := v.nr
	t := m.tail
	copy(st.all[i0*m.toff:], v.rows[:nr*m.toff])
	if st.feat != nil {
		F := t.layers[0].In
		copy(st.feat[i0*F:], v.feat[:nr*F])
	}
	for l, ly := range t.layers {
		if l < len(t.layers)-1 {
			copy(st.act[l][i0*ly.Out:], v.act[l][:nr*ly.Out])
		}
		copy(st.del[l][i0*ly.Out:], v.del[l][:nr*ly.Out])
	}
}

// Gram writes G_ij = g_i·g_j into dst (an empty dst is sized) without the n×d per-example
// gradients: G = P Pᵀ + G_tail, with P (n × toff) the examples' conv-parameter blocks
// (convRows) and G_tail the dense tail's factorised Gram matrix (Network.Gram's formula on
// the features). The lower triangle is computed and mirrored: G is exactly symmetric.
// The factors take n·(toff + F + Σ_l Out_l (2 for hidden layers, 1 for the last)) floats
// (CacheFloats(n) − d; 13.9 M, 111 MB, for LeNet-5 at n = 4096), kept in the scratch space
// for the next call.
func (m *ConvNet) Gram(dst *mat.Dense, theta []float64, b Batch) {
	nb := m.checkBatch("Gram", theta, b)
	D := prepDense("Gram", "dst", dst, nb, nb)
	s := m.ensure(min(nb, cnnChunk))
	s.gram.size(m, nb)
	m.call(cnnArgs{op: cnnOpGram, nb: nb, theta: theta, b: b, store: &s.gram}, nil)
	X := b.X.RawMatrix()
	m.gramFrom(D, &s.gram, X.Data, X.Stride)
}

// gramFrom computes the Gram matrix into D from every example's factors in st (the data x,
// leading dimension ldx, as the features when there are no stages).
func (m *ConvNet) gramFrom(D blas64.General, st *cnnStore, x []float64, ldx int) {
	feat, ldf := x, ldx
	if len(m.stages) > 0 {
		feat, ldf = st.feat, m.tail.layers[0].In
	}
	m.tail.gram(D, feat, ldf, st.del, st.act)
	if m.toff == 0 {
		return
	}
	m.cs.g.SyrkLower(D.Rows, m.toff, 1, st.all, m.toff, 1, D.Data, D.Stride)
	mirrorLower(D)
}

// perExampleRows writes the per-example gradients of the chunk of v at row i0 into D.
func (m *ConvNet) perExampleRows(D blas64.General, i0 int, v *cnnView) {
	t := m.tail
	for i := 0; i < v.nr; i++ {
		copy(D.Data[(i0+i)*D.Stride:(i0+i)*D.Stride+m.toff], v.rows[i*m.toff:(i+1)*m.toff])
	}
	for l, ly := range t.layers {
		in, ldin := t.inputFrom(v.act, l, v.feat, v.ldf)
		for i := 0; i < v.nr; i++ {
			row := D.Data[(i0+i)*D.Stride+m.toff:]
			e := v.del[l][i*ly.Out : (i+1)*ly.Out]
			outer(row[ly.WeightOffset:ly.BiasOffset], e, in[i*ldin:i*ldin+ly.In])
			copy(row[ly.BiasOffset:ly.BiasOffset+ly.Out], e)
		}
	}
}

// PerExampleGrads writes g_i into row i of dst (n×d; an empty dst is sized): per conv
// Δ_{Z,i} U_iᵀ (U_i example i's columns of the unfolded input) and the row sums of Δ_{Z,i};
// the dense layers as Network.PerExampleGrads.
func (m *ConvNet) PerExampleGrads(dst *mat.Dense, theta []float64, b Batch) {
	nb := m.checkBatch("PerExampleGrads", theta, b)
	D := prepDense("PerExampleGrads", "dst", dst, nb, m.d)
	m.ensure(min(nb, cnnChunk))
	for i0 := 0; i0 < nb; i0 += cnnChunk {
		nr := min(cnnChunk, nb-i0)
		m.perExampleRows(D, i0, m.gradChunk(theta, b, i0, nr))
	}
}
