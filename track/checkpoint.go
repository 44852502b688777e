package track

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/problem"
)

// checkpointMagic is part of a checkpoint's identity (unchanged since format version 1).
const checkpointMagic = "sgdprior track checkpoint v1"

// Checkpoint file layout (format version 2): a sealed file (internal/atomicfile) whose first
// line is checkpointFileMagic, whose payload is the gob encoding of a checkpoint, and whose
// last 32 bytes are the SHA-256 of everything before them; a file whose checksum does not
// match is refused as corrupt before it is decoded. Version 1 (a bare gob stream, no
// checksum: one flipped bit in θ or the rows went undetected) is refused.
const (
	checkpointVersion   = 2
	checkpointFileMagic = "sgdprior track checkpoint 2\n"
	deleteHint          = "delete it to start over"
)

// identity is everything that determines a run's rows: a checkpoint resumes only a run with
// the same identity (Steps may differ only if the checkpoint's step is not beyond it; it is
// kept equal here for simplicity).
type identity struct {
	Magic                                      string
	Model, Data, DataSHA256                    string
	N, D                                       int
	WeightDecay                                float64
	LR                                         float64
	Batch, Sampling                            int
	Seed                                       uint64
	Steps, Every, LogRows                      int
	CovExamples, HCExamples, TraceProbes       int
	ExactTraceMaxDim, DenseMaxDim, LanczosIter int
	LanczosTol                                 float64
	Inverse                                    linalg.InverseSettings
	NoPrior                                    bool
	Theta0                                     []float64
}

func identityOf(p *problem.Problem, s *Settings, theta0 []float64) identity {
	return identity{Magic: checkpointMagic, Model: p.Model.Name(), Data: p.Data.Name, DataSHA256: p.Data.SHA256,
		N: p.N(), D: p.D(), WeightDecay: p.Spec.WeightDecay, LR: s.LR, Batch: s.Batch, Sampling: int(s.Sampling),
		Seed: s.Seed, Steps: s.Steps, Every: s.Every, LogRows: s.LogRows, CovExamples: s.CovExamples,
		HCExamples: s.HCExamples, TraceProbes: s.TraceProbes, ExactTraceMaxDim: s.ExactTraceMaxDim,
		DenseMaxDim: s.DenseMaxDim, LanczosIter: s.LanczosIter, LanczosTol: s.LanczosTol, Inverse: s.Inverse,
		NoPrior: s.NoPrior, Theta0: theta0}
}

// checkpoint is the state of a run between two steps: the step t about to be taken, θ_t, the
// open FDR window, the rows so far, the random stream and the sampler's state, and the
// warnings issued.
type checkpoint struct {
	ID       identity
	Step     int
	Theta    []float64
	Origin   []float64
	SumDot   float64
	SumSq    float64
	WinSteps int
	Next     int
	Rows     []Row
	PCG      []byte
	Perm     []int
	Pos      int
	Warned   []string
	Warnings []string
}

// writeCheckpoint writes c to path atomically, after removing temporary files of path left
// by an earlier process killed while writing it.
func writeCheckpoint(path string, c *checkpoint) error {
	if err := atomicfile.RemoveStaleFor(path); err != nil {
		return err
	}
	return atomicfile.WriteSealed(path, checkpointFileMagic, func(w io.Writer) error { return gob.NewEncoder(w).Encode(c) })
}

// readCheckpoint reads path and checks that it belongs to the run of id (a *field.Error of
// key "resume" otherwise). A damaged or truncated file (its checksum does not match), or one
// of format version 1, is refused with a one-line data error (not a *field.Error) naming it.
// Temporary files of path left by a process killed while writing it are removed.
func readCheckpoint(path string, id identity) (*checkpoint, error) {
	if err := atomicfile.RemoveStaleFor(path); err != nil {
		return nil, fmt.Errorf("track: checkpoint %s: %w", path, err)
	}
	f, err := atomicfile.OpenSealed(path, checkpointFileMagic)
	switch {
	case errors.Is(err, atomicfile.ErrCorrupt):
		return nil, fmt.Errorf("track: checkpoint %s: %v; %s", path, atomicfile.ErrCorrupt, deleteHint)
	case errors.Is(err, atomicfile.ErrNotSealed):
		if v, ok := checkpointFileVersion(path); ok {
			return nil, fmt.Errorf("track: checkpoint %s: format version %d, this program reads version %d; %s", path, v, checkpointVersion, deleteHint)
		}
		return nil, field.Errorf("resume", "%s is not a track checkpoint", path)
	case err != nil:
		return nil, field.Errorf("resume", "%v", err)
	}
	defer f.Close()
	var c checkpoint
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 1<<16)).Decode(&c); err != nil {
		return nil, field.Errorf("resume", "%s is not a track checkpoint: %v", path, err)
	}
	if !reflect.DeepEqual(c.ID, id) {
		return nil, field.Errorf("resume", "%s belongs to another run (problem, settings, seed or θ0 differ)", path)
	}
	return &c, nil
}

// checkpointFileVersion reports the format version of a track checkpoint of another version
// than this one: a first line "sgdprior track checkpoint N", or version 1, a bare gob stream
// whose identity holds checkpointMagic (atomicfile.SealedVersion).
func checkpointFileVersion(path string) (int, bool) {
	return atomicfile.SealedVersion(path, "sgdprior track checkpoint ", checkpointMagic)
}

// restoreStream returns the PCG stream saved in c.
func (c *checkpoint) restoreStream() (*rand.PCG, error) {
	pcg := rand.NewPCG(0, 0)
	if err := pcg.UnmarshalBinary(c.PCG); err != nil {
		return nil, fmt.Errorf("track: checkpoint stream: %w", err)
	}
	return pcg, nil
}
