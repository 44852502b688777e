package model

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestTmpGramAllocs(t *testing.T) {
	tc := testCase{name: "mlp", spec: "mlp:64,8", p: 200, K: 5, n: chunkRows + 44, thScale: 0.1}
	net, b, theta := tc.setup(t, 1)
	n := b.Len()
	G := mat.NewDense(n, n, nil)
	f := func() { net.Gram(G, theta, b) }
	f()
	tot := 0.0
	for i := 0; i < 200; i++ {
		tot += testing.AllocsPerRun(5, f)
	}
	t.Logf("total %v", tot)
}
