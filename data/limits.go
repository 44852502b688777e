package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// MaxInputEnv is the environment variable that overrides DefaultMaxInput: a size in bytes,
// optionally with a suffix ("8GiB", "500M"; see memlimit.ParseBytes).
const MaxInputEnv = "SGDPRIOR_MAX_INPUT"

// DefaultMaxInput is the input cap: no data file is read past this many bytes, neither as
// stored nor after gzip decompression (4 GiB; MNIST's training images are 47 MB).
const DefaultMaxInput = 4 << 30

// maxInput returns the input cap: SGDPRIOR_MAX_INPUT when set, else DefaultMaxInput.
func maxInput() (int64, error) {
	v, ok := os.LookupEnv(MaxInputEnv)
	if !ok {
		return DefaultMaxInput, nil
	}
	b, err := memlimit.ParseBytes(v)
	if err != nil || b == 0 || b > 1<<62 {
		return 0, fmt.Errorf("data: %s=%q is not a positive size in bytes", MaxInputEnv, v)
	}
	return int64(b), nil
}

// capErr is the error of a file (or its decompressed content, gz) larger than the cap.
func capErr(path string, gz bool, limit int64) error {
	what := "is larger than"
	if gz {
		what = "decompresses to more than"
	}
	return &ParseError{File: path, Msg: fmt.Sprintf("%s the input cap of %s (%d bytes; %s raises it)",
		what, memlimit.Format(uint64(limit)), limit, MaxInputEnv)}
}

// readRaw returns the bytes of path as stored, refusing (before reading, for a regular
// file) more than limit bytes.
func readRaw(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %w", path, pe.Err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > limit {
		return nil, capErr(path, false, limit)
	}
	// A device or pipe has no size to check first: it is read up to the cap, and up to a
	// quarter of the memory available when that is less (reading into a growing buffer
	// can briefly need twice what it holds, and the bytes are held while they are parsed).
	mem := int64(-1)
	if avail, ok := memlimit.Available(); ok && avail/4 < uint64(limit) {
		mem = int64(avail / 4)
	}
	read := limit
	if mem >= 0 {
		read = mem
	}
	b, err := io.ReadAll(io.LimitReader(f, read+1))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case int64(len(b)) > limit:
		return nil, capErr(path, false, limit)
	case mem >= 0 && int64(len(b)) > mem:
		return nil, &ParseError{File: path, Msg: fmt.Sprintf("is larger than a quarter of the memory available (%s)", memlimit.Format(uint64(mem)))}
	}
	return b, nil
}

// isGzip reports whether b starts with the gzip magic number.
func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// contentReader returns a reader of raw's content: gzip-decompressed when raw starts with
// the gzip magic number, else raw itself.
func contentReader(path string, raw []byte) (io.Reader, error) {
	if !isGzip(raw) {
		return bytes.NewReader(raw), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: gzip: %v", path, err)
	}
	return zr, nil
}

// readUpTo reads r to its end or to n+1 bytes, whichever comes first: the caller tells
// "more than n" from a length of n+1. It allocates only for bytes that arrive.
func readUpTo(path string, r io.Reader, n int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, fmt.Errorf("%s: gzip: %v", path, err)
	}
	return b, nil
}

// readFile returns the bytes of path as stored (for the checksum) and as content
// (gzip-decompressed when the file starts with the gzip magic number); either larger than
// the input cap is an error naming the file.
func readFile(path string) (raw, content []byte, err error) {
	limit, err := maxInput()
	if err != nil {
		return nil, nil, err
	}
	if raw, err = readRaw(path, limit); err != nil {
		return nil, nil, err
	}
	content, err = gunzipIf(path, raw, limit)
	return raw, content, err
}

// gunzipIf decompresses b when it starts with the gzip magic number, refusing more than
// limit decompressed bytes, and returns it unchanged otherwise.
func gunzipIf(path string, b []byte, limit int64) ([]byte, error) {
	if !isGzip(b) {
		return b, nil
	}
	r, err := contentReader(path, b)
	if err != nil {
		return nil, err
	}
	out, err := readUpTo(path, r, limit)
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, capErr(path, true, limit)
	}
	return out, nil
}
