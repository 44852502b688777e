package study

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/escape"
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/track"
)

// This file expands a problem's real-network tables (track, basins, escape: Settings.Track,
// Basins, Escape) into steps. Each table holds its command's flags; they are applied through
// the settings' own BindFlags, so that the study file and the command line hold one
// definition of each flag.

// networkReserved are the flags the study sets itself on a real-network step: the problem
// flags (problem.Spec.BindFlags), the sampling, the seed and the files.
var networkReserved = func() []string {
	fs := newFlagSet()
	sp := problem.DefaultSpec()
	sp.BindFlags(fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return append(names, "sampling", "seed", "json", "csv", "out", "figures", "params", "init",
		"checkpoint", "checkpoint-every", "resume", "workers")
}()

// applyFlags sets the table's keys as flags of bind; an error is keyed "<table>.<key>".
func applyFlags(table string, m map[string]any, bind func(*flag.FlagSet), skip ...string) error {
	fs := newFlagSet()
	bind(fs)
	for _, k := range sortedKeys(m) {
		name := strings.ReplaceAll(k, "_", "-")
		if slices.Contains(skip, name) {
			continue
		}
		if strings.HasPrefix(k, "-") || k == "" {
			return fmt.Errorf("%s.%s: write flag names without dashes", table, k)
		}
		if slices.Contains(networkReserved, name) {
			return fmt.Errorf("%s.%s: the study sets --%s itself (from the problem)", table, k, name)
		}
		if fs.Lookup(name) == nil {
			return fmt.Errorf("%s.%s: unknown key (sgdprior %s has no flag --%s)", table, k, table, name)
		}
		v, err := flagValue(m[k])
		if err != nil {
			return fmt.Errorf("%s.%s: %v", table, k, err)
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("%s.%s: %v", table, k, err)
		}
	}
	return nil
}

// trackLRs are the learning rates of the track table: its lr, a number or a list.
func trackLRs(m map[string]any) ([]float64, error) {
	v, ok := m["lr"]
	if !ok {
		return nil, fmt.Errorf("track.lr is required (a learning rate or a list of them)")
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	var lrs []float64
	for _, e := range list {
		switch x := e.(type) {
		case float64:
			lrs = append(lrs, x)
		case int64:
			lrs = append(lrs, float64(x))
		default:
			return nil, fmt.Errorf("track.lr must be a number or a list of numbers, not %v", v)
		}
	}
	if len(lrs) == 0 {
		return nil, fmt.Errorf("track.lr: give at least one learning rate")
	}
	return lrs, nil
}

// trackSettings are the track settings of the table at learning rate lr.
func trackSettings(m map[string]any, lr float64, samp noise.Sampling, seed uint64) (*track.Settings, error) {
	set := track.DefaultSettings()
	if err := applyFlags(KindTrack, m, set.BindFlags, "lr"); err != nil {
		return nil, err
	}
	set.LR, set.Sampling, set.Seed = lr, samp, seed
	return &set, nil
}

func basinsSettings(m map[string]any, samp noise.Sampling, seed uint64) (*basins.Settings, error) {
	set := basins.DefaultSettings()
	if err := applyFlags(KindBasins, m, set.BindFlags); err != nil {
		return nil, err
	}
	set.Sampling, set.Seed = samp, seed
	return &set, nil
}

func escapeSettings(m map[string]any, samp noise.Sampling, seed uint64) (*escape.Settings, error) {
	set := escape.DefaultSettings()
	if err := applyFlags(KindEscape, m, set.BindFlags); err != nil {
		return nil, err
	}
	set.Sampling, set.Seed = samp, seed
	return &set, nil
}

// checkNetwork checks the keys of st's real-network tables (the values' ranges are checked
// on the expanded steps); prefix is "" or "quick.".
func (p *Problem) checkNetwork(st *Settings, prefix string) error {
	if st.Track != nil {
		lrs := []float64{0}
		if prefix == "" || st.Track["lr"] != nil {
			var err error
			if lrs, err = trackLRs(st.Track); err != nil {
				return fmt.Errorf("%s%v", prefix, err)
			}
		}
		if _, err := trackSettings(st.Track, lrs[0], noise.Without, 1); err != nil {
			return fmt.Errorf("%s%v", prefix, err)
		}
	}
	if st.Basins != nil {
		if _, err := basinsSettings(st.Basins, noise.Without, 1); err != nil {
			return fmt.Errorf("%s%v", prefix, err)
		}
	}
	if st.Escape != nil {
		if _, err := escapeSettings(st.Escape, noise.Without, 1); err != nil {
			return fmt.Errorf("%s%v", prefix, err)
		}
	}
	return nil
}

// networkSteps are the problem's track steps (one per η), then basins (with basinsSeeds
// when not nil, else its table's), then escape (from the problem's θ*). newStep makes a
// step of the problem with its spec and θ* file.
func (p *Problem) networkSteps(samp noise.Sampling, seed uint64, basinsSeeds basins.SeedList, newStep func(kind, stem, title string) Step) []Step {
	var steps []Step
	must := func(err error) {
		if err != nil {
			panic("study: " + err.Error()) // validated by Parse
		}
	}
	if p.Track != nil {
		lrs, err := trackLRs(p.Track)
		must(err)
		for _, lr := range lrs {
			set, err := trackSettings(p.Track, lr, samp, seed)
			must(err)
			st := newStep(KindTrack, "track-lr"+fmtFloat(lr), fmt.Sprintf("%s: SGD's trajectory, η = %s, B = %d", p.Name, fmtFloat(lr), set.Batch))
			st.Theta = ""
			st.Track, st.LR, st.Batch = set, lr, set.Batch
			steps = append(steps, st)
		}
	}
	if p.Basins != nil {
		set, err := basinsSettings(p.Basins, samp, seed)
		must(err)
		if basinsSeeds != nil {
			set.Seeds = basinsSeeds
		}
		st := newStep(KindBasins, "basins", fmt.Sprintf("%s: the minima SGD reaches over η × B × seeds", p.Name))
		st.Theta = ""
		st.Basins = set
		steps = append(steps, st)
	}
	if p.Escape != nil {
		set, err := escapeSettings(p.Escape, samp, seed)
		must(err)
		st := newStep(KindEscape, "escape", fmt.Sprintf("%s: escapes from θ*, η = %s, B = %d", p.Name, fmtFloat(set.LR), set.Batch))
		st.Escape, st.LR, st.Batch = set, set.LR, set.Batch
		steps = append(steps, st)
	}
	return steps
}

// networkStepError keys a real-network step's settings error by its table.
func networkStepError(st *Step, fe *field.Error) string {
	switch st.Command {
	case KindTrack, KindBasins, KindEscape:
		return st.Command + "." + fe.TOML()
	}
	return fe.TOML()
}
