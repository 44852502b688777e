package model

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"gonum.org/v1/gonum/mat"
)

const python = "/usr/bin/python3"

// requireTorch skips the test when python cannot import torch and functorch, unless
// SGDPRIOR_REQUIRE_TOOLS=1, in which case it fails.
func requireTorch(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import torch, functorch").CombinedOutput()
	if err == nil {
		return
	}
	msg := python + " cannot import torch and functorch: " + string(out) + err.Error()
	if os.Getenv("SGDPRIOR_REQUIRE_TOOLS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// torchLayers describes m as the PyTorch modules testdata/cnn_torch.py builds.
func torchLayers(m *ConvNet) []map[string]any {
	var ls []map[string]any
	for _, st := range m.stages {
		switch st.kind {
		case stageConv:
			ls = append(ls, map[string]any{"type": "conv", "cin": st.cin, "cout": st.cout, "k": st.k, "s": st.s, "p": st.p})
		case stageMax:
			ls = append(ls, map[string]any{"type": "max", "k": st.k})
		case stageAvg:
			ls = append(ls, map[string]any{"type": "avg", "k": st.k})
		}
	}
	ls = append(ls, map[string]any{"type": "flatten"})
	for l, ly := range m.tail.layers {
		ls = append(ls, map[string]any{"type": "linear", "in": ly.In, "out": ly.Out, "act": l < len(m.tail.layers)-1})
	}
	return ls
}

// TestCNNTorch compares the loss, per-example losses, per-example gradients, HVP and
// per-example HVPs with PyTorch (functorch vmap(grad), double backward) on the same weights
// and data, in float64, to 1e-12 relative.
func TestCNNTorch(t *testing.T) {
	requireTorch(t)
	for ci, tc := range []cnnCase{
		{spec: "cnn:c3k3p1,max2,c2k2s2,f4", opt: Options{Act: "relu"}, shape: []int{2, 6, 6}, K: 3, n: 9},
		{spec: "cnn:c2k3s2p1,avg2,f4", shape: []int{2, 7, 9}, K: 3, n: 7},
		{spec: "cnn:c3k3,max2,c2k2,f5,f3", shape: []int{1, 9, 9}, K: 4, n: 6},
		{spec: "cnn:c2k3,avg2,c3k2s1p1", opt: Options{Task: "regress", Sigma: 0.8}, shape: []int{3, 7, 7}, n: 5},
	} {
		m, b, theta := tc.setup(t, uint64(ci)+40)
		n, d := b.Len(), m.NumParams()
		rng := rand.New(rand.NewPCG(uint64(ci), 17))
		v := randVec(rng, d)
		V := mat.NewDense(n, d, randSlice(rng, n*d))
		head := "categorical"
		if m.Head() == Gaussian {
			head = "gaussian"
		}
		in, err := json.Marshal(map[string]any{
			"layers": torchLayers(m), "act": m.Activation().String(), "head": head, "sigma": m.Sigma(), "K": tc.K,
			"shape": tc.shape, "theta": theta, "X": b.X.RawMatrix().Data, "y": b.Y, "v": v, "V": V.RawMatrix().Data,
		})
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(python, "testdata/cnn_torch.py")
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.spec, err, stderr.String())
		}
		var ref struct {
			Loss      float64   `json:"loss"`
			PerExLoss []float64 `json:"perex_loss"`
			PerExGrad []float64 `json:"perex_grads"`
			HVP       []float64 `json:"hvp"`
			PerExHVP  []float64 `json:"perex_hvp"`
		}
		if err := json.Unmarshal(out, &ref); err != nil {
			t.Fatal(err)
		}
		loss := m.Loss(nil, theta, b)
		pl := make([]float64, n)
		m.PerExampleLoss(pl, theta, b)
		var PG, PH mat.Dense
		m.PerExampleGrads(&PG, theta, b)
		hv := make([]float64, d)
		m.HessVec(hv, theta, b, v)
		m.PerExampleHessVec(&PH, theta, b, V)
		for _, c := range []struct {
			what      string
			got, want []float64
		}{
			{"loss", []float64{loss}, []float64{ref.Loss}},
			{"per-example losses", pl, ref.PerExLoss},
			{"per-example gradients", PG.RawMatrix().Data, ref.PerExGrad},
			{"HVP", hv, ref.HVP},
			{"per-example HVPs", PH.RawMatrix().Data, ref.PerExHVP},
		} {
			if len(c.got) != len(c.want) {
				t.Fatalf("%s: %s: %d values, PyTorch %d", tc.spec, c.what, len(c.got), len(c.want))
			}
			e := relErr(c.got, c.want)
			t.Logf("%s: %s rel err %.3g", tc.spec, c.what, e)
			if e > 1e-12 {
				t.Errorf("%s: %s differ from PyTorch: rel err %.3g", tc.spec, c.what, e)
			}
		}
	}
}
