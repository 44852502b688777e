package data

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
	"gonum.org/v1/gonum/mat"
)

// npyRaw builds a .npy file from a header dict and raw data, as an independent reference
// for decodeNPY (version 1 uses a uint16 header length, versions 2 and 3 a uint32).
func npyRaw(major byte, dict string, data []byte) []byte {
	b := append([]byte("\x93NUMPY"), major, 0)
	hdr := dict + "\n"
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	}
	b = append(b, hdr...)
	return append(b, data...)
}

func f64le(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// TestReadNumPyFiles reads files written by NumPy and compares with codeberg.org/sbinet/npyio,
// an independent reader.
func TestReadNumPyFiles(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []float64 // row-major 2×3
	}{
		{"data_float64_2x3_corder.npy", []float64{0, 1, 2, 3, 4, 5}},
		{"data_float32_2x3_corder.npy", []float64{0, 1, 2, 3, 4, 5}},
		// np.arange(6).reshape(2, 3, order="F") is [[0, 2, 4], [1, 3, 5]].
		{"data_float64_2x3_forder.npy", []float64{0, 2, 4, 1, 3, 5}},
		{"data_float32_2x3_forder.npy", []float64{0, 2, 4, 1, 3, 5}},
	} {
		path := filepath.Join("testdata", "npy", tc.file)
		m, err := ReadMatrix(path)
		if err != nil {
			t.Fatal(err)
		}
		if !mat.Equal(m, mat.NewDense(2, 3, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.file, mat.Formatted(m), tc.want)
		}
		if strings.Contains(tc.file, "float32") {
			continue // npyio reads float32 only into []float32, not into a matrix
		}
		f, _ := os.Open(path)
		var ref mat.Dense
		if err := npy.Read(f, &ref); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if !mat.Equal(m, &ref) {
			t.Errorf("%s: %v, npyio reads %v", tc.file, mat.Formatted(m), mat.Formatted(&ref))
		}
	}
	v, err := ReadVector("testdata/npy/nans_inf.npy")
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 4 || !math.IsNaN(v[0]) || v[1] != math.Inf(-1) || v[2] != 0 || v[3] != math.Inf(1) {
		t.Errorf("nans_inf.npy: %v", v)
	}
	for _, tc := range []struct {
		read func(string) error
		file string
		want string
	}{
		{readM, "data_int64_6x1_corder.npy", "dtype int64: want float32 or float64"},
		{readM, "data_float64_2x3x4_corder.npy", "shape (2, 3, 4): want a non-empty 2-D array"},
		{readV, "data_float64_2x3_corder.npy", "shape (2, 3): want a 1-D array"},
		{readV, "data_float64_scalar_corder.npy", "shape (): want a 1-D array"},
		{readM, "nans_inf.npy", "shape (4,): want a non-empty 2-D array"},
	} {
		path := filepath.Join("testdata", "npy", tc.file)
		if err := tc.read(path); err == nil || err.Error() != path+": "+tc.want {
			t.Errorf("%s: error %v, want %q", tc.file, err, tc.want)
		}
	}
}

func readM(p string) error { _, err := ReadMatrix(p); return err }
func readV(p string) error { _, err := ReadVector(p); return err }

// TestNPYRoundTrip writes with WriteVector/WriteMatrix and reads back with ReadVector,
// ReadMatrix and npyio: values are bitwise equal, headers aligned to 64 bytes.
func TestNPYRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	v := []float64{0, math.Copysign(0, -1), 1, -2.5, math.SmallestNonzeroFloat64, math.MaxFloat64, math.NaN(), math.Inf(-1)}
	for range 100 {
		v = append(v, rng.NormFloat64()*math.Pow(10, float64(rng.IntN(40)-20)))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "theta.npy")
	if err := WriteVector(path, v); err != nil {
		t.Fatal(err)
	}
	got, err := ReadVector(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var ref []float64
	if err := npy.Read(bytes.NewReader(b), &ref); err != nil {
		t.Fatal(err)
	}
	for i := range v {
		if math.Float64bits(got[i]) != math.Float64bits(v[i]) || math.Float64bits(ref[i]) != math.Float64bits(v[i]) {
			t.Fatalf("element %d: wrote %v, read %v, npyio read %v", i, v[i], got[i], ref[i])
		}
	}
	hlen := int(binary.LittleEndian.Uint16(b[8:10]))
	if (10+hlen)%64 != 0 || b[10+hlen-1] != '\n' || !strings.HasPrefix(string(b[10:]), "{'descr': '<f8', 'fortran_order': False, 'shape': (108,), }") {
		t.Errorf("header %q (length %d)", b[10:10+hlen], hlen)
	}
	if len(b) != 10+hlen+8*len(v) {
		t.Errorf("file has %d bytes", len(b))
	}

	// Matrices, including a non-Dense mat.Matrix.
	m := mat.NewDense(3, 4, nil)
	for i := range 3 {
		for j := range 4 {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	for _, mm := range []mat.Matrix{m, m.T()} {
		if err := WriteMatrix(path, mm); err != nil {
			t.Fatal(err)
		}
		got, err := ReadMatrix(path)
		if err != nil {
			t.Fatal(err)
		}
		if !mat.Equal(got, mm) {
			t.Errorf("matrix round trip: %v, want %v", mat.Formatted(got), mat.Formatted(mm))
		}
		f, _ := os.Open(path)
		var ref mat.Dense
		if err := npy.Read(f, &ref); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if !mat.Equal(&ref, mm) {
			t.Error("npyio reads the matrix differently")
		}
	}

	// float32 written by npyio: read back exactly.
	v32 := []float32{1.5, -3.25e-7, 65504, float32(math.Pi)}
	var buf bytes.Buffer
	if err := npy.Write(&buf, v32); err != nil {
		t.Fatal(err)
	}
	p32 := writeTemp(t, "v32.npy", buf.Bytes())
	got32, err := ReadVector(p32)
	if err != nil {
		t.Fatal(err)
	}
	for i := range v32 {
		if got32[i] != float64(v32[i]) {
			t.Errorf("float32 element %d: %v, want %v", i, got32[i], v32[i])
		}
	}
	// float64 matrix written by npyio.
	buf.Reset()
	if err := npy.Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	got2, err := ReadMatrix(writeTemp(t, "m.npy", buf.Bytes()))
	if err != nil || !mat.Equal(got2, m) {
		t.Errorf("npyio-written matrix: %v", err)
	}
}

// TestWriteVectorFailure: a failed write leaves no file, no temporary file and no change.
func TestWriteVectorFailure(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such", "dir", "theta.npy")
	err := WriteVector(missing, []float64{1, 2})
	if err == nil || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing directory: error %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("file exists after failure: %v", err)
	}
	// The destination is a directory: the content is written to a temporary file, then the
	// rename fails; the temporary file must be gone and the directory untouched.
	target := filepath.Join(dir, "taken.npy")
	os.Mkdir(target, 0o755)
	os.WriteFile(filepath.Join(target, "keep"), []byte("x"), 0o644)
	if err := WriteVector(target, make([]float64, 1000)); err == nil || !strings.Contains(err.Error(), target) {
		t.Errorf("directory target: error %v", err)
	}
	if err := WriteMatrix(target, mat.NewDense(2, 2, nil)); err == nil {
		t.Error("WriteMatrix onto a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{"taken.npy"}) {
		t.Errorf("directory holds %q after failed writes", names)
	}
	if b, err := os.ReadFile(filepath.Join(target, "keep")); err != nil || string(b) != "x" {
		t.Error("target directory changed")
	}
	// Overwriting an existing file replaces it completely.
	path := filepath.Join(dir, "v.npy")
	WriteVector(path, make([]float64, 50))
	WriteVector(path, []float64{7})
	if v, err := ReadVector(path); err != nil || !reflect.DeepEqual(v, []float64{7}) {
		t.Errorf("overwrite: %v %v", v, err)
	}
}

func TestNPYHeaders(t *testing.T) {
	data := f64le(1, 2, 3)
	for _, tc := range []struct {
		name string
		file []byte
		want string // error, or "" for the vector 1, 2, 3
	}{
		{"key order", npyRaw(1, "{'shape': (3,), 'fortran_order': False, 'descr': '<f8'}", data), ""},
		{"double quotes", npyRaw(1, `{"descr": "<f8", "fortran_order": False, "shape": (3,),}`, data), ""},
		{"long ints", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3L,), }", data), ""},
		{"version 2", npyRaw(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data), ""},
		{"version 3", npyRaw(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data), ""},
		{"big endian", npyRaw(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }",
			binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, math.Float64bits(1)), math.Float64bits(2)), math.Float64bits(3))), ""},
		{"magic", append([]byte("\x93NUMPZ"), npyRaw(1, "{}", nil)[6:]...), "not a .npy file (no \\x93NUMPY magic string)"},
		{"empty", nil, "not a .npy file (no \\x93NUMPY magic string)"},
		{"version", npyRaw(4, "{}", nil), "unsupported .npy format version 4.0"},
		{"header length", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", nil)[:30], "truncated header: 58 bytes announced, 20 present"},
		{"truncated", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data[:23]), "shape (3,) of <f8 needs 24 data bytes, the file has 23"},
		{"trailing", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", append(data, 0)), "shape (3,) of <f8 needs 24 data bytes, the file has 25"},
		{"overflow", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", data), "shape (4611686018427387904, 4) is too large"},
		{"huge entry", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", data), "'shape' entry 99999999999999999999 is too large"},
		{"structured", npyRaw(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", data), "structured dtypes are not supported"},
		{"unicode", npyRaw(1, "{'descr': '<U6', 'fortran_order': False, 'shape': (1,), }", data), `unsupported dtype "<U6"`},
		{"complex", npyRaw(1, "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", data[:16]), `unsupported dtype "<c16"`},
		{"float16", npyRaw(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", data[:2]), `unsupported dtype "<f2"`},
		{"pipe f8", npyRaw(1, "{'descr': '|f8', 'fortran_order': False, 'shape': (3,), }", data), `unsupported dtype "|f8"`},
		{"missing key", npyRaw(1, "{'descr': '<f8', 'shape': (3,), }", data), "the dict needs 'descr', 'fortran_order' and 'shape'"},
		{"extra key", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}", data), `unexpected key "x"`},
		{"twice", npyRaw(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", data), "'descr' given twice"},
		{"order", npyRaw(1, "{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}", data), "'fortran_order' is neither True nor False"},
		{"shape", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': [3]}", data), "'shape' is not a tuple"},
		{"negative", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,)}", data), "'shape' holds a non-integer"},
		{"not a dict", npyRaw(1, "('descr', '<f8')", data), "not a dict"},
		{"after", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} x", data), "text after the dict"},
		{"unterminated", npyRaw(1, "{'descr: '<f8}", data), "missing ':' after"},
	} {
		path := writeTemp(t, "h.npy", tc.file)
		v, err := ReadVector(path)
		if tc.want == "" {
			if err != nil || !reflect.DeepEqual(v, []float64{1, 2, 3}) {
				t.Errorf("%s: %v, %v", tc.name, v, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// npyTyped builds a 1-D .npy file of the given little-endian integer dtype.
func npyTyped(descr string, size int, vals []int64) []byte {
	var data []byte
	for _, v := range vals {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		data = append(data, b[:size]...)
	}
	return npyRaw(1, "{'descr': '"+descr+"', 'fortran_order': False, 'shape': ("+strconv.Itoa(len(vals))+",), }", data)
}

func TestLoadNPY(t *testing.T) {
	xfile := filepath.Join("testdata", "npy", "data_float32_2x3_corder.npy")
	xb, _ := os.ReadFile(xfile)
	for _, tc := range []struct {
		descr string
		size  int
		vals  []int64
	}{
		{"<i8", 8, []int64{10, 9}},
		{"<i4", 4, []int64{10, 9}},
		{"|u1", 1, []int64{10, 9}},
		{"|i1", 1, []int64{10, 9}},
		{"<u2", 2, []int64{10, 9}},
	} {
		yb := npyTyped(tc.descr, tc.size, tc.vals)
		yfile := writeTemp(t, "y.npy", yb)
		d := mustLoad(t, Spec{Source: xfile, Labels: yfile, NoStandardize: true})
		if !mat.Equal(d.X, mat.NewDense(2, 3, []float64{0, 1, 2, 3, 4, 5})) {
			t.Errorf("%s: X %v", tc.descr, mat.Formatted(d.X))
		}
		// Numeric order: "9" before "10".
		if !reflect.DeepEqual(d.Classes, []string{"9", "10"}) || !reflect.DeepEqual(d.Y, []float64{1, 0}) {
			t.Errorf("%s: classes %q Y %v", tc.descr, d.Classes, d.Y)
		}
		if d.SHA256 != sha256Hex(xb, yb) || d.Name != xfile || d.FeatureNames[2] != "x2" {
			t.Errorf("%s: sha %s name %q names %q", tc.descr, d.SHA256, d.Name, d.FeatureNames)
		}
	}
	// Float labels, regression, an n×1 label array, and the "npy:" prefix.
	yfile := writeTemp(t, "y.npy", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }", f64le(-0.5, 2)))
	xcopy := writeTemp(t, "features.bin", xb)
	d := mustLoad(t, Spec{Source: "npy:" + xcopy, Labels: yfile, Regression: true, NoStandardize: true})
	if !reflect.DeepEqual(d.Y, []float64{-0.5, 2}) || d.Classes != nil {
		t.Errorf("regression: Y %v", d.Y)
	}
	d = mustLoad(t, Spec{Source: xfile, Labels: yfile})
	if !reflect.DeepEqual(d.Classes, []string{"-0.5", "2"}) {
		t.Errorf("float classes %q", d.Classes)
	}
	// Standardised by default: columns 0, 3 → −1, 1.
	if d.X.At(0, 0) != -1 || d.X.At(1, 0) != 1 {
		t.Errorf("standardised X %v", mat.Formatted(d.X))
	}

	good := writeTemp(t, "good.npy", npyTyped("<i8", 8, []int64{0, 1}))
	for _, tc := range []struct {
		name   string
		x, y   []byte
		xerr   bool // the error names the feature file, else the label file
		substr string
	}{
		{"fortran", mustRead(t, "testdata/npy/data_float64_2x3_forder.npy"), nil, true, "features are in Fortran (column-major) order"},
		{"int features", mustRead(t, "testdata/npy/data_int64_6x1_corder.npy"), nil, true, "features have dtype int64: want float32 or float64"},
		{"3-D features", mustRead(t, "testdata/npy/data_float64_2x3x4_corder.npy"), nil, true, "features have shape (2, 3, 4): want a 2-D array"},
		{"NaN feature", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }", f64le(1, math.NaN())), nil, true, "element (1, 0) is NaN"},
		{"no examples", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 999999999999), }", nil), nil, true, "no examples"},
		{"no features", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 0), }", nil), nil, true, "no feature columns"},
		{"count", nil, npyTyped("<i8", 8, []int64{0, 1, 2}), false, "3 labels for 2 examples in "},
		{"2-D labels", nil, mustRead(t, "testdata/npy/data_float64_2x3_corder.npy"), false, "labels have shape (2, 3): want a 1-D array"},
		{"NaN label", nil, npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f64le(1, math.Inf(1))), false, "element 1: label +Inf is not finite"},
		{"bad label file", nil, []byte("0,1\n"), false, "not a .npy file"},
	} {
		xp, yp := xfile, good
		if tc.x != nil {
			xp = writeTemp(t, "x.npy", tc.x)
		}
		if tc.y != nil {
			yp = writeTemp(t, "y.npy", tc.y)
		}
		_, err := Load(Spec{Source: xp, Labels: yp})
		want := yp
		if tc.xerr {
			want = xp
		}
		if err == nil || !strings.HasPrefix(err.Error(), want+": ") || !strings.Contains(err.Error(), tc.substr) {
			t.Errorf("%s: error %v, want %s: …%s…", tc.name, err, want, tc.substr)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func BenchmarkReadMatrix(b *testing.B) {
	m := mat.NewDense(1000, 100, nil)
	path := filepath.Join(b.TempDir(), "m.npy")
	if err := WriteMatrix(path, m); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ReadMatrix(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteVector(b *testing.B) {
	v := make([]float64, 100000)
	path := filepath.Join(b.TempDir(), "v.npy")
	for b.Loop() {
		if err := WriteVector(path, v); err != nil {
			b.Fatal(err)
		}
	}
}
