package sim

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// quadratic is a test Problem whose every quantity is known in closed form:
// ℓ_i(θ) = ½θᵀHθ + a_iᵀθ, r(θ) = (λ/2)‖θ‖², so g_i = Hθ + a_i, ∇L = (H + λI)θ + ā and
// C(θ) = (1/N) Σ (a_i − ā)(a_i − ā)ᵀ for every θ.
type quadratic struct {
	h      *mat.SymDense // d×d
	a      [][]float64   // N vectors of length d
	lambda float64
	hook   func(idx []int)
}

func (q *quadratic) Dim() int         { return q.h.SymmetricDim() }
func (q *quadratic) NumExamples() int { return len(q.a) }

func (q *quadratic) hTheta(dst, theta []float64) {
	d := q.Dim()
	for i := range d {
		var s float64
		for j := range d {
			s += q.h.At(i, j) * theta[j]
		}
		dst[i] = s
	}
}

func (q *quadratic) MiniBatchGrad(dst, theta []float64, idx []int) {
	if q.hook != nil {
		q.hook(idx)
	}
	q.hTheta(dst, theta)
	inv := 1 / float64(len(idx))
	for _, i := range idx {
		for j, v := range q.a[i] {
			dst[j] += inv * v
		}
	}
	q.RegGrad(dst, theta)
}

func (q *quadratic) WeightedGrad(dst, theta []float64, w []float64) {
	if len(w) != len(q.a) {
		panic("quadratic: len(w)")
	}
	var sw float64
	for _, v := range w {
		sw += v
	}
	q.hTheta(dst, theta)
	for j := range dst {
		dst[j] *= sw
	}
	for i, wi := range w {
		for j, v := range q.a[i] {
			dst[j] += wi * v
		}
	}
}

func (q *quadratic) RegGrad(dst, theta []float64) {
	for j, t := range theta {
		dst[j] += q.lambda * t
	}
}

func (q *quadratic) Loss(theta []float64) float64 {
	d := q.Dim()
	ht := make([]float64, d)
	q.hTheta(ht, theta)
	var l float64
	for j := range d {
		l += 0.5 * theta[j] * ht[j]
	}
	abar := make([]float64, d)
	for _, a := range q.a {
		for j, v := range a {
			abar[j] += v / float64(len(q.a))
		}
	}
	for j := range d {
		l += abar[j]*theta[j] + q.lambda/2*theta[j]*theta[j]
	}
	return l
}

func (q *quadratic) Clone() Problem {
	c := *q
	return &c
}

// noiseCov returns C = (1/N) Σ (a_i − ā)(a_i − ā)ᵀ.
func (q *quadratic) noiseCov() *mat.SymDense {
	d, n := q.Dim(), len(q.a)
	abar := make([]float64, d)
	for _, a := range q.a {
		for j, v := range a {
			abar[j] += v / float64(n)
		}
	}
	c := mat.NewSymDense(d, nil)
	for _, a := range q.a {
		for i := range d {
			for j := i; j < d; j++ {
				c.SetSym(i, j, c.At(i, j)+(a[i]-abar[i])*(a[j]-abar[j])/float64(n))
			}
		}
	}
	return c
}

// newQuadratic1D returns ℓ_i = ½hθ² + a_iθ with N offsets of mean exactly 0 and population
// variance exactly v.
func newQuadratic1D(h, v float64, n int, seed uint64) *quadratic {
	rng := rand.New(rand.NewPCG(seed, 99))
	raw := make([]float64, n)
	var m float64
	for i := range raw {
		raw[i] = rng.NormFloat64()
		m += raw[i] / float64(n)
	}
	var ss float64
	for i := range raw {
		raw[i] -= m
		ss += raw[i] * raw[i] / float64(n)
	}
	a := make([][]float64, n)
	for i := range a {
		a[i] = []float64{raw[i] * math.Sqrt(v/ss)}
	}
	return &quadratic{h: mat.NewSymDense(1, []float64{h}), a: a}
}

// linreg is a test Problem with θ-dependent noise: ℓ_i = ½(x_iᵀθ − y_i)², g_i = x_i ρ_i with
// residual ρ_i = x_iᵀθ − y_i.
type linreg struct {
	x [][]float64
	y []float64
}

func newLinreg(n, d int, seed uint64) *linreg {
	rng := rand.New(rand.NewPCG(seed, 7))
	l := &linreg{x: make([][]float64, n), y: make([]float64, n)}
	for i := range n {
		l.x[i] = make([]float64, d)
		for j := range d {
			l.x[i][j] = rng.NormFloat64()
		}
		l.y[i] = l.x[i][0] - 0.5*l.x[i][d-1] + rng.NormFloat64()
	}
	return l
}

func (l *linreg) Dim() int         { return len(l.x[0]) }
func (l *linreg) NumExamples() int { return len(l.x) }
func (l *linreg) resid(i int, theta []float64) float64 {
	var s float64
	for j, v := range l.x[i] {
		s += v * theta[j]
	}
	return s - l.y[i]
}

// grad writes g_i into dst.
func (l *linreg) grad(dst []float64, i int, theta []float64) {
	r := l.resid(i, theta)
	for j, v := range l.x[i] {
		dst[j] = r * v
	}
}

func (l *linreg) MiniBatchGrad(dst, theta []float64, idx []int) {
	for j := range dst {
		dst[j] = 0
	}
	for _, i := range idx {
		r := l.resid(i, theta) / float64(len(idx))
		for j, v := range l.x[i] {
			dst[j] += r * v
		}
	}
}

func (l *linreg) WeightedGrad(dst, theta []float64, w []float64) {
	for j := range dst {
		dst[j] = 0
	}
	for i := range l.x {
		r := l.resid(i, theta) * w[i]
		for j, v := range l.x[i] {
			dst[j] += r * v
		}
	}
}

func (l *linreg) RegGrad(dst, theta []float64) {}

func (l *linreg) Loss(theta []float64) float64 {
	var s float64
	for i := range l.x {
		r := l.resid(i, theta)
		s += r * r / 2
	}
	return s / float64(len(l.x))
}

func (l *linreg) Clone() Problem { return l }

// gradCov returns the exact mean gradient and C(θ) = (1/N) Σ (g_i − ḡ)(g_i − ḡ)ᵀ.
func (l *linreg) gradCov(theta []float64) ([]float64, *mat.SymDense) {
	d, n := l.Dim(), l.NumExamples()
	g := make([][]float64, n)
	mean := make([]float64, d)
	for i := range n {
		g[i] = make([]float64, d)
		l.grad(g[i], i, theta)
		for j := range d {
			mean[j] += g[i][j] / float64(n)
		}
	}
	c := mat.NewSymDense(d, nil)
	for i := range n {
		for a := range d {
			for b := a; b < d; b++ {
				c.SetSym(a, b, c.At(a, b)+(g[i][a]-mean[a])*(g[i][b]-mean[b])/float64(n))
			}
		}
	}
	return mean, c
}

func TestTestProblemsAgainstFiniteDifferences(t *testing.T) {
	// The closed forms the simulator tests rely on: ∇L by central differences of Loss.
	q := &quadratic{h: mat.NewSymDense(2, []float64{2, 0.5, 0.5, 1}), a: [][]float64{{1, -2}, {0.5, 3}, {-1, 0}}, lambda: 0.3}
	lr := newLinreg(7, 3, 1)
	for _, p := range []Problem{q, lr} {
		d, n := p.Dim(), p.NumExamples()
		theta := make([]float64, d)
		for j := range theta {
			theta[j] = 0.3*float64(j) - 0.2
		}
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		g := make([]float64, d)
		p.MiniBatchGrad(g, theta, all)
		w := make([]float64, n)
		for i := range w {
			w[i] = 1 / float64(n)
		}
		g2 := make([]float64, d)
		p.WeightedGrad(g2, theta, w)
		p.RegGrad(g2, theta)
		for j := range d {
			const eps = 1e-5
			tp := append([]float64(nil), theta...)
			tm := append([]float64(nil), theta...)
			tp[j] += eps
			tm[j] -= eps
			fd := (p.Loss(tp) - p.Loss(tm)) / (2 * eps)
			if math.Abs(fd-g[j]) > 1e-7 || math.Abs(fd-g2[j]) > 1e-7 {
				t.Errorf("%T: ∂L/∂θ_%d: MiniBatchGrad %v, WeightedGrad %v, finite differences %v", p, j, g[j], g2[j], fd)
			}
		}
	}
}
