package main

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
)

// provenance is written into every JSON output (MATH.md §10): enough to reproduce a result
// and to exchange θ with PyTorch.
type provenance struct {
	Version      string    `json:"version"`
	CommandLine  []string  `json:"command_line"`
	Seed         uint64    `json:"seed"`
	Data         string    `json:"data,omitempty"`
	DataSHA256   string    `json:"data_sha256,omitempty"`
	N            int       `json:"n,omitempty"`
	Features     int       `json:"features,omitempty"`
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
}

func newProvenance(e *env, seed uint64, pr *problem) provenance {
	pv := provenance{Version: version, CommandLine: e.cmdline, Seed: seed}
	if pr == nil {
		return pv
	}
	f := pr.flags
	pv.Data, pv.DataSHA256 = pr.data.Name, pr.data.SHA256
	pv.N, pv.Features = pr.data.Len(), pr.data.NumFeatures()
	pv.Model, pv.WeightDecay = pr.model.Name(), f.weightDecay
	if len(f.model) > 3 && f.model[:4] == "mlp:" {
		pv.Act, pv.Task = f.act, f.task
	}
	if f.regression() {
		pv.Sigma = f.sigma
	}
	pv.Labels = pr.data.Classes
	if st := pr.data.Standardization; st != nil {
		pv.Scale01 = st.Scale01
		pv.Standardized = !st.Scale01
		pv.FeatureMean, pv.FeatureStd = st.Mean, st.Std
		if f.regression() && !st.Scale01 {
			m, s := st.YMean, st.YStd
			pv.TargetMean, pv.TargetStd = &m, &s
		}
	}
	return pv
}

// writeJSON writes v, indented, to path atomically.
func writeJSON(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// jsonFloat is a float64 that marshals as null when it is not finite (MATH.md §10).
type jsonFloat = jsonnum.Float
