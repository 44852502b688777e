package landscape

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/sim"
)

// Methods is a list of simulated dynamics. A *Methods is a flag.Value: a comma-separated
// list of sgd, gauss and sde.
type Methods []sim.Method

// String returns the comma-separated method names.
func (m Methods) String() string {
	parts := make([]string, len(m))
	for i, x := range m {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

// Set parses a comma-separated list of sgd, gauss and sde into m (replacing it).
func (m *Methods) Set(v string) error {
	var out Methods
	for _, s := range splitList(v) {
		x, err := sim.ParseMethod(s)
		if err != nil || !studied(x) {
			return fmt.Errorf("%q is not one of sgd, gauss, sde", s)
		}
		out = append(out, x)
	}
	*m = out
	return nil
}

// LRList is a list of learning rates. A *LRList is a flag.Value: comma-separated positive
// numbers.
type LRList []float64

// String returns the comma-separated numbers.
func (l LRList) String() string {
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// Set parses comma-separated positive finite numbers into l (replacing it).
func (l *LRList) Set(v string) error {
	var out LRList
	for _, f := range splitList(v) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil || !(x > 0) || math.IsInf(x, 0) {
			return fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, x)
	}
	*l = out
	return nil
}

// BatchList is a list of batch sizes. A *BatchList is a flag.Value: comma-separated positive
// integers.
type BatchList []int

// String returns the comma-separated integers.
func (b BatchList) String() string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ",")
}

// Set parses comma-separated positive integers into b (replacing it).
func (b *BatchList) Set(v string) error {
	var out BatchList
	for _, f := range splitList(v) {
		x, err := strconv.Atoi(f)
		if err != nil || x < 1 {
			return fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, x)
	}
	*b = out
	return nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Validate checks the settings NewPreset parses: the preset's name, the wells list (in the
// form of the named preset: "center:depth:width" or, for wells2d, "cx:cy:depth:width") and
// ou2d's matrices. The error is a *field.Error keyed by the flag name ("preset", "wells",
// "hess2", "noise2"). NewPreset may still refuse values out of a preset's range.
func (s PresetSettings) Validate() error {
	name := strings.ToLower(strings.TrimSpace(s.Name))
	known := name == "" || name == "mult"
	for _, n := range PresetNames {
		known = known || name == n
	}
	if !known {
		return field.Errorf("preset", "%q is unknown (want %s)", s.Name, strings.Join(PresetNames, ", "))
	}
	if s.Wells != "" {
		var err error
		if name == "wells2d" {
			_, err = ParseWells2D(s.Wells)
		} else {
			_, err = ParseWells(s.Wells)
		}
		if err != nil {
			return field.Errorf("wells", "%v", err)
		}
	}
	for _, m := range []struct{ key, v string }{{"hess2", s.Hess2}, {"noise2", s.Cov2}} {
		if m.v == "" {
			continue
		}
		if _, err := ParseSym2(m.v); err != nil {
			return field.Errorf(m.key, "%q: %v", m.v, err)
		}
	}
	return nil
}
