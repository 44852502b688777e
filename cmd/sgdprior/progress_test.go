package main

import (
	"bytes"
	"testing"

	recorder "github.com/sgdprior/sgdprior/progress"
)

// TestProgressAnnounce: off a terminal, reports within 5 s of the last line are dropped,
// except those marked recorder.Announce (a choice or a predicted cost), which always show.
func TestProgressAnnounce(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b)
	p.update("first", -1)
	p.update("dropped stage", -1)
	p.update("dropped bar", 0.5)
	p.update("predicted 62 s", recorder.Announce)
	p.update("dropped again", -1)
	if got, want := b.String(), "first\npredicted 62 s\n"; got != want {
		t.Errorf("lines %q, want %q", got, want)
	}
}
