package track

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/testproblem"
	"github.com/sgdprior/sgdprior/problem"
)

// checkpointed runs a short track with checkpoints (the last at step 90 of 100) and returns
// the problem, settings that resume from it, the uninterrupted output and the file's bytes.
func checkpointed(t *testing.T) (*problem.Problem, *Settings, *Output, []byte) {
	t.Helper()
	p := testproblem.Load(t, "iris", "mlp:4", 0.01)
	ck := filepath.Join(t.TempDir(), "ck")
	s := settings(0.1, 16, 100, 40)
	s.Sampling = 2
	s.Checkpoint, s.CheckpointEvery = ck, 30
	full := run(t, p, nil, s)
	r := *s
	r.Checkpoint, r.Resume = "", ck
	b, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	return p, &r, full, b
}

func sameRows(t *testing.T, what string, a, b *Output) {
	t.Helper()
	x, _ := json.Marshal(a.Rows)
	y, _ := json.Marshal(b.Rows)
	if string(x) != string(y) {
		t.Errorf("%s: rows differ:\n%s\n%s", what, x, y)
	}
}

// refused runs s and requires a one-line data error (not a --resume usage error) naming the
// file and holding every part.
func refused(t *testing.T, what string, p *problem.Problem, s *Settings, parts ...string) {
	t.Helper()
	_, err := Run(context.Background(), p, nil, s)
	if err == nil {
		t.Fatalf("%s: resumed without an error", what)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || field.As(err) != nil {
		t.Errorf("%s: error %q is not a one-line data error", what, msg)
	}
	for _, part := range append([]string{s.Resume}, parts...) {
		if !strings.Contains(msg, part) {
			t.Errorf("%s: error %q does not contain %q", what, msg, part)
		}
	}
}

// One flipped bit anywhere in a track checkpoint, or a truncation, is refused as corrupt
// (version 1 resumed such a file silently to other rows); the intact file resumes to the
// uninterrupted rows.
func TestCheckpointCorruptRefused(t *testing.T) {
	p, s, full, good := checkpointed(t)
	body := len(good) - 32
	for _, at := range []int{body - 1, body - 8, body - 100, body / 2, len(checkpointFileMagic) + 2, len(good) - 1} {
		b := append([]byte(nil), good...)
		b[at] ^= 0x04
		if err := os.WriteFile(s.Resume, b, 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, fmt.Sprintf("bit flipped in byte %d of %d", at, len(good)), p, s, "corrupt", "delete it to start over")
	}
	for _, n := range []int{len(good) - 1, body, body / 2, 3} {
		if err := os.WriteFile(s.Resume, good[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, fmt.Sprintf("truncated to %d of %d bytes", n, len(good)), p, s, "corrupt", "delete it to start over")
	}
	if err := os.WriteFile(s.Resume, good, 0o644); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "resumed from the intact file", full, run(t, p, nil, s))
}

// A track checkpoint of format version 1 (a bare gob stream without a checksum) or of a
// future version is refused naming its version; a file of no checkpoint format stays a
// --resume error.
func TestCheckpointOldFormatRefused(t *testing.T) {
	p, s, _, good := checkpointed(t)
	f, err := atomicfile.OpenSealed(s.Resume, checkpointFileMagic)
	if err != nil {
		t.Fatal(err)
	}
	var c checkpoint
	err = gob.NewDecoder(f).Decode(&c)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var v1 bytes.Buffer
	if err := gob.NewEncoder(&v1).Encode(&c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Resume, v1.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	refused(t, "version 1", p, s, "format version 1, this program reads version 2", "delete it to start over")

	// A later version writes its own magic and its own checksum over it.
	future := append([]byte("sgdprior track checkpoint 3\n"), good[len(checkpointFileMagic):len(good)-sha256.Size]...)
	sum := sha256.Sum256(future)
	future = append(future, sum[:]...)
	if err := os.WriteFile(s.Resume, future, 0o644); err != nil {
		t.Fatal(err)
	}
	refused(t, "version 3", p, s, "format version 3, this program reads version 2")

	if err := os.WriteFile(s.Resume, []byte("hello, not a checkpoint at all, long enough to hold a checksum"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), p, nil, s); field.As(err) == nil || field.As(err).Key != "resume" {
		t.Errorf("not a checkpoint: error %v, want a --resume error", err)
	}
}

// A temporary file left by a process killed while writing the checkpoint is removed when the
// run resumes from it and when it writes it; other files survive.
func TestCheckpointRemovesStaleTemp(t *testing.T) {
	p, s, full, _ := checkpointed(t)
	dir := filepath.Dir(s.Resume)
	stale := filepath.Join(dir, ".ck.tmp-31337")
	others := []string{filepath.Join(dir, "keep"), filepath.Join(dir, ".other.tmp-5"), filepath.Join(dir, ".ck.tmp-x")}
	for _, f := range append([]string{stale}, others...) {
		if err := os.WriteFile(f, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sameRows(t, "resumed next to a stale temporary file", full, run(t, p, nil, s))
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s not removed on resume (%v)", stale, err)
	}
	if err := os.WriteFile(stale, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w := *s
	w.Resume, w.Checkpoint = "", s.Resume
	run(t, p, nil, &w)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s not removed by a run writing the checkpoint (%v)", stale, err)
	}
	for _, f := range others {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s removed: %v", f, err)
		}
	}
}
