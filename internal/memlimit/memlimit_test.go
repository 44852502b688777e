package memlimit

import (
	"bufio"
	"math"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/field"
)

func TestMul(t *testing.T) {
	if p, ok := Mul(3, 4, 5); !ok || p != 60 {
		t.Errorf("Mul(3, 4, 5) = %d, %v", p, ok)
	}
	if p, ok := Mul(1<<32, 1<<32); ok || p != Overflow {
		t.Errorf("Mul(2³², 2³²) = %d, %v, want overflow", p, ok)
	}
	if _, ok := MulInt(math.MaxInt, 3); ok {
		t.Error("MulInt(MaxInt, 3) did not overflow")
	}
	if _, ok := MulInt(-1, 2); ok {
		t.Error("MulInt(-1, 2) accepted a negative factor")
	}
	if Add(Overflow, 1) != Overflow || Add(2, 3) != 5 {
		t.Error("Add")
	}
}

func TestParseMeminfo(t *testing.T) {
	in := "MemTotal:       16000000 kB\nMemFree:  100 kB\nMemAvailable:    7000000 kB\n"
	b, ok := parseMeminfo(bufio.NewScanner(strings.NewReader(in)))
	if !ok || b != 7000000*1024 {
		t.Errorf("parseMeminfo = %d, %v", b, ok)
	}
	if _, ok := parseMeminfo(bufio.NewScanner(strings.NewReader("MemTotal: 1 kB\n"))); ok {
		t.Error("parseMeminfo found MemAvailable where there is none")
	}
}

func TestNeed(t *testing.T) {
	t.Setenv(Env, "7.1G")
	if err := Need("steps", 7_000_000_000, "x"); err != nil {
		t.Errorf("Need within the limit: %v", err)
	}
	err := Need("steps", 3_200_000_000_000, "1e+11 steps × 64 chains")
	fe := field.As(err)
	if fe == nil || fe.Key != "steps" {
		t.Fatalf("Need = %v, want a *field.Error keyed steps", err)
	}
	if got, want := fe.Flag(), "--steps 1e+11 steps × 64 chains would need 3.2 TB; 7.1 GB is available"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if err := Need("chains", Overflow, "x"); err == nil || !strings.Contains(err.Error(), "more than 18 EB") {
		t.Errorf("Need(Overflow) = %v", err)
	}
	t.Setenv(Env, "not a size")
	if err := Need("chains", Overflow, "x"); err == nil {
		t.Error("an overflow passed with the memory unknown")
	}
	if err := Need("chains", 1<<50, "x"); err != nil {
		t.Errorf("with the memory unknown: %v", err)
	}
}

func TestAvailableEnv(t *testing.T) {
	t.Setenv(Env, "1GiB")
	if b, ok := Available(); !ok || b != 1<<30 {
		t.Errorf("Available with %s=1GiB: %d, %v", Env, b, ok)
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[uint64]string{999: "999 B", 1000: "1 kB", 500_000: "500 kB", 3_210_000_000_000: "3.2 TB", 7_100_000_000: "7.1 GB", Overflow: "more than 18 EB"} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
