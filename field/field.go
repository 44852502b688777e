// Package field holds the one error type of a bad setting. Every settings type of
// sgdprior has a Validate method that returns a *field.Error naming the setting by its key:
// the command-line flag without its dashes ("lr", "weight-decay"), which is also the study
// file's key with '_' for '-' ("weight_decay"). The command line reports it as
// "--lr must be > 0, not -1" and a study file as "lr must be > 0, not -1", so each rule is
// written once and reads the same wherever the value came from (the pattern of litestream's
// ConfigValidationError).
package field

import (
	"errors"
	"fmt"
	"strings"
)

// Error is an invalid value of one setting.
type Error struct {
	// Key names the setting: the flag name without dashes.
	Key string
	// Reason says what is wrong, phrased to follow the key ("must be > 0, not -1").
	Reason string
}

// Errorf returns an Error for key with the formatted reason.
func Errorf(key, format string, args ...any) *Error {
	return &Error{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// Error returns "key reason".
func (e *Error) Error() string { return e.Key + " " + e.Reason }

// Flag returns the message as the command line spells it: "--key reason".
func (e *Error) Flag() string { return "--" + e.Key + " " + e.Reason }

// TOMLKey returns the key as a study file spells it ('_' for '-').
func (e *Error) TOMLKey() string { return strings.ReplaceAll(e.Key, "-", "_") }

// TOML returns the message as a study file spells it: "key reason" with the TOML key.
func (e *Error) TOML() string { return e.TOMLKey() + " " + e.Reason }

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}
