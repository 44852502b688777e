package problem

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/model"
)

// HoldoutStream is the PCG stream of the held-out split: the examples held out by
// --holdout f are drawn from rand.NewPCG(Spec.HoldoutSeed, HoldoutStream), independent of
// the training seed, so that runs with different --seed share one split.
const HoldoutStream = 0x401d0

// DefaultHoldoutSeed is the default Spec.HoldoutSeed.
const DefaultHoldoutSeed = 1

// HoldoutSplit splits the n = len(y) examples into a training part and a held-out test part
// holding a fraction f ∈ (0, 1) of them (docs/MATH.md §1). For classification (classes =
// K > 0, y[i] ∈ {0, …, K−1}) it is stratified: class c with n_c examples contributes
// h_c = min(round(f·n_c), n_c − 1) examples, so that every class keeps at least one
// training example; for regression (classes = 0) round(f·n), at most n − 1, are held out.
// The held-out examples of each class are a uniformly random subset (a partial
// Fisher–Yates shuffle of the class's indices in data order, classes in order, drawn from
// rand.NewPCG(seed, HoldoutStream)). Both index lists are ascending. A split that holds
// out nothing is a *field.Error of key "holdout".
func HoldoutSplit(y []float64, classes int, f float64, seed uint64) (train, test []int, err error) {
	n := len(y)
	groups := [][]int{make([]int, 0, n)}
	if classes > 0 {
		groups = make([][]int, classes)
	}
	for i, v := range y {
		c := 0
		if classes > 0 {
			c = int(v)
		}
		groups[c] = append(groups[c], i)
	}
	rng := rand.New(rand.NewPCG(seed, HoldoutStream))
	held := make([]bool, n)
	total := 0
	for _, g := range groups {
		h := min(int(math.Round(f*float64(len(g)))), len(g)-1)
		for k := 0; k < h; k++ {
			j := k + rng.IntN(len(g)-k)
			g[k], g[j] = g[j], g[k]
			held[g[k]] = true
		}
		total += max(h, 0)
	}
	if total == 0 {
		return nil, nil, field.Errorf("holdout", "%g of %d examples holds out none", f, n)
	}
	train, test = make([]int, 0, n-total), make([]int, 0, total)
	for i, h := range held {
		if h {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return train, test, nil
}

// loadData loads the training data and the test set of s (nil when s has none). With
// Holdout the data are loaded unstandardised, split by HoldoutSplit, and both parts are
// standardised with the training part's statistics; with Test the test source is loaded
// with the training data's classes and statistics (data.Spec.Like; for idx:DIR its t10k
// files).
func loadData(s Spec) (trainDS, testDS *data.Dataset, err error) {
	ds, err := data.Load(data.Spec{
		Source:        s.Data,
		Labels:        s.Labels,
		Target:        s.Target,
		Split:         s.Split,
		NoStandardize: !s.Standardize || s.Holdout > 0,
		Regression:    s.Regression(),
	})
	if err != nil {
		return nil, nil, err
	}
	switch {
	case s.Holdout > 0:
		tr, te, err := HoldoutSplit(ds.Y, ds.NumClasses(), s.Holdout, s.HoldoutSeed)
		if err != nil {
			return nil, nil, err
		}
		trainDS, testDS = ds.Subset(tr), ds.Subset(te)
		trainDS.Warnings = ds.Warnings
		testDS.Name = fmt.Sprintf("%s (held out %g, seed %d)", ds.Name, s.Holdout, s.HoldoutSeed)
		if s.Standardize {
			trainDS.Standardize()
			testDS.StandardizeLike(trainDS.Standardization)
		}
		return trainDS, testDS, nil
	case s.Test != "":
		spec := data.Spec{Source: s.Test, Labels: s.TestLabels, Regression: s.Regression(), Like: ds}
		if strings.HasPrefix(s.Test, "idx:") {
			spec.Split = "test"
		}
		if isCSV(s.Test) {
			spec.Target = s.Target
		}
		testDS, err = data.Load(spec)
		if err != nil {
			return nil, nil, fmt.Errorf("test set: %w", err)
		}
		return ds, testDS, nil
	}
	return ds, nil, nil
}

// isCSV reports whether a test source takes the training data's CSV target column: a CSV
// file or an embedded set.
func isCSV(src string) bool {
	l := strings.TrimSuffix(strings.ToLower(src), ".gz")
	return strings.HasPrefix(src, "csv:") || strings.HasSuffix(l, ".csv") || slices.Contains(data.EmbeddedNames(), src)
}

// testBatch is the model batch of a test set (empty when there is none).
func testBatch(ds *data.Dataset) model.Batch {
	if ds == nil {
		return model.Batch{}
	}
	return model.Batch{X: ds.X, Y: ds.Y}
}
