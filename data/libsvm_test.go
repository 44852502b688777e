package data

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestLibSVM(t *testing.T) {
	content := "# a comment line\n+1 1:0.5 3:-2 # trailing comment\n-1 2:1\n\n+1 qid:3 3:4 1:1e-1\r\n-1\n"
	for _, src := range []string{"x.svm", "x.libsvm", "x.txt", "libsvm:x.data"} {
		name := strings.TrimPrefix(src, "libsvm:")
		path := writeTemp(t, name, []byte(content))
		spec := Spec{Source: path, NoStandardize: true}
		if strings.HasPrefix(src, "libsvm:") {
			spec.Source = "libsvm:" + path
		}
		d := mustLoad(t, spec)
		want := mat.NewDense(4, 3, []float64{
			0.5, 0, -2,
			0, 1, 0,
			0.1, 0, 4,
			0, 0, 0,
		})
		if !mat.Equal(d.X, want) {
			t.Errorf("%s: X =\n%v\nwant\n%v", src, mat.Formatted(d.X), mat.Formatted(want))
		}
		if !reflect.DeepEqual(d.Classes, []string{"-1", "+1"}) || !reflect.DeepEqual(d.Y, []float64{1, 0, 1, 0}) {
			t.Errorf("%s: classes %q Y %v", src, d.Classes, d.Y)
		}
		if !reflect.DeepEqual(d.FeatureNames, []string{"x1", "x2", "x3"}) || d.SHA256 != sha256Hex([]byte(content)) {
			t.Errorf("%s: names %q sha %s", src, d.FeatureNames, d.SHA256)
		}
	}
	// Regression targets.
	d := mustLoad(t, Spec{Source: writeTemp(t, "r.svm", []byte("2.5 1:1\n-1 2:3\n")), Regression: true, NoStandardize: true})
	if !reflect.DeepEqual(d.Y, []float64{2.5, -1}) || d.Classes != nil {
		t.Errorf("regression: Y %v classes %q", d.Y, d.Classes)
	}
}

func TestLibSVMErrors(t *testing.T) {
	for _, tc := range []struct {
		content string
		spec    Spec
		want    string
	}{
		{"", Spec{}, ": empty file"},
		{"# only a comment\n\n", Spec{}, ": no examples"},
		{"1\n2\n", Spec{}, ": no features on any line"},
		{"1 1:2\n1 0:3\n", Spec{}, `:2: feature index "0" is not an integer ≥ 1`},
		{"1 a:3\n", Spec{}, `:1: feature index "a" is not an integer ≥ 1`},
		{"1 1:2\n\n1 2:x\n", Spec{}, `:3: feature 2: "x" is not a number`},
		{"1 2:nan\n", Spec{}, `:1: feature 2: "nan" is not finite`},
		{"1 2:1 2:3\n", Spec{}, ":1: feature index 2 appears twice"},
		{"1 2\n", Spec{}, `:1: "2" is not index:value`},
		{"1:3 2:1\n", Spec{}, `:1: the line starts with "1:3", not a label`},
		{"1 1:1\nx 1:2\n", Spec{Regression: true}, `:2: target "x" is not a number`},
		{"1 1:1\nInf 1:2\n", Spec{}, `:2: target "Inf" is not finite`},
		{"1 4000000000:1\n", Spec{}, ": 1 examples × 4000000000 features exceed the limit of 268435456 dense values"},
	} {
		path := writeTemp(t, "bad.svm", []byte(tc.content))
		spec := tc.spec
		spec.Source = path
		_, err := Load(spec)
		var pe *ParseError
		if err == nil || err.Error() != path+tc.want || !errors.As(err, &pe) {
			t.Errorf("%q: error %v\n want %s", tc.content, err, path+tc.want)
		}
	}
}
