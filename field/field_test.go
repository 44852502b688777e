package field

import (
	"fmt"
	"testing"
)

func TestSpellings(t *testing.T) {
	e := Errorf("weight-decay", "must be ≥ 0 and finite, not %v", -1.0)
	if got, want := e.Flag(), "--weight-decay must be ≥ 0 and finite, not -1"; got != want {
		t.Errorf("Flag() = %q, want %q", got, want)
	}
	if got, want := e.TOML(), "weight_decay must be ≥ 0 and finite, not -1"; got != want {
		t.Errorf("TOML() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("problem x: %w", e)
	if As(wrapped) != e {
		t.Error("As does not find the wrapped error")
	}
	if As(fmt.Errorf("plain")) != nil {
		t.Error("As finds an Error in a plain error")
	}
}
