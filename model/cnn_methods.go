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

// rStages is the R-forward pass through the stages: for a conv, R(Z) = V U + c 1ᵀ (the
// direction's own term: v shared by the chunk's examples when ldv = 0, else example i's
// direction at v[i·ldv:]), then R(Z) += W R(U) with R(U) the unfolded R(input) (zero for
// the data), and R(A) = φ'(Z) ∘ R(Z); a pooling applies its fixed selection or average to
// R(input) (docs/MATH.md §1.1).
func (m *ConvNet) rStages(theta []float64, nr int, v []float64, ldv int) {
	s := m.cs
	for si := range m.stages {
		st := &m.stages[si]
		npos := st.hout * st.wout
		ld := nr * npos
		rout := s.rout[si][:st.cout*ld]
		switch st.kind {
		case stageConv:
			// The bias term c 1ᵀ (example i's c at v[i·ldv:]; ldv = 0: one c for all).
			for i := 0; i < nr; i++ {
				vi := v[i*ldv:]
				for o := 0; o < st.cout; o++ {
					c := vi[st.boff+o]
					r := rout[o*ld+i*npos : o*ld+(i+1)*npos]
					for j := range r {
						r[j] = c
					}
				}
			}
			if ldv == 0 {
				s.convMul(false, st.cout, st.ckk(), v[st.woff:st.boff], st.ckk(), s.col[si], 1, rout, npos, nr)
			} else {
				for i := 0; i < nr; i++ {
					vi := v[i*ldv:]
					s.g.Gemm(false, false, st.cout, npos, st.ckk(), 1, vi[st.woff:st.boff], st.ckk(), s.col[si][i*npos:], ld, 1, rout[i*npos:], ld)
				}
			}
			if si > 0 {
				hw := st.hin * st.win
				im2col(s.rcol[si], st, s.rout[si-1], nr*hw, hw, nr)
				s.convMul(false, st.cout, st.ckk(), theta[st.woff:st.boff], st.ckk(), s.rcol[si], 1, rout, npos, nr)
			}
			m.tail.mulDeriv(rout, s.out[si])
		default:
			if si == 0 {
				clear(rout) // the data do not depend on θ
				continue
			}
			rpool(rout, st, s.rout[si-1], s.arg[si], nr)
		}
	}
}

// rForward is the R-forward pass of a chunk along v (shared by the examples when ldv = 0,
// else example i's direction at v[i·ldv:]): the stages (rStages), the flatten of R(output)
// into R(features), which it returns (nil without stages), and the tail: R(z_l) = V_l a_{l−1}
// + c_l (batched, or per example as row dots) + W_l R(a_{l−1}) (R(features) for the first
// layer), R(a_l) = φ'(z_l) ∘ R(z_l) for the hidden layers.
func (m *ConvNet) rForward(theta []float64, nr int, v []float64, ldv int, feat []float64, ldf int) []float64 {
	s := m.cs
	m.rStages(theta, nr, v, ldv)
	var rfeat []float64
	if len(m.stages) > 0 {
		flatten(s.rfeat, s.rout[len(m.stages)-1], &m.stages[len(m.stages)-1], nr)
		rfeat = s.rfeat
	}
	m.tail.rforward(theta[m.toff:], feat, ldf, nr, v[m.toff:], ldv, ldv != 0, rfeat)
	return rfeat
}

// hessVecChunk adds α Σ_i H_i v over the chunk to dst (writes it, when overwrite), after
// forward and the head (with headGrad|headHess) have run on it.
func (m *ConvNet) hessVecChunk(dst []float64, alpha float64, theta, v []float64, feat []float64, ldf, nr int, overwrite bool) {
	s := m.cs
	t := m.tail
	thT, vT := theta[m.toff:], v[m.toff:]
	// R-forward (the direction v shared by the examples).
	rfeat := m.rForward(theta, nr, v, 0, feat, ldf)
	t.rhead(nr)
	t.rbackward(thT, nr, vT, 0, false)
	t.accumulate(dst[m.toff:], alpha, t.s.rdel, t.s.act, feat, ldf, nr, nil, overwrite)
	for l := 1; l < len(t.layers); l++ {
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
	m.rBackFeatures(thT, vT, 0, nr)
	beta := 1.0
	if overwrite {
		beta = 0
	}
	for si := len(m.stages) - 1; si >= 0; si-- {
		st := &m.stages[si]
		ld := nr * st.hout * st.wout
		g, rg, conv := m.rBackStage(si, nr)
		if !conv {
			continue
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
		m.rBackInput(si, theta, v, 0, g, rg, nr)
	}
}

// rBackInput propagates conv stage si's Δ_Z (g) and R(Δ_Z) (rg) of a chunk into its input:
// ∂U = Wᵀ Δ_Z and R(∂U) = Wᵀ R(Δ_Z) + Vᵀ Δ_Z (V from v shared by the examples when
// ldv = 0, else example i's at v[i·ldv:]), each folded back (col2im) into the previous
// stage's output gradients.
func (m *ConvNet) rBackInput(si int, theta, v []float64, ldv int, g, rg []float64, nr int) {
	s := m.cs
	st := &m.stages[si]
	ckk, npos := st.ckk(), st.hout*st.wout
	ld := nr * npos
	W := theta[st.woff:st.boff]
	dc := s.dcol[:ckk*ld]
	rdc := s.rdcol[:ckk*ld]
	s.convMul(true, ckk, st.cout, W, ckk, g, 0, dc, npos, nr)
	s.convMul(true, ckk, st.cout, W, ckk, rg, 0, rdc, npos, nr)
	if ldv == 0 {
		s.convMul(true, ckk, st.cout, v[st.woff:st.boff], ckk, g, 1, rdc, npos, nr)
	} else {
		for i := 0; i < nr; i++ {
			vi := v[i*ldv:]
			s.g.Gemm(true, false, ckk, npos, st.cout, 1, vi[st.woff:st.boff], ckk, g[i*npos:], ld, 1, rdc[i*npos:], ld)
		}
	}
	col2im(s.dout[si-1], st, dc, nr)
	col2im(s.rdout[si-1], st, rdc, nr)
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
// dst is sized): the R-operator of HessVec over each chunk with a direction per example
// (perExampleHessVecChunk); the terms that involve V_i are products per example, the
// rest is batched.
func (m *ConvNet) PerExampleHessVec(dst *mat.Dense, theta []float64, b Batch, V *mat.Dense) {
	nb := m.checkBatch("PerExampleHessVec", theta, b)
	if vr, vc := V.Dims(); vr != nb || vc != m.d {
		panic(fmt.Sprintf("model: PerExampleHessVec: V is %d×%d, want %d×%d", vr, vc, nb, m.d))
	}
	D := prepDense("PerExampleHessVec", "dst", dst, nb, m.d)
	m.call(cnnArgs{op: cnnOpPerExampleHessVec, nb: nb, theta: theta, b: b, pv: V.RawMatrix(), pd: D}, nil)
}

// perExampleHessVecChunk writes H_i V_i into row i0+i of D for the nr examples of the chunk
// (after forward and the head with headGrad|headHess), V_i row i0+i of V:
//
//	R(Z_i) = V_{i,W} U_i + V_{i,b} 1ᵀ + W R(U_i)                        (conv, forward),
//	R(∂U_i) = Wᵀ R(Δ_i) + V_{i,W}ᵀ Δ_i                                  (conv, backward),
//	(H_i V_i)_W = R(Δ_i) U_iᵀ + Δ_i R(U_i)ᵀ, (H_i V_i)_b = R(Δ_i) 1     (conv blocks),
//
// the dense tail as Network.PerExampleHessVec with R(features) ≠ 0 (as hessVecChunk).
func (m *ConvNet) perExampleHessVecChunk(D, V blas64.General, theta []float64, feat []float64, ldf, i0, nr int) {
	s := m.cs
	t := m.tail
	thT := theta[m.toff:]
	ldv := V.Stride
	vc := V.Data[i0*ldv:]
	vT := vc[m.toff:]
	// R-forward (example i's direction row i of vc).
	rfeat := m.rForward(theta, nr, vc, ldv, feat, ldf)
	t.rhead(nr)
	t.rbackward(thT, nr, vT, ldv, true)
	// The tail's rows: R(Δ_l) ⊗ a_{l−1} + Δ_l ⊗ R(a_{l−1}) and R(Δ_l).
	t.perExampleHVRows(D.Data[i0*D.Stride:], D.Stride, m.toff, feat, ldf, nr, rfeat)
	if len(m.stages) == 0 {
		return
	}
	m.rBackFeatures(thT, vT, ldv, nr)
	for si := len(m.stages) - 1; si >= 0; si-- {
		st := &m.stages[si]
		npos := st.hout * st.wout
		ld := nr * npos
		g, rg, conv := m.rBackStage(si, nr)
		if !conv {
			continue
		}
		ckk := st.ckk()
		for i := 0; i < nr; i++ {
			row := D.Data[(i0+i)*D.Stride:]
			gw := row[st.woff:st.boff]
			s.g.Gemm(false, true, st.cout, ckk, npos, 1, rg[i*npos:], ld, s.col[si][i*npos:], ld, 0, gw, ckk)
			if si > 0 {
				s.g.Gemm(false, true, st.cout, ckk, npos, 1, g[i*npos:], ld, s.rcol[si][i*npos:], ld, 1, gw, ckk)
			}
			for o := 0; o < st.cout; o++ {
				var sum float64
				for _, x := range rg[o*ld+i*npos : o*ld+(i+1)*npos] {
					sum += x
				}
				row[st.boff+o] = sum
			}
		}
		if si == 0 {
			continue
		}
		m.rBackInput(si, theta, vc, ldv, g, rg, nr)
	}
}

// rBackFeatures propagates the tail's Δ₁ and R(Δ₁) of a chunk into the last stage's output
// gradients: ∂F = Δ₁ W₁, R(∂F) = R(Δ₁) W₁ + Δ₁ V₁ (V₁ from vT shared by the examples when
// ldv = 0, else example i's at vT[i·ldv:]), unflattened.
func (m *ConvNet) rBackFeatures(thT, vT []float64, ldv, nr int) {
	s := m.cs
	t := m.tail
	ly := t.layers[0]
	F := ly.In
	w0, _ := t.weights(thT, 0)
	s.g.Gemm(false, false, nr, F, ly.Out, 1, t.s.del[0], ly.Out, w0, F, 0, s.dfea, F)
	s.g.Gemm(false, false, nr, F, ly.Out, 1, t.s.rdel[0], ly.Out, w0, F, 0, s.rdfea, F)
	if ldv == 0 {
		v0, _ := t.weights(vT, 0)
		s.g.Gemm(false, false, nr, F, ly.Out, 1, t.s.del[0], ly.Out, v0, F, 1, s.rdfea, F)
	} else {
		perExampleAddDeltaV(s.rdfea, t.s.del[0], vT, ldv, ly, nr)
	}
	last := &m.stages[len(m.stages)-1]
	unflatten(s.dout[len(m.stages)-1], s.dfea, last, nr)
	unflatten(s.rdout[len(m.stages)-1], s.rdfea, last, nr)
}

// rBackStage is the R-backward step through stage si of a chunk: a pooling's gradients and
// their R-derivatives are passed to the previous stage (unpool), a conv's are turned into
// Δ_Z and R(Δ_Z) in place (actDerivs). It returns the conv's (g, rg) and true, or false for
// a pooling.
func (m *ConvNet) rBackStage(si, nr int) (g, rg []float64, conv bool) {
	s := m.cs
	st := &m.stages[si]
	ld := nr * st.hout * st.wout
	g = s.dout[si][:st.cout*ld]
	rg = s.rdout[si][:st.cout*ld]
	if st.kind != stageConv {
		if si > 0 {
			unpool(s.dout[si-1], st, g, s.arg[si], nr)
			unpool(s.rdout[si-1], st, rg, s.arg[si], nr)
		}
		return nil, nil, false
	}
	actDerivs(m.act, g, rg, s.out[si][:len(g)], s.rout[si][:len(g)])
	return g, rg, true
}

// actDerivs turns ∂ℓ/∂A (g) and its directional derivative (rg) of an activation's output
// A = φ(Z) into Δ_Z = g ∘ φ' and R(Δ_Z) = rg ∘ φ' + g ∘ φ” R(Z) in place, from a = φ(Z) and
// ra = R(a) = φ' R(Z): φ” R(Z) = −2 a R(a) for tanh, 0 for relu (the R-backward step of
// docs/MATH.md §1 and §1.1).
func actDerivs(act Activation, g, rg, a, ra []float64) {
	switch act {
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
}

var _ Model = (*ConvNet)(nil)
