package main

import (
	"errors"
	"fmt"

	"github.com/sgdprior/sgdprior/linalg"
)

// inverseFlags are the flags that choose how C_B is inverted (score and verify): --damping
// and --rcond bind straight into a linalg.Settings (dst, or the flags' own), --inverse range
// sets its Range. settings applies --inverse and validates (linalg.Settings.Validate).
type inverseFlags struct {
	dst     *linalg.Settings
	own     linalg.Settings
	inverse string
}

type inverseFlagSet interface {
	Float64Var(*float64, string, float64, string)
	StringVar(*string, string, string, string)
}

// register adds the flags, bound to the flags' own linalg.DefaultSettings.
func (f *inverseFlags) register(fs inverseFlagSet) {
	f.own = linalg.DefaultSettings()
	f.bind(fs, &f.own)
}

// bind adds the flags, bound to dst (whose values are the defaults).
func (f *inverseFlags) bind(fs inverseFlagSet, dst *linalg.Settings) {
	f.dst = dst
	fs.Float64Var(&dst.Damping, "damping", dst.Damping, "add λI to C_B in the inverse the scores use (absolute, in the units of C_B)")
	fs.StringVar(&f.inverse, "inverse", "", "\"range\": use the pseudo-inverse of C_B on its range")
	fs.Float64Var(&dst.RCond, "rcond", dst.RCond, "with --inverse range: drop eigenvalues below rcond·λ_max")
}

// settings applies --inverse to the bound settings and returns them, validated; a bad value
// is a usage error naming its flag.
func (f *inverseFlags) settings() (linalg.Settings, error) {
	switch f.inverse {
	case "":
		f.dst.Range = false
	case "range":
		f.dst.Range = true
	default:
		return *f.dst, usagef("--inverse must be range, not %q", f.inverse)
	}
	return *f.dst, flagError(f.dst.Validate())
}

// rankHint turns a rank-deficiency error into one that names both remedies.
func rankHint(err error) error {
	var rd *linalg.RankDeficientError
	if errors.As(err, &rd) {
		rank := fmt.Sprintf("numerical rank %d of %d", rd.Rank, rd.Dim)
		if rd.Rank < 0 {
			rank = fmt.Sprintf("singular, d = %d", rd.Dim)
		}
		return fmt.Errorf("the noise covariance C_B is rank-deficient (%s): pass --damping λ (absolute, in the units of C_B) or --inverse range (pseudo-inverse on its range)", rank)
	}
	return err
}
