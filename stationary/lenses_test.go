package stationary

import (
	"math"
	"testing"
)

func TestLenses(t *testing.T) {
	approx(t, "Mandt", MandtLearningRate(10, 500, 0.2), 2*10/(500*0.2), 1e-15)
	if !math.IsInf(MandtLearningRate(3, 10, 0), 1) {
		t.Error("Mandt with no noise should be +Inf")
	}
	approx(t, "Smith", SmithRegularizer(0.1, 2, 6), 0.1/4*8, 1e-15)
}
