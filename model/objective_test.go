package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestObjective checks that weight decay adds exactly (λ/2)‖θ‖² to the loss, λθ to the
// gradient and λv to the Hessian–vector product, computed the same way, and nothing when
// λ = 0.
func TestObjective(t *testing.T) {
	for ci, tc := range allCases {
		net, b, theta := tc.setup(t, uint64(ci))
		d := net.NumParams()
		rng := rand.New(rand.NewPCG(uint64(ci), 17))
		v := randVec(rng, d)
		for _, lam := range []float64{0, 0.37} {
			o := Objective{Model: net, WeightDecay: lam}
			g, mg := make([]float64, d), make([]float64, d)
			f := o.Loss(g, theta, b)
			mf := net.Loss(mg, theta, b)
			var sq float64
			for _, x := range theta {
				sq += x * x
			}
			wantF := mf
			if lam != 0 {
				wantF = mf + 0.5*lam*sq
			}
			if f != wantF {
				t.Errorf("%s λ=%v: loss %v, want %v", tc.name, lam, f, wantF)
			}
			if fNoGrad := o.Loss(nil, theta, b); fNoGrad != f {
				t.Errorf("%s λ=%v: loss without gradient %v, with %v", tc.name, lam, fNoGrad, f)
			}
			for j := range g {
				if want := mg[j] + lam*theta[j]; g[j] != want {
					t.Fatalf("%s λ=%v: grad[%d] = %v, want %v", tc.name, lam, j, g[j], want)
				}
			}
			hv, mhv := make([]float64, d), make([]float64, d)
			o.HessVec(hv, theta, b, v)
			net.HessVec(mhv, theta, b, v)
			for j := range hv {
				if want := mhv[j] + lam*v[j]; hv[j] != want {
					t.Fatalf("%s λ=%v: HessVec[%d] = %v, want %v", tc.name, lam, j, hv[j], want)
				}
			}
			if r := o.Reg(theta); math.Abs(r-0.5*lam*sq) > 0 {
				t.Errorf("%s λ=%v: Reg = %v, want %v", tc.name, lam, r, 0.5*lam*sq)
			}
		}
	}
}
