package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func gz(t *testing.T, parts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, p := range parts {
		zw.Write(p)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestInputCap: CSV and LibSVM files larger than the input cap (SGDPRIOR_MAX_INPUT, here
// 1 kB), stored or after gzip decompression, and an endless device (csv:/dev/zero, which
// was read without bound), are one-line errors naming the file.
func TestInputCap(t *testing.T) {
	t.Setenv(MaxInputEnv, "1kB")
	big := []byte("a,b\n" + strings.Repeat("1,0\n", 500))
	csvPath := writeTemp(t, "big.csv", big)
	svmPath := writeTemp(t, "big.svm", []byte(strings.Repeat("1 1:1\n", 300)))
	bomb := writeTemp(t, "bomb.csv", gz(t, []byte("a,b\n"), make([]byte, 200<<10)))
	cases := []struct{ src, want string }{
		{"csv:" + csvPath, csvPath + ": is larger than the input cap of 1 kB (1000 bytes; SGDPRIOR_MAX_INPUT raises it)"},
		{"libsvm:" + svmPath, svmPath + ": is larger than the input cap of 1 kB (1000 bytes; SGDPRIOR_MAX_INPUT raises it)"},
		{"csv:" + bomb, bomb + ": decompresses to more than the input cap of 1 kB (1000 bytes; SGDPRIOR_MAX_INPUT raises it)"},
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		cases = append(cases, struct{ src, want string }{"csv:/dev/zero", "/dev/zero: is larger than the input cap of 1 kB (1000 bytes; SGDPRIOR_MAX_INPUT raises it)"})
	}
	for _, c := range cases {
		_, err := Load(Spec{Source: c.src})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v\n want %s", c.src, err, c.want)
		}
	}
	t.Setenv(MaxInputEnv, "10kB")
	if _, err := Load(Spec{Source: "csv:" + csvPath}); err != nil {
		t.Errorf("under a 10 kB cap: %v", err)
	}
	t.Setenv(MaxInputEnv, "lots")
	if _, err := Load(Spec{Source: "csv:" + csvPath}); err == nil || !strings.Contains(err.Error(), "SGDPRIOR_MAX_INPUT") {
		t.Errorf("an invalid cap: %v", err)
	}
}

// TestIDXGzipBomb: a 20 MB run of zeros after an IDX header that declares 480 data bytes,
// gzip-compressed to a few kB, is refused after reading 481 bytes of it (it was decompressed
// in full, up to 2 GiB, before the header was compared); a header declaring more than the
// input cap is refused before any data are read.
func TestIDXGzipBomb(t *testing.T) {
	dir := t.TempDir()
	lbl := idxBytes(8, []uint32{6}, []byte{1, 2, 3, 4, 5, 6})
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), lbl, 0o644)
	img := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	os.WriteFile(img, gz(t, idxBytes(8, []uint32{6, 8, 10}, nil), make([]byte, 20<<20)), 0o644)
	var err error
	if n := allocated(func() { _, err = Load(Spec{Source: "idx:" + dir}) }); n > 4<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", n)
	}
	if want := img + ": IDX dimensions [6 8 10] need 480 data bytes, the file has more"; err == nil || err.Error() != want {
		t.Errorf("bomb: %v\n want %s", err, want)
	}

	t.Setenv(MaxInputEnv, "1kB")
	os.WriteFile(img, gz(t, idxBytes(8, []uint32{6, 20, 20}, make([]byte, 2400))), 0o644)
	_, err = Load(Spec{Source: "idx:" + dir})
	if want := img + ": IDX dimensions [6 20 20] declare 2400 data bytes, more than the input cap of 1 kB (SGDPRIOR_MAX_INPUT raises it)"; err == nil || err.Error() != want {
		t.Errorf("over the cap: %v\n want %s", err, want)
	}
	t.Setenv(MaxInputEnv, "10kB")
	if _, err := Load(Spec{Source: "idx:" + dir}); err != nil {
		t.Errorf("under a 10 kB cap: %v", err)
	}
}

// TestNPYGzipBomb: a gzip-compressed .npy whose shape declares 24 data bytes followed by
// 20 MB is refused after reading 25 data bytes; a shape whose product × item size exceeds
// the input cap is refused before any data are read.
func TestNPYGzipBomb(t *testing.T) {
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
	path := writeTemp(t, "bomb.npy", gz(t, npyRaw(1, dict, f64le(1, 2, 3)), make([]byte, 20<<20)))
	var err error
	if n := allocated(func() { _, err = ReadVector(path) }); n > 4<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", n)
	}
	if want := path + ": shape (3,) of <f8 needs 24 data bytes, the file has more"; err == nil || err.Error() != want {
		t.Errorf("bomb: %v\n want %s", err, want)
	}

	t.Setenv(MaxInputEnv, "1kB")
	dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (200,), }"
	path = writeTemp(t, "big.npy", gz(t, npyRaw(1, dict, make([]byte, 1600))))
	_, err = ReadVector(path)
	if want := path + ": shape (200,) of <f8 declares 1600 data bytes, more than the input cap of 1 kB (SGDPRIOR_MAX_INPUT raises it)"; err == nil || err.Error() != want {
		t.Errorf("over the cap: %v\n want %s", err, want)
	}
	t.Setenv(MaxInputEnv, "10kB")
	for _, major := range []byte{1, 2} {
		path = writeTemp(t, "ok.npy", gz(t, npyRaw(major, dict, make([]byte, 1600))))
		if v, err := ReadVector(path); err != nil || len(v) != 200 {
			t.Errorf("version %d under a 10 kB cap: %d values, %v", major, len(v), err)
		}
	}
}

// TestInputMemory: an endless device is read no further than a quarter of the memory available
// when that is below the input cap.
func TestInputMemory(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	t.Setenv("SGDPRIOR_MEMORY", "4kB")
	_, err := Load(Spec{Source: "csv:/dev/zero"})
	if want := "/dev/zero: is larger than a quarter of the memory available (1 kB)"; err == nil || err.Error() != want {
		t.Errorf("%v\n want %s", err, want)
	}
}

// TestReadDirectory: a directory given as a data file is a one-line error naming it.
func TestReadDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(Spec{Source: "csv:" + dir})
	if want := dir + ": is a directory"; err == nil || err.Error() != want {
		t.Errorf("%v, want %s", err, want)
	}
}

// FuzzNPYGzipStream: reading a gzip-compressed .npy as far as its header declares accepts
// exactly the files decodeNPY accepts, with the same content.
func FuzzNPYGzipStream(f *testing.F) {
	f.Add(npyRaw(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f64le(1, 2, 3)))
	f.Add(npyRaw(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", []byte{0, 0, 128, 63}))
	f.Add(npyRaw(1, "", nil))
	f.Add([]byte("\x93NUMPY\x01\x00\x00\x00"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "f.npy")
		if err := os.WriteFile(path, gz(t, b), 0o644); err != nil {
			t.Fatal(err)
		}
		_, content, err := readNPYFile(path)
		_, derr := decodeNPY(b)
		if (err == nil) != (derr == nil) {
			t.Fatalf("stream: %v; whole: %v", err, derr)
		}
		if err == nil && !bytes.Equal(content, b) {
			t.Fatalf("stream content differs from the file")
		}
	})
}
