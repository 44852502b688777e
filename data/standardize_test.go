package data

import (
	"reflect"
	"testing"
)

// TestStandardizeMatchesLoad: Standardize on data loaded unstandardised gives Load's own
// standardisation bitwise (features; the target of a regression; IDX images only their
// target), and StandardizeLike with those statistics applied to a second unstandardised
// copy gives the same again.
func TestStandardizeMatchesLoad(t *testing.T) {
	for _, c := range []Spec{{Source: "iris"}, {Source: "diabetes", Regression: true}, {Source: "idx:testdata/idx", Regression: true}} {
		want := mustLoad(t, c)
		raw := c
		raw.NoStandardize = true
		got, other := mustLoad(t, raw), mustLoad(t, raw)
		got.Standardize()
		if !reflect.DeepEqual(got.X.RawMatrix().Data, want.X.RawMatrix().Data) || !reflect.DeepEqual(got.Y, want.Y) ||
			!reflect.DeepEqual(got.Standardization, want.Standardization) {
			t.Errorf("%s: Standardize differs from Load", c.Source)
		}
		other.StandardizeLike(got.Standardization)
		if !reflect.DeepEqual(other.X.RawMatrix().Data, want.X.RawMatrix().Data) || !reflect.DeepEqual(other.Y, want.Y) {
			t.Errorf("%s: StandardizeLike differs from Load", c.Source)
		}
	}
}
