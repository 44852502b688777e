package model

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// dot is the plain left-to-right inner product (the test's own, independent of the kernels).
func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestGradDotSum checks the one-pass covariance product against (1) the two calls it
// replaces, GradDot, the weights β (α (a_i − μ)), GradSum: bitwise, since the chunks, the
// products and their order are the same; (2) a dense covariance C = (1/n) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ
// from per-example gradients materialised by an independent naive loop, C u and the centred
// dots (g_i − ḡ)·u / n within 1e-12 relative (the two sides sum the same terms in different
// orders and the product form (1/n) Σ a_i g_i − ḡ (ḡ·u) cancels a little: round-off is a few
// 1e-16 times the terms' magnitude, so 1e-12 leaves room without hiding a wrong term, which
// would be O(1)); (3) the generic model.GradDotSum (bitwise the method). Batches of one
// chunk, two lanes, and enough chunks for the lanes to run at once.
func TestGradDotSum(t *testing.T) {
	for _, tc := range []testCase{
		{name: "mlp2-lanes", spec: "mlp:12,6", p: 20, K: 4, n: (laneParMin+1)*chunkRows + 3, thScale: 0.3},
		{name: "mlp2", spec: "mlp:64,8", p: 40, K: 5, n: 2*chunkRows + 17, thScale: 0.2},
		{name: "mlp-relu-regress", spec: "mlp:16", opt: Options{Act: "relu", Task: "regress"}, p: 20, n: 50, thScale: 0.3},
		{name: "logistic", spec: "logistic", p: 30, K: 2, n: chunkRows + 1, thScale: 0.3},
		{name: "softmax", spec: "softmax", p: 30, K: 4, n: 100, thScale: 0.3},
		{name: "linreg", spec: "linreg", p: 30, n: 7, thScale: 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net, b, theta := tc.setup(t, 7)
			n, d := b.Len(), net.NumParams()
			rng := rand.New(rand.NewPCG(8, 8))
			u := randVec(rng, d)
			mean := make([]float64, d)
			net.Loss(mean, theta, b)
			mu, alpha := dot(mean, u), 1/float64(n)
			for _, beta := range []float64{1, 0.37} {
				w, cu := make([]float64, n), make([]float64, d)
				net.GradDotSum(cu, w, theta, b, u, mu, alpha, beta)

				// (1) The two calls.
				w2, cu2 := make([]float64, n), make([]float64, d)
				net.GradDot(w2, theta, b, u)
				for i := range w2 {
					w2[i] = beta * (alpha * (w2[i] - mu))
				}
				net.GradSum(cu2, theta, b, w2)
				if !equalSlices(w, w2) || !equalSlices(cu, cu2) {
					t.Errorf("β = %v: differs from GradDot + GradSum", beta)
				}

				// (3) The generic entry point.
				w3, cu3 := make([]float64, n), make([]float64, d)
				GradDotSum(net, cu3, w3, theta, b, u, mu, alpha, beta)
				if !equalSlices(w, w3) || !equalSlices(cu, cu3) {
					t.Errorf("β = %v: model.GradDotSum differs from the method", beta)
				}
			}

			// (2) The dense covariance from materialised per-example gradients.
			if n*d > 3e6 {
				return
			}
			G := naivePerExampleGrads(net, theta, b)
			gbar := make([]float64, d)
			for i := 0; i < n; i++ {
				for j := 0; j < d; j++ {
					gbar[j] += G.At(i, j) / float64(n)
				}
			}
			cw, ccu := make([]float64, n), make([]float64, d)
			for i := 0; i < n; i++ {
				var s float64
				for j := 0; j < d; j++ {
					s += (G.At(i, j) - gbar[j]) * u[j]
				}
				cw[i] = s / float64(n)
				for j := 0; j < d; j++ {
					ccu[j] += (G.At(i, j) - gbar[j]) * cw[i]
				}
			}
			w, cu := make([]float64, n), make([]float64, d)
			net.GradDotSum(cu, w, theta, b, u, mu, alpha, 1)
			if e := relErr(w, cw); e > 1e-12 {
				t.Errorf("weights: relative error %.2g against the dense centred dots", e)
			}
			if e := relErr(cu, ccu); e > 1e-12 {
				t.Errorf("C u: relative error %.2g against the dense covariance", e)
			} else {
				t.Logf("C u: relative error %.2g against the dense covariance", e)
			}
		})
	}
}

// TestGradDotSumGOMAXPROCS runs the one-pass product in child processes at GOMAXPROCS 1 and
// 4 (the helper pool is sized once per process, so this needs separate processes) on a
// batch whose lanes run at once and whose products are split between threads: the hashes
// of the bits of w and C u must agree.
func TestGradDotSumGOMAXPROCS(t *testing.T) {
	const env = "SGDPRIOR_COVPROD_CHILD"
	if os.Getenv(env) != "" {
		tc := testCase{name: "mlp", spec: "mlp:96,8", p: 300, K: 5, n: (laneParMin+1)*chunkRows + 44, thScale: 0.1}
		net, b, theta := tc.setup(t, 9)
		n, d := b.Len(), net.NumParams()
		u := randVec(rand.New(rand.NewPCG(10, 10)), d)
		mean := make([]float64, d)
		net.Loss(mean, theta, b)
		w, cu := make([]float64, n), make([]float64, d)
		net.GradDotSum(cu, w, theta, b, u, dot(mean, u), 1/float64(n), 1)
		h := fnv.New64a()
		for _, v := range append(w, cu...) {
			h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
		}
		fmt.Printf("covhash %x pool %d\n", h.Sum64(), kernel.Pool.Size())
		return
	}
	if testing.Short() {
		t.Skip("runs child processes")
	}
	var hashes []string
	for _, procs := range []string{"1", "4"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestGradDotSumGOMAXPROCS$", "-test.v")
		cmd.Env = append(os.Environ(), env+"=1", "GOMAXPROCS="+procs)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOMAXPROCS=%s: %v\n%s", procs, err, out)
		}
		i := strings.Index(string(out), "covhash ")
		if i < 0 {
			t.Fatalf("GOMAXPROCS=%s: no hash in\n%s", procs, out)
		}
		line := strings.Fields(string(out[i:]))
		t.Logf("GOMAXPROCS=%s: hash %s, %s helpers", procs, line[1], line[3])
		hashes = append(hashes, line[1])
	}
	if hashes[0] != hashes[1] {
		t.Errorf("GradDotSum depends on GOMAXPROCS: %s against %s", hashes[0], hashes[1])
	}
}
