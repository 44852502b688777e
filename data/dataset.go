// Package data loads the examples sgdprior studies: embedded real data sets, CSV, LibSVM,
// MNIST/Fashion-MNIST IDX, CIFAR-10 binary batches and NumPy .npy files (package internal/synth draws seeded synthetic
// data sets of the same type). It also
// reads and writes parameter vectors and matrices as .npy files.
//
// Conventions: X is n×p with one example per row; Y holds the n targets. Downstream, the
// training objective is the mean loss L(θ) = (1/N) Σ_i ℓ_i(θ) + r(θ) over these N = n rows,
// SGD uses a learning rate η and batch size B, and mini-batch noise scales by κ_B
// (MATH.md §1–§2); this package only prepares the rows those quantities are computed on.
//
// Preprocessing: features (and a numeric regression target) are standardised by default
// with the loaded data's mean and population standard deviation, x' = (x − mean)/std;
// a constant feature becomes 0 and its Std is recorded as 0. IDX and CIFAR-10 images are
// scaled to [0, 1] (x/255) instead. Image data carry their shape (Dataset.Shape, (C, H, W),
// rows flattened in that order) for convolutional models; the embedded digits are 1×8×8 and
// standardised per pixel like any other features, and a 4-D .npy feature array (N, C, H, W)
// is standardised per pixel too unless NoStandardize, with which it is used as it is. Synthetic data are returned unstandardised, so that their known
// covariance and coefficients apply. Class labels map to 0..K−1 in sorted order: numeric
// order when every label is a number, otherwise lexicographic (byte) order; Classes keeps the
// original labels.
//
// Input caps: no file is read past the input cap, DefaultMaxInput (4 GiB), as stored or
// after gzip decompression; the environment variable SGDPRIOR_MAX_INPUT (MaxInputEnv: a
// size such as "8GiB" or "500M") overrides it. A regular file's size is checked before it
// is read; a device or pipe is read to the cap, or to a quarter of the memory available (the
// smaller of MemAvailable and the address-space limit) when that
// is less (internal/memlimit). IDX and compressed .npy files are decompressed only as far
// as their header declares: the declared size (count × rows × cols bytes; the shape's
// product × item size) is checked against the cap before any data are read, and reading
// stops as soon as more bytes arrive than declared. CIFAR-10's batches declare no size: each
// is read, and decompressed, up to the cap, and the memory its images need as float64 is
// checked before they are converted. Exceeding a cap is a *ParseError naming the file. LibSVM's dense matrix is capped at 2²⁸ values.
//
// Errors: data failures are returned as one-line errors that name the file and, for text
// formats, the line (*ParseError). Programmer misuse (wrong shapes, invalid settings)
// panics with a "data: " prefix. Warnings (constant features, empty classes, a suspicious
// number of classes) are returned in Dataset.Warnings, never printed.
package data

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Dataset is a loaded, preprocessed data set.
type Dataset struct {
	// Name is how the data were selected ("iris", a file path, "idx:DIR (train)",
	// "synth-linear").
	Name string
	// X holds the n×p features, one example per row, after preprocessing.
	X *mat.Dense
	// Y holds the n targets: a class index 0..K−1 (as float64) for classification data,
	// the (standardised unless disabled) numeric value for regression data.
	Y []float64
	// Classes maps class index to the original label; nil when the target is numeric
	// (regression). Classes[k] is the label of class k.
	Classes []string
	// FeatureNames names the p columns (from the CSV header; generated otherwise:
	// "x0", "x1", … for .npy and synthetic data, "x1", … "xp" for LibSVM, whose indices
	// are 1-based, and "pixel_r_c" for IDX images).
	FeatureNames []string
	// SHA256 is the hex SHA-256 of the bytes the data were read from (for several files,
	// of their concatenation in the order read; for compressed files, of the compressed
	// bytes; for synthetic data, of X row by row then Y as little-endian float64).
	SHA256 string
	// Shape is the layout of one example's p features as an image, (C, H, W) with
	// C·H·W = p, the row flattened in (C, H, W) order (PyTorch's); nil when the data are
	// not images. IDX images are 1×rows×cols, CIFAR-10 3×32×32, digits 1×8×8, and a 4-D
	// .npy feature array (N, C, H, W) keeps its (C, H, W). Preprocessing that keeps the
	// columns (standardisation, subsets, held-out and test sets) keeps it.
	Shape []int
	// Standardization records the preprocessing (nil when none was applied).
	Standardization *Standardization
	// Warnings lists conditions the caller should report (constant features, classes
	// without examples, a classification target with very many classes).
	Warnings []string
}

// Standardization records feature and target scaling: x' = (x − Mean)/Std (Std 0 for a
// constant feature, which is set to 0), y' = (y − YMean)/YStd for a numeric target when
// TargetStandardized is true (YStd 0 for a constant target, which is set to 0).
type Standardization struct {
	// Mean and Std hold the per-feature mean and population standard deviation
	// (1/n divisor); nil when the features were not standardised (IDX and CIFAR-10 images).
	Mean, Std []float64
	// TargetStandardized reports whether Y was standardised with YMean and YStd.
	TargetStandardized bool
	YMean, YStd        float64
	// Scale01 is true for IDX and CIFAR-10 images scaled by 1/255 instead of standardised.
	Scale01 bool
}

// Len returns n.
func (d *Dataset) Len() int { r, _ := d.X.Dims(); return r }

// NumFeatures returns p.
func (d *Dataset) NumFeatures() int { _, c := d.X.Dims(); return c }

// NumClasses returns K (0 for regression data).
func (d *Dataset) NumClasses() int { return len(d.Classes) }

// Gather copies the examples idx (which may repeat) into dstX (len(idx)×p) and dstY
// (length len(idx)): row k of dstX is row idx[k] of d.X and dstY[k] = d.Y[idx[k]]. It is the
// allocation-free way to form a mini-batch; d is not modified.
func (d *Dataset) Gather(dstX *mat.Dense, dstY []float64, idx []int) {
	n, p := d.X.Dims()
	r, c := dstX.Dims()
	if r != len(idx) || c != p {
		panic(fmt.Sprintf("data: Gather destination is %d×%d, want %d×%d", r, c, len(idx), p))
	}
	if len(dstY) != len(idx) {
		panic(fmt.Sprintf("data: Gather dstY has length %d, want %d", len(dstY), len(idx)))
	}
	for k, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data: Gather index %d out of range [0, %d)", i, n))
		}
		copy(dstX.RawRowView(k), d.X.RawRowView(i))
		dstY[k] = d.Y[i]
	}
}

// Subset returns a new Dataset holding copies of the examples idx (which may repeat, and
// must not be empty), with the same name, classes, feature names, image shape, checksum and
// standardisation as d (shared, not copied: the statistics of the full data, not
// recomputed on the subset), and no warnings.
func (d *Dataset) Subset(idx []int) *Dataset {
	p := d.NumFeatures()
	s := &Dataset{
		Name:            d.Name,
		Y:               make([]float64, len(idx)),
		Classes:         d.Classes,
		FeatureNames:    d.FeatureNames,
		Shape:           d.Shape,
		SHA256:          d.SHA256,
		Standardization: d.Standardization,
	}
	if len(idx) == 0 {
		panic("data: Subset of no examples")
	}
	s.X = mat.NewDense(len(idx), p, nil)
	d.Gather(s.X, s.Y, idx)
	return s
}
