package main

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
	if err := run([]string{"-dir", dir, "-only", "cov_16,gram_16,hvp_16,chains_logistic", "-mintime", "1ms", "-out", out}, io.Discard); err != nil {
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
	if len(rep.Results) != 4 {
		t.Fatalf("got %d results, want 4", len(rep.Results))
	}
	for _, r := range rep.Results {
		if !(r.Seconds > 0) || r.Reps < 1 || (r.Name == "chains_logistic" && !(r.Rate > 0)) {
			t.Errorf("%s: implausible result %+v", r.Name, r)
		}
	}
	in, err := loadInputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := in.meta.N
	net, err := model.New("mlp:8", 784, 10, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	batch := model.Batch{X: in.X.Slice(0, n, 0, 784).(*mat.Dense), Y: in.Y[:n]}
	d := net.NumParams()
	P := mat.NewDense(n, d, nil)
	net.PerExampleGrads(P, in.theta, batch)
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
			a += (row[j] - mean[j]) * in.u[j]
		}
		for j := range row {
			want[j] += a * (row[j] - mean[j]) / float64(n)
		}
	}
	got, err := data.ReadVector(filepath.Join(dir, "go_"+buildTag()+"_cov_16.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if e := rel(got, want); e > 1e-12 {
		t.Errorf("cov_16: relative error %g against the dense covariance product", e)
	}
	var G mat.Dense
	G.Mul(P, P.T())
	gotG, err := data.ReadMatrix(filepath.Join(dir, "go_"+buildTag()+"_gram_16.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if e := rel(gotG.RawMatrix().Data, G.RawMatrix().Data); e > 1e-12 {
		t.Errorf("gram_16: relative error %g against P Pᵀ", e)
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
	for _, w := range []string{"gemm_peak", "gemm_1t", "cov_16", "gram_64", "chains_mlp32"} {
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
