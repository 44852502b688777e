package linalg

import (
	"flag"
	"fmt"
)

// BindFlags defines the flags that choose the inverse of a covariance on fs, bound to s:
// --damping λ, --inverse range (Range) and --rcond r; their defaults are s's current values
// (start from DefaultSettings).
func (s *InverseSettings) BindFlags(fs *flag.FlagSet) {
	fs.Float64Var(&s.Damping, "damping", s.Damping, "add λI to C_B in the inverse the scores use (absolute, in the units of C_B)")
	fs.Var(rangeFlag{&s.Range}, "inverse", "\"range\": use the pseudo-inverse of C_B on its range")
	fs.Float64Var(&s.RCond, "rcond", s.RCond, "with --inverse range: drop eigenvalues below rcond·λ_max")
}

// rangeFlag is --inverse: "range" sets Range, "" clears it.
type rangeFlag struct{ r *bool }

func (f rangeFlag) String() string {
	if f.r != nil && *f.r {
		return "range"
	}
	return ""
}

func (f rangeFlag) Set(v string) error {
	switch v {
	case "range":
		*f.r = true
	case "":
		*f.r = false
	default:
		return fmt.Errorf("must be range, not %q", v)
	}
	return nil
}
