package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// The products below materialise the per-example gradients of each chunk (cnnChunk × d)
// and then take plain dots and sums of them: exact, not yet the factorised products of
// Network (a later step).

// gradRows computes the per-example gradients of the chunk at row i0 into the scratch
// matrix and returns it (nr rows of stride d).
func (m *ConvNet) gradRows(theta []float64, b Batch, i0, nr int) blas64.General {
	s := m.cs
	s.pg = kernel.GrowBuf(s.pg, cnnChunk*m.d)
	P := blas64.General{Rows: nr, Cols: m.d, Stride: m.d, Data: s.pg}
	X := b.X.RawMatrix()
	feat, ldf := m.forward(theta, X.Data[i0*X.Stride:], X.Stride, nr)
	m.tail.evalHead(b.Y[i0:i0+nr], nr, i0, headGrad)
	m.backward(theta, nr)
	m.perExampleRows(P, 0, nr, feat, ldf, s.dout, m.tail.s.del)
	return P
}

// GradDot writes (g_i·u)_i into dst (length n).
func (m *ConvNet) GradDot(dst, theta []float64, b Batch, u []float64) {
	nb := m.checkBatch("GradDot", theta, b)
	checkLen("GradDot", "dst", len(dst), nb)
	checkLen("GradDot", "u", len(u), m.d)
	m.ensure(min(nb, cnnChunk))
	for i0 := 0; i0 < nb; i0 += cnnChunk {
		nr := min(cnnChunk, nb-i0)
		P := m.gradRows(theta, b, i0, nr)
		for i := 0; i < nr; i++ {
			dst[i0+i] = kernel.Dot(P.Data[i*m.d:(i+1)*m.d], u)
		}
	}
}

// GradSum writes Σ_i w_i g_i into dst (length d).
func (m *ConvNet) GradSum(dst, theta []float64, b Batch, w []float64) {
	nb := m.checkBatch("GradSum", theta, b)
	checkLen("GradSum", "dst", len(dst), m.d)
	checkLen("GradSum", "w", len(w), nb)
	m.gradDotSum(dst, nil, theta, b, nil, w, 0, 0, 0)
}

// GradDotSum writes w_i = β (α (g_i·u − μ)) into w and Σ_i w_i g_i into dst, as
// GradDot, the weights and GradSum (bitwise), in one pass. With α = 1/n, β = 1, μ = ḡ·u it
// is the covariance product C u (MATH.md §2).
func (m *ConvNet) GradDotSum(dst, w, theta []float64, b Batch, u []float64, mu, alpha, beta float64) {
	nb := m.checkBatch("GradDotSum", theta, b)
	checkLen("GradDotSum", "dst", len(dst), m.d)
	checkLen("GradDotSum", "w", len(w), nb)
	checkLen("GradDotSum", "u", len(u), m.d)
	m.gradDotSum(dst, w, theta, b, u, nil, mu, alpha, beta)
}

// gradDotSum: with u, the weights from the dots (into wOut); without, the given weights w.
func (m *ConvNet) gradDotSum(dst, wOut, theta []float64, b Batch, u, w []float64, mu, alpha, beta float64) {
	nb := b.Len()
	m.ensure(min(nb, cnnChunk))
	for i0 := 0; i0 < nb; i0 += cnnChunk {
		nr := min(cnnChunk, nb-i0)
		P := m.gradRows(theta, b, i0, nr)
		var wc []float64
		if u != nil {
			wc = wOut[i0 : i0+nr]
			for i := range wc {
				wc[i] = kernel.Dot(P.Data[i*m.d:(i+1)*m.d], u)
			}
			covWeights(wc, mu, alpha, beta)
		} else {
			wc = w[i0 : i0+nr]
		}
		bt := 1.0
		if i0 == 0 {
			bt = 0
		}
		m.cs.g.Gemm(true, false, 1, m.d, nr, 1, wc, 1, P.Data, m.d, bt, dst, m.d)
	}
}

// Gram writes G_ij = g_i·g_j into dst (an empty dst is sized) from the materialised
// per-example gradients (n × d, held for the call), as the lower triangle mirrored.
func (m *ConvNet) Gram(dst *mat.Dense, theta []float64, b Batch) {
	nb := m.checkBatch("Gram", theta, b)
	D := prepDense("Gram", "dst", dst, nb, nb)
	var G mat.Dense
	m.PerExampleGrads(&G, theta, b)
	R := G.RawMatrix()
	m.cs.g.SyrkLower(nb, m.d, 1, R.Data, R.Stride, 0, D.Data, D.Stride)
	mirrorLower(D)
}

// HessVec is not implemented yet for ConvNet: it panics.
func (m *ConvNet) HessVec(dst, theta []float64, b Batch, v []float64) {
	panic(fmt.Sprintf("model: %s: HessVec is not implemented yet for cnn models", m.name))
}

// PerExampleHessVec is not implemented yet for ConvNet: it panics.
func (m *ConvNet) PerExampleHessVec(dst *mat.Dense, theta []float64, b Batch, V *mat.Dense) {
	panic(fmt.Sprintf("model: %s: PerExampleHessVec is not implemented yet for cnn models", m.name))
}

var _ Model = (*ConvNet)(nil)
