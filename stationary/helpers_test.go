package stationary

import (
	"strings"

	"github.com/sgdprior/sgdprior/internal/testmat"
)

// The random matrices and comparisons stationary's tests share with linalg's.
var (
	newRand         = testmat.NewRand
	randDense       = testmat.Dense
	randVec         = testmat.Vec
	randOrth        = testmat.Orth
	symWithSpectrum = testmat.SymWithSpectrum
	outerLoop       = testmat.OuterLoop
	relErrMat       = testmat.RelErrMat
	approx          = testmat.Approx
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }
