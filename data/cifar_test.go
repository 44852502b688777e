package data

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// cifarPixel is the value the test batches give pixel (c, h, w) of image i: distinct across
// the channel planes, rows and columns, so that a wrong layout shows.
func cifarPixel(i, c, h, w int) byte { return byte((i*37 + c*101 + h*7 + w*3) % 256) }

// cifarBatch writes the records of images first … first+len(labels)−1 with the given labels,
// laid out as the CIFAR-10 binary format documents (label, then the red, green and blue
// planes, each row-major), written here pixel by pixel from the format's description.
func cifarBatch(first int, labels []byte) []byte {
	var b []byte
	for k, l := range labels {
		b = append(b, l)
		for c := range 3 {
			for h := range 32 {
				for w := range 32 {
					b = append(b, cifarPixel(first+k, c, h, w))
				}
			}
		}
	}
	return b
}

// writeCIFAR writes the five training batches (2 images each, labels trainLabels) and the
// test batch (3 images) into a fresh directory; the test batch gzip-compressed when gzTest.
func writeCIFAR(t *testing.T, gzTest bool) (dir string, raw map[string][]byte) {
	t.Helper()
	dir = t.TempDir()
	raw = map[string][]byte{}
	for k := range 5 {
		name := filepath.Join(dir, "data_batch_"+string(rune('1'+k))+".bin")
		raw[name] = cifarBatch(2*k, cifarTrainLabels[2*k:2*k+2])
	}
	test := cifarBatch(100, []byte{3, 3, 9})
	name := filepath.Join(dir, "test_batch.bin")
	if gzTest {
		test = gz(t, test)
		name += ".gz"
	}
	raw[name] = test
	for name, b := range raw {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, raw
}

var cifarTrainLabels = []byte{6, 9, 9, 4, 1, 1, 2, 7, 8, 3}

func TestCIFAR(t *testing.T) {
	for _, gzTest := range []bool{false, true} {
		dir, raw := writeCIFAR(t, gzTest)
		d := mustLoad(t, Spec{Source: "cifar:" + dir})
		if d.Len() != 10 || d.NumFeatures() != 3072 || !reflect.DeepEqual(d.Shape, []int{3, 32, 32}) {
			t.Fatalf("train: %d×%d, shape %v", d.Len(), d.NumFeatures(), d.Shape)
		}
		for i := range 10 {
			for _, px := range [][3]int{{0, 0, 0}, {0, 0, 31}, {0, 1, 0}, {1, 0, 0}, {2, 31, 31}, {1, 17, 5}} {
				c, h, w := px[0], px[1], px[2]
				if got, want := d.X.At(i, c*1024+h*32+w), float64(cifarPixel(i, c, h, w))/255; got != want {
					t.Fatalf("train image %d pixel (%d, %d, %d) = %v, want %v", i, c, h, w, got, want)
				}
			}
		}
		if want := []string{"1", "2", "3", "4", "6", "7", "8", "9"}; !reflect.DeepEqual(d.Classes, want) {
			t.Errorf("classes %q", d.Classes)
		}
		for i, l := range cifarTrainLabels {
			if d.Classes[int(d.Y[i])] != string(rune('0'+l)) {
				t.Errorf("image %d: class %q, want %d", i, d.Classes[int(d.Y[i])], l)
			}
		}
		if st := d.Standardization; st == nil || !st.Scale01 || st.Mean != nil {
			t.Errorf("standardisation %+v", d.Standardization)
		}
		var parts [][]byte
		for k := range 5 {
			parts = append(parts, raw[filepath.Join(dir, "data_batch_"+string(rune('1'+k))+".bin")])
		}
		if d.SHA256 != sha256Hex(parts...) || d.Name != "cifar:"+dir+" (train)" {
			t.Errorf("sha %s name %q", d.SHA256, d.Name)
		}
		if d.FeatureNames[0] != "pixel_0_0_0" || d.FeatureNames[1024+33] != "pixel_1_1_1" || d.FeatureNames[3071] != "pixel_2_31_31" {
			t.Errorf("feature names %q …", d.FeatureNames[:3])
		}

		// The test split, with the training data's classes (Like): label 3 is class 2.
		te := mustLoad(t, Spec{Source: "cifar:" + dir, Split: "test", Like: d})
		if te.Len() != 3 || !reflect.DeepEqual(te.Y, []float64{2, 2, 7}) || !reflect.DeepEqual(te.Shape, []int{3, 32, 32}) {
			t.Errorf("test: n %d Y %v shape %v", te.Len(), te.Y, te.Shape)
		}
		if got, want := te.X.At(2, 2*1024+3*32+4), float64(cifarPixel(102, 2, 3, 4))/255; got != want {
			t.Errorf("test pixel %v, want %v", got, want)
		}
		if te.Name != "cifar:"+dir+" (test)" {
			t.Errorf("test name %q", te.Name)
		}
		// Regression on the label value: pixels still in [0, 1], the target standardised.
		r := mustLoad(t, Spec{Source: "cifar:" + dir, Regression: true, NoStandardize: true})
		if r.Y[1] != 9 || r.X.At(0, 5) != float64(cifarPixel(0, 0, 0, 5))/255 {
			t.Errorf("regression: Y %v", r.Y)
		}
	}
}

func TestCIFARErrors(t *testing.T) {
	good := cifarBatch(0, []byte{1, 2})
	for _, tc := range []struct {
		name   string
		batch3 []byte // content of data_batch_3.bin; nil: the file is missing
		file   string // the file the error names
		substr string
	}{
		{"truncated", good[:2*cifarRecord-5], "data_batch_3.bin", "record 1 is truncated: 3068 of its 3073 bytes"},
		{"label", cifarBatch(0, []byte{1, 10}), "data_batch_3.bin", "record 1: label 10 is not in 0..9"},
		{"empty", []byte{}, "data_batch_3.bin", "no records"},
		{"missing", nil, "", "no data_batch_3.bin (or .gz): cifar:DIR reads CIFAR-10's binary batches data_batch_1.bin … data_batch_5.bin (train) and test_batch.bin (test)"},
		{"bad gzip", []byte{0x1f, 0x8b, 0, 0}, "data_batch_3.bin", "gzip"},
	} {
		dir := t.TempDir()
		for k := 1; k <= 5; k++ {
			b := good
			if k == 3 {
				if tc.batch3 == nil {
					continue
				}
				b = tc.batch3
			}
			if err := os.WriteFile(filepath.Join(dir, "data_batch_"+string(rune('0'+k))+".bin"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Load(Spec{Source: "cifar:" + dir})
		want := dir + ": "
		if tc.file != "" {
			want = filepath.Join(dir, tc.file) + ": "
		}
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.substr) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want %s…%s…", tc.name, err, want, tc.substr)
		}
	}
	// The test split needs test_batch.bin; a missing directory or a file in its place is named.
	dir, _ := writeCIFAR(t, false)
	os.Remove(filepath.Join(dir, "test_batch.bin"))
	if _, err := Load(Spec{Source: "cifar:" + dir, Split: "test"}); err == nil || !strings.Contains(err.Error(), dir+": no test_batch.bin") {
		t.Errorf("no test batch: %v", err)
	}
	missing := filepath.Join(dir, "nowhere")
	if _, err := Load(Spec{Source: "cifar:" + missing}); err == nil || !strings.HasPrefix(err.Error(), missing+": no such file") {
		t.Errorf("missing directory: %v", err)
	}
	file := filepath.Join(dir, "data_batch_1.bin")
	if _, err := Load(Spec{Source: "cifar:" + file}); err == nil || !strings.HasPrefix(err.Error(), file+": not a directory") {
		t.Errorf("a file for the directory: %v", err)
	}
	if _, err := Load(Spec{Source: "cifar:" + dir, Split: "valid"}); err == nil || !strings.Contains(err.Error(), `split "valid"`) {
		t.Errorf("bad split: %v", err)
	}
	// A label the training data do not know (Like), named by its record and file.
	like := mustLoad(t, Spec{Source: "cifar:" + dir})
	os.WriteFile(filepath.Join(dir, "test_batch.bin"), cifarBatch(0, []byte{6, 0}), 0o644)
	if _, err := Load(Spec{Source: "cifar:" + dir, Split: "test", Like: like}); err == nil || !strings.Contains(err.Error(), `record 1 of test_batch.bin: label "0" is not one of the reference classes`) {
		t.Errorf("unknown label: %v", err)
	}
}

// TestImageShapes checks which sources carry an image shape and that preprocessing which
// keeps the columns keeps it.
func TestImageShapes(t *testing.T) {
	for _, tc := range []struct {
		spec  Spec
		shape []int
	}{
		{Spec{Source: "digits"}, []int{1, 8, 8}},
		{Spec{Source: "digits", Target: "digit"}, []int{1, 8, 8}},
		{Spec{Source: "digits", NoStandardize: true}, []int{1, 8, 8}},
		{Spec{Source: "digits", Target: "pixel_3_4"}, nil}, // the features are no longer the image
		{Spec{Source: "iris"}, nil},
		{Spec{Source: "idx:testdata/idx"}, []int{1, 2, 3}},
		{Spec{Source: "idx:testdata/idx", Split: "test"}, []int{1, 2, 3}},
		{Spec{Source: "testdata/npy/data_float64_2x3_corder.npy", Labels: writeTemp(t, "y.npy", npyTyped("<i8", 8, []int64{0, 1}))}, nil},
	} {
		d := mustLoad(t, tc.spec)
		if !reflect.DeepEqual(d.Shape, tc.shape) {
			t.Errorf("%+v: shape %v, want %v", tc.spec, d.Shape, tc.shape)
		}
		if tc.shape != nil && tc.shape[0]*tc.shape[1]*tc.shape[2] != d.NumFeatures() {
			t.Errorf("%+v: shape %v for %d features", tc.spec, d.Shape, d.NumFeatures())
		}
		if s := d.Subset([]int{1, 0}); !reflect.DeepEqual(s.Shape, tc.shape) {
			t.Errorf("%+v: subset shape %v", tc.spec, s.Shape)
		}
	}
	// The digits' columns, named pixel_r_c in their CSV header, are the 8×8 image row by row:
	// the (C, H, W) order of its shape 1×8×8.
	for j, name := range mustLoad(t, Spec{Source: "digits"}).FeatureNames {
		if want := fmt.Sprintf("pixel_%d_%d", j/8, j%8); name != want {
			t.Fatalf("digits column %d is %q, want %q", j, name, want)
		}
	}
	// Embedded's description carries the shape, and changing it changes nothing loaded.
	for _, e := range Embedded() {
		if e.Name == "digits" {
			e.Shape[0] = 99
		}
	}
	if d := mustLoad(t, Spec{Source: "digits"}); d.Shape[0] != 1 {
		t.Errorf("shape %v after editing Embedded's copy", d.Shape)
	}
	// A test set of another image shape with the same number of features is refused.
	x := writeTemp(t, "x.npy", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1, 3, 2), }", f64le(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)))
	y := writeTemp(t, "y.npy", npyTyped("<i8", 8, []int64{7, 0}))
	train := mustLoad(t, Spec{Source: "idx:testdata/idx"})
	if _, err := Load(Spec{Source: x, Labels: y, Like: train}); err == nil || !strings.Contains(err.Error(), x+`: images of shape 1×3×2, but the reference data set "idx:testdata/idx (train)" has 1×2×3`) {
		t.Errorf("shape mismatch: %v", err)
	}
}

// TestNPYImages loads a 4-D (N, C, H, W) feature array: each row holds the example's values
// in (C, H, W) order, used as they are with NoStandardize and standardised per pixel
// otherwise.
func TestNPYImages(t *testing.T) {
	// x[n, c, h, w] = 1000n + 100c + 10h + w, shape (2, 2, 3, 4), written in C order.
	var vals []float64
	for n := range 2 {
		for c := range 2 {
			for h := range 3 {
				for w := range 4 {
					vals = append(vals, float64(1000*n+100*c+10*h+w))
				}
			}
		}
	}
	x := writeTemp(t, "x.npy", npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 3, 4), }", f64le(vals...)))
	y := writeTemp(t, "y.npy", npyTyped("<i8", 8, []int64{5, 2}))
	d := mustLoad(t, Spec{Source: x, Labels: y, NoStandardize: true})
	if d.Len() != 2 || d.NumFeatures() != 24 || !reflect.DeepEqual(d.Shape, []int{2, 3, 4}) || d.Standardization != nil {
		t.Fatalf("%d×%d shape %v standardisation %+v", d.Len(), d.NumFeatures(), d.Shape, d.Standardization)
	}
	for n := range 2 {
		for c := range 2 {
			for h := range 3 {
				for w := range 4 {
					if got := d.X.At(n, c*12+h*4+w); got != float64(1000*n+100*c+10*h+w) {
						t.Fatalf("x[%d, %d, %d, %d] = %v", n, c, h, w, got)
					}
				}
			}
		}
	}
	if d.FeatureNames[12+4+1] != "pixel_1_1_1" {
		t.Errorf("feature names %q", d.FeatureNames)
	}
	// Standardised per pixel: each column is (1000n + k) for n = 0, 1, so −1 then 1.
	s := mustLoad(t, Spec{Source: x, Labels: y})
	if s.X.At(0, 7) != -1 || s.X.At(1, 7) != 1 || len(s.Standardization.Mean) != 24 || !reflect.DeepEqual(s.Shape, []int{2, 3, 4}) {
		t.Errorf("standardised: %v %v, shape %v", s.X.At(0, 7), s.X.At(1, 7), s.Shape)
	}
	// A file NumPy wrote (np.arange(48).reshape(2, 2, 3, 4)): rows 0…23 and 24…47, NumPy's
	// own reshape(N, −1).
	npf := "testdata/npy/images_float32_2x2x3x4_corder.npy"
	f := mustLoad(t, Spec{Source: npf, Labels: y, NoStandardize: true})
	for j := range 48 {
		if got := f.X.At(j/24, j%24); got != float64(j) {
			t.Fatalf("%s: row %d column %d = %v, want %d", npf, j/24, j%24, got, j)
		}
	}
	if !reflect.DeepEqual(f.Shape, []int{2, 3, 4}) {
		t.Errorf("%s: shape %v", npf, f.Shape)
	}
	for _, tc := range []struct {
		name, dict string
		data       []byte
		substr     string
	}{
		{"NaN", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2, 2), }", f64le(0, 0, 0, 0, 0, 0, 1, math.NaN()), "element (0, 1, 1, 1) is NaN"},
		{"5-D", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }", f64le(0), "want a 2-D array (examples × features) or a 4-D array of images (examples, C, H, W)"},
		{"no examples", "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 99999, 99999, 99999), }", nil, "no examples"},
		{"empty image", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 0, 2), }", nil, "no feature columns"},
		{"fortran", "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1, 1, 2), }", f64le(0, 1), "Fortran"},
	} {
		xp := writeTemp(t, "x.npy", npyRaw(1, tc.dict, tc.data))
		if _, err := Load(Spec{Source: xp, Labels: y}); err == nil || !strings.HasPrefix(err.Error(), xp+": ") || !strings.Contains(err.Error(), tc.substr) {
			t.Errorf("%s: error %v, want …%s…", tc.name, err, tc.substr)
		}
	}
}
