package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	if err := WriteBytes(p, []byte("first")); err != nil {
		t.Fatal(err)
	}
	// A failing writer after partial output leaves the old content and no temporary file.
	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Fatalf("content %q after a failed write, want %q", b, "first")
	}
	if err := WriteBytes(p, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "second" {
		t.Fatalf("content %q, want second", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only out.txt", len(entries))
	}
	// A missing directory is an error naming the path.
	bad := filepath.Join(dir, "missing", "x")
	if err := WriteBytes(bad, nil); err == nil || !contains(err.Error(), bad) {
		t.Fatalf("error %v does not name %s", err, bad)
	}
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}

// ReadJSON reads back what WriteJSON wrote, and a malformed file's error names it.
func TestReadJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "v.json")
	in := map[string]float64{"a": 1.5, "b": -2}
	if err := WriteJSON(path, in); err != nil {
		t.Fatal(err)
	}
	var out map[string]float64
	if err := ReadJSON(path, &out); err != nil || out["a"] != 1.5 || out["b"] != -2 || len(out) != 2 {
		t.Fatalf("read back %v, %v", out, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReadJSON(bad, &out); err == nil || !contains(err.Error(), bad) {
		t.Errorf("malformed file: %v", err)
	}
}
