package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Options configures New. The zero value means the defaults.
type Options struct {
	// Act is the hidden-layer activation of an mlp: "tanh" (default) or "relu". Linear
	// models have no hidden layer and ignore it (an unknown value is still an error).
	Act string
	// Task is what an mlp's output models: "classify" (default; a categorical output over
	// the numClasses classes) or "regress" (one Gaussian output of scale Sigma). linreg
	// always regresses and logistic/softmax always classify: a contradicting Task is an
	// error.
	Task string
	// Sigma is the noise scale σ of a Gaussian output, ℓ = (z − y)²/(2σ²) (MATH.md §1);
	// 0 means the default 1. Classification models ignore it.
	Sigma float64
	// Shape is the layout of one example's features as an image, (C, H, W) in PyTorch's
	// channel-major order, with C·H·W = numInputs; nil for tabular data. Convolutional
	// models ("cnn:…") need it; the dense models ignore it.
	Shape []int
}

// Head is the output distribution of a network.
type Head int

const (
	// Gaussian: one output z, ℓ = (z − y)²/(2σ²) (no additive constant).
	Gaussian Head = iota
	// Bernoulli: one logit z modelling P(class 1 | x) = sigmoid(z), ℓ = softplus(z) − y·z.
	Bernoulli
	// Categorical: K logits z, ℓ = logsumexp(z) − z_y.
	Categorical
)

func (h Head) String() string {
	switch h {
	case Gaussian:
		return "gaussian"
	case Bernoulli:
		return "bernoulli"
	case Categorical:
		return "categorical"
	}
	return "Head(" + strconv.Itoa(int(h)) + ")"
}

// Activation is a hidden-layer nonlinearity φ.
type Activation int

const (
	// Tanh: φ = tanh, φ' = 1 − φ², φ'' = −2φ(1 − φ²).
	Tanh Activation = iota
	// ReLU: φ = max(z, 0), φ' = [z > 0] (0 at the kink, as in PyTorch), φ'' = 0.
	ReLU
)

func (a Activation) String() string {
	switch a {
	case Tanh:
		return "tanh"
	case ReLU:
		return "relu"
	}
	return "Activation(" + strconv.Itoa(int(a)) + ")"
}

// Layer describes one affine layer z = W a + b of a Network and where its parameters sit
// in θ: W (Out×In, row-major) at θ[WeightOffset : WeightOffset+Out·In], so that
// W[r][c] = θ[WeightOffset + r·In + c], then b at θ[BiasOffset : BiasOffset+Out]
// (BiasOffset = WeightOffset + Out·In). This is the order of PyTorch's
// nn.Sequential(nn.Linear, act, nn.Linear, …).parameters().
type Layer struct {
	In, Out                  int
	WeightOffset, BiasOffset int
}

// Network is a dense feed-forward network with an exact, batched negative log-likelihood:
// affine layers z_l = W_l a_{l−1} + b_l with a_0 = x, a_l = φ(z_l) for the hidden layers,
// and the last layer's z feeding the output distribution (Head). A linear model is a
// network with no hidden layer. It implements Model; create one with New.
//
// Batched derivatives follow BackPACK (Dangel, Kunstner, Hennig 2020): with the forward
// activations A_l (n×width) and the back-propagated errors Δ_l = ∂ℓ_i/∂z_l (n×out, one row
// per example, not divided by n), the per-example gradient of layer l is
// outer(Δ_{l,i}, A_{l−1,i}) for W_l and Δ_{l,i} for b_l. Hessian–vector products use
// Pearlmutter's R-operator (forward-over-reverse, Pearlmutter 1994).
type Network struct {
	name   string
	head   Head
	act    Activation
	sigma  float64
	layers []Layer
	d      int

	s  *scratch // created on first use; never shared between Networks
	lj *laneJob // lane 1 (lanes.go), created on first use; never shared
	gj *gramJob // the tiles of Gram, created on first use; never shared
	la laneArgs // the arguments of the current batched call

	// One-element lists for single-direction calls (no allocation per call).
	vec1, out1, sum1 [1][]float64
}

var _ Model = (*Network)(nil)

// maxWidth bounds the widths an mlp spec may ask for.
const maxWidth = 1 << 20

// New builds a model by name:
//
//   - "linreg": z = wᵀx + b, Gaussian NLL ℓ = (z − y)²/(2σ²), σ = opt.Sigma (default 1);
//     numClasses must be 0 (a numeric target).
//   - "logistic": one logit z = wᵀx + b, ℓ = softplus(z) − y·z with y ∈ {0, 1}
//     (P(class 1 | x) = sigmoid(z)); numClasses must be 2.
//   - "softmax": K = numClasses ≥ 2 logits z = W x + b, ℓ = logsumexp(z) − z_y.
//   - "mlp:H1,H2,…": hidden layers of widths H1, H2, … with activation opt.Act, then a
//     categorical output over numClasses ≥ 2 classes, or with opt.Task "regress" one
//     Gaussian output of scale opt.Sigma (numClasses must be 0).
//   - "cnn:T1,T2,…": a ConvNet (see NewConvNet; tokens c<C>k<K>[s<S>][p<P>], max<K>,
//     avg<K>, f<H>) on images of shape opt.Shape.
//
// numInputs is p, the number of features. Errors are one line and name what is wrong.
func New(spec string, numInputs, numClasses int, opt Options) (Model, error) {
	if spec == "cnn" || strings.HasPrefix(spec, "cnn:") {
		return NewConvNet(spec, numInputs, numClasses, opt)
	}
	return NewNetwork(spec, numInputs, numClasses, opt)
}

// NewNetwork is New returning the concrete type.
func NewNetwork(spec string, numInputs, numClasses int, opt Options) (*Network, error) {
	act := Tanh
	switch opt.Act {
	case "", "tanh":
	case "relu":
		act = ReLU
	default:
		return nil, fmt.Errorf("model: unknown activation %q (want tanh or relu)", opt.Act)
	}
	switch opt.Task {
	case "", "classify", "regress":
	default:
		return nil, fmt.Errorf("model: unknown task %q (want classify or regress)", opt.Task)
	}
	sigma := opt.Sigma
	if sigma == 0 {
		sigma = 1
	}
	if !(sigma > 0) || math.IsInf(sigma, 1) {
		return nil, fmt.Errorf("model: sigma must be positive and finite, got %v", opt.Sigma)
	}
	if numInputs < 1 {
		return nil, fmt.Errorf("model: need at least one input feature, got %d", numInputs)
	}
	if numClasses < 0 {
		return nil, fmt.Errorf("model: negative number of classes %d", numClasses)
	}
	classes := func() string {
		if numClasses == 0 {
			return "a numeric target"
		}
		return strconv.Itoa(numClasses) + " classes"
	}

	var (
		name   string
		hidden []int
		head   Head
		outs   int
	)
	switch {
	case spec == "linreg":
		if opt.Task == "classify" {
			return nil, errors.New("model: linreg is a regression model; task classify needs logistic, softmax or mlp")
		}
		if numClasses != 0 {
			return nil, fmt.Errorf("model: linreg needs a numeric target, the data have %s (use logistic or softmax)", classes())
		}
		name, head, outs = spec, Gaussian, 1
	case spec == "logistic" || spec == "softmax":
		if opt.Task == "regress" {
			return nil, fmt.Errorf("model: %s is a classification model; task regress needs linreg or mlp", spec)
		}
		name = spec
		if spec == "logistic" {
			if numClasses != 2 {
				hint := ""
				if numClasses > 2 {
					hint = " (use softmax)"
				}
				return nil, fmt.Errorf("model: logistic needs 2 classes, the data have %s%s", classes(), hint)
			}
			head, outs = Bernoulli, 1
		} else {
			if numClasses < 2 {
				return nil, fmt.Errorf("model: softmax needs at least 2 classes, the data have %s", classes())
			}
			head, outs = Categorical, numClasses
		}
	case spec == "mlp" || strings.HasPrefix(spec, "mlp:"):
		var err error
		hidden, err = parseWidths(spec)
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(hidden))
		for i, h := range hidden {
			parts[i] = strconv.Itoa(h)
		}
		name = "mlp:" + strings.Join(parts, ",")
		if opt.Task == "regress" {
			if numClasses != 0 {
				return nil, fmt.Errorf("model: %s with task regress needs a numeric target, the data have %s", name, classes())
			}
			head, outs = Gaussian, 1
		} else {
			if numClasses < 2 {
				return nil, fmt.Errorf("model: %s classifies and needs at least 2 classes, the data have %s (set task regress for a numeric target)", name, classes())
			}
			head, outs = Categorical, numClasses
		}
	default:
		return nil, fmt.Errorf("model: unknown model %q (want linreg, logistic, softmax or mlp:H1,H2,…)", spec)
	}

	widths := append(append([]int{numInputs}, hidden...), outs)
	layers := make([]Layer, len(widths)-1)
	off := 0
	for l := range layers {
		in, out := widths[l], widths[l+1]
		if in > math.MaxInt/2/out || off > math.MaxInt/2-in*out-out {
			return nil, fmt.Errorf("model: %s on %d inputs has too many parameters", name, numInputs)
		}
		layers[l] = Layer{In: in, Out: out, WeightOffset: off, BiasOffset: off + out*in}
		off += out*in + out
	}
	if head != Gaussian {
		sigma = 1 // unused; keep Sigma() meaningful only for Gaussian heads
	}
	return &Network{name: name, head: head, act: act, sigma: sigma, layers: layers, d: off}, nil
}

// CheckSpec reports whether spec spells a model New accepts for some data: "linreg",
// "logistic", "softmax" or "mlp:H1,H2,…" with whole widths from 1 to maxWidth. It needs no
// data, so a study can refuse a misspelt model before it runs; whether the model fits the
// data (its classes, its size) is New's to say. Errors are New's.
func CheckSpec(spec string) error {
	switch {
	case spec == "linreg" || spec == "logistic" || spec == "softmax":
		return nil
	case spec == "mlp" || strings.HasPrefix(spec, "mlp:"):
		_, err := parseWidths(spec)
		return err
	case spec == "cnn" || strings.HasPrefix(spec, "cnn:"):
		_, err := parseCNN(spec)
		return err
	}
	return fmt.Errorf("model: unknown model %q (want linreg, logistic, softmax or mlp:H1,H2,…)", spec)
}

// parseWidths reads the hidden widths of "mlp:H1,H2,…".
func parseWidths(spec string) ([]int, error) {
	rest, ok := strings.CutPrefix(spec, "mlp:")
	if !ok || rest == "" {
		return nil, fmt.Errorf("model: %q gives no hidden widths (want mlp:H1,H2,…, e.g. mlp:32 or mlp:64,32)", spec)
	}
	fields := strings.Split(rest, ",")
	widths := make([]int, len(fields))
	for i, f := range fields {
		h, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || h < 1 || h > maxWidth {
			return nil, fmt.Errorf("model: bad hidden width %q in %q (want whole numbers from 1 to %d)", f, spec, maxWidth)
		}
		widths[i] = h
	}
	return widths, nil
}

// Name returns the model's canonical spelling ("linreg", "logistic", "softmax",
// "mlp:32,16").
func (n *Network) Name() string { return n.name }

// NumParams returns d = Σ_l Out_l·(In_l + 1).
func (n *Network) NumParams() int { return n.d }

// NumInputs returns p.
func (n *Network) NumInputs() int { return n.layers[0].In }

// NumOutputs returns the width of the last layer: K for a categorical head, 1 otherwise.
func (n *Network) NumOutputs() int { return n.layers[len(n.layers)-1].Out }

// Head returns the output distribution.
func (n *Network) Head() Head { return n.head }

// Activation returns the hidden-layer activation (meaningless without hidden layers).
func (n *Network) Activation() Activation { return n.act }

// Sigma returns the noise scale σ of a Gaussian head (1 for other heads).
func (n *Network) Sigma() float64 { return n.sigma }

// Layers returns the parameter layout, input layer first (a fresh copy).
func (n *Network) Layers() []Layer { return append([]Layer(nil), n.layers...) }

// ParamName names θ[j]: "W{l}[r,c]" for weight row r, column c of layer l (1-based layer,
// 0-based r and c), "b{l}[r]" for a bias. It panics if j is out of range.
func (n *Network) ParamName(j int) string {
	for l, ly := range n.layers {
		switch {
		case j >= ly.WeightOffset && j < ly.BiasOffset:
			q := j - ly.WeightOffset
			return fmt.Sprintf("W%d[%d,%d]", l+1, q/ly.In, q%ly.In)
		case j >= ly.BiasOffset && j < ly.BiasOffset+ly.Out:
			return fmt.Sprintf("b%d[%d]", l+1, j-ly.BiasOffset)
		}
	}
	panic(fmt.Sprintf("model: parameter index %d out of range [0, %d)", j, n.d))
}

// Clone returns a Network with the same architecture and its own scratch space.
func (n *Network) Clone() Model {
	c := *n
	c.layers = n.Layers()
	c.s, c.lj, c.gj, c.la = nil, nil, nil, laneArgs{}
	c.vec1, c.out1, c.sum1 = [1][]float64{}, [1][]float64{}, [1][]float64{}
	return &c
}

// InitParams fills dst (length m.NumParams()) with PyTorch's default nn.Linear
// initialisation: every weight and bias of layer l uniform on ±1/√In_l (kaiming_uniform
// with a = √5 gives exactly this bound for weights). Values are drawn in θ order (layer by
// layer, weights row-major, then biases) as (2u − 1)/√In_l with u = rng.Float64(). m must
// describe its layout with a ParamBlocks method (as *Network and *ConvNet do; a ConvNet's
// conv weights and biases have fan-in Cin·K·K); InitParams panics otherwise.
func InitParams(dst []float64, m Model, rng *rand.Rand) {
	bm, ok := m.(interface{ ParamBlocks() []ParamBlock })
	if !ok {
		panic(fmt.Sprintf("model: InitParams: %s does not describe its parameter blocks", m.Name()))
	}
	if len(dst) != m.NumParams() {
		panic(fmt.Sprintf("model: InitParams: len(dst) = %d, want %d", len(dst), m.NumParams()))
	}
	for _, bl := range bm.ParamBlocks() {
		bound := 1 / math.Sqrt(float64(bl.FanIn))
		for j := bl.Offset; j < bl.Offset+bl.Len; j++ {
			dst[j] = (2*rng.Float64() - 1) * bound
		}
	}
}
