package jsonnum

import (
	"encoding/json"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestRoundTrip: finite numbers are written as encoding/json writes a float64 and read back
// exactly; NaN and ±Inf are written as null and read back as NaN; whitespace around null is
// accepted and text that is not a number is an error.
func TestRoundTrip(t *testing.T) {
	for _, v := range []float64{0, -1.5, 1e-7, 123456789.125, 1e21, math.SmallestNonzeroFloat64, math.MaxFloat64} {
		b, err := json.Marshal(Float(v))
		want, _ := json.Marshal(v)
		if err != nil || string(b) != string(want) {
			t.Fatalf("%v: wrote %s (%v), encoding/json writes %s", v, b, err, want)
		}
		var f Float
		if err := json.Unmarshal(b, &f); err != nil || float64(f) != v || !f.OK() {
			t.Fatalf("%s: read %v (%v)", b, f, err)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		b, err := json.Marshal([]Float{Float(v)})
		if err != nil || string(b) != "[null]" {
			t.Fatalf("%v: wrote %s (%v)", v, b, err)
		}
	}
	var f Float
	if err := f.UnmarshalJSON([]byte(" null ")); err != nil || !math.IsNaN(f.Float64()) || f.OK() {
		t.Fatalf("null read as %v (%v)", f, err)
	}
	if err := f.UnmarshalJSON([]byte(`"x"`)); err == nil {
		t.Fatal("a string was read as a number")
	}
}

func TestMatrixRoundTrip(t *testing.T) {
	for _, m := range []*Matrix{
		NewMatrix(mat.NewDense(2, 2, []float64{1, math.NaN(), 3, 4})),
		{File: "x-cov.npy"},
	} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Matrix
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(&back)
		if string(b) != string(b2) {
			t.Errorf("round trip %s → %s", b, b2)
		}
	}
	var null struct {
		M *Matrix `json:"m"`
	}
	if b, _ := json.Marshal(null); string(b) != `{"m":null}` {
		t.Errorf("nil matrix: %s", b)
	}
}

func TestValues(t *testing.T) {
	if Values(nil) != nil {
		t.Error("Values(nil) is not nil")
	}
	v := Values([]Float{1, Float(math.NaN())})
	if len(v) != 2 || v[0] != 1 || !math.IsNaN(v[1]) {
		t.Errorf("Values = %v", v)
	}
}

// TestGet: an absent optional number reads as NaN, a present one as itself (null as NaN).
func TestGet(t *testing.T) {
	if !math.IsNaN(Get(nil)) {
		t.Error("Get(nil) is not NaN")
	}
	x := Float(2.5)
	if Get(&x) != 2.5 {
		t.Errorf("Get(&2.5) = %v", Get(&x))
	}
	var v struct {
		A *Float `json:"a,omitempty"`
		B *Float `json:"b,omitempty"`
		C *Float `json:"c,omitempty"`
	}
	if err := json.Unmarshal([]byte(`{"a": null, "b": 1}`), &v); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(Get(v.A)) || Get(v.B) != 1 || !math.IsNaN(Get(v.C)) {
		t.Errorf("a, b, c = %v, %v, %v", Get(v.A), Get(v.B), Get(v.C))
	}
}
