package problem

// Provenance is written into every JSON output (docs/MATH.md §10): enough to reproduce a
// result and to exchange θ with PyTorch. The caller sets Version and CommandLine.
type Provenance struct {
	Version     string   `json:"version"`
	CommandLine []string `json:"command_line"`
	Seed        uint64   `json:"seed"`
	Data        string   `json:"data,omitempty"`
	DataSHA256  string   `json:"data_sha256,omitempty"`
	N           int      `json:"n,omitempty"`
	Features    int      `json:"features,omitempty"`
	// Shape is the (C, H, W) of image data (data.Dataset.Shape), absent for tabular data.
	Shape        []int     `json:"shape,omitempty"`
	Model        string    `json:"model,omitempty"`
	Act          string    `json:"act,omitempty"`
	Task         string    `json:"task,omitempty"`
	WeightDecay  float64   `json:"weight_decay"`
	Sigma        float64   `json:"sigma,omitempty"`
	Labels       []string  `json:"labels,omitempty"` // labels[k] is the original label of class k
	Standardized bool      `json:"standardized"`
	Scale01      bool      `json:"scaled_0_1,omitempty"`
	FeatureMean  []float64 `json:"feature_mean,omitempty"`
	FeatureStd   []float64 `json:"feature_std,omitempty"`
	TargetMean   *float64  `json:"target_mean,omitempty"`
	TargetStd    *float64  `json:"target_std,omitempty"`
	// The test set (docs/MATH.md §1): its source (--test) or the held-out fraction and its
	// seed (--holdout, --holdout-seed), its name, checksum and size; absent without one.
	Test        string  `json:"test,omitempty"`
	Holdout     float64 `json:"holdout,omitempty"`
	HoldoutSeed *uint64 `json:"holdout_seed,omitempty"`
	TestData    string  `json:"test_data,omitempty"`
	TestSHA256  string  `json:"test_sha256,omitempty"`
	TestN       int     `json:"test_n,omitempty"`
	// Subsample is --subsample (the training examples kept), absent when all are used.
	Subsample int `json:"subsample,omitempty"`
}

// NewProvenance describes a run with the given seed on p (nil: no problem, e.g. a
// landscape or bring-your-own gradients).
func NewProvenance(version string, cmdline []string, seed uint64, p *Problem) Provenance {
	pv := Provenance{Version: version, CommandLine: cmdline, Seed: seed}
	if p == nil {
		return pv
	}
	s := &p.Spec
	pv.Data, pv.DataSHA256 = p.Data.Name, p.Data.SHA256
	pv.N, pv.Features, pv.Shape = p.N(), p.Data.NumFeatures(), p.Data.Shape
	pv.Model, pv.WeightDecay = p.Model.Name(), s.WeightDecay
	if s.IsNet() {
		pv.Act, pv.Task = s.Act, s.Task
	}
	if s.Regression() {
		pv.Sigma = s.Sigma
	}
	pv.Labels = p.Data.Classes
	if s.Subsample > 0 {
		pv.Subsample = s.Subsample
		seed := s.HoldoutSeed
		pv.HoldoutSeed = &seed
	}
	if p.HasTest() {
		pv.Test, pv.Holdout = s.Test, s.Holdout
		if s.Holdout > 0 {
			seed := s.HoldoutSeed
			pv.HoldoutSeed = &seed
		}
		pv.TestData, pv.TestSHA256, pv.TestN = p.Test.Name, p.Test.SHA256, p.Test.Len()
	}
	if st := p.Data.Standardization; st != nil {
		pv.Scale01 = st.Scale01
		pv.Standardized = !st.Scale01
		pv.FeatureMean, pv.FeatureStd = st.Mean, st.Std
		if s.Regression() && !st.Scale01 {
			m, sd := st.YMean, st.YStd
			pv.TargetMean, pv.TargetStd = &m, &sd
		}
	}
	return pv
}
