package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

const testMagic = "test sealed v1\n"

func writeTestSealed(t *testing.T, path string, payload []byte) {
	t.Helper()
	if err := WriteSealed(path, testMagic, func(w io.Writer) error {
		_, err := w.Write(payload)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func readTestSealed(path string) ([]byte, error) {
	s, err := OpenSealed(path, testMagic)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return io.ReadAll(s)
}

// A sealed file reads back its payload; every single flipped bit, every truncation and
// another magic line are refused with the matching sentinel, naming the file.
func TestSealed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	payload := []byte("payload: some bytes\x00\x01\x02")
	writeTestSealed(t, path, payload)
	got, err := readTestSealed(path)
	if err != nil || string(got) != string(payload) {
		t.Fatalf("read back %q, %v", got, err)
	}
	good, _ := os.ReadFile(path)
	bad := filepath.Join(dir, "bad")
	for i := range good {
		for bit := range 8 {
			b := append([]byte(nil), good...)
			b[i] ^= 1 << bit
			os.WriteFile(bad, b, 0o644)
			_, err := readTestSealed(bad)
			// A flip in the magic line too: the checksum, taken with the expected magic,
			// still matches, so the file is this format's, damaged.
			want := ErrCorrupt
			if !errors.Is(err, want) || !contains(err.Error(), bad) {
				t.Fatalf("bit %d of byte %d flipped: error %v, want %v", bit, i, err, want)
			}
		}
	}
	for n := 1; n < len(good); n++ {
		os.WriteFile(bad, good[:n], 0o644)
		if _, err := readTestSealed(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: error %v", n, err)
		}
	}
	for _, b := range []string{"", "other format\n", "test sealed v0\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"} {
		os.WriteFile(bad, []byte(b), 0o644)
		if _, err := readTestSealed(bad); !errors.Is(err, ErrNotSealed) {
			t.Errorf("%q: error %v", b, err)
		}
	}
	// An empty payload is fine.
	writeTestSealed(t, path, nil)
	if got, err := readTestSealed(path); err != nil || len(got) != 0 {
		t.Errorf("empty payload: %q, %v", got, err)
	}
	if err := WriteSealed(path, "no newline", func(io.Writer) error { return nil }); err == nil {
		t.Error("magic without a newline accepted")
	}
}
