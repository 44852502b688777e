package track

import (
	"testing"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// TestValidateSizes: rows listed up front for --steps/--every/--log-rows, and the
// diagnostics' vectors, are checked against the memory available before allocation (a
// map of 2⁵⁰ steps was built unchecked).
func TestValidateSizes(t *testing.T) {
	t.Setenv(memlimit.Env, "4G")
	for _, c := range []struct {
		edit func(*Settings)
		d    int
		want string
	}{
		{func(s *Settings) { s.Steps = 1 << 50 }, 0, "--every 1 records 1.1e+15 rows of --steps 1.1e+15, which would need 1.2 EB; 4 GB is available"},
		{func(s *Settings) { s.LogRows = 1 << 40 }, 0, "--log-rows 1.1e+12 records 1.1e+12 rows, which would need 1.1 PB; 4 GB is available"},
		{func(s *Settings) { s.TraceProbes = 1e6 }, 10000, "--trace-probes 1e+06 vectors of 10000 parameters would need 160 GB; 4 GB is available"},
		{func(s *Settings) { s.LanczosIter = 1e7 }, 10000, "--lanczos-iter 1e+07 vectors of 10000 parameters would need 800 GB; 4 GB is available"},
	} {
		s := DefaultSettings()
		s.LR, s.Batch, s.Steps, s.Every = 0.1, 8, 1000, 1
		c.edit(&s)
		err := s.Validate()
		if c.d > 0 {
			err = s.CheckMemory(c.d)
		}
		if fe := field.As(err); fe == nil || fe.Flag() != c.want {
			t.Errorf("%v\n want %s", err, c.want)
		}
	}
	s := DefaultSettings()
	s.LR, s.Batch, s.Steps = 0.1, 8, 1000
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
	if err := s.CheckMemory(100000); err != nil {
		t.Error(err)
	}
}
