package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// chunkRows is the number of examples processed at once by every method except Gram.
// Sums over examples (the mean gradient, GradSum, HessVec) are accumulated chunk by chunk in
// this fixed order, so results do not depend on anything but the inputs.
const chunkRows = 256

// gramTile is the largest tile size of the blocked Gram computation: tiles of gramTile
// rows for large batches, of half that up to 2·gramTile examples, so that even a small
// Gram matrix has tiles for two threads (an element's value does not depend on the tiling).
const gramTile = 256

// gramTileFor returns the tile size for a Gram matrix of nb examples.
func gramTileFor(nb int) int {
	if nb <= 2*gramTile {
		return gramTile / 2
	}
	return gramTile
}

// scratch holds the buffers of one Network, grown on demand and reused.
type scratch struct {
	g    kernel.GemmCtx
	rows int // row capacity of the per-row buffers

	act  [][]float64 // act[l]: A of hidden layer l (rows×Out_l), l < L−1
	out  []float64   // z of the last layer (rows×K)
	del  [][]float64 // del[l]: Δ_l = ∂ℓ_i/∂z_l (rows×Out_l)
	loss []float64   // ℓ_i (rows)
	hfac []float64   // output Hessian factor: p (categorical, rows×K) or p(1−p) (Bernoulli, rows)
	tmp  []float64   // rows×max Out_l
	ones []float64   // rows ones

	ract [][]float64 // R(A_l) of hidden layers (rows×Out_l)
	rout []float64   // R(z) of the last layer (rows×K)
	rdel [][]float64 // R(Δ_l) (rows×Out_l)

	t1, t2 []float64 // Gram tiles (gramTile×gramTile)

	cdel, cact [][]float64 // views of a GradCache's current chunk

	tan *tangentScratch // CovTangents' buffers, created on first use

	sp spChunk // the current chunk's compressed features (sparse.go)
}

// ensure makes the per-row buffers hold at least rows rows.
func (n *Network) ensure(rows int) *scratch {
	s := n.s
	if s == nil {
		s = &scratch{}
		n.s = s
	}
	if s.rows >= rows {
		return s
	}
	L := len(n.layers)
	maxOut := 0
	s.act = make([][]float64, L-1)
	s.ract = make([][]float64, L-1)
	s.del = make([][]float64, L)
	s.rdel = make([][]float64, L)
	for l, ly := range n.layers {
		maxOut = max(maxOut, ly.Out)
		if l < L-1 {
			s.act[l] = make([]float64, rows*ly.Out)
			s.ract[l] = make([]float64, rows*ly.Out)
		}
		s.del[l] = make([]float64, rows*ly.Out)
		s.rdel[l] = make([]float64, rows*ly.Out)
	}
	K := n.NumOutputs()
	s.out = make([]float64, rows*K)
	s.rout = make([]float64, rows*K)
	s.loss = make([]float64, rows)
	s.hfac = make([]float64, rows*K)
	s.tmp = make([]float64, rows*maxOut)
	s.ones = make([]float64, rows)
	for i := range s.ones {
		s.ones[i] = 1
	}
	s.cdel = make([][]float64, L)
	s.cact = make([][]float64, L-1)
	s.rows = rows
	return s
}

// input returns the input of layer l for the current chunk: the chunk of X for l = 0, the
// previous hidden activation otherwise, with its leading dimension.
func (n *Network) input(l int, x []float64, ldx int) ([]float64, int) {
	return n.inputFrom(n.s.act, l, x, ldx)
}

// inputFrom is input with the hidden activations taken from acts (acts[l] for layer l).
func (n *Network) inputFrom(acts [][]float64, l int, x []float64, ldx int) ([]float64, int) {
	if l == 0 {
		return x, ldx
	}
	return acts[l-1], n.layers[l-1].Out
}

func (n *Network) weights(theta []float64, l int) (w, b []float64) {
	ly := n.layers[l]
	return theta[ly.WeightOffset:ly.BiasOffset], theta[ly.BiasOffset : ly.BiasOffset+ly.Out]
}

// fillRows sets each of the nr rows of m (width len(v)) to v.
func fillRows(m []float64, nr int, v []float64) {
	w := len(v)
	if w == 1 { // one output (linreg, logistic): no copy call per row
		m = m[:nr]
		for i := range m {
			m[i] = v[0]
		}
		return
	}
	for i := 0; i < nr; i++ {
		row := m[i*w : (i+1)*w]
		//lint:ignore S1001 a row of a few elements, copied in the loop rather than by a call per row
		for j, x := range v { // element by element: a copy call per row costs more
			row[j] = x
		}
	}
}

// forward computes z_l = A_{l−1} W_lᵀ + 1 b_lᵀ for every layer of the nr examples whose
// features start at x (leading dimension ldx), with A_l = φ(z_l) for hidden layers.
func (n *Network) forward(theta, x []float64, ldx, nr int) {
	s := n.s
	L := len(n.layers)
	for l, ly := range n.layers {
		in, ldin := n.input(l, x, ldx)
		_, b := n.weights(theta, l)
		z := s.out
		if l < L-1 {
			z = s.act[l]
		}
		z = z[:nr*ly.Out]
		fillRows(z, nr, b)
		n.mulInput(l, in, ldin, nr, theta, z)
		if l < L-1 {
			n.activate(z)
		}
	}
}

func (n *Network) activate(z []float64) {
	switch n.act {
	case Tanh:
		kernel.TanhInPlace(z)
	case ReLU:
		for i, v := range z {
			if v < 0 {
				z[i] = 0
			}
		}
	}
}

// mulDeriv multiplies m elementwise by φ'(z) given a = φ(z): 1 − a² for tanh, [a > 0] for
// relu.
func (n *Network) mulDeriv(m, a []float64) {
	a = a[:len(m)]
	switch n.act {
	case Tanh:
		// Four elements a trip, the same operations on each.
		i := 0
		for ; i+4 <= len(m); i += 4 {
			mi, ai := m[i:i+4:i+4], a[i:i+4:i+4]
			mi[0] *= 1 - ai[0]*ai[0]
			mi[1] *= 1 - ai[1]*ai[1]
			mi[2] *= 1 - ai[2]*ai[2]
			mi[3] *= 1 - ai[3]*ai[3]
		}
		for ; i < len(m); i++ {
			m[i] *= 1 - a[i]*a[i]
		}
	case ReLU:
		for i, v := range a {
			if !(v > 0) {
				m[i] = 0
			}
		}
	}
}

// headMode selects what evalHead computes.
type headMode int

const (
	headLoss headMode = 1 << iota // ℓ_i into s.loss
	headGrad                      // Δ of the last layer into s.del[L−1]
	headHess                      // the output Hessian factor into s.hfac (without it, s.hfac is scratch)
)

// evalHead evaluates the output distribution on the nr rows of s.out with targets y.
//
// Gaussian: ℓ = r²/(2σ²), Δ = r/σ², ∂²ℓ/∂z² = 1/σ², r = z − y.
// Bernoulli: ℓ = softplus(z) − y z, Δ = sigmoid(z) − y, ∂²ℓ/∂z² = p(1 − p).
// Categorical: ℓ = logsumexp(z) − z_y, Δ = p − e_y, ∂²ℓ/∂z² = diag(p) − ppᵀ, p = softmax(z).
// All are computed stably for logits of any size.
func (n *Network) evalHead(y []float64, nr, row0 int, mode headMode) {
	s := n.s
	L := len(n.layers)
	z := s.out
	del := s.del[L-1]
	switch n.head {
	case Gaussian:
		inv := 1 / (n.sigma * n.sigma)
		for i := 0; i < nr; i++ {
			r := z[i] - y[i]
			s.loss[i] = 0.5 * r * r * inv
			del[i] = r * inv
		}
	case Bernoulli:
		// e_i = exp(−|z_i|) ∈ (0, 1] for the whole chunk at once, in del until Δ replaces it.
		for i := 0; i < nr; i++ {
			del[i] = -math.Abs(z[i])
		}
		kernel.ExpNonPosInPlace(del[:nr])
		for i := 0; i < nr; i++ {
			t := y[i]
			if t != 0 && t != 1 {
				badLabel(t, row0+i, 2)
			}
			v := z[i]
			e := del[i]
			var p float64 // sigmoid(v)
			if v >= 0 {
				p = 1 / (1 + e)
			} else {
				p = e / (1 + e)
			}
			if mode&headLoss != 0 {
				s.loss[i] = math.Max(v, 0) + math.Log1p(e) - t*v
			}
			del[i] = p - t
			if mode&headHess != 0 {
				s.hfac[i] = e / ((1 + e) * (1 + e))
			}
		}
	case Categorical:
		K := n.NumOutputs()
		p := s.hfac[:nr*K]
		// Pass 1: m_i = max_j z_ij (kept in s.loss until the loss replaces it) and
		// p_ij = z_ij − m_i ≤ 0.
		for i := 0; i < nr; i++ {
			t := y[i]
			if k := int(t); float64(k) != t || k < 0 || k >= K {
				badLabel(t, row0+i, K)
			}
			zi := z[i*K : (i+1)*K]
			// m = max_j z_j exactly as folding math.Max gives it (+Inf wins, then NaN, and +0
			// beats −0): the builtin max has math.Max's rules except that NaN beats +Inf, so a
			// NaN result is looked at again (rare). The builtin's result does not depend on
			// the order of the fold, so even and odd j go to two maxima (two chains of
			// dependent instructions instead of one).
			m, m1 := math.Inf(-1), math.Inf(-1)
			j := 0
			for ; j+2 <= K; j += 2 {
				m, m1 = max(m, zi[j]), max(m1, zi[j+1])
			}
			if j < K {
				m = max(m, zi[j])
			}
			m = max(m, m1)
			if m != m {
				for _, v := range zi {
					if math.IsInf(v, 1) {
						m = v
					}
				}
			}
			s.loss[i] = m
			pi := p[i*K : (i+1)*K]
			for j, v := range zi {
				pi[j] = v - m
			}
		}
		// Pass 2: the exponentials of the whole block, vectorised.
		kernel.ExpNonPosInPlace(p)
		// Pass 3: normalise; ℓ = m + log Σ_j e^{z_j − m} − z_y, Δ = p − e_y.
		for i := 0; i < nr; i++ {
			k := int(y[i])
			pi := p[i*K : (i+1)*K]
			var sum float64
			for _, e := range pi {
				sum += e
			}
			if mode&headLoss != 0 {
				s.loss[i] = s.loss[i] + math.Log(sum) - z[i*K+k]
			}
			inv := 1 / sum
			d := del[i*K : (i+1)*K]
			if mode&headHess != 0 {
				for j := range pi {
					pi[j] *= inv
					d[j] = pi[j]
				}
			} else { // p is needed for Δ only: not stored
				for j, e := range pi {
					d[j] = e * inv
				}
			}
			d[k] -= 1
		}
	}
}

//go:noinline
func badLabel(y float64, i, K int) {
	panic(fmt.Sprintf("model: target %v of example %d is not a class index in [0, %d)", y, i, K))
}

// rhead computes R(Δ_L) = (∂²ℓ_i/∂z²) R(z_L) row by row into s.rdel[L−1].
func (n *Network) rhead(nr int) {
	s := n.s
	L := len(n.layers)
	rz := s.rout
	rd := s.rdel[L-1]
	switch n.head {
	case Gaussian:
		inv := 1 / (n.sigma * n.sigma)
		for i := 0; i < nr; i++ {
			rd[i] = rz[i] * inv
		}
	case Bernoulli:
		for i := 0; i < nr; i++ {
			rd[i] = s.hfac[i] * rz[i]
		}
	case Categorical:
		K := n.NumOutputs()
		for i := 0; i < nr; i++ {
			p := s.hfac[i*K : (i+1)*K]
			r := rz[i*K : (i+1)*K]
			var pr float64
			for j, v := range p {
				pr += v * r[j]
			}
			d := rd[i*K : (i+1)*K]
			for j, v := range p {
				d[j] = v * (r[j] - pr)
			}
		}
	}
}

// backward propagates Δ down to the first layer: Δ_{l−1} = (Δ_l W_l) ∘ φ'(z_{l−1}).
func (n *Network) backward(theta []float64, nr int) {
	s := n.s
	for l := len(n.layers) - 1; l >= 1; l-- {
		ly := n.layers[l]
		w, _ := n.weights(theta, l)
		prev := s.del[l-1][:nr*ly.In]
		if n.act == Tanh { // the product and the factor 1 − a² in one pass, the same bits
			s.g.GemmTanhDeriv(false, false, nr, ly.In, ly.Out, 1, s.del[l], ly.Out, w, ly.In, prev, ly.In, s.act[l-1][:nr*ly.In])
			continue
		}
		s.g.Gemm(false, false, nr, ly.In, ly.Out, 1, s.del[l], ly.Out, w, ly.In, 0, prev, ly.In)
		n.mulDeriv(prev, s.act[l-1])
	}
}

// perExampleAffine writes row i of rz (nr × ly.Out) as V_i a_i + c_i, with a_i row i of in
// (leading dimension ldin) and (V_i, c_i) layer ly's weight and bias blocks of example i's
// direction v[i·ldv:] (per-example Hessian–vector products, the direction's own term).
func perExampleAffine(rz, in []float64, ldin int, v []float64, ldv int, ly Layer, nr int) {
	for i := 0; i < nr; i++ {
		vi := v[i*ldv:]
		ri := rz[i*ly.Out : (i+1)*ly.Out]
		ai := in[i*ldin : i*ldin+ly.In]
		for r := range ri {
			w0 := ly.WeightOffset + r*ly.In
			ri[r] = vi[ly.BiasOffset+r] + kernel.Dot(vi[w0:w0+ly.In], ai)
		}
	}
}

// perExampleAddDeltaV adds Δ_i V_i to row i of rg (nr × ly.In): Δ_i row i of del (nr ×
// ly.Out), V_i layer ly's weight block of example i's direction v[i·ldv:] (the Δ_l V_l term
// of the R-backward step, per example).
func perExampleAddDeltaV(rg, del, v []float64, ldv int, ly Layer, nr int) {
	for i := 0; i < nr; i++ {
		vi := v[i*ldv:]
		rgi := rg[i*ly.In : (i+1)*ly.In]
		for r, e := range del[i*ly.Out : (i+1)*ly.Out] {
			w0 := ly.WeightOffset + r*ly.In
			kernel.AxpbyTo(rgi, e, vi[w0:w0+ly.In], 1, rgi)
		}
	}
}

// perExampleHVRows writes the layers' blocks of the per-example products H_i V_i into rows
// D[i·ldd+off:] of the chunk, after rforward, rhead and rbackward with one direction per
// example: (H_i V_i)_{W_l} = R(Δ_{l,i}) ⊗ a_{l−1,i} + Δ_{l,i} ⊗ R(a_{l−1,i}) and
// (H_i V_i)_{c_l} = R(Δ_{l,i}), with a_0 = x and R(a_0) = rx (nil: 0).
func (n *Network) perExampleHVRows(D []float64, ldd, off int, x []float64, ldx, nr int, rx []float64) {
	s := n.s
	for l, ly := range n.layers {
		in, ldin := n.input(l, x, ldx)
		rin := rx
		if l > 0 {
			rin = s.ract[l-1]
		}
		for i := 0; i < nr; i++ {
			row := D[i*ldd+off:]
			re := s.rdel[l][i*ly.Out : (i+1)*ly.Out]
			a := in[i*ldin : i*ldin+ly.In]
			if rin == nil {
				outer(row[ly.WeightOffset:ly.BiasOffset], re, a)
			} else {
				e := s.del[l][i*ly.Out : (i+1)*ly.Out]
				outer2(row[ly.WeightOffset:ly.BiasOffset], re, a, e, rin[i*ly.In:(i+1)*ly.In])
			}
			copy(row[ly.BiasOffset:ly.BiasOffset+ly.Out], re)
		}
	}
}

// rforward computes R(z_l) = R(A_{l−1}) W_lᵀ + A_{l−1} V_lᵀ + 1 c_lᵀ for the direction
// v = (V_l, c_l) and R(A_l) = φ'(z_l) ∘ R(z_l) for hidden layers, with R(A_0) = rx (R of the
// input, a ConvNet's R(features); nil for data, which do not depend on θ). When perEx is
// true, v holds one direction per example (row i of the matrix at v with stride ldv) and the
// A_{l−1} V_lᵀ term is a matrix–vector product per example.
func (n *Network) rforward(theta, x []float64, ldx, nr int, v []float64, ldv int, perEx bool, rx []float64) {
	s := n.s
	L := len(n.layers)
	for l, ly := range n.layers {
		in, ldin := n.input(l, x, ldx)
		rz := s.rout
		if l < L-1 {
			rz = s.ract[l]
		}
		rz = rz[:nr*ly.Out]
		if perEx {
			perExampleAffine(rz, in, ldin, v, ldv, ly, nr)
		} else {
			_, vb := n.weights(v, l)
			fillRows(rz, nr, vb)
			n.mulInput(l, in, ldin, nr, v, rz)
		}
		rin := rx
		if l > 0 {
			rin = s.ract[l-1]
		}
		if rin != nil {
			w, _ := n.weights(theta, l)
			s.g.Gemm(false, true, nr, ly.Out, ly.In, 1, rin, ly.In, w, ly.In, 1, rz, ly.Out)
		}
		if l < L-1 {
			n.mulDeriv(rz, s.act[l])
		}
	}
}

// rbackward propagates Δ and R(Δ) down to the first layer:
//
//	G = Δ_l W_l,  RG = R(Δ_l) W_l + Δ_l V_l,
//	Δ_{l−1} = G ∘ φ',  R(Δ_{l−1}) = RG ∘ φ' + G ∘ φ'' ∘ R(z_{l−1}),
//
// with φ”(z) R(z) = −2 a R(a) for tanh (a = tanh z) and 0 for relu. perEx as in rforward.
func (n *Network) rbackward(theta []float64, nr int, v []float64, ldv int, perEx bool) {
	s := n.s
	for l := len(n.layers) - 1; l >= 1; l-- {
		ly := n.layers[l]
		w, _ := n.weights(theta, l)
		g := s.del[l-1][:nr*ly.In]
		rg := s.rdel[l-1][:nr*ly.In]
		s.g.Gemm(false, false, nr, ly.In, ly.Out, 1, s.del[l], ly.Out, w, ly.In, 0, g, ly.In)
		s.g.Gemm(false, false, nr, ly.In, ly.Out, 1, s.rdel[l], ly.Out, w, ly.In, 0, rg, ly.In)
		if perEx {
			perExampleAddDeltaV(rg, s.del[l], v, ldv, ly, nr)
		} else {
			vw, _ := n.weights(v, l)
			s.g.Gemm(false, false, nr, ly.In, ly.Out, 1, s.del[l], ly.Out, vw, ly.In, 1, rg, ly.In)
		}
		actDerivs(n.act, g, rg, s.act[l-1][:len(g)], s.ract[l-1][:len(g)])
	}
}

// --- shape checks --------------------------------------------------------------------------

func (n *Network) checkBatch(method string, theta []float64, b Batch) int {
	if len(theta) != n.d {
		panic(fmt.Sprintf("model: %s: len(theta) = %d, want %d", method, len(theta), n.d))
	}
	nb := b.Len()
	if nb == 0 {
		panic(fmt.Sprintf("model: %s: empty batch", method))
	}
	if _, c := b.X.Dims(); c != n.NumInputs() {
		panic(fmt.Sprintf("model: %s: batch has %d features, %s takes %d", method, c, n.name, n.NumInputs()))
	}
	if len(b.Y) != nb {
		panic(fmt.Sprintf("model: %s: batch has %d rows but %d targets", method, nb, len(b.Y)))
	}
	checkSparse(method, b)
	return nb
}

func checkLen(method, what string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("model: %s: len(%s) = %d, want %d", method, what, got, want))
	}
}

// prepDense returns the raw storage of dst, sizing an empty dst to r×c.
func prepDense(method, what string, dst *mat.Dense, r, c int) blas64.General {
	if dst.IsEmpty() {
		dst.ReuseAs(r, c)
	}
	if dr, dc := dst.Dims(); dr != r || dc != c {
		panic(fmt.Sprintf("model: %s: %s is %d×%d, want %d×%d", method, what, dr, dc, r, c))
	}
	return dst.RawMatrix()
}

// --- Model methods -------------------------------------------------------------------------

// Loss returns the mean NLL (1/n) Σ ℓ_i and, if grad is non-nil, writes the mean gradient
// (1/n) Σ g_i into grad, with per layer (1/n) Δ_lᵀ A_{l−1} for W_l and (1/n) Δ_lᵀ 1 for b_l.
func (n *Network) Loss(grad, theta []float64, b Batch) float64 {
	nb := n.checkBatch("Loss", theta, b)
	if grad != nil {
		checkLen("Loss", "grad", len(grad), n.d)
	}
	mode := headLoss
	if grad != nil {
		mode |= headGrad
	}
	sum := n.call(laneArgs{op: opLoss, nb: nb, theta: theta, b: b, mode: mode, alpha: 1 / float64(nb)}, grad)
	return sum / float64(nb)
}

// Grad writes the mean gradient (1/n) Σ g_i into grad without computing the loss (the
// head skips its logarithms): bitwise the gradient Loss writes.
func (n *Network) Grad(grad, theta []float64, b Batch) {
	nb := n.checkBatch("Grad", theta, b)
	checkLen("Grad", "grad", len(grad), n.d)
	n.call(laneArgs{op: opLoss, nb: nb, theta: theta, b: b, mode: headGrad, alpha: 1 / float64(nb)}, grad)
}

// accumulate adds α Σ_i w_i g_i(θ) over the nr examples of the chunk to dst, layer by layer:
// α (diag(w) Δ_l)ᵀ A_{l−1} to W_l and α Δ_lᵀ w to b_l, Δ taken from del and the hidden
// activations A_l from acts. w = nil means all weights 1. With overwrite, dst is written
// instead (β = 0: the same bits as adding to zeros, without reading dst).
func (n *Network) accumulate(dst []float64, alpha float64, del, acts [][]float64, x []float64, ldx, nr int, w []float64, overwrite bool) {
	s := n.s
	impl := blas64.Implementation()
	wv := w
	if wv == nil {
		wv = s.ones
	}
	for l, ly := range n.layers {
		in, ldin := n.inputFrom(acts, l, x, ldx)
		d := del[l]
		if w != nil {
			t := s.tmp[:nr*ly.Out]
			if ly.Out == 1 { // one output: no call per row
				for i := range t {
					t[i] = w[i] * d[i]
				}
			} else {
				for i := 0; i < nr; i++ {
					kernel.ScaleTo(t[i*ly.Out:(i+1)*ly.Out], w[i], d[i*ly.Out:(i+1)*ly.Out])
				}
			}
			d = t
		}
		_, gb := n.weights(dst, l)
		beta := 1.0
		if overwrite {
			beta = 0
		}
		n.sumInput(l, dst, alpha, d, in, ldin, nr, overwrite)
		impl.Dgemv(blas.Trans, nr, ly.Out, alpha, del[l], ly.Out, wv, 1, beta, gb, 1)
	}
}
