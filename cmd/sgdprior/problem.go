package main

import (
	"path/filepath"
	"sort"

	"github.com/sgdprior/sgdprior/field"
)

// flagError turns a *field.Error into a usage error naming the flag ("--lr must be > 0, not
// 0"); other errors pass unchanged.
func flagError(err error) error {
	if fe := field.As(err); fe != nil {
		return usagef("%s", fe.Flag())
	}
	return err
}

// distinctOutputs refuses two output flags that name the same file (the second write would
// replace the first): a usage error naming both flags. Empty paths are not outputs.
func distinctOutputs(outputs map[string]string) error {
	seen := map[string]string{}
	flags := make([]string, 0, len(outputs))
	for f := range outputs {
		flags = append(flags, f)
	}
	sort.Strings(flags)
	for _, f := range flags {
		p := outputs[f]
		if p == "" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = filepath.Clean(p)
		}
		if g, ok := seen[abs]; ok {
			return usagef("--%s and --%s both name %s: give each output its own file", g, f, p)
		}
		seen[abs] = f
	}
	return nil
}
