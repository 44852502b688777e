package data

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// parseFinite parses a decimal number (surrounding spaces ignored) and rejects NaN and ±Inf,
// including values that overflow float64. Go's hexadecimal floats and digit-separating
// underscores, which strconv.ParseFloat accepts, are not numbers here.
func parseFinite(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if strings.ContainsAny(t, "_xX") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	v, err := strconv.ParseFloat(t, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q overflows float64", s)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not finite", s)
	}
	return v, nil
}

// sortedClasses returns the distinct labels in class order: by numeric value when every label
// is a finite number (ties, such as "1" and "1.0", broken by the text), otherwise in
// lexicographic byte order.
func sortedClasses(labels []string) []string {
	seen := make(map[string]bool)
	var classes []string
	for _, l := range labels {
		if !seen[l] {
			seen[l] = true
			classes = append(classes, l)
		}
	}
	vals := make(map[string]float64, len(classes))
	numeric := true
	for _, c := range classes {
		v, err := parseFinite(c)
		if err != nil {
			numeric = false
			break
		}
		vals[c] = v
	}
	if numeric {
		sort.Slice(classes, func(a, b int) bool {
			va, vb := vals[classes[a]], vals[classes[b]]
			if va != vb {
				return va < vb
			}
			return classes[a] < classes[b]
		})
	} else {
		sort.Strings(classes)
	}
	return classes
}

// columnStats returns the mean and population standard deviation (divisor n) of column j of
// the row-major matrix x with stride columns. A column whose values are all equal gets that
// value as mean and exactly 0 as standard deviation (a computed mean could differ from the
// value by rounding).
func columnStats(x []float64, stride, j int) (mean, std float64) {
	n := len(x) / stride
	first := x[j]
	constant := true
	var sum float64
	for i := range n {
		v := x[i*stride+j]
		sum += v
		if v != first {
			constant = false
		}
	}
	if constant {
		return first, 0
	}
	mean = sum / float64(n)
	var ss float64
	for i := range n {
		d := x[i*stride+j] - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(n))
}

// applyStandardization replaces x[i,j] by (x[i,j] − mean[j])/std[j], or by 0 where
// std[j] is 0, in the row-major matrix x with stride columns.
func applyStandardization(x []float64, stride int, mean, std []float64) {
	for i := 0; i < len(x); i += stride {
		row := x[i : i+stride]
		for j := range row {
			if std[j] == 0 {
				row[j] = 0
			} else {
				row[j] = (row[j] - mean[j]) / std[j]
			}
		}
	}
}

// Standardize standardises d in place with its own statistics, as Load does unless
// NoStandardize: each feature by its mean and population standard deviation (not for IDX
// images, whose Standardization has Scale01 and which stay in [0, 1]), and a numeric target
// (d.Classes nil) likewise. It is for data loaded with NoStandardize and then split (a
// held-out test set standardised with the statistics of the training part, MATH.md §1):
// d must not be standardised already. The statistics are recorded in d.Standardization;
// constant columns are set to 0 and reported in d.Warnings.
func (d *Dataset) Standardize() {
	if st := d.Standardization; st != nil && (st.Mean != nil || st.TargetStandardized) {
		panic("data: Standardize of standardised data")
	}
	x := rawData(d)
	p := d.NumFeatures()
	st := &Standardization{}
	if d.Standardization != nil && d.Standardization.Scale01 {
		st.Scale01 = true
	} else {
		st.Mean, st.Std = make([]float64, p), make([]float64, p)
		for j := range p {
			st.Mean[j], st.Std[j] = columnStats(x, p, j)
			if st.Std[j] == 0 {
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s: feature %q is constant (standardised to 0)", d.Name, d.FeatureNames[j]))
			}
		}
		applyStandardization(x, p, st.Mean, st.Std)
	}
	if d.Classes == nil {
		st.TargetStandardized = true
		st.YMean, st.YStd = columnStats(d.Y, 1, 0)
		if st.YStd == 0 {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s: the target is constant (standardised to 0)", d.Name))
		}
		applyStandardization(d.Y, 1, []float64{st.YMean}, []float64{st.YStd})
	}
	d.Standardization = st
}

// StandardizeLike applies another data set's statistics st (nil: none) to d in place and
// records them in d.Standardization, as Load does with Like: x' = (x − st.Mean)/st.Std and,
// when st.TargetStandardized, y' = (y − st.YMean)/st.YStd (a test set standardised with the
// training statistics, MATH.md §1). d must be unstandardised and have
// as many features as st.
func (d *Dataset) StandardizeLike(st *Standardization) {
	if st == nil {
		return
	}
	if s := d.Standardization; s != nil && (s.Mean != nil || s.TargetStandardized) {
		panic("data: StandardizeLike of standardised data")
	}
	p := d.NumFeatures()
	if st.Mean != nil {
		if len(st.Mean) != p {
			panic(fmt.Sprintf("data: StandardizeLike with %d means for %d features", len(st.Mean), p))
		}
		applyStandardization(rawData(d), p, st.Mean, st.Std)
	}
	if st.TargetStandardized {
		applyStandardization(d.Y, 1, []float64{st.YMean}, []float64{st.YStd})
	}
	d.Standardization = st
}

// rawData returns d.X's row-major elements, first making X contiguous if it is not.
func rawData(d *Dataset) []float64 {
	r := d.X.RawMatrix()
	if r.Stride != r.Cols {
		d.X = mat.DenseCopyOf(d.X)
		r = d.X.RawMatrix()
	}
	return r.Data[:r.Rows*r.Cols]
}
