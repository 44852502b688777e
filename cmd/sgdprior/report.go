package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sgdprior/sgdprior/report"
	"github.com/sgdprior/sgdprior/study"
)

func init() {
	register(&command{
		name:    "report",
		summary: "re-render a study's report from its results.json, without recomputing",
		run:     runReport,
	})
}

// runReport renders report.html, figures/ and tables/ from DIR/results.json. It runs no
// step and recomputes nothing: the verdicts and numbers are those stored in results.json.
func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "report", "--from DIR [--out DIR2]")
	from := fs.String("from", "", "report directory holding results.json (written by `sgdprior run`)")
	out := fs.String("out", "", "write the report here (default: the --from directory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return usagef("--from is required")
	}
	dst := *out
	if dst == "" {
		dst = *from
	}
	path := filepath.Join(*from, study.ResultsFile)
	res, err := study.ReadResults(path)
	if err != nil {
		return err
	}
	if res.Summary == nil {
		return fmt.Errorf("%s: no summary (an interrupted study?)", path)
	}
	// Build checks the names read back (a results.json may come from anyone) before
	// anything is written.
	rep, err := report.Build(res)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if dst != *from {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		// The page links to results.json beside it.
		if err := res.Write(filepath.Join(dst, study.ResultsFile)); err != nil {
			return err
		}
	}
	if err := rep.Write(dst); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", filepath.Join(dst, report.HTMLFile))
	return nil
}
