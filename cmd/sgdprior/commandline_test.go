package main

import (
	"io"
	"reflect"
	"testing"

	"github.com/sgdprior/sgdprior/study"
)

// roundTripStudy exercises the settings the default study leaves at their defaults: a
// regression MLP on a CSV with options and a test file, a held-out test set, bring-your-own gradients, every simulator with
// the SDE's dt, the inverse by range, a landscape with preset flags and a sweep.
const roundTripStudy = `
seed = 7
[[problem]]
name = "p"
data = "data/x.csv"
labels = "y.npy"
test = "data/x-test.csv"
standardize = false
model = "mlp:8"
act = "relu"
task = "regress"
sigma = 0.5
weight_decay = 0.001
sampling = "with"
lr = [0.1, 0.2]
batch = [8]
simulators = ["sgd", "gauss", "sde", "sgld"]
chains = 4
steps = 1000
burnin = 100
thin = 2
dt = 0.5
damping = 1e-4
top_k = 5
subset = 64
divergence = true

[[problem]]
name = "h"
data = "digits"
model = "softmax"
holdout = 0.2
holdout_seed = 5
lr = [0.1]
batch = [16]

[[problem]]
name = "torch"
grads = "/abs/G.npy"
hessian = "H.npy"
n = 100
seed = 9
lr = [0.05]
batch = [10]
inverse = "range"
rcond = 1e-8

[[landscape]]
name = "w"
preset = "wells"
flags = { wells = "-1:1:0.3,1:1:1.2", spread = 0.2, n = 500 }
lr = [0.3]
batch = [2]
sampling = "reshuffle"
simulators = ["sgd", "sde"]
chains = 4
steps = 5000
dt = 0.2
sweep_lr = [0.1, 0.3]
sweep_batch = [1, 2]
sweep_steps = 1000

[[landscape]]
name = "o"
preset = "ou2d"
flags = { hess2 = "1,0.4,0.5", noise2 = "0.5,-0.2,1" }
exact_only = true
`

// typed are the parts of a step that its command line must reproduce: the typed settings
// and the files, not its ID, title or rendered arguments.
func typed(s *study.Step) []any {
	return []any{s.Command, s.Spec, s.Seed, s.Theta, s.Init, s.JSON, s.Train, s.Score, s.Grads, s.GradsWeightDecay,
		s.Verify, s.Landscape, s.Preset, s.Track, s.Basins, s.Escape, s.LR, s.Batch, s.Simulator}
}

// TestStepCommandLinesRoundTrip: every step of the default study (full and quick), the tiny
// study and a study that sets what those leave at defaults, rendered as a command line
// (study/commandline.go) and parsed by its subcommand, gives back the step:
// parse(render(s)) == s, for every step kind.
func TestStepCommandLinesRoundTrip(t *testing.T) {
	parse := map[string]func(*env, []string) (*study.Step, error){
		study.KindTrain: parseTrain, study.KindScore: parseScore, study.KindVerify: parseVerify, study.KindLandscape: parseLandscape,
		study.KindTrack: parseTrack, study.KindBasins: parseBasins, study.KindEscape: parseEscape,
	}
	def := study.Default()
	quick, err := def.Quick()
	if err != nil {
		t.Fatal(err)
	}
	tiny, err := study.Parse([]byte(tinyStudy), "tiny.toml", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := study.Parse([]byte(roundTripStudy), "rt.toml", "/home/u/st")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	e := &env{stdout: io.Discard, stderr: io.Discard}
	for _, s := range []*study.Study{def, quick, tiny, other} {
		for _, st := range s.Steps() {
			got, err := parse[st.Command](e, st.Args)
			if err != nil {
				t.Errorf("%s: %s: %v", st.ID, st.CommandLine(), err)
				continue
			}
			if !reflect.DeepEqual(typed(got), typed(&st)) {
				t.Errorf("%s: %s parses to\n%+v\nwant\n%+v", st.ID, st.CommandLine(), typed(got), typed(&st))
			}
			kinds[st.Command]++
		}
	}
	for k := range parse {
		if kinds[k] == 0 {
			t.Errorf("no %s step was checked", k)
		}
	}
}
