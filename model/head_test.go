package model

import (
	"math"
	"testing"
)

// TestCategoricalHeadMax checks the categorical head's row maximum on logits with ±Inf, NaN
// and signed zeros: the loss and Δ bitwise those of the head with m = the fold of math.Max
// over the row, the definition its code replaces (NaN results compared as NaN).
func TestCategoricalHeadMax(t *testing.T) {
	inf, nan, negz := math.Inf(1), math.NaN(), math.Copysign(0, -1)
	rows := [][]float64{
		{1, 2, 3},
		{negz, 0, -1},
		{0, negz, -1},
		{negz, negz, -2},
		{nan, 1, 2},
		{1, nan, inf},
		{inf, nan, 1},
		{-inf, -inf, -inf},
		{inf, inf, 0},
		{-inf, 3, -inf},
		{nan, nan, nan},
		{-5, -1e300, 1e-300},
	}
	const K = 3
	net, err := NewNetwork("softmax", 1, K, Options{})
	if err != nil {
		t.Fatal(err)
	}
	nr := len(rows)
	s := net.ensure(nr)
	y := make([]float64, nr)
	for i, r := range rows {
		copy(s.out[i*K:], r)
		y[i] = float64(i % K)
	}
	net.evalHead(y, nr, 0, headLoss|headGrad)
	same := func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) || (a != a && b != b) }
	for i, z := range rows {
		m := math.Inf(-1)
		for _, v := range z {
			m = math.Max(m, v)
		}
		e := make([]float64, K)
		var sum float64
		for j, v := range z {
			e[j] = math.Exp(v - m)
			sum += e[j]
		}
		k := int(y[i])
		loss := m + math.Log(sum) - z[k]
		if !same(s.loss[i], loss) {
			t.Errorf("row %v: loss %v, want %v (max %v)", z, s.loss[i], loss, m)
		}
		for j := range z {
			d := e[j] * (1 / sum)
			if j == k {
				d -= 1
			}
			if got := s.del[0][i*K+j]; !same(got, d) && !(math.Abs(got-d) <= 1e-15) {
				t.Errorf("row %v: Δ[%d] = %v, want %v (max %v)", z, j, got, d, m)
			}
		}
	}
}
