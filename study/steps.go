package study

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// Step kinds, which are also the names of the subcommands that run them.
const (
	KindTrain     = "train"
	KindScore     = "score"
	KindVerify    = "verify"
	KindLandscape = "landscape"
)

// Step is one subcommand run of a study.
type Step struct {
	// ID is unique within the study: "<entry>/<file stem>".
	ID string `json:"id"`
	// Entry is the name of the problem or landscape the step belongs to.
	Entry string `json:"entry"`
	// Command is the subcommand (train, score, verify or landscape) and Args its
	// arguments, so that `sgdprior Command Args...` reproduces the step.
	Command string   `json:"command"`
	Args    []string `json:"args"`
	// JSON is the file the step's --json output goes to.
	JSON string `json:"json"`
	// Title describes the step for progress and the report.
	Title string `json:"title"`
	// LR, Batch and Simulator locate score and verify steps in their grid (zero for the
	// others).
	LR        float64 `json:"lr,omitempty"`
	Batch     int     `json:"batch,omitempty"`
	Simulator string  `json:"simulator,omitempty"`
}

// CommandLine returns the step as one shell-like line ("sgdprior verify --data …"); an
// argument with spaces or quotes is quoted.
func (s *Step) CommandLine() string {
	parts := []string{"sgdprior", s.Command}
	for _, a := range s.Args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`;&|<>(){}*?!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// ThetaFile is the file the train step of a problem writes θ* to.
func ThetaFile(dir, problem string) string {
	return filepath.Join(dir, problem, "theta-star.npy")
}

// Steps expands the study into its steps, in the order they must run, writing every output
// under dir: for each problem a full-batch minimisation (train), then score for every
// (η, B), then verify for every (η, B, simulator); then each landscape. A problem with
// Grads has only score steps.
func (s *Study) Steps(dir string) []Step {
	var steps []Step
	for i := range s.Problems {
		steps = append(steps, s.problemSteps(&s.Problems[i], dir)...)
	}
	for i := range s.Landscapes {
		steps = append(steps, s.landscapeStep(&s.Landscapes[i], dir))
	}
	return steps
}

func (s *Study) seed(own *uint64) string {
	switch {
	case own != nil:
		return strconv.FormatUint(*own, 10)
	case s.Seed != nil:
		return strconv.FormatUint(*s.Seed, 10)
	}
	return "1"
}

// problemArgs are the problem flags of p (only those that differ from the commands'
// defaults, except --weight-decay which is always stated).
func (s *Study) problemArgs(p *Problem) []string {
	var a []string
	add := func(flag, v string) {
		if v != "" {
			a = append(a, "--"+flag, v)
		}
	}
	if p.Grads != "" {
		add("grads", p.Grads)
		add("hessian", p.Hessian)
		if p.N > 0 {
			add("n", strconv.Itoa(p.N))
		}
	} else {
		add("data", p.Data)
		add("target", p.Target)
		add("labels", p.Labels)
		add("split", p.Split)
		if p.Standardize != nil && !*p.Standardize {
			a = append(a, "--standardize=false")
		}
		add("model", p.Model)
		add("act", p.Act)
		add("task", p.Task)
		if p.Sigma > 0 {
			add("sigma", fmtFloat(p.Sigma))
		}
		add("weight-decay", fmtFloat(p.WeightDecay))
	}
	add("sampling", p.Sampling)
	add("seed", s.seed(p.Seed))
	return a
}

// inverseArgs are the flags that choose the inverse of C_B.
func inverseArgs(st *Settings) []string {
	var a []string
	if st.Damping != nil && *st.Damping > 0 {
		a = append(a, "--damping", fmtFloat(*st.Damping))
	}
	if st.Inverse != nil && *st.Inverse == "range" {
		a = append(a, "--inverse", "range")
		if st.RCond != nil {
			a = append(a, "--rcond", fmtFloat(*st.RCond))
		}
	}
	if st.TopK != nil {
		a = append(a, "--top-k", strconv.Itoa(*st.TopK))
	}
	return a
}

func intArg(a []string, flag string, v *int) []string {
	if v != nil {
		a = append(a, "--"+flag, strconv.Itoa(*v))
	}
	return a
}

func gridTag(lr float64, b int) string {
	return "lr" + fmtFloat(lr) + "-B" + strconv.Itoa(b)
}

func (s *Study) problemSteps(p *Problem, dir string) []Step {
	var steps []Step
	base := s.problemArgs(p)
	pdir := filepath.Join(dir, p.Name)
	newStep := func(kind, stem, title string, args []string) Step {
		js := filepath.Join(pdir, stem+".json")
		args = append(args, "--json", js)
		return Step{ID: p.Name + "/" + stem, Entry: p.Name, Command: kind, Args: args, JSON: js, Title: title}
	}
	theta := ThetaFile(dir, p.Name)
	if p.Grads == "" {
		args := append(append([]string{}, base...), "--method", "lbfgs", "--out", theta)
		steps = append(steps, newStep(KindTrain, "train", fmt.Sprintf("%s: full-batch minimum θ*", p.Name), args))
	}
	for _, lr := range p.LR {
		for _, b := range p.Batch {
			args := append([]string{}, base...)
			if p.Grads == "" {
				args = append(args, "--params", theta)
			}
			args = append(args, "--lr", fmtFloat(lr), "--batch", strconv.Itoa(b))
			args = append(args, inverseArgs(&p.Settings)...)
			args = intArg(args, "subset", p.Subset)
			if p.Divergence != nil && *p.Divergence {
				args = append(args, "--divergence")
			}
			st := newStep(KindScore, "score-"+gridTag(lr, b), fmt.Sprintf("%s: the note's quantities at θ*, η = %s, B = %d", p.Name, fmtFloat(lr), b), args)
			st.LR, st.Batch = lr, b
			steps = append(steps, st)
		}
	}
	for _, lr := range p.LR {
		for _, b := range p.Batch {
			for _, m := range p.Simulators {
				args := append([]string{}, base...)
				args = append(args, "--params", theta, "--lr", fmtFloat(lr), "--batch", strconv.Itoa(b), "--simulator", m)
				args = intArg(args, "chains", p.Chains)
				nSteps, nBurnin, nThin := p.Steps, p.Burnin, p.Thin
				if m == "sde" && p.DT != nil {
					// verify counts SDE steps of size dt: cover the same simulated time.
					nSteps, nBurnin, nThin = perDT(nSteps, *p.DT, 1), perDT(nBurnin, *p.DT, 0), perDT(nThin, *p.DT, 1)
				}
				args = intArg(args, "steps", nSteps)
				args = intArg(args, "burnin", nBurnin)
				args = intArg(args, "thin", nThin)
				if m == "sde" && p.DT != nil {
					args = append(args, "--dt", fmtFloat(*p.DT))
				}
				args = append(args, inverseArgs(&p.Settings)...)
				st := newStep(KindVerify, "verify-"+gridTag(lr, b)+"-"+m, fmt.Sprintf("%s: %s stationary distribution, η = %s, B = %d", p.Name, m, fmtFloat(lr), b), args)
				st.LR, st.Batch, st.Simulator = lr, b, m
				steps = append(steps, st)
			}
		}
	}
	return steps
}

func (s *Study) landscapeStep(l *Landscape, dir string) Step {
	args := []string{"--preset", l.Preset}
	for _, k := range sortedKeys(l.Flags) {
		v, _ := flagValue(l.Flags[k]) // validated by Parse
		args = append(args, "--"+k, v)
	}
	var lr float64
	var b int
	if len(l.LR) > 0 {
		lr = l.LR[0]
		args = append(args, "--lr", fmtFloat(lr))
	}
	if len(l.Batch) > 0 {
		b = l.Batch[0]
		args = append(args, "--batch", strconv.Itoa(b))
	}
	if l.Sampling != "" {
		args = append(args, "--sampling", l.Sampling)
	}
	args = append(args, "--seed", s.seed(l.Seed))
	if l.ExactOnly != nil && *l.ExactOnly {
		args = append(args, "--exact-only")
	}
	if len(l.Simulators) > 0 {
		args = append(args, "--simulators", strings.Join(l.Simulators, ","))
	}
	args = intArg(args, "chains", l.Chains)
	args = intArg(args, "steps", l.Steps)
	if l.DT != nil {
		args = append(args, "--dt", fmtFloat(*l.DT))
	}
	if len(l.SweepLR) > 0 {
		lrs := make([]string, len(l.SweepLR))
		for i, x := range l.SweepLR {
			lrs[i] = fmtFloat(x)
		}
		args = append(args, "--sweep-lr", strings.Join(lrs, ","))
	}
	if len(l.SweepBatch) > 0 {
		bs := make([]string, len(l.SweepBatch))
		for i, x := range l.SweepBatch {
			bs[i] = strconv.Itoa(x)
		}
		args = append(args, "--sweep-batch", strings.Join(bs, ","))
	}
	args = intArg(args, "sweep-steps", l.SweepSteps)
	js := filepath.Join(dir, l.Name, "landscape.json")
	args = append(args, "--json", js)
	return Step{ID: l.Name + "/landscape", Entry: l.Name, Command: KindLandscape, Args: args, JSON: js,
		Title: fmt.Sprintf("%s: the %s landscape", l.Name, l.Preset), LR: lr, Batch: b}
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

// Point is the grid point of a score or verify step, "lr<η>-B<B>": a verify step belongs
// to the score step of the same entry and point (a join on the step's own settings, never
// on floats decoded from two outputs).
func (s *Step) Point() string { return gridTag(s.LR, s.Batch) }
