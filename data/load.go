package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/field"

	"gonum.org/v1/gonum/mat"
)

// Spec describes the data to load. The zero value of every field but Source means the
// default.
type Spec struct {
	// Source selects the data. Recognised forms, tried in this order:
	//   - "idx:DIR": MNIST/Fashion-MNIST IDX files in DIR (see Split);
	//   - "cifar:DIR": CIFAR-10's binary batches in DIR (data_batch_1.bin … data_batch_5.bin,
	//     test_batch.bin; see Split);
	//   - "csv:PATH", "libsvm:PATH", "npy:PATH": a file of that format, whatever its name;
	//   - an embedded data set name ("iris", "wine", "breast-cancer", "digits", "diabetes");
	//   - a path ending in .csv (CSV with a header row), .svm, .libsvm or .txt (LibSVM
	//     text), or .npy (the n×p feature matrix, or n×C×H×W images; Labels names the
	//     targets).
	// Any file may be gzip-compressed (recognised by its content; a trailing ".gz" is
	// ignored when the extension is matched).
	Source string
	// Labels is the path of the .npy file holding the n targets (1-D, or n×1) when Source
	// is a .npy feature matrix; required then, and an error otherwise.
	Labels string
	// Target names the CSV column holding the target. Default: the last column. An error
	// for other formats.
	Target string
	// Split selects "train" (the default) or "test" (the t10k files of IDX data, CIFAR-10's
	// test_batch.bin) for IDX and CIFAR-10 data. An error for other formats.
	Split string
	// NoStandardize disables standardisation of the features and of a regression target.
	// Default false: standardise with the data's mean and population standard deviation.
	// IDX and CIFAR-10 images are scaled to [0, 1] either way.
	NoStandardize bool
	// Regression is true when the model needs a numeric target (Gaussian likelihood): the
	// target must then be a number on every row, and it is standardised like a feature
	// unless NoStandardize. Default false: the target holds class labels.
	Regression bool
	// Like, when non-nil, supplies the preprocessing of an already loaded data set (for
	// instance the training split when loading the test split): its class mapping
	// (a label it does not know is an error) and its standardisation statistics are used
	// instead of this data's own, and NoStandardize is ignored. Like must have the same
	// number of features and the same task (Regression ⇔ Like.Classes == nil), and the
	// same image shape when both data have one.
	Like *Dataset
}

// ParseError is a data error at a place in a file. Its message is one line:
// "FILE:LINE: MSG", or "FILE: MSG" when Line is 0 (binary formats name the element or item
// in MSG instead).
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func errAt(file string, line int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Limits that keep malformed or hostile files from exhausting memory.
const (
	// defaultMaxElements caps n·p of a dense feature matrix built from a sparse format
	// (LibSVM), where a single large index would otherwise ask for a huge allocation.
	defaultMaxElements = 1 << 28
)

// table is the format-independent result of parsing: features, targets and where each row
// came from, before label mapping and standardisation.
type table struct {
	file  string    // for errors: the file holding the features
	yfile string    // for errors: the file holding the targets ("" when it is file)
	n, p  int       // rows, features
	x     []float64 // n×p row-major, owned
	names []string  // feature names, length p
	// labels holds the n targets as text; nums, when non-nil, their exact numeric values
	// (binary formats), in which case every label is a number.
	labels []string
	nums   []float64
	// where returns the error location of row i: a line number (0 if none) and a
	// description used when the line is 0 (e.g. "element 17").
	where func(i int) (line int, desc string)
	// scale01 marks IDX and CIFAR-10 images, which are already in [0, 1] and never
	// standardised.
	scale01 bool
	// shape is the (C, H, W) of one example when the rows are images (C·H·W = p), else nil.
	shape []int
}

func (t *table) rowErr(i int, format string, args ...any) error {
	line, desc := t.where(i)
	msg := fmt.Sprintf(format, args...)
	if line == 0 && desc != "" {
		msg = desc + ": " + msg
	}
	return &ParseError{File: t.targetFile(), Line: line, Msg: msg}
}

func (t *table) targetFile() string {
	if t.yfile != "" {
		return t.yfile
	}
	return t.file
}

// Load reads, checks and preprocesses the data spec describes: targets become class
// indices (classification) or numbers (regression), and features are standardised unless
// spec.NoStandardize (see the package documentation and Spec).
func Load(spec Spec) (*Dataset, error) {
	src := spec.Source
	if src == "" {
		return nil, errors.New("data: no data source given")
	}
	kind, path := classify(src)
	if kind == "" {
		// What the user typed names no source: a *field.Error of key "data".
		return nil, field.Errorf("data", "unknown data source %q: not an embedded data set (%s), and neither a known extension (.csv, .svm, .libsvm, .txt, .npy) nor a prefix (idx:, cifar:, csv:, libsvm:, npy:)",
			src, strings.Join(EmbeddedNames(), ", "))
	}
	if spec.Labels == "" && kind == "npy" {
		return nil, field.Errorf("labels", "is needed with the .npy features %s: a 1-D .npy file of targets", src)
	}
	if spec.Labels != "" && kind != "npy" {
		return nil, fmt.Errorf("data: %s: a labels file applies only to .npy features", src)
	}
	if spec.Target != "" && kind != "csv" && kind != "embedded" {
		return nil, fmt.Errorf("data: %s: a target column applies only to CSV data", src)
	}
	if spec.Split != "" && kind != "idx" && kind != "cifar" {
		return nil, fmt.Errorf("data: %s: a split applies only to IDX and CIFAR-10 data", src)
	}
	if spec.Like != nil && (spec.Like.Classes == nil) != spec.Regression {
		return nil, fmt.Errorf("data: %s: Like data set and Regression disagree on the task", src)
	}

	var (
		t    *table
		sum  []byte
		name = src
		err  error
	)
	switch kind {
	case "embedded":
		b := embeddedCSV(path)
		s := sha256.Sum256(b)
		sum = s[:]
		t, err = parseCSV(path+".csv", b, spec.Target)
		if err == nil {
			t.shape = embeddedShape(path, b, spec.Target)
		}
	case "csv", "libsvm", "npy":
		var raw, b []byte
		if kind == "npy" {
			raw, b, err = readNPYFile(path)
		} else {
			raw, b, err = readFile(path)
		}
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		h.Write(raw)
		switch kind {
		case "csv":
			t, err = parseCSV(path, b, spec.Target)
		case "libsvm":
			t, err = parseLibSVM(path, b, defaultMaxElements)
		case "npy":
			var rawY, by []byte
			rawY, by, err = readNPYFile(spec.Labels)
			if err != nil {
				return nil, err
			}
			h.Write(rawY)
			t, err = parseNPYData(path, b, spec.Labels, by)
		}
		sum = h.Sum(nil)
	case "idx", "cifar":
		split := spec.Split
		if split == "" {
			split = "train"
		}
		if kind == "idx" {
			t, sum, err = loadIDX(path, split)
		} else {
			t, sum, err = loadCIFAR(path, split)
		}
		name = fmt.Sprintf("%s (%s)", src, split)
	}
	if err != nil {
		return nil, err
	}
	d, err := finish(t, spec)
	if err != nil {
		return nil, err
	}
	d.Name = name
	d.SHA256 = hex.EncodeToString(sum)
	return d, nil
}

// classify returns the loader kind ("embedded", "csv", "libsvm", "npy", "idx", "cifar", or
// "" when unknown) and the path or name it applies to.
func classify(src string) (kind, path string) {
	if pre, p := SplitSource(src); pre != "" {
		return strings.TrimSuffix(pre, ":"), p
	}
	if embeddedCSV(src) != nil {
		return "embedded", src
	}
	lower := strings.TrimSuffix(strings.ToLower(src), ".gz")
	switch {
	case strings.HasSuffix(lower, ".csv"):
		return "csv", src
	case strings.HasSuffix(lower, ".svm"), strings.HasSuffix(lower, ".libsvm"), strings.HasSuffix(lower, ".txt"):
		return "libsvm", src
	case strings.HasSuffix(lower, ".npy"):
		return "npy", src
	}
	return "", src
}

// sourcePrefixes are the format prefixes a Source may begin with.
var sourcePrefixes = []string{"idx:", "cifar:", "csv:", "libsvm:", "npy:"}

// SplitSource splits a Source into its format prefix ("idx:", "cifar:", "csv:", "libsvm:" or
// "npy:", colon included; "" when it has none) and the path that follows it.
func SplitSource(src string) (prefix, path string) {
	for _, pre := range sourcePrefixes {
		if p, ok := strings.CutPrefix(src, pre); ok {
			return pre, p
		}
	}
	return "", src
}

// ShapeString formats an image shape as "C×H×W" ("none" for nil).
func ShapeString(shape []int) string {
	if shape == nil {
		return "none"
	}
	parts := make([]string, len(shape))
	for i, v := range shape {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, "×")
}

// maxClassesRatio: a classification target with more than max(20, n/maxClassesRatio)
// distinct labels draws a warning (probably a regression target).
const maxClassesRatio = 5

// finish maps targets, standardises and builds the Dataset.
func finish(t *table, spec Spec) (*Dataset, error) {
	if t.n == 0 {
		return nil, &ParseError{File: t.file, Msg: "no examples"}
	}
	if t.p == 0 {
		return nil, &ParseError{File: t.file, Msg: "no feature columns"}
	}
	like := spec.Like
	if like != nil && like.NumFeatures() != t.p {
		return nil, &ParseError{File: t.file, Msg: fmt.Sprintf("%d features, but the reference data set %q has %d", t.p, like.Name, like.NumFeatures())}
	}
	if like != nil && like.Shape != nil && t.shape != nil && !slices.Equal(like.Shape, t.shape) {
		return nil, &ParseError{File: t.file, Msg: fmt.Sprintf("images of shape %s, but the reference data set %q has %s", ShapeString(t.shape), like.Name, ShapeString(like.Shape))}
	}
	d := &Dataset{FeatureNames: t.names, Shape: t.shape, Y: make([]float64, t.n)}

	// Targets.
	if spec.Regression {
		for i := range t.n {
			v, err := t.number(i)
			if err != nil {
				return nil, err
			}
			d.Y[i] = v
		}
	} else {
		var index map[string]int
		if like != nil {
			d.Classes = like.Classes
			index = make(map[string]int, len(d.Classes))
			for k, c := range d.Classes {
				index[c] = k
			}
		} else {
			for i, l := range t.labels {
				if l == "" {
					return nil, t.rowErr(i, "empty target")
				}
				if v, err := strconv.ParseFloat(l, 64); (err == nil && (math.IsNaN(v) || math.IsInf(v, 0))) || errors.Is(err, strconv.ErrRange) {
					return nil, t.rowErr(i, "target %q is not finite", l)
				}
			}
			d.Classes = sortedClasses(t.labels)
			index = make(map[string]int, len(d.Classes))
			for k, c := range d.Classes {
				index[c] = k
			}
		}
		for i, l := range t.labels {
			k, ok := index[l]
			if !ok {
				return nil, t.rowErr(i, "label %q is not one of the reference classes", l)
			}
			d.Y[i] = float64(k)
		}
		if like == nil {
			if k := len(d.Classes); k > 20 && k > t.n/maxClassesRatio {
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s: the target has %d distinct labels for %d examples; is it a regression target?", t.targetFile(), k, t.n))
			}
		}
		counts := make([]int, len(d.Classes))
		for _, y := range d.Y {
			counts[int(y)]++
		}
		for k, c := range counts {
			if c == 0 {
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s: class %q has no examples", t.targetFile(), d.Classes[k]))
			}
		}
	}

	// Features and a numeric target.
	switch {
	case like != nil:
		if s := like.Standardization; s != nil {
			if s.Mean != nil {
				applyStandardization(t.x, t.p, s.Mean, s.Std)
			}
			if s.TargetStandardized {
				applyStandardization(d.Y, 1, []float64{s.YMean}, []float64{s.YStd})
			}
			d.Standardization = s
		}
	case t.scale01:
		st := &Standardization{Scale01: true}
		if spec.Regression && !spec.NoStandardize {
			st.TargetStandardized = true
			st.YMean, st.YStd = columnStats(d.Y, 1, 0)
			applyStandardization(d.Y, 1, []float64{st.YMean}, []float64{st.YStd})
		}
		d.Standardization = st
	case !spec.NoStandardize:
		st := &Standardization{Mean: make([]float64, t.p), Std: make([]float64, t.p)}
		for j := range t.p {
			st.Mean[j], st.Std[j] = columnStats(t.x, t.p, j)
			if st.Std[j] == 0 {
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s: feature %q is constant (standardised to 0)", t.file, t.names[j]))
			}
		}
		applyStandardization(t.x, t.p, st.Mean, st.Std)
		if spec.Regression {
			st.TargetStandardized = true
			st.YMean, st.YStd = columnStats(d.Y, 1, 0)
			if st.YStd == 0 {
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s: the target is constant (standardised to 0)", t.targetFile()))
			}
			applyStandardization(d.Y, 1, []float64{st.YMean}, []float64{st.YStd})
		}
		d.Standardization = st
	}
	d.X = mat.NewDense(t.n, t.p, t.x)
	return d, nil
}

// number returns the numeric value of target i, or an error naming its place.
func (t *table) number(i int) (float64, error) {
	if t.nums != nil {
		return t.nums[i], nil
	}
	v, err := parseFinite(t.labels[i])
	if err != nil {
		return 0, t.rowErr(i, "target %v", err)
	}
	return v, nil
}
