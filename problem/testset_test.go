package problem

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/field"
)

func mustRaw(t *testing.T, src string, regression bool) *data.Dataset {
	t.Helper()
	d, err := data.Load(data.Spec{Source: src, NoStandardize: true, Regression: regression})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHoldoutSplit: on digits (1797 examples, 10 classes) the split holds out exactly
// round(f·n_c) of every class, is disjoint from the training part and covers the data, is
// the same for the same seed whatever GOMAXPROCS and differs for another seed; a class of
// two keeps one training example; a regression holds out round(f·n); holding out nothing
// is a field error of key holdout.
func TestHoldoutSplit(t *testing.T) {
	d := mustRaw(t, "digits", false)
	n, K, f := d.Len(), d.NumClasses(), 0.2
	prev := runtime.GOMAXPROCS(1)
	tr, te, err := HoldoutSplit(d.Y, K, f, 7)
	runtime.GOMAXPROCS(4)
	tr4, te4, err4 := HoldoutSplit(d.Y, K, f, 7)
	runtime.GOMAXPROCS(prev)
	if err != nil || err4 != nil {
		t.Fatal(err, err4)
	}
	if !reflect.DeepEqual(tr, tr4) || !reflect.DeepEqual(te, te4) {
		t.Error("the split depends on GOMAXPROCS")
	}
	nc, hc := make([]int, K), make([]int, K)
	for _, y := range d.Y {
		nc[int(y)]++
	}
	seen := make([]int, n)
	for _, i := range te {
		hc[int(d.Y[i])]++
		seen[i]++
	}
	for _, i := range tr {
		seen[i]++
	}
	for i, s := range seen {
		if s != 1 {
			t.Fatalf("example %d is in %d parts", i, s)
		}
	}
	want := 0
	for c := range K {
		if w := int(math.Round(f * float64(nc[c]))); hc[c] != w {
			t.Errorf("class %d: %d of %d held out, want %d", c, hc[c], nc[c], w)
		}
		want += hc[c]
	}
	// By hand from digits' class counts 178 182 177 183 181 182 181 179 174 180:
	// round(0.2·n_c) = 36 36 35 37 36 36 36 36 35 36, 359 in all.
	if len(te) != want || len(tr) != n-want || want != 359 {
		t.Errorf("sizes %d + %d, want %d held out (359)", len(tr), len(te), want)
	}
	for k := 1; k < len(te); k++ {
		if te[k] <= te[k-1] {
			t.Fatal("test indices not ascending")
		}
	}
	_, te8, _ := HoldoutSplit(d.Y, K, f, 8)
	if reflect.DeepEqual(te, te8) {
		t.Error("seeds 7 and 8 give the same split")
	}

	// A class of two examples at f = 0.9 keeps one; a class of one keeps its only one.
	tr, te, err = HoldoutSplit([]float64{0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2}, 3, 0.9, 1)
	if err != nil || len(te) != 1+9 || len(tr) != 3 {
		t.Errorf("small classes: train %v test %v (%v)", tr, te, err)
	}
	// Regression: round(0.25·10) = 3 (2.5 rounds away from zero).
	tr, te, err = HoldoutSplit(make([]float64, 10), 0, 0.25, 1)
	if err != nil || len(te) != 3 || len(tr) != 7 {
		t.Errorf("regression: train %v test %v (%v)", tr, te, err)
	}
	if _, _, err := HoldoutSplit(make([]float64, 10), 0, 0.01, 1); field.As(err) == nil || field.As(err).Key != "holdout" {
		t.Errorf("holding out none = %v", err)
	}
}

// TestHoldoutStandardization: with --holdout the training part is standardised with its own
// mean and population std, computed here by hand from the unstandardised data, and the test
// part with the same statistics (not its own), for the features and a numeric target
// (diabetes); the split is the one HoldoutSplit gives.
func TestHoldoutStandardization(t *testing.T) {
	for _, c := range []struct{ src, model string }{{"wine", "softmax"}, {"diabetes", "linreg"}} {
		s := DefaultSpec()
		s.Data, s.Model, s.Holdout, s.HoldoutSeed = c.src, c.model, 0.3, 11
		p, err := Load(s)
		if err != nil {
			t.Fatal(err)
		}
		reg := s.Regression()
		raw := mustRaw(t, c.src, reg)
		tr, te, err := HoldoutSplit(raw.Y, raw.NumClasses(), 0.3, 11)
		if err != nil {
			t.Fatal(err)
		}
		if !p.HasTest() || p.N() != len(tr) || p.Test.Len() != len(te) {
			t.Fatalf("%s: sizes %d, %d, want %d, %d", c.src, p.N(), p.Test.Len(), len(tr), len(te))
		}
		col := func(j int) []float64 { // column j of the raw data, the target for j = -1
			v := make([]float64, raw.Len())
			for i := range v {
				if j < 0 {
					v[i] = raw.Y[i]
				} else {
					v[i] = raw.X.At(i, j)
				}
			}
			return v
		}
		stats := func(v []float64) (mean, std float64) {
			for _, i := range tr {
				mean += v[i]
			}
			mean /= float64(len(tr))
			for _, i := range tr {
				std += (v[i] - mean) * (v[i] - mean)
			}
			return mean, math.Sqrt(std / float64(len(tr)))
		}
		check := func(j int, got func(part *Problem, test bool, k int) float64) {
			v := col(j)
			m, sd := stats(v)
			var testMean float64
			for k, i := range tr {
				if g, w := got(p, false, k), (v[i]-m)/sd; math.Abs(g-w) > 1e-12*(1+math.Abs(w)) {
					t.Fatalf("%s column %d train row %d: %v, want %v", c.src, j, k, g, w)
				}
			}
			for k, i := range te {
				g, w := got(p, true, k), (v[i]-m)/sd
				if math.Abs(g-w) > 1e-12*(1+math.Abs(w)) {
					t.Fatalf("%s column %d test row %d: %v, want %v", c.src, j, k, g, w)
				}
				testMean += g
			}
			if testMean /= float64(len(te)); testMean == 0 {
				t.Errorf("%s column %d: the test part has mean exactly 0 (its own statistics?)", c.src, j)
			}
		}
		for j := range raw.NumFeatures() {
			check(j, func(p *Problem, test bool, k int) float64 {
				if test {
					return p.Test.X.At(k, j)
				}
				return p.Data.X.At(k, j)
			})
		}
		if reg {
			check(-1, func(p *Problem, test bool, k int) float64 {
				if test {
					return p.Test.Y[k]
				}
				return p.Data.Y[k]
			})
		} else {
			for k, i := range te {
				if p.Test.Y[k] != raw.Y[i] {
					t.Fatalf("%s test label %d", c.src, k)
				}
			}
		}
		if p.Test.Standardization != p.Data.Standardization {
			t.Errorf("%s: the test set records other statistics", c.src)
		}
		pv := NewProvenance("v", nil, 1, p)
		if pv.Holdout != 0.3 || pv.HoldoutSeed == nil || *pv.HoldoutSeed != 11 || pv.TestN != len(te) || pv.N != len(tr) {
			t.Errorf("%s provenance %+v", c.src, pv)
		}
	}
}

// TestTestSource: --test iris on iris gives the training rows bitwise (the same
// statistics); a CSV with other features or an unknown class is a one-line error naming
// the file; test and holdout exclude each other.
func TestTestSource(t *testing.T) {
	s := DefaultSpec()
	s.Data, s.Model, s.Test = "iris", "softmax", "iris"
	p, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasTest() || !reflect.DeepEqual(p.Test.X.RawMatrix().Data, p.Data.X.RawMatrix().Data) || !reflect.DeepEqual(p.Test.Y, p.Data.Y) {
		t.Error("iris as its own test set differs from the training data")
	}
	if pv := NewProvenance("v", nil, 1, p); pv.Test != "iris" || pv.TestN != 150 || pv.HoldoutSeed != nil {
		t.Errorf("provenance %+v", pv)
	}
	dir := t.TempDir()
	for name, text := range map[string]string{
		"three.csv":   "a,b,c,species\n1,2,3,setosa\n",
		"unknown.csv": "a,b,c,d,species\n1,2,3,4,rose\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		s.Test = path
		_, err := Load(s)
		if err == nil || !strings.HasPrefix(err.Error(), "test set: ") || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	s.Test, s.Holdout = "iris", 0.2
	if fe := field.As(s.Validate()); fe == nil || fe.Key != "holdout" {
		t.Errorf("test and holdout: %v", fe)
	}
	s.Test = ""
	for _, h := range []float64{1, -0.1, math.NaN()} {
		s.Holdout = h
		if fe := field.As(s.Validate()); fe == nil || fe.Key != "holdout" {
			t.Errorf("holdout %v: %v", h, fe)
		}
	}
}

func writeIDX(t *testing.T, path string, typ byte, dims []uint32, b []byte) {
	t.Helper()
	h := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		h = binary.BigEndian.AppendUint32(h, d)
	}
	if err := os.WriteFile(path, append(h, b...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestIDXTestSplit: --test idx:DIR reads DIR's t10k files (pixels/255 and labels as
// written), the training data its train files; t10k labels the training data lacks are an
// error; on the real MNIST files the test set is the 10000 t10k images.
func TestIDXTestSplit(t *testing.T) {
	dir := t.TempDir()
	writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), 8, []uint32{3, 1, 2}, []byte{0, 255, 10, 20, 30, 40})
	writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), 8, []uint32{3}, []byte{1, 2, 1})
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), 8, []uint32{2, 1, 2}, []byte{51, 102, 153, 204})
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), 8, []uint32{2}, []byte{2, 1})
	s := DefaultSpec()
	s.Data, s.Model, s.Test = "idx:"+dir, "logistic", "idx:"+dir
	p, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 3 || p.Test.Len() != 2 || !reflect.DeepEqual(p.Test.X.RawMatrix().Data, []float64{0.2, 0.4, 0.6, 0.8}) ||
		!reflect.DeepEqual(p.Test.Y, []float64{1, 0}) || !strings.HasSuffix(p.Test.Name, "(test)") {
		t.Errorf("test set %s: %v %v", p.Test.Name, p.Test.X.RawMatrix().Data, p.Test.Y)
	}
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), 8, []uint32{2}, []byte{2, 3})
	if _, err := Load(s); err == nil || !strings.Contains(err.Error(), "t10k-labels") || !strings.Contains(err.Error(), `"3"`) {
		t.Errorf("unknown t10k label: %v", err)
	}

	// The real MNIST t10k files (both splits linked to them, to keep the load small).
	mnist := filepath.Join("..", "..", "shared", "datasets", "mnist") // from the main checkout
	if _, err := os.Stat(mnist); err != nil {
		mnist = "/work/shared/datasets/mnist" // from a worktree elsewhere
	}
	img, err1 := os.ReadFile(filepath.Join(mnist, "t10k-images-idx3-ubyte.gz"))
	lbl, err2 := os.ReadFile(filepath.Join(mnist, "t10k-labels-idx1-ubyte.gz"))
	if err1 != nil || err2 != nil {
		t.Skipf("MNIST not available in %s", mnist)
	}
	real := t.TempDir()
	for _, split := range []string{"train", "t10k"} {
		for _, f := range []string{"images-idx3-ubyte.gz", "labels-idx1-ubyte.gz"} {
			abs, _ := filepath.Abs(filepath.Join(mnist, "t10k-"+f))
			if err := os.Symlink(abs, filepath.Join(real, split+"-"+f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.Data, s.Test, s.Model = "idx:"+real, "idx:"+real, "softmax"
	p, err = Load(s)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(img)
	h.Write(lbl)
	if p.Test.Len() != 10000 || p.Test.NumFeatures() != 784 || p.Test.SHA256 != hex.EncodeToString(h.Sum(nil)) || p.Test.Y[0] != 7 {
		t.Errorf("MNIST test set %s: %d×%d", p.Test.Name, p.Test.Len(), p.Test.NumFeatures())
	}
}

// TestSubsample: on digits (1797 examples, class sizes 174–183) a subsample of 500 keeps
// exactly 500 distinct examples, every class within one of its proportional share 500·n_c/N
// (the largest-remainder allocation), ascending; the same seed gives the same draw and
// another seed another one. Loaded with --holdout 0.2 and --subsample 300, the training data
// are 300 rows of the holdout's training part, standardised with those 300 rows' own
// statistics (a hand computation, to 1e-12), and the test part with the same statistics.
// A subsample below the number of classes or above N is a field error of key subsample; N
// keeps everything.
func TestSubsample(t *testing.T) {
	raw := mustRaw(t, "digits", false)
	n := raw.Len()
	counts := make([]int, raw.NumClasses())
	for _, v := range raw.Y {
		counts[int(v)]++
	}
	keep, err := SubsampleIndices(raw.Y, raw.NumClasses(), 500, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(keep) != 500 {
		t.Fatalf("kept %d, want 500", len(keep))
	}
	got := make([]int, len(counts))
	for k, i := range keep {
		if k > 0 && keep[k-1] >= i {
			t.Fatalf("indices not strictly ascending at %d", k)
		}
		got[int(raw.Y[i])]++
	}
	for c := range counts {
		share := 500 * float64(counts[c]) / float64(n)
		if math.Abs(float64(got[c])-share) >= 1 {
			t.Errorf("class %d keeps %d, share %.2f", c, got[c], share)
		}
	}
	again, _ := SubsampleIndices(raw.Y, raw.NumClasses(), 500, 3)
	other, _ := SubsampleIndices(raw.Y, raw.NumClasses(), 500, 4)
	if !reflect.DeepEqual(keep, again) || reflect.DeepEqual(keep, other) {
		t.Error("the draw is not a function of the seed")
	}
	if _, err := SubsampleIndices(raw.Y, raw.NumClasses(), 9, 3); keyOf(err) != "subsample" {
		t.Errorf("9 of 10 classes: %v", err)
	}
	if all, _ := SubsampleIndices(raw.Y, raw.NumClasses(), n, 3); len(all) != n {
		t.Errorf("subsample N kept %d", len(all))
	}
	if _, err := SubsampleIndices(raw.Y, raw.NumClasses(), n+1, 3); keyOf(err) != "subsample" {
		t.Errorf("subsample N+1: %v", err)
	}

	s := DefaultSpec()
	s.Data, s.Model, s.Holdout, s.HoldoutSeed, s.Subsample = "digits", "softmax", 0.2, 5, 300
	p, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	tr, te, err := HoldoutSplit(raw.Y, raw.NumClasses(), 0.2, 5)
	if err != nil {
		t.Fatal(err)
	}
	trainY := make([]float64, len(tr))
	for k, i := range tr {
		trainY[k] = raw.Y[i]
	}
	sub, err := SubsampleIndices(trainY, raw.NumClasses(), 300, 5)
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 300 || p.Test.Len() != len(te) {
		t.Fatalf("sizes %d, %d, want 300, %d", p.N(), p.Test.Len(), len(te))
	}
	for j := range raw.NumFeatures() {
		var mean, sd float64
		for _, k := range sub {
			mean += raw.X.At(tr[k], j)
		}
		mean /= 300
		for _, k := range sub {
			d := raw.X.At(tr[k], j) - mean
			sd += d * d
		}
		sd = math.Sqrt(sd / 300)
		for r, k := range sub {
			w := 0.0
			if sd > 0 {
				w = (raw.X.At(tr[k], j) - mean) / sd
			}
			if g := p.Data.X.At(r, j); math.Abs(g-w) > 1e-12*(1+math.Abs(w)) {
				t.Fatalf("feature %d row %d: %v, want %v", j, r, g, w)
			}
		}
		if sd > 0 {
			i := te[0]
			w := (raw.X.At(i, j) - mean) / sd
			if g := p.Test.X.At(0, j); math.Abs(g-w) > 1e-12*(1+math.Abs(w)) {
				t.Fatalf("feature %d test row 0: %v, want %v", j, g, w)
			}
		}
	}
	pv := NewProvenance("v", nil, 1, p)
	if pv.Subsample != 300 || pv.N != 300 || pv.HoldoutSeed == nil || *pv.HoldoutSeed != 5 {
		t.Errorf("provenance %+v", pv)
	}
	s.Subsample = -1
	if err := s.Validate(); keyOf(err) != "subsample" {
		t.Errorf("subsample -1: %v", err)
	}
}

// keyOf is the key of a *field.Error, "" for any other error.
func keyOf(err error) string {
	if fe := field.As(err); fe != nil {
		return fe.Key
	}
	return ""
}
