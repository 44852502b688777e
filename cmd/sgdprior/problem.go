package main

import (
	"flag"
	"fmt"
	"math"
	"strings"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/sim"
)

// problemFlags are the flags shared by every command that takes a model and data.
type problemFlags struct {
	data, target, labels, split string
	standardize                 bool
	model, act, task            string
	sigma, weightDecay, lr      float64
	batch                       int
	sampling                    string
	seed                        uint64
}

// register adds the problem flags to fs. lrDefault and batchDefault are the command's
// defaults (0 means the flag is required where the command needs it).
func (p *problemFlags) register(fs *flag.FlagSet, dataDefault, modelDefault string) {
	fs.StringVar(&p.data, "data", dataDefault, "data: an embedded set (iris, wine, breast-cancer, digits, diabetes), a CSV or LibSVM file, idx:DIR (MNIST/Fashion-MNIST), or X.npy with --labels")
	fs.StringVar(&p.target, "target", "", "CSV target column (default: the last column)")
	fs.StringVar(&p.labels, "labels", "", "targets as a 1-D .npy file, with --data X.npy")
	fs.StringVar(&p.split, "split", "", "IDX split: train (default) or test")
	fs.BoolVar(&p.standardize, "standardize", true, "standardise features (and a numeric target) by their mean and population std; IDX images are scaled to [0,1] instead")
	fs.StringVar(&p.model, "model", modelDefault, "model: linreg, logistic, softmax or mlp:H1,H2,...")
	fs.StringVar(&p.act, "act", "tanh", "mlp activation: tanh or relu")
	fs.StringVar(&p.task, "task", "classify", "mlp task: classify (categorical output) or regress (Gaussian output)")
	fs.Float64Var(&p.sigma, "sigma", 1, "noise scale σ of Gaussian likelihoods (linreg, mlp --task regress)")
	fs.Float64Var(&p.weightDecay, "weight-decay", 0, "weight decay λ: r(θ) = (λ/2)‖θ‖², part of the objective, never of the likelihood")
	fs.Float64Var(&p.lr, "lr", 0, "learning rate η of SGD on the mean objective")
	fs.IntVar(&p.batch, "batch", 0, "batch size B")
	fs.StringVar(&p.sampling, "sampling", "without", "mini-batch sampling: with, without or reshuffle")
	fs.Uint64Var(&p.seed, "seed", 1, "random seed")
}

// regression reports whether the chosen model needs a numeric target.
func (p *problemFlags) regression() bool {
	return p.model == "linreg" || (strings.HasPrefix(p.model, "mlp:") && p.task == "regress")
}

// validate checks flag values that do not need the data.
func (p *problemFlags) validate(needLR, needBatch bool) error {
	if p.data == "" {
		return usagef("--data is required")
	}
	if p.model == "" {
		return usagef("--model is required")
	}
	if p.act != "tanh" && p.act != "relu" {
		return usagef("--act must be tanh or relu, not %q", p.act)
	}
	if p.task != "classify" && p.task != "regress" {
		return usagef("--task must be classify or regress, not %q", p.task)
	}
	if !(p.sigma > 0) || math.IsInf(p.sigma, 0) {
		return usagef("--sigma must be a positive finite number, not %v", p.sigma)
	}
	if !(p.weightDecay >= 0) || math.IsInf(p.weightDecay, 0) {
		return usagef("--weight-decay must be ≥ 0 and finite, not %v", p.weightDecay)
	}
	if needLR && (!(p.lr > 0) || math.IsInf(p.lr, 0)) {
		return usagef("--lr must be > 0, not %v", p.lr)
	}
	if needBatch && p.batch < 1 {
		return usagef("--batch must be ≥ 1, not %d", p.batch)
	}
	if _, err := sim.ParseSampling(p.sampling); err != nil {
		return usagef("--sampling: %v", err)
	}
	if p.split != "" && p.split != "train" && p.split != "test" {
		return usagef("--split must be train or test, not %q", p.split)
	}
	return nil
}

// problem is a loaded data set with its model.
type problem struct {
	flags *problemFlags
	data  *data.Dataset
	model model.Model
	batch model.Batch
}

// load reads the data and builds the model. Data errors are runtime errors; a model that
// does not fit the data (three classes for logistic) is a usage error.
func (p *problemFlags) load() (*problem, error) {
	ds, err := data.Load(data.Spec{
		Source:        p.data,
		Labels:        p.labels,
		Target:        p.target,
		Split:         p.split,
		NoStandardize: !p.standardize,
		Regression:    p.regression(),
	})
	if err != nil {
		return nil, err
	}
	opt := model.Options{Act: p.act, Sigma: p.sigma}
	if strings.HasPrefix(p.model, "mlp:") {
		opt.Task = p.task
	}
	m, err := model.New(p.model, ds.NumFeatures(), ds.NumClasses(), opt)
	if err != nil {
		return nil, usagef("--model %s: %s", p.model, strings.TrimPrefix(err.Error(), "model: "))
	}
	return &problem{flags: p, data: ds, model: m, batch: model.Batch{X: ds.X, Y: ds.Y}}, nil
}

// checkBatch validates --batch against the number of examples.
func (pr *problem) checkBatch() error {
	if n := pr.data.Len(); pr.flags.batch > n {
		return usagef("--batch %d is larger than the %d examples of %s", pr.flags.batch, n, pr.data.Name)
	}
	return nil
}

// labelMapping describes the class labels as "0=benign 1=malignant", or "" for a numeric
// target.
func (pr *problem) labelMapping() string {
	if len(pr.data.Classes) == 0 {
		return ""
	}
	parts := make([]string, len(pr.data.Classes))
	for k, c := range pr.data.Classes {
		parts[k] = fmt.Sprintf("%d=%s", k, c)
	}
	return strings.Join(parts, " ")
}

// readParams reads a parameter vector for this problem from the .npy file given with flag,
// refusing one of the wrong length (a usage error naming the flag and the file).
func (pr *problem) readParams(flag, path string) ([]float64, error) {
	v, err := data.ReadVector(path)
	if err != nil {
		return nil, err
	}
	if d := pr.model.NumParams(); len(v) != d {
		return nil, usagef("%s %s has %d values, but %s on %s has %d parameters", flag, path, len(v), pr.model.Name(), pr.data.Name, d)
	}
	return v, nil
}
