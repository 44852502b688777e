// Package problem is a model on a data set, the unit every sgdprior computation starts
// from: a Spec (the data source and its preprocessing, the model, the likelihood's σ and
// the weight decay λ of r(θ) = (λ/2)‖θ‖², docs/MATH.md §1) is validated once and loaded
// into a Problem, whose Provenance every output records.
package problem

import (
	"flag"
	"fmt"
	"math"
	"strings"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/model"
)

// Spec describes a problem. Its keys (Validate's field names) are the command-line flags:
// data, target, labels, split, standardize, test, test-labels, holdout, holdout-seed, model,
// subsample, act, task, sigma, weight-decay.
type Spec struct {
	// Data is an embedded set (iris, wine, breast-cancer, digits, diabetes), a CSV or
	// LibSVM file, idx:DIR (MNIST/Fashion-MNIST), cifar:DIR (CIFAR-10's binary batches), or
	// X.npy with Labels (n×p features, or (N, C, H, W) images). Required. Image data (idx:,
	// cifar:, digits, a 4-D .npy) carry their shape (data.Dataset.Shape), which a cnn: model
	// needs.
	Data string
	// Target is the CSV target column (default the last); Labels the 1-D .npy of targets
	// with Data X.npy; Split the IDX or CIFAR-10 split, train (default) or test.
	Target, Labels, Split string
	// Test is the test set's source, any form Data takes (for idx:DIR its t10k files, for
	// cifar:DIR its test_batch.bin; a
	// CSV or embedded set uses the Target column; X.npy needs TestLabels); "" for none. It
	// must have the training data's features and classes, and is standardised with the
	// training data's statistics, never its own (docs/MATH.md §1).
	Test, TestLabels string
	// Holdout, when in (0, 1), holds out that fraction of Data as the test set (stratified
	// by class, HoldoutSplit), drawn from HoldoutSeed's PCG stream HoldoutStream; the
	// standardisation statistics are those of the remaining training part. 0: none.
	// Holdout and Test exclude each other.
	Holdout     float64
	HoldoutSeed uint64
	// Subsample, when positive, keeps a random Subsample examples of the training data
	// (after any holdout), stratified by class (SubsampleIndices), drawn from HoldoutSeed's
	// PCG stream SubsampleStream; the standardisation statistics are the subsample's.
	// 0: all of them.
	Subsample int
	// Standardize standardises features (and a numeric target) by their mean and
	// population std, per pixel for digits and a 4-D .npy (which false leaves as they are);
	// IDX and CIFAR-10 images are scaled to [0, 1] instead. DefaultSpec sets it.
	Standardize bool
	// Model is linreg, logistic, softmax, mlp:H1,H2,… or cnn:T1,T2,… (tokens
	// c<C>k<K>[s<S>][p<P>], max<K>, avg<K>, f<H>; image data only). Required.
	Model string
	// Act is the activation of an mlp's or cnn's hidden layers, tanh or relu; Task, for
	// an mlp or cnn, classify or regress.
	Act, Task string
	// Sigma is the noise scale σ of Gaussian likelihoods (linreg, mlp with task regress).
	Sigma float64
	// WeightDecay is λ ≥ 0: part of the objective, never of the likelihood.
	WeightDecay float64
}

// DefaultSpec returns the defaults: standardised data, tanh, classify, σ = 1, λ = 0, no test
// set (holdout seed DefaultHoldoutSeed).
func DefaultSpec() Spec {
	return Spec{Standardize: true, Act: "tanh", Task: "classify", Sigma: 1, HoldoutSeed: DefaultHoldoutSeed}
}

// IsMLP reports whether the model is an MLP.
func (s *Spec) IsMLP() bool { return strings.HasPrefix(s.Model, "mlp:") }

// IsCNN reports whether the model is a convolutional network.
func (s *Spec) IsCNN() bool { return s.Model == "cnn" || strings.HasPrefix(s.Model, "cnn:") }

// IsNet reports whether the model is a network with hidden layers (mlp or cnn), to which
// Act and Task apply.
func (s *Spec) IsNet() bool { return s.IsMLP() || s.IsCNN() }

// Regression reports whether the model needs a numeric target.
func (s *Spec) Regression() bool {
	return s.Model == "linreg" || (s.IsNet() && s.Task == "regress")
}

// Validate checks the values that do not need the data, returning a *field.Error.
func (s *Spec) Validate() error {
	var modelErr error
	if s.Model != "" {
		modelErr = model.CheckSpec(s.Model)
	}
	switch {
	case s.Data == "":
		return field.Errorf("data", "is required")
	case s.Model == "":
		return field.Errorf("model", "is required")
	case modelErr != nil:
		return field.Errorf("model", "%s", strings.TrimPrefix(modelErr.Error(), "model: "))

	case s.Act != "tanh" && s.Act != "relu":
		return field.Errorf("act", "must be tanh or relu, not %q", s.Act)
	case s.Task != "classify" && s.Task != "regress":
		return field.Errorf("task", "must be classify or regress, not %q", s.Task)
	case !(s.Sigma > 0) || math.IsInf(s.Sigma, 0):
		return field.Errorf("sigma", "must be a positive finite number, not %v", s.Sigma)
	case !(s.WeightDecay >= 0) || math.IsInf(s.WeightDecay, 0):
		return field.Errorf("weight-decay", "must be ≥ 0 and finite, not %v", s.WeightDecay)
	case s.Split != "" && s.Split != "train" && s.Split != "test":
		return field.Errorf("split", "must be train or test, not %q", s.Split)
	case !(s.Holdout >= 0 && s.Holdout < 1):
		return field.Errorf("holdout", "must be a fraction in (0, 1), not %v", s.Holdout)
	case s.Subsample < 0:
		return field.Errorf("subsample", "must be ≥ 0 (0: all examples), not %d", s.Subsample)
	case s.Holdout > 0 && s.Test != "":
		return field.Errorf("holdout", "excludes test: give a test source or a held-out fraction, not both")
	case s.TestLabels != "" && s.Test == "":
		return field.Errorf("test-labels", "needs --test")
	}
	return nil
}

// Problem is a loaded data set with its model.
type Problem struct {
	Spec  Spec
	Data  *data.Dataset
	Model model.Model
	Batch model.Batch
	// Test is the test set (nil when the problem has none) and TestBatch its batch, for
	// evaluation only: standardised with the training data's statistics.
	Test      *data.Dataset
	TestBatch model.Batch
}

// HasTest reports whether the problem has a test set.
func (p *Problem) HasTest() bool { return p.Test != nil && p.Test.Len() > 0 }

// Load validates s, reads the data and its test set (Spec.Test or Spec.Holdout) and builds
// the model, on the data's image shape (model.Options.Shape) when they have one. A cnn on
// data without an image shape is a *field.Error of key "model". A test set that does not
// fit the training data (other features, an unknown class) is an error prefixed "test set: "
// that names its file. Data errors are returned as the
// data package gives them; a model that does not fit the data (three classes for
// logistic) is a *field.Error of key "model", except for data of a single class, which no
// classifier fits: that is a data error naming the data.
func Load(s Spec) (*Problem, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	ds, test, err := loadData(s)
	if err != nil {
		return nil, err
	}
	if s.IsCNN() && ds.Shape == nil {
		return nil, field.Errorf("model", "%s needs image data (idx:DIR, cifar:DIR, digits, or an (N, C, H, W) .npy), and %s has no image shape", s.Model, ds.Name)
	}
	opt := model.Options{Act: s.Act, Sigma: s.Sigma, Shape: ds.Shape}
	if s.IsNet() {
		opt.Task = s.Task
	}
	m, err := model.New(s.Model, ds.NumFeatures(), ds.NumClasses(), opt)
	if err != nil {
		if ds.NumClasses() == 1 {
			// No classifier fits one class: the data are at fault, not the model chosen.
			return nil, fmt.Errorf("data: %s: every one of the %d examples has the class %q, and %s needs at least 2 classes", ds.Name, ds.Len(), ds.Classes[0], s.Model)
		}
		msg := strings.TrimPrefix(err.Error(), "model: ")
		if name, rest, ok := strings.Cut(msg, ": "); ok && s.IsCNN() && strings.HasPrefix(name, "cnn:") && !strings.Contains(name, " ") {
			msg = rest // the ConvNet's errors begin with its canonical name: give it once
		}
		return nil, field.Errorf("model", "%s: %s", s.Model, msg)
	}
	return &Problem{Spec: s, Data: ds, Model: m, Batch: model.Batch{X: ds.X, Y: ds.Y}, Test: test, TestBatch: testBatch(test)}, nil
}

// Objective is the mean objective L(θ) = (1/N) Σ ℓ_i(θ) + (λ/2)‖θ‖² (docs/MATH.md §1).
func (p *Problem) Objective() model.Objective {
	return model.Objective{Model: p.Model, WeightDecay: p.Spec.WeightDecay}
}

// N returns the number of examples and D the number of parameters.
func (p *Problem) N() int { return p.Data.Len() }

// D returns the number of parameters.
func (p *Problem) D() int { return p.Model.NumParams() }

// CheckBatch refuses a batch size larger than the data (a *field.Error of key "batch").
func (p *Problem) CheckBatch(b int) error {
	if n := p.N(); b > n {
		return field.Errorf("batch", "%d is larger than the %d examples of %s", b, n, p.Data.Name)
	}
	return nil
}

// LabelMapping describes the class labels as "0=benign 1=malignant", or "" for a numeric
// target.
func (p *Problem) LabelMapping() string {
	if len(p.Data.Classes) == 0 {
		return ""
	}
	parts := make([]string, len(p.Data.Classes))
	for k, c := range p.Data.Classes {
		parts[k] = fmt.Sprintf("%d=%s", k, c)
	}
	return strings.Join(parts, " ")
}

// ReadParams reads a parameter vector for this problem from a 1-D .npy file, refusing one
// of the wrong length or with a non-finite value (a *field.Error of the given key, which
// names the file).
func (p *Problem) ReadParams(key, path string) ([]float64, error) {
	v, err := data.ReadVector(path)
	if err != nil {
		return nil, err
	}
	if d := p.D(); len(v) != d {
		return nil, field.Errorf(key, "%s has %d values, but %s on %s has %d parameters", path, len(v), p.Model.Name(), p.Data.Name, d)
	}
	return v, nil
}

// BindFlags defines the problem flags on fs, bound to s; their defaults are s's current
// values (start from DefaultSpec).
func (s *Spec) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.Data, "data", s.Data, "data: an embedded set (iris, wine, breast-cancer, digits, diabetes), a CSV or LibSVM file, idx:DIR (MNIST/Fashion-MNIST), cifar:DIR (CIFAR-10 binary batches), or X.npy (n×p, or (N,C,H,W) images) with --labels")
	fs.StringVar(&s.Target, "target", s.Target, "CSV target column (default: the last column)")
	fs.StringVar(&s.Labels, "labels", s.Labels, "targets as a 1-D .npy file, with --data X.npy")
	fs.StringVar(&s.Split, "split", s.Split, "IDX or CIFAR-10 split: train (default) or test")
	fs.BoolVar(&s.Standardize, "standardize", s.Standardize, "standardise features (and a numeric target) by their mean and population std, per pixel for digits and (N,C,H,W) .npy images (false: used as they are); IDX and CIFAR-10 images are scaled to [0,1] instead")
	fs.StringVar(&s.Test, "test", s.Test, "test set: a data source like --data (idx:DIR reads its t10k files, cifar:DIR its test_batch.bin), with the training data's features and classes, standardised with the training statistics")
	fs.StringVar(&s.TestLabels, "test-labels", s.TestLabels, "test targets as a 1-D .npy file, with --test X.npy")
	fs.Float64Var(&s.Holdout, "holdout", s.Holdout, "hold out this fraction in (0,1) of the data as the test set, stratified by class (excludes --test)")
	fs.Uint64Var(&s.HoldoutSeed, "holdout-seed", s.HoldoutSeed, "seed of the --holdout split and the --subsample draw (independent of --seed)")
	fs.IntVar(&s.Subsample, "subsample", s.Subsample, "train on a random N of the training examples (after --holdout), stratified by class; 0: all")
	fs.StringVar(&s.Model, "model", s.Model, "model: linreg, logistic, softmax, mlp:H1,H2,... or cnn:T1,T2,... on image data (tokens c<C>k<K>[s<S>][p<P>], max<K>, avg<K>, f<H>)")
	fs.StringVar(&s.Act, "act", s.Act, "mlp and cnn activation: tanh or relu")
	fs.StringVar(&s.Task, "task", s.Task, "mlp and cnn task: classify (categorical output) or regress (Gaussian output)")
	fs.Float64Var(&s.Sigma, "sigma", s.Sigma, "noise scale σ of Gaussian likelihoods (linreg, mlp or cnn --task regress)")
	fs.Float64Var(&s.WeightDecay, "weight-decay", s.WeightDecay, "weight decay λ: r(θ) = (λ/2)‖θ‖², part of the objective, never of the likelihood")
}
