package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// parseCSV reads comma-separated text with a header row. The target is the column named
// target, or the last column when target is empty; every other column is a feature and
// must hold a finite decimal number on every row. Fields are trimmed of surrounding spaces;
// RFC 4180 quoting is understood; blank lines are skipped; a leading UTF-8 byte-order mark
// is ignored.
func parseCSV(file string, b []byte, target string) (*table, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errAt(file, 0, "empty file")
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true

	rec, err := r.Read()
	if err != nil {
		return nil, csvError(file, err)
	}
	headerLine, _ := r.FieldPos(0)
	header := make([]string, len(rec))
	for j, h := range rec {
		header[j] = strings.TrimSpace(h)
	}
	ty := len(header) - 1
	if target != "" {
		ty = -1
		for j, h := range header {
			if h == target {
				if ty >= 0 {
					return nil, errAt(file, headerLine, "target column %q appears more than once", target)
				}
				ty = j
			}
		}
		if ty < 0 {
			return nil, errAt(file, headerLine, "no target column %q; the columns are: %s", target, strings.Join(header, ", "))
		}
	}
	if len(header) < 2 {
		return nil, errAt(file, headerLine, "the header has no feature columns besides the target %q", header[ty])
	}
	t := &table{file: file, p: len(header) - 1}
	t.names = make([]string, 0, t.p)
	for j, h := range header {
		if j != ty {
			t.names = append(t.names, h)
		}
	}
	var lines []int
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(file, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			return nil, errAt(file, line, "%d fields, but the header has %d", len(rec), len(header))
		}
		for j, f := range rec {
			if j == ty {
				t.labels = append(t.labels, strings.TrimSpace(f))
				continue
			}
			v, err := parseFinite(f)
			if err != nil {
				return nil, errAt(file, line, "column %q: %v", header[j], err)
			}
			t.x = append(t.x, v)
		}
		lines = append(lines, line)
	}
	t.n = len(lines)
	if t.n == 0 {
		return nil, errAt(file, headerLine, "a header but no data rows")
	}
	t.where = func(i int) (int, string) { return lines[i], "" }
	return t, nil
}

// csvError turns an encoding/csv error into a one-line *ParseError.
func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errAt(file, pe.Line, "%v", pe.Err)
	}
	return errAt(file, 0, "%v", fmt.Sprint(err))
}
