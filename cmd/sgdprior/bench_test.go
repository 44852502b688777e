package main

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRunJobs times the default study (--quick unless SGDPRIOR_BENCH_FULL=1) run by
// the local executor serially and with --jobs 2. bench/jobs.sh runs the two in alternating
// rounds and prints their medians (-count would run each one's rounds back to back).
// Steps already use both cores, so the gain of running two at once is bounded by the
// serial parts of the steps (L-BFGS, the landscapes' chains, the outputs).
func BenchmarkRunJobs(b *testing.B) {
	args := []string{"run", "--quick"}
	if os.Getenv("SGDPRIOR_BENCH_FULL") == "1" {
		args = []string{"run"}
	}
	for _, jobs := range []string{"1", "2"} {
		b.Run("jobs="+jobs, func(b *testing.B) {
			for range b.N {
				out := filepath.Join(b.TempDir(), "out")
				if code := run(append(args, "--out", out, "--jobs", jobs), discard{}, discard{}); code != 0 {
					b.Fatalf("run --jobs %s: exit %d", jobs, code)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
