package study

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
)

// ManifestFile is the run manifest in the output directory: which steps of a study run have
// finished, with the hash of each one's settings and of its output. `sgdprior run` writes it
// after every finished step, so that a rerun into the same directory (or run --resume)
// keeps the finished steps whose settings are unchanged and reruns the others.
const ManifestFile = ".sgdprior-run.json"

// Manifest is the content of ManifestFile.
type Manifest struct {
	// Format is ManifestFormat.
	Format int `json:"format"`
	// Steps are the finished steps, in the order they ran.
	Steps []ManifestStep `json:"steps"`
}

// ManifestFormat is the version of the manifest's layout.
const ManifestFormat = 1

// ManifestStep is one finished step: its ID, the hash of its settings (StepHash), its output
// files relative to the output directory, and the SHA-256 of each.
type ManifestStep struct {
	ID    string       `json:"id"`
	Hash  string       `json:"hash"`
	Files []OutputFile `json:"files"`
}

// OutputFile is one output file of a finished step and its SHA-256 (hex).
type OutputFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// StepHash identifies a step's settings: the SHA-256 of the program (its version, and for
// sgdprior run also the executable's own SHA-256), the step's ID and its command line (CommandLine renders every setting that differs from its default,
// paths included). Data file contents are not hashed: a changed file under the same name
// is not detected.
func StepHash(version string, s *Step) string {
	h := sha256.New()
	fmt.Fprintf(h, "sgdprior %s\n%s\n%s\n", version, s.ID, s.CommandLine())
	return hex.EncodeToString(h.Sum(nil))
}

// OutputFiles are the files a step always writes, relative to the output directory: its
// JSON and, for a train step, its θ* file. Besides them a step may write side files named
// SideFilePrefix + "…" (score's large matrices, <stem>.basis.npy and the like).
func (s *Step) OutputFiles() []string {
	files := []string{s.JSON}
	if s.Command == KindTrain && s.Theta != "" {
		files = append(files, s.Theta)
	}
	return files
}

// SideFilePrefix is the prefix of the side files of a step, relative to the output
// directory: its JSON's path without ".json", then ".".
func (s *Step) SideFilePrefix() string {
	return strings.TrimSuffix(s.JSON, ".json") + "."
}

// filesOf returns the step's files that exist in dir: OutputFiles, then its side files in
// name order.
func (s *Step) filesOf(dir string) ([]string, error) {
	files := s.OutputFiles()
	prefix := s.SideFilePrefix()
	ents, err := os.ReadDir(filepath.Join(dir, filepath.Dir(prefix)))
	if err != nil {
		return nil, err
	}
	base := filepath.Base(prefix)
	for _, e := range ents {
		rel := filepath.Join(filepath.Dir(prefix), e.Name())
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), base) && !slices.Contains(files, rel) {
			files = append(files, rel)
		}
	}
	return files, nil
}

// FileSHA256 returns the hex SHA-256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

var manifestHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// validStepID reports whether id is "<entry>/<stem>" with both parts valid entry names
// (nameRE, the rule the study file's names obey).
func validStepID(id string) bool {
	entry, stem, ok := strings.Cut(id, "/")
	return ok && nameRE.MatchString(entry) && nameRE.MatchString(stem)
}

// ReadManifest reads dir's manifest; it returns (nil, nil) when there is none. Every ID,
// hash and path is validated as strictly as when it was written (a path must be local to
// dir: no "..", no absolute path), so that a crafted manifest cannot point outside dir; a
// malformed manifest is an error naming the file.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	var m Manifest
	if err := atomicfile.ReadJSON(path, &m); err != nil {
		return nil, err
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s: format %d, want %d (delete the file to rerun every step)", path, m.Format, ManifestFormat)
	}
	for i, s := range m.Steps {
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("%s: step %d: %v (delete the file to rerun every step)", path, i, err)
		}
	}
	return &m, nil
}

// check validates a manifest entry read back: its ID, hash and files (each local to the
// output directory: no "..", no absolute path).
func (s *ManifestStep) check() error {
	if !validStepID(s.ID) || !manifestHash.MatchString(s.Hash) || len(s.Files) == 0 {
		return errors.New("malformed entry")
	}
	for _, f := range s.Files {
		if !filepath.IsLocal(f.Path) || !manifestHash.MatchString(f.SHA256) {
			return fmt.Errorf("malformed file entry %q", f.Path)
		}
	}
	return nil
}

// Write writes the manifest to dir, atomically.
func (m *Manifest) Write(dir string) error {
	m.Format = ManifestFormat
	return atomicfile.WriteJSON(filepath.Join(dir, ManifestFile), m)
}

// Finished returns the manifest's record of step s when it finished with the same settings
// (StepHash), its files in dir (filesOf) are the recorded ones and each still has the
// recorded SHA-256; otherwise nil.
func (m *Manifest) Finished(dir, version string, s *Step) *ManifestStep {
	if m == nil {
		return nil
	}
	want := StepHash(version, s)
	for i := range m.Steps {
		ms := &m.Steps[i]
		if ms.ID != s.ID || ms.Hash != want {
			continue
		}
		files, err := s.filesOf(dir)
		if err != nil || len(files) != len(ms.Files) {
			return nil
		}
		for k, f := range files {
			if ms.Files[k].Path != f {
				return nil
			}
			sum, err := FileSHA256(filepath.Join(dir, f))
			if err != nil || sum != ms.Files[k].SHA256 {
				return nil
			}
		}
		return ms
	}
	return nil
}

// Record returns the manifest entry of step s, finished in dir: its hash and the SHA-256 of
// each of its files (filesOf).
func Record(dir, version string, s *Step) (ManifestStep, error) {
	ms := ManifestStep{ID: s.ID, Hash: StepHash(version, s)}
	files, err := s.filesOf(dir)
	if err != nil {
		return ManifestStep{}, fmt.Errorf("step %s: %w", s.ID, err)
	}
	for _, f := range files {
		sum, err := FileSHA256(filepath.Join(dir, f))
		if err != nil {
			return ManifestStep{}, fmt.Errorf("step %s: %w", s.ID, err)
		}
		ms.Files = append(ms.Files, OutputFile{Path: f, SHA256: sum})
	}
	return ms, nil
}
