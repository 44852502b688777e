package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/noise"
)

func ckptConfigs(init []float64) []Config {
	base := Config{LR: 0.1, Batch: 6, DT: 0.5, Chains: 4, Steps: 400, Burnin: 30, Thin: 2, Seed: 9, Init: init}
	var out []Config
	for _, ms := range []struct {
		m Method
		s noise.Sampling
	}{{SGD, noise.Reshuffle}, {SGD, noise.Without}, {SGD, noise.With}, {Gauss, noise.Without}, {SDE, noise.With}, {SGLD, noise.Reshuffle}} {
		c := base
		c.Method, c.Sampling = ms.m, ms.s
		out = append(out, c)
	}
	return out
}

// TestCheckpointResumeAfterCancel interrupts runs (each chain stops wherever it is when ctx
// is cancelled), resumes them from the final checkpoint with a different GOMAXPROCS, and
// requires the result to equal the uninterrupted run's bit for bit.
func TestCheckpointResumeAfterCancel(t *testing.T) {
	p := newLinreg(23, 3, 5)
	init := []float64{0.2, -0.1, 0.4}
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	for _, cfg := range ckptConfigs(init) {
		name := cfg.Method.String() + "/" + cfg.Sampling.String()
		runtime.GOMAXPROCS(2)
		ref, err := Run(context.Background(), p, cfg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "run.ckpt")
		ctx, cancel := context.WithCancel(context.Background())
		c := cfg
		c.Checkpoint, c.CheckpointEvery = path, 150
		c.Observe = func(chain, step int, _ []float64) {
			if chain == 1 && step == 230 {
				cancel()
			}
		}
		r, err := Run(ctx, p, c)
		cancel()
		if !errors.Is(err, context.Canceled) || r != nil {
			t.Fatalf("%s: interrupted run returned %v, %v", name, r, err)
		}
		runtime.GOMAXPROCS(1)
		c.Observe = nil
		c.Resume = path
		got, err := Run(context.Background(), p, c)
		if err != nil {
			t.Fatalf("%s: resume: %v", name, err)
		}
		if got.Resumed < 150 || got.Resumed > 230 {
			t.Errorf("%s: resumed from step %d, want in [150, 230]", name, got.Resumed)
		}
		sameResult(t, name+" resumed", ref, got)

		// The run completed and wrote its final state: resuming from it runs no step and
		// returns the same result.
		again, err := Run(context.Background(), p, c)
		if err != nil {
			t.Fatal(err)
		}
		if again.Resumed != cfg.Steps {
			t.Errorf("%s: completed checkpoint resumed from step %d", name, again.Resumed)
		}
		sameResult(t, name+" completed", ref, again)
	}
}

// failingWriter passes n bytes through, then fails.
type failingWriter struct {
	w io.Writer
	n int
}

var errInjected = errors.New("injected write failure")

func (f *failingWriter) Write(b []byte) (int, error) {
	if len(b) <= f.n {
		f.n -= len(b)
		return f.w.Write(b)
	}
	k, _ := f.w.Write(b[:f.n])
	f.n = 0
	return k, errInjected
}

// TestCheckpointWriteFailure injects a write error in the middle of the third checkpoint:
// Run must fail saying so, the file must still hold the second checkpoint (step 200), and
// resuming from it must give the uninterrupted result.
func TestCheckpointWriteFailure(t *testing.T) {
	p := newLinreg(23, 3, 6)
	init := []float64{0.2, -0.1, 0.4}
	cfg := Config{Method: SGD, Sampling: noise.Reshuffle, LR: 0.1, Batch: 6, Chains: 3, Steps: 500, Burnin: 20, Seed: 2, Init: init}
	ref, err := Run(context.Background(), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	writes := 0
	checkpointWriter = func(w io.Writer) io.Writer {
		writes++
		if writes == 3 {
			return &failingWriter{w: w, n: 1000}
		}
		return w
	}
	defer func() { checkpointWriter = func(w io.Writer) io.Writer { return w } }()
	c := cfg
	c.Checkpoint, c.CheckpointEvery = path, 100
	if _, err := Run(context.Background(), p, c); !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("run with a failing checkpoint write returned %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files left in the checkpoint directory, want 1 (no temporary file)", len(entries))
	}
	s, _, err := validate(p, c)
	if err != nil {
		t.Fatal(err)
	}
	chains, err := loadCheckpoint(path, s)
	if err != nil {
		t.Fatalf("previous checkpoint not readable: %v", err)
	}
	for k, ch := range chains {
		if ch.step != 200 {
			t.Errorf("chain %d: checkpoint at step %d, want 200", k, ch.step)
		}
	}
	c.Resume = path
	got, err := Run(context.Background(), p, c)
	if err != nil {
		t.Fatal(err)
	}
	sameResult(t, "resumed after a failed write", ref, got)
}

func TestCheckpointRefusesOtherConfig(t *testing.T) {
	p := newLinreg(23, 3, 6)
	cfg := Config{LR: 0.1, Batch: 6, Chains: 2, Steps: 50, Seed: 2, Init: []float64{0, 0, 0}, ConfigTag: "data abc"}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	cfg.Checkpoint = path
	if _, err := Run(context.Background(), p, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Resume = path
	for want, f := range map[string]func(*Config){
		"lr 0.1 (checkpoint) vs 0.2 (now)":            func(c *Config) { c.LR = 0.2 },
		"seed 2 (checkpoint) vs 3 (now)":              func(c *Config) { c.Seed = 3 },
		"config tag":                                  func(c *Config) { c.ConfigTag = "data xyz" },
		"init differs":                                func(c *Config) { c.Init = []float64{0, 1, 0} },
		"per-chain starts 0 (checkpoint) vs 2 (now)":  func(c *Config) { c.Inits = [][]float64{{0, 0, 0}, {0, 0, 0}} },
		"sampling without (checkpoint) vs with (now)": func(c *Config) { c.Sampling = noise.With },
	} {
		c := cfg
		f(&c)
		_, err := Run(context.Background(), p, c)
		if err == nil || !strings.Contains(err.Error(), "different configuration") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v", want, err)
		}
	}
	// Settings that do not change the result may change.
	c := cfg
	c.CheckpointEvery, c.CheckLossEvery = 7, 3
	if _, err := Run(context.Background(), p, c); err != nil {
		t.Error(err)
	}
	// Not a checkpoint at all.
	if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), p, cfg); err == nil || !strings.Contains(err.Error(), "not a readable") {
		t.Errorf("garbage file: error %v", err)
	}
	cfg.Resume = filepath.Join(t.TempDir(), "missing")
	if _, err := Run(context.Background(), p, cfg); err == nil {
		t.Error("missing file: no error")
	}
}

// Per-chain starts are part of a checkpoint's identity: a run with per-chain starts,
// interrupted and resumed, equals the uninterrupted run bit for bit; one with another start
// is refused, naming the chain.
func TestCheckpointPerChainStarts(t *testing.T) {
	p := newLinreg(23, 3, 6)
	inits := [][]float64{{0.1, -0.2, 0.3}, {-0.4, 0.5, 0.1}}
	cfg := Config{LR: 0.1, Batch: 6, Chains: 2, Steps: 60, Burnin: 5, Seed: 2, Init: []float64{0, 0, 0}, Inits: inits}
	ref, err := Run(context.Background(), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	c := cfg
	c.Checkpoint, c.CheckpointEvery = path, 20
	c.Observe = func(chain, step int, _ []float64) {
		if chain == 1 && step == 30 {
			cancel()
		}
	}
	if _, err := Run(ctx, p, c); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	cancel()
	c.Observe, c.Resume = nil, path
	got, err := Run(context.Background(), p, c)
	if err != nil {
		t.Fatal(err)
	}
	sameResult(t, "resumed with per-chain starts", ref, got)
	c.Inits = [][]float64{inits[0], {-0.4, 0.5, 0.2}}
	if _, err := Run(context.Background(), p, c); err == nil || !strings.Contains(err.Error(), "start of chain 1 differs") {
		t.Errorf("another start of chain 1: error %v", err)
	}
}

// writtenCheckpoint runs cfg with a checkpoint and returns the uninterrupted result, the
// config with Checkpoint and Resume set to the file, and the file's bytes.
func writtenCheckpoint(t *testing.T) (Problem, Config, *Result, []byte) {
	t.Helper()
	p := newLinreg(23, 3, 6)
	cfg := Config{Method: SGD, Sampling: noise.Reshuffle, LR: 0.1, Batch: 6, Chains: 3, Steps: 200, Burnin: 20, Seed: 4, Init: []float64{0.2, -0.1, 0.4}}
	ref, err := Run(context.Background(), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	c := cfg
	c.Checkpoint, c.CheckpointEvery = path, 50
	c.Observe = func(chain, step int, _ []float64) {
		if chain == 2 && step == 120 {
			cancel()
		}
	}
	if _, err := Run(ctx, p, c); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	cancel()
	c.Observe, c.Resume = nil, path
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return p, c, ref, b
}

func wantOneLine(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: resumed without an error", what)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: error is not one line: %q", what, msg)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: error %q does not contain %q", what, msg, p)
		}
	}
}

// One flipped bit anywhere in a checkpoint's chain data (or header) is refused as corrupt,
// naming the file and saying to delete it; so is a truncated file. (Version 1 resumed such a
// file silently to different numbers.) The intact file still resumes to the uninterrupted
// result bit for bit.
func TestCheckpointCorruptRefused(t *testing.T) {
	p, c, ref, good := writtenCheckpoint(t)
	path := c.Resume
	body := len(good) - 32 // the payload ends before the checksum
	for _, at := range []int{body - 1, body - 9, body - 200, body / 2, len(checkpointFileMagic) + 3, len(good) - 1} {
		b := append([]byte(nil), good...)
		b[at] ^= 0x10
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Run(context.Background(), p, c)
		wantOneLine(t, fmt.Sprintf("bit flipped in byte %d of %d", at, len(good)), err, path, "corrupt", "delete it to start over")
	}
	for _, n := range []int{len(good) - 1, len(good) - 32, body / 2, len(checkpointFileMagic), 5} {
		if err := os.WriteFile(path, good[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Run(context.Background(), p, c)
		wantOneLine(t, fmt.Sprintf("truncated to %d of %d bytes", n, len(good)), err, path, "corrupt", "delete it to start over")
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Run(context.Background(), p, c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Resumed < 50 || got.Resumed > 120 {
		t.Errorf("resumed from step %d, want in [50, 120]", got.Resumed)
	}
	sameResult(t, "resumed from the intact file", ref, got)
}

// writeCheckpointV1 writes a checkpoint in format version 1 (a bare gob stream, no checksum).
func writeCheckpointV1(path string, s *settings, chains []*chain) error {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	id := identityOf(s)
	if err := enc.Encode(checkpointHeader{Magic: checkpointMagic, Version: 1, Hash: id.hash(), Identity: id}); err != nil {
		return err
	}
	for _, c := range chains {
		rng, _ := c.pcg.MarshalBinary()
		var perm []int
		var pos int
		if c.batches != nil {
			perm, pos = c.batches.State()
		}
		if err := enc.Encode(&chainRecord{Step: c.step, Theta: c.theta, RNG: rng, Perm: perm, Pos: pos, Kept: c.kept, Samples: c.samples}); err != nil {
			return err
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// A checkpoint of format version 1 (no checksum), or of a future version, is refused with a
// one-line error naming the file and its version.
func TestCheckpointOldFormatRefused(t *testing.T) {
	p, c, _, good := writtenCheckpoint(t)
	path := c.Resume
	s, _, err := validate(p, c)
	if err != nil {
		t.Fatal(err)
	}
	chains, err := loadCheckpoint(path, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeCheckpointV1(path, s, chains); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), p, c)
	wantOneLine(t, "version 1", err, path, "format version 1, this program reads version 2", "delete it to start over")

	// A later version writes its own magic and its own checksum over it.
	future := append([]byte(checkpointMagic+" 3\n"), good[len(checkpointFileMagic):len(good)-sha256.Size]...)
	sum := sha256.Sum256(future)
	future = append(future, sum[:]...)
	if err := os.WriteFile(path, future, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), p, c)
	wantOneLine(t, "version 3", err, path, "format version 3, this program reads version 2")
}

// A process killed during a checkpoint write leaves ".NAME.tmp-DIGITS" next to it: resuming
// (and writing the checkpoint) removes it, and nothing else in the directory.
func TestCheckpointRemovesStaleTemp(t *testing.T) {
	p, c, ref, _ := writtenCheckpoint(t)
	dir := filepath.Dir(c.Resume)
	stale := filepath.Join(dir, ".run.ckpt.tmp-4242")
	others := []string{filepath.Join(dir, "keep.txt"), filepath.Join(dir, ".other.ckpt.tmp-17"), filepath.Join(dir, ".run.ckpt.bak")}
	for _, f := range append([]string{stale}, others...) {
		if err := os.WriteFile(f, []byte("partial checkpoint"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Run(context.Background(), p, c)
	if err != nil {
		t.Fatal(err)
	}
	sameResult(t, "resumed next to a stale temporary file", ref, got)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file %s not removed (%v)", stale, err)
	}
	for _, f := range others {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s removed: %v", f, err)
		}
	}
	// Writing alone (no resume) removes it too.
	if err := os.WriteFile(stale, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Resume = ""
	if _, err := Run(context.Background(), p, c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file %s not removed by a fresh run (%v)", stale, err)
	}
}
