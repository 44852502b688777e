// Package study describes what `sgdprior run` does: a study file (TOML) lists the problems
// (a data set, a model, a weight decay, grids of the learning rate η and the batch size B,
// the simulators and their chain settings) and the 1-D/2-D landscapes to run. Steps expands
// a study into typed steps (Step: a problem.Spec and the train, score, verify or landscape
// settings); Step.Exec runs one by calling the library directly and writes its JSON output,
// and each step's command line, rendered from its settings (commandline.go), reproduces it
// for provenance. The runner (cmd/sgdprior) collects the outputs in a Results, which
// Summarize turns into plain-language verdicts. The default study is embedded (Default).
// A study with two or more seeds (Study.Seeds, `run --seeds`) runs every stochastic step
// once per seed, and Summarize aggregates each verdict over the seeds (replicates.go).
//
// Conventions are those of every sgdprior command (docs/MATH.md §1): the objective is the
// mean loss L(θ) = (1/N) Σ ℓ_i(θ) + (λ/2)‖θ‖², η is the learning rate of SGD on L, B the
// batch size, and the mini-batch covariance is C_B = κ_B C with κ_B = 1/B (sampling `with`)
// or (N − B)/(B(N − 1)) (`without`).
//
// The numbers come from the compute packages, and study and report decode each output with
// the type of the package that wrote it. Summarize compares them with the thresholds stated
// in the study file and words the result; the statistics a verdict rests on
// (landscape.CompareMasses, landscape.WellBreadths, score.DivergenceShiftAtMinimum) are the
// compute packages' and documented in docs/MATH.md. The report package only formats.
package study

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/landscape"
)

//go:embed default.toml
var defaultStudy []byte

// DefaultName is the name under which the embedded default study is reported.
const DefaultName = "default.toml (embedded)"

// DefaultSource returns the text of the embedded default study file.
func DefaultSource() []byte { return slices.Clone(defaultStudy) }

// Default parses the embedded default study. It panics if the embedded file is invalid
// (a build error, caught by the package tests).
func Default() *Study {
	s, err := Parse(defaultStudy, DefaultName, "")
	if err != nil {
		panic("study: embedded default study: " + err.Error())
	}
	return s
}

// Study is a study file. The zero value of every optional field means its stated default.
type Study struct {
	// Title heads the report; default "sgdprior study".
	Title string `toml:"title" json:"title"`
	// Seed is the random seed passed to every step (--seed); default 1. An entry's own seed
	// overrides it.
	Seed *uint64 `toml:"seed" json:"seed,omitempty"`
	// Seeds are seed replicates (`sgdprior run --seeds`, Study.WithSeeds): with two or more
	// seeds every stochastic step (train, score, verify, landscape, track, escape) runs once
	// per seed (Steps) and Summarize aggregates each verdict over the seeds (Agreement). A
	// basins table without its own seeds key then takes these (basins replicates over seeds
	// itself, so it runs once). One seed is the same as seed = that seed. The rules:
	// seeds and seed exclude each other (unless seeds = [seed]); a seed appears once; each is
	// an integer ≥ 0; and with two or more seeds an entry may not set its own seed, which
	// would make all of its replicates one run.
	Seeds []uint64 `toml:"seeds" json:"seeds,omitempty"`
	// Thresholds are the tolerances with which Summarize words the assumption checks.
	Thresholds Thresholds `toml:"thresholds" json:"thresholds"`
	// Problems are the models on data.
	Problems []Problem `toml:"problem" json:"problems"`
	// Landscapes are the 1-D and 2-D landscape studies.
	Landscapes []Landscape `toml:"landscape" json:"landscapes"`
	// Slurm are the resources of each task under `run --executor slurm` (its --slurm-*
	// flags override them); they do not change any result.
	Slurm *Slurm `toml:"slurm" json:"slurm,omitempty"`
}

// Thresholds are the tolerances for the plain-language assumption checks. They are not
// statistical tests; the report prints every value beside the threshold it was held to.
type Thresholds struct {
	// Commutator is the largest ‖CH − HC‖_F/(‖C‖_F‖H‖_F) at θ* for which C and H are called
	// commuting (the note's field can then have zero current, MATH.md §5); default 0.05.
	Commutator float64 `toml:"commutator" json:"commutator"`
	// Asymmetry is the largest Jacobian asymmetry ‖J − Jᵀ‖_F/‖J‖_F of the note's score field
	// for which it is called a gradient field; default 0.05.
	Asymmetry float64 `toml:"asymmetry" json:"asymmetry"`
	// Divergence is the largest ‖s_gen − s_st‖/‖s_st‖ for which the diffusion is called
	// constant enough for the note's score (MATH.md §5); default 0.1.
	Divergence float64 `toml:"divergence" json:"divergence"`
	// Kurtosis is the largest |excess kurtosis| of the projected mini-batch noise for which
	// the noise is called Gaussian; default 1.
	Kurtosis float64 `toml:"kurtosis" json:"kurtosis"`
	// Current is the largest stationary current max|J|/max|μp| of a 2-D landscape for which
	// the current is called zero (the Fokker–Planck solver's discretisation error is far
	// smaller); default 0.05.
	Current float64 `toml:"current" json:"current"`
}

// Thresholds' defaults.
const (
	DefaultCommutator = 0.05
	DefaultAsymmetry  = 0.05
	DefaultDivergence = 0.1
	DefaultKurtosis   = 1.0
	DefaultCurrent    = 0.05
)

// Problem is one model on one data set (or a matrix of per-example gradients): a full-batch
// minimisation (`train --method lbfgs`), the note's quantities there for every (η, B)
// (`score`), and SGD's stationary distribution for every (η, B, simulator) (`verify`).
type Problem struct {
	// Name identifies the problem: letters, digits, '.', '_' and '-', not one of the
	// output directory's own names (CheckName); it names the problem's directory in the
	// output. Required and unique.
	Name string `toml:"name" json:"name"`
	// Title is the problem's heading in the report; default Name.
	Title string `toml:"title" json:"title,omitempty"`
	// Note is free text printed under the heading (e.g. why a weight decay is needed).
	Note string `toml:"note" json:"note,omitempty"`

	// The problem flags of every command (see `sgdprior help train`). Data and Model are
	// required unless Grads is set. Relative file names are relative to the study file's
	// directory.
	Data        string `toml:"data" json:"data,omitempty"`
	Target      string `toml:"target" json:"target,omitempty"`
	Labels      string `toml:"labels" json:"labels,omitempty"`
	Split       string `toml:"split" json:"split,omitempty"`
	Standardize *bool  `toml:"standardize" json:"standardize,omitempty"` // default true
	// Test is a test set's source (like data) and TestLabels its .npy targets; Holdout a
	// fraction in (0, 1) of data held out as the test set instead, drawn with HoldoutSeed
	// (default problem.DefaultHoldoutSeed). See problem.Spec.
	Test        string  `toml:"test" json:"test,omitempty"`
	TestLabels  string  `toml:"test_labels" json:"test_labels,omitempty"`
	Holdout     float64 `toml:"holdout" json:"holdout,omitempty"`
	HoldoutSeed *uint64 `toml:"holdout_seed" json:"holdout_seed,omitempty"`
	// Subsample keeps a random Subsample of the training examples, stratified by class
	// (problem.Spec.Subsample); 0: all.
	Subsample int     `toml:"subsample" json:"subsample,omitempty"`
	Model     string  `toml:"model" json:"model,omitempty"`
	Act       string  `toml:"act" json:"act,omitempty"`   // default tanh
	Task      string  `toml:"task" json:"task,omitempty"` // default classify
	Sigma     float64 `toml:"sigma" json:"sigma,omitempty"`
	// WeightDecay is λ in r(θ) = (λ/2)‖θ‖²; separable data needs λ > 0 for a finite
	// minimum (MATH.md §1). Default 0.
	WeightDecay float64 `toml:"weight_decay" json:"weight_decay"`
	// Sampling is the mini-batch scheme: with, without (default) or reshuffle.
	Sampling string `toml:"sampling" json:"sampling,omitempty"`
	// Seed overrides the study's seed.
	Seed *uint64 `toml:"seed" json:"seed,omitempty"`

	// Grads, Hessian and N bring your own gradients (`score --grads G.npy --hessian H.npy
	// --n N`): per-example gradients of the NLL (M×d) and the Hessian of the mean objective
	// (d×d) exported from another framework. Such a problem has only score steps (there is
	// no model to run SGD on) and must not set Data or Model.
	Grads   string `toml:"grads" json:"grads,omitempty"`
	Hessian string `toml:"hessian" json:"hessian,omitempty"`
	N       int    `toml:"n" json:"n,omitempty"`

	// Settings are the grids and run lengths, everything --quick may override.
	Settings
	// Quick holds the settings that replace these under `sgdprior run --quick`.
	Quick *ProblemQuick `toml:"quick" json:"quick,omitempty"`
}

// ProblemQuick is a problem's quick table: its settings and, optionally, a smaller model.
type ProblemQuick struct {
	Settings
	// Model, if set, replaces the problem's model under --quick (e.g. a narrower MLP for
	// the real-network steps).
	Model string `toml:"model" json:"model,omitempty"`
	// Subsample, if set, replaces the problem's subsample under --quick (fewer training
	// examples for a large data set).
	Subsample int `toml:"subsample" json:"subsample,omitempty"`
}

// Settings are the grid and run-length settings of a problem or a landscape; under --quick
// each set field of an entry's Quick table replaces the entry's own.
type Settings struct {
	// LR is the grid of learning rates η; at least one for problems. For landscapes only
	// LR[0] is used (default the preset's).
	LR []float64 `toml:"lr" json:"lr,omitempty"`
	// Batch is the grid of batch sizes B; at least one for problems. For landscapes only
	// Batch[0] is used (default the preset's).
	Batch []int `toml:"batch" json:"batch,omitempty"`
	// Simulators are the dynamics to simulate. For a problem, verify runs once for every
	// (η, B, simulator): sgd, gauss, sde or sgld; empty means no verify step. For a
	// landscape they are passed together (--simulators): sgd, gauss, sde; empty means the
	// command's default (sgd).
	Simulators []string `toml:"simulators" json:"simulators,omitempty"`
	// Chains and Steps configure the chains (--chains, --steps); Burnin and Thin (problems
	// only) verify's --burnin and --thin. Steps, Burnin and Thin count SGD steps, i.e.
	// simulated time: for the sde simulator the study divides them by DT, so that every
	// simulator covers the same time. Unset means the command's default.
	Chains *int `toml:"chains" json:"chains,omitempty"`
	Steps  *int `toml:"steps" json:"steps,omitempty"`
	Burnin *int `toml:"burnin" json:"burnin,omitempty"`
	Thin   *int `toml:"thin" json:"thin,omitempty"`
	// DT is the Euler–Maruyama step of the sde simulator (--dt); unset means the command's
	// default.
	DT *float64 `toml:"dt" json:"dt,omitempty"`
	// TopK is score's and verify's --top-k (the Hessian subspace for large d); zero means
	// the command's default.
	TopK *int `toml:"top_k" json:"top_k,omitempty"`
	// Subset is score's --subset M (estimate C from M examples); zero means all.
	Subset *int `toml:"subset" json:"subset,omitempty"`
	// Damping is λ of --damping; Inverse "range" with RCond selects --inverse range
	// --rcond r. Unset means the commands' defaults (a rank-deficient C_B is then an error).
	Damping *float64 `toml:"damping" json:"damping,omitempty"`
	Inverse *string  `toml:"inverse" json:"inverse,omitempty"`
	RCond   *float64 `toml:"rcond" json:"rcond,omitempty"`
	// Divergence asks score for the general score's divergence term (--divergence).
	Divergence *bool `toml:"divergence" json:"divergence,omitempty"`
	// SweepLR and SweepBatch (landscapes only) span the grid of the well-share sweep
	// (--sweep-lr, --sweep-batch: every pair; a missing list means the entry's own η or B);
	// SweepSteps is each sweep point's simulated time per chain (--sweep-steps, default
	// Steps). Both empty means no sweep.
	SweepLR    []float64 `toml:"sweep_lr" json:"sweep_lr,omitempty"`
	SweepBatch []int     `toml:"sweep_batch" json:"sweep_batch,omitempty"`
	SweepSteps *int      `toml:"sweep_steps" json:"sweep_steps,omitempty"`
	// ExactOnly (landscapes only) computes the exact answers without simulating
	// (--exact-only).
	ExactOnly *bool `toml:"exact_only" json:"exact_only,omitempty"`

	// Track, Basins and Escape (problems with a model only) are the real-network steps:
	// each table holds the flags of its command (`sgdprior track`, `basins`, `escape`),
	// written without dashes ('_' may stand for '-'), with lists for list flags. The problem
	// supplies the problem flags, the sampling and the seed, so those keys are errors, as
	// is any key the command does not have. Track's lr may be a list: one track step per
	// η. Escape starts from the problem's full-batch minimum θ*. Under --quick each key of
	// a quick table replaces the same key of the entry's table.
	Track  map[string]any `toml:"track" json:"track,omitempty"`
	Basins map[string]any `toml:"basins" json:"basins,omitempty"`
	Escape map[string]any `toml:"escape" json:"escape,omitempty"`
}

// network reports whether a real-network table is set.
func (st *Settings) network() bool { return st.Track != nil || st.Basins != nil || st.Escape != nil }

// landscapeOnly reports whether a landscape-only setting is set.
func (st *Settings) landscapeOnly() bool {
	return st.SweepLR != nil || st.SweepBatch != nil || st.SweepSteps != nil || st.ExactOnly != nil
}

// Landscape is one `sgdprior landscape` run: a preset with its parameters.
type Landscape struct {
	// Name identifies the entry as Problem.Name does. Required and unique (also among
	// problems).
	Name string `toml:"name" json:"name"`
	// Title is the heading in the report; default Name.
	Title string `toml:"title" json:"title,omitempty"`
	// Note is free text printed under the heading.
	Note string `toml:"note" json:"note,omitempty"`
	// Preset is ou, multiplicative, wells, ou2d or wells2d. Required.
	Preset string `toml:"preset" json:"preset"`
	// Flags are the preset's own flags (wells, spread, var0, n, hess, var, var1, hess2,
	// noise2), passed as --key value in sorted order. Values are strings or numbers.
	Flags map[string]any `toml:"flags" json:"flags,omitempty"`
	// Sampling is the mini-batch scheme; default without.
	Sampling string `toml:"sampling" json:"sampling,omitempty"`
	// Seed overrides the study's seed.
	Seed *uint64 `toml:"seed" json:"seed,omitempty"`
	// Settings: LR[0], Batch[0], Simulators, Chains, Steps, DT, the sweep and ExactOnly are
	// used.
	Settings
	// Quick holds the settings that replace these under --quick.
	Quick *Settings `toml:"quick" json:"quick,omitempty"`
}

// Presets are the landscape presets the study file accepts.
var Presets = landscape.PresetNames

// Simulators are the verify simulators the study file accepts.
var Simulators = []string{"sgd", "gauss", "sde", "sgld"}

// reservedLandscapeFlags are the landscape flags the study sets itself.
var reservedLandscapeFlags = []string{"preset", "lr", "batch", "sampling", "seed", "chains", "steps", "simulators", "dt",
	"sweep-lr", "sweep-batch", "sweep-steps", "exact-only", "json"}

// landscapeSimulators are the simulators a landscape accepts.
var landscapeSimulators = []string{"sgd", "gauss", "sde"}

// Load reads and parses a study file.
//
// Relative file names in it become absolute (against the study file's directory), so that
// each step's command line reproduces it from the output directory.
func Load(path string) (*Study, error) {
	b, dir, err := readStudyFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b, path, dir)
}

// readStudyFile reads a study file and the absolute directory its relative file names are
// resolved against.
func readStudyFile(path string) (text []byte, dir string, err error) {
	if text, err = os.ReadFile(path); err != nil {
		return nil, "", err
	}
	if dir, err = filepath.Abs(filepath.Dir(path)); err != nil {
		return nil, "", err
	}
	return text, dir, nil
}

// FileError is an error in a study file's text: its syntax, an unknown key or an invalid
// value, named by the file and the line or the key. It is what the user typed (the command
// line exits with status 2 for it), unlike a file that cannot be read.
type FileError struct {
	// File names the study file; Msg says what is wrong where, on one line.
	File, Msg string
}

func (e *FileError) Error() string { return e.File + ": " + e.Msg }

// Parse parses a study file's text. name is used in errors; relative file names in the
// study (data, test, labels, test_labels, grads, hessian, with or without a source prefix
// such as idx: or csv:) are resolved against dir unless dir is "". Unknown keys, values of
// the wrong type and invalid settings are *FileError naming the line or the key.
func Parse(text []byte, name, dir string) (*Study, error) {
	var s Study
	md, err := toml.NewDecoder(bytes.NewReader(text)).Decode(&s)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &FileError{name, fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)}
		}
		return nil, &FileError{name, err.Error()}
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, &FileError{name, "unknown key " + strings.Join(keys, ", ")}
	}
	if err := checkSeeds(text); err != nil {
		return nil, &FileError{name, err.Error()}
	}
	if err := s.validate(); err != nil {
		return nil, &FileError{name, err.Error()}
	}
	if dir != "" {
		s.resolve(dir)
	}
	return &s, nil
}

// checkSeeds refuses a negative seed (seed, seeds, holdout_seed), which the TOML decoder would
// wrap into a huge uint64: a seed is an integer ≥ 0, as --seed requires. (TOML integers
// are int64, so the text is decoded a second time with signed seeds.)
func checkSeeds(text []byte) error {
	type entry struct {
		Name        string `toml:"name"`
		Seed        *int64 `toml:"seed"`
		HoldoutSeed *int64 `toml:"holdout_seed"`
	}
	var raw struct {
		Seed       *int64  `toml:"seed"`
		Seeds      []int64 `toml:"seeds"`
		Problems   []entry `toml:"problem"`
		Landscapes []entry `toml:"landscape"`
	}
	if _, err := toml.Decode(string(text), &raw); err != nil {
		return err
	}
	check := func(key string, v *int64) error {
		if v != nil && *v < 0 {
			return field.Errorf(key, "must be ≥ 0, not %d", *v)
		}
		return nil
	}
	if err := check("seed", raw.Seed); err != nil {
		return err
	}
	for _, v := range raw.Seeds {
		if err := check("seeds", &v); err != nil {
			return err
		}
	}
	for _, k := range []struct {
		kind    string
		entries []entry
	}{{"problem", raw.Problems}, {"landscape", raw.Landscapes}} {
		kind := k.kind
		for i, e := range k.entries {
			for _, err := range []error{check("seed", e.Seed), check("holdout_seed", e.HoldoutSeed)} {
				if err != nil {
					if e.Name == "" {
						return fmt.Errorf("%s %d: %s", kind, i+1, field.As(err).TOML())
					}
					return fmt.Errorf("%s %q: %s", kind, e.Name, field.As(err).TOML())
				}
			}
		}
	}
	return nil
}

func (s *Study) validate() error {
	if len(s.Problems) == 0 && len(s.Landscapes) == 0 {
		return errors.New("the study has no [[problem]] and no [[landscape]]")
	}
	if err := s.Thresholds.validate(); err != nil {
		return err
	}
	if err := s.Slurm.validate(); err != nil {
		return err
	}
	if _, err := s.entryNames(); err != nil {
		return err
	}
	if err := s.validateSeeds(); err != nil {
		if se, ok := err.(*entrySeedError); ok {
			return fmt.Errorf("%s %q: seed is not allowed beside the study's seeds (%d seeds replicate every entry; its own seed would make them one run)", se.kind, se.name, len(s.Seeds))
		}
		return errors.New(field.As(err).TOML())
	}
	for i := range s.Problems {
		p := &s.Problems[i]
		if err := p.validate(); err != nil {
			return fmt.Errorf("problem %q: %v", p.Name, err)
		}
	}
	for i := range s.Landscapes {
		l := &s.Landscapes[i]
		if err := l.validate(); err != nil {
			return fmt.Errorf("landscape %q: %v", l.Name, err)
		}
	}
	if err := s.validateSteps(); err != nil {
		return err
	}
	// The quick tables' steps too, so that a bad quick value is found without --quick.
	if q := s.withQuick(); q != nil {
		if err := q.validateSteps(); err != nil {
			return fmt.Errorf("quick: %v", err)
		}
	}
	return nil
}

// entrySeedError is an entry that sets its own seed in a study with two or more seeds.
type entrySeedError struct{ kind, name string }

func (e *entrySeedError) Error() string {
	return fmt.Sprintf("%s %q sets its own seed", e.kind, e.name)
}

// validateSeeds checks Seeds against Seed and the entries' own seeds (the rules of
// Study.Seeds): a *field.Error keyed "seeds", or an *entrySeedError.
func (s *Study) validateSeeds() error {
	if s.Seeds == nil {
		return nil
	}
	if len(s.Seeds) == 0 {
		return field.Errorf("seeds", "needs at least one seed")
	}
	for i, x := range s.Seeds {
		if slices.Contains(s.Seeds[:i], x) {
			return field.Errorf("seeds", "holds %d twice (each seed is one replicate)", x)
		}
	}
	if s.Seed != nil && !(len(s.Seeds) == 1 && s.Seeds[0] == *s.Seed) {
		return field.Errorf("seeds", "and seed exclude each other (seeds replaces seed; give one of them)")
	}
	if len(s.Seeds) < 2 {
		return nil
	}
	for _, p := range s.Problems {
		if p.Seed != nil {
			return &entrySeedError{"problem", p.Name}
		}
		if _, own := p.Basins["seeds"]; p.Basins != nil && !own && len(s.Seeds) < basins.MinSeeds {
			return field.Errorf("seeds", "gives problem %q's basins table (which has no seeds key) %d seeds, but basins needs ≥ %d: give %d or more, or set basins.seeds",
				p.Name, len(s.Seeds), basins.MinSeeds, basins.MinSeeds)
		}
	}
	for _, l := range s.Landscapes {
		if l.Seed != nil {
			return &entrySeedError{"landscape", l.Name}
		}
	}
	return nil
}

// WithSeeds returns a copy of s replicated over seeds (`sgdprior run --seeds`): Seeds set to
// seeds and Seed cleared (the flag replaces the study file's seed and seeds), validated
// again. Its errors are *field.Error keyed "seeds", written for the command line by Flag
// ("--seeds holds 3 twice"): an empty list, a duplicate seed, an entry with its own seed
// while there are two or more seeds, or a study the seeds make invalid (a basins table
// without its own seeds takes the study's, and basins needs at least basins.MinSeeds).
func (s *Study) WithSeeds(seeds []uint64) (*Study, error) {
	if len(seeds) == 0 {
		return nil, field.Errorf("seeds", "needs at least one seed")
	}
	c := s.clone()
	c.Seed, c.Seeds = nil, slices.Clone(seeds)
	if err := c.validateSeeds(); err != nil {
		if se, ok := err.(*entrySeedError); ok {
			return nil, field.Errorf("seeds", "replicates every entry, but %s %q sets its own seed (remove it from the study file)", se.kind, se.name)
		}
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, field.Errorf("seeds", "makes the study invalid: %v", err)
	}
	return c, nil
}

func (t Thresholds) validate() error {
	for _, f := range []struct {
		key string
		v   float64
	}{{"commutator", t.Commutator}, {"asymmetry", t.Asymmetry}, {"divergence", t.Divergence}, {"kurtosis", t.Kurtosis}, {"current", t.Current}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("thresholds.%s must be ≥ 0 and finite, not %v", f.key, f.v)
		}
	}
	return nil
}

// WithDefaults returns t with zero fields replaced by their defaults.
func (t Thresholds) WithDefaults() Thresholds {
	if t.Commutator == 0 {
		t.Commutator = DefaultCommutator
	}
	if t.Asymmetry == 0 {
		t.Asymmetry = DefaultAsymmetry
	}
	if t.Divergence == 0 {
		t.Divergence = DefaultDivergence
	}
	if t.Kurtosis == 0 {
		t.Kurtosis = DefaultKurtosis
	}
	if t.Current == 0 {
		t.Current = DefaultCurrent
	}
	return t
}

func (p *Problem) validate() error {
	if p.Grads != "" {
		if p.Data != "" || p.Model != "" || p.Test != "" || p.Holdout != 0 || p.Subsample != 0 {
			return errors.New("grads excludes data, model, test, holdout and subsample (the gradients replace them)")
		}
		if len(p.Simulators) > 0 || (p.Quick != nil && len(p.Quick.Simulators) > 0) {
			return errors.New("simulators need a model: a problem with grads has only score steps")
		}
		if p.Quick != nil && p.Quick.Model != "" {
			return errors.New("quick.model: a problem with grads has no model")
		}
		if p.Quick != nil && p.Quick.Subsample != 0 {
			return errors.New("quick.subsample: a problem with grads has no data to subsample")
		}
		if p.network() || (p.Quick != nil && p.Quick.network()) {
			return errors.New("track, basins and escape need a model: a problem with grads has only score steps")
		}
	} else {
		if p.Data == "" {
			return errors.New("data is required (or grads)")
		}
		if p.Model == "" {
			return errors.New("model is required (or grads)")
		}
		if p.Hessian != "" || p.N != 0 {
			return errors.New("hessian and n go with grads")
		}
	}
	if p.Sampling != "" && !slices.Contains([]string{"with", "without", "reshuffle"}, p.Sampling) {
		return fmt.Errorf("sampling must be with, without or reshuffle, not %q", p.Sampling)
	}
	if p.WeightDecay < 0 || math.IsNaN(p.WeightDecay) || math.IsInf(p.WeightDecay, 0) {
		return fmt.Errorf("weight_decay must be ≥ 0 and finite, not %v", p.WeightDecay)
	}
	if p.Sigma < 0 || math.IsNaN(p.Sigma) || math.IsInf(p.Sigma, 0) {
		return fmt.Errorf("sigma must be > 0 and finite, not %v", p.Sigma)
	}
	if p.N < 0 {
		return fmt.Errorf("n must be ≥ 1, not %d", p.N)
	}
	if err := p.Settings.validate(""); err != nil {
		return err
	}
	// A problem with real-network tables may have no score grid.
	if len(p.LR) == 0 && (len(p.Batch) > 0 || !p.network()) {
		return errors.New("lr: give at least one learning rate")
	}
	if len(p.Batch) == 0 && (len(p.LR) > 0 || !p.network()) {
		return errors.New("batch: give at least one batch size")
	}
	if err := p.checkNetwork(&p.Settings, ""); err != nil {
		return err
	}
	if p.Settings.landscapeOnly() {
		return errors.New("sweep_lr, sweep_batch, sweep_steps and exact_only belong to landscapes")
	}
	if p.Quick != nil {
		if err := p.Quick.validate("quick."); err != nil {
			return err
		}
		if p.Quick.landscapeOnly() {
			return errors.New("quick: sweep_lr, sweep_batch, sweep_steps and exact_only belong to landscapes")
		}
		if err := p.checkNetwork(&p.Quick.Settings, "quick."); err != nil {
			return err
		}
	}
	return nil
}

func (l *Landscape) validate() error {
	if l.Preset == "" {
		return fmt.Errorf("preset is required (%s)", strings.Join(Presets, ", "))
	}
	if !slices.Contains(Presets, l.Preset) {
		return fmt.Errorf("preset must be one of %s, not %q", strings.Join(Presets, ", "), l.Preset)
	}
	if l.Sampling != "" && !slices.Contains([]string{"with", "without", "reshuffle"}, l.Sampling) {
		return fmt.Errorf("sampling must be with, without or reshuffle, not %q", l.Sampling)
	}
	for k, v := range l.Flags {
		if strings.HasPrefix(k, "-") || k == "" {
			return fmt.Errorf("flags.%s: write flag names without dashes", k)
		}
		if slices.Contains(reservedLandscapeFlags, k) {
			return fmt.Errorf("flags.%s: the study sets --%s itself; use the entry's own key", k, k)
		}
		if _, err := flagValue(v); err != nil {
			return fmt.Errorf("flags.%s: %v", k, err)
		}
	}
	if _, err := presetSettings(l); err != nil {
		return err
	}
	check := func(prefix string, st *Settings) error {
		if err := st.validate(prefix); err != nil {
			return err
		}
		if len(st.LR) > 1 || len(st.Batch) > 1 {
			return fmt.Errorf("%slr and %sbatch: a landscape takes one learning rate and one batch size (use sweep for a grid)", prefix, prefix)
		}
		for _, m := range st.Simulators {
			if !slices.Contains(landscapeSimulators, m) {
				return fmt.Errorf("%ssimulators: a landscape simulates %s, not %q", prefix, strings.Join(landscapeSimulators, ", "), m)
			}
		}
		if st.network() {
			return fmt.Errorf("%strack, %sbasins and %sescape belong to problems", prefix, prefix, prefix)
		}
		if st.Burnin != nil || st.Thin != nil || st.TopK != nil || st.Subset != nil || st.Damping != nil || st.Inverse != nil || st.RCond != nil || st.Divergence != nil {
			return fmt.Errorf("%sburnin, thin, top_k, subset, damping, inverse, rcond and divergence belong to problems", prefix)
		}
		return nil
	}
	if err := check("", &l.Settings); err != nil {
		return err
	}
	if l.Quick != nil {
		return check("quick.", l.Quick)
	}
	return nil
}

// validate checks what is particular to the study file: the simulators' names, the
// inverse's spelling, and the relations between keys as the file states them (burn-in
// against steps before the SDE's conversion, damping against inverse). The range of each
// value is the library's rule, checked on the expanded steps (Study.validateSteps).
func (st *Settings) validate(prefix string) error {
	for _, m := range st.Simulators {
		if !slices.Contains(Simulators, m) {
			return fmt.Errorf("%ssimulators: %q is not one of %s", prefix, m, strings.Join(Simulators, ", "))
		}
	}
	if st.Burnin != nil && st.Steps != nil && *st.Burnin >= *st.Steps {
		return fmt.Errorf("%sburnin %d must be smaller than %ssteps %d", prefix, *st.Burnin, prefix, *st.Steps)
	}
	if st.Inverse != nil && *st.Inverse != "range" && *st.Inverse != "" {
		return fmt.Errorf("%sinverse must be \"range\" (or absent), not %q", prefix, *st.Inverse)
	}
	if st.Damping != nil && *st.Damping > 0 && st.Inverse != nil && *st.Inverse == "range" {
		return fmt.Errorf("%sdamping and %sinverse = \"range\" exclude each other", prefix, prefix)
	}
	return nil
}

// resolve makes relative file names relative to dir. A data source keeps its prefix
// (data.SplitSource) and an embedded data set's name stays a name; the path after the prefix
// is resolved like any file name, and an absolute one is kept.
func (s *Study) resolve(dir string) {
	file := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	source := func(src string) string {
		if src == "" || slices.Contains(data.EmbeddedNames(), src) {
			return src
		}
		pre, rest := data.SplitSource(src)
		return pre + file(rest)
	}
	for i := range s.Problems {
		p := &s.Problems[i]
		p.Data, p.Test = source(p.Data), source(p.Test)
		p.TestLabels = file(p.TestLabels)
		p.Labels, p.Grads, p.Hessian = file(p.Labels), file(p.Grads), file(p.Hessian)
	}
}

// Quick returns a copy of s with every entry's Quick settings applied (and Quick
// cleared). The result is validated again: a quick table can make settings inconsistent
// (a burn-in longer than the run).
func (s *Study) Quick() (*Study, error) {
	q := s.applyQuick()
	if err := q.validate(); err != nil {
		return nil, fmt.Errorf("with --quick: %v", err)
	}
	return q, nil
}

// withQuick returns s with its quick tables applied when it has any, or nil.
func (s *Study) withQuick() *Study {
	for i := range s.Problems {
		if s.Problems[i].Quick != nil {
			return s.applyQuick()
		}
	}
	for i := range s.Landscapes {
		if s.Landscapes[i].Quick != nil {
			return s.applyQuick()
		}
	}
	return nil
}

// applyQuick returns a copy of s with every entry's Quick settings applied (and Quick
// cleared), not validated.
func (s *Study) applyQuick() *Study {
	q := s.clone()
	for i := range q.Problems {
		p := &q.Problems[i]
		if p.Quick != nil {
			p.Settings.override(&p.Quick.Settings)
			if p.Quick.Model != "" {
				p.Model = p.Quick.Model
			}
			if p.Quick.Subsample != 0 {
				p.Subsample = p.Quick.Subsample
			}
			p.Quick = nil
		}
	}
	for i := range q.Landscapes {
		l := &q.Landscapes[i]
		if l.Quick != nil {
			l.Settings.override(l.Quick)
			l.Quick = nil
		}
	}
	return q
}

// clone returns a copy of s that shares no slices or maps with it (pointer fields point
// to values that are never modified in place).
func (s *Study) clone() *Study {
	c := *s
	c.Seeds = slices.Clone(s.Seeds)
	c.Problems = slices.Clone(s.Problems)
	for i := range c.Problems {
		c.Problems[i].Settings = c.Problems[i].Settings.clone()
	}
	c.Landscapes = slices.Clone(s.Landscapes)
	for i := range c.Landscapes {
		c.Landscapes[i].Settings = c.Landscapes[i].Settings.clone()
		if s.Landscapes[i].Flags != nil {
			m := make(map[string]any, len(s.Landscapes[i].Flags))
			for k, v := range s.Landscapes[i].Flags {
				m[k] = v
			}
			c.Landscapes[i].Flags = m
		}
	}
	return &c
}

func (st Settings) clone() Settings {
	st.LR = slices.Clone(st.LR)
	st.Batch = slices.Clone(st.Batch)
	st.Simulators = slices.Clone(st.Simulators)
	st.SweepLR = slices.Clone(st.SweepLR)
	st.SweepBatch = slices.Clone(st.SweepBatch)
	st.Track, st.Basins, st.Escape = maps.Clone(st.Track), maps.Clone(st.Basins), maps.Clone(st.Escape)
	return st
}

// override replaces st's fields with q's set ones.
func (st *Settings) override(q *Settings) {
	if q.LR != nil {
		st.LR = slices.Clone(q.LR)
	}
	if q.Batch != nil {
		st.Batch = slices.Clone(q.Batch)
	}
	if q.Simulators != nil {
		st.Simulators = slices.Clone(q.Simulators)
	}
	set := func(dst **int, src *int) {
		if src != nil {
			*dst = src
		}
	}
	set(&st.Chains, q.Chains)
	set(&st.Steps, q.Steps)
	set(&st.Burnin, q.Burnin)
	set(&st.Thin, q.Thin)
	set(&st.TopK, q.TopK)
	set(&st.Subset, q.Subset)
	if q.DT != nil {
		st.DT = q.DT
	}
	if q.Damping != nil {
		st.Damping = q.Damping
	}
	if q.Inverse != nil {
		st.Inverse = q.Inverse
	}
	if q.RCond != nil {
		st.RCond = q.RCond
	}
	if q.Divergence != nil {
		st.Divergence = q.Divergence
	}
	if q.SweepLR != nil {
		st.SweepLR = slices.Clone(q.SweepLR)
	}
	if q.SweepBatch != nil {
		st.SweepBatch = slices.Clone(q.SweepBatch)
	}
	set(&st.SweepSteps, q.SweepSteps)
	if q.ExactOnly != nil {
		st.ExactOnly = q.ExactOnly
	}
	merge := func(dst *map[string]any, src map[string]any) {
		if src == nil {
			return
		}
		m := maps.Clone(*dst)
		if m == nil {
			m = map[string]any{}
		}
		maps.Copy(m, src)
		*dst = m
	}
	merge(&st.Track, q.Track)
	merge(&st.Basins, q.Basins)
	merge(&st.Escape, q.Escape)
}

// flagValue formats a landscape flag value from the study file; a list (real-network
// tables) is its elements joined by commas.
func flagValue(v any) (string, error) {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if _, ok := e.([]any); ok {
				return "", errors.New("a list may not hold lists")
			}
			f, err := flagValue(e)
			if err != nil {
				return "", err
			}
			parts[i] = f
		}
		return strings.Join(parts, ","), nil
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("%v is not a finite number", x)
		}
		return fmtFloat(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("a flag value must be a string, a number, a boolean or a list of them, not %T", v)
}

// fmtFloat formats x exactly (shortest representation that parses back to x).
func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// sortedKeys returns m's keys in sorted order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
