package data

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// The NumPy .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// the magic string "\x93NUMPY", a major and minor version byte, the header length (uint16
// little-endian for version 1, uint32 for versions 2 and 3), and a header that is a Python
// dict literal {'descr': DTYPE, 'fortran_order': BOOL, 'shape': TUPLE} padded with spaces
// and a newline; the data follow, in C (row-major) or Fortran (column-major) order.
//
// codeberg.org/sbinet/npyio reads this format but slices its header without bounds checks
// (it panics on a malformed file) and allocates whatever the shape asks for before reading,
// so this package parses .npy itself: a malformed file is an error, never a panic, and the
// shape must match the file's length before anything is allocated. npyio serves as the
// independent implementation the tests compare against.

var npyMagic = []byte("\x93NUMPY")

// npyArray is a decoded .npy file whose data are still raw bytes.
type npyArray struct {
	descr   string // the dtype as written, e.g. "<f8"
	kind    byte   // 'f' float, 'i' signed, 'u' unsigned integer, 'b' bool
	size    int    // bytes per element
	big     bool   // big-endian
	fortran bool
	shape   []int
	data    []byte
}

// decodeNPY parses a .npy file held in b. Errors do not name the file.
func decodeNPY(b []byte) (*npyArray, error) {
	a, start, want, err := npyHeader(b)
	if err != nil {
		return nil, err
	}
	a.data = b[start:]
	if len(a.data) != want {
		return nil, fmt.Errorf("shape %s of %s needs %d data bytes, the file has %d", a.shapeString(), a.descr, want, len(a.data))
	}
	return a, nil
}

// npyHeader parses the magic string, version and header of a .npy file whose first bytes
// are b (at least the whole header), and returns the array without its data, the offset
// of the data and the number of data bytes the shape declares. Errors do not name the file.
func npyHeader(b []byte) (a *npyArray, start, want int, err error) {
	if len(b) < 10 || string(b[:6]) != string(npyMagic) {
		return nil, 0, 0, fmt.Errorf("not a .npy file (no \\x93NUMPY magic string)")
	}
	major := b[6]
	var hlen int
	switch major {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, 0, 0, fmt.Errorf("truncated header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, 0, 0, fmt.Errorf("unsupported .npy format version %d.%d", major, b[7])
	}
	if hlen > len(b)-start {
		return nil, 0, 0, fmt.Errorf("truncated header: %d bytes announced, %d present", hlen, len(b)-start)
	}
	hdr := string(b[start : start+hlen])
	if !utf8.ValidString(hdr) {
		return nil, 0, 0, fmt.Errorf("header is not valid text")
	}
	a = new(npyArray)
	if err := a.parseHeader(hdr); err != nil {
		return nil, 0, 0, fmt.Errorf("header %q: %v", strings.TrimSpace(hdr), err)
	}
	count := 1
	for _, s := range a.shape {
		if s != 0 && count > math.MaxInt/s {
			return nil, 0, 0, fmt.Errorf("shape %s is too large", a.shapeString())
		}
		count *= s
	}
	if count > math.MaxInt/a.size {
		return nil, 0, 0, fmt.Errorf("shape %s is too large", a.shapeString())
	}
	return a, start + hlen, count * a.size, nil
}

// maxNPYHeader bounds the header length read from a compressed .npy file (NumPy writes a
// few hundred bytes; version 1 cannot exceed 65535).
const maxNPYHeader = 1 << 20

// readNPYFile returns the bytes of the .npy file path as stored (for the checksum) and as
// content. A stored file larger than the input cap is refused before it is read; a
// gzip-compressed one is decompressed only as far as its header declares: the shape's
// product × item size is checked against the cap before any data are read, and reading
// stops once more bytes arrive than the header declares. Errors name the file.
func readNPYFile(path string) (raw, content []byte, err error) {
	limit, err := maxInput()
	if err != nil {
		return nil, nil, err
	}
	if raw, err = readRaw(path, limit); err != nil {
		return nil, nil, err
	}
	if !isGzip(raw) {
		return raw, raw, nil // decodeNPY checks the shape against the length
	}
	r, err := contentReader(path, raw)
	if err != nil {
		return nil, nil, err
	}
	pre, err := readUpTo(path, r, 11) // up to 12 bytes: magic, version, header length
	if err != nil {
		return nil, nil, err
	}
	end := 0 // where the header ends
	switch {
	case len(pre) >= 10 && pre[6] == 1:
		end = 10 + int(binary.LittleEndian.Uint16(pre[8:10]))
	case len(pre) >= 12:
		end = 12 + int(binary.LittleEndian.Uint32(pre[8:12]))
	}
	if end > maxNPYHeader {
		return nil, nil, &ParseError{File: path, Msg: fmt.Sprintf("header of %d bytes: more than %d", end, maxNPYHeader)}
	}
	b := pre
	if more := end - len(pre); more > 0 {
		hdr, err := readUpTo(path, r, int64(more)-1)
		if err != nil {
			return nil, nil, err
		}
		b = append(b, hdr...)
	}
	a, start, want, err := npyHeader(b)
	if err != nil {
		return nil, nil, &ParseError{File: path, Msg: err.Error()}
	}
	if int64(want) > limit {
		return nil, nil, &ParseError{File: path, Msg: fmt.Sprintf("shape %s of %s declares %d data bytes, more than the input cap of %s (%s raises it)",
			a.shapeString(), a.descr, want, memlimit.Format(uint64(limit)), MaxInputEnv)}
	}
	if got := len(b) - start; got <= want {
		rest, err := readUpTo(path, r, int64(want-got))
		if err != nil {
			return nil, nil, err
		}
		b = append(b, rest...)
	}
	switch got := len(b) - start; {
	case got > want:
		return nil, nil, &ParseError{File: path, Msg: fmt.Sprintf("shape %s of %s needs %d data bytes, the file has more", a.shapeString(), a.descr, want)}
	case got < want:
		return nil, nil, &ParseError{File: path, Msg: fmt.Sprintf("shape %s of %s needs %d data bytes, the file has %d", a.shapeString(), a.descr, want, got)}
	}
	return raw, b, nil
}

// parseHeader reads the header dict.
func (a *npyArray) parseHeader(h string) error {
	p := &pyLit{s: h}
	if !p.consume('{') {
		return fmt.Errorf("not a dict")
	}
	var haveDescr, haveOrder, haveShape bool
	for {
		if p.consume('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if !p.consume(':') {
			return fmt.Errorf("missing ':' after %q", key)
		}
		switch key {
		case "descr":
			if haveDescr {
				return fmt.Errorf("'descr' given twice")
			}
			haveDescr = true
			p.skip()
			if p.i < len(p.s) && (p.s[p.i] == '[' || p.s[p.i] == '{') {
				return fmt.Errorf("structured dtypes are not supported")
			}
			d, err := p.str()
			if err != nil {
				return err
			}
			if err := a.parseDescr(d); err != nil {
				return err
			}
		case "fortran_order":
			if haveOrder {
				return fmt.Errorf("'fortran_order' given twice")
			}
			haveOrder = true
			switch {
			case p.word("True"):
				a.fortran = true
			case p.word("False"):
				a.fortran = false
			default:
				return fmt.Errorf("'fortran_order' is neither True nor False")
			}
		case "shape":
			if haveShape {
				return fmt.Errorf("'shape' given twice")
			}
			haveShape = true
			s, err := p.tuple()
			if err != nil {
				return err
			}
			a.shape = s
		default:
			return fmt.Errorf("unexpected key %q", key)
		}
		if p.consume(',') {
			continue
		}
		if !p.consume('}') {
			return fmt.Errorf("expected ',' or '}' after %q", key)
		}
		break
	}
	p.skip()
	if p.i != len(p.s) {
		return fmt.Errorf("text after the dict")
	}
	if !haveDescr || !haveOrder || !haveShape {
		return fmt.Errorf("the dict needs 'descr', 'fortran_order' and 'shape'")
	}
	return nil
}

// parseDescr reads a simple dtype string: a byte-order character (<, >, | or =), a kind
// (f, i, u, b) and a size in bytes.
func (a *npyArray) parseDescr(d string) error {
	a.descr = d
	bad := fmt.Errorf("unsupported dtype %q (supported: float32, float64, integers, bool)", d)
	if len(d) < 3 {
		return bad
	}
	order, kind := d[0], d[1]
	size, err := strconv.Atoi(d[2:])
	if err != nil {
		return bad
	}
	switch order {
	case '<', '=':
	case '>':
		a.big = true
	case '|':
		if size != 1 {
			return bad
		}
	default:
		return bad
	}
	ok := false
	switch kind {
	case 'f':
		ok = size == 4 || size == 8
	case 'i', 'u':
		ok = size == 1 || size == 2 || size == 4 || size == 8
	case 'b':
		ok = size == 1
	}
	if !ok {
		return bad
	}
	a.kind, a.size = kind, size
	return nil
}

// dtypeName returns a readable name of the element type, e.g. "float32".
func (a *npyArray) dtypeName() string {
	switch a.kind {
	case 'f':
		return fmt.Sprintf("float%d", 8*a.size)
	case 'i':
		return fmt.Sprintf("int%d", 8*a.size)
	case 'u':
		return fmt.Sprintf("uint%d", 8*a.size)
	}
	return "bool"
}

// shapeString formats the shape as Python does: "()", "(3,)", "(2, 3)".
func (a *npyArray) shapeString() string {
	return shapeString(a.shape)
}

func shapeString(shape []int) string {
	switch len(shape) {
	case 0:
		return "()"
	case 1:
		return fmt.Sprintf("(%d,)", shape[0])
	}
	s := make([]string, len(shape))
	for i, v := range shape {
		s[i] = strconv.Itoa(v)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// len returns the number of elements.
func (a *npyArray) len() int { return len(a.data) / a.size }

// at returns element k in storage order, converted to float64 (int64 and uint64 values
// beyond 2⁵³ are rounded).
func (a *npyArray) at(k int) float64 {
	b := a.data[k*a.size : (k+1)*a.size]
	var bo binary.ByteOrder = binary.LittleEndian
	if a.big {
		bo = binary.BigEndian
	}
	switch a.kind {
	case 'f':
		if a.size == 4 {
			return float64(math.Float32frombits(bo.Uint32(b)))
		}
		return math.Float64frombits(bo.Uint64(b))
	case 'i':
		switch a.size {
		case 1:
			return float64(int8(b[0]))
		case 2:
			return float64(int16(bo.Uint16(b)))
		case 4:
			return float64(int32(bo.Uint32(b)))
		}
		return float64(int64(bo.Uint64(b)))
	case 'u':
		switch a.size {
		case 1:
			return float64(b[0])
		case 2:
			return float64(bo.Uint16(b))
		case 4:
			return float64(bo.Uint32(b))
		}
		return float64(bo.Uint64(b))
	}
	if b[0] != 0 {
		return 1
	}
	return 0
}

// values returns the elements in C (row-major) order; the array must have at most 2
// dimensions.
func (a *npyArray) values() []float64 {
	out := make([]float64, a.len())
	if a.fortran && len(a.shape) == 2 {
		r, c := a.shape[0], a.shape[1]
		for i := range r {
			for j := range c {
				out[i*c+j] = a.at(j*r + i)
			}
		}
		return out
	}
	for k := range out {
		out[k] = a.at(k)
	}
	return out
}

// pyLit scans the small subset of Python literal syntax .npy headers use.
type pyLit struct {
	s string
	i int
}

func (p *pyLit) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyLit) consume(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyLit) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a quoted string without escapes.
func (p *pyLit) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("expected a quoted string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("escaped strings are not supported")
	}
	p.i += end + 2
	return v, nil
}

// tuple reads a tuple of non-negative integers, such as (), (3,), (2, 3) or (2L, 3L).
func (p *pyLit) tuple() ([]int, error) {
	if !p.consume('(') {
		return nil, fmt.Errorf("'shape' is not a tuple")
	}
	shape := []int{}
	for {
		if p.consume(')') {
			return shape, nil
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return nil, fmt.Errorf("'shape' holds a non-integer")
		}
		v, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, fmt.Errorf("'shape' entry %s is too large", p.s[p.i:j])
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		shape = append(shape, v)
		if p.consume(',') {
			continue
		}
		if !p.consume(')') {
			return nil, fmt.Errorf("'shape' tuple is malformed")
		}
		return shape, nil
	}
}

// readNPY reads and decodes the .npy file path (gzip-compressed or not).
func readNPY(path string) (*npyArray, error) {
	_, b, err := readNPYFile(path)
	if err != nil {
		return nil, err
	}
	a, err := decodeNPY(b)
	if err != nil {
		return nil, &ParseError{File: path, Msg: err.Error()}
	}
	return a, nil
}

// vectorFromNPY checks that a is a 1-D float array and returns its values.
func vectorFromNPY(file string, a *npyArray) ([]float64, error) {
	if a.kind != 'f' {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("dtype %s: want float32 or float64", a.dtypeName())}
	}
	if len(a.shape) != 1 {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("shape %s: want a 1-D array", a.shapeString())}
	}
	return a.values(), nil
}

// matrixFromNPY checks that a is a 2-D float array with at least one row and column and
// returns it as a matrix (Fortran order is converted).
func matrixFromNPY(file string, a *npyArray) (*mat.Dense, error) {
	if a.kind != 'f' {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("dtype %s: want float32 or float64", a.dtypeName())}
	}
	if len(a.shape) != 2 || a.shape[0] == 0 || a.shape[1] == 0 {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("shape %s: want a non-empty 2-D array", a.shapeString())}
	}
	return mat.NewDense(a.shape[0], a.shape[1], a.values()), nil
}

// ReadVector reads a 1-D float64 or float32 array from the .npy file path (for instance a
// parameter vector θ saved with numpy.save or torch's .numpy()). Errors name the file.
func ReadVector(path string) ([]float64, error) {
	a, err := readNPY(path)
	if err != nil {
		return nil, err
	}
	return vectorFromNPY(path, a)
}

// ReadMatrix reads a 2-D float64 or float32 array, in C or Fortran order, from the .npy
// file path. Errors name the file.
func ReadMatrix(path string) (*mat.Dense, error) {
	a, err := readNPY(path)
	if err != nil {
		return nil, err
	}
	return matrixFromNPY(path, a)
}

// WriteVector writes v to path as a 1-D little-endian float64 .npy array (format version
// 1.0, header padded to 64 bytes), atomically: on failure path is left as it was and no
// partial file remains.
func WriteVector(path string, v []float64) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		return encodeNPY(w, []int{len(v)}, func(k int) float64 { return v[k] })
	})
}

// WriteMatrix writes m to path as a 2-D little-endian float64 .npy array in C order,
// atomically like WriteVector.
func WriteMatrix(path string, m mat.Matrix) error {
	r, c := m.Dims()
	return atomicfile.Write(path, func(w io.Writer) error {
		return encodeNPY(w, []int{r, c}, func(k int) float64 { return m.At(k/c, k%c) })
	})
}

// encodeNPY writes a C-order float64 array of the given shape whose k-th element is
// elem(k).
func encodeNPY(w io.Writer, shape []int, elem func(k int) float64) error {
	count := 1
	for _, s := range shape {
		count *= s
	}
	dict := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }", shapeString(shape))
	// magic (6) + version (2) + length (2) + dict + padding + '\n' ≡ 0 (mod 64).
	pad := (64 - (10+len(dict)+1)%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	if len(hdr) > math.MaxUint16 {
		return fmt.Errorf(".npy header too long")
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(npyMagic)
	bw.Write([]byte{1, 0})
	bw.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(hdr))))
	bw.WriteString(hdr)
	var buf [8]byte
	for k := range count {
		binary.LittleEndian.PutUint64(buf[:], math.Float64bits(elem(k)))
		if _, err := bw.Write(buf[:]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// parseNPYData builds the table of a .npy feature matrix (file, content b) and a .npy
// target vector (yfile, content by). Features must be a finite float array in C order,
// 2-D (examples × features) or 4-D (examples, C, H, W: images, each row its C·H·W values in
// (C, H, W) order, named pixel_c_h_w, with the table's shape (C, H, W)); targets a 1-D (or
// n×1) array of any numeric dtype with finite values.
func parseNPYData(file string, b []byte, yfile string, by []byte) (*table, error) {
	a, err := decodeNPY(b)
	if err != nil {
		return nil, &ParseError{File: file, Msg: err.Error()}
	}
	if a.kind != 'f' {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("features have dtype %s: want float32 or float64", a.dtypeName())}
	}
	if len(a.shape) != 2 && len(a.shape) != 4 {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("features have shape %s: want a 2-D array (examples × features) or a 4-D array of images (examples, C, H, W)", a.shapeString())}
	}
	if a.fortran {
		return nil, &ParseError{File: file, Msg: "features are in Fortran (column-major) order: save a C-order copy (numpy.ascontiguousarray)"}
	}
	n, p := a.shape[0], a.shape[1]
	var shape []int
	if len(a.shape) == 4 {
		// Images: row i is example i's C·H·W values in (C, H, W) order, as C-order storage
		// already lays them out (with n ≥ 1 the product cannot overflow: npyHeader checked
		// the shape's product; with n = 0 p is not used).
		shape = []int{a.shape[1], a.shape[2], a.shape[3]}
		p = shape[0] * shape[1] * shape[2]
	}
	// Checked before anything of size p is allocated: with n = 0 the file's length does
	// not bound it.
	if n == 0 {
		return nil, &ParseError{File: file, Msg: "no examples"}
	}
	if p == 0 {
		return nil, &ParseError{File: file, Msg: "no feature columns"}
	}
	t := &table{file: file, yfile: yfile, n: n, p: p, x: a.values(), shape: shape}
	for k, v := range t.x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if shape != nil {
				h, w, j := shape[1], shape[2], k%p
				return nil, &ParseError{File: file, Msg: fmt.Sprintf("element (%d, %d, %d, %d) is %v", k/p, j/(h*w), j/w%h, j%w, v)}
			}
			return nil, &ParseError{File: file, Msg: fmt.Sprintf("element (%d, %d) is %v", k/p, k%p, v)}
		}
	}
	ya, err := decodeNPY(by)
	if err != nil {
		return nil, &ParseError{File: yfile, Msg: err.Error()}
	}
	if !(len(ya.shape) == 1 || (len(ya.shape) == 2 && ya.shape[1] == 1)) {
		return nil, &ParseError{File: yfile, Msg: fmt.Sprintf("labels have shape %s: want a 1-D array", ya.shapeString())}
	}
	if ya.shape[0] != n {
		return nil, &ParseError{File: yfile, Msg: fmt.Sprintf("%d labels for %d examples in %s", ya.shape[0], n, file)}
	}
	t.nums = ya.values()
	t.labels = make([]string, n)
	for i, v := range t.nums {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, &ParseError{File: yfile, Msg: fmt.Sprintf("element %d: label %v is not finite", i, v)}
		}
		if v == 0 {
			v = 0 // −0 and 0 are one class
		}
		t.labels[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	if shape != nil {
		t.names = imageNames(shape)
	} else {
		t.names = make([]string, p)
		for j := range p {
			t.names[j] = fmt.Sprintf("x%d", j)
		}
	}
	t.where = func(i int) (int, string) { return 0, fmt.Sprintf("element %d", i) }
	return t, nil
}
