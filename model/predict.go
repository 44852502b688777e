package model

import (
	"fmt"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Classifier reports whether the network models class labels (Bernoulli or categorical).
func (n *Network) Classifier() bool { return n.head != Gaussian }

// Predictor is a model whose outputs can be read: the logits of a classifier (K of them, or
// one for a Bernoulli head) or the mean of a Gaussian head, one row per example. *Network and
// *ConvNet are Predictors.
type Predictor interface {
	Model
	// Classifier reports whether the model's outputs are class logits.
	Classifier() bool
	// NumOutputs returns the number of outputs per example.
	NumOutputs() int
	// Outputs writes the outputs of the rows of X into dst (n×NumOutputs; an empty dst is
	// sized).
	Outputs(dst *mat.Dense, theta []float64, X *mat.Dense)
}

var (
	_ Predictor = (*Network)(nil)
	_ Predictor = (*ConvNet)(nil)
)

// IsClassifier reports whether m is a Predictor that models class labels (then Accuracy
// applies).
func IsClassifier(m Model) bool {
	p, ok := m.(Predictor)
	return ok && p.Classifier()
}

// Kinks names what makes m's loss only piecewise smooth — "max pooling", "ReLU", or both
// joined by " and " — or returns "" when the loss is smooth (tanh, average pooling, the
// linear models). Where a kink is crossed, the gradient jumps and the Hessian of the
// R-operator is exact only on each smooth piece (docs/MATH.md §1.1); a minimiser may lie on
// a kink, where no gradient vanishes and L-BFGS stalls short of a tight tolerance.
func Kinks(m Model) string {
	var ks []string
	if c, ok := m.(*ConvNet); ok {
		for _, st := range c.stages {
			if st.kind == stageMax {
				ks = append(ks, "max pooling")
				break
			}
		}
	}
	if a, ok := m.(interface{ Activation() Activation }); ok && a.Activation() == ReLU {
		if n, isNet := m.(*Network); !isNet || len(n.layers) > 1 {
			ks = append(ks, "ReLU")
		}
	}
	return strings.Join(ks, " and ")
}

// Accuracy returns the fraction of examples of b whose label is the model's most probable
// class (ties counted as errors; a logit of exactly 0 is a tie). It panics for a model that
// is not a classifier (IsClassifier).
func Accuracy(m Model, theta []float64, b Batch) float64 {
	n, ok := m.(Predictor)
	if !ok || !n.Classifier() {
		panic(fmt.Sprintf("model: Accuracy of %s, which is not a classifier", m.Name()))
	}
	nr := b.Len()
	K := n.NumOutputs()
	var o mat.Dense
	n.Outputs(&o, theta, b.X)
	out := o.RawMatrix().Data
	correct := 0
	for i := 0; i < nr; i++ {
		y := int(b.Y[i])
		if K == 1 {
			z := out[i]
			if (y == 1 && z > 0) || (y == 0 && z < 0) {
				correct++
			}
			continue
		}
		row := out[i*K : (i+1)*K]
		best := true
		for k, z := range row {
			if k != y && z >= row[y] {
				best = false
				break
			}
		}
		if best {
			correct++
		}
	}
	return float64(correct) / float64(nr)
}
