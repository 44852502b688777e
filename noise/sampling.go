package noise

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strings"

	"github.com/sgdprior/sgdprior/field"
)

// Sampling selects how mini-batches are drawn (docs/MATH.md §1). The zero value is Without.
type Sampling int

const (
	// Without draws B distinct indices, a fresh independent subset each step (default).
	Without Sampling = iota
	// With draws B indices independently with replacement, fresh each step.
	With
	// Reshuffle draws one random permutation per epoch and takes consecutive slices of B;
	// the last partial batch of each epoch is dropped.
	Reshuffle
)

var samplingNames = [...]string{Without: "without", With: "with", Reshuffle: "reshuffle"}

// String returns the scheme's command-line spelling ("without", "with", "reshuffle").
func (s Sampling) String() string {
	if s < 0 || int(s) >= len(samplingNames) {
		return fmt.Sprintf("Sampling(%d)", int(s))
	}
	return samplingNames[s]
}

// ParseSampling parses "with", "without" or "reshuffle" (case-insensitive).
func ParseSampling(s string) (Sampling, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "without":
		return Without, nil
	case "with":
		return With, nil
	case "reshuffle":
		return Reshuffle, nil
	}
	return 0, fmt.Errorf("noise: unknown sampling %q (want with, without or reshuffle)", s)
}

// Set parses "with", "without" or "reshuffle" into s, so that a *Sampling is a flag.Value.
func (s *Sampling) Set(v string) error {
	x, err := ParseSampling(v)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "noise: "))
	}
	*s = x
	return nil
}

// CheckLRBatch is the one rule for SGD's learning rate and batch size: η > 0 and finite,
// B ≥ 1 (B ≤ N needs the data: problem.Problem.CheckBatch, Kappa). It returns a *field.Error.
func CheckLRBatch(lr float64, b int) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return field.Errorf("lr", "must be > 0, not %v", lr)
	}
	if b < 1 {
		return field.Errorf("batch", "must be ≥ 1, not %d", b)
	}
	return nil
}

// Kappa returns κ_B, the factor with C_B = κ_B C of the mean gradient of a mini-batch of B
// among N examples (docs/MATH.md §2):
//
//	κ_B = 1/B                   (With)
//	κ_B = (N − B)/(B (N − 1))    (Without; Reshuffle too: within an epoch its batches are
//	                             drawn without replacement).
//
// B > N, and N < 2 without replacement, are data errors: a *field.Error (key "batch",
// resp. "sampling"). Kappa panics if B < 1 (CheckLRBatch rules that out) or s is not a
// scheme.
func Kappa(s Sampling, n, b int) (float64, error) {
	if b < 1 {
		panic(fmt.Sprintf("noise: Kappa: batch %d < 1", b))
	}
	if s < 0 || int(s) >= len(samplingNames) {
		panic(fmt.Sprintf("noise: Kappa: unknown sampling %d", int(s)))
	}
	if b > n {
		return 0, field.Errorf("batch", "%d is larger than N = %d", b, n)
	}
	if s == With {
		return 1 / float64(b), nil
	}
	if n < 2 {
		return 0, field.Errorf("sampling", "%v needs at least 2 examples, not %d", s, n)
	}
	return float64(n-b) / (float64(b) * float64(n-1)), nil
}

// BindSGDFlags defines SGD's flags --lr η, --batch B, --sampling and --seed on fs, bound to
// the given values (their defaults are the current values): the flags every command that
// runs or models SGD on a problem shares.
func BindSGDFlags(fs *flag.FlagSet, lr *float64, batch *int, s *Sampling, seed *uint64) {
	fs.Float64Var(lr, "lr", *lr, "learning rate η of SGD on the mean objective")
	fs.IntVar(batch, "batch", *batch, "batch size B")
	fs.Var(s, "sampling", "mini-batch sampling: with, without or reshuffle")
	fs.Uint64Var(seed, "seed", *seed, "random seed")
}
