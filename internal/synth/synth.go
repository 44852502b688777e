// Package synth draws seeded synthetic data sets (Gaussian linear regression, a
// teacher–student classifier) for tests and benchmarks: the same settings give the same
// data.Dataset, bit for bit, on every platform.
package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/data"
)

// Random streams of the synthetic generators: each part of the data has its own
// rand.NewPCG(Seed, stream), so changing, say, the noise settings leaves X unchanged.
const (
	streamModel  = 0 // rotation Q, teacher weights
	streamX      = 1 // features
	streamTarget = 2 // regression noise, sampled labels
)

// LinearSettings configures Linear. The zero value gives the defaults.
type LinearSettings struct {
	// N is the number of examples. Default 200.
	N int
	// P is the number of features. Default: the length of Eigenvalues, Theta or HeteroDir,
	// the first of them that is set, else 5.
	P int
	// Eigenvalues, when non-nil, are the eigenvalues λ_j > 0 of the feature covariance:
	// Σ_x = diag(λ), or Q diag(λ) Qᵀ with Rotate. Length P. Default nil (see AR1).
	Eigenvalues []float64
	// Rotate, with Eigenvalues, rotates the covariance by a random orthogonal Q (Haar
	// distributed, drawn from Seed), so that its eigenvectors are not the coordinate
	// axes. Default false.
	Rotate bool
	// AR1 is the correlation ρ (|ρ| < 1) of an AR(1) covariance Σ_x,ij = ρ^|i−j| (unit
	// variances), used when Eigenvalues is nil. Default 0: Σ_x = I. Setting both
	// Eigenvalues and AR1 panics.
	AR1 float64
	// Theta holds the true coefficients θ (length P). Default θ_j = 1/√P, so ‖θ‖ = 1.
	Theta []float64
	// Intercept is the true intercept b. Default 0.
	Intercept float64
	// NoiseStd is the base noise standard deviation σ₀ > 0. Default 0.5.
	NoiseStd float64
	// Noiseless makes y = xᵀθ + b exactly (an interpolation problem: mini-batch noise
	// vanishes at the minimum). Default false.
	Noiseless bool
	// Hetero is γ ≥ 0 in the heteroscedastic noise standard deviation
	// σ(x) = σ₀ (1 + γ |uᵀx|). Default 0: homoscedastic noise.
	Hetero float64
	// HeteroDir is the direction u along which the noise grows (length P; normalised to
	// unit length). Default e₀, the first feature.
	HeteroDir []float64
	// Seed seeds the random streams (math/rand/v2 PCG). Default 0 (a valid seed).
	Seed uint64
}

func (s LinearSettings) withDefaults() LinearSettings {
	if s.N == 0 {
		s.N = 200
	}
	if s.P == 0 {
		switch {
		case s.Eigenvalues != nil:
			s.P = len(s.Eigenvalues)
		case s.Theta != nil:
			s.P = len(s.Theta)
		case s.HeteroDir != nil:
			s.P = len(s.HeteroDir)
		default:
			s.P = 5
		}
	}
	if s.NoiseStd == 0 {
		s.NoiseStd = 0.5
	}
	if s.Theta == nil {
		s.Theta = make([]float64, s.P)
		for j := range s.Theta {
			s.Theta[j] = 1 / math.Sqrt(float64(s.P))
		}
	}
	if s.HeteroDir == nil {
		s.HeteroDir = make([]float64, s.P)
		s.HeteroDir[0] = 1
	}
	switch {
	case s.N < 1 || s.P < 1:
		panic(fmt.Sprintf("synth: Linear with N=%d, P=%d", s.N, s.P))
	case s.Eigenvalues != nil && len(s.Eigenvalues) != s.P:
		panic(fmt.Sprintf("synth: Linear has %d eigenvalues for P=%d", len(s.Eigenvalues), s.P))
	case s.Eigenvalues != nil && s.AR1 != 0:
		panic("synth: Linear with both Eigenvalues and AR1")
	case s.Rotate && s.Eigenvalues == nil:
		panic("synth: Linear Rotate needs Eigenvalues")
	case !(math.Abs(s.AR1) < 1):
		panic(fmt.Sprintf("synth: Linear AR1=%v, want |ρ| < 1", s.AR1))
	case len(s.Theta) != s.P:
		panic(fmt.Sprintf("synth: Linear Theta has length %d, want P=%d", len(s.Theta), s.P))
	case len(s.HeteroDir) != s.P:
		panic(fmt.Sprintf("synth: Linear HeteroDir has length %d, want P=%d", len(s.HeteroDir), s.P))
	case !(s.NoiseStd > 0) || !(s.Hetero >= 0) || math.IsInf(s.NoiseStd, 0) || math.IsInf(s.Hetero, 0):
		panic(fmt.Sprintf("synth: Linear NoiseStd=%v, Hetero=%v", s.NoiseStd, s.Hetero))
	}
	for _, l := range s.Eigenvalues {
		if !(l > 0) || math.IsInf(l, 0) {
			panic(fmt.Sprintf("synth: Linear eigenvalue %v, want finite > 0", l))
		}
	}
	u := 0.0
	for _, v := range s.HeteroDir {
		u += v * v
	}
	if !(u > 0) || math.IsInf(u, 0) {
		panic("synth: Linear HeteroDir must be finite and non-zero")
	}
	return s
}

// rotation returns the Haar-random orthogonal Q of a rotated covariance (nil otherwise):
// Q from the QR factorisation of a P×P standard Gaussian matrix, with column signs set so
// that R has a positive diagonal (Mezzadri 2007, "How to generate random matrices from
// the classical compact groups").
func (s LinearSettings) rotation() *mat.Dense {
	if !s.Rotate {
		return nil
	}
	rng := rand.New(rand.NewPCG(s.Seed, streamModel))
	g := mat.NewDense(s.P, s.P, nil)
	for i := range s.P {
		for j := range s.P {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q, r mat.Dense
	qr.QTo(&q)
	qr.RTo(&r)
	for j := range s.P {
		if r.At(j, j) < 0 {
			for i := range s.P {
				q.Set(i, j, -q.At(i, j))
			}
		}
	}
	return &q
}

// Covariance returns the population feature covariance Σ_x that Linear draws from
// with these settings (defaults applied): diag(λ), Q diag(λ) Qᵀ, ρ^|i−j| or I.
func (s LinearSettings) Covariance() *mat.SymDense {
	s = s.withDefaults()
	c := mat.NewSymDense(s.P, nil)
	switch {
	case s.Eigenvalues != nil && s.Rotate:
		q := s.rotation()
		for i := range s.P {
			for j := i; j < s.P; j++ {
				var v float64
				for k, l := range s.Eigenvalues {
					v += q.At(i, k) * l * q.At(j, k)
				}
				c.SetSym(i, j, v)
			}
		}
	case s.Eigenvalues != nil:
		for j, l := range s.Eigenvalues {
			c.SetSym(j, j, l)
		}
	default:
		for i := range s.P {
			for j := i; j < s.P; j++ {
				c.SetSym(i, j, math.Pow(s.AR1, float64(j-i)))
			}
		}
	}
	return c
}

// Linear draws a Gaussian linear-regression data set:
//
//	x_i ~ N(0, Σ_x),  y_i = x_iᵀθ + b + σ(x_i) z_i,  z_i ~ N(0, 1),
//	σ(x) = σ₀ (1 + γ |uᵀx|)
//
// with Σ_x, θ, b, σ₀, γ and u from the settings (see LinearSettings; Covariance returns
// Σ_x). Features come from x = Q diag(√λ) z (eigenvalues) or the AR(1) recursion
// x_0 = z_0, x_j = ρ x_{j−1} + √(1−ρ²) z_j. The data are not standardised, so Σ_x and θ
// apply to them as they are. The result is the same for the same settings on every
// platform and GOMAXPROCS. Invalid settings panic.
func Linear(settings LinearSettings) *data.Dataset {
	s := settings.withDefaults()
	n, p := s.N, s.P
	q := s.rotation()
	var u []float64
	{
		norm := 0.0
		for _, v := range s.HeteroDir {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		u = make([]float64, p)
		for j, v := range s.HeteroDir {
			u[j] = v / norm
		}
	}
	rx := rand.New(rand.NewPCG(s.Seed, streamX))
	ry := rand.New(rand.NewPCG(s.Seed, streamTarget))
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	z := make([]float64, p)
	for i := range n {
		row := x.RawRowView(i)
		for j := range z {
			z[j] = rx.NormFloat64()
		}
		switch {
		case s.Eigenvalues != nil:
			for j, l := range s.Eigenvalues {
				z[j] *= math.Sqrt(l)
			}
			if q != nil {
				for a := range p {
					var v float64
					for b := range p {
						v += q.At(a, b) * z[b]
					}
					row[a] = v
				}
			} else {
				copy(row, z)
			}
		default:
			c := math.Sqrt(1 - s.AR1*s.AR1)
			row[0] = z[0]
			for j := 1; j < p; j++ {
				row[j] = s.AR1*row[j-1] + c*z[j]
			}
		}
		var mean, proj float64
		for j, v := range row {
			mean += v * s.Theta[j]
			proj += v * u[j]
		}
		noise := ry.NormFloat64() * s.NoiseStd * (1 + s.Hetero*math.Abs(proj))
		if s.Noiseless {
			noise = 0
		}
		y[i] = mean + s.Intercept + noise
	}
	return synthDataset("synth-linear", x, y, nil)
}

// TeacherSettings configures Teacher. The zero value gives the defaults.
type TeacherSettings struct {
	// N is the number of examples. Default 500.
	N int
	// P is the number of features. Default 10.
	P int
	// K is the number of classes (≥ 2). Default 2.
	K int
	// Hidden is the width H of the teacher's tanh hidden layer. Default 0: a linear
	// teacher.
	Hidden int
	// LogitScale is the factor s > 0 on the teacher's logits (an inverse temperature:
	// larger means less label noise when labels are sampled). Default 2.
	LogitScale float64
	// Argmax labels each example by its most probable class. The data are then noise-free
	// and, for a linear teacher, linearly separable, so logistic and softmax losses have no
	// finite minimiser without weight decay (MATH.md §1). Default false: labels are
	// sampled from the softmax of the logits.
	Argmax bool
	// Seed seeds the random streams (math/rand/v2 PCG). Default 0 (a valid seed).
	Seed uint64
}

func (s TeacherSettings) withDefaults() TeacherSettings {
	if s.N == 0 {
		s.N = 500
	}
	if s.P == 0 {
		s.P = 10
	}
	if s.K == 0 {
		s.K = 2
	}
	if s.LogitScale == 0 {
		s.LogitScale = 2
	}
	if s.N < 1 || s.P < 1 || s.K < 2 || s.Hidden < 0 || !(s.LogitScale > 0) || math.IsInf(s.LogitScale, 0) {
		panic(fmt.Sprintf("synth: Teacher with N=%d, P=%d, K=%d, Hidden=%d, LogitScale=%v", s.N, s.P, s.K, s.Hidden, s.LogitScale))
	}
	return s
}

// teacher is a random network f(x) = s·W x (linear) or f(x) = s·W₂ tanh(W₁ x) with
// independent N(0, 1/fan-in) weights and no biases.
type teacher struct {
	scale  float64
	w1, w2 *mat.Dense // w2 nil for a linear teacher (then w1 is K×P)
	h      []float64
}

func newTeacher(s TeacherSettings) *teacher {
	rng := rand.New(rand.NewPCG(s.Seed, streamModel))
	gauss := func(r, c int) *mat.Dense {
		m := mat.NewDense(r, c, nil)
		sd := 1 / math.Sqrt(float64(c))
		for i := range r {
			for j := range c {
				m.Set(i, j, sd*rng.NormFloat64())
			}
		}
		return m
	}
	t := &teacher{scale: s.LogitScale}
	if s.Hidden == 0 {
		t.w1 = gauss(s.K, s.P)
		return t
	}
	t.w1 = gauss(s.Hidden, s.P)
	t.w2 = gauss(s.K, s.Hidden)
	t.h = make([]float64, s.Hidden)
	return t
}

// logits writes f(x) into dst (length K).
func (t *teacher) logits(dst, x []float64) {
	if t.w2 == nil {
		mat.NewVecDense(len(dst), dst).MulVec(t.w1, mat.NewVecDense(len(x), x))
	} else {
		hv := mat.NewVecDense(len(t.h), t.h)
		hv.MulVec(t.w1, mat.NewVecDense(len(x), x))
		for k, v := range t.h {
			t.h[k] = math.Tanh(v)
		}
		mat.NewVecDense(len(dst), dst).MulVec(t.w2, hv)
	}
	for k := range dst {
		dst[k] *= t.scale
	}
}

// softmax writes the probabilities exp(f_k)/Σ_j exp(f_j) of logits f into dst.
func softmax(dst, f []float64) {
	m := math.Inf(-1)
	for _, v := range f {
		m = math.Max(m, v)
	}
	var z float64
	for k, v := range f {
		dst[k] = math.Exp(v - m)
		z += dst[k]
	}
	for k := range dst {
		dst[k] /= z
	}
}

// Teacher draws a teacher–student classification data set: x_i ~ N(0, I_P), and the
// label of x_i is argmax_k f_k(x_i) (Argmax) or a draw from softmax(f(x_i)), where the
// teacher is f(x) = s·W x (Hidden = 0) or f(x) = s·W₂ tanh(W₁ x), with independent
// N(0, 1/fan-in) weights drawn from Seed. Classes are "0".."K−1"; a class that no example
// received is reported in Warnings. The data are not standardised. The result is the same
// for the same settings on every platform and GOMAXPROCS. Invalid settings panic.
func Teacher(settings TeacherSettings) *data.Dataset {
	s := settings.withDefaults()
	t := newTeacher(s)
	rx := rand.New(rand.NewPCG(s.Seed, streamX))
	ry := rand.New(rand.NewPCG(s.Seed, streamTarget))
	x := mat.NewDense(s.N, s.P, nil)
	y := make([]float64, s.N)
	f := make([]float64, s.K)
	prob := make([]float64, s.K)
	for i := range s.N {
		row := x.RawRowView(i)
		for j := range row {
			row[j] = rx.NormFloat64()
		}
		t.logits(f, row)
		label := 0
		if s.Argmax {
			for k, v := range f {
				if v > f[label] {
					label = k
				}
			}
		} else {
			softmax(prob, f)
			u := ry.Float64()
			label = s.K - 1
			var c float64
			for k, pk := range prob {
				c += pk
				if u < c {
					label = k
					break
				}
			}
		}
		y[i] = float64(label)
	}
	classes := make([]string, s.K)
	for k := range classes {
		classes[k] = strconv.Itoa(k)
	}
	d := synthDataset("synth-teacher", x, y, classes)
	counts := make([]int, s.K)
	for _, v := range y {
		counts[int(v)]++
	}
	for k, c := range counts {
		if c == 0 {
			d.Warnings = append(d.Warnings, fmt.Sprintf("synth-teacher: class %q has no examples", classes[k]))
		}
	}
	return d
}

// synthDataset wraps generated data: generated feature names, SHA-256 of X (row by row)
// then Y as little-endian float64, no standardisation.
func synthDataset(name string, x *mat.Dense, y []float64, classes []string) *data.Dataset {
	n, p := x.Dims()
	h := sha256.New()
	buf := make([]byte, 0, 8*p)
	for i := range n {
		buf = buf[:0]
		for _, v := range x.RawRowView(i) {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
		h.Write(buf)
	}
	buf = buf[:0]
	for _, v := range y {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
	}
	h.Write(buf)
	names := make([]string, p)
	for j := range names {
		names[j] = fmt.Sprintf("x%d", j)
	}
	return &data.Dataset{Name: name, X: x, Y: y, Classes: classes, FeatureNames: names, SHA256: hex.EncodeToString(h.Sum(nil))}
}
