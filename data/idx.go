package data

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a magic
// number 0x00 0x00 TYPE NDIM, NDIM big-endian uint32 dimensions, then the data. The files
// used here hold unsigned bytes (TYPE 0x08): images with NDIM 3 (n, rows, cols), labels
// with NDIM 1 (n).

const idxUbyte = 0x08

// decodeIDX parses an IDX file of unsigned bytes with ndim dimensions. Errors do not name
// the file.
func decodeIDX(b []byte, ndim int) (dims []int, data []byte, err error) {
	if len(b) < 4 {
		return nil, nil, errors.New("not an IDX file (shorter than its magic number)")
	}
	if b[0] != 0 || b[1] != 0 {
		return nil, nil, fmt.Errorf("not an IDX file (magic number %#08x)", binary.BigEndian.Uint32(b))
	}
	if b[2] != idxUbyte {
		return nil, nil, fmt.Errorf("IDX element type %#02x: want unsigned bytes (0x08)", b[2])
	}
	if int(b[3]) != ndim {
		return nil, nil, fmt.Errorf("IDX file has %d dimensions: want %d (magic number %#08x)", b[3], ndim, binary.BigEndian.Uint32(b))
	}
	if len(b) < 4+4*ndim {
		return nil, nil, errors.New("truncated IDX header")
	}
	count := 1
	dims = make([]int, ndim)
	for k := range dims {
		v := binary.BigEndian.Uint32(b[4+4*k:])
		if v > math.MaxInt32 {
			return nil, nil, fmt.Errorf("IDX dimension %d is %d", k, v)
		}
		dims[k] = int(v)
		if dims[k] != 0 && count > math.MaxInt/dims[k] {
			return nil, nil, fmt.Errorf("IDX dimensions %v are too large", dims)
		}
		count *= dims[k]
	}
	data = b[4+4*ndim:]
	if len(data) != count {
		return nil, nil, fmt.Errorf("IDX dimensions %v need %d data bytes, the file has %d", dims, count, len(data))
	}
	return dims, data, nil
}

// parseIDX builds the table of an image file (imgFile, content img) and its label file
// (lblFile, content lbl): pixels scaled to [0, 1] by 1/255, labels 0..9.
func parseIDX(imgFile string, img []byte, lblFile string, lbl []byte) (*table, error) {
	dims, pix, err := decodeIDX(img, 3)
	if err != nil {
		return nil, &ParseError{File: imgFile, Msg: err.Error()}
	}
	n, rows, cols := dims[0], dims[1], dims[2]
	if n == 0 {
		// Checked before anything of size rows·cols is allocated: with n = 0 the file's
		// length does not bound it.
		return nil, &ParseError{File: imgFile, Msg: "no examples"}
	}
	if rows == 0 || cols == 0 {
		return nil, &ParseError{File: imgFile, Msg: fmt.Sprintf("images of %d×%d pixels", rows, cols)}
	}
	ldims, labels, err := decodeIDX(lbl, 1)
	if err != nil {
		return nil, &ParseError{File: lblFile, Msg: err.Error()}
	}
	if ldims[0] != n {
		return nil, &ParseError{File: lblFile, Msg: fmt.Sprintf("%d labels for %d images in %s", ldims[0], n, imgFile)}
	}
	p := rows * cols
	t := &table{file: imgFile, yfile: lblFile, n: n, p: p, scale01: true,
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
	rawImg, bImg, err := readFile(img)
	if err != nil {
		return nil, nil, err
	}
	rawLbl, bLbl, err := readFile(lbl)
	if err != nil {
		return nil, nil, err
	}
	h := sha256.New()
	h.Write(rawImg)
	h.Write(rawLbl)
	t, err := parseIDX(img, bImg, lbl, bLbl)
	return t, h.Sum(nil), err
}

// findIDX returns the path of BASE-SUFFIX or BASE.SUFFIX (the spelling of some mirrors), raw
// or with ".gz", in dir.
func findIDX(dir, base, suffix string) (string, error) {
	for _, name := range []string{base + "-" + suffix, base + "." + suffix} {
		for _, ext := range []string{"", ".gz"} {
			path := filepath.Join(dir, name+ext)
			if _, err := os.Stat(path); err == nil {
				return path, nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("%s: %w", path, errors.Unwrap(err))
			}
		}
	}
	return "", fmt.Errorf("%s: no %s-%s (or .gz) IDX file", dir, base, suffix)
}
