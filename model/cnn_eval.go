package model

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// cnnChunk is the number of examples a ConvNet processes at once. Its unfolded inputs are
// positions × patch size per example (LeNet-5: 19600 and 15000 floats), and the products
// that write and read them are bound by memory traffic, so a chunk is small enough for
// them to stay in a core's L2 cache (12 LeNet-5 examples: 1.8 MB and 1.4 MB); a multiple
// of the GEMM's 6 rows for the dense tail. On LeNet-5 (n = 4096, one core) GradDotSum and
// HessVec took ≈ 25% less CPU time with chunks of 4 to 12 examples than with 64. Sums over
// examples are accumulated chunk by chunk in this fixed order.
const cnnChunk = 12

// cnnScratch holds a ConvNet's per-chunk buffers. Images are stored channel-major over the
// chunk, (C, n, H, W) ("CNHW"): plane (c, i) at (c·n + i)·H·W.
type cnnScratch struct {
	g    kernel.GemmCtx
	rows int
	out  [][]float64 // out[s]: stage s's output, CNHW
	dout [][]float64 // ∂ℓ_i/∂(stage s's output); for a conv turned into ∂ℓ_i/∂Z in place
	col  [][]float64 // col[s]: the unfolded input U of conv stage s, (Cin·K·K) × (n·Hout·Wout)
	dcol []float64   // Wᵀ Δ of a conv, before folding
	arg  [][]int32   // arg[s]: max pooling's argmax (index in the input plane) per output
	feat []float64   // flattened features (rows × F)
	dfea []float64   // ∂ℓ_i/∂features

	view cnnView     // the current chunk's factors (cnn_products.go)
	crow []float64   // the conv-parameter blocks of the chunk's g_i (cnnChunk × toff)
	cdel [][]float64 // views of a ConvGradCache's tail Δ_l
	cact [][]float64 // views of a ConvGradCache's tail A_l
	gram cnnStore    // every example's factors (Gram without a cache)

	// R-operator buffers (ensureR): R(out), R(∂out), R(U), R(Wᵀ Δ), R(features), R(∂features).
	rrows               int
	rout, rdout, rcol   [][]float64
	rdcol, rfeat, rdfea []float64
}

func (m *ConvNet) ensure(rows int) *cnnScratch {
	s := m.cs
	if s == nil {
		s = &cnnScratch{}
		m.cs = s
	}
	m.tail.ensure(rows)
	if s.rows >= rows {
		return s
	}
	S := len(m.stages)
	s.out = make([][]float64, S)
	s.dout = make([][]float64, S)
	s.col = make([][]float64, S)
	s.arg = make([][]int32, S)
	maxCol := 0
	for i, st := range m.stages {
		np := rows * st.cout * st.hout * st.wout
		s.out[i] = make([]float64, np)
		s.dout[i] = make([]float64, np)
		switch st.kind {
		case stageConv:
			s.col[i] = make([]float64, st.ckk()*rows*st.hout*st.wout)
			maxCol = max(maxCol, len(s.col[i]))
		case stageMax:
			s.arg[i] = make([]int32, np)
		}
	}
	s.dcol = make([]float64, maxCol)
	s.cdel = make([][]float64, len(m.tail.layers))
	s.cact = make([][]float64, len(m.tail.layers)-1)
	F := m.tail.layers[0].In
	s.feat = make([]float64, rows*F)
	s.dfea = make([]float64, rows*F)
	s.rows = rows
	return s
}

// planes returns where stage s's input lives for a chunk of nr examples: the data, plane
// (c, i) at x[i·ldx + c·H·W], for the first stage, the previous stage's CNHW output
// otherwise; sc and si are the plane strides of c and i.
func (m *ConvNet) planes(s, nr int, x []float64, ldx int) (in []float64, sc, si int) {
	st := &m.stages[s]
	hw := st.hin * st.win
	if s == 0 {
		return x, hw, ldx
	}
	return m.cs.out[s-1], nr * hw, hw
}

// im2col writes the unfolded input U of conv stage st for nr examples into col: row
// (c, ki, kj), column (i, ho, wo), U = in(i, c, ho·S − P + ki, wo·S − P + kj) (0 outside).
func im2col(col []float64, st *cnnStage, in []float64, sc, si, nr int) {
	npos := st.hout * st.wout
	ld := nr * npos
	r := 0
	for c := 0; c < st.cin; c++ {
		for ki := 0; ki < st.k; ki++ {
			for kj := 0; kj < st.k; kj++ {
				row := col[r*ld : (r+1)*ld]
				r++
				lo, hi := validCols(st, kj)
				for i := 0; i < nr; i++ {
					plane := in[c*sc+i*si:]
					dst := row[i*npos : (i+1)*npos]
					for ho := 0; ho < st.hout; ho++ {
						h := ho*st.s - st.p + ki
						d := dst[ho*st.wout : (ho+1)*st.wout]
						if h < 0 || h >= st.hin || lo >= hi {
							clear(d)
							continue
						}
						src := plane[h*st.win : (h+1)*st.win]
						clear(d[:lo])
						clear(d[hi:])
						if st.s == 1 {
							copy(d[lo:hi], src[lo-st.p+kj:])
							continue
						}
						for wo := lo; wo < hi; wo++ {
							d[wo] = src[wo*st.s-st.p+kj]
						}
					}
				}
			}
		}
	}
}

// validCols returns the output columns [lo, hi) whose input column wo·S − P + kj lies in
// [0, Win) for kernel column kj.
func validCols(st *cnnStage, kj int) (lo, hi int) {
	// wo·S ≥ P − kj and wo·S ≤ Win − 1 + P − kj.
	a := st.p - kj
	if a > 0 {
		lo = (a + st.s - 1) / st.s
	}
	b := st.win - 1 + st.p - kj
	if b < 0 {
		return 0, 0
	}
	hi = min(st.wout, b/st.s+1)
	return min(lo, hi), hi
}

// col2im adds the folded columns col (layout of im2col) into the CNHW gradient dst of the
// stage's input (cleared first), in the fixed order of im2col.
func col2im(dst []float64, st *cnnStage, col []float64, nr int) {
	npos := st.hout * st.wout
	ld := nr * npos
	hw := st.hin * st.win
	clear(dst[:st.cin*nr*hw])
	r := 0
	for c := 0; c < st.cin; c++ {
		for ki := 0; ki < st.k; ki++ {
			for kj := 0; kj < st.k; kj++ {
				row := col[r*ld : (r+1)*ld]
				r++
				lo, hi := validCols(st, kj)
				if lo >= hi {
					continue
				}
				for i := 0; i < nr; i++ {
					plane := dst[(c*nr+i)*hw:]
					src := row[i*npos : (i+1)*npos]
					for ho := 0; ho < st.hout; ho++ {
						h := ho*st.s - st.p + ki
						if h < 0 || h >= st.hin {
							continue
						}
						d := plane[h*st.win : (h+1)*st.win]
						sr := src[ho*st.wout+lo : ho*st.wout+hi]
						if st.s == 1 {
							dd := d[lo-st.p+kj : hi-st.p+kj]
							for j, v := range sr {
								dd[j] += v
							}
							continue
						}
						for j, v := range sr {
							d[(lo+j)*st.s-st.p+kj] += v
						}
					}
				}
			}
		}
	}
}

// convMul computes C = op(A) B + β C for the conv-shaped product of an m×k op(A) (A, or
// Aᵀ stored k×m when tA, leading dimension lda) and B (k × nr·npos, leading dimension
// nr·npos, as C): one product over the chunk. (Blocks of whole examples small enough for
// internal/kernel to read B in place were slower: B's rows lie nr·npos apart.)
func (s *cnnScratch) convMul(tA bool, m, k int, a []float64, lda int, b []float64, beta float64, c []float64, npos, nr int) {
	ld := nr * npos
	s.g.Gemm(tA, false, m, ld, k, 1, a, lda, b, ld, beta, c, ld)
}

// forward runs the stages, the flatten and the tail on nr examples at x (leading
// dimension ldx), and returns the features the tail read and their leading dimension.
func (m *ConvNet) forward(theta, x []float64, ldx, nr int) ([]float64, int) {
	s := m.cs
	for si := range m.stages {
		st := &m.stages[si]
		in, sc, sn := m.planes(si, nr, x, ldx)
		out := s.out[si]
		npos := st.hout * st.wout
		switch st.kind {
		case stageConv:
			col := s.col[si]
			im2col(col, st, in, sc, sn, nr)
			ld := nr * npos
			z := out[:st.cout*ld]
			for o := 0; o < st.cout; o++ {
				bo := theta[st.boff+o]
				zo := z[o*ld : (o+1)*ld]
				for j := range zo {
					zo[j] = bo
				}
			}
			s.convMul(false, st.cout, st.ckk(), theta[st.woff:st.boff], st.ckk(), col, 1, z, npos, nr)
			m.tail.activate(z)
		default:
			pool(out, s.arg[si], st, in, sc, sn, nr)
		}
	}
	feat, ldf := x, ldx
	if len(m.stages) > 0 {
		last := &m.stages[len(m.stages)-1]
		flatten(s.feat, s.out[len(m.stages)-1], last, nr)
		feat, ldf = s.feat, last.cout*last.hout*last.wout
	}
	m.tail.forward(theta[m.toff:], feat, ldf, nr)
	return feat, ldf
}

// pool computes K×K pooling with stride K (max or average) of every plane into out (CNHW);
// max pooling records the argmax (the first maximum in row-major window order, as PyTorch;
// a NaN wins, the last one in that order).
func pool(out []float64, arg []int32, st *cnnStage, in []float64, sc, si, nr int) {
	K := st.k
	inv := 1 / float64(K*K)
	npos := st.hout * st.wout
	win := st.win
	for c := 0; c < st.cin; c++ {
		for i := 0; i < nr; i++ {
			plane := in[c*sc+i*si:]
			q := (c*nr + i) * npos
			o := out[q : q+npos]
			for ho := 0; ho < st.hout; ho++ {
				h0 := ho * K
				orow := o[ho*st.wout : (ho+1)*st.wout]
				if st.kind == stageMax {
					arow := arg[q+ho*st.wout : q+(ho+1)*st.wout]
					if K == 2 {
						maxPool2Row(orow, arow, plane[h0*win:(h0+1)*win], plane[(h0+1)*win:(h0+2)*win], int32(h0*win), int32(win))
						continue
					}
					for wo := range orow {
						w0 := wo * K
						best, bi := plane[h0*win+w0], h0*win+w0
						for a := 0; a < K; a++ {
							row := plane[(h0+a)*win+w0 : (h0+a)*win+w0+K]
							for b, v := range row {
								if v > best || v != v {
									best, bi = v, (h0+a)*win+w0+b
								}
							}
						}
						orow[wo] = best
						arow[wo] = int32(bi)
					}
					continue
				}
				for wo := range orow {
					w0 := wo * K
					var sum float64
					for a := 0; a < K; a++ {
						for _, v := range plane[(h0+a)*win+w0 : (h0+a)*win+w0+K] {
							sum += v
						}
					}
					orow[wo] = sum * inv
				}
			}
		}
	}
}

// maxPool2Row is pool's 2×2 max pooling of one output row from input rows r0 and r1 (plane
// offsets base and base + win), with the same comparisons in the same order.
func maxPool2Row(o []float64, arg []int32, r0, r1 []float64, base, win int32) {
	for wo := range o {
		j := 2 * wo
		best, bi := r0[j], base+int32(j)
		if v := r0[j+1]; v > best || v != v {
			best, bi = v, base+int32(j+1)
		}
		if v := r1[j]; v > best || v != v {
			best, bi = v, base+win+int32(j)
		}
		if v := r1[j+1]; v > best || v != v {
			best, bi = v, base+win+int32(j+1)
		}
		o[wo] = best
		arg[wo] = bi
	}
}

// flatten writes the last stage's CNHW output planes src as rows of features dst (nr ×
// C·H·W, each row in PyTorch's (C, H, W) order).
func flatten(dst, src []float64, last *cnnStage, nr int) {
	hw := last.hout * last.wout
	F := last.cout * hw
	for i := 0; i < nr; i++ {
		for c := 0; c < last.cout; c++ {
			copy(dst[i*F+c*hw:i*F+(c+1)*hw], src[(c*nr+i)*hw:(c*nr+i+1)*hw])
		}
	}
}

// unflatten is flatten's inverse: rows of features src back into CNHW planes dst.
func unflatten(dst, src []float64, last *cnnStage, nr int) {
	hw := last.hout * last.wout
	F := last.cout * hw
	for i := 0; i < nr; i++ {
		for c := 0; c < last.cout; c++ {
			copy(dst[(c*nr+i)*hw:(c*nr+i+1)*hw], src[i*F+c*hw:i*F+(c+1)*hw])
		}
	}
}

// backward propagates the tail's Δ (left in m.tail.s.del by the head and Network.backward)
// into the features and down the stages, leaving ∂ℓ_i/∂Z of every conv in s.dout.
func (m *ConvNet) backward(theta []float64, nr int) {
	s := m.cs
	t := m.tail
	t.backward(theta[m.toff:], nr)
	if len(m.stages) == 0 {
		return
	}
	ly := t.layers[0]
	F := ly.In
	s.g.Gemm(false, false, nr, F, ly.Out, 1, t.s.del[0], ly.Out, theta[m.toff+ly.WeightOffset:m.toff+ly.BiasOffset], F, 0, s.dfea, F)
	unflatten(s.dout[len(m.stages)-1], s.dfea, &m.stages[len(m.stages)-1], nr)
	for si := len(m.stages) - 1; si >= 0; si-- {
		st := &m.stages[si]
		d := s.dout[si][:st.cout*nr*st.hout*st.wout]
		switch st.kind {
		case stageConv:
			t.mulDeriv(d, s.out[si])
			if si == 0 {
				continue
			}
			ld := nr * st.hout * st.wout
			dc := s.dcol[:st.ckk()*ld]
			s.convMul(true, st.ckk(), st.cout, theta[st.woff:st.boff], st.ckk(), d, 0, dc, st.hout*st.wout, nr)
			col2im(s.dout[si-1], st, dc, nr)
		default:
			if si == 0 {
				continue
			}
			unpool(s.dout[si-1], st, d, s.arg[si], nr)
		}
	}
}

// unpool writes the gradient of a pooling's input (CNHW) from that of its output: to the
// argmax (max) or spread evenly, 1/K², over the window (average).
func unpool(dst []float64, st *cnnStage, d []float64, arg []int32, nr int) {
	hw := st.hin * st.win
	npos := st.hout * st.wout
	clear(dst[:st.cin*nr*hw])
	K := st.k
	inv := 1 / float64(K*K)
	for q := 0; q < st.cin*nr; q++ {
		plane := dst[q*hw : (q+1)*hw]
		dq := d[q*npos : (q+1)*npos]
		if st.kind == stageMax {
			for j, v := range dq {
				plane[arg[q*npos+j]] += v
			}
			continue
		}
		for ho := 0; ho < st.hout; ho++ {
			for wo := 0; wo < st.wout; wo++ {
				v := dq[ho*st.wout+wo] * inv
				for a := 0; a < K; a++ {
					row := plane[(ho*K+a)*st.win+wo*K : (ho*K+a)*st.win+wo*K+K]
					for b := range row {
						row[b] += v
					}
				}
			}
		}
	}
}

// accumulate adds α Σ_i g_i over the chunk to dst (writes it, when overwrite): per conv
// α Δ_Z Uᵀ for the weight and α Δ_Z 1 for the bias, then the tail's Network.accumulate.
func (m *ConvNet) accumulate(dst []float64, alpha float64, theta []float64, feat []float64, ldf, nr int, overwrite bool) {
	s := m.cs
	beta := 1.0
	if overwrite {
		beta = 0
	}
	for si := range m.stages {
		st := &m.stages[si]
		if st.kind != stageConv {
			continue
		}
		ld := nr * st.hout * st.wout
		d := s.dout[si][:st.cout*ld]
		s.g.Gemm(false, true, st.cout, st.ckk(), ld, alpha, d, ld, s.col[si], ld, beta, dst[st.woff:st.boff], st.ckk())
		for o := 0; o < st.cout; o++ {
			var sum float64
			for _, v := range d[o*ld : (o+1)*ld] {
				sum += v
			}
			if overwrite {
				dst[st.boff+o] = alpha * sum
			} else {
				dst[st.boff+o] += alpha * sum
			}
		}
	}
	m.tail.accumulate(dst[m.toff:], alpha, m.tail.s.del, m.tail.s.act, feat, ldf, nr, nil, overwrite)
}

func (m *ConvNet) checkBatch(method string, theta []float64, b Batch) int {
	if len(theta) != m.d {
		panic(fmt.Sprintf("model: %s: len(theta) = %d, want %d", method, len(theta), m.d))
	}
	nb := b.Len()
	if nb == 0 {
		panic(fmt.Sprintf("model: %s: empty batch", method))
	}
	if _, c := b.X.Dims(); c != m.NumInputs() {
		panic(fmt.Sprintf("model: %s: batch has %d features, %s takes %d", method, c, m.name, m.NumInputs()))
	}
	if len(b.Y) != nb {
		panic(fmt.Sprintf("model: %s: batch has %d rows but %d targets", method, nb, len(b.Y)))
	}
	return nb
}

// Loss returns the mean NLL (1/n) Σ ℓ_i and, if grad is non-nil, writes the mean gradient
// into grad (see accumulate).
func (m *ConvNet) Loss(grad, theta []float64, b Batch) float64 {
	nb := m.checkBatch("Loss", theta, b)
	if grad != nil {
		checkLen("Loss", "grad", len(grad), m.d)
	}
	mode := headLoss
	if grad != nil {
		mode |= headGrad
	}
	return m.lossGrad(grad, theta, b, nb, mode)
}

// Grad writes the mean gradient (1/n) Σ g_i into grad, bitwise Loss's gradient.
func (m *ConvNet) Grad(grad, theta []float64, b Batch) {
	nb := m.checkBatch("Grad", theta, b)
	checkLen("Grad", "grad", len(grad), m.d)
	m.lossGrad(grad, theta, b, nb, headGrad)
}

func (m *ConvNet) lossGrad(grad, theta []float64, b Batch, nb int, mode headMode) float64 {
	return m.call(cnnArgs{op: cnnOpLoss, nb: nb, theta: theta, b: b, mode: mode, alpha: 1 / float64(nb)}, grad) / float64(nb)
}

// PerExampleLoss writes ℓ_i into dst (length n).
func (m *ConvNet) PerExampleLoss(dst, theta []float64, b Batch) {
	nb := m.checkBatch("PerExampleLoss", theta, b)
	checkLen("PerExampleLoss", "dst", len(dst), nb)
	m.ensure(min(nb, cnnChunk))
	X := b.X.RawMatrix()
	for i0 := 0; i0 < nb; i0 += cnnChunk {
		nr := min(cnnChunk, nb-i0)
		m.forward(theta, X.Data[i0*X.Stride:], X.Stride, nr)
		m.tail.evalHead(b.Y[i0:i0+nr], nr, i0, headLoss)
		copy(dst[i0:i0+nr], m.tail.s.loss[:nr])
	}
}

// Outputs writes the outputs z of the last layer for the rows of X into dst
// (n×NumOutputs; an empty dst is sized).
func (m *ConvNet) Outputs(dst *mat.Dense, theta []float64, X *mat.Dense) {
	checkLen("Outputs", "theta", len(theta), m.d)
	nb, p := X.Dims()
	if p != m.NumInputs() {
		panic(fmt.Sprintf("model: Outputs: X has %d features, %s takes %d", p, m.name, m.NumInputs()))
	}
	K := m.NumOutputs()
	D := prepDense("Outputs", "dst", dst, nb, K)
	m.ensure(min(nb, cnnChunk))
	R := X.RawMatrix()
	for i0 := 0; i0 < nb; i0 += cnnChunk {
		nr := min(cnnChunk, nb-i0)
		m.forward(theta, R.Data[i0*R.Stride:], R.Stride, nr)
		for i := 0; i < nr; i++ {
			copy(D.Data[(i0+i)*D.Stride:(i0+i)*D.Stride+K], m.tail.s.out[i*K:(i+1)*K])
		}
	}
}
