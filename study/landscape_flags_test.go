package study

import (
	"strings"
	"testing"
)

// TestLandscapeFlagsZero: a study's `flags = {…}` table follows the command's rules: an
// explicit spread = 0 is kept (and rendered in the step's command line), an explicit 0
// where it is invalid is an error naming the flag, never the preset's default.
func TestLandscapeFlagsZero(t *testing.T) {
	ps, err := presetSettings(&Landscape{Name: "w", Preset: "wells", Flags: map[string]any{"spread": int64(0), "var0": 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if ps.Spread == nil || *ps.Spread != 0 || ps.V0 != 0.5 {
		t.Errorf("spread = 0, var0 = 0.5 read as %v, %v", ps.Spread, ps.V0)
	}
	s := &Study{Landscapes: []Landscape{{Name: "w", Preset: "wells", Flags: map[string]any{"spread": int64(0)}}}}
	st := s.landscapeStep(&s.Landscapes[0])
	st.Args = st.render()
	if cl := st.CommandLine(); !strings.Contains(cl, "--spread 0") {
		t.Errorf("command line %q lacks --spread 0", cl)
	}
	for _, k := range []string{"hess", "n", "var0", "confine"} {
		_, err := presetSettings(&Landscape{Name: "w", Preset: "wells", Flags: map[string]any{k: int64(0)}})
		if err == nil || !strings.Contains(err.Error(), "flags."+k) {
			t.Errorf("flags.%s = 0: error %v", k, err)
		}
	}
}
