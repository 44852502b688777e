package model

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// PerExampleGradNorms writes the Euclidean norms ‖g_i‖ of the per-example gradients into dst
// (length n) without materialising the g_i: a layer's block of g_i is the outer product
// Δ_{l,i} [A_{l−1,i}; 1]ᵀ, whose squared Frobenius norm is ‖Δ_{l,i}‖² (‖A_{l−1,i}‖² + 1),
// so ‖g_i‖² = Σ_l ‖Δ_{l,i}‖² (‖A_{l−1,i}‖² + 1) (the factorisation of BackPACK's BatchL2Grad;
// docs/MATH.md §2, round-off floor). One forward and backward pass and O(n Σ_l (In_l + Out_l)) flops instead
// of the n·d of PerExampleGrads. The values equal the norms of PerExampleGrads' rows to
// rounding (not bitwise: the sums are ordered differently).
func (n *Network) PerExampleGradNorms(dst, theta []float64, b Batch) {
	nb := n.checkBatch("PerExampleGradNorms", theta, b)
	checkLen("PerExampleGradNorms", "dst", len(dst), nb)
	s := n.ensure(min(nb, chunkRows))
	X := b.X.RawMatrix()
	for i0 := 0; i0 < nb; i0 += chunkRows {
		nr := min(chunkRows, nb-i0)
		x := n.gradChunk(theta, X, b.Y, i0, nr)
		out := dst[i0 : i0+nr]
		clear(out)
		for l, ly := range n.layers {
			in, ldin := n.input(l, x, X.Stride)
			del := s.del[l]
			for i := range out {
				e, a := del[i*ly.Out:(i+1)*ly.Out], in[i*ldin:i*ldin+ly.In]
				out[i] += floats.Dot(e, e) * (floats.Dot(a, a) + 1)
			}
		}
		for i, v := range out {
			out[i] = math.Sqrt(v)
		}
	}
}
