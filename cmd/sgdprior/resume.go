package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"sync"
)

// canonicalCommandLine is the command line an output records: the one typed, without its
// --resume flag (run's boolean --resume; verify's and track's --resume FILE, with its value)
// and without run's executor flags (runFlags), so that a resumed run's output, and every
// executor's, is byte-identical to an uninterrupted local one's. The resume
// itself is logged (run: logs/resume.txt; verify and track: their console output).
func canonicalCommandLine(cmdline []string) []string {
	if len(cmdline) < 2 {
		return cmdline
	}
	name, _ := commandName(cmdline[1:])
	out := make([]string, 0, len(cmdline))
	for i := 0; i < len(cmdline); i++ {
		a := cmdline[i]
		flag, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takesValue, isRunFlag := runFlags[flag]
		switch {
		case i == 0 || !strings.HasPrefix(a, "-"):
		case name == "run" && isRunFlag:
			if takesValue && !hasValue && i+1 < len(cmdline) {
				i++
			}
			continue
		case flag == "resume":
			if !hasValue && i+1 < len(cmdline) {
				i++ // the FILE of --resume FILE
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// resumeHint says how to continue an interrupted command.
func resumeHint(name string) string {
	switch name {
	case "run":
		return "rerun the same command to resume (finished steps are kept)"
	case "verify", "track":
		return "rerun it with --resume F to continue from the checkpoint written by --checkpoint F (without one, rerun it from the start)"
	default:
		return "rerun the same command"
	}
}

// executableID is the hex SHA-256 of the running executable ("unknown" when it cannot be
// read), computed once.
var executableID = sync.OnceValue(func() string {
	path, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(h.Sum(nil))
})
