package main

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sgdprior/sgdprior/data"
)

// compareArrays compares every result array the implementations wrote into dir
// (go_<build>_<workload>.npy, torch_<threads>_<workload>_<impl>.npy) with the pure-Go
// build's (go_purego_<workload>.npy). A file that cannot be read, or whose length differs,
// gets a NaN difference.
func compareArrays(dir string, r *Results) []Agreement {
	var out []Agreement
	refs, _ := filepath.Glob(filepath.Join(dir, "go_purego_*.npy"))
	sort.Strings(refs)
	for _, ref := range refs {
		w := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(ref), "go_purego_"), ".npy")
		x, err := readArray(ref)
		if err != nil {
			continue
		}
		others, _ := filepath.Glob(filepath.Join(dir, "go_openblas_"+w+".npy"))
		// torch_<threads>_<w>_<impl>.npy: the glob also matches other workloads whose name
		// ends in w (lenet_cov_256 for cov_256), which the digits-only prefix rules out.
		t, _ := filepath.Glob(filepath.Join(dir, "torch_*_"+w+"_*.npy"))
		for _, f := range t {
			th, rest, _ := strings.Cut(strings.TrimPrefix(filepath.Base(f), "torch_"), "_")
			if isDigits(th) && strings.HasPrefix(rest, w+"_") {
				others = append(others, f)
			}
		}
		for _, o := range others {
			impl := strings.TrimSuffix(filepath.Base(o), ".npy")
			impl = strings.Replace(impl, "_"+w, "", 1)
			y, err := readArray(o)
			d := math.NaN()
			if err == nil {
				d = relDiff(y, x)
			}
			out = append(out, Agreement{Workload: w, Impl: impl, RelDiff: d})
		}
	}
	return out
}

// readArray reads a 1-D or 2-D .npy file as a flat slice (row-major).
func readArray(path string) ([]float64, error) {
	if v, err := data.ReadVector(path); err == nil {
		return v, nil
	}
	m, err := data.ReadMatrix(path)
	if err != nil {
		return nil, err
	}
	r, c := m.Dims()
	out := make([]float64, 0, r*c)
	for i := 0; i < r; i++ {
		out = append(out, m.RawRowView(i)...)
	}
	return out, nil
}

// relDiff returns ‖y − x‖₂/‖x‖₂ (NaN when the lengths differ or x = 0).
func relDiff(y, x []float64) float64 {
	if len(x) != len(y) {
		return math.NaN()
	}
	var num, den float64
	for i := range x {
		num += (y[i] - x[i]) * (y[i] - x[i])
		den += x[i] * x[i]
	}
	if den == 0 {
		return math.NaN()
	}
	return math.Sqrt(num / den)
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
