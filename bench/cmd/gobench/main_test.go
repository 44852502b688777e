package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/model"
)

// TestSmall runs -prepare and the per-example workloads on the tiny inputs, and checks the
// saved covariance product and Gram matrix against a dense computation from the
// materialised per-example gradients (Model.PerExampleGrads): C u = (1/n) Σ (g_i − ḡ)(g_i − ḡ)ᵀu
// and G = P Pᵀ. Tolerance 1e-12 relative: both are sums of a few thousand products.
func TestSmall(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-prepare", "-small", "-dir", dir}, io.Discard); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.json")
	if err := run([]string{"-dir", dir, "-only", "cov_16,gram_16,hvp_16,chains_logistic,lenet_cov_16,lenet_gram_16,lenet_hvp_16,chains_lenet", "-mintime", "1ms", "-out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rep Report
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 8 {
		t.Fatalf("got %d results, want 8", len(rep.Results))
	}
	for _, r := range rep.Results {
		if !(r.Seconds > 0) || r.Reps < 1 || (strings.HasPrefix(r.Name, "chains_") && !(r.Rate > 0)) {
			t.Errorf("%s: implausible result %+v", r.Name, r)
		}
	}
	in, err := loadInputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	net, err := model.New("mlp:8", 784, 10, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkSaved(t, dir, "", net, in.theta, in)
	lenet, err := newLeNet()
	if err != nil {
		t.Fatal(err)
	}
	checkSaved(t, dir, "lenet_", lenet, in.lenetTh, in)
	// LeNet-5's geometry, counted by hand: forward products 2·(6·25·784 + 16·150·100 +
	// 120·400 + 84·120 + 10·84) = 833040, the first convolution 235200; the Gram matrix's
	// multiply–adds per pair 6·26 + 16·151 + (400+120) + (120+84) + (84+10) = 3390.
	if m := in.meta; m.LeNetD != 61706 || m.LeNetFwdFlops != 833040 || m.LeNetL1Flops != 235200 || m.LeNetGramDims != 3390 {
		t.Errorf("LeNet-5 meta: d %d, forward %g, first %g, Gram %d", m.LeNetD, m.LeNetFwdFlops, m.LeNetL1Flops, m.LeNetGramDims)
	}
}

// checkSaved compares the saved covariance product and Gram matrix of net on the first
// in.meta.N examples with a dense computation from the materialised per-example gradients
// (Model.PerExampleGrads): C u = (1/n) Σ (g_i − ḡ)(g_i − ḡ)ᵀu and G = P Pᵀ, and the saved
// HVP with the central difference of the mean gradient along v, [∇L(θ+hv) − ∇L(θ−hv)]/2h
// with h‖v‖ = 1e-5 (max pooling is smooth only between ties: a step this small crosses none
// on these random images). Tolerances: 1e-12 relative for the first two (sums of a few
// thousand products); 1e-6 for the difference quotient (truncation O((h‖v‖)²) ≈ 1e-10,
// round-off ε‖∇L‖/(h‖v‖) ≈ 1e-11, relative to ‖Hv‖; measured 1.2e-10 for mlp:8 and
// 2.6e-10 for LeNet-5, so the bound is loose by 4 orders: it catches a wrong product, whose
// error is O(1) — the 1e-4 step that crossed max-pooling ties gave 0.73 — not a small one).
func checkSaved(t *testing.T, dir, prefix string, net model.Model, theta []float64, in *inputs) {
	t.Helper()
	n := in.meta.N
	u, v := in.u, in.v
	if prefix == "lenet_" {
		u, v = in.lenetU, in.lenetV
	}
	batch := model.Batch{X: in.X.Slice(0, n, 0, 784).(*mat.Dense), Y: in.Y[:n]}
	d := net.NumParams()
	P := mat.NewDense(n, d, nil)
	net.PerExampleGrads(P, theta, batch)
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range P.RawRowView(i) {
			mean[j] += v / float64(n)
		}
	}
	want := make([]float64, d)
	for i := 0; i < n; i++ {
		row := P.RawRowView(i)
		var a float64
		for j := range row {
			a += (row[j] - mean[j]) * u[j]
		}
		for j := range row {
			want[j] += a * (row[j] - mean[j]) / float64(n)
		}
	}
	name := fmt.Sprintf("%scov_%d", prefix, n)
	got, err := data.ReadVector(filepath.Join(dir, "go_"+buildTag()+"_"+name+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	if e := rel(got, want); e > 1e-12 {
		t.Errorf("%s: relative error %g against the dense covariance product", name, e)
	}
	var G mat.Dense
	G.Mul(P, P.T())
	name = fmt.Sprintf("%sgram_%d", prefix, n)
	gotG, err := data.ReadMatrix(filepath.Join(dir, "go_"+buildTag()+"_"+name+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	if e := rel(gotG.RawMatrix().Data, G.RawMatrix().Data); e > 1e-12 {
		t.Errorf("%s: relative error %g against P Pᵀ", name, e)
	}
	h := 1e-5 / floats.Norm(v, 2)
	tp, tm := make([]float64, d), make([]float64, d)
	gp, gm := make([]float64, d), make([]float64, d)
	for j := range theta {
		tp[j], tm[j] = theta[j]+h*v[j], theta[j]-h*v[j]
	}
	net.Loss(gp, tp, batch)
	net.Loss(gm, tm, batch)
	for j := range gp {
		gp[j] = (gp[j] - gm[j]) / (2 * h)
	}
	name = fmt.Sprintf("%shvp_%d", prefix, n)
	gotH, err := data.ReadVector(filepath.Join(dir, "go_"+buildTag()+"_"+name+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	if e := rel(gotH, gp); e > 1e-6 {
		t.Errorf("%s: relative error %g against the central difference of the gradient", name, e)
	}
}

func rel(x, y []float64) float64 {
	if len(x) != len(y) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range x {
		num += (x[i] - y[i]) * (x[i] - y[i])
		den += y[i] * y[i]
	}
	return math.Sqrt(num / den)
}

// TestServe sends the harness's requests to serve on the tiny inputs: the list of
// workloads, one measurement, and a bad request (an error).
func TestServe(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-prepare", "-small", "-dir", dir}, io.Discard); err != nil {
		t.Fatal(err)
	}
	in, err := loadInputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := serve(in, dir, strings.NewReader("list\nrun cov_16 1ms\n"), &out); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(out.String()))
	var list struct{ Workloads []string }
	var res Result
	if err := dec.Decode(&list); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&res); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"gemm_peak", "gemm_1t", "cov_16", "gram_64", "chains_mlp32", "lenet_cov_16", "lenet_hvp_64", "chains_lenet"} {
		if !slices.Contains(list.Workloads, w) {
			t.Errorf("list lacks %s: %v", w, list.Workloads)
		}
	}
	if res.Name != "cov_16" || !(res.Median > 0) || res.Reps < 1 {
		t.Errorf("measurement %+v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "go_"+buildTag()+"_cov_16.npy")); err != nil {
		t.Errorf("result not saved: %v", err)
	}
	if err := serve(in, dir, strings.NewReader("run nothing 1ms\n"), io.Discard); err == nil {
		t.Error("no error for an unknown workload")
	}
}
