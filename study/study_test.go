package study

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestDefaultStudy(t *testing.T) {
	s := Default()
	var names []string
	for _, p := range s.Problems {
		names = append(names, p.Data+"/"+p.Model)
	}
	want := []string{"breast-cancer/logistic", "digits/mlp:32", "diabetes/linreg", "digits/mlp:32"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("default problems %v, want %v", names, want)
	}
	// The separable sets carry a stated weight decay.
	for _, p := range s.Problems {
		if (p.Data == "breast-cancer" || p.Data == "digits") && !(p.WeightDecay > 0) {
			t.Errorf("%s: separable data without weight decay", p.Name)
		}
		if p.Quick == nil {
			t.Errorf("%s: no quick table", p.Name)
		}
	}
	if !slices.ContainsFunc(s.Landscapes, func(l Landscape) bool { return l.Preset == "wells" }) {
		t.Error("the default study has no wells landscape")
	}
	q, err := s.Quick()
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Steps()) >= len(s.Steps()) {
		t.Errorf("the quick study has %d steps, the full one %d", len(q.Steps()), len(s.Steps()))
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{"title = 1\n[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n", "title"},
		{"colour = 'red'\n[[landscape]]\nname='w'\npreset='wells'\n", "unknown key colour"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n[problem.quick]\nlr_grid=[1.0]\n", "unknown key problem.quick.lr_grid"},
		{"[thresholds]\ncommutatr = 0.1\n[[landscape]]\nname='w'\npreset='wells'\n", "unknown key thresholds.commutatr"},
		{"", "no [[problem]] and no [[landscape]]"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\ntrack={lr=0.1, batch=8, stepz=3}\n", "track.stepz: unknown key"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nbasins={model='mlp:8'}\n", "basins.model: the study sets --model itself"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nescape={lr=0.1, batch=8, chains=1}\n", "escape.chains must be ≥ 2"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\ntrack={batch=8}\n", "track.lr is required"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nescape={lr=0.1, batch=8}\n[problem.quick]\nescape={check_every=0}\n", "quick: problem \"a\": escape.check_every must be in"},
		{"[[landscape]]\nname='w'\npreset='wells'\ntrack={lr=0.1, batch=8}\n", "track, basins and escape belong to problems"},
		{"[[problem]]\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n", "name is required"},
		{"[[problem]]\nname='a b'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n", "name may hold"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n[[landscape]]\nname='a'\npreset='wells'\n", "used twice"},
		{"[[problem]]\nname='a'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n", "data is required"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nbatch=[8]\n", "lr"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[-0.1]\nbatch=[8]\n", "lr must be > 0"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[0]\n", "batch must be ≥ 1"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\nchains=1\n", "chains must be ≥ 2"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\nsteps=10\nburnin=10\n", "burnin 10 must be smaller"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\ndamping=0.1\ninverse='range'\n", "exclude each other"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\ninverse='pinv'\n", "inverse"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\nsweep_lr=[0.1]\n", "belong to landscapes"},
		{"[[problem]]\nname='a'\ngrads='G.npy'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n", "grads excludes"},
		{"[[problem]]\nname='a'\ngrads='G.npy'\nlr=[0.1]\nbatch=[8]\nsimulators=['sgd']\n", "simulators need a model"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\ntest='iris'\nholdout=0.2\n", "holdout excludes test"},
		{"[[problem]]\nname='a'\ndata='iris'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\nholdout=1.5\n", "holdout must be a fraction"},
		{"[[landscape]]\nname='w'\n", "preset is required"},
		{"[[landscape]]\nname='w'\npreset='wells'\nlr=[0.1,0.2]\n", "one learning rate"},
		{"[[landscape]]\nname='w'\npreset='wells'\nsimulators=['sgld']\n", "a landscape simulates"},
		{"[[landscape]]\nname='w'\npreset='wells'\nthin=2\n", "belong to problems"},
		{"[[landscape]]\nname='w'\npreset='wells'\nflags={lr='0.1'}\n", "flags.lr"},
		{"[[landscape]]\nname='w'\npreset='wells'\nflags={'--spread'='0.1'}\n", "without dashes"},
		{"[[landscape]]\nname='w'\npreset='wells'\nflags={spread=[1,2]}\n", "flags.spread"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.text), "s.toml", "")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "s.toml: ") {
			t.Errorf("%q: error %v, want one naming %q", c.text, err, c.want)
		}
	}
}

const exampleStudy = `
seed = 7
[[problem]]
name = "p"
data = "data/x.csv"
labels = "y.npy"
standardize = false
model = "mlp:8"
act = "relu"
task = "regress"
sigma = 0.5
weight_decay = 0.001
sampling = "with"
lr = [0.1, 0.2]
batch = [8]
simulators = ["sgd", "sde"]
chains = 4
steps = 1000
burnin = 100
thin = 2
dt = 0.5
top_k = 5
damping = 1e-4
subset = 64
divergence = true
[problem.quick]
lr = [0.2]
simulators = ["sgd"]
steps = 200

[[problem]]
name = "torch"
seed = 9
grads = "/abs/G.npy"
hessian = "H.npy"
n = 100
lr = [0.05]
batch = [10]
inverse = "range"
rcond = 1e-8

[[landscape]]
name = "w"
preset = "wells"
flags = { spread = 0.2, wells = "-1:1:0.3,1:1:1.2", n = 500 }
lr = [0.3]
batch = [2]
simulators = ["sgd", "sde"]
chains = 4
steps = 5000
dt = 0.2
sweep_lr = [0.1, 0.3]
sweep_steps = 1000
`

func TestSteps(t *testing.T) {
	s, err := Parse([]byte(exampleStudy), "ex.toml", "/home/u/st")
	if err != nil {
		t.Fatal(err)
	}
	steps := s.Steps()
	var lines []string
	for _, st := range steps {
		lines = append(lines, st.CommandLine())
	}
	// Rendered from the steps' typed settings: the problem first, then η, B, sampling and seed,
	// then the flags that differ from the command's defaults, paths relative to the output
	// directory.
	base := "--data /home/u/st/data/x.csv --labels /home/u/st/y.npy --standardize=false --model mlp:8 --act relu --task regress --sigma 0.5 --weight-decay 0.001"
	want := []string{
		"sgdprior train " + base + " --method lbfgs --sampling with --seed 7 --out p/theta-star.npy --json p/train.json",
		"sgdprior score " + base + " --lr 0.1 --batch 8 --sampling with --seed 7 --damping 0.0001 --divergence --subset 64 --top-k 5 --params p/theta-star.npy --json p/score-lr0.1-B8.json",
		"sgdprior score " + base + " --lr 0.2 --batch 8 --sampling with --seed 7 --damping 0.0001 --divergence --subset 64 --top-k 5 --params p/theta-star.npy --json p/score-lr0.2-B8.json",
		"sgdprior verify " + base + " --lr 0.1 --batch 8 --sampling with --seed 7 --burnin 100 --chains 4 --damping 0.0001 --steps 1000 --thin 2 --top-k 5 --params p/theta-star.npy --json p/verify-lr0.1-B8-sgd.json",
		"sgdprior verify " + base + " --simulator sde --lr 0.1 --batch 8 --sampling with --seed 7 --burnin 200 --chains 4 --damping 0.0001 --dt 0.5 --steps 2000 --thin 4 --top-k 5 --params p/theta-star.npy --json p/verify-lr0.1-B8-sde.json",
		"sgdprior verify " + base + " --lr 0.2 --batch 8 --sampling with --seed 7 --burnin 100 --chains 4 --damping 0.0001 --steps 1000 --thin 2 --top-k 5 --params p/theta-star.npy --json p/verify-lr0.2-B8-sgd.json",
		"sgdprior verify " + base + " --simulator sde --lr 0.2 --batch 8 --sampling with --seed 7 --burnin 200 --chains 4 --damping 0.0001 --dt 0.5 --steps 2000 --thin 4 --top-k 5 --params p/theta-star.npy --json p/verify-lr0.2-B8-sde.json",
		"sgdprior score --grads /abs/G.npy --hessian /home/u/st/H.npy --n 100 --lr 0.05 --batch 10 --seed 9 --inverse range --rcond 1e-08 --json torch/score-lr0.05-B10.json",
		"sgdprior landscape --preset wells --n 500 --lr 0.3 --batch 2 --seed 7 --chains 4 --dt 0.2 --simulators sgd,sde --spread 0.2 --steps 5000 --sweep-lr 0.1,0.3 --sweep-steps 1000 --wells -1:1:0.3,1:1:1.2 --json w/landscape.json",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	ids := map[string]bool{}
	for _, st := range steps {
		if ids[st.ID] {
			t.Errorf("step ID %s twice", st.ID)
		}
		ids[st.ID] = true
		if st.Args[len(st.Args)-2] != "--json" || st.Args[len(st.Args)-1] != st.JSON {
			t.Errorf("%s: --json is not the step's JSON file", st.ID)
		}
	}
	if steps[4].LR != 0.1 || steps[4].Batch != 8 || steps[4].Simulator != "sde" || steps[4].Entry != "p" {
		t.Errorf("grid of %s: %+v", steps[4].ID, steps[4])
	}

	q, err := s.Quick()
	if err != nil {
		t.Fatal(err)
	}
	qs := q.Steps()
	if len(qs) != 1+1+1+1+1 {
		t.Fatalf("quick: %d steps", len(qs))
	}
	if got := qs[2].CommandLine(); !strings.Contains(got, "--lr 0.2 ") || !strings.Contains(got, "--steps 200 ") || !strings.Contains(got, "--burnin 100 ") {
		t.Errorf("quick verify: %s", got)
	}
	// Quick did not touch the original.
	if len(s.Problems[0].LR) != 2 || *s.Problems[0].Steps != 1000 || s.Problems[0].Quick == nil {
		t.Error("Quick modified the study it was called on")
	}
}

func TestResolveKeepsEmbeddedAndIdx(t *testing.T) {
	s, err := Parse([]byte("[[problem]]\nname='a'\ndata='digits'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n[[problem]]\nname='b'\ndata='idx:mnist'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n"), "s.toml", "/d")
	if err != nil {
		t.Fatal(err)
	}
	if s.Problems[0].Data != "digits" || s.Problems[1].Data != "idx:"+filepath.Join("/d", "mnist") {
		t.Fatalf("data %q, %q", s.Problems[0].Data, s.Problems[1].Data)
	}
}

// TestTestSetKeys: the keys test (resolved like data), test_labels, holdout and
// holdout_seed reach every step's problem.Spec.
func TestTestSetKeys(t *testing.T) {
	s, err := Parse([]byte("[[problem]]\nname='a'\ndata='digits'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\nholdout=0.25\nholdout_seed=9\n"+
		"[[problem]]\nname='b'\ndata='idx:mnist'\ntest='idx:mnist'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n"+
		"[[problem]]\nname='c'\ndata='x.npy'\nlabels='y.npy'\ntest='xt.npy'\ntest_labels='yt.npy'\nmodel='softmax'\nlr=[0.1]\nbatch=[8]\n"), "s.toml", "/d")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, st := range s.Steps() {
		if st.Spec == nil {
			continue
		}
		seen++
		sp := st.Spec
		switch st.Entry {
		case "a":
			if sp.Holdout != 0.25 || sp.HoldoutSeed != 9 || sp.Test != "" {
				t.Errorf("a: %+v", sp)
			}
		case "b":
			if sp.Test != "idx:"+filepath.Join("/d", "mnist") || sp.Holdout != 0 || sp.HoldoutSeed != 1 {
				t.Errorf("b: %+v", sp)
			}
		case "c":
			if sp.Test != filepath.Join("/d", "xt.npy") || sp.TestLabels != filepath.Join("/d", "yt.npy") {
				t.Errorf("c: %+v", sp)
			}
		}
	}
	if seen < 3 {
		t.Errorf("%d steps with a problem", seen)
	}
}

func TestCommandLineQuotes(t *testing.T) {
	st := Step{Command: "landscape", Args: []string{"--wells", "a b", "--x", "it's"}}
	if got, want := st.CommandLine(), `sgdprior landscape --wells 'a b' --x 'it'\''s'`; got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}

func TestFloatJSON(t *testing.T) {
	var v struct {
		A Float `json:"a"`
		B Float `json:"b"`
	}
	if err := json.Unmarshal([]byte(`{"a": null, "b": 1.5}`), &v); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(v.A)) || v.B != 1.5 || v.A.OK() || !v.B.OK() {
		t.Errorf("a, b = %v, %v", v.A, v.B)
	}
	b, err := json.Marshal([]Float{Float(math.NaN()), Float(math.Inf(1)), 0.1})
	if err != nil || string(b) != "[null,null,0.1]" {
		t.Errorf("marshal: %s, %v", b, err)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{{math.NaN(), "—"}, {math.Inf(1), "—"}, {3, "3"}, {-12, "-12"}, {0.1234567, "0.1235"}, {1.234567e-7, "1.235e-07"}, {123456.7, "1.235e+05"}, {2e7, "2e+07"}} {
		if got := Format(c.x); got != c.want {
			t.Errorf("Format(%v) = %q, want %q", c.x, got, c.want)
		}
	}
	if got := FormatSE(0.5, 0.01); got != "0.5 ± 0.01" {
		t.Errorf("FormatSE = %q", got)
	}
}

// TestReadmeStudies: the study files shown in the README parse.
func TestReadmeStudies(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(b), "```toml\n")
	if len(blocks) < 2 {
		t.Skip("the README shows no study file")
	}
	for i, blk := range blocks[1:] {
		text, _, ok := strings.Cut(blk, "```")
		if !ok {
			t.Fatalf("README toml block %d is not closed", i+1)
		}
		if _, err := Parse([]byte(text), "README block "+strconv.Itoa(i+1), ""); err != nil {
			t.Error(err)
		}
	}
}
