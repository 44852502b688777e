package data

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// parseLibSVM reads LibSVM/SVMlight text: one example per line, "label index:value …" with
// 1-based feature indices; absent features are 0, and p is the largest index present.
// Blank lines and text after '#' are ignored, as are "qid:…" tokens. A repeated index on a
// line, an index below 1, or a non-finite value is an error. maxElements caps n·p.
func parseLibSVM(file string, b []byte, maxElements int) (*table, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errAt(file, 0, "empty file")
	}
	type entry struct {
		j int
		v float64
	}
	var (
		rows   [][]entry
		labels []string
		lines  []int
		p      int
	)
	seen := make(map[int]bool)
	for lineNo, text := range strings.Split(string(b), "\n") {
		line := lineNo + 1
		if k := strings.IndexByte(text, '#'); k >= 0 {
			text = text[:k]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], ":") {
			return nil, errAt(file, line, "the line starts with %q, not a label", fields[0])
		}
		var row []entry
		clear(seen)
		for _, f := range fields[1:] {
			is, vs, ok := strings.Cut(f, ":")
			if !ok {
				return nil, errAt(file, line, "%q is not index:value", f)
			}
			if is == "qid" {
				continue
			}
			j, err := strconv.Atoi(is)
			if err != nil || j < 1 {
				return nil, errAt(file, line, "feature index %q is not an integer ≥ 1", is)
			}
			if seen[j] {
				return nil, errAt(file, line, "feature index %d appears twice", j)
			}
			seen[j] = true
			v, err := parseFinite(vs)
			if err != nil {
				return nil, errAt(file, line, "feature %d: %v", j, err)
			}
			row = append(row, entry{j - 1, v})
			p = max(p, j)
		}
		rows = append(rows, row)
		labels = append(labels, fields[0])
		lines = append(lines, line)
	}
	n := len(rows)
	if n == 0 {
		return nil, errAt(file, 0, "no examples")
	}
	if p == 0 {
		return nil, errAt(file, 0, "no features on any line")
	}
	if p > maxElements/n {
		return nil, errAt(file, 0, "%d examples × %d features exceed the limit of %d dense values", n, p, maxElements)
	}
	t := &table{file: file, n: n, p: p, labels: labels, x: make([]float64, n*p)}
	for i, row := range rows {
		for _, e := range row {
			t.x[i*p+e.j] = e.v
		}
	}
	t.names = make([]string, p)
	for j := range p {
		t.names[j] = fmt.Sprintf("x%d", j+1)
	}
	t.where = func(i int) (int, string) { return lines[i], "" }
	return t, nil
}
