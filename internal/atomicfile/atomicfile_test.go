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

// Write syncs the destination's directory after the rename, and a failure to do so is an
// error naming the file.
func TestWriteSyncsDirectory(t *testing.T) {
	dir := t.TempDir()
	var synced []string
	syncDir = func(d string) error { synced = append(synced, d); return nil }
	defer func() { syncDir = fsyncDir }()
	p := filepath.Join(dir, "out.txt")
	if err := WriteBytes(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 1 || filepath.Clean(synced[0]) != dir {
		t.Fatalf("directories synced: %q, want [%s]", synced, dir)
	}
	boom := errors.New("boom")
	syncDir = func(string) error { return boom }
	if err := WriteBytes(p, []byte("y")); !errors.Is(err, boom) || !contains(err.Error(), p) {
		t.Fatalf("failed directory sync: error %v", err)
	}
	// The real fsync works on an ordinary directory.
	syncDir = fsyncDir
	if err := WriteBytes(p, []byte("z")); err != nil {
		t.Fatal(err)
	}
}

// A write that fails in the file system leaves no temporary file: the destination is an
// existing directory (the rename fails), or the directory is read-only (the temporary file
// cannot be created; not testable as root, who may write anyway).
func TestWriteErrorLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "out")
	if err := os.MkdirAll(filepath.Join(dest, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(dest, []byte("data")); err == nil || !contains(err.Error(), dest) {
		t.Fatalf("rename over a directory: error %v", err)
	}
	assertEntries(t, dir, "out")

	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o755)
	if os.Geteuid() == 0 {
		t.Log("running as root: the read-only directory case is skipped")
		return
	}
	p := filepath.Join(ro, "x.json")
	if err := WriteJSON(p, map[string]int{"a": 1}); err == nil || !contains(err.Error(), p) {
		t.Fatalf("read-only directory: error %v", err)
	}
	assertEntries(t, ro)
}

func assertEntries(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, want)
	}
}

// A kill during a write leaves ".NAME.tmp-DIGITS"; RemoveStale removes exactly such regular
// files (of the named destinations, when names are given) and nothing else.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{ // name → removed by RemoveStale(dir)
		".out.txt.tmp-123":    true,
		".run.ckpt.tmp-98765": true,
		".a.tmp-b.tmp-42":     true,
		"out.txt":             false,
		".hidden":             false,
		".x.tmp-abc":          false, // not digits
		".x.tmp-":             false, // no digits
		"a.tmp-123":           false, // no leading dot
		".tmp-123":            false, // no destination name
		"results.json":        false,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A directory with the pattern and a temporary file inside a subdirectory survive.
	if err := os.MkdirAll(filepath.Join(dir, ".d.tmp-12", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".d.tmp-12", ".y.tmp-1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	// With a name, only that destination's temporary files go.
	removed, err := RemoveStale(dir, "run.ckpt")
	if err != nil || len(removed) != 1 || removed[0] != filepath.Join(dir, ".run.ckpt.tmp-98765") {
		t.Fatalf("RemoveStale(dir, run.ckpt) = %q, %v", removed, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".out.txt.tmp-123")); err != nil {
		t.Fatalf("another destination's temporary file was removed: %v", err)
	}

	removed, err = RemoveStale(dir)
	if err != nil || len(removed) != 2 {
		t.Fatalf("RemoveStale(dir) = %q, %v", removed, err)
	}
	for name, gone := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone != os.IsNotExist(err) {
			t.Errorf("%s: removed %v, want %v", name, os.IsNotExist(err), gone)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".d.tmp-12", ".y.tmp-1")); err != nil {
		t.Errorf("file inside a subdirectory was removed: %v", err)
	}
	// A missing directory is not an error.
	if _, err := RemoveStale(filepath.Join(dir, "missing")); err != nil {
		t.Error(err)
	}
}

// A temporary file that Write itself creates matches the pattern RemoveStale removes.
func TestTempNameMatchesPattern(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	var tmp string
	err := Write(p, func(w io.Writer) error {
		tmp = w.(*os.File).Name()
		return errors.New("killed here")
	})
	if err == nil {
		t.Fatal("no error")
	}
	if dest, ok := IsTemp(filepath.Base(tmp)); !ok || dest != "out.csv" {
		t.Fatalf("temporary file %s: IsTemp = %q, %v", tmp, dest, ok)
	}
}

// TestRemoveInFlight: a write blocked in its callback has its temporary file registered;
// RemoveInFlight removes it (and only it: a finished file stays), and the write, when it
// goes on, fails without creating its destination. No temporary file is left.
func TestRemoveInFlight(t *testing.T) {
	dir := t.TempDir()
	done := filepath.Join(dir, "done.txt")
	if err := Write(done, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	dest := filepath.Join(dir, "slow.txt")
	go func() {
		errc <- Write(dest, func(w io.Writer) error {
			close(started)
			<-release
			_, err := io.WriteString(w, "late")
			return err
		})
	}()
	<-started
	removed := RemoveInFlight()
	if len(removed) != 1 || !strings.HasPrefix(filepath.Base(removed[0]), ".slow.txt") {
		t.Fatalf("removed %v", removed)
	}
	close(release)
	if err := <-errc; err == nil {
		t.Error("the interrupted write succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "done.txt" {
		t.Errorf("directory holds %v, want only done.txt", ents)
	}
}
