package study

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/sgdprior/sgdprior/field"
)

// The top-level names of an output directory that belong to the runner and the report,
// beside ResultsFile; the entries' directories sit next to them.
const (
	// ReportFile is the report's page.
	ReportFile = "report.html"
	// FiguresDir and TablesDir hold the report's figures (.svg, .png) and tables (.csv).
	FiguresDir = "figures"
	TablesDir  = "tables"
	// LogsDir holds the steps' logs.
	LogsDir = "logs"
)

// ReservedNames are the top-level names of an output directory that are not an entry's
// (ResultsFile, ReportFile, FiguresDir, TablesDir, LogsDir). An entry may not take one, in
// any letter case (a case-insensitive file system would merge them).
var ReservedNames = []string{ResultsFile, ReportFile, FiguresDir, TablesDir, LogsDir}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CheckName is the rule for an entry's name, which names its directory in the output and
// begins the names of its figures and tables: it is required, holds only letters, digits,
// '.', '_' and '-', begins with a letter or a digit (so it is one path component, never
// "..", never hidden), and is not one of ReservedNames. The error is a *field.Error of key
// "name". The study applies it when it parses a study file, and the report again to every
// name it reads back from results.json.
func CheckName(n string) error {
	switch {
	case n == "":
		return field.Errorf("name", "is required")
	case !nameRE.MatchString(n):
		return field.Errorf("name", "may hold only letters, digits, '.', '_' and '-', beginning with a letter or a digit")
	}
	if i := slices.IndexFunc(ReservedNames, func(r string) bool { return strings.EqualFold(r, n) }); i >= 0 {
		return field.Errorf("name", "is reserved: %s at the top of the output directory is the report's own", ReservedNames[i])
	}
	return nil
}

// entryNames checks the entries' names with CheckName and that no two are equal, and
// returns them; an error names the entry by its kind and place ("problem 2") or its name.
func (s *Study) entryNames() (map[string]bool, error) {
	seen := map[string]bool{}
	check := func(kind string, i int, n string) error {
		if err := CheckName(n); err != nil {
			if n == "" {
				return fmt.Errorf("%s %d: %s", kind, i+1, field.As(err).TOML())
			}
			return fmt.Errorf("%s %q: %s", kind, n, field.As(err).TOML())
		}
		if seen[n] {
			return fmt.Errorf("%s %q: name is used twice", kind, n)
		}
		seen[n] = true
		return nil
	}
	for i := range s.Problems {
		if err := check("problem", i, s.Problems[i].Name); err != nil {
			return nil, err
		}
	}
	for i := range s.Landscapes {
		if err := check("landscape", i, s.Landscapes[i].Name); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// CheckNames checks every name and path of r that the report or a resumed run turns into a
// file name, by the rules the study applied when it wrote them: the entries' names
// (CheckName, unique), each step's entry (one of them) and each step's JSON file (a local
// path inside its entry's directory). A results.json from elsewhere is data: it must not
// direct a write outside the output directory.
func (r *Results) CheckNames() error {
	if r.Study == nil {
		return errors.New("no study")
	}
	names, err := r.Study.entryNames()
	if err != nil {
		return err
	}
	for i := range r.Steps {
		s := &r.Steps[i].Step
		if !names[s.Entry] {
			return fmt.Errorf("step %d (%q): entry %q is not one of the study's", i+1, s.ID, s.Entry)
		}
		if s.JSON != "" && (!filepath.IsLocal(s.JSON) || filepath.Dir(s.JSON) != s.Entry || strings.ContainsRune(s.JSON, 0)) {
			return fmt.Errorf("step %d (%q): json %q is not a file in the directory of entry %q", i+1, s.ID, s.JSON, s.Entry)
		}
	}
	return nil
}
