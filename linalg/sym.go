package linalg

import "gonum.org/v1/gonum/mat"

func checkSquare(what string, d int, ms ...mat.Symmetric) {
	for _, m := range ms {
		if m != nil && m.SymmetricDim() != d {
			panic("linalg: " + what + ": matrix dimensions differ")
		}
	}
}

// symmetrizeInto writes (A + Aᵀ)/2 into dst (already n×n).
func symmetrizeInto(dst *mat.SymDense, a mat.Matrix) {
	n := dst.SymmetricDim()
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, 0.5*(a.At(i, j)+a.At(j, i)))
		}
	}
}
