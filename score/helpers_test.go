package score

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/model"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

// logisticData returns n examples with p features and 0/1 labels from a logistic model.
func logisticData(rnd *rand.Rand, n, p int) model.Batch {
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		z := 0.3
		for j := 0; j < p; j++ {
			v := rnd.NormFloat64()
			x.Set(i, j, v)
			z += v * float64(j+1) / float64(p)
		}
		if rnd.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return model.Batch{X: x, Y: y}
}

// classData returns n examples with p features and labels 0..k−1.
func classData(rnd *rand.Rand, n, p, k int) model.Batch {
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		c := i % k
		y[i] = float64(c)
		for j := 0; j < p; j++ {
			x.Set(i, j, rnd.NormFloat64()+0.7*float64((c+j)%k))
		}
	}
	return model.Batch{X: x, Y: y}
}

// regData returns n examples with p features and a noisy linear target.
func regData(rnd *rand.Rand, n, p int) model.Batch {
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		t := 0.5
		for j := 0; j < p; j++ {
			v := rnd.NormFloat64()
			x.Set(i, j, v)
			t += v * float64(j+1) / 2
		}
		y[i] = t + 0.8*rnd.NormFloat64()*(1+0.5*math.Abs(x.At(i, 0)))
	}
	return model.Batch{X: x, Y: y}
}

func mustModel(t *testing.T, spec string, p, k int, opt model.Options) model.Model {
	t.Helper()
	m, err := model.New(spec, p, k, opt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randTheta(rnd *rand.Rand, d int, scale float64) []float64 {
	th := make([]float64, d)
	for i := range th {
		th[i] = scale * rnd.NormFloat64()
	}
	return th
}

// ---- Independent brute force -------------------------------------------------------

// logisticGrads returns the per-example gradients of the logistic NLL (analytic:
// g_i = (σ(z_i) − y_i)(x_i, 1), θ = (w, b)) as rows, and the per-example Hessians
// H_i = σ(1−σ)(x_i, 1)(x_i, 1)ᵀ.
func logisticGrads(b model.Batch, theta []float64) (*mat.Dense, []*mat.SymDense) {
	n, p := b.X.Dims()
	g := mat.NewDense(n, p+1, nil)
	hs := make([]*mat.SymDense, n)
	for i := 0; i < n; i++ {
		xi := append(mat.Row(nil, i, b.X), 1)
		z := floats.Dot(xi, theta)
		s := 1 / (1 + math.Exp(-z))
		for j := range xi {
			g.Set(i, j, (s-b.Y[i])*xi[j])
		}
		h := mat.NewSymDense(p+1, nil)
		h.SymOuterK(s*(1-s), mat.NewDense(p+1, 1, xi))
		hs[i] = h
	}
	return g, hs
}

// linregGrads returns the per-example gradients and Hessians of ℓ_i = (x̃_iᵀθ − y_i)²/(2σ²).
func linregGrads(b model.Batch, theta []float64, sigma float64) (*mat.Dense, []*mat.SymDense) {
	n, p := b.X.Dims()
	g := mat.NewDense(n, p+1, nil)
	hs := make([]*mat.SymDense, n)
	for i := 0; i < n; i++ {
		xi := append(mat.Row(nil, i, b.X), 1)
		rho := (floats.Dot(xi, theta) - b.Y[i]) / (sigma * sigma)
		for j := range xi {
			g.Set(i, j, rho*xi[j])
		}
		h := mat.NewSymDense(p+1, nil)
		h.SymOuterK(1/(sigma*sigma), mat.NewDense(p+1, 1, xi))
		hs[i] = h
	}
	return g, hs
}

// bruteMean returns the column means of g over the rows idx (all rows if nil).
func bruteMean(g *mat.Dense, idx []int) []float64 {
	n, d := g.Dims()
	if idx == nil {
		idx = make([]int, n)
		for i := range idx {
			idx[i] = i
		}
	}
	m := make([]float64, d)
	for _, i := range idx {
		for j := 0; j < d; j++ {
			m[j] += g.At(i, j)
		}
	}
	for j := range m {
		m[j] /= float64(len(idx))
	}
	return m
}

// bruteCov returns scale · Σ_{i∈idx} (g_i − ḡ)(g_i − ḡ)ᵀ by a triple loop.
func bruteCov(g *mat.Dense, idx []int, scale float64) *mat.SymDense {
	n, d := g.Dims()
	if idx == nil {
		idx = make([]int, n)
		for i := range idx {
			idx[i] = i
		}
	}
	mean := bruteMean(g, idx)
	c := mat.NewSymDense(d, nil)
	for a := 0; a < d; a++ {
		for b := a; b < d; b++ {
			var s float64
			for _, i := range idx {
				s += (g.At(i, a) - mean[a]) * (g.At(i, b) - mean[b])
			}
			c.SetSym(a, b, scale*s)
		}
	}
	return c
}

// bruteSolve returns A⁻¹ b by LU.
func bruteSolve(t *testing.T, a mat.Matrix, b []float64) []float64 {
	t.Helper()
	var x mat.VecDense
	if err := x.SolveVec(a, mat.NewVecDense(len(b), append([]float64(nil), b...))); err != nil {
		t.Fatalf("brute solve: %v", err)
	}
	return x.RawVector().Data
}

// brutePinv returns the pseudo-inverse of the symmetric a (eigenvalues ≤ rcond·λ_max
// dropped) and the projector on its range.
func brutePinv(a *mat.SymDense, rcond float64) (*mat.Dense, *mat.Dense) {
	var es mat.EigenSym
	es.Factorize(a, true)
	vals := es.Values(nil)
	var q mat.Dense
	es.VectorsTo(&q)
	d := len(vals)
	lmax := floats.Max(vals)
	pinv := mat.NewDense(d, d, nil)
	proj := mat.NewDense(d, d, nil)
	for k, v := range vals {
		if v > rcond*lmax {
			qk := mat.Col(nil, k, &q)
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					pinv.Set(i, j, pinv.At(i, j)+qk[i]*qk[j]/v)
					proj.Set(i, j, proj.At(i, j)+qk[i]*qk[j])
				}
			}
		}
	}
	return pinv, proj
}

// ---- Comparisons ---------------------------------------------------------------------

// relErr returns ‖a − b‖ / max(‖b‖, tiny).
func relErr(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

func checkVec(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if e := relErr(got, want); !(e <= tol) {
		t.Errorf("%s: relative error %.3g > %.3g\n got %v\nwant %v", name, e, tol, head(got), head(want))
	}
}

func checkMat(t *testing.T, name string, got, want mat.Matrix, tol float64) {
	t.Helper()
	r, c := want.Dims()
	if r2, c2 := got.Dims(); r2 != r || c2 != c {
		t.Errorf("%s: dims %d×%d, want %d×%d", name, r2, c2, r, c)
		return
	}
	var diff mat.Dense
	diff.Sub(got, want)
	den := mat.Norm(want, 2)
	if den == 0 {
		den = 1
	}
	if e := mat.Norm(&diff, 2) / den; !(e <= tol) {
		t.Errorf("%s: relative Frobenius error %.3g > %.3g", name, e, tol)
	}
}

func checkScalar(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	den := math.Abs(want)
	if den == 0 {
		den = 1
	}
	if e := math.Abs(got-want) / den; !(e <= tol) {
		t.Errorf("%s = %.15g, want %.15g (relative error %.3g > %.3g)", name, got, want, e, tol)
	}
}

func head(x []float64) []float64 {
	if len(x) > 6 {
		return x[:6]
	}
	return x
}

// ---- A quadratic test model ----------------------------------------------------------

// quadModel is ℓ_i(θ) = ½ (θ − s_i)ᵀ A (θ − s_i) with the shift s_i stored as row i of the
// batch X (p = d): g_i = A(θ − s_i), H_i = A, so C = A S A with S the covariance of the
// shifts, constant in θ, and ∇·C = 0.
type quadModel struct {
	a *mat.SymDense
}

var _ model.Model = (*quadModel)(nil)

func (q *quadModel) Name() string       { return "quadratic" }
func (q *quadModel) NumParams() int     { return q.a.SymmetricDim() }
func (q *quadModel) NumInputs() int     { return q.a.SymmetricDim() }
func (q *quadModel) Clone() model.Model { return &quadModel{a: q.a} }

func (q *quadModel) grad(dst, theta []float64, s []float64) {
	d := len(theta)
	diff := make([]float64, d)
	floats.SubTo(diff, theta, s)
	mat.NewVecDense(d, dst).MulVec(q.a, mat.NewVecDense(d, diff))
}

func (q *quadModel) Loss(grad, theta []float64, b model.Batch) float64 {
	n := b.Len()
	d := len(theta)
	var l float64
	if grad != nil {
		clear(grad)
	}
	g := make([]float64, d)
	for i := 0; i < n; i++ {
		s := b.X.RawRowView(i)
		q.grad(g, theta, s)
		diff := make([]float64, d)
		floats.SubTo(diff, theta, s)
		l += 0.5 * floats.Dot(diff, g)
		if grad != nil {
			floats.AddScaled(grad, 1/float64(n), g)
		}
	}
	return l / float64(n)
}

func (q *quadModel) PerExampleLoss(dst, theta []float64, b model.Batch) {
	for i := 0; i < b.Len(); i++ {
		dst[i] = q.Loss(nil, theta, model.Batch{X: mat.NewDense(1, len(theta), b.X.RawRowView(i)), Y: b.Y[i : i+1]})
	}
}

func (q *quadModel) PerExampleGrads(dst *mat.Dense, theta []float64, b model.Batch) {
	if dst.IsEmpty() {
		dst.ReuseAs(b.Len(), len(theta))
	}
	for i := 0; i < b.Len(); i++ {
		q.grad(dst.RawRowView(i), theta, b.X.RawRowView(i))
	}
}

func (q *quadModel) GradDot(dst, theta []float64, b model.Batch, u []float64) {
	g := make([]float64, len(theta))
	for i := 0; i < b.Len(); i++ {
		q.grad(g, theta, b.X.RawRowView(i))
		dst[i] = floats.Dot(g, u)
	}
}

func (q *quadModel) GradSum(dst, theta []float64, b model.Batch, w []float64) {
	clear(dst)
	g := make([]float64, len(theta))
	for i := 0; i < b.Len(); i++ {
		q.grad(g, theta, b.X.RawRowView(i))
		floats.AddScaled(dst, w[i], g)
	}
}

func (q *quadModel) Gram(dst *mat.Dense, theta []float64, b model.Batch) {
	n := b.Len()
	var g mat.Dense
	q.PerExampleGrads(&g, theta, b)
	if dst.IsEmpty() {
		dst.ReuseAs(n, n)
	}
	dst.Mul(&g, g.T())
}

func (q *quadModel) HessVec(dst, theta []float64, b model.Batch, v []float64) {
	mat.NewVecDense(len(dst), dst).MulVec(q.a, mat.NewVecDense(len(v), v))
}

func (q *quadModel) PerExampleHessVec(dst *mat.Dense, theta []float64, b model.Batch, v *mat.Dense) {
	if dst.IsEmpty() {
		dst.ReuseAs(b.Len(), len(theta))
	}
	d := len(theta)
	for i := 0; i < b.Len(); i++ {
		mat.NewVecDense(d, dst.RawRowView(i)).MulVec(q.a, mat.NewVecDense(d, v.RawRowView(i)))
	}
}

// quadProblem returns a quadratic problem with curvature a and n shifts whose population
// covariance is exactly shiftCov (for n ≥ 2d: ± columns of a square root, symmetric about
// mean), and the minimum θ* = mean shift.
func quadProblem(a, shiftCov *mat.SymDense, n int, mean []float64) ModelProblem {
	d := a.SymmetricDim()
	var ch mat.Cholesky
	if !ch.Factorize(shiftCov) {
		panic("shift covariance not PD")
	}
	var l mat.TriDense
	ch.LTo(&l)
	// Shifts mean ± √(n/2) L e_j for the first 2d examples, the mean for the rest: population
	// covariance (1/n) Σ_j 2 (n/2) L e_j e_jᵀ Lᵀ = L Lᵀ.
	if n < 2*d {
		panic("need n ≥ 2d")
	}
	x := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		copy(x.RawRowView(i), mean)
	}
	f := math.Sqrt(float64(n) / 2)
	for j := 0; j < d; j++ {
		for r := 0; r < d; r++ {
			x.Set(2*j, r, mean[r]+f*l.At(r, j))
			x.Set(2*j+1, r, mean[r]-f*l.At(r, j))
		}
	}
	return ModelProblem{Model: &quadModel{a: a}, Batch: model.Batch{X: x, Y: make([]float64, n)}}
}

func symFrom(d int, f func(i, j int) float64) *mat.SymDense {
	s := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			s.SetSym(i, j, f(i, j))
		}
	}
	return s
}

// randSPD returns Q diag(vals) Qᵀ for a random orthogonal Q.
func randSPD(rnd *rand.Rand, vals []float64) *mat.SymDense {
	d := len(vals)
	g := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			g.Set(i, j, rnd.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	var out mat.Dense
	out.Mul(&q, mat.NewDiagDense(d, vals))
	out.Mul(&out, q.T())
	return symFrom(d, func(i, j int) float64 { return 0.5 * (out.At(i, j) + out.At(j, i)) })
}
