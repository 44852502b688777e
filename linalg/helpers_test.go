package linalg

import (
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/testmat"
)

// The random matrices and comparisons linalg's tests share with stationary's.
var (
	newRand         = testmat.NewRand
	randDense       = testmat.Dense
	randVec         = testmat.Vec
	symWithSpectrum = testmat.SymWithSpectrum
	outerLoop       = testmat.OuterLoop
	relErr          = testmat.RelErr
	matVec          = testmat.MatVec
	approx          = testmat.Approx
)

func sym1(v float64) *mat.SymDense { return mat.NewSymDense(1, []float64{v}) }
