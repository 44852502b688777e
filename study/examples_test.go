package study

import (
	"path/filepath"
	"testing"

	"github.com/sgdprior/sgdprior/model"
)

// The MNIST study files of examples/ (the MLP and the LeNet-style network) parse and expand
// into their steps, full and quick (they need the data only to run): a train, two tracks,
// basins and escape; and their models build on MNIST's 784 features (1×28×28 images).
func TestExampleMNISTStudy(t *testing.T) {
	for _, dir := range []string{"mnist", "lenet"} {
		s, err := Load(filepath.Join("..", "examples", dir, "study.toml"))
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
				t.Errorf("%s, quick %v: steps %v", dir, quick, kinds)
			}
			for _, p := range st.Problems {
				if _, err := model.New(p.Model, 784, 10, model.Options{Shape: []int{1, 28, 28}}); err != nil {
					t.Errorf("%s, quick %v: %v", dir, quick, err)
				}
			}
		}
	}
}
