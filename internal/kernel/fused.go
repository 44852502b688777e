package kernel

// This file holds the fused vector kernel of the SGD inner loop: the update with weight
// decay and the finiteness check in one pass over θ, instead of three (add λθ to the
// gradient, step, scan for NaN and ±Inf). On amd64 with AVX2 it runs four lanes at a time
// (AVX2 alone: it has no fused multiply–add, so it does not need FMA as the GEMM does);
// elsewhere, or with the purego build tag, it is the portable loop. Both perform the same
// floating-point operations in the same order as the separate passes did, so results are
// bitwise those of
//
//	g_j ← g_j + λ θ_j;  θ_j ← θ_j + a g_j
//
// (no fused multiply–add).

// SGDUpdate sets θ_j ← θ_j + a·(g_j + λ·θ_j) for every j (a = −η for a step of SGD with
// weight decay λ; g is not modified) and reports whether every updated θ_j is finite.
// len(g) must be at least len(theta).
func SGDUpdate(theta, g []float64, a, lambda float64) bool {
	if len(g) < len(theta) {
		panic("kernel: SGDUpdate: g shorter than theta")
	}
	m := 0
	bad := false
	if useAVX2 {
		m = len(theta) &^ 3
		if m > 0 {
			bad = updateAVX(m, &theta[0], &g[0], a, lambda) != 0
		}
	}
	g = g[:len(theta)]
	for j := m; j < len(theta); j++ {
		t := g[j] + lambda*theta[j]
		v := theta[j] + a*t
		theta[j] = v
		// v − v is 0 for every finite v and NaN for ±Inf and NaN.
		if !(v-v == 0) {
			bad = true
		}
	}
	return !bad
}
