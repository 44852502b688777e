package landscape

import (
	"math"
	"testing"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// TestValidateSizes: a huge --n or --chains is a usage error naming the flag and the memory
// (it was allocated unchecked), and --steps whose step count time/dt overflows is refused.
func TestValidateSizes(t *testing.T) {
	t.Setenv(memlimit.Env, "2G")
	ps := PresetSettings{N: 1 << 40}
	if fe := field.As(ps.Validate()); fe == nil || fe.Flag() != "--n 1.1e+12 examples would need 70 TB; 2 GB is available" {
		t.Errorf("--n 2⁴⁰: %v", fe)
	}
	ps.N = math.MaxInt
	if fe := field.As(ps.Validate()); fe == nil || fe.Key != "n" {
		t.Errorf("--n MaxInt: %v", fe)
	}
	for _, c := range []struct {
		edit      func(*Settings)
		key, want string
	}{
		{func(s *Settings) { s.Chains = 1e8 }, "chains", "--chains 1e+08 chains × 14400 histogram cells would need 12 TB; 2 GB is available"},
		{func(s *Settings) { s.Chains = math.MaxInt }, "chains", "--chains 9.2e+18 chains × 14400 histogram cells would need more than 18 EB; 2 GB is available"},
		{func(s *Settings) { s.Time = math.MaxInt }, "steps", "--steps 9223372036854775807 at --dt 0.1 means 9.22e+19 steps per chain, more than the 9007199254740992 (2⁵³) a run can count"},
	} {
		s := DefaultSettings()
		c.edit(&s)
		if fe := field.As(s.Validate()); fe == nil || fe.Key != c.key || fe.Flag() != c.want {
			t.Errorf("%v, want %q", fe, c.want)
		}
	}
	if err := DefaultSettings().Validate(); err != nil {
		t.Error(err)
	}
	if err := (PresetSettings{}).Validate(); err != nil {
		t.Error(err)
	}
}
