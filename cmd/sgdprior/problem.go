package main

import (
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/problem"
)

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
