package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestIm2colNaive checks im2col against its definition, U[(c,ki,kj), (i,ho,wo)] =
// x(i, c, ho·S − P + ki, wo·S − P + kj) or 0 outside, element by element (exact: copies),
// and col2im as its adjoint, ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ (to 1e-13 relative: sums of
// a few hundred products in two orders), over strides, paddings up to and beyond the
// kernel, and inputs read from the data layout and from the CNHW layout.
func TestIm2colNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, g := range []struct{ cin, h, w, k, s, p int }{
		{1, 5, 5, 3, 1, 0}, {2, 6, 7, 3, 1, 1}, {2, 7, 9, 3, 2, 1}, {1, 4, 4, 2, 1, 3},
		{3, 5, 6, 4, 3, 2}, {1, 3, 3, 3, 2, 2}, {2, 8, 5, 1, 2, 0}, {1, 28, 28, 5, 1, 2},
	} {
		st := cnnStage{kind: stageConv, k: g.k, s: g.s, p: g.p, cin: g.cin, hin: g.h, win: g.w}
		st.hout = (g.h+2*g.p-g.k)/g.s + 1
		st.wout = (g.w+2*g.p-g.k)/g.s + 1
		nr := 3
		hw := g.h * g.w
		x := make([]float64, g.cin*nr*hw)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		for _, layout := range []struct {
			name   string
			sc, si int
		}{{"data", hw, g.cin * hw}, {"CNHW", nr * hw, hw}} {
			npos := st.hout * st.wout
			ld := nr * npos
			col := make([]float64, st.ckk()*ld)
			for i := range col {
				col[i] = rng.NormFloat64() // overwritten everywhere
			}
			im2col(col, &st, x, layout.sc, layout.si, nr)
			for c := 0; c < g.cin; c++ {
				for ki := 0; ki < g.k; ki++ {
					for kj := 0; kj < g.k; kj++ {
						r := (c*g.k+ki)*g.k + kj
						for i := 0; i < nr; i++ {
							for ho := 0; ho < st.hout; ho++ {
								for wo := 0; wo < st.wout; wo++ {
									h, w := ho*g.s-g.p+ki, wo*g.s-g.p+kj
									want := 0.0
									if h >= 0 && h < g.h && w >= 0 && w < g.w {
										want = x[c*layout.sc+i*layout.si+h*g.w+w]
									}
									if got := col[r*ld+i*npos+ho*st.wout+wo]; got != want {
										t.Fatalf("%+v %s: U[%d, (%d,%d,%d)] = %v, want %v", g, layout.name, r, i, ho, wo, got, want)
									}
								}
							}
						}
					}
				}
			}
		}
		// Adjoint, on the CNHW layout that col2im writes.
		npos := st.hout * st.wout
		col := make([]float64, st.ckk()*nr*npos)
		im2col(col, &st, x, nr*hw, hw, nr)
		y := make([]float64, len(col))
		for i := range y {
			y[i] = rng.NormFloat64()
		}
		back := make([]float64, len(x))
		for i := range back {
			back[i] = 1e300 // cleared by col2im
		}
		col2im(back, &st, y, nr)
		var lhs, rhs, scale float64
		for i := range col {
			lhs += col[i] * y[i]
			scale += math.Abs(col[i] * y[i])
		}
		for i := range x {
			rhs += x[i] * back[i]
		}
		if d := math.Abs(lhs - rhs); d > 1e-13*scale {
			t.Errorf("%+v: ⟨im2col x, y⟩ = %v, ⟨x, col2im y⟩ = %v", g, lhs, rhs)
		}
	}
}

// TestPool2Max checks the 2×2 max pooling loop against the definition: the maximum of each
// window and the first row-major index attaining it, on planes with ties (values drawn
// from {0, 1, 2}), a NaN (which wins), and odd sizes (the last row and column dropped).
func TestPool2Max(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, g := range []struct{ h, w int }{{4, 4}, {5, 7}, {28, 28}, {2, 3}} {
		st := cnnStage{kind: stageMax, k: 2, s: 2, cin: 1, hin: g.h, win: g.w, cout: 1, hout: g.h / 2, wout: g.w / 2}
		plane := make([]float64, g.h*g.w)
		for i := range plane {
			plane[i] = float64(rng.IntN(3))
		}
		plane[rng.IntN(len(plane))] = math.NaN()
		n := st.hout * st.wout
		o, arg := make([]float64, n), make([]int32, n)
		pool(o, arg, &st, plane, 0, 0, 1)
		for ho := 0; ho < st.hout; ho++ {
			for wo := 0; wo < st.wout; wo++ {
				bi := 2*ho*g.w + 2*wo
				for _, q := range []int{2*ho*g.w + 2*wo, 2*ho*g.w + 2*wo + 1, (2*ho+1)*g.w + 2*wo, (2*ho+1)*g.w + 2*wo + 1} {
					if math.IsNaN(plane[q]) && !math.IsNaN(plane[bi]) || plane[q] > plane[bi] {
						bi = q
					}
				}
				j := ho*st.wout + wo
				if int(arg[j]) != bi || !(o[j] == plane[bi] || math.IsNaN(o[j]) && math.IsNaN(plane[bi])) {
					t.Fatalf("%v window (%d,%d): got %v at %d, want %v at %d", g, ho, wo, o[j], arg[j], plane[bi], bi)
				}
			}
		}
	}
}
