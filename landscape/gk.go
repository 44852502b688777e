package landscape

import (
	"container/heap"
	"math"

	"gonum.org/v1/gonum/mat"
)

// The 15-point Kronrod rule and its embedded 7-point Gauss rule on [−1, 1] (Piessens et al.,
// QUADPACK, qk15). gkNodes are in increasing order; gaussAt[j] is the Gauss weight of node j
// (0 for the Kronrod-only nodes).
var (
	gkNodes   [15]float64
	gkWeights [15]float64
	gaussAt   [15]float64
	// gkCum[j][k] integrates the degree-14 interpolant of f through the 15 nodes from −1 to
	// node j: ∫_{−1}^{x_j} p(t) dt = Σ_k gkCum[j][k] f(x_k). Its rows are exact for
	// polynomials of degree ≤ 14.
	gkCum [15][15]float64
)

func init() {
	xgk := [8]float64{
		0.991455371120812639206854697526329,
		0.949107912342758524526189684047851,
		0.864864423359769072789712788640926,
		0.741531185599394439863864773280788,
		0.586087235467691130294144845693013,
		0.405845151377397166906606412076961,
		0.207784955007898467600689403773245,
		0,
	}
	wgk := [8]float64{
		0.022935322010529224963732008058970,
		0.063092092629978553290700663189204,
		0.104790010322250183839876322541518,
		0.140653259715525918745189590510238,
		0.169004726639267902826583426598550,
		0.190350578064785409913256402421014,
		0.204432940075298892414161999234649,
		0.209482141084727828012999174891714,
	}
	wg := [4]float64{ // Gauss weights of xgk[1], xgk[3], xgk[5], xgk[7]
		0.129484966168869693270611432679082,
		0.279705391489276667901467771423780,
		0.381830050505118944950369775488975,
		0.417959183673469387755102040816327,
	}
	for i := range 8 {
		gkNodes[i], gkWeights[i] = -xgk[i], wgk[i]
		gkNodes[14-i], gkWeights[14-i] = xgk[i], wgk[i]
		if i%2 == 1 {
			gaussAt[i], gaussAt[14-i] = wg[i/2], wg[i/2]
		}
	}
	// Integration matrix in the Legendre basis: V_kn = P_n(x_k), W_jn = ∫_{−1}^{x_j} P_n,
	// gkCum = W V⁻¹.
	const n = 15
	v := mat.NewDense(n, n, nil)
	w := mat.NewDense(n, n, nil)
	p := make([]float64, n+1)
	for k, x := range gkNodes {
		legendre(p, x)
		for m := range n {
			v.Set(k, m, p[m])
			if m == 0 {
				w.Set(k, m, x+1)
			} else {
				// ∫_{−1}^{x} P_m = (P_{m+1}(x) − P_{m−1}(x)) / (2m + 1).
				w.Set(k, m, (p[m+1]-p[m-1])/float64(2*m+1))
			}
		}
	}
	var vinv mat.Dense
	if err := vinv.Inverse(v); err != nil {
		panic("landscape: Legendre–Vandermonde matrix is singular: " + err.Error())
	}
	var c mat.Dense
	c.Mul(w, &vinv)
	for j := range n {
		for k := range n {
			gkCum[j][k] = c.At(j, k)
		}
	}
}

// legendre writes P_0(x) … P_{len(p)−1}(x) into p (three-term recurrence).
func legendre(p []float64, x float64) {
	p[0] = 1
	if len(p) > 1 {
		p[1] = x
	}
	for m := 1; m+1 < len(p); m++ {
		p[m+1] = (float64(2*m+1)*x*p[m] - float64(m)*p[m-1]) / float64(m+1)
	}
}

// gk15 applies the Kronrod and Gauss rules to f on [a, b] and returns the Kronrod value and
// the error estimate |K15 − G7|.
func gk15(f func(float64) float64, a, b float64) (val, errEst float64) {
	c, h := (a+b)/2, (b-a)/2
	var k, g float64
	for j, x := range gkNodes {
		fx := f(c + h*x)
		k += gkWeights[j] * fx
		g += gaussAt[j] * fx
	}
	return k * h, math.Abs((k - g) * h)
}

// Integrate returns ∫_a^b f by globally adaptive Gauss–Kronrod quadrature (15-point Kronrod
// rule with its embedded 7-point Gauss rule as the error estimate, QUADPACK's qag strategy):
// the interval with the largest error estimate is bisected until the summed estimate is at
// most max(absTol, relTol·|∫f|) or maxIntervals intervals are in use. It returns the value,
// the final error estimate, and whether the tolerance was met. a > b is allowed (the sign
// flips); f must be finite on [a, b].
func Integrate(f func(float64) float64, a, b, absTol, relTol float64, maxIntervals int) (val, errEst float64, ok bool) {
	if a == b {
		return 0, 0, true
	}
	sign := 1.0
	if a > b {
		a, b, sign = b, a, -1
	}
	if maxIntervals < 1 {
		maxIntervals = 1
	}
	v, e := gk15(f, a, b)
	h := &ivHeap{{a, b, v, e}}
	total, totalErr := v, e
	for h.Len() < maxIntervals && totalErr > math.Max(absTol, relTol*math.Abs(total)) {
		iv := heap.Pop(h).(interval)
		m := (iv.a + iv.b) / 2
		if m <= iv.a || m >= iv.b { // cannot bisect further
			heap.Push(h, iv)
			break
		}
		v1, e1 := gk15(f, iv.a, m)
		v2, e2 := gk15(f, m, iv.b)
		heap.Push(h, interval{iv.a, m, v1, e1})
		heap.Push(h, interval{m, iv.b, v2, e2})
		total, totalErr = 0, 0
		for _, x := range *h { // resum to avoid drift
			total += x.val
			totalErr += x.err
		}
	}
	return sign * total, totalErr, totalErr <= math.Max(absTol, relTol*math.Abs(total))
}

type interval struct{ a, b, val, err float64 }

type ivHeap []interval

func (h ivHeap) Len() int           { return len(h) }
func (h ivHeap) Less(i, j int) bool { return h[i].err > h[j].err }
func (h ivHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *ivHeap) Push(x any)        { *h = append(*h, x.(interval)) }
func (h *ivHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
