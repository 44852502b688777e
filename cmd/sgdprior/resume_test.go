package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/study"
)

// treeFiles maps every regular file under dir (relative path) to its content, leaving out
// logs/resume.txt (the record of the resumes, the one file a resumed run adds by design).
func treeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == filepath.Join("logs", resumeLog) {
			return nil
		}
		b, err := os.ReadFile(path)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameTree reports the first difference between the files of two run directories.
func sameTree(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: missing", name)
			continue
		}
		if !bytes.Equal(w, g) {
			t.Errorf("%s: differs (%d vs %d bytes)", name, len(w), len(g))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: extra file", name)
		}
	}
}

// TestRunResume: a finished tiny study rerun into the same --out keeps every step; one cut
// back to its first two finished steps (what an interruption leaves: the manifest, those
// steps' files and some stale ones) is resumed with --resume, reruns only the others, and
// ends with every file byte-identical to the uninterrupted run (results.json records the
// command line without --resume; logs/resume.txt records the resume). Stale files of the
// earlier run (an old figure, an unknown file in an entry directory, a temporary file, the
// directory of an entry no longer in the study) are removed. A changed setting reruns its
// step. --resume on a directory without a run is a usage error.
func TestRunResume(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.toml", tinyStudy)
	// The same --out for both runs: the logs and results.json record it.
	b := filepath.Join(dir, "b")
	var want map[string][]byte
	for k := range 2 {
		os.RemoveAll(b)
		if code, stdout, stderr := runCmd(t, "run", "--config", cfg, "--out", b); code != 0 {
			t.Fatalf("run: code %d, stderr %q, stdout %q", code, stderr, stdout)
		}
		if k == 0 {
			want = treeFiles(t, b)
		}
	}
	sameTree(t, want, treeFiles(t, b)) // two uninterrupted runs agree byte for byte

	// Cut b back to an interrupted run after two steps.
	m, err := study.ReadManifest(b)
	if err != nil || m == nil || len(m.Steps) < 4 {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	done := m.Steps[:2]
	for _, ms := range m.Steps[2:] {
		for _, f := range ms.Files {
			os.Remove(filepath.Join(b, f.Path))
		}
	}
	m.Steps = done
	if err := m.Write(b); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(b, study.ResultsFile))
	writeFile(t, filepath.Join(b, "figures"), "old-entry-density.svg", "<svg/>")
	writeFile(t, filepath.Join(b, "logit"), "notes.json", "{}")
	writeFile(t, filepath.Join(b, "logit"), ".train.json.tmp-123", "partial")
	if err := os.Mkdir(filepath.Join(b, "gone"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(b, "gone"), "train.json", "{}")

	code, stdout, stderr := runCmd(t, "run", "--config", cfg, "--out", b, "--resume")
	if code != 0 {
		t.Fatalf("resume: code %d, stderr %q", code, stderr)
	}
	if n := strings.Count(stdout, ": kept from the earlier run"); n != 2 {
		t.Errorf("resume kept %d steps, want 2:\n%s", n, stdout)
	}
	sameTree(t, want, treeFiles(t, b))
	if log, err := os.ReadFile(filepath.Join(b, "logs", resumeLog)); err != nil || !strings.Contains(string(log), "2 of") {
		t.Errorf("resume log %q, %v", log, err)
	}
	res, err := study.ReadResults(filepath.Join(b, study.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(res.CommandLine, " "), "resume") {
		t.Errorf("results.json records %q", res.CommandLine)
	}

	// A plain rerun keeps everything; a changed setting reruns its entry's steps only.
	code, stdout, _ = runCmd(t, "run", "--config", cfg, "--out", b)
	if n, total := strings.Count(stdout, ": kept from the earlier run"), len(res.Steps); code != 0 || n != total {
		t.Errorf("rerun kept %d of %d steps (code %d)", n, total, code)
	}
	changed := writeFile(t, dir, "tiny2.toml", strings.Replace(tinyStudy, "sweep_steps = 5000", "sweep_steps = 4000", 1))
	code, stdout, _ = runCmd(t, "run", "--config", changed, "--out", b)
	if code != 0 || !strings.Contains(stdout, "logit: full-batch minimum θ*: kept") || strings.Contains(stdout, "wells: kept") || strings.Count(stdout, ": kept from the earlier run") != len(res.Steps)-1 {
		t.Errorf("changed sweep_steps: code %d\n%s", code, stdout)
	}

	code, _, stderr = runCmd(t, "run", "--config", cfg, "--out", filepath.Join(dir, "new"), "--resume")
	if code != 2 || !strings.Contains(stderr, "--resume") {
		t.Errorf("--resume without a run: code %d, %q", code, stderr)
	}
}
