package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/field"
	"gonum.org/v1/gonum/mat"
)

// writeTemp writes content to a file called name in a fresh temporary directory and
// returns its path.
func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func sha256Hex(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// naiveCSV parses a well-formed CSV with a header and the target in the last column by
// splitting on commas (the embedded files use no quoting): an independent reference for
// parseCSV.
func naiveCSV(t *testing.T, b []byte) (header []string, x [][]float64, y []string) {
	t.Helper()
	// The files have CRLF line ends.
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n")
	header = strings.Split(lines[0], ",")
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		row := make([]float64, len(f)-1)
		for j := range row {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				t.Fatal(err)
			}
			row[j] = v
		}
		x = append(x, row)
		y = append(y, f[len(f)-1])
	}
	return header, x, y
}

func TestEmbedded(t *testing.T) {
	for _, tc := range []struct {
		name       string
		n, p       int
		classes    []string
		regression bool
	}{
		{"iris", 150, 4, []string{"setosa", "versicolor", "virginica"}, false},
		{"wine", 178, 13, []string{"class_0", "class_1", "class_2"}, false},
		{"breast-cancer", 569, 30, []string{"benign", "malignant"}, false},
		{"digits", 1797, 64, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, false},
		{"diabetes", 442, 10, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Load(Spec{Source: tc.name, Regression: tc.regression})
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != tc.n || d.NumFeatures() != tc.p {
				t.Errorf("shape %d×%d, want %d×%d", d.Len(), d.NumFeatures(), tc.n, tc.p)
			}
			if !reflect.DeepEqual(d.Classes, tc.classes) {
				t.Errorf("classes %q, want %q", d.Classes, tc.classes)
			}
			if d.Name != tc.name {
				t.Errorf("name %q", d.Name)
			}
			raw, err := os.ReadFile(filepath.Join("embedded", tc.name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			if want := sha256Hex(raw); d.SHA256 != want {
				t.Errorf("SHA256 %s, want %s", d.SHA256, want)
			}
			header, x, y := naiveCSV(t, raw)
			if !reflect.DeepEqual(d.FeatureNames, header[:len(header)-1]) {
				t.Errorf("feature names %q, want %q", d.FeatureNames, header[:len(header)-1])
			}
			st := d.Standardization
			for i, label := range y {
				if tc.regression {
					v, _ := strconv.ParseFloat(label, 64)
					if got := d.Y[i]*st.YStd + st.YMean; math.Abs(got-v) > 1e-12*math.Abs(v) {
						t.Fatalf("row %d: target %v, want %v", i, got, v)
					}
				} else if d.Classes[int(d.Y[i])] != label {
					t.Fatalf("row %d: class %q, want %q", i, d.Classes[int(d.Y[i])], label)
				}
				for j, v := range x[i] {
					var want float64
					if st.Std[j] != 0 {
						want = (v - st.Mean[j]) / st.Std[j]
					}
					if got := d.X.At(i, j); got != want {
						t.Fatalf("X[%d,%d] = %v, want %v", i, j, got, want)
					}
				}
			}
			var info *EmbeddedInfo
			for _, e := range Embedded() {
				if e.Name == tc.name {
					info = &e
				}
			}
			if info == nil || info.Rows != tc.n || info.Features != tc.p || info.Regression != tc.regression {
				t.Errorf("Embedded() entry %+v disagrees", info)
			}
		})
	}
	if got, want := EmbeddedNames(), []string{"breast-cancer", "diabetes", "digits", "iris", "wine"}; !reflect.DeepEqual(got, want) {
		t.Errorf("EmbeddedNames() = %q, want %q", got, want)
	}
}

// TestStandardization compares the statistics and the standardised columns with a naive
// two-pass loop over the unstandardised data.
func TestStandardization(t *testing.T) {
	for _, name := range EmbeddedNames() {
		reg := name == "diabetes"
		raw, err := Load(Spec{Source: name, NoStandardize: true, Regression: reg})
		if err != nil {
			t.Fatal(err)
		}
		if raw.Standardization != nil {
			t.Errorf("%s: NoStandardize left Standardization %+v", name, raw.Standardization)
		}
		d, err := Load(Spec{Source: name, Regression: reg})
		if err != nil {
			t.Fatal(err)
		}
		n, p := raw.X.Dims()
		st := d.Standardization
		constant := 0
		for j := 0; j < p; j++ {
			var mean float64
			for i := 0; i < n; i++ {
				mean += raw.X.At(i, j)
			}
			mean /= float64(n)
			var v float64
			for i := 0; i < n; i++ {
				v += (raw.X.At(i, j) - mean) * (raw.X.At(i, j) - mean)
			}
			std := math.Sqrt(v / float64(n))
			if math.Abs(st.Mean[j]-mean) > 1e-12*(1+math.Abs(mean)) || math.Abs(st.Std[j]-std) > 1e-12*(1+std) {
				t.Errorf("%s column %d: mean, std = %v, %v; naive %v, %v", name, j, st.Mean[j], st.Std[j], mean, std)
			}
			// The standardised column: mean 0 and population std 1, or all 0 if constant.
			var m2, s2 float64
			for i := 0; i < n; i++ {
				m2 += d.X.At(i, j)
			}
			m2 /= float64(n)
			for i := 0; i < n; i++ {
				s2 += (d.X.At(i, j) - m2) * (d.X.At(i, j) - m2)
			}
			s2 = math.Sqrt(s2 / float64(n))
			if std == 0 {
				constant++
				if st.Std[j] != 0 || m2 != 0 || s2 != 0 {
					t.Errorf("%s constant column %d: Std %v, standardised mean %v std %v", name, j, st.Std[j], m2, s2)
				}
				continue
			}
			if math.Abs(m2) > 1e-13 || math.Abs(s2-1) > 1e-13 {
				t.Errorf("%s column %d: standardised mean %v, std %v", name, j, m2, s2)
			}
		}
		warned := 0
		for _, w := range d.Warnings {
			if strings.Contains(w, "is constant") {
				warned++
			}
		}
		if warned != constant {
			t.Errorf("%s: %d constant columns, %d warnings: %q", name, constant, warned, d.Warnings)
		}
		if reg {
			var mean, v float64
			for _, y := range raw.Y {
				mean += y
			}
			mean /= float64(n)
			for _, y := range raw.Y {
				v += (y - mean) * (y - mean)
			}
			std := math.Sqrt(v / float64(n))
			if !st.TargetStandardized || math.Abs(st.YMean-mean) > 1e-12*mean || math.Abs(st.YStd-std) > 1e-12*std {
				t.Errorf("%s target: %+v, naive mean %v std %v", name, st, mean, std)
			}
			for i, y := range d.Y {
				if want := (raw.Y[i] - mean) / std; math.Abs(y-want) > 1e-12 {
					t.Fatalf("%s: Y[%d] = %v, want %v", name, i, y, want)
				}
			}
		} else if st.TargetStandardized || !reflect.DeepEqual(d.Y, raw.Y) {
			t.Errorf("%s: classification targets changed by standardisation", name)
		}
	}
}

// A constant column whose mean is not exactly representable must standardise to exactly 0.
func TestStandardizationConstant(t *testing.T) {
	path := writeTemp(t, "c.csv", []byte("a,b,y\n0.1,1,u\n0.1,2,v\n0.1,4,u\n"))
	d, err := Load(Spec{Source: path})
	if err != nil {
		t.Fatal(err)
	}
	if d.Standardization.Mean[0] != 0.1 || d.Standardization.Std[0] != 0 {
		t.Errorf("constant column: mean %v std %v", d.Standardization.Mean[0], d.Standardization.Std[0])
	}
	for i := 0; i < 3; i++ {
		if d.X.At(i, 0) != 0 {
			t.Errorf("X[%d,0] = %v, want 0", i, d.X.At(i, 0))
		}
	}
	if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], `"a" is constant`) {
		t.Errorf("warnings %q", d.Warnings)
	}
}

func TestLabelOrder(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		want   []string
	}{
		{[]string{"10", "9", "2", "1.5", "9"}, []string{"1.5", "2", "9", "10"}},
		{[]string{"+1", "-1", "+1"}, []string{"-1", "+1"}},
		{[]string{"1e1", "2", "-3.5"}, []string{"-3.5", "2", "1e1"}},
		{[]string{"b", "a", "B", "10"}, []string{"10", "B", "a", "b"}},
		{[]string{"10", "9", "x"}, []string{"10", "9", "x"}},
		{[]string{"class_10", "class_9"}, []string{"class_10", "class_9"}},
	} {
		var buf bytes.Buffer
		buf.WriteString("f,label\n")
		for i, l := range tc.labels {
			buf.WriteString(strconv.Itoa(i) + "," + l + "\n")
		}
		d, err := Load(Spec{Source: writeTemp(t, "l.csv", buf.Bytes())})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.Classes, tc.want) {
			t.Errorf("labels %q: classes %q, want %q", tc.labels, d.Classes, tc.want)
		}
		for i, l := range tc.labels {
			if d.Classes[int(d.Y[i])] != l {
				t.Errorf("labels %q: row %d maps to %q", tc.labels, i, d.Classes[int(d.Y[i])])
			}
		}
	}
}

func TestTargetColumn(t *testing.T) {
	path := writeTemp(t, "t.csv", []byte("a, y ,b\n1,cat,2\n3,dog,5\n"))
	d, err := Load(Spec{Source: path, Target: "y", NoStandardize: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.FeatureNames, []string{"a", "b"}) || !mat.Equal(d.X, mat.NewDense(2, 2, []float64{1, 2, 3, 5})) ||
		!reflect.DeepEqual(d.Classes, []string{"cat", "dog"}) || !reflect.DeepEqual(d.Y, []float64{0, 1}) {
		t.Errorf("got names %q X %v classes %q Y %v", d.FeatureNames, mat.Formatted(d.X), d.Classes, d.Y)
	}
	// A numeric middle column as regression target.
	path = writeTemp(t, "r.csv", []byte("a,y,b\n1,2,7\n3,5,9\n"))
	d, err = Load(Spec{Source: path, Target: "y", Regression: true, NoStandardize: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Y, []float64{2, 5}) || d.Classes != nil || !mat.Equal(d.X, mat.NewDense(2, 2, []float64{1, 7, 3, 9})) {
		t.Errorf("regression target: Y %v classes %q", d.Y, d.Classes)
	}
}

// TestCSVErrors checks that every malformed input is a one-line error naming the file and
// the line.
func TestCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		spec          Spec
		want          string // after "PATH"
	}{
		{"empty", "", Spec{}, ": empty file"},
		{"blank", " \n\n", Spec{}, ": empty file"},
		{"header only", "a,b,y\n", Spec{}, ":1: a header but no data rows"},
		{"ragged short", "a,b,y\n1,2,u\n1,2\n", Spec{}, ":3: 2 fields, but the header has 3"},
		{"ragged long", "a,b,y\n1,2,u\n\n1,2,3,4\n", Spec{}, ":4: 4 fields, but the header has 3"},
		{"non-numeric", "a,b,y\n1,2,u\n1,zz,v\n", Spec{}, `:3: column "b": "zz" is not a number`},
		{"missing value", "a,b,y\n1,,u\n", Spec{}, `:2: column "b": "" is not a number`},
		{"hex", "a,y\n0x10,u\n", Spec{}, `:2: column "a": "0x10" is not a number`},
		{"NaN feature", "a,b,y\n1,2,u\nNaN,2,v\n", Spec{}, `:3: column "a": "NaN" is not finite`},
		{"Inf feature", "a,b,y\n1,-Inf,u\n", Spec{}, `:2: column "b": "-Inf" is not finite`},
		{"overflow feature", "a,b,y\n1,2,u\n1,1e999,v\n", Spec{}, `:3: column "b": "1e999" overflows float64`},
		{"NaN target", "a,y\n1,2\n2,nan\n", Spec{Regression: true}, `:3: target "nan" is not finite`},
		{"Inf class", "a,y\n1,u\n2,inf\n", Spec{}, `:3: target "inf" is not finite`},
		{"non-numeric target", "a,y\n1,2\n2,3\n3,x\n4,y\n", Spec{Regression: true}, `:4: target "x" is not a number`},
		{"empty target", "a,y\n1,u\n2,\n", Spec{}, ":3: empty target"},
		{"unknown target", "a,b,y\n1,2,3\n", Spec{Target: "z"}, `:1: no target column "z"; the columns are: a, b, y`},
		{"duplicate target", "a,y,y\n1,2,3\n", Spec{Target: "y"}, `:1: target column "y" appears more than once`},
		{"no features", "y\n1\n", Spec{}, `:1: the header has no feature columns besides the target "y"`},
		{"bad quote", "a,y\n1,u\n\"2,v\n", Spec{}, ":3: extraneous or missing \" in quoted-field"},
		{"quote in field", "a,y\n1,u\n2\"x,v\n", Spec{}, ":3: bare \" in non-quoted-field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "bad.csv", []byte(tc.content))
			spec := tc.spec
			spec.Source = path
			_, err := Load(spec)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if msg != path+tc.want {
				t.Errorf("error %q\n          want %q", msg, path+tc.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != path {
				t.Errorf("error is not a *ParseError for %s: %#v", path, err)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	dir := t.TempDir()
	for _, src := range []string{"nothere.csv", "nothere.svm", "libsvm:nothere", "nothere.npy"} {
		path := filepath.Join(dir, strings.TrimPrefix(src, "libsvm:"))
		spec := Spec{Source: filepath.Join(dir, src)}
		if strings.HasPrefix(src, "libsvm:") {
			spec.Source = "libsvm:" + path
		}
		if strings.HasSuffix(src, ".npy") {
			spec.Labels = filepath.Join(dir, "y.npy")
		}
		_, err := Load(spec)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%s: error %v", src, err)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	csv := writeTemp(t, "a.csv", []byte("a,y\n1,u\n"))
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{}, "no data source"},
		{Spec{Source: "nosuchset"}, `unknown data source "nosuchset": not an embedded data set (breast-cancer, diabetes, digits, iris, wine)`},
		{Spec{Source: csv, Labels: "y.npy"}, "labels file applies only to .npy"},
		{Spec{Source: csv, Split: "test"}, "split applies only to IDX"},
		{Spec{Source: "libsvm:" + csv, Target: "y"}, "target column applies only to CSV"},
		{Spec{Source: "x.npy"}, "labels is needed with the .npy features x.npy"},
		{Spec{Source: "idx:testdata/idx", Split: "valid"}, `split "valid": want "train" or "test"`},
	} {
		_, err := Load(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to contain %q", tc.spec, err, tc.want)
		}
	}
	// What the user typed (an unknown source, a missing labels flag) is a *field.Error
	// naming the flag, so that it exits as a usage error.
	for src, key := range map[string]string{"nosuchset": "data", "x.npy": "labels"} {
		if _, err := Load(Spec{Source: src}); field.As(err) == nil || field.As(err).Key != key {
			t.Errorf("%s: %v, want a field error of key %s", src, err, key)
		}
	}
}

// TestGzip loads a gzip-compressed CSV: same data as the plain file, checksum of the
// compressed bytes.
func TestGzip(t *testing.T) {
	content := []byte("a,b,y\n1,2,u\n3,5,v\n4,4,u\n")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(content)
	zw.Close()
	plain, err := Load(Spec{Source: writeTemp(t, "p.csv", content)})
	if err != nil {
		t.Fatal(err)
	}
	gz, err := Load(Spec{Source: writeTemp(t, "p.csv.gz", buf.Bytes())})
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(plain.X, gz.X) || !reflect.DeepEqual(plain.Y, gz.Y) {
		t.Error("gzip-compressed CSV loads differently")
	}
	if gz.SHA256 != sha256Hex(buf.Bytes()) || plain.SHA256 != sha256Hex(content) {
		t.Error("wrong checksums")
	}
	_, err = Load(Spec{Source: writeTemp(t, "bad.csv.gz", buf.Bytes()[:len(buf.Bytes())-6])})
	if err == nil || !strings.Contains(err.Error(), "bad.csv.gz: gzip:") {
		t.Errorf("truncated gzip: error %v", err)
	}
}

// TestLike loads held-out rows with the class mapping and statistics of the training data.
func TestLike(t *testing.T) {
	train, err := Load(Spec{Source: "iris"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile("embedded/iris.csv")
	_, x, _ := naiveCSV(t, raw)
	path := writeTemp(t, "test.csv", []byte("sepal_length,sepal_width,petal_length,petal_width,species\n5.9,3.0,5.1,1.8,virginica\n5.1,3.5,1.4,0.2,setosa\n"))
	d, err := Load(Spec{Source: path, Like: train})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Classes, train.Classes) || !reflect.DeepEqual(d.Y, []float64{2, 0}) {
		t.Errorf("classes %q, Y %v", d.Classes, d.Y)
	}
	// Row 1 is iris row 0: its standardised values must equal the training data's row 0.
	for j := 0; j < 4; j++ {
		if d.X.At(1, j) != train.X.At(0, j) || x[0][j] != []float64{5.1, 3.5, 1.4, 0.2}[j] {
			t.Errorf("column %d: %v, training data %v", j, d.X.At(1, j), train.X.At(0, j))
		}
	}
	// A label only in the test file, or a different number of features, is an error.
	bad := writeTemp(t, "bad.csv", []byte("a,b,c,d,y\n1,2,3,4,setosa\n1,2,3,4,rose\n"))
	if _, err := Load(Spec{Source: bad, Like: train}); err == nil || err.Error() != bad+`:3: label "rose" is not one of the reference classes` {
		t.Errorf("unknown label: %v", err)
	}
	bad3 := writeTemp(t, "bad3.csv", []byte("a,b,c,y\n1,2,3,setosa\n"))
	if _, err := Load(Spec{Source: bad3, Like: train}); err == nil || !strings.Contains(err.Error(), "3 features, but the reference data set \"iris\" has 4") {
		t.Errorf("feature count: %v", err)
	}
	if _, err := Load(Spec{Source: path, Like: train, Regression: true}); err == nil {
		t.Error("task mismatch accepted")
	}
	// Regression: the target is standardised with the reference statistics.
	diab, err := Load(Spec{Source: "diabetes", Regression: true})
	if err != nil {
		t.Fatal(err)
	}
	row := writeTemp(t, "d.csv", []byte("age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,progression\n59,2,32.1,101.0,157,93.2,38.0,4.0,4.8598,87,151\n"))
	dd, err := Load(Spec{Source: row, Like: diab, Regression: true})
	if err != nil {
		t.Fatal(err)
	}
	if dd.Y[0] != diab.Y[0] || !mat.Equal(dd.X, diab.X.Slice(0, 1, 0, 10)) {
		t.Errorf("diabetes row 0 with Like: %v %v, want %v", dd.Y[0], dd.X.RawRowView(0), diab.Y[0])
	}
}

func TestGatherSubset(t *testing.T) {
	d, err := Load(Spec{Source: "wine"})
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{5, 0, 177, 5}
	x := mat.NewDense(len(idx), d.NumFeatures(), nil)
	y := make([]float64, len(idx))
	d.Gather(x, y, idx)
	s := d.Subset(idx)
	for k, i := range idx {
		for j := 0; j < d.NumFeatures(); j++ {
			if x.At(k, j) != d.X.At(i, j) || s.X.At(k, j) != d.X.At(i, j) {
				t.Fatalf("row %d column %d differs", k, j)
			}
		}
		if y[k] != d.Y[i] || s.Y[k] != d.Y[i] {
			t.Fatalf("target %d differs", k)
		}
	}
	if s.Len() != 4 || !reflect.DeepEqual(s.Classes, d.Classes) {
		t.Error("subset metadata")
	}
	mustPanic(t, "data: Gather destination", func() { d.Gather(mat.NewDense(3, 13, nil), y, idx) })
	mustPanic(t, "data: Gather index 178 out of range", func() { d.Gather(x, y, []int{0, 1, 2, 178}) })
}

func mustPanic(t *testing.T, prefix string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, prefix) {
			t.Errorf("panic %v, want prefix %q", r, prefix)
		}
	}()
	f()
}

func TestWarnings(t *testing.T) {
	// Diabetes as classification: a warning suggests regression.
	d, err := Load(Spec{Source: "diabetes"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range d.Warnings {
		found = found || strings.Contains(w, "distinct labels for 442 examples; is it a regression target?")
	}
	if !found {
		t.Errorf("warnings %q", d.Warnings)
	}
	if w := mustLoad(t, Spec{Source: "iris"}).Warnings; len(w) != 0 {
		t.Errorf("iris warnings %q", w)
	}
}

func mustLoad(t *testing.T, spec Spec) *Dataset {
	t.Helper()
	d, err := Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func BenchmarkLoadDigits(b *testing.B) {
	for b.Loop() {
		if _, err := Load(Spec{Source: "digits"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGather(b *testing.B) {
	d, err := Load(Spec{Source: "digits"})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 32
	idx := make([]int, batch)
	for k := range idx {
		idx[k] = (k * 37) % d.Len()
	}
	x := mat.NewDense(batch, d.NumFeatures(), nil)
	y := make([]float64, batch)
	for b.Loop() {
		d.Gather(x, y, idx)
	}
}
