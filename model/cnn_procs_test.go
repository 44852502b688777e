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

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// TestCNNGOMAXPROCS computes Loss (with gradient), GradDotSum, HessVec, Gram,
// PerExampleHessVec and the cache's GradDotSum of a ConvNet in
// child processes at GOMAXPROCS 1 and 4 (the helper pool is sized once per process): the
// hashes of the bits must agree.
func TestCNNGOMAXPROCS(t *testing.T) {
	const env = "SGDPRIOR_CNN_CHILD"
	if os.Getenv(env) != "" {
		tc := cnnCase{spec: "cnn:c6k5p2,max2,c16k5,max2,f32", shape: []int{1, 28, 28}, K: 10, n: 6*cnnChunk + 17}
		m, b, theta := tc.setup(t, 9)
		n, d := b.Len(), m.NumParams()
		u := randVec(rand.New(rand.NewPCG(10, 10)), d)
		mean := make([]float64, d)
		loss := m.Loss(mean, theta, b)
		w, cu, hv := make([]float64, n), make([]float64, d), make([]float64, d)
		m.GradDotSum(cu, w, theta, b, u, dot(mean, u), 1/float64(n), 1)
		m.HessVec(hv, theta, b, u)
		c := m.NewGradCache(theta, b)
		cw, ccu := make([]float64, n), make([]float64, d)
		c.GradDotSum(ccu, cw, u, dot(mean, u), 1/float64(n), 1)
		var G, HV mat.Dense
		m.Gram(&G, theta, b)
		m.PerExampleHessVec(&HV, theta, b, mat.NewDense(n, d, randVec(rand.New(rand.NewPCG(11, 11)), n*d)))
		h := fnv.New64a()
		for _, v := range append(append(append(append(append(append(append(append(w, cu...), hv...), mean...), cw...), ccu...), G.RawMatrix().Data...), HV.RawMatrix().Data...), loss) {
			h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
		}
		fmt.Printf("cnnhash %x pool %d\n", h.Sum64(), kernel.Pool.Size())
		return
	}
	if testing.Short() {
		t.Skip("runs child processes")
	}
	var hashes []string
	for _, procs := range []string{"1", "4"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCNNGOMAXPROCS$", "-test.v")
		cmd.Env = append(os.Environ(), env+"=1", "GOMAXPROCS="+procs)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOMAXPROCS=%s: %v\n%s", procs, err, out)
		}
		i := strings.Index(string(out), "cnnhash ")
		if i < 0 {
			t.Fatalf("GOMAXPROCS=%s: no hash in\n%s", procs, out)
		}
		line := strings.Fields(string(out[i:]))
		t.Logf("GOMAXPROCS=%s: hash %s, %s helpers", procs, line[1], line[3])
		hashes = append(hashes, line[1])
	}
	if hashes[0] != hashes[1] {
		t.Errorf("ConvNet results depend on GOMAXPROCS: %s against %s", hashes[0], hashes[1])
	}
}
