// Package atomicfile writes files atomically: the content goes to a temporary file in the
// destination's directory, named ".NAME.tmp-DIGITS", which is synced and renamed over the
// destination only when everything was written; the directory is then synced so that the
// rename itself survives a crash. An interrupted write leaves the destination untouched; a
// write that fails leaves no temporary file. A process killed during a write (kill -9, power
// loss) can leave its temporary file behind: RemoveStale removes such files, and only them,
// and is called where a program starts writing into a directory. ReadJSON reads back what
// WriteJSON wrote; WriteSealed and OpenSealed write and read files whose whole content is
// covered by a checksum (see sealed.go).
package atomicfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

// tmpInfix separates a destination's name from the random digits in its temporary file's
// name: the temporary file of NAME is ".NAME" + tmpInfix + digits.
const tmpInfix = ".tmp-"

// syncDir syncs a directory after a rename in it; tests replace it.
var syncDir = fsyncDir

// Write creates path with the content that write produces. On any error (from write or the
// file system) the temporary file is removed and path is left as it was. The temporary file
// is synced before the rename and the directory after it; a failure to sync the directory
// is reported although path then holds the new content.
func Write(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+tmpInfix+"*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp := f.Name()
	inFlight.Store(tmp, struct{}{})
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
		inFlight.Delete(tmp)
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("%s: syncing its directory: %w", path, err)
	}
	return nil
}

// inFlight holds the temporary files of the writes in progress.
var inFlight sync.Map

// RemoveInFlight removes the temporary files of the writes in progress and returns their
// names: for a process about to exit mid-write (an interrupt that could not wait), so that
// it leaves no temporary file behind. The interrupted writes fail; their destinations keep
// their previous content.
func RemoveInFlight() []string {
	var removed []string
	inFlight.Range(func(k, _ any) bool {
		if os.Remove(k.(string)) == nil {
			removed = append(removed, k.(string))
		}
		inFlight.Delete(k)
		return true
	})
	sort.Strings(removed)
	return removed
}

// IsTemp reports whether name (a base name) is a temporary file of this package, and if so,
// the name of the destination it was written for.
func IsTemp(name string) (dest string, ok bool) {
	if !strings.HasPrefix(name, ".") {
		return "", false
	}
	i := strings.LastIndex(name, tmpInfix)
	if i < 2 {
		return "", false
	}
	digits := name[i+len(tmpInfix):]
	if digits == "" {
		return "", false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return name[1:i], true
}

// RemoveStale removes from dir the temporary files this package's Write leaves behind when
// the process is killed during a write: regular files named ".NAME.tmp-DIGITS". With names
// given, only the temporary files of those destinations (base names) are removed. Nothing
// else is touched: not other files, not directories, not subdirectories' contents. It
// returns the paths it removed. A missing dir is not an error (nothing was written there).
//
// Call it where a program starts writing into a directory it owns, before the first write:
// a temporary file present then belongs to an earlier, interrupted process.
func RemoveStale(dir string, names ...string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		dest, ok := IsTemp(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, dest) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("removing stale temporary file: %w", err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// RemoveStaleFor removes the stale temporary files of the destination path (see RemoveStale).
func RemoveStaleFor(path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	_, err := RemoveStale(dir, base)
	return err
}

// WriteBytes writes b to path atomically.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// WriteJSON writes v as indented JSON (two spaces, one value per file, a final newline) to
// path atomically.
func WriteJSON(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// ReadJSON decodes the JSON file at path (as WriteJSON wrote it) into v; a decoding error
// names the file.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
