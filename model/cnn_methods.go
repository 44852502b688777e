package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// HessVec writes (1/n) Σ_i H_i v into dst by the R-operator (forward-over-reverse,
// Pearlmutter 1994), exact: per conv (1/n)[R(Δ_Z) Uᵀ + Δ_Z R(U)ᵀ] for the weight and
// (1/n) R(Δ_Z) 1 for the bias, R(U) the unfolded R(input); the dense layers as
// Network.HessVec with R(features) ≠ 0. Max pooling is treated as the fixed selection of
// its argmax, which it is in a neighbourhood of any θ without ties in a window: the
// Hessian is exact almost everywhere (ties have measure zero); docs/MATH.md §1.1.
func (m *ConvNet) HessVec(dst, theta []float64, b Batch, v []float64) {
	nb := m.checkBatch("HessVec", theta, b)
	checkLen("HessVec", "dst", len(dst), m.d)
	checkLen("HessVec", "v", len(v), m.d)
	m.vec1[0], m.out1[0] = v, dst
	m.HessVecs(m.out1[:], theta, b, m.vec1[:])
	m.vec1[0], m.out1[0] = nil, nil
	_ = nb
}

// HessVecs writes (1/n) Σ_i H_i v_k into dst[k] for each direction v[k], bitwise as
// HessVec, with the forward pass shared by the directions.
func (m *ConvNet) HessVecs(dst [][]float64, theta []float64, b Batch, v [][]float64) {
	nb := m.checkBatch("HessVecs", theta, b)
	checkLen("HessVecs", "dst", len(dst), len(v))
	for k := range v {
		checkLen("HessVecs", "dst[k]", len(dst[k]), m.d)
		checkLen("HessVecs", "v[k]", len(v[k]), m.d)
	}
	if len(v) == 0 {
		return
	}
	m.la = cnnArgs{op: cnnOpHessVec, nb: nb, theta: theta, b: b, vecs: v, alpha: 1 / float64(nb)}
	m.lanes(&m.la, dst)
	m.la = cnnArgs{}
}

// ensureR sizes the R-operator buffers (after ensure).
func (m *ConvNet) ensureR() {
	s := m.cs
	if s.rrows >= s.rows {
		return
	}
	S := len(m.stages)
	s.rout = make([][]float64, S)
	s.rdout = make([][]float64, S)
	s.rcol = make([][]float64, S)
	for i := range m.stages {
		s.rout[i] = make([]float64, len(s.out[i]))
		s.rdout[i] = make([]float64, len(s.out[i]))
		s.rcol[i] = make([]float64, len(s.col[i]))
	}
	s.rdcol = make([]float64, len(s.dcol))
	s.rfeat = make([]float64, len(s.feat))
	s.rdfea = make([]float64, len(s.dfea))
	s.rrows = s.rows
}

// hessVecChunk adds α Σ_i H_i v over the chunk to dst (writes it, when overwrite), after
// forward and the head (with headGrad|headHess) have run on it.
func (m *ConvNet) hessVecChunk(dst []float64, alpha float64, theta, v, x []float64, ldx int, feat []float64, ldf, nr int, overwrite bool) {
	s := m.cs
	t := m.tail
	thT, vT := theta[m.toff:], v[m.toff:]
	// R-forward through the stages.
	for si := range m.stages {
		st := &m.stages[si]
		npos := st.hout * st.wout
		ld := nr * npos
		rout := s.rout[si][:st.cout*ld]
		switch st.kind {
		case stageConv:
			for o := 0; o < st.cout; o++ {
				c := v[st.boff+o]
				r := rout[o*ld : (o+1)*ld]
				for j := range r {
					r[j] = c
				}
			}
			s.convMul(false, st.cout, st.ckk(), v[st.woff:st.boff], st.ckk(), s.col[si], 1, rout, npos, nr)
			if si > 0 {
				hw := st.hin * st.win
				im2col(s.rcol[si], st, s.rout[si-1], nr*hw, hw, nr)
				s.convMul(false, st.cout, st.ckk(), theta[st.woff:st.boff], st.ckk(), s.rcol[si], 1, rout, npos, nr)
			}
			t.mulDeriv(rout, s.out[si])
		default:
			if si == 0 {
				clear(rout) // the data do not depend on θ
				continue
			}
			rpool(rout, st, s.rout[si-1], s.arg[si], nr)
		}
	}
	var rfeat []float64
	if len(m.stages) > 0 {
		last := &m.stages[len(m.stages)-1]
		hw := last.hout * last.wout
		F := last.cout * hw
		ro := s.rout[len(m.stages)-1]
		for i := 0; i < nr; i++ {
			for c := 0; c < last.cout; c++ {
				copy(s.rfeat[i*F+c*hw:i*F+(c+1)*hw], ro[(c*nr+i)*hw:(c*nr+i+1)*hw])
			}
		}
		rfeat = s.rfeat
	}
	// R-forward through the tail: Network.rforward plus R(features) W₁ᵀ in the first layer.
	L := len(t.layers)
	for l, ly := range t.layers {
		in, ldin := t.inputFrom(t.s.act, l, feat, ldf)
		rz := t.s.rout
		if l < L-1 {
			rz = t.s.ract[l]
		}
		rz = rz[:nr*ly.Out]
		vw, vb := t.weights(vT, l)
		fillRows(rz, nr, vb)
		s.g.Gemm(false, true, nr, ly.Out, ly.In, 1, in, ldin, vw, ly.In, 1, rz, ly.Out)
		w, _ := t.weights(thT, l)
		if l > 0 {
			s.g.Gemm(false, true, nr, ly.Out, ly.In, 1, t.s.ract[l-1], ly.In, w, ly.In, 1, rz, ly.Out)
		} else if rfeat != nil {
			s.g.Gemm(false, true, nr, ly.Out, ly.In, 1, rfeat, ly.In, w, ly.In, 1, rz, ly.Out)
		}
		if l < L-1 {
			t.mulDeriv(rz, t.s.act[l])
		}
	}
	t.rhead(nr)
	t.rbackward(thT, nr, vT, 0, false)
	t.accumulate(dst[m.toff:], alpha, t.s.rdel, t.s.act, feat, ldf, nr, nil, overwrite)
	for l := 1; l < L; l++ {
		ly := t.layers[l]
		dw, _ := t.weights(dst[m.toff:], l)
		s.g.Gemm(true, false, ly.Out, ly.In, nr, alpha, t.s.del[l], ly.Out, t.s.ract[l-1], ly.In, 1, dw, ly.In)
	}
	if len(m.stages) == 0 {
		return
	}
	ly := t.layers[0]
	F := ly.In
	dw, _ := t.weights(dst[m.toff:], 0)
	s.g.Gemm(true, false, ly.Out, F, nr, alpha, t.s.del[0], ly.Out, rfeat, F, 1, dw, F)
	// Back into the features: ∂F = Δ₁ W₁, R(∂F) = R(Δ₁) W₁ + Δ₁ V₁.
	w0, _ := t.weights(thT, 0)
	v0, _ := t.weights(vT, 0)
	s.g.Gemm(false, false, nr, F, ly.Out, 1, t.s.del[0], ly.Out, w0, F, 0, s.dfea, F)
	s.g.Gemm(false, false, nr, F, ly.Out, 1, t.s.rdel[0], ly.Out, w0, F, 0, s.rdfea, F)
	s.g.Gemm(false, false, nr, F, ly.Out, 1, t.s.del[0], ly.Out, v0, F, 1, s.rdfea, F)
	last := &m.stages[len(m.stages)-1]
	hw := last.hout * last.wout
	dl, rdl := s.dout[len(m.stages)-1], s.rdout[len(m.stages)-1]
	for i := 0; i < nr; i++ {
		for c := 0; c < last.cout; c++ {
			copy(dl[(c*nr+i)*hw:(c*nr+i+1)*hw], s.dfea[i*F+c*hw:i*F+(c+1)*hw])
			copy(rdl[(c*nr+i)*hw:(c*nr+i+1)*hw], s.rdfea[i*F+c*hw:i*F+(c+1)*hw])
		}
	}
	beta := 1.0
	if overwrite {
		beta = 0
	}
	for si := len(m.stages) - 1; si >= 0; si-- {
		st := &m.stages[si]
		ld := nr * st.hout * st.wout
		g := s.dout[si][:st.cout*ld]
		rg := s.rdout[si][:st.cout*ld]
		if st.kind != stageConv {
			if si > 0 {
				unpool(s.dout[si-1], st, g, s.arg[si], nr)
				unpool(s.rdout[si-1], st, rg, s.arg[si], nr)
			}
			continue
		}
		// Δ_Z = ∂A ∘ φ', R(Δ_Z) = R(∂A) ∘ φ' + ∂A ∘ φ'' R(Z) (φ'' R(Z) = −2 a R(a) for tanh).
		a := s.out[si][:len(g)]
		ra := s.rout[si][:len(g)]
		switch m.act {
		case Tanh:
			for i, av := range a {
				dd := 1 - av*av
				rg[i] = rg[i]*dd - 2*g[i]*av*ra[i]
				g[i] *= dd
			}
		case ReLU:
			for i, av := range a {
				if !(av > 0) {
					rg[i] = 0
					g[i] = 0
				}
			}
		}
		gw := dst[st.woff:st.boff]
		s.g.Gemm(false, true, st.cout, st.ckk(), ld, alpha, rg, ld, s.col[si], ld, beta, gw, st.ckk())
		if si > 0 {
			s.g.Gemm(false, true, st.cout, st.ckk(), ld, alpha, g, ld, s.rcol[si], ld, 1, gw, st.ckk())
		}
		for o := 0; o < st.cout; o++ {
			var sum float64
			for _, x := range rg[o*ld : (o+1)*ld] {
				sum += x
			}
			if overwrite {
				dst[st.boff+o] = alpha * sum
			} else {
				dst[st.boff+o] += alpha * sum
			}
		}
		if si == 0 {
			continue
		}
		W := theta[st.woff:st.boff]
		dc := s.dcol[:st.ckk()*ld]
		rdc := s.rdcol[:st.ckk()*ld]
		npos := st.hout * st.wout
		s.convMul(true, st.ckk(), st.cout, W, st.ckk(), g, 0, dc, npos, nr)
		s.convMul(true, st.ckk(), st.cout, W, st.ckk(), rg, 0, rdc, npos, nr)
		s.convMul(true, st.ckk(), st.cout, v[st.woff:st.boff], st.ckk(), g, 1, rdc, npos, nr)
		col2im(s.dout[si-1], st, dc, nr)
		col2im(s.rdout[si-1], st, rdc, nr)
	}
}

// rpool is the pooling's directional derivative: R(in) at the argmax (max, the selection
// fixed) or the window mean of R(in) (average); in and out are CNHW.
func rpool(out []float64, st *cnnStage, in []float64, arg []int32, nr int) {
	hw := st.hin * st.win
	npos := st.hout * st.wout
	if st.kind == stageMax {
		for q := 0; q < st.cin*nr; q++ {
			plane := in[q*hw : (q+1)*hw]
			for j := range out[q*npos : (q+1)*npos] {
				out[q*npos+j] = plane[arg[q*npos+j]]
			}
		}
		return
	}
	pool(out, nil, st, in, nr*hw, hw, nr)
}

// PerExampleHessVec writes H_i V_i (V_i row i of V, n×d) into row i of dst (n×d; an empty
// dst is sized): HessVec on the one-example batch of row i with direction V_i, example by
// example (exact; not batched across examples yet).
func (m *ConvNet) PerExampleHessVec(dst *mat.Dense, theta []float64, b Batch, V *mat.Dense) {
	nb := m.checkBatch("PerExampleHessVec", theta, b)
	if vr, vc := V.Dims(); vr != nb || vc != m.d {
		panic(fmt.Sprintf("model: PerExampleHessVec: V is %d×%d, want %d×%d", vr, vc, nb, m.d))
	}
	D := prepDense("PerExampleHessVec", "dst", dst, nb, m.d)
	X := b.X.RawMatrix()
	VR := V.RawMatrix()
	p := m.NumInputs()
	m.ensure(1)
	s := m.cs
	if s.row == nil {
		s.row = &mat.Dense{}
	}
	for i := 0; i < nb; i++ {
		s.row.SetRawMatrix(blas64.General{Rows: 1, Cols: p, Stride: p, Data: X.Data[i*X.Stride : i*X.Stride+p]})
		m.vec1[0] = VR.Data[i*VR.Stride : i*VR.Stride+m.d]
		m.out1[0] = D.Data[i*D.Stride : i*D.Stride+m.d]
		m.HessVecs(m.out1[:], theta, Batch{X: s.row, Y: b.Y[i : i+1]}, m.vec1[:])
	}
	m.vec1[0], m.out1[0] = nil, nil
	s.row.SetRawMatrix(blas64.General{})
}

var _ Model = (*ConvNet)(nil)
