// Package data loads the examples sgdprior studies: embedded real data sets, CSV, LibSVM,
// MNIST/Fashion-MNIST IDX and NumPy .npy files, and seeded synthetic generators. It also
// reads and writes parameter vectors and matrices as .npy files.
//
// Conventions: X is n×p with one example per row. Features (and a numeric target) are
// standardised by default with the loaded data's mean and population standard deviation;
// constant features become 0. IDX images are scaled to [0, 1] instead. Class labels map to
// 0..K−1 in sorted order: numeric order when every label is a number, otherwise
// lexicographic. Data errors are returned as one-line errors naming the file and line.
package data

import "gonum.org/v1/gonum/mat"

// Dataset is a loaded, preprocessed data set.
type Dataset struct {
	// Name is how the data were selected ("iris", a file path, "idx:DIR").
	Name string
	// X holds the n×p features, one example per row, after preprocessing.
	X *mat.Dense
	// Y holds the n targets: a class index 0..K−1 (as float64) for classification data,
	// the (standardised unless disabled) numeric value for regression data.
	Y []float64
	// Classes maps class index to the original label; nil when the target is numeric
	// (regression). Classes[k] is the label of class k.
	Classes []string
	// Numeric reports whether every original target value parses as a number (so the data
	// can serve regression); always false for string labels.
	Numeric bool
	// YRaw holds the numeric target before standardisation when Numeric is true; used when
	// a regression model is asked for on data loaded as classification.
	YRaw []float64
	// FeatureNames names the p columns (may be generated: "x0", "x1", …).
	FeatureNames []string
	// SHA256 is the hex SHA-256 of the bytes the data were read from (for several files,
	// of their concatenation in the order read).
	SHA256 string
	// Standardization records the preprocessing (nil when none was applied).
	Standardization *Standardization
}

// Standardization records feature and target scaling: x' = (x − Mean)/Std (Std 0 for a
// constant feature, which is set to 0), y' = (y − YMean)/YStd for a numeric target.
type Standardization struct {
	Mean, Std   []float64
	YMean, YStd float64
	// Scale01 is true for IDX images scaled by 1/255 instead of standardised.
	Scale01 bool
}

// Len returns n.
func (d *Dataset) Len() int { r, _ := d.X.Dims(); return r }

// NumFeatures returns p.
func (d *Dataset) NumFeatures() int { _, c := d.X.Dims(); return c }

// NumClasses returns K (0 for regression data).
func (d *Dataset) NumClasses() int { return len(d.Classes) }
