package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sgdprior/sgdprior/study"
)

func init() {
	register(&command{
		name:    "task",
		summary: "run one task of a study's plan (written by `sgdprior run --executor slurm|plan`): the entry point of SLURM array tasks, Kubernetes Indexed Jobs or GNU parallel",
		run:     runTask,
	})
}

// runTask runs the step at one index of a plan, into the plan's directory, and records it
// as finished (study.WriteTaskRecord). The index is --index, else SLURM_ARRAY_TASK_ID, else
// JOB_COMPLETION_INDEX (a Kubernetes Indexed Job). With --level L it counts the tasks of
// that level only (0, 1, … for a driver that numbers each level's tasks from zero, as an
// Indexed Job does). The task refuses a plan of another program, a step whose ID or
// settings differ from the planned ones, and a step whose needs have not finished.
func runTask(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "task", "--plan DIR/plan.json [--level L] [--index I]")
	planPath := fs.String("plan", "", "the plan file (DIR/plan.json, written by `sgdprior run --executor slurm` or `--executor plan`)")
	index := fs.Int("index", -1, "the task's index (default: $SLURM_ARRAY_TASK_ID, else $JOB_COMPLETION_INDEX)")
	level := fs.Int("level", -1, "count --index among the tasks of this dependency level only (from 0)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *planPath == "" {
		return usagef("--plan is required")
	}
	if *index < 0 {
		i, err := envIndex()
		if err != nil {
			return err
		}
		*index = i
	}
	plan, err := study.ReadPlan(*planPath)
	if err != nil {
		return err
	}
	out := filepath.Dir(*planPath)
	if *level >= 0 {
		levels := plan.Levels()
		if *level >= len(levels) {
			return usagef("--level %d: the plan %s has %d levels of tasks to run", *level, *planPath, len(levels))
		}
		if *index >= len(levels[*level]) {
			return usagef("--index %d: level %d of the plan %s has tasks 0 to %d", *index, *level, *planPath, len(levels[*level])-1)
		}
		*index = levels[*level][*index]
	}
	if *index >= len(plan.Tasks) {
		return usagef("--index %d: the plan %s has tasks 0 to %d", *index, *planPath, len(plan.Tasks)-1)
	}
	program := version + "+" + executableID()
	if plan.Program != program {
		return fmt.Errorf("%s: written by another build of sgdprior (%s; this is %s): rerun `sgdprior run` with this one", *planPath, plan.Program, program)
	}
	s, err := plan.Study()
	if err != nil {
		return err
	}
	steps := s.Steps()
	t := plan.Tasks[*index]
	if len(steps) != len(plan.Tasks) || steps[t.Index].ID != t.ID || study.StepHash(program, &steps[t.Index]) != t.Hash {
		return fmt.Errorf("%s: task %d (%s): the study no longer expands to the planned step", *planPath, t.Index, t.ID)
	}
	man, err := study.ReadManifest(out)
	if err != nil {
		return err
	}
	if man == nil {
		man = &study.Manifest{}
	}
	// Only the needs' records: a task of a large sweep does not read every other's.
	needs := make([]study.Step, len(t.Needs))
	for k, j := range t.Needs {
		needs[k] = steps[j]
	}
	if _, err := man.FoldTaskRecords(out, needs); err != nil {
		return err
	}
	for _, j := range t.Needs {
		if man.Finished(out, program, &steps[j]) == nil {
			return fmt.Errorf("task %d (%s) needs task %d (%s), which has not finished", t.Index, t.ID, j, steps[j].ID)
		}
	}
	st := &steps[t.Index]
	if err := os.MkdirAll(filepath.Join(out, st.Entry), 0o755); err != nil {
		return err
	}
	if err := runStep(ctx, e, newProgress(e.stdout), out, st, t.Index, len(steps)); err != nil {
		return err
	}
	return study.WriteTaskRecord(out, program, st)
}

var errNoTask = errors.New("no task index: pass --index I, or run it as a SLURM array task (SLURM_ARRAY_TASK_ID) or in a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)")

// envIndex is the task index an array scheduler sets: SLURM_ARRAY_TASK_ID, else
// JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs).
func envIndex() (int, error) {
	for _, name := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
		v, ok := os.LookupEnv(name)
		if !ok {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return 0, usagef("%s=%q is not a task index", name, v)
		}
		return i, nil
	}
	return 0, usagef("%v", errNoTask)
}
