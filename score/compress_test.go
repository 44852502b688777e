package score

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/model"
)

// TestScoreCompressedFeatures runs the CG path end to end (preconditioner, 4 asymmetry
// probes with the exact tangent, commutator, noise) on features that are 80% zeros, with
// and without their compression, for all examples and for a subset. Every float of the
// report must agree to 1e-9 relative to the largest of its kind (the compressed products
// differ from the dense ones by round-off, about 1e-15, which the solves and the
// Lanczos-based quantities amplify by their conditioning; measured worst MEASURED), and only
// the compressed run's solver line says so.
func TestScoreCompressedFeatures(t *testing.T) {
	rnd := newRand(12)
	n, p := 700, 300 // more features than one k-block of the GEMM: the dense sums run in another order
	b := classData(rnd, n, p, 3)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			if rnd.Float64() >= 0.2 {
				b.X.Set(i, j, 0)
			}
		}
	}
	m := mustModel(t, "mlp:20", p, 3, model.Options{})
	theta := randTheta(rnd, m.NumParams(), 0.3)
	defer func() { compressFeatures = true }()
	worst := 0.0
	for _, subset := range []int{0, 400} {
		reps := make([]*Report, 2)
		for k, compress := range []bool{true, false} {
			compressFeatures = compress
			set := DefaultSettings()
			set.LR, set.Batch, set.Solver, set.TopK = 0.1, 16, SolverCG, 3
			set.Inverse.Damping = 1e-3
			set.AsymmetryProbes, set.PreconditionerExamples = 4, 100
			set.Subset = subset
			rep, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, &set)
			if err != nil {
				t.Fatal(err)
			}
			reps[k] = rep
		}
		if !strings.Contains(reps[0].SolverChoice, "compressed") || strings.Contains(reps[1].SolverChoice, "compressed") {
			t.Errorf("subset %d: solver lines %q and %q", subset, reps[0].SolverChoice, reps[1].SolverChoice)
		}
		e := compareFloats(t, "report", reflect.ValueOf(reps[0]).Elem(), reflect.ValueOf(reps[1]).Elem(), 1e-9)
		worst = max(worst, e)
		c0, c1 := reps[0].CG, reps[1].CG
		if len(c0.Iterations) != len(c1.Iterations) {
			t.Fatalf("subset %d: %d and %d solves", subset, len(c0.Iterations), len(c1.Iterations))
		}
		// A solve that ends right at the tolerance may take one iteration more or less
		// (measured: one of ten, 90 against 91).
		for k := range c0.Iterations {
			if d := c0.Iterations[k] - c1.Iterations[k]; d < -1 || d > 1 {
				t.Errorf("subset %d: iterations %v and %v", subset, c0.Iterations, c1.Iterations)
			}
		}
		if !(c0.MaxResidual <= c0.Tol && c1.MaxResidual <= c1.Tol) {
			t.Errorf("subset %d: final residuals %g and %g above the tolerance %g", subset, c0.MaxResidual, c1.MaxResidual, c0.Tol)
		}
		// The condition estimate: 5% (measured 1.5% and 3.5e-5).
		if r := c0.Condition / c1.Condition; !(math.Abs(r-1) <= 0.05) {
			t.Errorf("subset %d: condition estimates %g and %g", subset, c0.Condition, c1.Condition)
		}
	}
	t.Logf("worst relative difference %.2g", worst)
}

// skipFields are the fields compareFloats leaves out: timings, and the CG diagnostics that
// depend on the rounding of every iteration (the final residual, anywhere below the
// tolerance, and the Ritz estimates of the extreme eigenvalues), which the test checks
// separately.
var skipFields = map[string]bool{"Seconds": true, "MaxResidual": true, "RitzMin": true, "RitzMax": true, "Condition": true}

// compareFloats compares every float64 reachable from a and b (fields, slices, pointers),
// each slice relative to its largest magnitude (timings skipped), and returns the largest relative difference.
func compareFloats(t *testing.T, path string, a, b reflect.Value, tol float64) float64 {
	t.Helper()
	switch a.Kind() {
	case reflect.Float64:
		x, y := a.Float(), b.Float()
		if math.IsNaN(x) && math.IsNaN(y) || x == y {
			return 0
		}
		e := math.Abs(x-y) / math.Max(math.Abs(x), math.Abs(y))
		if !(e <= tol) {
			t.Errorf("%s: %v against %v (relative %.2g)", path, x, y, e)
		}
		return e
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			t.Errorf("%s: lengths %d and %d", path, a.Len(), b.Len())
			return 0
		}
		if a.Type().Elem().Kind() == reflect.Float64 {
			scale, diff := 0.0, 0.0
			for i := 0; i < a.Len(); i++ {
				scale = math.Max(scale, math.Max(math.Abs(a.Index(i).Float()), math.Abs(b.Index(i).Float())))
				diff = math.Max(diff, math.Abs(a.Index(i).Float()-b.Index(i).Float()))
			}
			if scale == 0 {
				return 0
			}
			if !(diff/scale <= tol) {
				t.Errorf("%s: differs by %.2g of its largest element", path, diff/scale)
			}
			return diff / scale
		}
		w := 0.0
		for i := 0; i < a.Len(); i++ {
			w = math.Max(w, compareFloats(t, path+"[]", a.Index(i), b.Index(i), tol))
		}
		return w
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				t.Errorf("%s: nil in one report only", path)
			}
			return 0
		}
		return compareFloats(t, path, a.Elem(), b.Elem(), tol)
	case reflect.Struct:
		w := 0.0
		for i := 0; i < a.NumField(); i++ {
			if f := a.Type().Field(i); !f.IsExported() || skipFields[f.Name] {
				continue
			}
			w = math.Max(w, compareFloats(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i), tol))
		}
		return w
	}
	return 0
}
