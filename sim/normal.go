package sim

import (
	"math"
	"math/rand/v2"
)

// Standard normal draws by the ziggurat method (Marsaglia & Tsang 2000; docs/MATH.md §3.1)
// with zigLayers layers, fed by a chain's own *rand.PCG called on the concrete type: one
// Uint64 per draw on the fast path (≈ 99% of draws), whose low 8 bits pick the layer, bit 8
// the sign and the top 53 bits the uniform.
//
// The half-normal density f(x) = exp(−x²/2), x ≥ 0 (unnormalised) is covered by zigLayers
// regions of equal area v: the base strip [0, r] × [0, f(r)] together with the tail x > r,
// and zigLayers − 1 rectangles [0, x_i] × [f(x_i), f(x_{i+1})] with x_1 = r > x_2 > … >
// x_{zigLayers−1} and x_{zigLayers} = 0. The tables are computed at init (zigSetup) from
// these equations; r is the root of "the top rectangle has area v".

const zigLayers = 256

var (
	// zigX[i] is the right edge of region i: zigX[0] = v/f(r) (the base strip's width if
	// it held the tail too), zigX[i] = x_i for 1 ≤ i < zigLayers, zigX[zigLayers] = 0.
	zigX [zigLayers + 1]float64
	// zigF[i] = f(zigX[i]) (zigF[0] = f(r), the base strip's height).
	zigF [zigLayers + 1]float64
	// zigR is r and zigV is v.
	zigR, zigV float64
)

func init() { zigR, zigV = zigSetup(&zigX, &zigF) }

// zigGauss is the half-normal density's kernel f(x) = exp(−x²/2).
func zigGauss(x float64) float64 { return math.Exp(-0.5 * x * x) }

// zigTailArea is ∫_r^∞ f(x) dx = √(π/2) erfc(r/√2).
func zigTailArea(r float64) float64 { return math.Sqrt(math.Pi/2) * math.Erfc(r/math.Sqrt2) }

// zigBuild fills x and f for the base-strip edge r, with v = r f(r) + ∫_r^∞ f: x_{i+1} =
// f⁻¹(f(x_i) + v/x_i) = √(−2 log(f(x_i) + v/x_i)). It returns v and the excess
// e = f(x_{n−1}) + v/x_{n−1} − 1 of the top rectangle's height over f(0) = 1 (e > 0: r is
// too small; a layer that already overshoots 1 returns e > 0 at once).
func zigBuild(r float64, x, f *[zigLayers + 1]float64) (v, e float64) {
	v = r*zigGauss(r) + zigTailArea(r)
	x[0], f[0] = v/zigGauss(r), zigGauss(r)
	x[1], f[1] = r, zigGauss(r)
	for i := 1; i < zigLayers-1; i++ {
		h := f[i] + v/x[i]
		if h >= 1 {
			return v, h - 1 + float64(zigLayers-1-i) // overshoot before the top: r too small
		}
		x[i+1] = math.Sqrt(-2 * math.Log(h))
		f[i+1] = h
	}
	x[zigLayers], f[zigLayers] = 0, 1
	return v, f[zigLayers-1] + v/x[zigLayers-1] - 1
}

// zigSetup finds r by bisection on the excess of zigBuild (decreasing in r) to full
// precision, fills the tables and returns r and v.
func zigSetup(x, f *[zigLayers + 1]float64) (r, v float64) {
	lo, hi := 1.0, 10.0
	for range 200 {
		mid := 0.5 * (lo + hi)
		if mid == lo || mid == hi {
			break
		}
		if _, e := zigBuild(mid, x, f); e > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	v, _ = zigBuild(hi, x, f)
	return hi, v
}

// zigSplit splits one 64-bit draw into the layer (bits 0–7), the sign (bit 8) and a
// uniform in [0, 1) from bits 11–63.
func zigSplit(u uint64) (layer int, neg bool, unif float64) {
	return int(u & (zigLayers - 1)), u&(1<<8) != 0, float64(int64(u>>11)) * (1.0 / (1 << 53))
}

// FillNormals fills dst with independent N(0, 1) draws from src (the ziggurat of MATH.md
// §3.1), as Gauss, SDE and SGLD draw their noise from each chain's stream: callers that
// must reproduce a chain's draws (escape's Gaussian-noise chains) use it on the same stream.
func FillNormals(dst []float64, src *rand.PCG) { fillNormalsSum(dst, src) }

// fillNormalsSum is FillNormals, returning the sum of the draws added in order
// (((0 + dst[0]) + dst[1]) + …), as gaussWeights needs their mean.
func fillNormalsSum(dst []float64, src *rand.PCG) (sum float64) {
	for j := range dst {
		u := src.Uint64()
		i, _, un := zigSplit(u)
		x := un * zigX[i]
		if x >= zigX[i+1] {
			x = zigSlow(src, i, x)
		}
		z := zigSigned(x, u)
		dst[j] = z
		sum += z
	}
	return sum
}

// zigSigned returns x with the sign of bit 8 of the draw u, without a branch (a random
// branch mispredicts half the time).
func zigSigned(x float64, u uint64) float64 {
	return math.Float64frombits(math.Float64bits(x) | (u&(1<<8))<<55)
}

// zigSlow finishes a draw that fell outside region i's inner rectangle [0, x_{i+1}) at
// abscissa x: the tail beyond r for the base strip (i = 0), the wedge test otherwise,
// starting over with fresh bits when the point is rejected. It returns |z|.
func zigSlow(src *rand.PCG, i int, x float64) float64 {
	for {
		if i == 0 {
			return zigTail(src)
		}
		// Wedge: accept x if a uniform height in [f(x_i), f(x_{i+1})] lies under f(x).
		u := float64(int64(src.Uint64()>>11)) * (1.0 / (1 << 53))
		if zigF[i]+u*(zigF[i+1]-zigF[i]) < zigGauss(x) {
			return x
		}
		var un float64
		i, _, un = zigSplit(src.Uint64())
		x = un * zigX[i]
		if x < zigX[i+1] {
			return x
		}
	}
}

// zigTail draws from the normal tail x > r (Marsaglia 1964): with s = −log(U₁)/r and
// t = −log(U₂), U₁, U₂ uniform on (0, 1], accept r + s when 2t > s².
func zigTail(src *rand.PCG) float64 {
	for {
		s := -math.Log(1-float64(int64(src.Uint64()>>11))*(1.0/(1<<53))) / zigR
		t := -math.Log(1 - float64(int64(src.Uint64()>>11))*(1.0/(1<<53)))
		if 2*t > s*s {
			return zigR + s
		}
	}
}
