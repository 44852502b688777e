// Package memlimit checks, before anything is allocated, that a request sized by the user
// fits in the machine's memory. The memory available is MemAvailable of /proc/meminfo
// (Linux), or the value of the environment variable SGDPRIOR_MEMORY (bytes, with an
// optional suffix k, M, G, T for powers of 1000 or KiB, MiB, GiB, TiB for powers of 1024)
// when it is set; elsewhere it is unknown and only arithmetic overflow is refused.
//
// The sizes are computed with overflow-checked multiplication (Mul): a product that does
// not fit in 64 bits is itself the error (it would need more than 18.4 EB).
package memlimit

import (
	"bufio"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/field"
)

// Env is the environment variable that, when set, overrides the memory available.
const Env = "SGDPRIOR_MEMORY"

// Overflow is the size Mul returns for a product that does not fit in 64 bits.
const Overflow = math.MaxUint64

// Mul returns the product of the factors and true, or Overflow and false when it does not
// fit in 64 bits.
func Mul(factors ...uint64) (uint64, bool) {
	p := uint64(1)
	for _, f := range factors {
		hi, lo := bits.Mul64(p, f)
		if hi != 0 {
			return Overflow, false
		}
		p = lo
	}
	return p, true
}

// MulInt is Mul of ints; a negative factor counts as an overflow.
func MulInt(factors ...int) (uint64, bool) {
	p := uint64(1)
	for _, f := range factors {
		if f < 0 {
			return Overflow, false
		}
		var ok bool
		if p, ok = Mul(p, uint64(f)); !ok {
			return Overflow, false
		}
	}
	return p, true
}

// Add returns a + b, or Overflow when the sum does not fit in 64 bits.
func Add(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return Overflow
	}
	return s
}

// Available returns the memory available in bytes and true, or 0 and false when it is
// unknown: SGDPRIOR_MEMORY when set (an invalid value counts as unknown), else MemAvailable
// from /proc/meminfo, or the process's address-space limit (`ulimit -v`) when that is
// smaller (or the only one known).
func Available() (uint64, bool) {
	if v, ok := os.LookupEnv(Env); ok {
		b, err := ParseBytes(v)
		return b, err == nil
	}
	lim, limited := addressLimit()
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return lim, limited
	}
	defer f.Close()
	avail, ok := parseMeminfo(bufio.NewScanner(f))
	switch {
	case !ok:
		return lim, limited
	case limited && lim < avail:
		return lim, true
	}
	return avail, true
}

// parseMeminfo finds "MemAvailable: N kB".
func parseMeminfo(sc *bufio.Scanner) (uint64, bool) {
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) == 0 {
			return 0, false
		}
		n, err := strconv.ParseUint(fs[0], 10, 64)
		if err != nil {
			return 0, false
		}
		unit := uint64(1)
		if len(fs) > 1 && strings.EqualFold(fs[1], "kB") {
			unit = 1024
		}
		b, ok := Mul(n, unit)
		return b, ok
	}
	return 0, false
}

// ParseBytes parses a size such as "8000000000", "8G" or "7.5GiB".
func ParseBytes(v string) (uint64, error) {
	s := strings.TrimSpace(v)
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"B", 1}} {
		if t, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(t), u.m
			break
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || !(x >= 0) || x*mult >= math.MaxUint64 {
		return 0, fmt.Errorf("%q is not a size in bytes", v)
	}
	return uint64(x * mult), nil
}

// Format returns n bytes in decimal units with 2 significant digits (3 from 100 up):
// "3.2 TB", "7.1 GB", "500 kB".
func Format(n uint64) string {
	if n == Overflow {
		return "more than 18 EB"
	}
	x := float64(n)
	for _, u := range []string{"B", "kB", "MB", "GB", "TB", "PB"} {
		if x < 1000 {
			switch {
			case u == "B":
				return fmt.Sprintf("%d B", n)
			case x >= 100:
				return fmt.Sprintf("%.0f %s", x, u)
			}
			return fmt.Sprintf("%.2g %s", x, u)
		}
		x /= 1000
	}
	return fmt.Sprintf("%.2g EB", x)
}

// Need returns nil when bytes fit in the memory available (or the memory available is
// unknown and bytes did not overflow), else a *field.Error keyed by key that reads
// "<what> would need <bytes>; <available> is available". what describes the request in
// the user's numbers ("1e11 steps × 64 chains × 2410 parameters kept").
func Need(key string, bytes uint64, what string) error {
	avail, known := Available()
	switch {
	case bytes == Overflow && !known:
		return field.Errorf(key, "%s would need %s", what, Format(bytes))
	case !known || bytes <= avail:
		return nil
	}
	return field.Errorf(key, "%s would need %s; %s is available", what, Format(bytes), Format(avail))
}

// Count formats a count as the user would write it: exact below 10⁶, else "1e+11" style
// with 2 significant digits.
func Count(n int) string {
	if n < 1000000 && n > -1000000 {
		return strconv.Itoa(n)
	}
	return strconv.FormatFloat(float64(n), 'g', 2, 64)
}
