package study

import (
	"path/filepath"
	"testing"
)

// The MNIST study file of examples/ parses and expands into its steps, full and quick (it
// needs the data only to run): a train, two tracks, basins and escape.
func TestExampleMNISTStudy(t *testing.T) {
	s, err := Load(filepath.Join("..", "examples", "mnist", "study.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, quick := range []bool{false, true} {
		st := s
		if quick {
			if st, err = s.Quick(); err != nil {
				t.Fatal(err)
			}
		}
		kinds := map[string]int{}
		for _, step := range st.Steps() {
			kinds[step.Command]++
		}
		if kinds[KindTrain] != 1 || kinds[KindTrack] != 2 || kinds[KindBasins] != 1 || kinds[KindEscape] != 1 {
			t.Errorf("quick %v: steps %v", quick, kinds)
		}
	}
}
