package study

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/escape"
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/track"
	"github.com/sgdprior/sgdprior/train"
	"github.com/sgdprior/sgdprior/verify"
)

// Step kinds, which are also the names of the subcommands that reproduce them.
const (
	KindTrain     = "train"
	KindScore     = "score"
	KindVerify    = "verify"
	KindLandscape = "landscape"
	KindTrack     = "track"
	KindBasins    = "basins"
	KindEscape    = "escape"
)

// Step is one computation of a study, with the typed settings of the library call that
// runs it (Exec). Paths are relative to the output directory.
type Step struct {
	// ID is unique within the study: "<entry>/<file stem>" (with "-seed<s>" for a
	// replicated step).
	ID string `json:"id"`
	// Base is, for a replicated step (Replicate), its ID without the "-seed<s>" suffix: the
	// replicates of one computation share it (Summarize aggregates their verdicts). "" for a
	// step that is not replicated; a replicated step of seed 0 has Replicate 0 and a Base.
	Base string `json:"base,omitempty"`
	// Entry is the name of the problem or landscape the step belongs to.
	Entry string `json:"entry"`
	// Command is the step's kind, the subcommand that reproduces it with Args (rendered
	// from the settings by CommandLine, for provenance only: run from the output directory,
	// `sgdprior Command Args...` reproduces the step).
	Command string   `json:"command"`
	Args    []string `json:"args"`
	// JSON is the step's output file, relative to the output directory.
	JSON string `json:"json"`
	// Title describes the step for progress and the report.
	Title string `json:"title"`
	// LR, Batch and Simulator locate score and verify steps in their grid (zero for the
	// others); they are the values of the step's settings, not a second copy.
	LR        float64 `json:"lr,omitempty"`
	Batch     int     `json:"batch,omitempty"`
	Simulator string  `json:"simulator,omitempty"`
	Replicate uint64  `json:"replicate,omitempty"` // the seed of a replicated step (a study with ≥ 2 seeds); 0 otherwise

	// The typed settings (not in results.json, which holds Args instead).
	Spec  *problem.Spec `json:"-"` // train, score and verify on a model
	Seed  uint64        `json:"-"`
	Theta string        `json:"-"` // θ* file: written by train, read by score and verify (optional for verify: without it verify minimises first)
	Init  string        `json:"-"` // train: the initial parameters (.npy); "" for model.InitParams from the seed
	// Exactly one of these is set, by Command.
	Train *train.RunSettings `json:"-"`
	Score *score.Settings    `json:"-"`
	Grads *score.GradsFiles  `json:"-"` // score on bring-your-own gradients (Spec nil)
	// GradsWeightDecay is the λ the gradients' objective has (score with Grads).
	GradsWeightDecay float64                   `json:"-"`
	Verify           *verify.Settings          `json:"-"`
	Landscape        *landscape.Settings       `json:"-"`
	Preset           *landscape.PresetSettings `json:"-"`
	// The real-network steps: SGD's trajectory (Init its θ0, "" for the seed's), the
	// minima over η × B × seeds, escapes from θ* (Theta).
	Track  *track.Settings  `json:"-"`
	Basins *basins.Settings `json:"-"`
	Escape *escape.Settings `json:"-"`
}

// Point is the grid point of a score or verify step, "lr<η>-B<B>": a verify step belongs
// to the score step of the same entry and point (a join on the step's own settings, never
// on floats decoded from two outputs).
func (s *Step) Point() string { return gridTag(s.LR, s.Batch) }

// replicate names one seed's replicate of a study with two or more seeds: the seed and
// the suffix "-seed<s>" of its steps' IDs, JSON files and θ* file. The zero value (on a
// replicate flag of false) is the single run of a study with at most one seed.
type replicate struct {
	on   bool
	seed uint64
}

// suffix is "-seed<s>", or "" for the single run.
func (r replicate) suffix() string {
	if !r.on {
		return ""
	}
	return "-seed" + strconv.FormatUint(r.seed, 10)
}

// thetaFileOf is the file, relative to the output directory, that the train step of the
// problem's replicate writes θ* to: "<problem>/theta-star.npy" for the single run,
// "<problem>/theta-star-seed<s>.npy" for seed s's.
func thetaFileOf(problem string, r replicate) string {
	return filepath.Join(problem, "theta-star"+r.suffix()+".npy")
}

// apply makes st, of entry and file stem stem, the replicate's: the suffix on its ID and
// JSON file and " (seed s)" on its title, its Replicate and Base set (nothing for the single
// run).
func (r replicate) apply(st *Step, entry, stem string) {
	if !r.on {
		return
	}
	st.ID, st.JSON = entry+"/"+stem+r.suffix(), filepath.Join(entry, stem+r.suffix()+".json")
	st.Title += fmt.Sprintf(" (seed %d)", r.seed)
	st.Replicate, st.Base = r.seed, entry+"/"+stem
}

// InReplicate reports whether the step belongs to seed's replicate of a replicated study:
// it is that seed's, or not replicated (basins, which every replicate shares).
func (s *Step) InReplicate(seed uint64) bool { return s.Base == "" || s.Replicate == seed }

// Replicates are the seeds a study replicates its stochastic steps over: Seeds when it
// holds two or more, nil otherwise (the study runs once).
func (s *Study) Replicates() []uint64 {
	if len(s.Seeds) < 2 {
		return nil
	}
	return slices.Clone(s.Seeds)
}

// Steps expands the study into its steps, in an order in which every step comes after the
// steps whose files it reads: for each problem a full-batch minimisation (train), then
// score for every (η, B), then verify for every (η, B, simulator), then the real-network
// steps (track, basins, escape); then each landscape. A problem with Grads has only score
// steps.
//
// A study with two or more seeds (Replicates) repeats every stochastic step once per seed:
// step s of seed s has ID "<entry>/<stem>-seed<s>", JSON "<entry>/<stem>-seed<s>.json",
// Replicate s and Base "<entry>/<stem>", and a problem's θ* of seed s is
// "<entry>/theta-star-seed<s>.npy", read by the score, verify and escape steps of the same
// seed. A problem's steps are then seed s1's block (train, score, verify, track, escape, in
// the order above), then s2's, and so on, then the basins step once (it replicates over
// its own seeds: those of its table, else the study's; its bootstrap seed is s1), so that a
// block depends only on its own train step. A landscape's replicates follow each other in the order of the seeds. With at most
// one seed the steps are the single run's, unchanged.
func (s *Study) Steps() []Step {
	var steps []Step
	reps := s.Replicates()
	for i := range s.Problems {
		p := &s.Problems[i]
		if reps == nil {
			steps = append(steps, s.problemSteps(p, s.seed(p.Seed), replicate{})...)
			continue
		}
		var bas []Step
		for k, seed := range reps {
			for _, st := range s.problemSteps(p, seed, replicate{true, seed}) {
				switch {
				case st.Command != KindBasins:
					steps = append(steps, st)
				case k == 0:
					bas = append(bas, st)
				}
			}
		}
		steps = append(steps, bas...)
	}
	for i := range s.Landscapes {
		l := &s.Landscapes[i]
		if reps == nil {
			steps = append(steps, s.landscapeStep(l))
			continue
		}
		for _, seed := range reps {
			steps = append(steps, s.landscapeStepOf(l, seed, replicate{true, seed}))
		}
	}
	for i := range steps {
		steps[i].Args = steps[i].render()
	}
	return steps
}

// seed is the seed of an entry's single run: its own, else the study's seed, else the one
// seed of Seeds, else 1.
func (s *Study) seed(own *uint64) uint64 {
	switch {
	case own != nil:
		return *own
	case s.Seed != nil:
		return *s.Seed
	case len(s.Seeds) == 1:
		return s.Seeds[0]
	}
	return 1
}

// spec is the problem.Spec of p.
func (p *Problem) spec() *problem.Spec {
	sp := problem.DefaultSpec()
	sp.Data, sp.Target, sp.Labels, sp.Split, sp.Model = p.Data, p.Target, p.Labels, p.Split, p.Model
	if p.Standardize != nil {
		sp.Standardize = *p.Standardize
	}
	if p.Act != "" {
		sp.Act = p.Act
	}
	if p.Task != "" {
		sp.Task = p.Task
	}
	if p.Sigma > 0 {
		sp.Sigma = p.Sigma
	}
	sp.WeightDecay = p.WeightDecay
	sp.Test, sp.TestLabels, sp.Holdout, sp.Subsample = p.Test, p.TestLabels, p.Holdout, p.Subsample
	if p.HoldoutSeed != nil {
		sp.HoldoutSeed = *p.HoldoutSeed
	}
	return &sp
}

// sampling is the problem's or landscape's scheme (validated by Parse).
func sampling(name string) noise.Sampling {
	if name == "" {
		return noise.Without
	}
	s, err := noise.ParseSampling(name)
	if err != nil {
		panic("study: " + err.Error()) // validated by Parse
	}
	return s
}

// inverse is the inverse of C_B the settings choose.
func inverse(st *Settings, base linalg.InverseSettings) linalg.InverseSettings {
	if st.Damping != nil && *st.Damping > 0 {
		base.Damping = *st.Damping
	}
	if st.Inverse != nil && *st.Inverse == "range" {
		base.Range = true
		if st.RCond != nil {
			base.RCond = *st.RCond
		}
	}
	return base
}

func gridTag(lr float64, b int) string {
	return "lr" + fmtFloat(lr) + "-B" + strconv.Itoa(b)
}

// problemSteps are the steps of problem p run with seed: the single run (rep off) or seed's
// replicate, whose steps carry the replicate's suffix, Replicate and Base, except basins
// (which the caller keeps once, with the study's seeds unless its table sets seeds).
func (s *Study) problemSteps(p *Problem, seed uint64, rep replicate) (steps []Step) {
	theta := thetaFileOf(p.Name, rep)
	samp := sampling(p.Sampling)
	newStep := func(kind, stem, title string) Step {
		st := Step{ID: p.Name + "/" + stem, Entry: p.Name, Command: kind, JSON: filepath.Join(p.Name, stem+".json"),
			Title: title, Seed: seed}
		if kind != KindBasins {
			rep.apply(&st, p.Name, stem)
		}
		if p.Grads == "" {
			st.Spec, st.Theta = p.spec(), theta
		}
		return st
	}
	// A replicated study's basins step takes the study's seeds unless its table sets seeds.
	var basinsSeeds basins.SeedList
	if _, own := p.Basins["seeds"]; rep.on && !own {
		basinsSeeds = slices.Clone(s.Seeds)
	}
	if p.Grads == "" {
		st := newStep(KindTrain, "train", fmt.Sprintf("%s: full-batch minimum θ*", p.Name))
		set := train.DefaultRunSettings()
		set.Method, set.Sampling, set.Seed = train.MethodLBFGS, samp, seed
		st.Train = &set
		steps = append(steps, st)
	}
	for _, lr := range p.LR {
		for _, b := range p.Batch {
			st := newStep(KindScore, "score-"+gridTag(lr, b), fmt.Sprintf("%s: the note's quantities at θ*, η = %s, B = %d", p.Name, fmtFloat(lr), b))
			set := score.DefaultSettings()
			set.LR, set.Batch, set.Sampling, set.Seed = lr, b, samp, seed
			set.Inverse = inverse(&p.Settings, set.Inverse)
			if p.TopK != nil {
				set.TopK = *p.TopK
			}
			if p.Subset != nil {
				set.Subset = *p.Subset
			}
			set.Divergence = p.Divergence != nil && *p.Divergence
			st.Score = &set
			if p.Grads != "" {
				st.Grads = &score.GradsFiles{Grads: p.Grads, Hessian: p.Hessian, N: p.N}
			}
			st.LR, st.Batch = lr, b
			steps = append(steps, st)
		}
	}
	for _, lr := range p.LR {
		for _, b := range p.Batch {
			for _, m := range p.Simulators {
				st := newStep(KindVerify, "verify-"+gridTag(lr, b)+"-"+m, fmt.Sprintf("%s: %s stationary distribution, η = %s, B = %d", p.Name, m, fmtFloat(lr), b))
				set := p.verifySettings(lr, b, m, samp, seed)
				st.Verify = &set
				st.LR, st.Batch, st.Simulator = lr, b, m
				steps = append(steps, st)
			}
		}
	}
	return append(steps, p.networkSteps(samp, seed, basinsSeeds, newStep)...)
}

// verifySettings are the verify settings of problem p at (η, B) for simulator m.
func (p *Problem) verifySettings(lr float64, b int, m string, samp noise.Sampling, seed uint64) verify.Settings {
	set := verify.DefaultSettings()
	set.LR, set.Batch, set.Sampling, set.Seed = lr, b, samp, seed
	method, err := sim.ParseMethod(m)
	if err != nil {
		panic("study: " + err.Error()) // validated by Parse
	}
	set.Method = method
	if p.Chains != nil {
		set.Chains = *p.Chains
	}
	nSteps, nBurnin, nThin := p.Steps, p.Burnin, p.Thin
	if m == "sde" && p.DT != nil {
		// verify counts SDE steps of size dt: cover the same simulated time.
		nSteps, nBurnin, nThin = perDT(nSteps, *p.DT, 1), perDT(nBurnin, *p.DT, 0), perDT(nThin, *p.DT, 1)
		set.DT = *p.DT
	}
	if nSteps != nil {
		set.Steps = *nSteps
	}
	if nBurnin != nil {
		set.Burnin = *nBurnin
	}
	if nThin != nil {
		set.Thin = *nThin
	}
	set.Inverse = inverse(&p.Settings, set.Inverse)
	if p.TopK != nil {
		set.TopK = *p.TopK
	}
	return set
}

// landscapeStep is the landscape's single run.
func (s *Study) landscapeStep(l *Landscape) Step {
	return s.landscapeStepOf(l, s.seed(l.Seed), replicate{})
}

// landscapeStepOf is the landscape's step with seed: the single run (rep off) or seed's
// replicate.
func (s *Study) landscapeStepOf(l *Landscape, seed uint64, rep replicate) Step {
	ps, err := presetSettings(l)
	if err != nil {
		panic("study: " + err.Error()) // validated by Parse
	}
	set := landscape.DefaultSettings()
	if len(l.LR) > 0 {
		set.LR = l.LR[0]
	}
	if len(l.Batch) > 0 {
		set.Batch = l.Batch[0]
	}
	set.Sampling = sampling(l.Sampling)
	set.Seed = seed
	set.NoSim = l.ExactOnly != nil && *l.ExactOnly
	if len(l.Simulators) > 0 {
		if err := set.Methods.Set(strings.Join(l.Simulators, ",")); err != nil {
			panic("study: " + err.Error()) // validated by Parse
		}
	}
	if l.Chains != nil {
		set.Chains = *l.Chains
	}
	if l.Steps != nil {
		set.Time = *l.Steps
	}
	if l.DT != nil {
		set.DT = *l.DT
	}
	set.SweepLR = append(landscape.LRList(nil), l.SweepLR...)
	set.SweepBatch = append(landscape.BatchList(nil), l.SweepBatch...)
	if l.SweepSteps != nil {
		set.SweepTime = *l.SweepSteps
	}
	st := Step{ID: l.Name + "/landscape", Entry: l.Name, Command: KindLandscape, JSON: filepath.Join(l.Name, "landscape.json"),
		Title: fmt.Sprintf("%s: the %s landscape", l.Name, l.Preset), LR: set.LR, Batch: set.Batch, Seed: set.Seed,
		Landscape: &set, Preset: ps}
	rep.apply(&st, l.Name, "landscape")
	return st
}

// perDT converts a count of SGD steps into a count of SDE steps of size dt (rounded, at
// least lo); nil stays nil.
func perDT(n *int, dt float64, lo int) *int {
	if n == nil {
		return nil
	}
	v := max(lo, int(math.Round(float64(*n)/dt)))
	return &v
}

// presetSettings is the landscape's preset with its flags applied through the preset's own
// flag definitions (landscape.PresetSettings.BindFlags), validated.
func presetSettings(l *Landscape) (*landscape.PresetSettings, error) {
	ps := &landscape.PresetSettings{Name: l.Preset}
	fs := newFlagSet()
	ps.BindFlags(fs)
	for _, k := range sortedKeys(l.Flags) {
		v, err := flagValue(l.Flags[k])
		if err != nil {
			return nil, fmt.Errorf("flags.%s: %v", k, err)
		}
		if fs.Lookup(k) == nil || k == "preset" {
			return nil, fmt.Errorf("flags.%s: the %s preset has no flag --%s", k, l.Preset, k)
		}
		if err := fs.Set(k, v); err != nil {
			return nil, fmt.Errorf("flags.%s: %v", k, err)
		}
	}
	if err := ps.Validate(); err != nil {
		if fe := field.As(err); fe != nil {
			return nil, fmt.Errorf("flags.%s", fe.TOML())
		}
		return nil, err
	}
	return ps, nil
}

// validate checks the step's settings with the library's own rules (Validate of each
// settings type), so that the study file and the command line hold one rule each.
func (s *Step) validate() error {
	var checks []func() error
	if s.Spec != nil {
		checks = append(checks, s.Spec.Validate)
	}
	switch s.Command {
	case KindTrain:
		checks = append(checks, s.Train.Validate)
	case KindScore:
		checks = append(checks, s.Score.Validate)
		if s.Grads != nil {
			checks = append(checks, s.Grads.Validate)
		}
	case KindVerify:
		checks = append(checks, s.Verify.Validate)
	case KindLandscape:
		checks = append(checks, s.Landscape.Validate, s.Preset.Validate)
	case KindTrack:
		checks = append(checks, s.Track.Validate)
	case KindBasins:
		checks = append(checks, s.Basins.Validate)
	case KindEscape:
		checks = append(checks, s.Escape.Validate)
	}
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// validateSteps checks every step of the study with validate; an error names the entry and
// the study file's key of the setting. A problem without simulators has its chain settings
// checked on a verify step it does not run, so that an invalid value is never silent.
func (s *Study) validateSteps() error {
	steps := s.Steps()
	for i := range s.Problems {
		p := &s.Problems[i]
		if len(p.Simulators) == 0 && p.Grads == "" && len(p.LR) > 0 && len(p.Batch) > 0 {
			set := p.verifySettings(p.LR[0], p.Batch[0], "sgd", sampling(p.Sampling), s.seed(p.Seed))
			steps = append(steps, Step{Command: KindVerify, Entry: p.Name, Spec: p.spec(), Verify: &set})
		}
	}
	for _, st := range steps {
		if err := st.validate(); err != nil {
			kind := "problem"
			if st.Command == KindLandscape {
				kind = "landscape"
			}
			if fe := field.As(err); fe != nil {
				return fmt.Errorf("%s %q: %s", kind, st.Entry, networkStepError(&st, fe))
			}
			return fmt.Errorf("%s %q: %v", kind, st.Entry, err)
		}
	}
	return nil
}
