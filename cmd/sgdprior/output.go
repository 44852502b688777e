package main

import (
	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
)

// provenance is the record every JSON output carries.
type provenance = problem.Provenance

func newProvenance(e *env, seed uint64, pr *problem.Problem) provenance {
	return problem.NewProvenance(version, e.cmdline, seed, pr)
}

// writeJSON writes v, indented, to path atomically.
func writeJSON(path string, v any) error { return atomicfile.WriteJSON(path, v) }

// jsonFloat is a float64 that marshals as null when it is not finite (docs/MATH.md §10).
type jsonFloat = jsonnum.Float
