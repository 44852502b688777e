package model

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// sparseBatch draws n examples of p features, each nonzero with probability 0.2, with the
// first three features zero in every example and every ninth example all zeros.
func sparseBatch(rng *rand.Rand, n, p, K int) Batch {
	b := randBatch(rng, n, p, K)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			if j < 3 || i%9 == 4 || rng.Float64() >= 0.2 {
				b.X.Set(i, j, 0)
			}
		}
	}
	return b
}

// TestCompressLayout rebuilds X from the compressed rows and from each chunk's compressed
// columns: both must give X bitwise, and dense features must stay uncompressed.
func TestCompressLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	const n, p = 3*chunkRows + 17, 40
	b := Compress(sparseBatch(rng, n, p, 3))
	f := b.Sparse
	if f == nil {
		t.Fatal("a batch of density 0.2 was not compressed")
	}
	if d := f.Density(); d < 0.15 || d > 0.2 {
		t.Errorf("density %v, want about 0.2·37/40·8/9 = 0.164", d)
	}
	fromRows, fromCols := mat.NewDense(n, p, nil), mat.NewDense(n, p, nil)
	for i := 0; i < n; i++ {
		for k := f.rptr[i]; k < f.rptr[i+1]; k++ {
			fromRows.Set(i, int(f.ridx[k]), f.rval[k])
		}
	}
	for ch := 0; ch*chunkRows < n; ch++ {
		ptr := f.cptr[ch*(p+1) : (ch+1)*(p+1)]
		for j := 0; j < p; j++ {
			last := -1
			for k := ptr[j]; k < ptr[j+1]; k++ {
				r := int(f.cidx[k])
				if r <= last {
					t.Fatalf("chunk %d column %d: rows not increasing", ch, j)
				}
				last = r
				fromCols.Set(ch*chunkRows+r, j, f.cval[k])
			}
		}
	}
	if !mat.Equal(fromRows, b.X) || !mat.Equal(fromCols, b.X) {
		t.Error("the compressed rows or columns do not rebuild X")
	}
	dense := randBatch(rng, 50, p, 3)
	if Compress(dense).Sparse != nil {
		t.Error("a dense batch was compressed")
	}
}

// TestSparseAgainstDense computes every method, CovTangents and HessVecs on a compressed
// batch and on the same batch uncompressed. The compressed path sums the first layer's
// products over the nonzeros in another order: 1e-12 relative, the file's usual tolerance
// (measured worst about 1e-15). The batches have one chunk, two chunks and five chunks (the
// two lanes at once); widths 20, 24 and 16 take the compressed path, softmax (3 outputs) does
// not and must be bitwise unchanged. Then the compressed values alone are scaled: results
// that use the rows (the loss) or the columns (gradient sums) must change, so the compressed
// path was the one computed.
func TestSparseAgainstDense(t *testing.T) {
	const tol = 1e-12
	cases := []testCase{
		{name: "mlp-tanh", spec: "mlp:20", p: 37, K: 4, n: 40, thScale: 0.3},
		{name: "mlp2-relu", spec: "mlp:24,5", opt: Options{Act: "relu"}, p: 37, K: 3, n: 2*chunkRows - 11, thScale: 0.3},
		{name: "mlp-regress", spec: "mlp:16", opt: Options{Task: "regress", Sigma: 0.8}, p: 37, n: 5*chunkRows - 3, thScale: 0.3},
		{name: "mlp-wide", spec: "mlp:33", p: 700, K: 5, n: 3*chunkRows + 1, thScale: 0.05},
		{name: "softmax", spec: "softmax", p: 37, K: 3, n: 300, thScale: 0.3},
	}
	for ci, tc := range cases {
		net, err := NewNetwork(tc.spec, tc.p, tc.K, tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(ci), 9))
		b := sparseBatch(rng, tc.n, tc.p, tc.K)
		theta := randSlice(rng, net.NumParams())
		for i := range theta {
			theta[i] *= tc.thScale
		}
		sb := Compress(b)
		if sb.Sparse == nil {
			t.Fatalf("%s: not compressed", tc.name)
		}
		n, d := b.Len(), net.NumParams()
		u, w := randVec(rng, d), randVec(rng, n)
		V := mat.NewDense(n, d, randVec(rng, n*d))
		names, want := everyMethod(net, theta, b, u, w, V)
		_, got := everyMethod(net, theta, sb, u, w, V)
		ut, xt, mu := tangentInputs(net, theta, b, uint64(ci))
		wt, ws := runTangents(net, theta, b, ut, xt, mu)
		gt, gs := runTangents(net, theta, sb, ut, xt, mu)
		vs := [][]float64{randVec(rng, d), randVec(rng, d), u}
		wh, gh := make([][]float64, 3), make([][]float64, 3)
		for k := range vs {
			wh[k], gh[k] = make([]float64, d), make([]float64, d)
		}
		net.HessVecs(wh, theta, b, vs)
		net.HessVecs(gh, theta, sb, vs)
		for q := range wt {
			names = append(names, "CovTangents dst", "CovTangents s")
			want, got = append(want, wt[q], ws[q]), append(got, gt[q], gs[q])
		}
		for k := range vs {
			names = append(names, "HessVecs")
			want, got = append(want, wh[k]), append(got, gh[k])
		}
		uses := net.layers[0].Out >= sparseMinOut
		for k := range want {
			if !uses {
				if !equalSlices(got[k], want[k]) {
					t.Errorf("%s: %s changed though the compressed path is not taken", tc.name, names[k])
				}
				continue
			}
			if e := relErr(got[k], want[k]); e > tol {
				t.Errorf("%s: %s: relative error %g", tc.name, names[k], e)
			}
		}
		if !uses {
			continue
		}
		// The compressed values, not X, must be what the products read.
		g1, g2 := make([]float64, d), make([]float64, d)
		l1 := net.Loss(g1, theta, sb)
		f := *sb.Sparse
		f.rval = scaled(f.rval, 2)
		bad := sb
		bad.Sparse = &f
		if l2 := net.Loss(nil, theta, bad); l2 == l1 {
			t.Errorf("%s: the loss does not read the compressed rows", tc.name)
		}
		f = *sb.Sparse
		f.cval = scaled(f.cval, 2)
		bad.Sparse = &f
		l2 := net.Loss(g2, theta, bad)
		if l2 != l1 || relErr(g2, g1) < 1e-3 {
			t.Errorf("%s: the gradient does not read the compressed columns (loss %v → %v)", tc.name, l1, l2)
		}
	}
}

func scaled(v []float64, c float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = c * x
	}
	return out
}

// TestSparseThreadsBitwise is TestThreadsBitwise on a compressed batch of five chunks: with
// and without the helper pool the results must be bitwise identical.
func TestSparseThreadsBitwise(t *testing.T) {
	if kernel.Pool.Size() == 0 {
		t.Skip("GOMAXPROCS = 1: no helpers to compare with")
	}
	net, err := NewNetwork("mlp:24,6", 45, 4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	b := Compress(sparseBatch(rng, (laneParMin+1)*chunkRows+44, 45, 4))
	n, d := b.Len(), net.NumParams()
	theta := randVec(rng, d)
	u, w := randVec(rng, d), randVec(rng, n)
	V := mat.NewDense(n, d, randVec(rng, n*d))
	names, par := everyMethod(net, theta, b, u, w, V)
	kernel.SetSerialOnly(true)
	_, ser := everyMethod(net, theta, b, u, w, V)
	kernel.SetSerialOnly(false)
	for k := range par {
		if !equalSlices(par[k], ser[k]) {
			t.Errorf("%s differs between the threaded and the serial runs", names[k])
		}
	}
}

// TestSparseMismatch checks that a Sparse built from another X is refused.
func TestSparseMismatch(t *testing.T) {
	net, err := NewNetwork("mlp:20", 37, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	b := Compress(sparseBatch(rng, 50, 37, 3))
	other := sparseBatch(rng, 50, 37, 3)
	other.Sparse = b.Sparse
	defer func() {
		if recover() == nil {
			t.Error("a Sparse of another X was accepted")
		}
	}()
	net.Loss(nil, randVec(rng, net.NumParams()), other)
}
