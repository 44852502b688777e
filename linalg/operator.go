package linalg

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// SymOperator is a symmetric linear map on R^d known only through its products, such as a
// Hessian (Hessian–vector products) or a noise covariance (MATH.md §2).
type SymOperator interface {
	// Dim returns d.
	Dim() int
	// Apply writes A x into dst (both of length d). dst and x do not overlap.
	Apply(dst, x []float64)
}

// Factor is a d×M matrix U known through its products, the low-rank factor of a noise
// covariance C_B = κ U Uᵀ (MATH.md §2: U = (1/√N)[g_1 − ḡ, …]).
type Factor interface {
	// Rows returns d.
	Rows() int
	// Cols returns M.
	Cols() int
	// Mul writes U w into dst (length d); w has length M.
	Mul(dst, w []float64)
	// MulT writes Uᵀ u into dst (length M); u has length d.
	MulT(dst, u []float64)
	// Gram writes the M×M matrix UᵀU into dst (which must be empty or M×M).
	Gram(dst *mat.Dense)
}

// DenseFactor is a Factor that wraps a d×M dense matrix. The matrix is not copied and must
// not be modified while the DenseFactor is in use. Its methods are safe for concurrent use.
type DenseFactor struct {
	u blas64.General
}

// NewDenseFactor returns a Factor backed by u (d×M, not copied).
func NewDenseFactor(u *mat.Dense) *DenseFactor {
	if u.IsEmpty() {
		panic("linalg: empty factor matrix")
	}
	return &DenseFactor{u: u.RawMatrix()}
}

// Rows returns d.
func (f *DenseFactor) Rows() int { return f.u.Rows }

// Cols returns M.
func (f *DenseFactor) Cols() int { return f.u.Cols }

// Mul writes U w into dst.
func (f *DenseFactor) Mul(dst, w []float64) {
	if len(dst) != f.u.Rows || len(w) != f.u.Cols {
		panic("linalg: DenseFactor.Mul: length mismatch")
	}
	blas64.Gemv(blas.NoTrans, 1, f.u, blas64.Vector{N: len(w), Inc: 1, Data: w}, 0,
		blas64.Vector{N: len(dst), Inc: 1, Data: dst})
}

// MulT writes Uᵀ u into dst.
func (f *DenseFactor) MulT(dst, u []float64) {
	if len(dst) != f.u.Cols || len(u) != f.u.Rows {
		panic("linalg: DenseFactor.MulT: length mismatch")
	}
	blas64.Gemv(blas.Trans, 1, f.u, blas64.Vector{N: len(u), Inc: 1, Data: u}, 0,
		blas64.Vector{N: len(dst), Inc: 1, Data: dst})
}

// Gram writes UᵀU into dst.
func (f *DenseFactor) Gram(dst *mat.Dense) {
	m := f.u.Cols
	reuseDense(dst, m, m)
	raw := dst.RawMatrix()
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, f.u, f.u, 0, raw)
	// Gemm computes both triangles independently; make the result exactly symmetric.
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			raw.Data[j*raw.Stride+i] = raw.Data[i*raw.Stride+j]
		}
	}
}

// DenseOperator is the SymOperator of a dense symmetric matrix.
type DenseOperator struct {
	A mat.Symmetric
}

// Dim returns d.
func (o DenseOperator) Dim() int { return o.A.SymmetricDim() }

// Apply writes A x into dst.
func (o DenseOperator) Apply(dst, x []float64) {
	n := o.A.SymmetricDim()
	if len(dst) != n || len(x) != n {
		panic("linalg: DenseOperator.Apply: length mismatch")
	}
	mat.NewVecDense(n, dst).MulVec(o.A, mat.NewVecDense(n, x))
}

// FullSymOperator is the SymOperator of a symmetric matrix stored in full (both triangles,
// as a Gram matrix UᵀU is), applied as one dot product per row with the rows shared among
// GOMAXPROCS goroutines: a dense symmetric matrix–vector product is bound by memory
// bandwidth, which one core does not saturate. Each element of the result is the same dot
// product whatever the number of goroutines. The symmetry of A is not checked.
type FullSymOperator struct {
	A *mat.Dense
}

// Dim returns d.
func (o FullSymOperator) Dim() int { r, _ := o.A.Dims(); return r }

// Apply writes A x into dst.
func (o FullSymOperator) Apply(dst, x []float64) {
	r, c := o.A.Dims()
	if r != c || len(dst) != r || len(x) != r {
		panic("linalg: FullSymOperator.Apply: shape mismatch")
	}
	rows := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = floats.Dot(o.A.RawRowView(i), x)
		}
	}
	p := runtime.GOMAXPROCS(0)
	if p < 2 || r*c < 1<<16 {
		rows(0, r)
		return
	}
	var wg sync.WaitGroup
	step := (r + p - 1) / p
	for lo := step; lo < r; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			rows(lo, hi)
		}(lo, min(lo+step, r))
	}
	rows(0, min(step, r))
	wg.Wait()
}

// CovOperator is the SymOperator x ↦ κ U Uᵀ x of a noise covariance C_B = κ U Uᵀ given by
// its factor (MATH.md §2). Apply allocates an M-vector per call, so a CovOperator is safe for
// concurrent use when U is.
type CovOperator struct {
	U     Factor
	Kappa float64
}

// Dim returns d.
func (o CovOperator) Dim() int { return o.U.Rows() }

// Apply writes κ U (Uᵀ x) into dst (by MulMulT: in one pass when U can).
func (o CovOperator) Apply(dst, x []float64) {
	MulMulT(o.U, dst, make([]float64, o.U.Cols()), x, o.Kappa)
}

// FusedFactor is a Factor that applies U (s Uᵀ x) in one pass: a model's factor, whose
// MulT and Mul each make a forward and backward pass over its examples, shares one.
type FusedFactor interface {
	Factor
	// MulMulT writes w = s Uᵀx (length M, each element MulT's times s) and dst = U w
	// (length d), bitwise as MulT, the scaling and Mul.
	MulMulT(dst, w, x []float64, s float64)
}

// MulMulT writes w = s Uᵀx (length M) and dst = U w (length d), the product behind
// C x = κ U Uᵀ x (MATH.md §2): by u's MulMulT when it is a FusedFactor, by MulT, the
// scaling and Mul otherwise (the same bits either way).
func MulMulT(u Factor, dst, w, x []float64, s float64) {
	if f, ok := u.(FusedFactor); ok {
		f.MulMulT(dst, w, x, s)
		return
	}
	u.MulT(w, x)
	if s != 1 {
		for i := range w {
			w[i] *= s
		}
	}
	u.Mul(dst, w)
}

// reuseDense makes dst r×c, panicking if it is non-empty with other dimensions.
func reuseDense(dst *mat.Dense, r, c int) {
	if dst.IsEmpty() {
		dst.ReuseAs(r, c)
		return
	}
	if rr, cc := dst.Dims(); rr != r || cc != c {
		panic("linalg: destination has wrong shape")
	}
}
