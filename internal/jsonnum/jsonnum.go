// Package jsonnum holds Float, the JSON number of every output of sgdprior: a float64 that
// is written as null when it is not finite (MATH.md §10) and read back from null as NaN.
package jsonnum

import (
	"bytes"
	"encoding/json"
	"math"
)

// Float is a JSON number that may be null.
type Float float64

// MarshalJSON writes f as encoding/json writes a float64, or null when f is NaN or ±Inf.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a number, or null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// Float64 returns f as a float64 (NaN when absent).
func (f Float) Float64() float64 { return float64(f) }

// OK reports whether f is a finite number (not null).
func (f Float) OK() bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }
