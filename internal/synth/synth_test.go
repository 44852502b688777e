package synth

import (
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestLinearDefaults(t *testing.T) {
	d := Linear(LinearSettings{})
	if d.Len() != 200 || d.NumFeatures() != 5 || d.Classes != nil || d.Standardization != nil || d.Name != "synth-linear" {
		t.Errorf("defaults: %d×%d classes %q", d.Len(), d.NumFeatures(), d.Classes)
	}
	if !mat.Equal(LinearSettings{}.Covariance(), mat.NewDiagDense(5, []float64{1, 1, 1, 1, 1})) {
		t.Error("default covariance is not I")
	}
	// Noiseless: y = xᵀθ + b with θ_j = 1/√P.
	d = Linear(LinearSettings{Noiseless: true, Intercept: 3})
	for i := range d.Len() {
		var want float64 = 3
		for j := range 5 {
			want += d.X.At(i, j) / math.Sqrt(5)
		}
		if math.Abs(d.Y[i]-want) > 1e-12 {
			t.Fatalf("row %d: y %v, want %v", i, d.Y[i], want)
		}
	}
}

// TestSynthLinearReproducible: same settings, same data (whatever GOMAXPROCS); another
// seed, other data; noise settings do not change X.
func TestLinearReproducible(t *testing.T) {
	s := LinearSettings{N: 50, Eigenvalues: []float64{3, 2, 1}, Rotate: true, Hetero: 1, Seed: 7}
	a := Linear(s)
	prev := runtime.GOMAXPROCS(1)
	b := Linear(s)
	runtime.GOMAXPROCS(prev)
	if !mat.Equal(a.X, b.X) || !reflect.DeepEqual(a.Y, b.Y) || a.SHA256 != b.SHA256 {
		t.Error("same settings gave different data")
	}
	s.Seed = 8
	if c := Linear(s); mat.Equal(a.X, c.X) || a.SHA256 == c.SHA256 {
		t.Error("another seed gave the same data")
	}
	s.Seed = 7
	s.Hetero, s.NoiseStd = 0, 2
	if c := Linear(s); !mat.Equal(a.X, c.X) || reflect.DeepEqual(a.Y, c.Y) {
		t.Error("changing the noise changed X (or not Y)")
	}
}

// TestSynthLinearCovariance compares the sample covariance (1/n) Σ x xᵀ (the mean is known
// to be 0) with Σ_x entry by entry. For Gaussian x, Var(x_a x_b) = Σ_aa Σ_bb + Σ_ab², so
// the standard error of each entry is √((Σ_aa Σ_bb + Σ_ab²)/n); the tolerance is 4.5 of them
// (fixed seed; 40 entries checked).
func TestLinearCovariance(t *testing.T) {
	const n = 20000
	for _, s := range []LinearSettings{
		{N: n, P: 4},
		{N: n, P: 4, AR1: 0.7},
		{N: n, P: 4, AR1: -0.4},
		{N: n, Eigenvalues: []float64{4, 1, 0.5, 0.1}},
		{N: n, Eigenvalues: []float64{4, 1, 0.5, 0.1}, Rotate: true, Seed: 3},
	} {
		d := Linear(s)
		cov := s.Covariance()
		var sc mat.SymDense
		sc.SymOuterK(1/float64(n), d.X.T())
		for a := range 4 {
			for b := a; b < 4; b++ {
				se := math.Sqrt((cov.At(a, a)*cov.At(b, b) + cov.At(a, b)*cov.At(a, b)) / n)
				if diff := sc.At(a, b) - cov.At(a, b); math.Abs(diff) > 4.5*se {
					t.Errorf("%+v: cov[%d,%d] = %v, want %v ± %v", s, a, b, sc.At(a, b), cov.At(a, b), se)
				}
			}
		}
	}
	// The AR(1) covariance is ρ^|i−j|.
	c := LinearSettings{P: 3, AR1: 0.5}.Covariance()
	if want := mat.NewSymDense(3, []float64{1, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 1}); !mat.EqualApprox(c, want, 1e-15) {
		t.Errorf("AR(1) covariance %v", mat.Formatted(c))
	}
	// A rotated covariance keeps its eigenvalues and is not diagonal.
	rot := LinearSettings{Eigenvalues: []float64{4, 1, 0.5, 0.1}, Rotate: true, Seed: 3}.Covariance()
	var eig mat.EigenSym
	if !eig.Factorize(rot, false) {
		t.Fatal("eigendecomposition failed")
	}
	got := eig.Values(nil) // ascending
	for k, want := range []float64{0.1, 0.5, 1, 4} {
		if math.Abs(got[k]-want) > 1e-12 {
			t.Errorf("rotated eigenvalues %v", got)
		}
	}
	if math.Abs(rot.At(0, 1)) < 1e-3 {
		t.Errorf("rotated covariance looks diagonal: %v", mat.Formatted(rot))
	}
}

// TestSynthLinearNoise: the residuals divided by σ(x) = σ₀(1 + γ|uᵀx|) are standard normal.
// Their mean has standard error 1/√n and their mean square √(2/n); the
// tolerance is 4 standard errors (fixed seed).
func TestLinearNoise(t *testing.T) {
	const n = 20000
	theta := []float64{1, -2, 0.5}
	dir := []float64{3, 4, 0} // normalised to (0.6, 0.8, 0)
	for _, hetero := range []float64{0, 2} {
		s := LinearSettings{N: n, Theta: theta, Intercept: -1, NoiseStd: 0.3, Hetero: hetero, HeteroDir: dir, AR1: 0.3, Seed: 11}
		d := Linear(s)
		var m, m2 float64
		for i := range n {
			x := d.X.RawRowView(i)
			r := d.Y[i] - (x[0]*theta[0] + x[1]*theta[1] + x[2]*theta[2] - 1)
			sigma := 0.3 * (1 + hetero*math.Abs(0.6*x[0]+0.8*x[1]))
			z := r / sigma
			m += z
			m2 += z * z
		}
		m /= n
		m2 /= n
		if math.Abs(m) > 4/math.Sqrt(n) || math.Abs(m2-1) > 4*math.Sqrt(2.0/n) {
			t.Errorf("hetero %v: standardised residuals have mean %v, mean square %v", hetero, m, m2)
		}
	}
}

func TestLinearPanics(t *testing.T) {
	for _, s := range []LinearSettings{
		{AR1: 1},
		{AR1: 0.5, Eigenvalues: []float64{1, 2}},
		{Rotate: true},
		{P: 3, Eigenvalues: []float64{1, 2}},
		{Eigenvalues: []float64{1, 0}},
		{P: 2, Theta: []float64{1}},
		{P: 2, HeteroDir: []float64{0, 0}},
		{NoiseStd: -1},
		{Hetero: -1},
		{N: -1},
	} {
		mustPanic(t, "synth: Linear", func() { Linear(s) })
	}
}

// TestSynthTeacherArgmax checks every label against the argmax of logits computed by a
// naive loop over the teacher's weights.
func TestTeacherArgmax(t *testing.T) {
	for _, s := range []TeacherSettings{
		{N: 300, P: 5, K: 3, Argmax: true, Seed: 1},
		{N: 300, P: 5, K: 4, Hidden: 7, Argmax: true, Seed: 2},
	} {
		d := Teacher(s)
		s = s.withDefaults()
		tch := newTeacher(s)
		if !reflect.DeepEqual(d.Classes, []string{"0", "1", "2", "3"}[:s.K]) || d.Standardization != nil {
			t.Errorf("classes %q", d.Classes)
		}
		for i := range s.N {
			x := d.X.RawRowView(i)
			f := naiveLogits(tch, x, s.K)
			best := 0
			for k := range f {
				if f[k] > f[best] {
					best = k
				}
			}
			if d.Y[i] != float64(best) {
				t.Fatalf("%+v row %d: label %v, argmax %d of %v", s, i, d.Y[i], best, f)
			}
		}
	}
}

// naiveLogits computes s·W x or s·W₂ tanh(W₁ x) by explicit loops.
func naiveLogits(tch *teacher, x []float64, k int) []float64 {
	in := x
	if tch.w2 != nil {
		h, _ := tch.w1.Dims()
		in = make([]float64, h)
		for a := range h {
			var v float64
			for j, xj := range x {
				v += tch.w1.At(a, j) * xj
			}
			in[a] = math.Tanh(v)
		}
	}
	w := tch.w1
	if tch.w2 != nil {
		w = tch.w2
	}
	f := make([]float64, k)
	for c := range k {
		for j, v := range in {
			f[c] += w.At(c, j) * v
		}
		f[c] *= tch.scale
	}
	return f
}

// TestSynthTeacherSampled: the frequency of each class matches the mean softmax
// probability p̄_k = (1/n) Σ_i p_k(x_i). Given X, the count is a sum of independent
// Bernoulli(p_k(x_i)), whose standard deviation is at most √(n p̄(1−p̄)); the tolerance is 4
// of these (fixed seed).
func TestTeacherSampled(t *testing.T) {
	const n = 20000
	for _, s := range []TeacherSettings{
		{N: n, P: 4, K: 3, Seed: 5},
		{N: n, P: 4, K: 3, Hidden: 6, LogitScale: 3, Seed: 6},
	} {
		d := Teacher(s)
		s = s.withDefaults()
		tch := newTeacher(s)
		count := make([]float64, s.K)
		pbar := make([]float64, s.K)
		for i := range n {
			f := naiveLogits(tch, d.X.RawRowView(i), s.K)
			var z float64
			for _, v := range f {
				z += math.Exp(v)
			}
			for k, v := range f {
				pbar[k] += math.Exp(v) / z / n
			}
			count[int(d.Y[i])]++
		}
		for k := range count {
			se := math.Sqrt(n * pbar[k] * (1 - pbar[k]))
			if math.Abs(count[k]-n*pbar[k]) > 4*se {
				t.Errorf("%+v class %d: %v examples, expected %v ± %v", s, k, count[k], n*pbar[k], se)
			}
		}
		// Sampled labels are not the argmax labels everywhere.
		s.Argmax = true
		if reflect.DeepEqual(Teacher(s).Y, d.Y) {
			t.Error("sampled labels equal argmax labels")
		}
	}
}

func TestTeacherMisc(t *testing.T) {
	d := Teacher(TeacherSettings{})
	if d.Len() != 500 || d.NumFeatures() != 10 || d.NumClasses() != 2 || d.Name != "synth-teacher" {
		t.Errorf("defaults: %d×%d, %d classes", d.Len(), d.NumFeatures(), d.NumClasses())
	}
	if e := Teacher(TeacherSettings{}); e.SHA256 != d.SHA256 || !mat.Equal(e.X, d.X) {
		t.Error("not reproducible")
	}
	// Three examples cannot cover 50 classes: the empty ones are reported.
	w := Teacher(TeacherSettings{N: 3, K: 50}).Warnings
	if len(w) < 47 || !strings.Contains(w[0], "has no examples") {
		t.Errorf("warnings %q", w)
	}
	for _, s := range []TeacherSettings{{K: 1}, {Hidden: -1}, {LogitScale: -1}, {N: -2}} {
		mustPanic(t, "synth: Teacher", func() { Teacher(s) })
	}
	// softmax against the definition.
	p := make([]float64, 3)
	softmax(p, []float64{1000, 1001, 999})
	e := []float64{math.Exp(-1), 1, math.Exp(-2)}
	z := e[0] + e[1] + e[2]
	for k := range p {
		if math.Abs(p[k]-e[k]/z) > 1e-15 {
			t.Errorf("softmax %v", p)
		}
	}
}

func BenchmarkLinear(b *testing.B) {
	s := LinearSettings{N: 10000, Eigenvalues: []float64{5, 4, 3, 2, 1, 0.5, 0.25, 0.1}, Rotate: true, Hetero: 1}
	for b.Loop() {
		Linear(s)
	}
}

func mustPanic(t *testing.T, prefix string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, prefix) {
			t.Errorf("panic %v, want prefix %q", r, prefix)
		}
	}()
	f()
}
