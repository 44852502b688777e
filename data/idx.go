package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a magic
// number 0x00 0x00 TYPE NDIM, NDIM big-endian uint32 dimensions, then the data. The files
// used here hold unsigned bytes (TYPE 0x08): images with NDIM 3 (n, rows, cols), labels
// with NDIM 1 (n).

const idxUbyte = 0x08

// idxHeader checks the magic number and dimensions of an IDX file of unsigned bytes with
// ndim dimensions, given its first 4 + 4·ndim bytes (fewer: truncated), and returns the
// dimensions and the number of data bytes they declare. Errors do not name the file.
func idxHeader(b []byte, ndim int) (dims []int, count int, err error) {
	if len(b) < 4 {
		return nil, 0, errors.New("not an IDX file (shorter than its magic number)")
	}
	if b[0] != 0 || b[1] != 0 {
		return nil, 0, fmt.Errorf("not an IDX file (magic number %#08x)", binary.BigEndian.Uint32(b))
	}
	if b[2] != idxUbyte {
		return nil, 0, fmt.Errorf("IDX element type %#02x: want unsigned bytes (0x08)", b[2])
	}
	if int(b[3]) != ndim {
		return nil, 0, fmt.Errorf("IDX file has %d dimensions: want %d (magic number %#08x)", b[3], ndim, binary.BigEndian.Uint32(b))
	}
	if len(b) < 4+4*ndim {
		return nil, 0, errors.New("truncated IDX header")
	}
	count = 1
	dims = make([]int, ndim)
	for k := range dims {
		v := binary.BigEndian.Uint32(b[4+4*k:])
		if v > math.MaxInt32 {
			return nil, 0, fmt.Errorf("IDX dimension %d is %d", k, v)
		}
		dims[k] = int(v)
		if dims[k] != 0 && count > math.MaxInt/dims[k] {
			return nil, 0, fmt.Errorf("IDX dimensions %v are too large", dims)
		}
		count *= dims[k]
	}
	return dims, count, nil
}

// readIDX reads an IDX file of unsigned bytes with ndim dimensions from r, the content of
// a file whose stored length is size (-1 when r decompresses it). The header's declared
// data length is checked against limit (the input cap) before any data are read, and
// reading stops as soon as more bytes arrive than the header declares: a small compressed
// file cannot cost more memory than its header announces. Errors do not name the file.
func readIDX(r io.Reader, size int64, ndim int, limit int64) (dims []int, data []byte, err error) {
	hdr := make([]byte, 4+4*ndim)
	n, err := io.ReadFull(r, hdr)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, nil, fmt.Errorf("gzip: %v", err) // only a decompressing reader fails
	}
	dims, count, err := idxHeader(hdr[:n], ndim)
	if err != nil {
		return nil, nil, err
	}
	if int64(count) > limit {
		return nil, nil, fmt.Errorf("IDX dimensions %v declare %d data bytes, more than the input cap of %s (%s raises it)", dims, count, memlimit.Format(uint64(limit)), MaxInputEnv)
	}
	// The table holds every byte as a float64 as well.
	if avail, ok := memlimit.Available(); ok && uint64(count) > avail/9 {
		return nil, nil, fmt.Errorf("IDX dimensions %v would need %s of memory; %s is available", dims, memlimit.Format(9*uint64(count)), memlimit.Format(avail))
	}
	data, err = io.ReadAll(io.LimitReader(r, int64(count)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("gzip: %v", err)
	}
	switch {
	case len(data) == count:
		return dims, data, nil
	case len(data) > count && size < 0:
		return nil, nil, fmt.Errorf("IDX dimensions %v need %d data bytes, the file has more", dims, count)
	case len(data) > count:
		return nil, nil, fmt.Errorf("IDX dimensions %v need %d data bytes, the file has %d", dims, count, size-int64(len(hdr)))
	}
	return nil, nil, fmt.Errorf("IDX dimensions %v need %d data bytes, the file has %d", dims, count, len(data))
}

// decodeIDX parses an IDX file of unsigned bytes with ndim dimensions held in b (readIDX
// with the default cap). Errors do not name the file.
func decodeIDX(b []byte, ndim int) (dims []int, data []byte, err error) {
	return readIDX(bytes.NewReader(b), int64(len(b)), ndim, DefaultMaxInput)
}

// readIDXFile reads path (gzip-compressed or not) as an IDX file with ndim dimensions and
// returns its stored bytes (for the checksum), dimensions and data. Errors name the file.
func readIDXFile(path string, ndim int) (raw []byte, dims []int, data []byte, err error) {
	limit, err := maxInput()
	if err != nil {
		return nil, nil, nil, err
	}
	if raw, err = readRaw(path, limit); err != nil {
		return nil, nil, nil, err
	}
	r, err := contentReader(path, raw)
	if err != nil {
		return nil, nil, nil, err
	}
	size := int64(len(raw))
	if isGzip(raw) {
		size = -1
	}
	dims, data, err = readIDX(r, size, ndim, limit)
	if err != nil {
		return nil, nil, nil, &ParseError{File: path, Msg: err.Error()}
	}
	return raw, dims, data, nil
}

// parseIDX builds the table of an image file (imgFile, content img) and its label file
// (lblFile, content lbl): pixels scaled to [0, 1] by 1/255, labels 0..9, image shape
// 1×rows×cols.
func parseIDX(imgFile string, img []byte, lblFile string, lbl []byte) (*table, error) {
	dims, pix, err := decodeIDX(img, 3)
	if err != nil {
		return nil, &ParseError{File: imgFile, Msg: err.Error()}
	}
	ldims, labels, err := decodeIDX(lbl, 1)
	if err != nil {
		return nil, &ParseError{File: lblFile, Msg: err.Error()}
	}
	return idxTable(imgFile, dims, pix, lblFile, ldims, labels)
}

// idxTable builds the table of decoded IDX images (dims n, rows, cols; pixels pix) and
// labels (ldims n; labels).
func idxTable(imgFile string, dims []int, pix []byte, lblFile string, ldims []int, labels []byte) (*table, error) {
	n, rows, cols := dims[0], dims[1], dims[2]
	if n == 0 {
		// Checked before anything of size rows·cols is allocated: with n = 0 the file's
		// length does not bound it.
		return nil, &ParseError{File: imgFile, Msg: "no examples"}
	}
	if rows == 0 || cols == 0 {
		return nil, &ParseError{File: imgFile, Msg: fmt.Sprintf("images of %d×%d pixels", rows, cols)}
	}
	if ldims[0] != n {
		return nil, &ParseError{File: lblFile, Msg: fmt.Sprintf("%d labels for %d images in %s", ldims[0], n, imgFile)}
	}
	p := rows * cols
	t := &table{file: imgFile, yfile: lblFile, n: n, p: p, scale01: true, shape: []int{1, rows, cols},
		x: make([]float64, len(pix)), labels: make([]string, n), nums: make([]float64, n)}
	for k, v := range pix {
		t.x[k] = float64(v) / 255
	}
	for i, v := range labels {
		if v > 9 {
			return nil, &ParseError{File: lblFile, Msg: fmt.Sprintf("item %d: label %d is not in 0..9", i, v)}
		}
		t.labels[i] = strconv.Itoa(int(v))
		t.nums[i] = float64(v)
	}
	t.names = make([]string, p)
	for r := range rows {
		for c := range cols {
			t.names[r*cols+c] = fmt.Sprintf("pixel_%d_%d", r, c)
		}
	}
	t.where = func(i int) (int, string) { return 0, fmt.Sprintf("item %d", i) }
	return t, nil
}

// loadIDX reads the split ("train" or "test") of the IDX files in dir. It returns the table
// and the SHA-256 of the image file's bytes followed by the label file's bytes.
func loadIDX(dir, split string) (*table, []byte, error) {
	var prefix string
	switch split {
	case "train":
		prefix = "train"
	case "test":
		prefix = "t10k"
	default:
		return nil, nil, fmt.Errorf("data: split %q: want \"train\" or \"test\"", split)
	}
	img, err := findIDX(dir, prefix+"-images", "idx3-ubyte")
	if err != nil {
		return nil, nil, err
	}
	lbl, err := findIDX(dir, prefix+"-labels", "idx1-ubyte")
	if err != nil {
		return nil, nil, err
	}
	rawImg, dims, pix, err := readIDXFile(img, 3)
	if err != nil {
		return nil, nil, err
	}
	rawLbl, ldims, labels, err := readIDXFile(lbl, 1)
	if err != nil {
		return nil, nil, err
	}
	h := sha256.New()
	h.Write(rawImg)
	h.Write(rawLbl)
	t, err := idxTable(img, dims, pix, lbl, ldims, labels)
	return t, h.Sum(nil), err
}

// findIDX returns the path of BASE-SUFFIX or BASE.SUFFIX (the spelling of some mirrors), raw
// or with ".gz", in dir.
func findIDX(dir, base, suffix string) (string, error) {
	if path, err := findRawOrGz(dir, base+"-"+suffix, base+"."+suffix); path != "" || err != nil {
		return path, err
	}
	return "", fmt.Errorf("%s: no %s-%s (or .gz) IDX file", dir, base, suffix)
}

// findRawOrGz returns the path of the first of names that exists in dir, each tried raw
// and then with ".gz": "" and no error when none does, an error naming the path when one
// cannot be examined (other than its absence).
func findRawOrGz(dir string, names ...string) (string, error) {
	for _, name := range names {
		for _, ext := range []string{"", ".gz"} {
			path := filepath.Join(dir, name+ext)
			if _, err := os.Stat(path); err == nil {
				return path, nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("%s: %w", path, errors.Unwrap(err))
			}
		}
	}
	return "", nil
}
