package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The hand-made files in testdata/idx (see testdata/README.md).
var (
	idxTrainPixels = []byte{0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 255, 1, 2, 3, 4, 5, 6}
	idxTestPixels  = []byte{10, 20, 30, 40, 50, 60, 255, 255, 255, 0, 0, 0}
)

func TestIDX(t *testing.T) {
	for _, tc := range []struct {
		split       string
		files       [2]string
		pixels      []byte
		classes     []string
		y           []float64
		regressionY []float64
	}{
		{"", [2]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte"}, idxTrainPixels, []string{"0", "7", "9"}, []float64{1, 0, 2}, []float64{7, 0, 9}},
		{"train", [2]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte"}, idxTrainPixels, []string{"0", "7", "9"}, []float64{1, 0, 2}, []float64{7, 0, 9}},
		{"test", [2]string{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}, idxTestPixels, []string{"3"}, []float64{0, 0}, []float64{3, 3}},
	} {
		d := mustLoad(t, Spec{Source: "idx:testdata/idx", Split: tc.split})
		n := len(tc.pixels) / 6
		if d.Len() != n || d.NumFeatures() != 6 {
			t.Fatalf("split %q: shape %d×%d", tc.split, d.Len(), d.NumFeatures())
		}
		for k, v := range tc.pixels {
			if got := d.X.At(k/6, k%6); got != float64(v)/255 {
				t.Errorf("split %q: pixel %d = %v, want %v/255", tc.split, k, got, v)
			}
		}
		if !reflect.DeepEqual(d.Classes, tc.classes) || !reflect.DeepEqual(d.Y, tc.y) {
			t.Errorf("split %q: classes %q Y %v", tc.split, d.Classes, d.Y)
		}
		if st := d.Standardization; st == nil || !st.Scale01 || st.Mean != nil || st.TargetStandardized {
			t.Errorf("split %q: standardisation %+v", tc.split, d.Standardization)
		}
		want := "train"
		if tc.split == "test" {
			want = "test"
		}
		if d.Name != "idx:testdata/idx ("+want+")" {
			t.Errorf("name %q", d.Name)
		}
		img, _ := os.ReadFile(filepath.Join("testdata/idx", tc.files[0]))
		lbl, _ := os.ReadFile(filepath.Join("testdata/idx", tc.files[1]))
		if d.SHA256 != sha256Hex(img, lbl) {
			t.Errorf("split %q: wrong SHA256", tc.split)
		}
		if d.FeatureNames[4] != "pixel_1_1" {
			t.Errorf("feature names %q", d.FeatureNames)
		}
		// Regression on the digit value: pixels still scaled, not standardised.
		r := mustLoad(t, Spec{Source: "idx:testdata/idx", Split: tc.split, Regression: true, NoStandardize: true})
		if !reflect.DeepEqual(r.Y, tc.regressionY) || r.X.At(0, 1) != float64(tc.pixels[1])/255 {
			t.Errorf("split %q regression: Y %v", tc.split, r.Y)
		}
	}
}

// TestMNIST loads the real MNIST test split when the shared data directory has it.
func TestMNIST(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "datasets", "mnist")
	if _, err := os.Stat(filepath.Join(dir, "t10k-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("MNIST not available in %s: %v", dir, err)
	}
	d := mustLoad(t, Spec{Source: "idx:" + dir, Split: "test"})
	if d.Len() != 10000 || d.NumFeatures() != 784 {
		t.Fatalf("shape %d×%d, want 10000×784", d.Len(), d.NumFeatures())
	}
	lo, hi := 1.0, 0.0
	for _, v := range d.X.RawMatrix().Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("pixel range [%v, %v], want [0, 1]", lo, hi)
	}
	if want := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; !reflect.DeepEqual(d.Classes, want) {
		t.Errorf("classes %q", d.Classes)
	}
	// The published class counts of the MNIST test set; its first digit is a 7.
	counts := make([]int, 10)
	for _, y := range d.Y {
		counts[int(y)]++
	}
	if want := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}; !reflect.DeepEqual(counts, want) || d.Y[0] != 7 {
		t.Errorf("class counts %v, want %v; first label %v", counts, want, d.Y[0])
	}
}

// fashionMNISTDir is where Debian's dataset-fashion-mnist installs the gzip IDX files.
const fashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// TestFashionMNIST loads Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from Debian's
// dataset-fashion-mnist through idx:DIR, gzip files included. It skips when the package is
// not installed, unless SGDPRIOR_REQUIRE_TOOLS=1, in which case it fails.
func TestFashionMNIST(t *testing.T) {
	if _, err := os.Stat(filepath.Join(fashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		msg := "Fashion-MNIST not installed (Debian package: dataset-fashion-mnist): " + err.Error()
		if os.Getenv("SGDPRIOR_REQUIRE_TOOLS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	train := mustLoad(t, Spec{Source: "idx:" + fashionMNISTDir})
	test := mustLoad(t, Spec{Source: "idx:" + fashionMNISTDir, Split: "test", Like: train})
	classes := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	for _, tc := range []struct {
		d    *Dataset
		n    int
		name string
	}{{train, 60000, "train"}, {test, 10000, "test"}} {
		d := tc.d
		if d.Len() != tc.n || d.NumFeatures() != 784 || !reflect.DeepEqual(d.Shape, []int{1, 28, 28}) {
			t.Fatalf("%s: %d×%d, shape %v; want %d×784, 1×28×28", tc.name, d.Len(), d.NumFeatures(), d.Shape, tc.n)
		}
		if !reflect.DeepEqual(d.Classes, classes) {
			t.Errorf("%s: classes %q", tc.name, d.Classes)
		}
		// Fashion-MNIST is balanced: 6000 training and 1000 test images of each class.
		counts := make([]int, 10)
		for _, y := range d.Y {
			counts[int(y)]++
		}
		for k, c := range counts {
			if c != tc.n/10 {
				t.Errorf("%s: class %d has %d images, want %d", tc.name, k, c, tc.n/10)
			}
		}
		lo, hi := 1.0, 0.0
		for _, v := range d.X.RawMatrix().Data {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 || !d.Standardization.Scale01 {
			t.Errorf("%s: pixel range [%v, %v], want [0, 1]", tc.name, lo, hi)
		}
	}
	// The first training image is an ankle boot (class 9), the first test image too.
	if train.Y[0] != 9 || test.Y[0] != 9 {
		t.Errorf("first labels %v, %v; want 9, 9", train.Y[0], test.Y[0])
	}
}

func idxBytes(typ byte, dims []uint32, data []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func TestIDXErrors(t *testing.T) {
	goodImg := idxBytes(8, []uint32{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	goodLbl := idxBytes(8, []uint32{2}, []byte{1, 2})
	for _, tc := range []struct {
		name     string
		img, lbl []byte
		want     string // file base name: message
	}{
		{"bad magic", append([]byte{1, 2}, goodImg[2:]...), goodLbl, "/train-images-idx3-ubyte: not an IDX file (magic number 0x01020803)"},
		{"short", []byte{0, 0}, goodLbl, "/train-images-idx3-ubyte: not an IDX file (shorter than its magic number)"},
		{"type", idxBytes(0x0d, []uint32{2, 2, 2}, make([]byte, 32)), goodLbl, "/train-images-idx3-ubyte: IDX element type 0x0d: want unsigned bytes (0x08)"},
		{"labels as images", goodLbl, goodLbl, "/train-images-idx3-ubyte: IDX file has 1 dimensions: want 3 (magic number 0x00000801)"},
		{"truncated header", goodImg[:10], goodLbl, "/train-images-idx3-ubyte: truncated IDX header"},
		{"truncated data", goodImg[:len(goodImg)-1], goodLbl, "/train-images-idx3-ubyte: IDX dimensions [2 2 2] need 8 data bytes, the file has 7"},
		{"extra data", append(goodImg[:len(goodImg):len(goodImg)], 0), goodLbl, "/train-images-idx3-ubyte: IDX dimensions [2 2 2] need 8 data bytes, the file has 9"},
		{"huge", idxBytes(8, []uint32{0xffffffff, 2, 2}, nil), goodLbl, "/train-images-idx3-ubyte: IDX dimension 0 is 4294967295"},
		{"empty images", idxBytes(8, []uint32{2, 0, 2}, nil), goodLbl, "/train-images-idx3-ubyte: images of 0×2 pixels"},
		{"count", goodImg, idxBytes(8, []uint32{3}, []byte{1, 2, 3}), "/train-labels-idx1-ubyte: 3 labels for 2 images in "},
		{"label range", goodImg, idxBytes(8, []uint32{2}, []byte{1, 10}), "/train-labels-idx1-ubyte: item 1: label 10 is not in 0..9"},
		{"no images", nil, goodLbl, ": no train-images-idx3-ubyte (or .gz) IDX file"},
		{"no examples", idxBytes(8, []uint32{0, 2, 2}, nil), idxBytes(8, []uint32{0}, nil), "/train-images-idx3-ubyte: no examples"},
	} {
		dir := filepath.Join(t.TempDir(), "idx")
		os.Mkdir(dir, 0o755)
		if tc.img != nil {
			os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), tc.img, 0o644)
		}
		os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), tc.lbl, 0o644)
		_, err := Load(Spec{Source: "idx:" + dir})
		if err == nil || !strings.HasPrefix(err.Error(), dir+tc.want) {
			t.Errorf("%s: error %v\n want prefix %s", tc.name, err, dir+tc.want)
		}
	}
}

// TestIDXSpellings finds the dotted spelling of some mirrors and gzip by content.
func TestIDXSpellings(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(idxBytes(8, []uint32{1, 1, 2}, []byte{0, 255}))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "train-images.idx3-ubyte.gz"), buf.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "train-labels.idx1-ubyte"), idxBytes(8, []uint32{1}, []byte{4}), 0o644)
	d := mustLoad(t, Spec{Source: "idx:" + dir})
	if d.X.At(0, 0) != 0 || d.X.At(0, 1) != 1 || d.Classes[0] != "4" {
		t.Errorf("X %v classes %q", d.X.RawRowView(0), d.Classes)
	}
}
