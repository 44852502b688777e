package linalg

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
)

// bruteInverse returns (C + λI)⁻¹ by mat.Dense.Inverse (LU), independent of EigenSym.
func bruteInverse(t *testing.T, c mat.Symmetric, lam float64) *mat.Dense {
	d := c.SymmetricDim()
	a := mat.DenseCopyOf(c)
	for i := 0; i < d; i++ {
		a.Set(i, i, a.At(i, i)+lam)
	}
	var inv mat.Dense
	if err := inv.Inverse(a); err != nil {
		t.Fatalf("reference inverse: %v", err)
	}
	return &inv
}

// brutePinv returns the pseudo-inverse of C and the projector on its range, from an SVD
// with singular values ≤ rcond·s_max dropped.
func brutePinv(t *testing.T, c mat.Symmetric, rcond float64) (pinv, proj *mat.Dense, rank int) {
	var svd mat.SVD
	if !svd.Factorize(c, mat.SVDFull) {
		t.Fatal("reference SVD failed")
	}
	s := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	d := len(s)
	pinv = mat.NewDense(d, d, nil)
	proj = mat.NewDense(d, d, nil)
	for k, sk := range s {
		if sk <= rcond*s[0] {
			continue
		}
		rank++
		uk := mat.NewVecDense(d, mat.Col(nil, k, &u))
		vk := mat.NewVecDense(d, mat.Col(nil, k, &v))
		var o mat.Dense
		o.Outer(1/sk, vk, uk)
		pinv.Add(pinv, &o)
		o.Outer(1, uk, uk)
		proj.Add(proj, &o)
	}
	return pinv, proj, rank
}

type invCase struct {
	name    string
	d, m    int
	kappa   float64
	damping float64 // relative to tr(C_B)/d
	rng     bool
}

// TestInverseAgainstBruteForce checks the dense, Woodbury and CG strategies against a
// brute-force inverse (LU) or pseudo-inverse (SVD) computed here, to 1e-8 relative, for
// full-rank and rank-deficient C_B, damped, exact and range mode, and checks that the three
// strategies agree with each other.
func TestInverseAgainstBruteForce(t *testing.T) {
	cases := []invCase{
		{name: "full rank exact", d: 10, m: 25, kappa: 0.3},
		{name: "full rank damped", d: 10, m: 25, kappa: 0.3, damping: 1e-2},
		{name: "rank-deficient damped", d: 14, m: 5, kappa: 1.7, damping: 1e-2},
		{name: "rank-deficient damped small", d: 14, m: 5, kappa: 1.7, damping: 1e-5},
		{name: "rank-deficient range", d: 14, m: 5, kappa: 1.7, rng: true},
		{name: "full rank range", d: 8, m: 20, kappa: 0.5, rng: true},
	}
	rnd := newRand(1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := randDense(rnd, tc.d, tc.m)
			c := outerLoop(u, tc.kappa)
			lam := tc.damping * mat.Trace(c) / float64(tc.d)
			set := &InverseSettings{Damping: lam, Range: tc.rng, CGTol: 1e-14}
			var ref, proj *mat.Dense
			wantRank := tc.d
			if tc.rng {
				var r int
				ref, proj, r = brutePinv(t, c, DefaultRCond)
				wantRank = r
			} else {
				ref = bruteInverse(t, c, lam)
			}
			dense, err := NewDenseInverse(c, set)
			if err != nil {
				t.Fatal(err)
			}
			wood, err := NewWoodburyInverse(NewDenseFactor(u), tc.kappa, set)
			if err != nil {
				t.Fatal(err)
			}
			invs := map[string]Inverse{"dense": dense, "woodbury": wood}
			if !tc.rng {
				cg, err := NewCGInverse(CovOperator{U: NewDenseFactor(u), Kappa: tc.kappa}, set)
				if err != nil {
					t.Fatal(err)
				}
				invs["cg"] = cg
			}
			for trial := 0; trial < 3; trial++ {
				b := randVec(rnd, tc.d)
				want := matVec(ref, b)
				got := map[string][]float64{}
				for name, inv := range invs {
					x := make([]float64, tc.d)
					if err := inv.Solve(x, b); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if e := relErr(x, want); e > 1e-8 {
						t.Errorf("%s: relative error %g against brute force", name, e)
					}
					got[name] = x
					if inv.Rank() != wantRank {
						t.Errorf("%s: Rank() = %d, want %d", name, inv.Rank(), wantRank)
					}
					// Range fraction against the direct projection.
					wantFrac := 0.0
					if tc.rng && wantRank < tc.d {
						pb := matVec(proj, b)
						floats.SubTo(pb, b, pb)
						wantFrac = floats.Dot(pb, pb) / floats.Dot(b, b)
					}
					if f := inv.RangeFraction(b); math.Abs(f-wantFrac) > 1e-10 {
						t.Errorf("%s: RangeFraction = %g, want %g", name, f, wantFrac)
					}
				}
				for name, x := range got {
					if e := relErr(x, got["dense"]); e > 1e-8 {
						t.Errorf("%s differs from dense by %g", name, e)
					}
				}
			}
		})
	}
}

// TestRangeFractionExtremes checks RangeFraction on vectors inside and orthogonal to the
// range of a rank-deficient C_B = κUUᵀ (range = column space of U).
func TestRangeFractionExtremes(t *testing.T) {
	rnd := newRand(2)
	d, m := 9, 3
	u := randDense(rnd, d, m)
	c := outerLoop(u, 2)
	inRange := matVec(u, randVec(rnd, m))
	// Orthogonal complement vector: b − U(UᵀU)⁻¹Uᵀb by normal equations.
	b := randVec(rnd, d)
	var coef mat.VecDense
	if err := coef.SolveVec(u, mat.NewVecDense(d, b)); err != nil {
		t.Fatal(err)
	}
	orth := make([]float64, d)
	floats.SubTo(orth, b, matVec(u, coef.RawVector().Data))
	set := &InverseSettings{Range: true}
	dense, err := NewDenseInverse(c, set)
	if err != nil {
		t.Fatal(err)
	}
	wood, err := NewWoodburyInverse(NewDenseFactor(u), 2, set)
	if err != nil {
		t.Fatal(err)
	}
	for name, inv := range map[string]Inverse{"dense": dense, "woodbury": wood} {
		if f := inv.RangeFraction(inRange); f > 1e-12 {
			t.Errorf("%s: fraction outside range of a vector in it = %g", name, f)
		}
		if f := inv.RangeFraction(orth); math.Abs(f-1) > 1e-12 {
			t.Errorf("%s: fraction outside range of an orthogonal vector = %g, want 1", name, f)
		}
		if f := inv.RangeFraction(make([]float64, d)); f != 0 {
			t.Errorf("%s: fraction of the zero vector = %g", name, f)
		}
		if inv.Rank() != m {
			t.Errorf("%s: rank %d, want %d", name, inv.Rank(), m)
		}
	}
}

// TestRankDeficientError checks that a rank-deficient C_B with neither damping nor range is a
// typed error for every strategy, never NaNs or silent regularisation.
func TestRankDeficientError(t *testing.T) {
	rnd := newRand(3)
	d, m := 12, 4
	u := randDense(rnd, d, m)
	c := outerLoop(u, 1)
	_, err := NewDenseInverse(c, nil)
	var rd *RankDeficientError
	if !errors.As(err, &rd) || rd.Rank != m || rd.Dim != d {
		t.Errorf("dense: got %v, want RankDeficientError{rank %d of %d}", err, m, d)
	}
	_, err = NewWoodburyInverse(NewDenseFactor(u), 1, nil)
	if !errors.As(err, &rd) || rd.Rank != m || rd.Dim != d {
		t.Errorf("woodbury: got %v, want RankDeficientError{rank %d of %d}", err, m, d)
	}
	if err != nil {
		msg := err.Error()
		for _, want := range []string{"rank-deficient", "rank 4 of 12", "damping", "range"} {
			if !contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
	}
	cg, err := NewCGInverse(CovOperator{U: NewDenseFactor(u), Kappa: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, d)
	err = cg.Solve(x, randVec(rnd, d))
	if !errors.As(err, &rd) {
		t.Errorf("cg: got %v, want RankDeficientError", err)
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("cg left a non-finite iterate: %v", x)
		}
	}
	// A clearly indefinite matrix is not PSD.
	ind, _ := symWithSpectrum(rnd, []float64{3, 2, -1})
	_, err = NewDenseInverse(ind, &InverseSettings{Damping: 0.1})
	var np *NotPSDError
	if !errors.As(err, &np) {
		t.Errorf("indefinite: got %v, want NotPSDError", err)
	}
}

func TestInverseSettingsErrors(t *testing.T) {
	c := mat.NewSymDense(2, []float64{2, 0, 0, 1})
	bad := []InverseSettings{{Damping: -1}, {Damping: 1, Range: true}, {RCond: 2}, {Damping: math.NaN()}}
	for _, s := range bad {
		if _, err := NewDenseInverse(c, &s); err == nil {
			t.Errorf("settings %+v accepted", s)
		}
	}
	if _, err := NewCGInverse(DenseOperator{c}, &InverseSettings{Range: true}); err == nil {
		t.Error("CG accepted range mode")
	}
	u := mat.NewDense(2, 1, []float64{1, 2})
	if _, err := NewWoodburyInverse(NewDenseFactor(u), 0, &InverseSettings{Damping: 1}); err == nil {
		t.Error("Woodbury accepted κ = 0")
	}
}

// TestInverseZeroMatrix: C_B = 0 has rank 0: range mode gives 0 with everything outside the
// range, damping gives b/λ.
func TestInverseZeroMatrix(t *testing.T) {
	d := 4
	c := mat.NewSymDense(d, nil)
	b := []float64{1, -2, 3, 0.5}
	inv, err := NewDenseInverse(c, &InverseSettings{Range: true})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, d)
	inv.Solve(x, b)
	if floats.Norm(x, 2) != 0 || inv.RangeFraction(b) != 1 || inv.Rank() != 0 {
		t.Errorf("range mode on zero matrix: x=%v fraction=%g rank=%d", x, inv.RangeFraction(b), inv.Rank())
	}
	inv, err = NewDenseInverse(c, &InverseSettings{Damping: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	inv.Solve(x, b)
	for i := range x {
		approx(t, "x", x[i], 2*b[i], 1e-15)
	}
	u := mat.NewDense(d, 2, nil)
	w, err := NewWoodburyInverse(NewDenseFactor(u), 1, &InverseSettings{Damping: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	w.Solve(x, b)
	for i := range x {
		approx(t, "woodbury x", x[i], 2*b[i], 1e-15)
	}
}

// TestSolveAliasing checks Solve with dst and b the same slice.
func TestSolveAliasing(t *testing.T) {
	rnd := newRand(4)
	d, m := 7, 3
	u := randDense(rnd, d, m)
	c := outerLoop(u, 1)
	set := &InverseSettings{Damping: 0.3}
	dense, _ := NewDenseInverse(c, set)
	wood, _ := NewWoodburyInverse(NewDenseFactor(u), 1, set)
	cg, _ := NewCGInverse(DenseOperator{c}, set)
	b := randVec(rnd, d)
	for name, inv := range map[string]Inverse{"dense": dense, "woodbury": wood, "cg": cg} {
		want := make([]float64, d)
		if err := inv.Solve(want, b); err != nil {
			t.Fatal(err)
		}
		x := append([]float64(nil), b...)
		if err := inv.Solve(x, x); err != nil {
			t.Fatal(err)
		}
		if e := relErr(x, want); e > 1e-14 {
			t.Errorf("%s: aliased solve differs by %g", name, e)
		}
	}
}

// TestCGNotConverged checks that CG reports running out of iterations as an error.
func TestCGNotConverged(t *testing.T) {
	c, _ := symWithSpectrum(newRand(5), []float64{1, 2, 5, 10, 50, 100, 300, 1000})
	cg, _ := NewCGInverse(DenseOperator{c}, &InverseSettings{Damping: 1e-3, CGMaxIter: 2})
	x := make([]float64, 8)
	err := cg.Solve(x, randVec(newRand(6), 8))
	var nc *NotConvergedError
	if !errors.As(err, &nc) || nc.Iter != 2 {
		t.Errorf("got %v, want NotConvergedError after 2 iterations", err)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestSettingsValidate(t *testing.T) {
	d := DefaultInverseSettings()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		s    InverseSettings
		want string
	}{
		{InverseSettings{Damping: -1, RCond: DefaultRCond}, "--damping must be ≥ 0 and finite, not -1"},
		{InverseSettings{Damping: 1, Range: true, RCond: DefaultRCond}, "--damping and --inverse range are exclusive: choose one"},
		{InverseSettings{RCond: 1}, "--rcond must be in (0, 1), not 1"},
	} {
		fe := field.As(c.s.Validate())
		if fe == nil || fe.Flag() != c.want {
			t.Errorf("%+v: got %v, want %q", c.s, fe, c.want)
		}
	}
}
