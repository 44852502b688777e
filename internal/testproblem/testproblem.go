// Package testproblem loads the problems that tests of several packages share.
package testproblem

import (
	"testing"

	"github.com/sgdprior/sgdprior/problem"
)

// Load loads an embedded data set (or any problem.Spec data source) with a model and weight
// decay, the other settings at problem.DefaultSpec, failing t on an error.
func Load(t testing.TB, data, model string, weightDecay float64) *problem.Problem {
	t.Helper()
	spec := problem.DefaultSpec()
	spec.Data, spec.Model, spec.WeightDecay = data, model, weightDecay
	p, err := problem.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
