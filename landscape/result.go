package landscape

import (
	"encoding/json"
	"math"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
)

// Float is a float64 that marshals to JSON null when it is NaN or infinite (MATH.md §10:
// numbers that are not finite are written as null).
type Float = jsonnum.Float

// toFloats converts x to []Float (nil stays nil).
func toFloats(x []float64) []Float {
	if x == nil {
		return nil
	}
	r := make([]Float, len(x))
	for i, v := range x {
		r[i] = Float(v)
	}
	return r
}

// Result is the outcome of Run, shaped for JSON. Densities are on Grid: in 1-D at the
// bin centres X; in 2-D on the cells X × Y flattened row-major (index i·len(Y) + j).
// Non-finite numbers are null; a figure that was not computed is null.
type Result struct {
	Preset string             `json:"preset"`
	Params map[string]float64 `json:"params"`
	// LR is η, Batch is B, Sampling the mini-batch scheme, Kappa = κ_B.
	LR       Float  `json:"lr"`
	Batch    int    `json:"batch"`
	Sampling string `json:"sampling"`
	Kappa    Float  `json:"kappa"`
	// DT is the SDE's step (null when the SDE was not simulated).
	DT Float `json:"dt"`
	// Time is the simulated time per chain and Chains the number of chains (0 without
	// simulation).
	Time    int        `json:"time"`
	Chains  int        `json:"chains"`
	Seed    uint64     `json:"seed"`
	Grid    GridOut    `json:"grid"`
	Density DensityOut `json:"density"`
	// Variance is present for unimodal presets.
	Variance *VarianceOut `json:"variance,omitempty"`
	Wells    []WellOut    `json:"wells"`
	Sweep    []SweepOut   `json:"sweep,omitempty"`
	// Current is max|J|/max|μp| of the 2-D Fokker–Planck solution (null in 1-D, where the
	// stationary current is exactly 0); NoteNonGradient (key "seed_nongradient") is ‖∇ψ − F‖/‖F‖ for the note's
	// field F = 2D⁻¹μ (2-D only).
	Current         Float `json:"current"`
	NoteNonGradient Float `json:"seed_nongradient"`
	// CurrentField is, in 2-D, the stationary probability current J = μp − ½∇·(Dp) at the
	// grid's cell centres, flattened like the densities (index i·len(Y) + j); nil in 1-D.
	CurrentField *CurrentFieldOut `json:"current_field,omitempty"`
	// Domain is the integration domain or Fokker–Planck box: [lo, hi] per axis.
	Domain   [][2]Float `json:"domain"`
	Warnings []string   `json:"warnings"`
}

// CurrentFieldOut holds the two components of the probability current on the grid.
type CurrentFieldOut struct {
	JX []Float `json:"jx"`
	JY []Float `json:"jy"`
}

// GridOut holds the grid's centres (Y only in 2-D).
type GridOut struct {
	X []Float `json:"x"`
	Y []Float `json:"y,omitempty"`
}

// DensityOut holds densities on the grid: exact (the SDE's stationary density), note (key "seed", the
// note's), and histograms of the simulations with between-chain standard errors.
type DensityOut struct {
	Exact       []Float `json:"exact"`
	Note        []Float `json:"seed"`
	SGD         []Float `json:"sgd"`
	SGDStderr   []Float `json:"sgd_stderr"`
	Gauss       []Float `json:"gauss"`
	GaussStderr []Float `json:"gauss_stderr"`
	SDE         []Float `json:"sde"`
	SDEStderr   []Float `json:"sde_stderr"`
}

// VarianceOut holds stationary covariances (d×d, row-major; one number in 1-D): exact is
// the SDE's, note (key "seed") the note's density's, discrete the closed form for discrete-time SGD,
// and the simulated ones with between-chain standard errors.
type VarianceOut struct {
	Exact       []Float `json:"exact"`
	Note        []Float `json:"seed"`
	Discrete    []Float `json:"discrete"`
	SGD         []Float `json:"sgd"`
	SGDStderr   []Float `json:"sgd_stderr"`
	Gauss       []Float `json:"gauss"`
	GaussStderr []Float `json:"gauss_stderr"`
	SDE         []Float `json:"sde"`
	SDEStderr   []Float `json:"sde_stderr"`
}

// WellOut describes one well: its minimum, its probability mass under each law, and mean
// escape times in SGD steps (exact: quadrature in 1-D, the backward equation in 2-D;
// kramers: 1-D only).
type WellOut struct {
	Center        []Float `json:"center"`
	MassExact     Float   `json:"mass_exact"`
	MassNote      Float   `json:"mass_seed"`
	MassSGD       Float   `json:"mass_sgd"`
	MassSGDStderr Float   `json:"mass_sgd_stderr"`
	// MassSGDChains is the mass in each SGD chain (its mean is MassSGD), for the paired test
	// of CompareMasses.
	MassSGDChains   []Float `json:"mass_sgd_chains,omitempty"`
	MassGauss       Float   `json:"mass_gauss"`
	MassGaussStderr Float   `json:"mass_gauss_stderr"`
	MassSDE         Float   `json:"mass_sde"`
	MassSDEStderr   Float   `json:"mass_sde_stderr"`
	EscapeExact     Float   `json:"escape_exact"`
	EscapeKramers   Float   `json:"escape_kramers"`
	EscapeSGD       Float   `json:"escape_sgd"`
	EscapeSGDStderr Float   `json:"escape_sgd_stderr"`
	EscapesSGD      int     `json:"escapes_sgd"`
	EscapeSDE       Float   `json:"escape_sde"`
	EscapeSDEStderr Float   `json:"escape_sde_stderr"`
	EscapesSDE      int     `json:"escapes_sde"`
}

// SweepOut is one (η, B) point of the sweep: each well's share of the probability.
type SweepOut struct {
	LR     Float     `json:"lr"`
	Batch  int       `json:"batch"`
	Kappa  Float     `json:"kappa"`
	Shares SharesOut `json:"shares"`
}

// SharesOut holds per-well probabilities under the exact density, the note's density (key "seed") and SGD
// (with its between-chain standard error).
type SharesOut struct {
	Exact     []Float `json:"exact"`
	Note      []Float `json:"seed"`
	SGD       []Float `json:"sgd"`
	SGDStderr []Float `json:"sgd_stderr"`
}

// nanFloats returns n NaNs as Floats.
func nanFloats(n int) []Float {
	r := make([]Float, n)
	for i := range r {
		r[i] = Float(math.NaN())
	}
	return r
}

// Output is the JSON output of `sgdprior landscape --json`: the Result and the provenance
// of the run. It reads back what it writes; numbers absent from an older output read as NaN.
type Output struct {
	Result
	Provenance problem.Provenance `json:"provenance"`
}

// Write writes o, indented, to path atomically.
func (o *Output) Write(path string) error { return atomicfile.WriteJSON(path, o) }

// UnmarshalJSON reads an Output, presetting the scalar numbers to NaN so that absent ones
// read as NaN.
func (o *Output) UnmarshalJSON(b []byte) error {
	type plain Output
	nan := Float(math.NaN())
	var p plain
	p.LR, p.Kappa, p.DT, p.Current, p.NoteNonGradient = nan, nan, nan, nan, nan
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*o = Output(p)
	return nil
}

// UnmarshalJSON reads a well, presetting its numbers to NaN so that absent ones read as NaN.
func (w *WellOut) UnmarshalJSON(b []byte) error {
	type plain WellOut
	n := Float(math.NaN())
	p := plain{MassExact: n, MassNote: n, MassSGD: n, MassSGDStderr: n,
		MassGauss: n, MassGaussStderr: n, MassSDE: n, MassSDEStderr: n,
		EscapeExact: n, EscapeKramers: n, EscapeSGD: n, EscapeSGDStderr: n,
		EscapeSDE: n, EscapeSDEStderr: n}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*w = WellOut(p)
	return nil
}

// UnmarshalJSON reads a sweep point, presetting η and κ_B to NaN so that absent ones read as
// NaN.
func (s *SweepOut) UnmarshalJSON(b []byte) error {
	type plain SweepOut
	p := plain{LR: Float(math.NaN()), Kappa: Float(math.NaN())}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = SweepOut(p)
	return nil
}
