package data

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// The binary version of CIFAR-10 (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html):
// the training batches data_batch_1.bin … data_batch_5.bin (10000 images each) and the test
// batch test_batch.bin hold records of 3073 bytes, the label (0–9) then the 3072 pixels of a
// 32×32 colour image: the red plane, then the green, then the blue, each row-major. That is
// PyTorch's (C, H, W) order, so a record's pixels are the example's row as they are.

const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
	cifarRecord = 1 + cifarPixels
)

// cifarFiles returns the batch files of a split ("train" or "test").
func cifarFiles(split string) ([]string, error) {
	switch split {
	case "train":
		names := make([]string, 5)
		for k := range names {
			names[k] = fmt.Sprintf("data_batch_%d.bin", k+1)
		}
		return names, nil
	case "test":
		return []string{"test_batch.bin"}, nil
	}
	return nil, fmt.Errorf("data: split %q: want \"train\" or \"test\"", split)
}

// checkCIFAR checks the records of one batch file's content b and returns their number: the
// length must be a positive multiple of 3073 bytes and every label in 0..9. Records are
// numbered from 0. Errors do not name the file.
func checkCIFAR(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errors.New("no records (an empty file)")
	}
	n := len(b) / cifarRecord
	if r := len(b) % cifarRecord; r != 0 {
		return 0, fmt.Errorf("record %d is truncated: %d of its %d bytes (the file has %d bytes, not a multiple of %d: 1 label byte and 3×32×32 pixels per record)",
			n, r, cifarRecord, len(b), cifarRecord)
	}
	for i := range n {
		if l := b[i*cifarRecord]; l > 9 {
			return 0, fmt.Errorf("record %d: label %d is not in 0..9", i, l)
		}
	}
	return n, nil
}

// parseCIFAR builds the table of CIFAR-10 batch files (names files, contents bs, in order;
// dir names the directory in errors about the whole set): pixels scaled to [0, 1] by 1/255,
// labels 0..9 (CIFAR-10's batches.meta.txt names the classes), image shape 3×32×32,
// features named pixel_c_h_w.
func parseCIFAR(dir string, files []string, bs [][]byte) (*table, error) {
	counts := make([]int, len(files))
	n := 0
	for k, b := range bs {
		c, err := checkCIFAR(b)
		if err != nil {
			return nil, &ParseError{File: files[k], Msg: err.Error()}
		}
		counts[k] = c
		n += c
	}
	// The table holds every pixel as a float64.
	if avail, ok := memlimit.Available(); ok && uint64(n) > avail/(8*cifarPixels) {
		return nil, &ParseError{File: dir, Msg: fmt.Sprintf("%d CIFAR-10 images would need %s of memory; %s is available",
			n, memlimit.Format(uint64(n)*8*cifarPixels), memlimit.Format(avail))}
	}
	t := &table{file: dir, n: n, p: cifarPixels, scale01: true, shape: []int{3, cifarSide, cifarSide},
		x: make([]float64, n*cifarPixels), labels: make([]string, n), nums: make([]float64, n)}
	i := 0
	for _, b := range bs {
		for r := 0; r < len(b); r += cifarRecord {
			l := b[r]
			t.labels[i] = strconv.Itoa(int(l))
			t.nums[i] = float64(l)
			row := t.x[i*cifarPixels : (i+1)*cifarPixels]
			for j, v := range b[r+1 : r+cifarRecord] {
				row[j] = float64(v) / 255
			}
			i++
		}
	}
	t.names = imageNames(t.shape)
	t.where = func(i int) (int, string) {
		for k, c := range counts {
			if i < c {
				return 0, fmt.Sprintf("record %d of %s", i, filepath.Base(files[k]))
			}
			i -= c
		}
		return 0, ""
	}
	return t, nil
}

// imageNames names the features of images of shape (C, H, W): pixel_c_h_w in (C, H, W)
// order.
func imageNames(shape []int) []string {
	c, h, w := shape[0], shape[1], shape[2]
	names := make([]string, 0, c*h*w)
	for a := range c {
		for r := range h {
			for s := range w {
				names = append(names, fmt.Sprintf("pixel_%d_%d_%d", a, r, s))
			}
		}
	}
	return names
}

// loadCIFAR reads the split ("train": data_batch_1.bin … data_batch_5.bin; "test":
// test_batch.bin) of the CIFAR-10 binary batches in dir, each raw or gzip-compressed (a
// ".gz" name), every file under the input cap. It returns the table and the SHA-256 of the
// files' stored bytes in that order.
func loadCIFAR(dir, split string) (*table, []byte, error) {
	names, err := cifarFiles(split)
	if err != nil {
		return nil, nil, err
	}
	limit, err := maxInput()
	if err != nil {
		return nil, nil, err
	}
	if st, err := os.Stat(dir); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, nil, fmt.Errorf("%s: not a directory (cifar:DIR names the directory of CIFAR-10's binary batches)", dir)
	}
	h := sha256.New()
	files := make([]string, len(names))
	bs := make([][]byte, len(names))
	for k, name := range names {
		path, err := findCIFAR(dir, name)
		if err != nil {
			return nil, nil, err
		}
		raw, err := readRaw(path, limit)
		if err != nil {
			return nil, nil, err
		}
		h.Write(raw)
		if bs[k], err = gunzipIf(path, raw, limit); err != nil {
			return nil, nil, err
		}
		files[k] = path
	}
	t, err := parseCIFAR(dir, files, bs)
	return t, h.Sum(nil), err
}

// findCIFAR returns the path of name, raw or with ".gz", in dir.
func findCIFAR(dir, name string) (string, error) {
	if path, err := findRawOrGz(dir, name); path != "" || err != nil {
		return path, err
	}
	train, _ := cifarFiles("train")
	return "", fmt.Errorf("%s: no %s (or .gz): cifar:DIR reads CIFAR-10's binary batches %s (train) and test_batch.bin (test)",
		dir, name, strings.Join([]string{train[0], "…", train[len(train)-1]}, " "))
}
