package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sigmoidDeltaRef is the weighted Bernoulli delta as model.bernoulliWeightedDelta computed it
// before SigmoidDeltaWeighted (the reference: ExpNonPosInPlace over the whole matrix of −|z|,
// then the select, division, subtraction and multiplication element by element).
func sigmoidDeltaRef(z, w, y []float64, G int) []float64 {
	t := make([]float64, len(y)*G)
	for i := range t {
		t[i] = -math.Abs(z[i])
	}
	ExpNonPosInPlace(t)
	const one = 0x3ff0000000000000
	for i := range y {
		for g := range G {
			e := t[i*G+g]
			neg := -(math.Float64bits(z[i*G+g]) >> 63)
			s := math.Float64frombits(one&^neg | math.Float64bits(e)&neg)
			t[i*G+g] = w[i*G+g] * (s/(1+e) - y[i])
		}
	}
	return t
}

// sigmoidArg draws z from a mixture of scales with the edge cases ±0, subnormals, values near
// the −708 bound of the exponential, huge values and (when inf) ±Inf.
func sigmoidArg(r *rand.Rand, inf bool) float64 {
	sign := 1.0
	if r.IntN(2) == 0 {
		sign = -1
	}
	switch r.IntN(12) {
	case 0:
		return sign * 0
	case 1:
		return sign * 5e-324 * float64(1+r.IntN(1000))
	case 2:
		return sign * (707.5 + r.Float64()) // around the −708 bound
	case 3:
		return sign * math.Ldexp(r.Float64(), r.IntN(2000)-1000)
	case 4:
		if inf {
			return math.Inf(int(sign))
		}
		return sign * math.MaxFloat64
	case 5:
		return sign * 708
	default:
		return sign * r.Float64() * math.Ldexp(1, r.IntN(8)) // |z| < 128
	}
}

// sameBits reports whether a and b have the same bits, any NaN matching any NaN.
func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// TestSigmoidDeltaWeighted compares SigmoidDeltaWeighted, sigmoidDeltaAVX (where it runs)
// and sigmoidDeltaScalar with sigmoidDeltaRef bit for bit: G from 1 to 16, rows with and
// without arguments beyond ±708 (which leave the AVX path row by row), weights of any sign
// and scale including ±0, labels 0 and 1, and a matrix with NaN arguments (NaN results in
// the same places).
func TestSigmoidDeltaWeighted(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 2))
	for trial := range 3000 {
		G := 1 + r.IntN(16)
		if trial%2 == 0 {
			G = 4 * (1 + r.IntN(4))
		}
		rows := r.IntN(40)
		z := make([]float64, rows*G)
		w := make([]float64, rows*G)
		y := make([]float64, rows)
		mode := trial % 5 // 0: plain |z| < 128; 1–3: edge cases; 4: NaN too
		for i := range z {
			switch {
			case mode == 0:
				z[i] = (r.Float64()*2 - 1) * 100
			case mode == 4 && r.IntN(50) == 0:
				z[i] = math.NaN()
			default:
				z[i] = sigmoidArg(r, mode >= 2)
			}
			w[i] = math.Ldexp(r.Float64()*2-1, r.IntN(40)-20)
			if r.IntN(20) == 0 {
				w[i] = 0
				if r.IntN(2) == 0 {
					w[i] = math.Copysign(0, -1)
				}
			}
		}
		for i := range y {
			y[i] = float64(r.IntN(2))
		}
		want := sigmoidDeltaRef(z, w, y, G)
		check := func(path string, got []float64) {
			t.Helper()
			for i := range want {
				if !sameBits(got[i], want[i]) {
					t.Fatalf("%s, G = %d, rows = %d: element %d (z = %v, w = %v, y = %v) = %v (%#x), want %v (%#x)",
						path, G, rows, i, z[i], w[i], y[i/G], got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
				}
			}
		}
		got := make([]float64, rows*G)
		SigmoidDeltaWeighted(got, z, w, y, G)
		check("SigmoidDeltaWeighted", got)
		sc := make([]float64, rows*G)
		for i := range y {
			sigmoidDeltaScalar(sc[i*G:(i+1)*G], z[i*G:(i+1)*G], w[i*G:(i+1)*G], y[i])
		}
		check("sigmoidDeltaScalar", sc)
		if useAsm && G%4 == 0 && rows > 0 {
			av := make([]float64, rows*G)
			for i := range av {
				av[i] = math.NaN() // rows the AVX path leaves are filled by the scalar path
			}
			done := 0
			for done < rows {
				done += sigmoidDeltaAVX(rows-done, G, &z[done*G], &w[done*G], &y[done], &av[done*G])
				if done < rows {
					for _, v := range z[done*G : (done+1)*G] {
						if a := -math.Abs(v); a >= -708 {
							continue
						}
						goto left
					}
					t.Fatalf("G = %d: sigmoidDeltaAVX stopped at row %d, which it can compute", G, done)
				left:
					sigmoidDeltaScalar(av[done*G:(done+1)*G], z[done*G:(done+1)*G], w[done*G:(done+1)*G], y[done])
					done++
				}
			}
			check("sigmoidDeltaAVX", av)
		}
	}
}

// BenchmarkSigmoidDeltaWeighted: a 256×8 chunk, the shape of model.MultiGradSum's logistic
// groups; one op is one chunk.
func BenchmarkSigmoidDeltaWeighted(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const rows, G = 256, 8
	z := make([]float64, rows*G)
	w := make([]float64, rows*G)
	y := make([]float64, rows)
	for i := range z {
		z[i] = r.NormFloat64() * 3
		w[i] = r.Float64()
	}
	for i := range y {
		y[i] = float64(r.IntN(2))
	}
	dst := make([]float64, rows*G)
	b.Run("kernel", func(b *testing.B) {
		for b.Loop() {
			SigmoidDeltaWeighted(dst, z, w, y, G)
		}
	})
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			sigmoidDeltaRef(z, w, y, G)
		}
	})
}

// TestGaussDeltaWeighted compares GaussDeltaWeighted and gaussDeltaAVX (where it runs) with
// the scalar loop model.gaussianWeightedDelta ran before (w·((z − y)·invVar) element by
// element) bit for bit: G from 1 to 16, arguments and weights of every scale including ±0,
// subnormals, huge values and ±Inf, targets of any sign.
func TestGaussDeltaWeighted(t *testing.T) {
	r := rand.New(rand.NewPCG(32, 2))
	for trial := range 3000 {
		G := 1 + r.IntN(16)
		if trial%2 == 0 {
			G = 4 * (1 + r.IntN(4))
		}
		rows := r.IntN(40)
		z := make([]float64, rows*G)
		w := make([]float64, rows*G)
		y := make([]float64, rows)
		for i := range z {
			z[i] = sigmoidArg(r, trial%3 == 0)
			w[i] = sigmoidArg(r, false)
		}
		for i := range y {
			y[i] = sigmoidArg(r, false)
		}
		invVar := math.Ldexp(r.Float64()+0.5, r.IntN(20)-10)
		want := make([]float64, rows*G)
		for i := range y {
			for g := range G {
				want[i*G+g] = w[i*G+g] * ((z[i*G+g] - y[i]) * invVar)
			}
		}
		check := func(path string, got []float64) {
			t.Helper()
			for i := range want {
				if !sameBits(got[i], want[i]) {
					t.Fatalf("%s, G = %d: element %d (z = %v, w = %v, y = %v) = %v, want %v", path, G, i, z[i], w[i], y[i/G], got[i], want[i])
				}
			}
		}
		got := make([]float64, rows*G)
		GaussDeltaWeighted(got, z, w, y, G, invVar)
		check("GaussDeltaWeighted", got)
		sc := make([]float64, rows*G)
		for i := range y {
			gaussDeltaScalar(sc[i*G:(i+1)*G], z[i*G:(i+1)*G], w[i*G:(i+1)*G], y[i], invVar)
		}
		check("gaussDeltaScalar", sc)
		if useAsm && G%4 == 0 && rows > 0 {
			av := make([]float64, rows*G)
			gaussDeltaAVX(rows, G, &z[0], &w[0], &y[0], &av[0], invVar)
			check("gaussDeltaAVX", av)
		}
	}
}
