package atomicfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
)

// A sealed file is
//
//	magic (one line naming the format and its version, ending in '\n')
//	payload
//	SHA-256 of magic and payload (32 bytes)
//
// so that one flipped bit anywhere, or a truncation, is detected before the payload is
// decoded.

// ErrNotSealed is returned by OpenSealed for a file that does not begin with the expected
// magic line (another format, another version of this format, or not such a file at all).
var ErrNotSealed = errors.New("not in the expected format")

// ErrCorrupt is returned by OpenSealed for a file that begins with the expected magic line
// but whose checksum does not match its content: it was damaged or truncated.
var ErrCorrupt = errors.New("corrupt (its checksum does not match its content: damaged or truncated)")

// WriteSealed writes path atomically (as Write does) with the content magic, then what write
// produces, then the SHA-256 of both. magic must end in '\n' and contain no other newline.
func WriteSealed(path, magic string, write func(w io.Writer) error) error {
	if err := checkMagic(magic); err != nil {
		return err
	}
	return Write(path, func(f io.Writer) error {
		bw := bufio.NewWriterSize(f, 1<<16)
		h := sha256.New()
		w := io.MultiWriter(bw, h)
		if _, err := io.WriteString(w, magic); err != nil {
			return err
		}
		if err := write(w); err != nil {
			return err
		}
		if _, err := bw.Write(h.Sum(nil)); err != nil {
			return err
		}
		return bw.Flush()
	})
}

func checkMagic(magic string) error {
	if len(magic) < 2 || magic[len(magic)-1] != '\n' || bytes.IndexByte([]byte(magic[:len(magic)-1]), '\n') >= 0 {
		return fmt.Errorf("atomicfile: magic %q must be one line ending in a newline", magic)
	}
	return nil
}

// Sealed is the payload of a sealed file whose checksum was verified.
type Sealed struct {
	*io.SectionReader
	f *os.File
}

// Close closes the file.
func (s *Sealed) Close() error { return s.f.Close() }

// OpenSealed opens the sealed file at path, checks that it begins with magic (ErrNotSealed
// otherwise) and that its checksum matches its whole content (ErrCorrupt otherwise), and
// returns a reader of its payload. Errors wrap these sentinels and name the file. The
// checksum is verified in one pass over the file before anything is decoded.
func OpenSealed(path, magic string) (*Sealed, error) {
	if err := checkMagic(magic); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s, err := openSealed(f, magic)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func openSealed(f *os.File, magic string) (*Sealed, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	head := make([]byte, len(magic))
	k, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	if k < len(magic) {
		if k > 0 && magic[:k] == string(head[:k]) {
			return nil, ErrCorrupt // truncated inside the magic line
		}
		return nil, ErrNotSealed
	}
	if string(head) != magic {
		// A damaged magic line is told from another format by the checksum: it covers the
		// magic as written, so with the expected magic in place of the bytes read the
		// content matches the trailer.
		if n := size - sha256.Size; n >= int64(len(magic)) {
			h := sha256.New()
			io.WriteString(h, magic)
			if _, err := io.Copy(h, io.NewSectionReader(f, int64(len(magic)), n-int64(len(magic)))); err == nil {
				var sum [sha256.Size]byte
				if _, err := f.ReadAt(sum[:], n); err == nil && bytes.Equal(h.Sum(nil), sum[:]) {
					return nil, ErrCorrupt
				}
			}
		}
		return nil, ErrNotSealed
	}
	n := size - sha256.Size
	if n < int64(len(magic)) {
		return nil, ErrCorrupt
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, n)); err != nil {
		return nil, err
	}
	var sum [sha256.Size]byte
	if _, err := f.ReadAt(sum[:], n); err != nil {
		return nil, err
	}
	if !bytes.Equal(h.Sum(nil), sum[:]) {
		return nil, ErrCorrupt
	}
	m := int64(len(magic))
	return &Sealed{SectionReader: io.NewSectionReader(f, m, n-m), f: f}, nil
}

// SealedVersion reports the format version of a file that is not of the current sealed
// format: N when its first line is prefix followed by the number N, or 1 when its first
// 64 KiB contain legacy (the unversioned format of before, which carried its magic string
// inside its encoding); false when neither, or when the file cannot be read.
func SealedVersion(path, prefix, legacy string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if rest, ok := bytes.CutPrefix(head, []byte(prefix)); ok {
		var v int
		if _, err := fmt.Sscanf(string(rest), "%d\n", &v); err == nil {
			return v, true
		}
		return 0, false
	}
	if bytes.Contains(head, []byte(legacy)) {
		return 1, true
	}
	return 0, false
}
