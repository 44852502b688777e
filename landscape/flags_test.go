package landscape

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// parsePreset binds the preset and run flags on a fresh FlagSet and parses args into
// them, the way the landscape command and a study's `flags = {…}` table do.
func parsePreset(args ...string) (PresetSettings, Settings, error) {
	ps, set := PresetSettings{Name: "wells"}, DefaultSettings()
	fs := flag.NewFlagSet("landscape", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	ps.BindFlags(fs)
	set.BindFlags(fs)
	err := fs.Parse(args)
	return ps, set, err
}

// TestWellsVar0Flag: --var0 sets the wells presets' additive noise floor (it used to set
// only the multiplicative preset's field, so wells kept its default 0.3).
func TestWellsVar0Flag(t *testing.T) {
	for _, name := range []string{"wells", "wells2d"} {
		ps, _, err := parsePreset("--preset", name, "--var0", "0.55", "--n", "40")
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPreset(ps)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Params()["var0"]; got != 0.55 {
			t.Errorf("%s --var0 0.55: the preset's var0 is %v", name, got)
		}
	}
}

// TestExplicitZero: an explicit 0 is never replaced by the preset's default. Where 0 is a
// valid value (the shifts' spread of the wells presets: constant noise) it is used; where it
// is not, parsing fails naming the flag.
func TestExplicitZero(t *testing.T) {
	for _, name := range []string{"wells", "wells2d"} {
		ps, _, err := parsePreset("--preset", name, "--spread", "0", "--n", "40")
		if err != nil {
			t.Fatalf("%s --spread 0: %v", name, err)
		}
		p, err := NewPreset(ps)
		if err != nil {
			t.Fatalf("%s --spread 0: %v", name, err)
		}
		if got := p.Params()["spread"]; got != 0 {
			t.Errorf("%s --spread 0: the preset's spread is %v", name, got)
		}
	}
	for _, c := range []struct{ preset, flag string }{
		{"ou", "hess"}, {"ou", "var"}, {"ou", "n"}, {"ou", "lr"}, {"ou", "batch"},
		{"multiplicative", "var0"}, {"multiplicative", "var1"}, {"wells", "var0"}, {"wells", "confine"},
	} {
		ps, set, err := parsePreset("--preset", c.preset, "--"+c.flag, "0")
		if err == nil {
			p, perr := NewPreset(ps)
			if perr == nil {
				_, perr = Run(t.Context(), p, Settings{LR: set.LR, Batch: set.Batch, NoSim: true, Chains: 2, Time: 100, DT: 0.1,
					Exact: Exact1DSettings{Bins: 20}})
			}
			t.Errorf("%s --%s 0 parsed without error (preset or run error: %v)", c.preset, c.flag, perr)
			continue
		}
		if !strings.Contains(err.Error(), "-"+c.flag+":") {
			t.Errorf("%s --%s 0: error %q does not name the flag", c.preset, c.flag, err)
		}
	}
}

func ptr(x float64) *float64 { return &x }
