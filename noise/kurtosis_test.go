package noise

import (
	"math"
	"math/rand/v2"
	"testing"
)

// enumerateKurtosis returns the excess kurtosis of the mini-batch mean by enumerating every
// batch: all B-subsets (without replacement) or all N^B ordered draws (with), each equally
// likely.
func enumerateKurtosis(z []float64, b int, with bool) float64 {
	n := len(z)
	var mean float64
	for _, v := range z {
		mean += v
	}
	mean /= float64(n)
	var cnt, s2, s4 float64
	idx := make([]int, b)
	var rec func(pos, start int)
	rec = func(pos, start int) {
		if pos == b {
			var m float64
			for _, i := range idx {
				m += z[i] - mean
			}
			m /= float64(b)
			cnt++
			s2 += m * m
			s4 += m * m * m * m
			return
		}
		lo := start
		if with {
			lo = 0
		}
		for i := lo; i < n; i++ {
			idx[pos] = i
			rec(pos+1, i+1)
		}
	}
	rec(0, 0)
	s2 /= cnt
	s4 /= cnt
	return s4/(s2*s2) - 3
}

// TestBatchMeanKurtosis checks the closed forms against enumeration of every batch, for
// skewed, heavy-tailed and symmetric populations of a few examples.
func TestBatchMeanKurtosis(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 6; trial++ {
		n := 5 + trial
		z := make([]float64, n)
		for i := range z {
			switch trial % 3 {
			case 0:
				z[i] = rnd.ExpFloat64()
			case 1:
				z[i] = rnd.NormFloat64() / (0.2 + rnd.Float64())
			default:
				z[i] = rnd.NormFloat64()
			}
		}
		m2, m4 := CentralMoments(z)
		for b := 1; b <= min(n-1, 5); b++ {
			for _, with := range []bool{false, true} {
				if with && b > 4 {
					continue // N^B batches
				}
				got := BatchMeanKurtosis(m2, m4, n, b, with)
				want := enumerateKurtosis(z, b, with)
				if math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
					t.Errorf("N = %d, B = %d, with = %v: %.12g, enumeration %.12g", n, b, with, got, want)
				}
			}
		}
		// B = 1 is one example either way: the population's own excess kurtosis.
		if a, w := BatchMeanKurtosis(m2, m4, n, 1, false), m4/(m2*m2)-3; math.Abs(a-w) > 1e-12*max(1, math.Abs(w)) {
			t.Errorf("B = 1 without replacement: %g, want %g", a, w)
		}
		if k := BatchMeanKurtosis(m2, m4, n, n, false); !math.IsNaN(k) {
			t.Errorf("B = N without replacement: %g, want NaN (no noise)", k)
		}
	}
}
