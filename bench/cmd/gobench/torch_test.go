package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sgdprior/sgdprior/data"
)

// TestTorchLeNet runs the PyTorch side of the harness (bench/torch_bench.py) on the tiny
// inputs for LeNet-5's workloads and compares every implementation's result with
// gobench's: the covariance product (functorch vmap, unfold, jvp+vjp), the Gram matrix
// (vmap, unfold) and the HVP (double backward, forward over reverse), each to 1e-12
// relative (float64 on both sides, sums of a few thousand products in different orders).
// The chains run too; the script itself requires its grouped-convolution gradients to
// match functorch's to 1e-10 and the chains to stay finite. Skipped without Debian's
// python3-torch, failed under SGDPRIOR_REQUIRE_TOOLS=1.
func TestTorchLeNet(t *testing.T) {
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import torch, functorch, numpy").CombinedOutput(); err != nil {
		msg := python + " cannot import torch, functorch and numpy: " + string(out) + err.Error()
		if os.Getenv("SGDPRIOR_REQUIRE_TOOLS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	if err := run([]string{"-prepare", "-small", "-dir", dir}, io.Discard); err != nil {
		t.Fatal(err)
	}
	ws := "lenet_cov_16,lenet_gram_16,lenet_hvp_16"
	if err := run([]string{"-dir", dir, "-only", ws, "-mintime", "1ms"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("..", "..", "torch_bench.py"), "--dir", dir, "--threads", "1",
		"--only", ws+",chains_lenet", "--mintime", "0.001")
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("torch_bench.py: %v\n%s", err, out)
	}
	for _, c := range []struct{ w, impl string }{
		{"lenet_cov_16", "perex_vmap"}, {"lenet_cov_16", "perex_unfold"}, {"lenet_cov_16", "jvp_vjp"},
		{"lenet_gram_16", "perex_vmap"}, {"lenet_gram_16", "perex_unfold"},
		{"lenet_hvp_16", "double_backward"}, {"lenet_hvp_16", "fwd_over_rev"},
	} {
		g, err := readFlat(filepath.Join(dir, "go_"+buildTag()+"_"+c.w+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := readFlat(filepath.Join(dir, "torch_1_"+c.w+"_"+c.impl+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if e := rel(p, g); !(e <= 1e-12) {
			t.Errorf("%s, PyTorch %s: relative difference %.3g from sgdprior's", c.w, c.impl, e)
		}
	}
}

// readFlat reads a 1-D or 2-D .npy file as a flat slice (row-major).
func readFlat(path string) ([]float64, error) {
	if v, err := data.ReadVector(path); err == nil {
		return v, nil
	}
	m, err := data.ReadMatrix(path)
	if err != nil {
		return nil, err
	}
	return m.RawMatrix().Data, nil
}
