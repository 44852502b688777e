package escape

import (
	"testing"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// TestValidateSizes: huge --chains is refused before the chains' state is allocated.
func TestValidateSizes(t *testing.T) {
	t.Setenv(memlimit.Env, "4G")
	s := DefaultSettings()
	s.LR, s.Batch, s.Chains = 0.1, 8, 1<<60
	if fe := field.As(s.Validate()); fe == nil || fe.Flag() != "--chains 1.2e+18 chains (of one parameter at least) would need more than 18 EB; 4 GB is available" {
		t.Errorf("--chains 2⁶⁰: %v", fe)
	}
	s.Chains = 1e6
	if fe := field.As(s.CheckMemory(10000)); fe == nil || fe.Flag() != "--chains 1e+06 chains × 10000 parameters would need 80 GB; 4 GB is available" {
		t.Errorf("--chains 1e6 at d = 10000: %v", fe)
	}
	s.Chains = 16
	if err := s.CheckMemory(100000); err != nil {
		t.Error(err)
	}
}
