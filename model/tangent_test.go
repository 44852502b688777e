package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// tangentInputs returns two directions u, two vectors x and μ_j = ḡ·x_j for CovTangents.
func tangentInputs(net *Network, theta []float64, b Batch, seed uint64) (u, x [][]float64, mu []float64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	d := net.NumParams()
	u = [][]float64{randVec(rng, d), randVec(rng, d)}
	x = [][]float64{randVec(rng, d), randVec(rng, d)}
	gbar := make([]float64, d)
	net.Loss(gbar, theta, b)
	mu = []float64{floats.Dot(gbar, x[0]), floats.Dot(gbar, x[1])}
	return u, x, mu
}

// runTangents calls CovTangents and returns dst and s (index k·J + j).
func runTangents(net *Network, theta []float64, b Batch, u, x [][]float64, mu []float64) (dst, s [][]float64) {
	for range len(u) * len(x) {
		dst = append(dst, make([]float64, net.NumParams()))
		s = append(s, make([]float64, b.Len()))
	}
	net.CovTangents(dst, s, theta, b, u, x, mu)
	return dst, s
}

// TestCovTangentsAgainstNaive checks CovTangents against a loop over the examples of
// one-example calls: g_i from Loss, H_i u_k from HessVec on the example alone, then
// s_i = (H_i u_k)·x_j and Σ_i (g_i·x_j − μ_j) H_i u_k + s_i g_i summed in a plain loop. The
// batched chunks do the same arithmetic in another order: 1e-12 relative, the file's usual
// tolerance (measured worst 1.5e-15; a wrong or missing term fails by order 1). The
// 1100-example batch has five chunks, split between the two lanes.
func TestCovTangentsAgainstNaive(t *testing.T) {
	const tol = 1e-12
	cases := append([]testCase(nil), allCases...)
	big := allCases[6] // mlp2-tanh
	big.name, big.n = "mlp2-tanh-1100", 1100
	cases = append(cases, big)
	for ci, tc := range cases {
		net, b, theta := tc.setup(t, uint64(ci))
		n, d := b.Len(), net.NumParams()
		u, x, mu := tangentInputs(net, theta, b, uint64(ci))
		dst, s := runTangents(net, theta, b, u, x, mu)

		g := make([]float64, d)
		hu := make([]float64, d)
		for k := range u {
			for j := range x {
				q := k*len(x) + j
				want, wantS := make([]float64, d), make([]float64, n)
				for i := 0; i < n; i++ {
					one := rowBatch(b, i)
					net.Loss(g, theta, one)
					net.HessVec(hu, theta, one, u[k])
					si := floats.Dot(hu, x[j])
					ci := floats.Dot(g, x[j]) - mu[j]
					for p := range want {
						want[p] += ci*hu[p] + si*g[p]
					}
					wantS[i] = si
				}
				// Norm-wise: a single s_i can be a small difference of larger terms.
				if e := relErr(s[q], wantS); e > tol {
					t.Errorf("%s: s[%d]: relative error %g", tc.name, q, e)
				}
				if e := relErr(dst[q], want); e > tol {
					t.Errorf("%s: dst[%d]: relative error %g", tc.name, q, e)
				}
			}
		}
	}
}

// TestCovTangentsCentralDifference checks the tangent it exists for, independently of the
// R-operator: ∂_u of P(θ) x = Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ x, with P from one-example gradients,
// by a central difference with step h = 1e-5 (truncation O(h²) ≈ 1e-10 and round-off
// ≈ 1e-16/h relative), against dst − (Σ_i s_i) ḡ: 1e-7 relative (measured 5.5e-12 to
// 2.9e-9 over the cases). A missing or mis-signed term (c_i H_i u, s_i g_i, the centring)
// fails by order 1.
func TestCovTangentsCentralDifference(t *testing.T) {
	const h, tol = 1e-5, 1e-7
	for ci, tc := range allCases {
		net, b, theta := tc.setup(t, uint64(ci))
		d := net.NumParams()
		u, x, mu := tangentInputs(net, theta, b, uint64(ci))
		dst, s := runTangents(net, theta, b, u, x, mu)
		gbar := make([]float64, d)
		net.Loss(gbar, theta, b)
		covProd := func(th, xj []float64) []float64 {
			G := naivePerExampleGrads(net, th, b)
			n, _ := G.Dims()
			mean := make([]float64, d)
			for i := 0; i < n; i++ {
				floats.AddScaled(mean, 1/float64(n), G.RawRowView(i))
			}
			out := make([]float64, d)
			a := make([]float64, d)
			for i := 0; i < n; i++ {
				floats.SubTo(a, G.RawRowView(i), mean)
				floats.AddScaled(out, floats.Dot(a, xj), a)
			}
			return out
		}
		for k := range u {
			tp, tm := make([]float64, d), make([]float64, d)
			floats.AddScaledTo(tp, theta, h, u[k])
			floats.AddScaledTo(tm, theta, -h, u[k])
			for j := range x {
				q := k*len(x) + j
				fd := covProd(tp, x[j])
				floats.AddScaled(fd, -1, covProd(tm, x[j]))
				floats.Scale(1/(2*h), fd)
				got := append([]float64(nil), dst[q]...)
				floats.AddScaled(got, -floats.Sum(s[q]), gbar)
				if e := relErr(got, fd); e > tol {
					t.Errorf("%s: ∂_u(Px) direction %d vector %d: relative error %g against the central difference", tc.name, k, j, e)
				}
			}
		}
	}
}

// TestCovTangentsShapes checks that CovTangents panics, naming the argument, on misuse.
func TestCovTangentsShapes(t *testing.T) {
	net, b, theta := allCases[3].setup(t, 0)
	d, n := net.NumParams(), b.Len()
	v := make([]float64, d)
	for _, c := range []struct {
		what         string
		dst, s, u, x [][]float64
		mu           []float64
	}{
		{"mu", [][]float64{v}, [][]float64{make([]float64, n)}, [][]float64{v}, [][]float64{v}, nil},
		{"dst", nil, [][]float64{make([]float64, n)}, [][]float64{v}, [][]float64{v}, []float64{0}},
		{"s[q]", [][]float64{v}, [][]float64{make([]float64, n+1)}, [][]float64{v}, [][]float64{v}, []float64{0}},
		{"x[j]", [][]float64{v}, [][]float64{make([]float64, n)}, [][]float64{v}, [][]float64{v[1:]}, []float64{0}},
	} {
		expectPanic(t, fmt.Sprintf("CovTangents(%s)", c.what), c.what, func() {
			net.CovTangents(c.dst, c.s, theta, b, c.u, c.x, c.mu)
		})
	}
}
