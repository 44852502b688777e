package verify

import (
	"testing"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// TestValidateSizes: --steps near 2⁶³ (a makeslice panic), --steps 1e11 (a 3.2 TB sample
// buffer) and huge --chains are usage errors naming the flag, the memory needed and the
// memory available, before anything is allocated.
func TestValidateSizes(t *testing.T) {
	t.Setenv(memlimit.Env, "7.1G")
	for _, c := range []struct {
		name          string
		chains, steps int
		d             int
		key, want     string
	}{
		{"steps near 2^63", 32, 1<<63 - 1, 0, "steps", "--steps 9.2e+18 steps × 32 chains (one number kept per step at least) would need more than 18 EB; 7.1 GB is available"},
		{"steps 1e11", 64, 1e11, 0, "steps", "--steps 1e+11 steps × 64 chains (one number kept per step at least) would need 51 TB; 7.1 GB is available"},
		{"steps 1e11, d 2410", 64, 1e11, 2410, "steps", "--steps 1e+11 steps × 64 chains × 20 parameters kept would need 1 PB; 7.1 GB is available"},
		{"chains 1e18", 1e18, 20000, 0, "chains", "--chains 1e+18 chains (of one parameter at least) would need more than 18 EB; 7.1 GB is available"},
		{"chains 1e8, d 2410", 1e8, 20000, 2410, "chains", "--chains 1e+08 chains × 2410 parameters would need 5.8 TB; 7.1 GB is available"},
	} {
		s := DefaultSettings()
		s.LR, s.Batch, s.Chains, s.Steps = 0.1, 8, c.chains, c.steps
		var err error
		if c.d == 0 {
			err = s.Validate()
		} else {
			err = s.CheckMemory(c.d)
		}
		fe := field.As(err)
		if fe == nil || fe.Key != c.key || fe.Flag() != c.want {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	s := DefaultSettings()
	s.LR, s.Batch = 0.1, 8
	if err := s.CheckMemory(2410); err != nil {
		t.Errorf("the defaults at d = 2410: %v", err)
	}
}
