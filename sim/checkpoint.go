package sim

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/noise"
)

// Checkpoint file layout (version 2): a sealed file (internal/atomicfile) whose first line is
// checkpointFileMagic, whose payload is an encoding/gob stream — a checkpointHeader, then one
// chainRecord per chain in order, floats stored exactly — and whose last 32 bytes are the
// SHA-256 of everything before them. A file whose checksum does not match is refused as
// corrupt before anything is decoded. Version 1 (a bare gob stream, whose header hash covered
// only the configuration) is refused: one flipped bit in its chain data went undetected.

const (
	checkpointMagic   = "sgdprior sim checkpoint"
	checkpointVersion = 2
)

// checkpointFileMagic is the first line of a checkpoint file of this version.
var checkpointFileMagic = fmt.Sprintf("%s %d\n", checkpointMagic, checkpointVersion)

// deleteHint ends the error for a checkpoint that cannot be used.
const deleteHint = "delete it to start over"

// identity is everything that determines a run's result: a checkpoint is resumable only
// under a Config with the same identity.
type identity struct {
	Method      int
	Sampling    int
	LR          float64
	Batch       int
	DT          float64
	Chains      int
	Steps       int
	Burnin      int
	Thin        int
	Seed        uint64
	Temperature float64
	Projected   bool
	ProjectDim  int
	N, D        int
	Init        []float64
	Inits       [][]float64
	Tag         string
}

func identityOf(s *settings) identity {
	id := identity{
		Method: int(s.Method), Sampling: int(s.Sampling), LR: s.LR, Batch: s.Batch, DT: s.DT,
		Chains: s.Chains, Steps: s.Steps, Burnin: s.Burnin, Thin: s.Thin, Seed: s.Seed,
		Temperature: s.Temperature, Projected: s.Project != nil, N: s.n, D: s.d,
		Init: s.Init, Inits: s.Inits, Tag: s.ConfigTag,
	}
	if id.Projected {
		id.ProjectDim = s.ProjectDim
	}
	return id
}

// hash returns the hex SHA-256 of a canonical binary encoding of id.
func (id identity) hash() string {
	h := sha256.New()
	put := func(v uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	f := func(v float64) { put(math.Float64bits(v)) }
	i := func(v int) { put(uint64(int64(v))) }
	h.Write([]byte(checkpointMagic))
	i(id.Method)
	i(id.Sampling)
	f(id.LR)
	i(id.Batch)
	f(id.DT)
	i(id.Chains)
	i(id.Steps)
	i(id.Burnin)
	i(id.Thin)
	put(id.Seed)
	f(id.Temperature)
	if id.Projected {
		i(1)
	} else {
		i(0)
	}
	i(id.ProjectDim)
	i(id.N)
	i(id.D)
	i(len(id.Init))
	for _, v := range id.Init {
		f(v)
	}
	if id.Inits != nil {
		// Per-chain starts (absent from version-1 hashes, which remain valid without them).
		i(len(id.Inits))
		for _, x := range id.Inits {
			i(len(x))
			for _, v := range x {
				f(v)
			}
		}
	}
	i(len(id.Tag))
	h.Write([]byte(id.Tag))
	return hex.EncodeToString(h.Sum(nil))
}

// diff lists, as "name X (checkpoint) vs Y (now)" items, the fields where a and b differ.
func (a identity) diff(b identity) []string {
	var out []string
	add := func(name string, x, y any) {
		out = append(out, fmt.Sprintf("%s %v (checkpoint) vs %v (now)", name, x, y))
	}
	feq := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	if a.Method != b.Method {
		add("method", Method(a.Method), Method(b.Method))
	}
	if a.Sampling != b.Sampling {
		add("sampling", noise.Sampling(a.Sampling), noise.Sampling(b.Sampling))
	}
	if !feq(a.LR, b.LR) {
		add("lr", a.LR, b.LR)
	}
	if a.Batch != b.Batch {
		add("batch", a.Batch, b.Batch)
	}
	if !feq(a.DT, b.DT) {
		add("dt", a.DT, b.DT)
	}
	if a.Chains != b.Chains {
		add("chains", a.Chains, b.Chains)
	}
	if a.Steps != b.Steps {
		add("steps", a.Steps, b.Steps)
	}
	if a.Burnin != b.Burnin {
		add("burnin", a.Burnin, b.Burnin)
	}
	if a.Thin != b.Thin {
		add("thin", a.Thin, b.Thin)
	}
	if a.Seed != b.Seed {
		add("seed", a.Seed, b.Seed)
	}
	if !feq(a.Temperature, b.Temperature) {
		add("temperature", a.Temperature, b.Temperature)
	}
	if a.Projected != b.Projected {
		add("projected", a.Projected, b.Projected)
	}
	if a.ProjectDim != b.ProjectDim {
		add("project dim", a.ProjectDim, b.ProjectDim)
	}
	if a.N != b.N {
		add("N", a.N, b.N)
	}
	if a.D != b.D {
		add("d", a.D, b.D)
	}
	if len(a.Init) != len(b.Init) {
		add("len(init)", len(a.Init), len(b.Init))
	} else {
		for j := range a.Init {
			if !feq(a.Init[j], b.Init[j]) {
				out = append(out, fmt.Sprintf("init differs (first at [%d]: %v (checkpoint) vs %v (now))", j, a.Init[j], b.Init[j]))
				break
			}
		}
	}
	if len(a.Inits) != len(b.Inits) {
		add("per-chain starts", len(a.Inits), len(b.Inits))
	} else {
	starts:
		for k := range a.Inits {
			if len(a.Inits[k]) != len(b.Inits[k]) {
				add(fmt.Sprintf("len(inits[%d])", k), len(a.Inits[k]), len(b.Inits[k]))
				break
			}
			for j := range a.Inits[k] {
				if !feq(a.Inits[k][j], b.Inits[k][j]) {
					out = append(out, fmt.Sprintf("start of chain %d differs (first at [%d]: %v (checkpoint) vs %v (now))", k, j, a.Inits[k][j], b.Inits[k][j]))
					break starts
				}
			}
		}
	}
	if a.Tag != b.Tag {
		add("config tag", fmt.Sprintf("%q", a.Tag), fmt.Sprintf("%q", b.Tag))
	}
	return out
}

type checkpointHeader struct {
	Magic    string
	Version  int
	Hash     string
	Identity identity
}

type chainRecord struct {
	Step    int
	Theta   []float64
	RNG     []byte
	Perm    []int
	Pos     int
	Kept    int
	Samples []float64
}

// checkpointWriter wraps the file writer of a checkpoint; tests replace it to inject
// write errors.
var checkpointWriter = func(w io.Writer) io.Writer { return w }

// writeCheckpoint writes the state of every chain to path atomically: on any error the
// previous file at path is left as it was. Temporary files of path left by an earlier process
// killed during a write are removed first.
func writeCheckpoint(path string, s *settings, chains []*chain) error {
	id := identityOf(s)
	if err := atomicfile.RemoveStaleFor(path); err != nil {
		return fmt.Errorf("sim: writing checkpoint: %w", err)
	}
	err := atomicfile.WriteSealed(path, checkpointFileMagic, func(f io.Writer) error {
		bw := bufio.NewWriterSize(checkpointWriter(f), 1<<16)
		enc := gob.NewEncoder(bw)
		if err := enc.Encode(checkpointHeader{Magic: checkpointMagic, Version: checkpointVersion, Hash: id.hash(), Identity: id}); err != nil {
			return err
		}
		for _, c := range chains {
			rng, err := c.pcg.MarshalBinary()
			if err != nil {
				return err
			}
			var perm []int
			var pos int
			if c.batches != nil {
				perm, pos = c.batches.State()
			}
			rec := chainRecord{Step: c.step, Theta: c.theta, RNG: rng, Perm: perm, Pos: pos, Kept: c.kept, Samples: c.samples}
			if err := enc.Encode(&rec); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("sim: writing checkpoint: %w", err)
	}
	return nil
}

// loadCheckpoint reads the chains of a checkpoint written for a configuration with the same
// identity as s. The file's checksum is verified before anything is decoded: a damaged or
// truncated file, or one of another format version, is refused with a one-line error naming
// it. Temporary files of path left by a process killed while writing it are removed.
func loadCheckpoint(path string, s *settings) ([]*chain, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("sim: checkpoint %s: %s", path, fmt.Sprintf(format, a...))
	}
	if err := atomicfile.RemoveStaleFor(path); err != nil {
		return nil, fmt.Errorf("sim: reading checkpoint: %w", err)
	}
	f, err := atomicfile.OpenSealed(path, checkpointFileMagic)
	switch {
	case errors.Is(err, atomicfile.ErrCorrupt):
		return nil, bad("%v; %s", atomicfile.ErrCorrupt, deleteHint)
	case errors.Is(err, atomicfile.ErrNotSealed):
		if v, ok := checkpointFileVersion(path); ok {
			return nil, bad("format version %d, this program reads version %d; %s", v, checkpointVersion, deleteHint)
		}
		return nil, bad("not a readable sim checkpoint")
	case err != nil:
		return nil, fmt.Errorf("sim: reading checkpoint: %w", err)
	}
	defer f.Close()
	dec := gob.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	var h checkpointHeader
	if err := dec.Decode(&h); err != nil {
		return nil, bad("not a readable sim checkpoint: %v", err)
	}
	if h.Magic != checkpointMagic {
		return nil, bad("not a sim checkpoint")
	}
	if h.Version != checkpointVersion {
		return nil, bad("version %d, this program reads version %d; %s", h.Version, checkpointVersion, deleteHint)
	}
	if h.Identity.hash() != h.Hash {
		return nil, bad("corrupt: its configuration does not match its hash; %s", deleteHint)
	}
	want := identityOf(s)
	if h.Hash != want.hash() {
		d := h.Identity.diff(want)
		if len(d) == 0 {
			d = []string{"unknown field"}
		}
		return nil, bad("written for a different configuration (hash %.12s vs %.12s): %s", h.Hash, want.hash(), strings.Join(d, "; "))
	}
	chains := make([]*chain, s.Chains)
	for k := range chains {
		var rec chainRecord
		if err := dec.Decode(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, bad("chain %d: %v", k, err)
		}
		c, err := restoreChain(s, uint64(k), &rec)
		if err != nil {
			return nil, bad("chain %d: %v", k, err)
		}
		chains[k] = c
	}
	return chains, nil
}

// checkpointFileVersion reports the format version of a sim checkpoint of another version
// than this one: a first line "sgdprior sim checkpoint N", or version 1, a bare gob stream
// whose header holds the magic string (atomicfile.SealedVersion).
func checkpointFileVersion(path string) (int, bool) {
	return atomicfile.SealedVersion(path, checkpointMagic+" ", checkpointMagic)
}

// restoreChain validates rec against s and turns it into a chain.
func restoreChain(s *settings, k uint64, rec *chainRecord) (*chain, error) {
	c := newChain(s, k)
	if rec.Step < 0 || rec.Step > s.Steps {
		return nil, fmt.Errorf("step %d outside [0, %d]", rec.Step, s.Steps)
	}
	if len(rec.Theta) != s.d {
		return nil, fmt.Errorf("θ has length %d, want %d", len(rec.Theta), s.d)
	}
	if rec.Kept != s.keptAt(rec.Step) || len(rec.Samples) != rec.Kept*s.dim {
		return nil, fmt.Errorf("%d samples (%d numbers) inconsistent with step %d", rec.Kept, len(rec.Samples), rec.Step)
	}
	if err := c.pcg.UnmarshalBinary(rec.RNG); err != nil {
		return nil, fmt.Errorf("random state: %v", err)
	}
	if c.batches != nil {
		if err := c.batches.Restore(rec.Perm, rec.Pos); err != nil {
			return nil, err
		}
	} else if len(rec.Perm) != 0 {
		return nil, fmt.Errorf("unexpected permutation buffer")
	}
	copy(c.theta, rec.Theta)
	c.step = rec.Step
	c.kept = rec.Kept
	c.samples = append(c.samples, rec.Samples...)
	return c, nil
}
