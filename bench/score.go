package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The end-to-end score workload: mlp:128 on the MNIST training set (N = 60000) at θ =
// PyTorch's default initialisation (inputs/theta.npy; not a minimum, so no Gaussian
// predictions), C from a seeded subset of 4096 examples, damping λ (absolute, in the units
// of C_B), the top 20 eigenvalues; every other setting at its default.
const (
	scoreLR      = "0.1"
	scoreBatch   = "32"
	scoreSubset  = "4096"
	scoreDamping = "1e-4"
	scoreTopK    = "20"
)

// scoreRuns times `sgdprior score` in each build and torch_score.py at each thread setting,
// in -score-rounds rounds (the order alternating as in the workload rounds), and compares
// their stationary scores with the pure-Go build's.
func (h *harness) scoreRuns(mnist string) error {
	if mnist == "random" {
		h.note("no MNIST directory found: the end-to-end score comparison was skipped")
		return nil
	}
	params := filepath.Join(h.inputs, "theta.npy")
	ref := filepath.Join(h.out, "score_purego.json")
	type impl struct {
		build   goBuild
		threads int // > 0: PyTorch
	}
	var impls []impl
	for _, b := range h.builds {
		if h.sgdprior[b.name] != "" {
			impls = append(impls, impl{build: b})
		}
	}
	if h.torchOK {
		for _, t := range h.opt.threads {
			impls = append(impls, impl{threads: t})
		}
	}
	for r := 0; r < h.opt.scoreRounds; r++ {
		load := loadavg()
		fmt.Fprintf(h.log, "\n== score round %d of %d, load %s\n", r+1, h.opt.scoreRounds, load)
		for _, im := range roundOrder(impls, r) {
			var run ScoreRun
			var err error
			if im.threads == 0 {
				b := im.build
				fmt.Fprintf(h.log, "\n== sgdprior score, %s build\n", b.name)
				js := filepath.Join(h.out, "score_"+b.name+".json")
				var wall time.Duration
				var rss int64
				wall, rss, err = h.command(nil, filepath.Join(h.out, "score_"+b.name+".log"), h.sgdprior[b.name], "score",
					"--data", "idx:"+mnist, "--model", "mlp:128", "--params", params, "--lr", scoreLR, "--batch", scoreBatch,
					"--subset", scoreSubset, "--damping", scoreDamping, "--top-k", scoreTopK, "--json", js)
				run = ScoreRun{Impl: b.name, Seconds: wall.Seconds(), PeakBytes: rss}
			} else {
				t := im.threads
				fmt.Fprintf(h.log, "\n== PyTorch score script, %d thread(s)\n", t)
				js := filepath.Join(h.out, fmt.Sprintf("torch_score_%d.json", t))
				args := []string{filepath.Join(h.root, "bench", "torch_score.py"), "--mnist", mnist, "--params", params,
					"--hidden", "128", "--lr", scoreLR, "--batch", scoreBatch, "--damping", scoreDamping, "--top-k", scoreTopK,
					"--threads", fmt.Sprint(t), "--out", js, "--vector-out", filepath.Join(h.out, fmt.Sprintf("torch_score_%d_stationary.npy", t))}
				if fileExists(ref) {
					args = append(args, "--subset-from", ref)
				} else {
					args = append(args, "--subset", scoreSubset)
				}
				var wall time.Duration
				var rss int64
				wall, rss, err = h.command(threadEnv(t), filepath.Join(h.out, fmt.Sprintf("torch_score_%d.log", t)), h.opt.python, args...)
				run = ScoreRun{Impl: "torch", Threads: t, Seconds: wall.Seconds(), PeakBytes: rss}
			}
			if err != nil {
				run.Err = err.Error()
			}
			run.Round, run.Load = r+1, load
			h.res.Score = append(h.res.Score, run)
		}
	}
	if !h.torchOK {
		return nil
	}
	// Agreement of the stationary scores with the pure-Go build's.
	x, err := stationaryFromJSON(ref)
	if err != nil {
		h.note("cannot compare the score results: %v", err)
		return nil
	}
	if y, err := stationaryFromJSON(filepath.Join(h.out, "score_openblas.json")); err == nil {
		h.res.Agreement = append(h.res.Agreement, Agreement{Workload: "score (stationary score)", Impl: "go_openblas", RelDiff: relDiff(y, x)})
	}
	for _, t := range h.opt.threads {
		if y, err := readArray(filepath.Join(h.out, fmt.Sprintf("torch_score_%d_stationary.npy", t))); err == nil {
			h.res.Agreement = append(h.res.Agreement, Agreement{Workload: "score (stationary score)", Impl: fmt.Sprintf("torch_%d", t), RelDiff: relDiff(y, x)})
		}
	}
	return nil
}

// stationaryFromJSON reads vectors.stationary_score from score's --json output.
func stationaryFromJSON(path string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v struct {
		Vectors struct {
			Stationary []*float64 `json:"stationary_score"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(v.Vectors.Stationary) == 0 {
		return nil, fmt.Errorf("%s: no vectors.stationary_score", path)
	}
	out := make([]float64, len(v.Vectors.Stationary))
	for i, p := range v.Vectors.Stationary {
		if p == nil {
			return nil, fmt.Errorf("%s: stationary_score[%d] is not a number", path, i)
		}
		out[i] = *p
	}
	return out, nil
}
