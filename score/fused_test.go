package score

import (
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
)

// TestModelFactorMulMulT checks the one-pass product of a model's factor, w = s Uᵀx and
// U w: bitwise against MulT, the scaling and Mul (the same chunks, products and order),
// with and without the cached forward and backward pass (the cached products are bitwise
// the uncached ones), on an mlp over two chunks, logistic and the non-Network quadratic
// model (the generic fallback), and a ConvNet over three chunks (model.ConvGradCache); and C x = κ U Uᵀ x within 1e-12 relative of a brute-force
// covariance from materialised per-example gradients (different summation orders).
func TestModelFactorMulMulT(t *testing.T) {
	rnd := newRand(31)
	mlp := mustModel(t, "mlp:8", 6, 3, model.Options{})
	lg := mustModel(t, "logistic", 5, 2, model.Options{})
	a := mat.NewSymDense(4, nil)
	for i := 0; i < 4; i++ {
		a.SetSym(i, i, 1+float64(i))
	}
	a.SetSym(0, 1, 0.3)
	quad := &quadModel{a: a}
	cnn := mustModel(t, "cnn:c2k3,max2,f4", 36, 3, model.Options{Shape: []int{1, 6, 6}})
	for _, tc := range []struct {
		name string
		m    model.Model
		b    model.Batch
	}{
		{"mlp", mlp, classData(rnd, 300, 6, 3)},
		{"logistic", lg, logisticData(rnd, 40, 5)},
		{"quadratic", quad, model.Batch{X: mat.NewDense(20, 4, randTheta(rnd, 80, 1)), Y: make([]float64, 20)}},
		{"cnn", cnn, classData(rnd, 150, 36, 3)}, // three chunks of the ConvNet, cached
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, n := tc.m.NumParams(), tc.b.Len()
			theta := randTheta(rnd, d, 0.5)
			x := randTheta(rnd, d, 1)
			const scale, kappa = 1.0 / 40, 0.3
			f := newModelFactor(tc.m, tc.b, theta, scale)
			cached := f.cache != nil
			if _, ok := tc.m.(model.Cacher); ok && !cached {
				t.Fatalf("%s keeps no cache", tc.name)
			}
			var ref []float64
			for _, useCache := range []bool{false, true} {
				if useCache && !cached {
					continue
				}
				g := *f
				if !useCache {
					g.cache = nil
				}
				for _, s := range []float64{1, kappa} {
					w1, d1 := make([]float64, n), make([]float64, d)
					g.MulT(w1, x)
					for i := range w1 {
						w1[i] *= s
					}
					g.Mul(d1, w1)
					w2, d2 := make([]float64, n), make([]float64, d)
					g.MulMulT(d2, w2, x, s)
					if !equalBits(w1, w2) || !equalBits(d1, d2) {
						t.Errorf("cache %v, s = %v: MulMulT differs from MulT + Mul", useCache, s)
					}
					d3 := make([]float64, d)
					linalg.CovOperator{U: &g, Kappa: s}.Apply(d3, x)
					if !equalBits(d2, d3) {
						t.Errorf("cache %v, s = %v: CovOperator differs from MulMulT", useCache, s)
					}
					if s == kappa {
						if ref == nil {
							ref = d2
						} else if !equalBits(ref, d2) {
							t.Errorf("cached and uncached products differ")
						}
					}
				}
			}
			if cached {
				var k1, k2 mat.Dense
				f.cache.Gram(&k1)
				tc.m.Gram(&k2, theta, tc.b)
				if !equalBits(k1.RawMatrix().Data, k2.RawMatrix().Data) {
					t.Errorf("cached and uncached Gram matrices differ")
				}
			}
			G := mat.NewDense(n, d, nil)
			tc.m.PerExampleGrads(G, theta, tc.b)
			C := bruteCov(G, nil, kappa*scale)
			want := make([]float64, d)
			mat.NewVecDense(d, want).MulVec(C, mat.NewVecDense(d, x))
			checkVec(t, "κ U Uᵀ x", ref, want, 1e-12)
		})
	}
}

func equalBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
