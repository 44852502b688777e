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

// Get returns *p, or NaN (absent) when p is nil: the value of an optional number.
func Get(p *Float) float64 {
	if p == nil {
		return math.NaN()
	}
	return float64(*p)
}

// OK reports whether f is a finite number (not null).
func (f Float) OK() bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// Matrix is a matrix in an output: written inline as an array of rows, or, when it is too
// large to be inline, as the name of the .npy file that holds it (relative to the JSON
// file's directory); absent, it is null.
type Matrix struct {
	Rows [][]Float
	File string
}

// NewMatrix returns m's entries inline.
func NewMatrix(m interface {
	Dims() (r, c int)
	At(i, j int) float64
}) *Matrix {
	r, c := m.Dims()
	rows := make([][]Float, r)
	for i := range rows {
		rows[i] = make([]Float, c)
		for j := range rows[i] {
			rows[i][j] = Float(m.At(i, j))
		}
	}
	return &Matrix{Rows: rows}
}

// MarshalJSON writes the rows, or the file name when File is set.
func (m *Matrix) MarshalJSON() ([]byte, error) {
	if m.File != "" {
		return json.Marshal(m.File)
	}
	if m.Rows == nil {
		return []byte("null"), nil
	}
	return json.Marshal(m.Rows)
}

// UnmarshalJSON reads an array of rows or a file name.
func (m *Matrix) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*m = Matrix{}
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &m.File)
	}
	return json.Unmarshal(b, &m.Rows)
}

// Values converts f to float64s (nil stays nil).
func Values(f []Float) []float64 {
	if f == nil {
		return nil
	}
	out := make([]float64, len(f))
	for i, x := range f {
		out[i] = float64(x)
	}
	return out
}
