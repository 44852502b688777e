package score

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
	"github.com/sgdprior/sgdprior/linalg"
)

// cholWoodbury is the damped inverse (κUUᵀ + λI)⁻¹ of a low-rank noise covariance
// C_B = κUUᵀ (U a d×M Factor) by the Woodbury identity (MATH.md §2, §4)
//
//	(λI + κUUᵀ)⁻¹ b = (1/λ) [b − U (λ/κ I_M + UᵀU)⁻¹ Uᵀ b],
//
// with the M×M system solved by a Cholesky factorisation. It is linalg.WoodburyInverse's
// damped branch without the eigendecomposition of the Gram matrix, whose O(M³) constant is
// ~20 times larger (minutes for M in the thousands); the spectrum is found separately (by
// Lanczos on the Gram matrix). It implements linalg.Inverse. Accuracy: as for
// linalg.WoodburyInverse, the part of the solution inside the range of C_B carries an
// absolute error of order ε‖b‖/λ.
type cholWoodbury struct {
	u       linalg.Factor
	d, m    int
	damping float64
	r       blas64.Triangular // the upper Cholesky factor R of λ/κ I + UᵀU
}

// newCholWoodbury factorises λ/κ I + G for the Gram matrix g = UᵀU (M×M), in place in work
// (M² floats; allocated when nil or short), which the inverse keeps. g is not modified unless
// work is g's own storage (stride M): then its upper triangle becomes the factor and its
// strictly lower triangle is kept (only the upper triangle is read and written).
func newCholWoodbury(u linalg.Factor, g *mat.Dense, kappa, damping float64, work []float64) (*cholWoodbury, error) {
	if !(damping > 0) {
		panic("score: cholWoodbury needs damping > 0")
	}
	m := u.Cols()
	if len(work) < m*m {
		work = make([]float64, m*m)
	}
	a := work[:m*m]
	for i := 0; i < m; i++ {
		copy(a[i*m+i:(i+1)*m], g.RawRowView(i)[i:])
		a[i*m+i] += damping / kappa
	}
	w := &cholWoodbury{u: u, d: u.Rows(), m: m, damping: damping}
	sym := blas64.Symmetric{Uplo: blas.Upper, N: m, Stride: m, Data: a}
	r, ok := lapack64.Potrf(sym)
	if !ok {
		return nil, fmt.Errorf("score: Cholesky factorisation of λ/κ I + UᵀU failed (damping %g too small for the Gram matrix's rounding errors)", damping)
	}
	w.r = r
	return w, nil
}

func (w *cholWoodbury) Dim() int { return w.d }

// Rank returns d: the damped matrix has full rank.
func (w *cholWoodbury) Rank() int { return w.d }

// RangeFraction returns 0: a damped inverse uses the whole space.
func (w *cholWoodbury) RangeFraction(b []float64) float64 {
	if len(b) != w.d {
		panic("score: cholWoodbury.RangeFraction: length mismatch")
	}
	return 0
}

// Solve writes (κUUᵀ + λI)⁻¹ b into dst. dst and b may be the same slice.
func (w *cholWoodbury) Solve(dst, b []float64) error {
	if len(dst) != w.d || len(b) != w.d {
		panic("score: cholWoodbury.Solve: length mismatch")
	}
	z := make([]float64, w.m)
	w.u.MulT(z, b)
	// (λ/κ I + UᵀU) = RᵀR: solve Rᵀy = z, then R x = y (triangular solves; Potrs through
	// Dtrsm is ~10 times slower for one right-hand side).
	vz := blas64.Vector{N: w.m, Inc: 1, Data: z}
	blas64.Trsv(blas.Trans, w.r, vz)
	blas64.Trsv(blas.NoTrans, w.r, vz)
	t := make([]float64, w.d)
	w.u.Mul(t, z)
	for i := range dst {
		dst[i] = (b[i] - t[i]) / w.damping
	}
	return nil
}

// SolveMany writes (κUUᵀ + λI)⁻¹ b[j] into dst[j] for every j, as Solve does one at a time,
// with the two triangular systems of all right-hand sides solved together (blocked Dtrsm
// instead of one Dtrsv per vector). dst[j] and b[j] may be the same slice.
func (w *cholWoodbury) SolveMany(dst, b [][]float64) error {
	n := len(b)
	if len(dst) != n {
		panic("score: cholWoodbury.SolveMany: length mismatch")
	}
	if n == 0 {
		return nil
	}
	z := make([]float64, w.m)
	zs := blas64.General{Rows: w.m, Cols: n, Stride: n, Data: make([]float64, w.m*n)}
	for j := range b {
		if len(b[j]) != w.d || len(dst[j]) != w.d {
			panic("score: cholWoodbury.SolveMany: length mismatch")
		}
		w.u.MulT(z, b[j])
		for i, v := range z {
			zs.Data[i*n+j] = v
		}
	}
	// (λ/κ I + UᵀU) = RᵀR: Rᵀ Y = Z, then R X = Y, for all columns at once (blocked, on
	// both cores: kernel.TrsmLeft).
	kernel.TrsmLeft(blas.Upper, blas.Trans, blas.NonUnit, w.m, n, 1, w.r.Data, w.r.Stride, zs.Data, zs.Stride)
	kernel.TrsmLeft(blas.Upper, blas.NoTrans, blas.NonUnit, w.m, n, 1, w.r.Data, w.r.Stride, zs.Data, zs.Stride)
	t := make([]float64, w.d)
	for j := range b {
		for i := range z {
			z[i] = zs.Data[i*n+j]
		}
		w.u.Mul(t, z)
		for i := range t {
			dst[j][i] = (b[j][i] - t[i]) / w.damping
		}
	}
	return nil
}

// solveMany applies inv to every b[j] (into dst[j]): in one blocked solve when inv is a
// cholWoodbury, by lock-step CG runs sharing the blocked preconditioner when it is a
// pcgInverse, else one Solve per vector. It stops at the first error.
func solveMany(inv linalg.Inverse, dst, b [][]float64) error {
	switch w := inv.(type) {
	case *cholWoodbury:
		return w.SolveMany(dst, b)
	case *pcgInverse:
		return w.SolveMany(dst, b)
	}
	for j := range b {
		if err := inv.Solve(dst[j], b[j]); err != nil {
			return err
		}
	}
	return nil
}
