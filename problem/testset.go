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
	groups := classGroups(y, classes)
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

// SubsampleStream is the PCG stream of --subsample: the examples kept are drawn from
// rand.NewPCG(Spec.HoldoutSeed, SubsampleStream), independent of the holdout split's stream.
const SubsampleStream = 0x5b5a

// SubsampleIndices draws n of the len(y) examples, stratified by class when classes > 0:
// class c keeps ⌊n·n_c/N⌋ examples plus one for the classes with the largest remainders
// (ties to the lower class), at least one per class, chosen uniformly without replacement
// by a partial Fisher–Yates shuffle from rand.NewPCG(seed, SubsampleStream). The indices
// are ascending. n = N keeps every example; n above N, or below the number of classes, is a
// *field.Error of key "subsample".
func SubsampleIndices(y []float64, classes, n int, seed uint64) ([]int, error) {
	total := len(y)
	if n > total {
		return nil, field.Errorf("subsample", "%d is larger than the %d training examples", n, total)
	}
	if n == total {
		all := make([]int, total)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	groups := classGroups(y, classes)
	if nonEmpty := countNonEmpty(groups); n < nonEmpty {
		return nil, field.Errorf("subsample", "%d examples cannot keep one of each of the %d classes", n, nonEmpty)
	}
	// Largest-remainder allocation, then at least one per non-empty class.
	want := make([]int, len(groups))
	rem := make([]int, len(groups)) // n·n_c mod N, exact in integers
	got := 0
	for c, g := range groups {
		want[c] = n * len(g) / total
		rem[c] = n * len(g) % total
		got += want[c]
	}
	order := make([]int, len(groups))
	for c := range order {
		order[c] = c
	}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b] - rem[a] })
	for k := 0; got < n; k++ {
		c := order[k%len(order)]
		if want[c] < len(groups[c]) {
			want[c]++
			got++
		}
	}
	for c, g := range groups {
		for want[c] == 0 && len(g) > 0 {
			// Take one from the largest allocation (n ≥ the number of classes ensures one has two).
			big := 0
			for k := range want {
				if want[k] > want[big] {
					big = k
				}
			}
			want[big]--
			want[c]++
		}
	}
	rng := rand.New(rand.NewPCG(seed, SubsampleStream))
	keep := make([]int, 0, n)
	for c, g := range groups {
		for k := 0; k < want[c]; k++ {
			j := k + rng.IntN(len(g)-k)
			g[k], g[j] = g[j], g[k]
		}
		keep = append(keep, g[:want[c]]...)
	}
	slices.Sort(keep)
	return keep, nil
}

// classGroups returns the indices of the examples of each class in ascending order (one
// group of all examples for a regression, classes = 0).
func classGroups(y []float64, classes int) [][]int {
	groups := [][]int{make([]int, 0, len(y))}
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
	return groups
}

func countNonEmpty(groups [][]int) int {
	k := 0
	for _, g := range groups {
		if len(g) > 0 {
			k++
		}
	}
	return k
}

// loadData loads the training data and the test set of s (nil when s has none). With
// Holdout the data are loaded unstandardised, split by HoldoutSplit, and both parts are
// standardised with the training part's statistics; with Test the test source is loaded
// with the training data's classes and statistics (data.Spec.Like; for idx:DIR its t10k
// files, for cifar:DIR its test_batch.bin).
func loadData(s Spec) (trainDS, testDS *data.Dataset, err error) {
	ds, err := data.Load(data.Spec{
		Source:        s.Data,
		Labels:        s.Labels,
		Target:        s.Target,
		Split:         s.Split,
		NoStandardize: !s.Standardize || s.Holdout > 0 || s.Subsample > 0,
		Regression:    s.Regression(),
	})
	if err != nil {
		return nil, nil, err
	}
	if s.Holdout > 0 {
		tr, te, err := HoldoutSplit(ds.Y, ds.NumClasses(), s.Holdout, s.HoldoutSeed)
		if err != nil {
			return nil, nil, err
		}
		trainDS, testDS = ds.Subset(tr), ds.Subset(te)
		trainDS.Warnings = ds.Warnings
		testDS.Name = fmt.Sprintf("%s (held out %g, seed %d)", ds.Name, s.Holdout, s.HoldoutSeed)
	} else {
		trainDS = ds
	}
	if s.Subsample > 0 {
		keep, err := SubsampleIndices(trainDS.Y, trainDS.NumClasses(), s.Subsample, s.HoldoutSeed)
		if err != nil {
			return nil, nil, err
		}
		sub := trainDS.Subset(keep)
		sub.Warnings = trainDS.Warnings
		sub.Name = fmt.Sprintf("%s (subsample %d, seed %d)", trainDS.Name, s.Subsample, s.HoldoutSeed)
		trainDS = sub
	}
	if s.Holdout > 0 || s.Subsample > 0 {
		if s.Standardize {
			trainDS.Standardize()
			if testDS != nil {
				testDS.StandardizeLike(trainDS.Standardization)
			}
		}
		if testDS != nil {
			return trainDS, testDS, nil
		}
	}
	ds = trainDS
	switch {
	case s.Test != "":
		spec := data.Spec{Source: s.Test, Labels: s.TestLabels, Regression: s.Regression(), Like: ds}
		if strings.HasPrefix(s.Test, "idx:") || strings.HasPrefix(s.Test, "cifar:") {
			spec.Split = "test"
		}
		if isCSV(s.Test) {
			spec.Target = s.Target
		}
		testDS, err = data.Load(spec)
		if err != nil {
			// The test source's own flags: --data is --test here, --labels --test-labels.
			if fe := field.As(err); fe != nil {
				key := map[string]string{"data": "test", "labels": "test-labels"}[fe.Key]
				if key == "" {
					key = fe.Key
				}
				return nil, nil, field.Errorf(key, "%s", fe.Reason)
			}
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
