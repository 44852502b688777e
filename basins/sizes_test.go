package basins

import (
	"math"
	"testing"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
)

// TestValidateSizes: --probes and --bootstrap, allocated up front, are checked against the
// memory available.
func TestValidateSizes(t *testing.T) {
	t.Setenv(memlimit.Env, "4G")
	for _, c := range []struct {
		edit func(*Settings)
		want string
	}{
		{func(s *Settings) { s.Probes = 1e12 }, "--probes 1e+12 numbers would need 8 TB; 4 GB is available"},
		{func(s *Settings) { s.Bootstrap = math.MaxInt }, "--bootstrap 9.2e+18 numbers would need more than 18 EB; 4 GB is available"},
	} {
		s := DefaultSettings()
		c.edit(&s)
		if fe := field.As(s.Validate()); fe == nil || fe.Flag() != c.want {
			t.Errorf("%v\n want %s", fe, c.want)
		}
	}
}
