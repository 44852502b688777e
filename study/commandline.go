package study

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/escape"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/track"
	"github.com/sgdprior/sgdprior/train"
	"github.com/sgdprior/sgdprior/verify"
)

// This file renders each step's reproducing command line from its typed settings, for
// provenance only: the study runs the library directly. The flags come from the settings'
// own BindFlags methods (the same definitions the commands use), and a flag is written
// when its value differs from the command's default. Paths are relative to the output
// directory, so the command line reproduces the step when run from there.

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

// binder defines flags on a FlagSet bound to one settings value.
type binder func(fs *flag.FlagSet)

// leading are the flags written first, in this order (the problem, then SGD's η, B,
// sampling and seed); the others follow in sorted order.
var leading = []string{"preset", "data", "target", "labels", "split", "standardize", "test", "test-labels", "holdout", "holdout-seed", "subsample", "model", "act", "task", "sigma", "weight-decay",
	"grads", "hessian", "n", "method", "simulator", "lr", "batch", "sampling", "seed"}

// changedFlags returns "--name value" for every flag of bind whose value differs from the
// same flag of def, the leading ones first; a boolean is written --name when true and
// --name=false otherwise.
func changedFlags(def, bind []binder) []string {
	d, v := newFlagSet(), newFlagSet()
	for _, b := range def {
		b(d)
	}
	for _, b := range bind {
		b(v)
	}
	rank := func(name string) int {
		if i := slices.Index(leading, name); i >= 0 {
			return i
		}
		return len(leading)
	}
	var flags []*flag.Flag
	v.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	slices.SortStableFunc(flags, func(a, b *flag.Flag) int { return rank(a.Name) - rank(b.Name) })
	var args []string
	for _, f := range flags {
		if g := d.Lookup(f.Name); g != nil && g.Value.String() == f.Value.String() {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if f.Value.String() == "true" {
				args = append(args, "--"+f.Name)
			} else {
				args = append(args, "--"+f.Name+"=false")
			}
			continue
		}
		args = append(args, "--"+f.Name, f.Value.String())
	}
	return args
}

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// render returns the step's arguments (after the subcommand).
func (s *Step) render() []string {
	var def, val []binder
	var extra []string
	spec := func() {
		d := problem.DefaultSpec()
		def = append(def, d.BindFlags)
		val = append(val, s.Spec.BindFlags)
	}
	switch s.Command {
	case KindTrain:
		spec()
		d := train.DefaultRunSettings()
		def, val = append(def, d.BindFlags), append(val, s.Train.BindFlags)
		extra = []string{"--out", s.Theta}
		if s.Init != "" {
			extra = append(extra, "--init", s.Init)
		}
	case KindScore:
		d := score.DefaultSettings()
		def, val = append(def, d.BindFlags), append(val, s.Score.BindFlags)
		if s.Grads != nil {
			dg := score.GradsFiles{}
			def, val = append(def, dg.BindFlags), append(val, s.Grads.BindFlags)
			if s.GradsWeightDecay != 0 {
				extra = append(extra, "--weight-decay", fmtFloat(s.GradsWeightDecay))
			}
			if s.Grads.Params != "" {
				extra = append(extra, "--params", s.Grads.Params)
			}
		} else {
			spec()
			extra = []string{"--params", s.Theta}
		}
	case KindVerify:
		spec()
		d := verify.DefaultSettings()
		def, val = append(def, d.BindFlags), append(val, s.Verify.BindFlags)
		if s.Theta != "" {
			extra = []string{"--params", s.Theta}
		}
	case KindTrack:
		spec()
		d := track.DefaultSettings()
		def, val = append(def, d.BindFlags), append(val, s.Track.BindFlags)
		if s.Init != "" {
			extra = []string{"--init", s.Init}
		}
	case KindBasins:
		spec()
		d := basins.DefaultSettings()
		def, val = append(def, d.BindFlags), append(val, s.Basins.BindFlags)
	case KindEscape:
		spec()
		d := escape.DefaultSettings()
		def, val = append(def, d.BindFlags), append(val, s.Escape.BindFlags)
		if s.Theta != "" {
			extra = []string{"--params", s.Theta}
		}
	case KindLandscape:
		d, dp := landscape.DefaultSettings(), landscape.PresetSettings{}
		def = append(def, dp.BindFlags, d.BindFlags)
		val = append(val, s.Preset.BindFlags, s.Landscape.BindFlags)
	default:
		panic(fmt.Sprintf("study: step %s of unknown kind %q", s.ID, s.Command))
	}
	args := append(changedFlags(def, val), extra...)
	if s.JSON != "" {
		args = append(args, "--json", s.JSON)
	}
	return args
}
