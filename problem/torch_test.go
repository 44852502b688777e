package problem

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
)

const python = "/usr/bin/python3"

// TestDigitsConvNetTorch checks the whole path from the embedded digits to a cnn: the
// image shape, the row layout and the standardisation problem.Load gives the model, against
// PyTorch on the same CSV read, standardised and reshaped to (N, 1, 8, 8) by NumPy
// (testdata/digits_cnn_torch.py): the mean loss and its gradient agree to 1e-12 relative.
// It skips when python3 cannot import torch, unless SGDPRIOR_REQUIRE_TOOLS=1.
func TestDigitsConvNetTorch(t *testing.T) {
	if out, err := exec.Command(python, "-c", "import torch, numpy").CombinedOutput(); err != nil {
		msg := python + " cannot import torch and numpy (Debian: python3-torch, python3-numpy): " + string(out) + err.Error()
		if os.Getenv("SGDPRIOR_REQUIRE_TOOLS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s := DefaultSpec()
	s.Data, s.Model = "digits", "cnn:c4k3,max2,f16"
	p, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 5))
	theta := make([]float64, p.D())
	for i := range theta {
		theta[i] = rng.NormFloat64() * 0.3
	}
	in, err := json.Marshal(map[string]any{"csv": "../data/embedded/digits.csv", "theta": theta})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "testdata/digits_cnn_torch.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var ref struct {
		Loss float64   `json:"loss"`
		Grad []float64 `json:"grad"`
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}
	grad := make([]float64, p.D())
	loss := p.Model.Loss(grad, theta, p.Batch)
	if e := math.Abs(loss-ref.Loss) / math.Abs(ref.Loss); e > 1e-12 {
		t.Errorf("loss %v, PyTorch %v: rel err %.3g", loss, ref.Loss, e)
	}
	if len(ref.Grad) != len(grad) {
		t.Fatalf("gradient of %d values, PyTorch %d", len(grad), len(ref.Grad))
	}
	var num, den float64
	for i := range grad {
		num += (grad[i] - ref.Grad[i]) * (grad[i] - ref.Grad[i])
		den += ref.Grad[i] * ref.Grad[i]
	}
	if e := math.Sqrt(num / den); e > 1e-12 {
		t.Errorf("gradient differs from PyTorch: rel err %.3g", e)
	} else {
		t.Logf("loss rel err %.3g, gradient rel err %.3g", math.Abs(loss-ref.Loss)/math.Abs(ref.Loss), e)
	}
}
