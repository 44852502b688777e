package track

import (
	"encoding/gob"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/problem"
)

const checkpointMagic = "sgdprior track checkpoint v1"

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

func writeCheckpoint(path string, c *checkpoint) error {
	return atomicfile.Write(path, func(w io.Writer) error { return gob.NewEncoder(w).Encode(c) })
}

// readCheckpoint reads path and checks that it belongs to the run of id (a *field.Error of
// key "resume" otherwise).
func readCheckpoint(path string, id identity) (*checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, field.Errorf("resume", "%v", err)
	}
	defer f.Close()
	var c checkpoint
	if err := gob.NewDecoder(f).Decode(&c); err != nil {
		return nil, field.Errorf("resume", "%s is not a track checkpoint: %v", path, err)
	}
	if !reflect.DeepEqual(c.ID, id) {
		return nil, field.Errorf("resume", "%s belongs to another run (problem, settings, seed or θ0 differ)", path)
	}
	return &c, nil
}

// restoreStream returns the PCG stream saved in c.
func (c *checkpoint) restoreStream() (*rand.PCG, error) {
	pcg := rand.NewPCG(0, 0)
	if err := pcg.UnmarshalBinary(c.PCG); err != nil {
		return nil, fmt.Errorf("track: checkpoint stream: %w", err)
	}
	return pcg, nil
}
