package data

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// The fuzz targets feed arbitrary bytes to each parser and then to the same preprocessing
// Load applies. They must never panic; on success the result must be well formed. Their
// seed corpora (f.Add) run as ordinary tests; `go test -fuzz=FuzzCSV ./data` explores.

// fuzzMaxElements keeps the dense matrices the sparse LibSVM parser may build small.
const fuzzMaxElements = 1 << 16

// checkDataset verifies the invariants of a successfully loaded data set.
func checkDataset(t *testing.T, d *Dataset, regression bool) {
	t.Helper()
	n, p := d.X.Dims()
	if n == 0 || p == 0 || len(d.Y) != n || len(d.FeatureNames) != p {
		t.Fatalf("malformed data set: %d×%d, %d targets, %d names", n, p, len(d.Y), len(d.FeatureNames))
	}
	for _, v := range d.X.RawMatrix().Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("non-finite feature %v", v)
		}
	}
	for _, y := range d.Y {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			t.Fatalf("non-finite target %v", y)
		}
		if !regression && (y != math.Trunc(y) || y < 0 || int(y) >= len(d.Classes)) {
			t.Fatalf("class index %v with %d classes", y, len(d.Classes))
		}
	}
	if regression != (d.Classes == nil) {
		t.Fatalf("regression %v with classes %q", regression, d.Classes)
	}
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("a,b,y\n1,2,u\n3,4,v\n"), "", false)
	f.Add([]byte("a,b,y\n1,2,3\n3,4,5\n"), "a", true)
	f.Add([]byte("\xef\xbb\xbfa,\"b,c\",y\r\n1, 2 ,\"x\"\r\n\r\n5,6,z\r\n"), "y", false)
	f.Add([]byte("a,y\n1,NaN\n"), "", true)
	f.Add([]byte("a,y\n1e308,1\n-1e308,2\n"), "", true)
	f.Add([]byte("a,y\n0.1,1\n0.1,2\n"), "", false)
	f.Add([]byte("a\n"), "", false)
	f.Add([]byte("a,y\n1,\"u\n"), "", false)
	f.Add(embeddedCSV("iris")[:600], "species", false)
	f.Fuzz(func(t *testing.T, b []byte, target string, regression bool) {
		tb, err := parseCSV("fuzz.csv", b, target)
		if err != nil {
			return
		}
		for _, noStd := range []bool{false, true} {
			cp := *tb
			cp.x = append([]float64(nil), tb.x...)
			d, err := finish(&cp, Spec{Regression: regression, NoStandardize: noStd})
			if err == nil {
				checkDataset(t, d, regression)
			}
		}
	})
}

func FuzzLibSVM(f *testing.F) {
	f.Add([]byte("+1 1:0.5 3:-2 # c\n-1 2:1\n\n+1 qid:3 3:4\n"), false)
	f.Add([]byte("2.5 1:1\n-1 2:3\n"), true)
	f.Add([]byte("1 70000:1\n"), false)
	f.Add([]byte("1 1:1 1:2\n"), false)
	f.Add([]byte("1 0:1\n"), false)
	f.Add([]byte("nan 1:1\n"), true)
	f.Fuzz(func(t *testing.T, b []byte, regression bool) {
		tb, err := parseLibSVM("fuzz.svm", b, fuzzMaxElements)
		if err != nil {
			return
		}
		if tb.n*tb.p > fuzzMaxElements {
			t.Fatalf("%d×%d exceeds the element limit", tb.n, tb.p)
		}
		d, err := finish(tb, Spec{Regression: regression})
		if err == nil {
			checkDataset(t, d, regression)
		}
	})
}

func FuzzIDX(f *testing.F) {
	img := idxBytes(8, []uint32{2, 2, 2}, []byte{0, 1, 2, 3, 255, 254, 253, 252})
	lbl := idxBytes(8, []uint32{2}, []byte{3, 9})
	f.Add(img, lbl, false)
	f.Add(img, idxBytes(8, []uint32{2}, []byte{3, 10}), true)
	f.Add(idxBytes(8, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil), lbl, false)
	f.Add(idxBytes(8, []uint32{0, 28, 28}, nil), idxBytes(8, []uint32{0}, nil), false)
	f.Add([]byte{0, 0, 8}, lbl, false)
	f.Fuzz(func(t *testing.T, img, lbl []byte, regression bool) {
		tb, err := parseIDX("fuzz-images", img, "fuzz-labels", lbl)
		if err != nil {
			return
		}
		for _, v := range tb.x {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %v outside [0, 1]", v)
			}
		}
		d, err := finish(tb, Spec{Regression: regression})
		if err == nil {
			checkDataset(t, d, regression)
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	f.Add(cifarBatch(0, []byte{3, 9}), []byte(nil), false)
	f.Add(cifarBatch(0, []byte{3}), cifarBatch(1, []byte{0, 1}), true)
	f.Add(cifarBatch(0, []byte{10}), []byte(nil), false)
	f.Add(cifarBatch(0, []byte{1, 2})[:cifarRecord+7], []byte(nil), false)
	f.Add([]byte{}, []byte{5}, false)
	f.Fuzz(func(t *testing.T, b1, b2 []byte, regression bool) {
		tb, err := parseCIFAR("fuzz", []string{"fuzz/data_batch_1.bin", "fuzz/data_batch_2.bin"}, [][]byte{b1, b2})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if tb.n*cifarRecord != len(b1)+len(b2) || len(tb.x) != tb.n*cifarPixels || len(tb.names) != cifarPixels {
			t.Fatalf("%d records from %d + %d bytes", tb.n, len(b1), len(b2))
		}
		for _, v := range tb.x {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %v outside [0, 1]", v)
			}
		}
		d, err := finish(tb, Spec{Regression: regression})
		if err == nil {
			checkDataset(t, d, regression)
			if !slices.Equal(d.Shape, []int{3, 32, 32}) {
				t.Fatalf("shape %v", d.Shape)
			}
		}
	})
}

func FuzzNPY(f *testing.F) {
	x := npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", f64le(1, 2, 3, 4))
	y := npyTyped("<i8", 8, []int64{0, 1})
	f.Add(x, y, false)
	f.Add(x, npyRaw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", make([]byte, 8)), true)
	f.Add(npyRaw(1, "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }", f64le(1, 2, 3, 4)), y, false)
	f.Add(npyRaw(2, "{'shape': (1, 2), 'descr': '<f4', 'fortran_order': False}", make([]byte, 8)), npyTyped("|u1", 1, []int64{7}), false)
	f.Add(npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", nil), y, false)
	f.Add(npyRaw(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", nil), y, false)
	f.Add([]byte("\x93NUMPY\x01\x00\xff\xff{"), y, false)
	f.Add(npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 999999999999), }", nil), npyTyped("<i8", 8, nil), false)
	f.Add(mustReadF(f, "testdata/npy/data_float64_2x3_forder.npy"), mustReadF(f, "testdata/npy/nans_inf.npy"), false)
	f.Add(npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1, 1, 2), }", f64le(1, 2, 3, 4)), y, false)
	f.Add(npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 99999999, 99999999, 99999999), }", nil), npyTyped("<i8", 8, nil), false)
	f.Fuzz(func(t *testing.T, xb, yb []byte, regression bool) {
		// The helpers Read{Vector,Matrix} use.
		if a, err := decodeNPY(xb); err == nil {
			vectorFromNPY("fuzz.npy", a)
			matrixFromNPY("fuzz.npy", a)
		}
		tb, err := parseNPYData("x.npy", xb, "y.npy", yb)
		if err != nil {
			return
		}
		if tb.shape != nil && (len(tb.shape) != 3 || tb.shape[0]*tb.shape[1]*tb.shape[2] != tb.p) {
			t.Fatalf("shape %v for %d features", tb.shape, tb.p)
		}
		d, err := finish(tb, Spec{Regression: regression})
		if err == nil {
			checkDataset(t, d, regression)
		}
	})
}

func mustReadF(f *testing.F, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
