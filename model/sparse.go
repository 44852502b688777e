package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// SparseFeatures holds a batch's features X in compressed form: by rows, and by columns
// chunk by chunk (the chunks of chunkRows examples every batched method runs over). With it
// a dense Network computes its first layer's products with X — X Wᵀ in the forward and
// R-forward passes and the dots g_i·u, Δᵀ X in the gradient sums — from the nonzeros only
// (kernel.SparseGather). On MNIST, whose images are 81% zeros, each of these products takes
// about a third of the time of the dense GEMM (BenchmarkSparseGather). Results agree with the
// dense path to round-off; they are bitwise the same for any GOMAXPROCS.
//
// It is built by Compress and describes one *mat.Dense: X must not change afterwards.
type SparseFeatures struct {
	x *mat.Dense // the features described (their dimensions are the compressed ones)

	rptr []int32 // rows+1 offsets into ridx, rval
	ridx []uint16
	rval []float64

	cptr []int32 // per chunk c, cols+1 offsets at cptr[c·(cols+1):], into cidx, cval
	cidx []uint16
	cval []float64 // the nonzeros of chunk c by column, cidx the row within the chunk
}

// sparseMaxDensity is the largest fraction of nonzero features for which Compress
// compresses: at MNIST's 0.19 the compressed products take 0.24–0.35 of the dense GEMM's time
// with AVX-512 and 0.43–0.49 with the AVX2 kernel alone (BenchmarkSparseGather), so the
// break-even lies near 0.4–0.7; 0.35 keeps a margin for both.
const sparseMaxDensity = 0.35

// sparseMinOut is the smallest first-layer width for which a Network uses the compressed
// features: below it the products are matrix–vector sized and the dense path is as fast.
const sparseMinOut = 16

// Compress returns b with its features in compressed form (b.Sparse) when at most 35% of
// them are nonzero and there are at most 65535 features (column indices are 16-bit);
// otherwise b unchanged. It reads X twice (to count, then to copy); the copy takes about
// 20 bytes per nonzero (on all of MNIST, 180 MB beside X's 376 MB). Only dense Networks with a first
// layer of at least 16 units use it; other models ignore it.
func Compress(b Batch) Batch {
	if b.X == nil || b.Sparse != nil {
		return b
	}
	r, c := b.X.Dims()
	if r == 0 || c == 0 || c > math.MaxUint16 {
		return b
	}
	X := b.X.RawMatrix()
	nnz := 0
	for i := 0; i < r; i++ {
		for _, v := range X.Data[i*X.Stride : i*X.Stride+c] {
			if v != 0 {
				nnz++
			}
		}
	}
	if float64(nnz) > sparseMaxDensity*float64(r)*float64(c) || nnz > math.MaxInt32 {
		return b
	}
	s := &SparseFeatures{x: b.X,
		rptr: make([]int32, r+1), ridx: make([]uint16, 0, nnz), rval: make([]float64, 0, nnz)}
	for i := 0; i < r; i++ {
		for j, v := range X.Data[i*X.Stride : i*X.Stride+c] {
			if v != 0 {
				s.ridx = append(s.ridx, uint16(j))
				s.rval = append(s.rval, v)
			}
		}
		s.rptr[i+1] = int32(len(s.ridx))
	}
	nc := (r + chunkRows - 1) / chunkRows
	s.cptr = make([]int32, nc*(c+1))
	s.cidx = make([]uint16, nnz)
	s.cval = make([]float64, nnz)
	for ch := 0; ch < nc; ch++ {
		i0, i1 := ch*chunkRows, min(r, (ch+1)*chunkRows)
		ptr := s.cptr[ch*(c+1) : (ch+1)*(c+1)]
		// Count each column's nonzeros, then place them (rows in order within a column).
		base := s.rptr[i0]
		for k := base; k < s.rptr[i1]; k++ {
			ptr[s.ridx[k]+1]++
		}
		ptr[0] = base
		for j := 1; j <= c; j++ {
			ptr[j] += ptr[j-1]
		}
		next := append([]int32(nil), ptr[:c]...)
		for i := i0; i < i1; i++ {
			for k := s.rptr[i]; k < s.rptr[i+1]; k++ {
				j := s.ridx[k]
				s.cidx[next[j]] = uint16(i - i0)
				s.cval[next[j]] = s.rval[k]
				next[j]++
			}
		}
	}
	b.Sparse = s
	return b
}

// CompressFor returns Compress(b) when m is a dense Network that uses compressed features
// (a first layer of at least 16 units), b otherwise.
func CompressFor(m Model, b Batch) Batch {
	if n, ok := m.(*Network); ok && n.usesSparse() {
		return Compress(b)
	}
	return b
}

// usesSparse reports whether n computes its first layer from compressed features: a first
// layer of at least sparseMinOut units.
func (n *Network) usesSparse() bool { return n.layers[0].Out >= sparseMinOut }

// Density returns the fraction of the features that are nonzero.
func (s *SparseFeatures) Density() float64 {
	r, c := s.x.Dims()
	return float64(len(s.rval)) / (float64(r) * float64(c))
}

// transposeInto writes the transpose of the r×c row-major matrix src into dst (c×r).
func transposeInto(dst, src []float64, r, c int) {
	for i := 0; i < r; i++ {
		for j, v := range src[i*c : (i+1)*c] {
			dst[j*r+i] = v
		}
	}
}

// spChunk is the compressed form of the current chunk of a batched call, with the
// transposed weight blocks and transposed gradient sums of its first layer.
type spChunk struct {
	f     *SparseFeatures
	x0    *float64 // the chunk's first feature in X: the compressed path serves only it
	rptr  []int32  // the chunk's rows (nr+1 offsets)
	cptr  []int32  // the chunk's columns (cols+1 offsets)
	trans []spT    // transposed first-layer blocks of this call's vectors
	nt    int
	sums  []spSum // transposed first-layer gradient sums of this call
	ns    int
}

// spT is the first-layer weight block of a vector (keyed by its first element), transposed
// to In×Out.
type spT struct {
	key *float64
	t   []float64
}

// spSum is the transposed first-layer weight block (In×Out) of a gradient sum dst, written
// into dst when the lane's chunks are done (a lane's sums start at its first chunk).
type spSum struct {
	dst []float64
	t   []float64
}

// spBegin makes the compressed features of b (if any, and if n uses them) the features of
// the lane's chunks; spEnd writes back the transposed sums and ends it. b has passed
// checkBatch (checkSparse) when the call began.
func (n *Network) spBegin(b Batch) {
	s := n.s
	s.sp.f = nil
	if b.Sparse == nil || !n.usesSparse() {
		return
	}
	s.sp.f, s.sp.nt, s.sp.ns = b.Sparse, 0, 0
}

// spChunkAt points the compressed path at the chunk of nr rows at row i0 (a multiple of
// chunkRows) whose features start at x.
func (n *Network) spChunkAt(i0, nr int, x []float64) {
	sp := &n.s.sp
	if sp.f == nil {
		return
	}
	_, c := sp.f.x.Dims()
	ch := i0 / chunkRows
	sp.x0 = &x[0]
	sp.rptr = sp.f.rptr[i0 : i0+nr+1]
	sp.cptr = sp.f.cptr[ch*(c+1) : (ch+1)*(c+1)]
}

func (n *Network) spEnd() {
	sp := &n.s.sp
	if sp.f == nil {
		return
	}
	ly := n.layers[0]
	for i := range sp.sums[:sp.ns] {
		e := &sp.sums[i]
		transposeInto(e.dst[ly.WeightOffset:ly.BiasOffset], e.t, ly.In, ly.Out)
		e.dst = nil // the caller's slice is not retained
	}
	for i := range sp.trans[:sp.nt] {
		sp.trans[i].key = nil
	}
	sp.f, sp.x0, sp.nt, sp.ns = nil, nil, 0, 0
}

// spActive reports whether the first layer's input in is the current chunk's compressed
// features.
func (n *Network) spActive(l int, in []float64) bool {
	sp := &n.s.sp
	return l == 0 && sp.f != nil && len(in) > 0 && &in[0] == sp.x0
}

// spTransposed returns the first-layer weight block of v transposed (In×Out), computed once
// per call.
func (n *Network) spTransposed(v []float64) []float64 {
	sp := &n.s.sp
	ly := n.layers[0]
	w := v[ly.WeightOffset:ly.BiasOffset]
	for _, e := range sp.trans[:sp.nt] {
		if e.key == &w[0] {
			return e.t
		}
	}
	if sp.nt == len(sp.trans) {
		sp.trans = append(sp.trans, spT{t: make([]float64, ly.In*ly.Out)})
	}
	e := &sp.trans[sp.nt]
	sp.nt++
	e.key = &w[0]
	transposeInto(e.t, w, ly.Out, ly.In)
	return e.t
}

// mulInput adds in·Bᵀ to z (nr × Out_l), in (leading dimension ldin) the input of layer l
// and B an Out_l × In_l weight block of layer l of the vector v (B = v's block): from the
// compressed features when in is the current chunk's.
func (n *Network) mulInput(l int, in []float64, ldin, nr int, v []float64, z []float64) {
	ly := n.layers[l]
	if n.spActive(l, in) {
		sp := &n.s.sp
		kernel.SparseGather(ly.Out, 1, sp.rptr, sp.f.ridx, sp.f.rval, n.spTransposed(v), ly.Out, z, ly.Out)
		return
	}
	w, _ := n.weights(v, l)
	n.s.g.Gemm(false, true, nr, ly.Out, ly.In, 1, in, ldin, w, ly.In, 1, z, ly.Out)
}

// sumInput sets layer l's weight block of dst to α dᵀ in + β·(the block) (β = 0 when
// overwrite, 1 otherwise), d nr × Out_l: into a transposed sum written back by spEnd when in
// is the current chunk's compressed features.
func (n *Network) sumInput(l int, dst []float64, alpha float64, d []float64, in []float64, ldin, nr int, overwrite bool) {
	ly := n.layers[l]
	if n.spActive(l, in) {
		sp := &n.s.sp
		gw := dst[ly.WeightOffset:ly.BiasOffset]
		var e *spSum
		for i := range sp.sums[:sp.ns] {
			if &sp.sums[i].dst[ly.WeightOffset] == &gw[0] {
				e = &sp.sums[i]
			}
		}
		if (e == nil) != overwrite {
			panic("model: a compressed gradient sum must start at the lane's first chunk")
		}
		if e == nil {
			if sp.ns == len(sp.sums) {
				sp.sums = append(sp.sums, spSum{t: make([]float64, ly.In*ly.Out)})
			}
			e = &sp.sums[sp.ns]
			sp.ns++
			e.dst = dst
			clear(e.t)
		}
		kernel.SparseGather(ly.Out, alpha, sp.cptr, sp.f.cidx, sp.f.cval, d, ly.Out, e.t, ly.Out)
		return
	}
	beta := 1.0
	if overwrite {
		beta = 0
	}
	gw, _ := n.weights(dst, l)
	n.s.g.Gemm(true, false, ly.Out, ly.In, nr, alpha, d, ly.Out, in, ldin, beta, gw, ly.In)
}

// checkSparse panics when b.Sparse does not describe b.X.
func checkSparse(method string, b Batch) {
	if b.Sparse != nil && b.Sparse.x != b.X {
		panic(fmt.Sprintf("model: %s: Batch.Sparse was not built from this batch's X (use Compress)", method))
	}
}
