package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// linearCases are the three linear models MultiGradSum takes, with their class counts.
var linearCases = []struct {
	spec string
	opt  Options
	K    int
}{
	{"linreg", Options{Sigma: 0.7}, 0},
	{"logistic", Options{}, 2},
	{"softmax", Options{}, 4},
}

// TestMultiGradSumAgainstNaive checks MultiGradSum.GradSums for the three linear models,
// several G and batch sizes (one chunk, several chunks, a ragged last chunk) against two
// independent references: one GradSum per point, and the weighted sum of the materialised
// per-example gradients from one-example Loss calls (naivePerExampleGrads). Only the
// summation order differs, so each element must agree to 4e-15 of its condition scale
// S_j = Σ_i |w_i g_ij| (round-off of a sum of n terms is a few ulps of S_j for these n).
func TestMultiGradSumAgainstNaive(t *testing.T) {
	cases := linearCases
	const p = 7
	const tol = 4e-15
	for ci, tc := range cases {
		for _, nb := range []int{5, 256, 600} {
			for _, G := range []int{1, 3, 8} {
				net, err := NewNetwork(tc.spec, p, tc.K, tc.opt)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(uint64(ci), uint64(nb*10+G)))
				b := randBatch(rng, nb, p, tc.K)
				d := net.NumParams()
				theta, w, got := make([][]float64, G), make([][]float64, G), make([][]float64, G)
				for g := range G {
					theta[g] = randVec(rng, d)
					w[g] = randSlice(rng, nb)
					got[g] = make([]float64, d)
				}
				mg, ok := NewMultiGradSum(net, G)
				if !ok {
					t.Fatalf("%s: not batched", tc.spec)
				}
				mg.GradSums(got, theta, b, w)
				want := make([]float64, d)
				worst := 0.0
				for g := range G {
					net.GradSum(want, theta[g], b, w[g])
					pg := naivePerExampleGrads(net, theta[g], b)
					for j := range d {
						var naive, scale float64
						for i := range nb {
							naive += w[g][i] * pg.At(i, j)
							scale += math.Abs(w[g][i] * pg.At(i, j))
						}
						scale += math.SmallestNonzeroFloat64
						e := max(math.Abs(got[g][j]-want[j]), math.Abs(got[g][j]-naive)) / scale
						worst = max(worst, e)
						if e > tol {
							t.Errorf("%s n=%d G=%d point %d [%d]: batched %v, GradSum %v, naive %v (err %.2g of scale)",
								tc.spec, nb, G, g, j, got[g][j], want[j], naive, e)
						}
					}
				}
				t.Logf("%s n=%d G=%d: worst error %.2g of the scale", tc.spec, nb, G, worst)
			}
		}
	}
}

// TestMultiGradSumNotLinear: networks with a hidden layer are not batched.
func TestMultiGradSumNotLinear(t *testing.T) {
	net, err := NewNetwork("mlp:3", 4, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if mg, ok := NewMultiGradSum(net, 4); ok || mg != nil {
		t.Error("mlp:3 accepted")
	}
}

// TestMultiGradSumAllocs: steady-state calls make no allocation.
func TestMultiGradSumAllocs(t *testing.T) {
	net, err := NewNetwork("softmax", 5, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b := randBatch(rng, 300, 5, 3)
	const G = 4
	theta, w, dst := make([][]float64, G), make([][]float64, G), make([][]float64, G)
	for g := range G {
		theta[g] = randVec(rng, net.NumParams())
		w[g] = randSlice(rng, 300)
		dst[g] = make([]float64, net.NumParams())
	}
	mg, _ := NewMultiGradSum(net, G)
	if a := testing.AllocsPerRun(20, func() { mg.GradSums(dst, theta, b, w) }); a != 0 {
		t.Errorf("%v allocations per call", a)
	}
}

// BenchmarkMultiGradSum: the weighted gradient sums of 8 points of logistic on 569×30
// random data (breast cancer's shape), batched and by one GradSum per point.
func BenchmarkMultiGradSum(b *testing.B) {
	net, err := NewNetwork("logistic", 30, 2, Options{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bt := randBatch(rng, 569, 30, 2)
	const G = 8
	theta, w, dst := make([][]float64, G), make([][]float64, G), make([][]float64, G)
	for g := range G {
		theta[g] = randVec(rng, net.NumParams())
		w[g] = randSlice(rng, 569)
		dst[g] = make([]float64, net.NumParams())
	}
	b.Run("batched", func(b *testing.B) {
		mg, _ := NewMultiGradSum(net, G)
		for range b.N {
			mg.GradSums(dst, theta, bt, w)
		}
	})
	b.Run("per-point", func(b *testing.B) {
		for range b.N {
			for g := range G {
				net.GradSum(dst[g], theta[g], bt, w[g])
			}
		}
	})
}

// bernoulliWeightedDeltaRef is bernoulliWeightedDelta as it was before the weights came
// example by example and the delta from kernel.SigmoidDeltaWeighted: weights per point
// (w[g][row0+i]), ExpNonPosInPlace over the chunk's −|z|, then the select and σ(z) − y
// element by element.
func bernoulliWeightedDeltaRef(t, z, y []float64, w [][]float64, row0, nr int) {
	G := len(w)
	t = t[:nr*G]
	z = z[:nr*G]
	for i, v := range z {
		t[i] = -math.Abs(v)
	}
	kernel.ExpNonPosInPlace(t)
	const one = 0x3ff0000000000000
	for i := range nr {
		yi := y[i]
		ti := t[i*G : (i+1)*G]
		zi := z[i*G : (i+1)*G]
		for g, e := range ti {
			neg := -(math.Float64bits(zi[g]) >> 63)
			s := math.Float64frombits(one&^neg | math.Float64bits(e)&neg)
			ti[g] = w[g][row0+i] * (s/(1+e) - yi)
		}
	}
}

// TestBernoulliWeightedDeltaBits: bernoulliWeightedDelta on weights example by example gives
// the bits of bernoulliWeightedDeltaRef for G ∈ {1, 3, 4, 8} on chunks with logits of every
// scale (including ±0 and |z| > 708, which leave the vectorised path), at a chunk offset.
func TestBernoulliWeightedDeltaBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for trial := range 400 {
		G := []int{1, 3, 4, 8}[trial%4]
		n, row0 := 300, 17
		nr := 1 + rng.IntN(n-row0)
		z := make([]float64, nr*G)
		for i := range z {
			z[i] = rng.NormFloat64() * math.Ldexp(1, rng.IntN(12)-2)
			switch rng.IntN(40) {
			case 0:
				z[i] = math.Copysign(0, float64(rng.IntN(2))-0.5)
			case 1:
				z[i] = (rng.Float64()*2 - 1) * 2000
			}
		}
		y := make([]float64, nr)
		for i := range y {
			y[i] = float64(rng.IntN(2))
		}
		w := make([][]float64, G)
		wi := make([]float64, n*G)
		for g := range G {
			w[g] = randSlice(rng, n)
			for i, v := range w[g] {
				wi[i*G+g] = v
			}
		}
		got, want := make([]float64, nr*G), make([]float64, nr*G)
		bernoulliWeightedDelta(got, z, y, wi[row0*G:(row0+nr)*G], G, row0, nr)
		bernoulliWeightedDeltaRef(want, z, y, w, row0, nr)
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("G = %d, nr = %d: element %d (z = %v) = %v, want %v", G, nr, i, z[i], got[i], want[i])
			}
		}
	}
}

// TestColSums: colSums gives the bits of the row-by-row loop it replaces (gb[r] += t[i][r]
// for i = 0, 1, …) for 1 to 13 columns and 0 to 40 rows of values of mixed scales.
func TestColSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for trial := range 500 {
		gk := 1 + trial%13
		nr := rng.IntN(41)
		tm := make([]float64, nr*gk)
		for i := range tm {
			tm[i] = rng.NormFloat64() * math.Ldexp(1, rng.IntN(60)-30)
		}
		got, want := randSlice(rng, gk), make([]float64, gk)
		copy(want, got)
		colSums(got, tm, nr)
		for i := range nr {
			for r, v := range tm[i*gk : (i+1)*gk] {
				want[r] += v
			}
		}
		for r := range want {
			if math.Float64bits(got[r]) != math.Float64bits(want[r]) {
				t.Fatalf("gk = %d, nr = %d: column %d = %v, want %v", gk, nr, r, got[r], want[r])
			}
		}
	}
}

// TestMultiGradSumSetBatch: with SetBatch, GradSums gives the bits it gives without (the
// first product reads the transposed features in place instead of packing them) for the
// three linear models, G ∈ {1, 2, 3, 8}, one chunk, several and a ragged last one, and after
// SetBatch(Batch{}) or on another batch.
func TestMultiGradSumSetBatch(t *testing.T) {
	cases := linearCases
	for ci, tc := range cases {
		for _, p := range []int{1, 7, 30} {
			for _, nb := range []int{1, 5, 256, 569, 600} {
				for _, G := range []int{1, 2, 3, 8} {
					net, err := NewNetwork(tc.spec, p, tc.K, tc.opt)
					if err != nil {
						t.Fatal(err)
					}
					rng := rand.New(rand.NewPCG(uint64(ci*100+p), uint64(nb*10+G)))
					b := randBatch(rng, nb, p, tc.K)
					other := randBatch(rng, nb, p, tc.K)
					d := net.NumParams()
					theta, w, got, want := make([][]float64, G), make([][]float64, G), make([][]float64, G), make([][]float64, G)
					for g := range G {
						theta[g] = randVec(rng, d)
						w[g] = randSlice(rng, nb)
						got[g], want[g] = make([]float64, d), make([]float64, d)
					}
					plain, _ := NewMultiGradSum(net, G)
					set, _ := NewMultiGradSum(net, G)
					set.SetBatch(b)
					for _, run := range []struct {
						name string
						b    Batch
						pre  func()
					}{{"set", b, nil}, {"other batch", other, nil}, {"forgotten", b, func() { set.SetBatch(Batch{}) }}} {
						if run.pre != nil {
							run.pre()
						}
						plain.GradSums(want, theta, run.b, w)
						set.GradSums(got, theta, run.b, w)
						for g := range G {
							for j := range d {
								if math.Float64bits(got[g][j]) != math.Float64bits(want[g][j]) {
									t.Fatalf("%s p=%d n=%d G=%d %s: point %d [%d] = %v, want %v", tc.spec, p, nb, G, run.name, g, j, got[g][j], want[g][j])
								}
							}
						}
					}
				}
			}
		}
	}
}
