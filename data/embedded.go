package data

import (
	"embed"
	"slices"
	"sort"
	"strings"
)

//go:embed embedded/*.csv
var embeddedFS embed.FS

// EmbeddedInfo describes an embedded data set (see embedded/README.md for provenance).
type EmbeddedInfo struct {
	// Name selects the data set in Spec.Source.
	Name string
	// Rows and Features give its shape n×p.
	Rows, Features int
	// Regression is true when the target is numeric (load with Spec.Regression), false
	// when it holds class labels.
	Regression bool
	// Target describes the target column.
	Target string
	// Origin cites the source and Licence its licence.
	Origin, Licence string
	// Shape is the (C, H, W) of an image data set's examples (digits: 1×8×8), nil for
	// tabular data.
	Shape []int
}

var embeddedInfo = []EmbeddedInfo{
	{Name: "breast-cancer", Rows: 569, Features: 30, Target: "diagnosis (benign/malignant)",
		Origin: "Wolberg, Street, Mangasarian (1995), UCI \"Breast Cancer Wisconsin (Diagnostic)\"", Licence: "CC BY 4.0"},
	{Name: "diabetes", Rows: 442, Features: 10, Regression: true, Target: "disease progression after one year (numeric)",
		Origin: "Efron, Hastie, Johnstone, Tibshirani (2004), \"Least Angle Regression\", Annals of Statistics", Licence: "BSD-3-Clause (scikit-learn)"},
	{Name: "digits", Rows: 1797, Features: 64, Target: "digit 0–9 (8×8 images, values 0–16)",
		Origin: "Alpaydin & Kaynak (1998), UCI \"Optical Recognition of Handwritten Digits\" (test part)", Licence: "CC BY 4.0",
		Shape: []int{1, 8, 8}},
	{Name: "iris", Rows: 150, Features: 4, Target: "species (3 classes)",
		Origin: "R. A. Fisher (1936), UCI \"Iris\"", Licence: "CC BY 4.0"},
	{Name: "wine", Rows: 178, Features: 13, Target: "cultivar (3 classes)",
		Origin: "Forina et al., UCI \"Wine\"", Licence: "CC BY 4.0"},
}

// Embedded returns a description of each embedded data set, sorted by name.
func Embedded() []EmbeddedInfo {
	out := append([]EmbeddedInfo(nil), embeddedInfo...)
	for i := range out {
		out[i].Shape = slices.Clone(out[i].Shape)
	}
	return out
}

// embeddedShape returns a copy of the image shape of the embedded data set name (its CSV
// b) when its target is the default, the last column, so that the features are the image's
// pixels; nil otherwise (tabular data, or another column chosen as the target).
func embeddedShape(name string, b []byte, target string) []int {
	for _, e := range embeddedInfo {
		if e.Name != name || e.Shape == nil {
			continue
		}
		header, _, _ := strings.Cut(string(b), "\n")
		cols := strings.Split(strings.TrimSpace(header), ",")
		if target == "" || target == cols[len(cols)-1] {
			return slices.Clone(e.Shape)
		}
	}
	return nil
}

// EmbeddedNames returns the names of the embedded data sets, sorted.
func EmbeddedNames() []string {
	names := make([]string, len(embeddedInfo))
	for i, e := range embeddedInfo {
		names[i] = e.Name
	}
	sort.Strings(names)
	return names
}

// embeddedCSV returns the bytes of the embedded data set name, or nil if there is none.
func embeddedCSV(name string) []byte {
	for _, e := range embeddedInfo {
		if e.Name == name {
			b, err := embeddedFS.ReadFile("embedded/" + name + ".csv")
			if err != nil {
				panic("data: embedded file missing for " + name)
			}
			return b
		}
	}
	return nil
}
