package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

func init() {
	register(&command{
		name:    "run",
		summary: "run the default study on embedded data (what `sgdprior` with no arguments does)",
		run:     runStudy,
	})
}

// runStudy is the main job. It trains logistic regression on breast-cancer with weight
// decay 0.01: the exact minimum θ* by L-BFGS, then SGD (η = 0.1, B = 32) from the default
// initialisation, writing both parameter vectors and their summaries to the output
// directory.
func runStudy(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "run", "[--out DIR]")
	out := fs.String("out", "sgdprior-report", "output directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	common := []string{"--data", "breast-cancer", "--model", "logistic", "--weight-decay", "0.01"}
	steps := []struct {
		title string
		args  []string
	}{
		{"exact full-batch minimum θ* (L-BFGS + Newton–CG)", []string{"--method", "lbfgs",
			"--out", filepath.Join(*out, "theta-star.npy"), "--json", filepath.Join(*out, "theta-star.json")}},
		{"SGD, η = 0.1, B = 32, 20 epochs", []string{"--method", "sgd", "--lr", "0.1", "--batch", "32", "--epochs", "20",
			"--out", filepath.Join(*out, "theta-sgd.npy"), "--json", filepath.Join(*out, "theta-sgd.json")}},
	}
	for _, s := range steps {
		fmt.Fprintf(e.stdout, "== %s\n", s.title)
		if err := runTrain(ctx, e, append(append([]string{}, common...), s.args...)); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}
