package main

import (
	"flag"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
)

// problemFlags are the flags shared by every command that takes a model and data: the
// problem.Spec, bound field by field, and the SGD settings η, B, the sampling scheme and
// the seed.
type problemFlags struct {
	spec     problem.Spec
	lr       float64
	batch    int
	sampling noise.Sampling
	seed     uint64
}

// register adds the problem flags to fs, with problem.DefaultSpec's defaults.
func (p *problemFlags) register(fs *flag.FlagSet) {
	p.spec = problem.DefaultSpec()
	p.spec.BindFlags(fs)
	fs.Float64Var(&p.lr, "lr", 0, "learning rate η of SGD on the mean objective")
	fs.IntVar(&p.batch, "batch", 0, "batch size B")
	fs.Var(&p.sampling, "sampling", "mini-batch sampling: with, without or reshuffle")
	fs.Uint64Var(&p.seed, "seed", 1, "random seed")
}

// load validates the spec, reads the data and builds the model; a bad value is a usage
// error naming its flag.
func (p *problemFlags) load() (*problem.Problem, error) { return loadProblem(p.spec) }

// loadProblem loads s; a bad value is a usage error naming its flag.
func loadProblem(s problem.Spec) (*problem.Problem, error) {
	pr, err := problem.Load(s)
	return pr, flagError(err)
}

// flagError turns a *field.Error into a usage error naming the flag ("--lr must be > 0, not
// 0"); other errors pass unchanged.
func flagError(err error) error {
	if fe := field.As(err); fe != nil {
		return usagef("%s", fe.Flag())
	}
	return err
}

// checkLRBatch validates η and B for the commands that run SGD.
func (p *problemFlags) checkLRBatch() error {
	if err := noise.CheckLRBatch(p.lr, p.batch); err != nil {
		return flagError(err)
	}
	return nil
}
