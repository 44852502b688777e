package basins

import (
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level of every interval basins reports.
const Level = 0.95

// Ranks returns the ranks 1…n of x, ties given the mean of the ranks they span (the
// "fractional" ranking of Spearman's coefficient, MATH.md §13).
func Ranks(x []float64) []float64 {
	n := len(x)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// Spearman returns Spearman's rank correlation ρ of x and y: the Pearson correlation of
// their ranks (ties at mean ranks), MATH.md §13. It is NaN for fewer than two pairs or when
// either variable is constant.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) || len(x) < 2 {
		return math.NaN()
	}
	return pearson(Ranks(x), Ranks(y))
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	mx, my := 0.0, 0.0
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	sxy, sxx, syy := 0.0, 0.0, 0.0
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// ClusterBootstrapSpearman returns Spearman's ρ of (x, y) and its percentile bootstrap
// interval at Level over clusters (MATH.md §13): each of reps resamples draws the clusters
// (seeds) with replacement from rng and keeps all pairs of a drawn cluster together, so the
// dependence of the cells sharing an initialisation is respected. cluster[i] ∈ [0, nc) is
// the cluster of pair i. Resamples whose ρ is undefined (constant ranks) are dropped; valid
// counts those kept. The interval is NaN when fewer than half are valid.
func ClusterBootstrapSpearman(x, y []float64, cluster []int, nc, reps int, rng *rand.Rand) (rho, lo, hi float64, valid int) {
	rho = Spearman(x, y)
	members := make([][]int, nc)
	for i, c := range cluster {
		members[c] = append(members[c], i)
	}
	boots := make([]float64, 0, reps)
	bx, by := make([]float64, 0, len(x)), make([]float64, 0, len(y))
	for range reps {
		bx, by = bx[:0], by[:0]
		for range nc {
			for _, i := range members[rng.IntN(nc)] {
				bx = append(bx, x[i])
				by = append(by, y[i])
			}
		}
		if r := Spearman(bx, by); !math.IsNaN(r) {
			boots = append(boots, r)
		}
	}
	valid = len(boots)
	if 2*valid < reps {
		return rho, math.NaN(), math.NaN(), valid
	}
	sort.Float64s(boots)
	a := (1 - Level) / 2
	return rho, quantileSorted(boots, a), quantileSorted(boots, 1-a), valid
}

// quantileSorted is the linear-interpolation quantile (type 7) of sorted values.
func quantileSorted(s []float64, p float64) float64 {
	h := p * float64(len(s)-1)
	i := int(math.Floor(h))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}

// PairedDiff is the paired comparison of two arms over seeds: the mean of the differences
// d_s = a_s − b_s, its standard error s_d/√n and the Student-t interval at Level with n − 1
// degrees of freedom (MATH.md §13).
type PairedDiff struct {
	N      int
	Mean   float64
	Stderr float64
	Low    float64
	High   float64
}

// PairedT computes the paired difference of a and b (same length, one entry per seed;
// pairs with a NaN are dropped).
func PairedT(a, b []float64) PairedDiff {
	var d []float64
	for i := range a {
		if x := a[i] - b[i]; !math.IsNaN(x) {
			d = append(d, x)
		}
	}
	m, se := meanStderr(d)
	out := PairedDiff{N: len(d), Mean: m, Stderr: se, Low: math.NaN(), High: math.NaN()}
	if len(d) >= 2 {
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(d) - 1)}.Quantile(1 - (1-Level)/2)
		out.Low, out.High = m-t*se, m+t*se
	}
	return out
}
