package model

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// stageKind is the kind of a convolutional network's feature stage.
type stageKind int

const (
	stageConv stageKind = iota
	stageMax
	stageAvg
)

// cnnStage is one stage before the flatten of a ConvNet: a convolution (followed by the
// activation) or a pooling. Inputs and outputs are images of Cin×Hin×Win and Cout×Hout×Wout.
type cnnStage struct {
	kind             stageKind
	tok              string // canonical token
	k, s, p          int    // kernel, stride, padding (pooling: stride = kernel, no padding)
	cin, hin, win    int
	cout, hout, wout int
	woff, boff       int // conv: weight (Cout, Cin, K, K) at θ[woff:boff], bias (Cout) at θ[boff:]
}

// ckk returns Cin·K·K, the length of one unfolded input patch (conv stages).
func (st *cnnStage) ckk() int { return st.cin * st.k * st.k }

// ConvNet is a convolutional network: stages of 2-D convolution (PyTorch nn.Conv2d, each
// followed by the activation) and K×K pooling (max or average, stride K), then the flatten
// in PyTorch's (C, H, W) order, then a dense Network (the f<H> layers with the activation
// and the implied output layer). θ is PyTorch's model.parameters() order: each conv's
// weight (Cout, Cin, K, K) row-major then its bias, then the dense layers as in Network.
// Create one with New or NewConvNet ("cnn:…"); docs/MATH.md §1.1.
//
// Convolutions are computed on the unfolded input (im2col, done once per forward pass and
// kept for the backward pass): with U the (Cin·K·K)×(positions) matrix of input patches of
// a chunk of examples, Z = W U + b 1ᵀ, ∂W = Δ Uᵀ and ∂U = Wᵀ Δ (folded back, col2im).
type ConvNet struct {
	name   string
	shape  [3]int
	stages []cnnStage
	tail   *Network // the dense part, input = the flattened features
	toff   int      // offset of the tail's parameters in θ
	d      int
	act    Activation

	cs *cnnScratch

	vec1, out1, sum1 [1][]float64 // one-element lists (no allocation per call)
	dot1, dir1       [1][]float64 // GradDotSum's weights and direction as lists (per lane)
	lj               *cnnLaneJob  // lane 1 (cnn_lanes.go), created on first use
	la               cnnArgs      // the arguments of the current call
}

var cnnTok = regexp.MustCompile(`^c(\d+)k(\d+)(?:s(\d+))?(?:p(\d+))?$`)

// maxCNNSize bounds channels, kernels, strides and paddings in a cnn spec.
const maxCNNSize = 1 << 16

// cnnToken is one parsed token of a cnn spec.
type cnnToken struct {
	kind    stageKind
	dense   bool // f<H>
	c, k, s int
	p, h    int
	raw     string
}

// parseCNN reads the tokens of "cnn:T1,T2,…" (syntax only).
func parseCNN(spec string) ([]cnnToken, error) {
	rest, ok := strings.CutPrefix(spec, "cnn:")
	if !ok || rest == "" {
		return nil, fmt.Errorf("model: %q gives no layers (want cnn:TOKENS, e.g. cnn:c4k3,max2,f16)", spec)
	}
	num := func(s string) (int, bool) {
		v, err := strconv.Atoi(s)
		return v, err == nil && v >= 1 && v <= maxCNNSize
	}
	var toks []cnnToken
	seenDense := false
	for _, f := range strings.Split(rest, ",") {
		f = strings.TrimSpace(f)
		bad := func(why string) error {
			return fmt.Errorf("model: %s: bad token %q (%s; want c<C>k<K>[s<S>][p<P>], max<K>, avg<K> or f<H>)", spec, f, why)
		}
		var t cnnToken
		t.raw = f
		switch {
		case cnnTok.MatchString(f):
			m := cnnTok.FindStringSubmatch(f)
			var ok1, ok2 bool
			t.c, ok1 = num(m[1])
			t.k, ok2 = num(m[2])
			if !ok1 || !ok2 {
				return nil, bad("channels and kernel must be whole numbers from 1 to " + strconv.Itoa(maxCNNSize))
			}
			t.s = 1
			if m[3] != "" {
				var ok bool
				if t.s, ok = num(m[3]); !ok {
					return nil, bad("stride must be from 1 to " + strconv.Itoa(maxCNNSize))
				}
			}
			if m[4] != "" {
				v, err := strconv.Atoi(m[4])
				if err != nil || v < 0 || v > maxCNNSize {
					return nil, bad("padding must be from 0 to " + strconv.Itoa(maxCNNSize))
				}
				t.p = v
			}
			t.kind = stageConv
		case strings.HasPrefix(f, "max") || strings.HasPrefix(f, "avg"):
			k, ok := num(f[3:])
			if !ok {
				return nil, bad("pooling size must be a whole number from 1 to " + strconv.Itoa(maxCNNSize))
			}
			t.k = k
			t.kind = stageMax
			if f[:3] == "avg" {
				t.kind = stageAvg
			}
		case strings.HasPrefix(f, "f"):
			h, err := strconv.Atoi(f[1:])
			if err != nil || h < 1 || h > maxWidth {
				return nil, bad("width must be a whole number from 1 to " + strconv.Itoa(maxWidth))
			}
			t.dense, t.h = true, h
		default:
			return nil, bad("unknown layer")
		}
		if seenDense && !t.dense {
			return nil, bad("convolutions and pooling must come before the first f layer")
		}
		seenDense = seenDense || t.dense
		toks = append(toks, t)
	}
	return toks, nil
}

// canonical returns the token's canonical spelling (c4k3 without s1 and p0).
func (t cnnToken) canonical() string {
	switch {
	case t.dense:
		return "f" + strconv.Itoa(t.h)
	case t.kind == stageMax:
		return "max" + strconv.Itoa(t.k)
	case t.kind == stageAvg:
		return "avg" + strconv.Itoa(t.k)
	}
	s := fmt.Sprintf("c%dk%d", t.c, t.k)
	if t.s != 1 {
		s += "s" + strconv.Itoa(t.s)
	}
	if t.p != 0 {
		s += "p" + strconv.Itoa(t.p)
	}
	return s
}

// newConvNet builds the ConvNet of spec (checked options: act, head, outs, sigma).
func newConvNet(spec string, numInputs int, shape []int, act Activation, head Head, outs int, sigma float64) (*ConvNet, error) {
	toks, err := parseCNN(spec)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.canonical()
	}
	name := "cnn:" + strings.Join(parts, ",")
	if shape == nil {
		return nil, fmt.Errorf("model: %s needs image data with a shape (C, H, W); these data are tabular", name)
	}
	if len(shape) != 3 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1 || shape[0]*shape[1]*shape[2] != numInputs {
		return nil, fmt.Errorf("model: %s: image shape %v does not match %d input features", name, shape, numInputs)
	}
	c, h, w := shape[0], shape[1], shape[2]
	var stages []cnnStage
	var hidden []int
	off := 0
	for _, t := range toks {
		if t.dense {
			hidden = append(hidden, t.h)
			continue
		}
		st := cnnStage{kind: t.kind, tok: t.canonical(), k: t.k, cin: c, hin: h, win: w}
		desc := "pooling"
		if t.kind == stageConv {
			st.s, st.p = t.s, t.p
			desc = "conv"
		} else {
			st.s = t.k
		}
		fits := h+2*st.p >= st.k && w+2*st.p >= st.k
		if !fits {
			return nil, fmt.Errorf("model: %s: token %q (%s, kernel %d) does not fit its %d×%d×%d input", name, t.raw, desc, t.k, c, h, w)
		}
		st.hout = (h+2*st.p-st.k)/st.s + 1
		st.wout = (w+2*st.p-st.k)/st.s + 1
		st.cout = c
		if t.kind == stageConv {
			st.cout = t.c
			np := st.cout * st.ckk()
			if off > math.MaxInt/4-np-st.cout {
				return nil, fmt.Errorf("model: %s has too many parameters", name)
			}
			st.woff, st.boff = off, off+np
			off += np + st.cout
		}
		if int64(st.cout)*int64(st.hout)*int64(st.wout) > math.MaxInt32 {
			return nil, fmt.Errorf("model: %s: token %q gives a %d×%d×%d output, too large", name, t.raw, st.cout, st.hout, st.wout)
		}
		c, h, w = st.cout, st.hout, st.wout
		stages = append(stages, st)
	}
	feat := c * h * w
	widths := append(append([]int{feat}, hidden...), outs)
	layers := make([]Layer, len(widths)-1)
	toff := 0
	for l := range layers {
		in, out := widths[l], widths[l+1]
		if in > math.MaxInt/4/out || toff > math.MaxInt/4-in*out-out {
			return nil, fmt.Errorf("model: %s on %v images has too many parameters", name, shape)
		}
		layers[l] = Layer{In: in, Out: out, WeightOffset: toff, BiasOffset: toff + out*in}
		toff += out*in + out
	}
	if head != Gaussian {
		sigma = 1
	}
	tail := &Network{name: name, head: head, act: act, sigma: sigma, layers: layers, d: toff}
	return &ConvNet{name: name, shape: [3]int{shape[0], shape[1], shape[2]}, stages: stages, tail: tail, toff: off, d: off + toff, act: act}, nil
}

// NewConvNet is New for a "cnn:…" spec, returning the concrete type: opt.Act after every
// conv and f layer, a categorical output over numClasses ≥ 2 classes or, with opt.Task
// "regress", one Gaussian output of scale opt.Sigma; opt.Shape (C, H, W) is required.
func NewConvNet(spec string, numInputs, numClasses int, opt Options) (*ConvNet, error) {
	act := Tanh
	switch opt.Act {
	case "", "tanh":
	case "relu":
		act = ReLU
	default:
		return nil, fmt.Errorf("model: unknown activation %q (want tanh or relu)", opt.Act)
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
	head, outs := Categorical, numClasses
	switch opt.Task {
	case "", "classify":
		if numClasses < 2 {
			return nil, fmt.Errorf("model: %s classifies and needs at least 2 classes, the data have %d (set task regress for a numeric target)", spec, numClasses)
		}
	case "regress":
		if numClasses != 0 {
			return nil, fmt.Errorf("model: %s with task regress needs a numeric target, the data have %d classes", spec, numClasses)
		}
		head, outs = Gaussian, 1
	default:
		return nil, fmt.Errorf("model: unknown task %q (want classify or regress)", opt.Task)
	}
	return newConvNet(spec, numInputs, opt.Shape, act, head, outs, sigma)
}

// Name returns the canonical spelling, "cnn:" + the canonical tokens.
func (m *ConvNet) Name() string { return m.name }

// NumParams returns d.
func (m *ConvNet) NumParams() int { return m.d }

// NumInputs returns C·H·W.
func (m *ConvNet) NumInputs() int { return m.shape[0] * m.shape[1] * m.shape[2] }

// NumOutputs returns K for a categorical head, 1 otherwise.
func (m *ConvNet) NumOutputs() int { return m.tail.NumOutputs() }

// Head returns the output distribution.
func (m *ConvNet) Head() Head { return m.tail.head }

// Classifier reports whether the head is categorical or Bernoulli.
func (m *ConvNet) Classifier() bool { return m.tail.head != Gaussian }

// Activation returns the activation after every conv and f layer.
func (m *ConvNet) Activation() Activation { return m.act }

// Sigma returns σ of a Gaussian head (1 otherwise).
func (m *ConvNet) Sigma() float64 { return m.tail.sigma }

// Shape returns the input image shape (C, H, W).
func (m *ConvNet) Shape() []int { return m.shape[:] }

// ParamName names θ[j]: "conv{s}.weight[o,c,i,j]" and "conv{s}.bias[o]" for the s-th
// convolution (1-based), then "W{l}[r,c]" and "b{l}[r]" for the l-th dense layer (1-based,
// the output layer last), as Network names them. It panics if j is out of range.
func (m *ConvNet) ParamName(j int) string {
	if j < 0 || j >= m.d {
		panic(fmt.Sprintf("model: parameter index %d out of range [0, %d)", j, m.d))
	}
	if j >= m.toff {
		return m.tail.ParamName(j - m.toff)
	}
	nc := 0
	for _, st := range m.stages {
		if st.kind != stageConv {
			continue
		}
		nc++
		switch {
		case j >= st.woff && j < st.boff:
			q := j - st.woff
			kk := st.k * st.k
			return fmt.Sprintf("conv%d.weight[%d,%d,%d,%d]", nc, q/st.ckk(), q%st.ckk()/kk, q%kk/st.k, q%st.k)
		case j >= st.boff && j < st.boff+st.cout:
			return fmt.Sprintf("conv%d.bias[%d]", nc, j-st.boff)
		}
	}
	panic("model: unreachable")
}

// ParamBlock is a run of parameters θ[Offset : Offset+Len] that PyTorch initialises
// uniformly on ±1/√FanIn (a weight or a bias of one layer).
type ParamBlock struct {
	Offset, Len, FanIn int
}

// ParamBlocks returns the initialisation blocks in θ order: per conv, weight and bias with
// fan-in Cin·K·K; then the dense layers' weights and biases with fan-in In.
func (m *ConvNet) ParamBlocks() []ParamBlock {
	var bl []ParamBlock
	for _, st := range m.stages {
		if st.kind == stageConv {
			bl = append(bl, ParamBlock{st.woff, st.boff - st.woff, st.ckk()}, ParamBlock{st.boff, st.cout, st.ckk()})
		}
	}
	for _, b := range m.tail.ParamBlocks() {
		b.Offset += m.toff
		bl = append(bl, b)
	}
	return bl
}

// ParamBlocks returns the initialisation blocks in θ order: per layer, weights and biases
// with fan-in In.
func (n *Network) ParamBlocks() []ParamBlock {
	bl := make([]ParamBlock, 0, 2*len(n.layers))
	for _, ly := range n.layers {
		bl = append(bl, ParamBlock{ly.WeightOffset, ly.Out * ly.In, ly.In}, ParamBlock{ly.BiasOffset, ly.Out, ly.In})
	}
	return bl
}

// Clone returns a ConvNet with the same architecture and its own scratch space.
func (m *ConvNet) Clone() Model {
	c := *m
	c.stages = append([]cnnStage(nil), m.stages...)
	c.tail = m.tail.Clone().(*Network)
	c.cs = nil
	c.vec1, c.out1, c.sum1 = [1][]float64{}, [1][]float64{}, [1][]float64{}
	c.dot1, c.dir1 = [1][]float64{}, [1][]float64{}
	c.lj, c.la = nil, cnnArgs{}
	return &c
}
