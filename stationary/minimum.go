package stationary

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// NullTol is the one relative tolerance of null-direction removal (ReduceNull) at a minimum:
// a direction has zero curvature when |λ| ≤ NullTol·max|λ(H)|, and zero noise when its noise
// is ≤ NullTol·λ_max(C_B). It is fixed (linalg.DefaultRCond, 1e-10) and independent of the
// rcond of the inverse of C_B, which only decides how C_B is inverted.
const NullTol = linalg.DefaultRCond

// SmallDim is the largest d for which the set-up at a minimum is built from dense d×d
// matrices (every positive-curvature direction, the "full" basis); above it a top-k Hessian
// subspace is used, and matrices in the parameter basis are written to .npy files rather than
// inline.
const SmallDim = 500

// Minimum is the set-up at a minimum θ* on which the Gaussian predictions are made (MATH.md
// §6): an orthonormal basis V of positive-curvature eigenvectors of H and the projected
// matrices H̃ = VᵀHV = diag(Curvatures) and C̃_B = VᵀC_BV.
type Minimum struct {
	// Basis is the d×k orthonormal basis V (columns in decreasing order of curvature).
	Basis *mat.Dense
	// Curvatures holds the k eigenvalues of H along Basis (decreasing).
	Curvatures []float64
	// H = VᵀHV and CB = VᵀC_BV (k×k).
	H, CB *mat.SymDense
	// Full reports whether Basis spans every direction of positive curvature (Dense); false
	// for a top-k subspace (TopK).
	Full bool
	// Null counts removed directions with zero curvature and zero noise (exact symmetries),
	// Flat dropped ones with zero curvature but noise, Negative dropped ones of negative
	// curvature.
	Null, Flat, Negative int
}

// Dense builds the set-up from the dense d×d Hessian h and noise covariance cb = C_B:
// ReduceNull(h, cb, NullTol). The result has Full set. It returns ReduceNull's warnings.
func Dense(h, cb mat.Symmetric) (*Minimum, []string, error) {
	red, warn, err := ReduceNull(h, cb, NullTol)
	if err != nil {
		return nil, warn, err
	}
	return fromReduction(red, red.Basis, true), warn, nil
}

// NoiseProjection writes C̃_B = VᵀC_BV (k×k, dst already k×k) for a d×k basis V.
type NoiseProjection func(dst *mat.SymDense, v *mat.Dense)

// TopK builds the set-up in the top-k eigenspace of the Hessian operator h: its k largest
// eigenpairs by Lanczos (on the random stream src), C̃_B = UᵀC_BU by noise on those
// eigenvectors U, then ReduceNull(diag(λ), C̃_B, NullTol) on the k×k pair, so that V = U·Q
// for ReduceNull's basis Q. k is capped at d. A Lanczos run that stops before converging is a
// warning (the values are approximate); any other Lanczos failure is an error.
func TopK(h linalg.SymOperator, k int, src rand.Source, noise NoiseProjection) (*Minimum, []string, error) {
	return TopKWith(h, k, src, noise, nil)
}

// TopKWith is TopK with the Lanczos settings set (nil: the defaults), e.g. a looser
// tolerance.
func TopKWith(h linalg.SymOperator, k int, src rand.Source, noise NoiseProjection, set *linalg.LanczosSettings) (*Minimum, []string, error) {
	if k < 1 {
		panic("stationary: TopK: need k ≥ 1")
	}
	d := h.Dim()
	k = min(k, d)
	vals := make([]float64, k)
	sub := mat.NewDense(d, k, nil)
	var warn []string
	if _, err := linalg.Lanczos(vals, sub, h, src, set); err != nil {
		var nc *linalg.NotConvergedError
		if !errors.As(err, &nc) {
			return nil, nil, fmt.Errorf("top-%d Hessian eigenvectors: %w", k, err)
		}
		warn = append(warn, fmt.Sprintf("Lanczos for the top eigenvalues of H stopped after %d steps before converging (relative residual %.2g): the values are approximate", nc.Iter, nc.Residual))
	}
	hk := mat.NewSymDense(k, nil)
	for i, v := range vals {
		hk.SetSym(i, i, v)
	}
	ck := mat.NewSymDense(k, nil)
	noise(ck, sub)
	red, w, err := ReduceNull(hk, ck, NullTol)
	warn = append(warn, w...)
	if err != nil {
		return nil, warn, err
	}
	basis := mat.NewDense(d, len(red.Curvatures), nil)
	basis.Mul(sub, red.Basis)
	return fromReduction(red, basis, false), warn, nil
}

func fromReduction(red Reduction, basis *mat.Dense, full bool) *Minimum {
	return &Minimum{Basis: basis, Curvatures: red.Curvatures, H: red.H, CB: red.C, Full: full,
		Null: red.Null, Flat: red.Flat, Negative: red.Negative}
}

// Unproject returns V S Vᵀ (d×d) for S (k×k) in the basis V (d×k), symmetrised.
func Unproject(s mat.Symmetric, v *mat.Dense) *mat.SymDense {
	var t, p mat.Dense
	t.Mul(v, s)
	p.Mul(&t, v.T())
	return symmetrize(&p)
}

// Project returns VᵀAV (k×k) for A (d×d) and the basis V (d×k), symmetrised.
func Project(a mat.Symmetric, v *mat.Dense) *mat.SymDense {
	var t, p mat.Dense
	t.Mul(a, v)
	p.Mul(v.T(), &t)
	return symmetrize(&p)
}

// symmetrize returns (P + Pᵀ)/2 of a square P, removing rounding asymmetry.
func symmetrize(p *mat.Dense) *mat.SymDense {
	n, _ := p.Dims()
	out := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			out.SetSym(i, j, 0.5*(p.At(i, j)+p.At(j, i)))
		}
	}
	return out
}
