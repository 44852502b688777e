package noise_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/noise"
)

// lsq is least squares L = (1/2N)‖Xθ − y‖² on random data.
type lsq struct {
	x *mat.Dense
	y []float64
}

func newLSQ(n, d int, interpolate bool, seed uint64) lsq {
	r := rand.New(rand.NewPCG(seed, 7))
	x := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			x.Set(i, j, r.NormFloat64()*3)
		}
	}
	y := make([]float64, n)
	th := make([]float64, d)
	for j := range th {
		th[j] = r.NormFloat64()
	}
	mat.NewVecDense(n, y).MulVec(x, mat.NewVecDense(d, th))
	if !interpolate {
		for i := range y {
			y[i] += r.NormFloat64()
		}
	}
	return lsq{x, y}
}

// solve returns the least-squares (for n < d, minimum-norm) solution.
func (p lsq) solve() []float64 {
	n, _ := p.x.Dims()
	var th mat.VecDense
	if err := th.SolveVec(p.x, mat.NewVecDense(n, p.y)); err != nil {
		panic(err)
	}
	return th.RawVector().Data
}

// stats returns ‖∇L‖, √tr C, tr H and the mean ‖g_i‖ at θ.
func (p lsq) stats(th []float64) (gradNorm, noiseNorm, trH, meanG float64) {
	n, d := p.x.Dims()
	g := make([]float64, n*d)
	mean := make([]float64, d)
	for i := range n {
		row := p.x.RawRowView(i)
		r := floats.Dot(row, th) - p.y[i]
		for j := range d {
			g[i*d+j] = r * row[j]
			mean[j] += g[i*d+j] / float64(n)
		}
		meanG += floats.Norm(g[i*d:(i+1)*d], 2) / float64(n)
		trH += floats.Dot(row, row) / float64(n)
	}
	var trC float64
	for i := range n {
		for j := range d {
			e := g[i*d+j] - mean[j]
			trC += e * e / float64(n)
		}
	}
	return floats.Norm(mean, 2), math.Sqrt(trC), trH, meanG
}

func TestRoundoffFloor(t *testing.T) {
	// A minimum computed in floating point lies within its floor; one moved by 1e-9 of its
	// norm does not.
	p := newLSQ(200, 12, false, 1)
	th := p.solve()
	gn, cn, trH, mg := p.stats(th)
	floor := noise.RoundoffFloor(12, trH, floats.Norm(th, 2), mg)
	if gn > floor {
		t.Errorf("‖∇L‖ = %g at the least-squares solution, above the floor %g", gn, floor)
	}
	moved := append([]float64(nil), th...)
	moved[0] += 1e-9 * floats.Norm(th, 2)
	if gm, _, _, _ := p.stats(moved); gm <= floor {
		t.Errorf("‖∇L‖ = %g after moving θ by 1e-9‖θ‖, within the floor %g", gm, floor)
	}
	if cn < 1e6*floor {
		t.Errorf("noisy least squares: √tr C = %g, not far above the floor %g", cn, floor)
	}

	// An interpolating minimum (N < d, y = Xθ₀): every per-example gradient is round-off.
	q := newLSQ(8, 30, true, 2)
	th = q.solve()
	gn, cn, trH, mg = q.stats(th)
	floor = noise.RoundoffFloor(30, trH, floats.Norm(th, 2), mg)
	t.Logf("interpolation: √tr C = %.3g, ‖∇L‖ = %.3g, floor %.3g", cn, gn, floor)
	if cn > floor || gn > floor {
		t.Errorf("interpolation: √tr C = %g, ‖∇L‖ = %g, above the floor %g", cn, gn, floor)
	}
}
