package study

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/escape"
	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/track"
	"github.com/sgdprior/sgdprior/train"
	"github.com/sgdprior/sgdprior/verify"
)

// ResultsFile is the name of the results file in a report directory.
const ResultsFile = "results.json"

// Results is results.json: the study as run, every step's command line and its JSON
// output exactly as the subcommand wrote it, and the summary drawn from them. The report
// is rendered from a Results alone.
type Results struct {
	// Version is the program version that ran the study.
	Version string `json:"version"`
	// CommandLine is the command that ran the study.
	CommandLine []string `json:"command_line"`
	// StudyFile names the study file (DefaultName for the embedded one) and Quick says
	// whether --quick applied its quick tables.
	StudyFile string `json:"study_file"`
	Quick     bool   `json:"quick"`
	// Executor ran the steps: "local" (this process), "slurm" (job arrays) or "plan"
	// (tasks run by another driver); the one field in which the results of the executors
	// differ.
	Executor string `json:"executor,omitempty"`
	// Study is the study as run (quick tables applied).
	Study *Study `json:"study"`
	// Steps are the steps in the order they ran.
	Steps []StepResult `json:"steps"`
	// Summary holds the verdicts and the warnings (Summarize).
	Summary *Summary `json:"summary"`
}

// StepResult is one step and its output.
type StepResult struct {
	Step
	// CommandLine is Step.CommandLine(): what a user types to reproduce the step.
	CommandLine string `json:"command_line"`
	// Output is the step's --json output, byte for byte as the command wrote it (up to
	// white space).
	Output json.RawMessage `json:"output"`
}

// Train decodes a train step's output.
func (s *StepResult) Train() (*train.Output, error) {
	var o train.Output
	return &o, s.decode(KindTrain, &o)
}

// Score decodes a score step's output. Its η and B are the step's (LR, Batch).
func (s *StepResult) Score() (*score.Output, error) {
	var o score.Output
	return &o, s.decode(KindScore, &o)
}

// Verify decodes a verify step's output. Its η and B are the step's (LR, Batch).
func (s *StepResult) Verify() (*verify.Report, error) {
	var o verify.Report
	return &o, s.decode(KindVerify, &o)
}

// Landscape decodes a landscape step's output.
func (s *StepResult) Landscape() (*landscape.Output, error) {
	var o landscape.Output
	return &o, s.decode(KindLandscape, &o)
}

// Track decodes a track step's output.
func (s *StepResult) Track() (*track.Output, error) {
	var o track.Output
	return &o, s.decode(KindTrack, &o)
}

// Basins decodes a basins step's output.
func (s *StepResult) Basins() (*basins.Output, error) {
	var o basins.Output
	return &o, s.decode(KindBasins, &o)
}

// Escape decodes an escape step's output.
func (s *StepResult) Escape() (*escape.Output, error) {
	var o escape.Output
	return &o, s.decode(KindEscape, &o)
}

func (s *StepResult) decode(kind string, v any) error {
	if s.Command != kind {
		panic(fmt.Sprintf("study: step %s is a %s step, not %s", s.ID, s.Command, kind))
	}
	return decode(s.Output, v, s.ID)
}

// decode reads raw into v, naming the step on failure.
func decode(raw json.RawMessage, v any, step string) error {
	if len(raw) == 0 {
		return fmt.Errorf("step %s has no output", step)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("step %s: reading its JSON output: %v", step, err)
	}
	return nil
}

// EntrySteps returns the steps of the named entry, in order.
func (r *Results) EntrySteps(entry string) []*StepResult {
	var out []*StepResult
	for i := range r.Steps {
		if r.Steps[i].Entry == entry {
			out = append(out, &r.Steps[i])
		}
	}
	return out
}

// Write writes r as indented JSON to path, atomically.
func (r *Results) Write(path string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// ReadResults reads a results.json written by Write.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if r.Study == nil {
		return nil, fmt.Errorf("%s: not an sgdprior results file (no \"study\")", path)
	}
	return &r, nil
}
