package study

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
)

// Needs returns, for each step, the indices of the steps whose files it reads: a score,
// verify or escape step reads the θ* its problem's train step writes. The indices are
// increasing and each is below the step's own (Steps orders a step after the steps it
// reads), so the steps' order is a valid serial schedule.
func Needs(steps []Step) [][]int {
	writer := map[string]int{}
	for i := range steps {
		for _, f := range steps[i].OutputFiles() {
			writer[filepath.Clean(f)] = i
		}
	}
	needs := make([][]int, len(steps))
	for i := range steps {
		for _, f := range steps[i].inputFiles() {
			if j, ok := writer[filepath.Clean(f)]; ok && j != i {
				if j > i {
					panic(fmt.Sprintf("study: step %s reads %s, written by the later step %s", steps[i].ID, f, steps[j].ID))
				}
				needs[i] = append(needs[i], j)
			}
		}
		slices.Sort(needs[i])
		needs[i] = slices.Compact(needs[i])
	}
	return needs
}

// inputFiles are the files a step reads that a study's step may write: θ* (for every kind
// but train, which writes it) and the initial parameters.
func (s *Step) inputFiles() []string {
	var files []string
	if s.Theta != "" && s.Command != KindTrain {
		files = append(files, s.Theta)
	}
	if s.Init != "" {
		files = append(files, s.Init)
	}
	return files
}

// Levels assigns each step in run (a subset of the steps, true where the step is to run) its
// dependency level: 0 when none of the steps it needs runs, else one more than the highest
// level among those. Steps outside run get -1. The steps of one level are independent of
// each other, and every step runs after the levels below it: one job array per level.
func Levels(needs [][]int, run []bool) []int {
	level := make([]int, len(needs))
	for i := range needs {
		level[i] = -1
		if !run[i] {
			continue
		}
		level[i] = 0
		for _, j := range needs[i] {
			if run[j] {
				level[i] = max(level[i], level[j]+1)
			}
		}
	}
	return level
}

// WithDependents returns run extended by every step that needs (directly or not) a step in
// run: when a step reruns, the files its dependents read change.
func WithDependents(needs [][]int, run []bool) []bool {
	out := slices.Clone(run)
	for i := range needs {
		for _, j := range needs[i] {
			if out[j] {
				out[i] = true
			}
		}
	}
	return out
}

// PlanFile is the plan of a study run by an executor other than the in-process one, in the
// output directory: the executor's tasks read it to find their step.
const PlanFile = "plan.json"

// TasksDir holds the record of each finished task (TaskRecord), in the output directory.
const TasksDir = "tasks"

// PlanFormat is the version of the plan's layout.
const PlanFormat = 1

// Plan is a study planned into tasks, one per step, for an executor that runs each task in
// a process of its own (SLURM job arrays; anything that can start `sgdprior task --plan
// FILE --index I`). It holds the study's text, not its steps: a task parses the study again,
// expands its steps and runs the one at its index, after checking that the step's ID and
// settings hash are the planned ones and that it is the same program.
type Plan struct {
	Format int `json:"format"`
	// Program is the program that wrote the plan: its version and the SHA-256 of its
	// executable; a task refuses a plan of another program.
	Program string `json:"program"`
	// StudyFile names the study (DefaultName for the embedded one); Source is its text and
	// Dir the directory its relative file names are resolved against ("" for none).
	StudyFile string `json:"study_file"`
	Source    string `json:"source"`
	Dir       string `json:"dir"`
	// Quick applies the study's quick tables.
	Quick bool `json:"quick"`
	// Seeds, when set, replace the study's seeds (run --seeds).
	Seeds []uint64 `json:"seeds,omitempty"`
	// CommandLine is the run's command line as results.json records it (without the
	// executor's own flags) and Executor the executor's name.
	CommandLine []string `json:"command_line"`
	Executor    string   `json:"executor"`
	// Jobs are the job IDs the executor submitted, one per level (SLURM).
	Jobs []string `json:"jobs,omitempty"`
	// Tasks are every step of the study, in its order; a task with Level −1 had finished
	// before this run and is not submitted.
	Tasks []PlanTask `json:"tasks"`
}

// PlanTask is one step of a plan.
type PlanTask struct {
	// Index is the task's index: its step's position in the study's steps, the array index
	// of its job.
	Index int    `json:"index"`
	ID    string `json:"id"`
	// Hash is the step's StepHash under the plan's program.
	Hash string `json:"hash"`
	// Needs are the indices of the tasks whose files this one reads.
	Needs []int `json:"needs,omitempty"`
	// Level is the task's dependency level among the submitted tasks (Levels), -1 for a
	// task that had finished before this run.
	Level int `json:"level"`
}

// SetTasks plans steps into p's tasks under program: every task with its needs, and its
// level among the ones to run (run[i] true for a step this run executes).
func (p *Plan) SetTasks(program string, steps []Step, run []bool) {
	needs := Needs(steps)
	levels := Levels(needs, run)
	p.Program, p.Tasks = program, nil
	for i := range steps {
		p.Tasks = append(p.Tasks, PlanTask{Index: i, ID: steps[i].ID, Hash: StepHash(program, &steps[i]), Needs: needs[i], Level: levels[i]})
	}
}

// Write writes the plan to dir/PlanFile, atomically.
func (p *Plan) Write(dir string) error {
	p.Format = PlanFormat
	return atomicfile.WriteJSON(filepath.Join(dir, PlanFile), p)
}

// ReadPlan reads a plan written by Write. Every ID and hash is checked as strictly as a
// manifest's, so that a crafted plan cannot name a file outside its directory.
func ReadPlan(path string) (*Plan, error) {
	var p Plan
	if err := atomicfile.ReadJSON(path, &p); err != nil {
		return nil, err
	}
	if p.Format != PlanFormat {
		return nil, fmt.Errorf("%s: format %d, want %d", path, p.Format, PlanFormat)
	}
	for i, t := range p.Tasks {
		if t.Index != i || !validStepID(t.ID) || !manifestHash.MatchString(t.Hash) {
			return nil, fmt.Errorf("%s: task %d: malformed entry", path, i)
		}
		for _, j := range t.Needs {
			if j < 0 || j >= i {
				return nil, fmt.Errorf("%s: task %d: needs %d, which is not an earlier task", path, i, j)
			}
		}
	}
	return &p, nil
}

// Levels returns the indices of the plan's submitted tasks by level, lowest first.
func (p *Plan) Levels() [][]int {
	var out [][]int
	for _, t := range p.Tasks {
		if t.Level < 0 {
			continue
		}
		for len(out) <= t.Level {
			out = append(out, nil)
		}
		out[t.Level] = append(out[t.Level], t.Index)
	}
	return out
}

// TaskRecord is the file a finished task writes into TasksDir: its manifest entry.
func TaskRecord(dir, id string) string {
	return filepath.Join(dir, TasksDir, strings.ReplaceAll(id, "/", "-")+".json")
}

// WriteTaskRecord records the finished step s of the plan's program in dir/TasksDir.
func WriteTaskRecord(dir, program string, s *Step) error {
	rec, err := Record(dir, program, s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, TasksDir), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteJSON(TaskRecord(dir, s.ID), rec)
}

// FoldTaskRecords adds to m the task records in dir/TasksDir of the given steps (replacing
// m's own record of the same step) and reports how many it found. A record is read back as
// strictly as a manifest entry; one that does not parse, or names another step, is an error
// naming its file. Records of steps not in steps are ignored.
func (m *Manifest) FoldTaskRecords(dir string, steps []Step) (int, error) {
	found := 0
	for i := range steps {
		path := TaskRecord(dir, steps[i].ID)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		var rec ManifestStep
		if err := atomicfile.ReadJSON(path, &rec); err != nil {
			return found, err
		}
		if err := rec.check(); err != nil || rec.ID != steps[i].ID {
			return found, fmt.Errorf("%s: malformed task record", path)
		}
		m.Steps = slices.DeleteFunc(m.Steps, func(ms ManifestStep) bool { return ms.ID == rec.ID })
		m.Steps = append(m.Steps, rec)
		found++
	}
	return found, nil
}

// SetStudyFile makes the study file at path the plan's study, read as Load reads it.
func (p *Plan) SetStudyFile(path string) error {
	text, dir, err := readStudyFile(path)
	if err != nil {
		return err
	}
	p.StudyFile, p.Source, p.Dir = path, string(text), dir
	return nil
}

// Study parses the plan's study again, as the run that wrote the plan did: its quick tables
// applied when Quick, its seeds replaced by Seeds when set.
func (p *Plan) Study() (*Study, error) {
	s, err := Parse([]byte(p.Source), p.StudyFile, p.Dir)
	if err != nil {
		return nil, err
	}
	if p.Quick {
		if s, err = s.Quick(); err != nil {
			return nil, &FileError{File: p.StudyFile, Msg: err.Error()}
		}
	}
	if len(p.Seeds) > 0 {
		// A *field.Error keyed "seeds": the command line's --seeds.
		return s.WithSeeds(p.Seeds)
	}
	return s, nil
}

// Slurm is a study's [slurm] table: what each task of `run --executor slurm` asks the
// scheduler for. Zero values leave the defaults (run's --slurm-* flags say which).
type Slurm struct {
	// Partition is sbatch's --partition; "" is the cluster's default partition.
	Partition string `toml:"partition" json:"partition,omitempty"`
	// Time is each task's time limit in minutes.
	Time int `toml:"time" json:"time,omitempty"`
	// Mem is each task's memory in MB; 0 estimates it from the largest step of a level.
	Mem int `toml:"mem" json:"mem,omitempty"`
	// CPUs is each task's --cpus-per-task.
	CPUs int `toml:"cpus" json:"cpus,omitempty"`
}

// validate checks the table (nil is valid).
func (s *Slurm) validate() error {
	if s == nil {
		return nil
	}
	switch {
	case s.Time < 0:
		return fmt.Errorf("slurm.time: %d, want minutes > 0", s.Time)
	case s.Mem < 0:
		return fmt.Errorf("slurm.mem: %d, want MB > 0", s.Mem)
	case s.CPUs < 0:
		return fmt.Errorf("slurm.cpus: %d, want at least 1", s.CPUs)
	case strings.ContainsAny(s.Partition, " \t\n,'\"\\"):
		return fmt.Errorf("slurm.partition: %q is not a partition name", s.Partition)
	}
	return nil
}
