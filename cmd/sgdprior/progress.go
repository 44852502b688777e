package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	recorder "github.com/sgdprior/sgdprior/progress"
)

// progress shows a bar on a terminal and plain lines (at most one every few seconds)
// otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	last  time.Time
	shown bool
	// announced: the caller has printed each step's first line (concurrent steps, whose
	// start the scheduler announces in the order it starts them).
	announced bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// update shows msg; frac in [0,1] draws a bar, frac < 0 shows the message alone. A message
// with frac = recorder.Announce (a choice or a predicted cost) is never thinned out.
func (p *progress) update(msg string, frac float64) {
	now := time.Now()
	announce := frac == recorder.Announce
	if p.tty {
		if !announce && now.Sub(p.last) < 100*time.Millisecond && frac < 1 {
			return
		}
		p.last = now
		bar := ""
		if frac >= 0 {
			n := int(frac * 30)
			bar = "[" + strings.Repeat("=", n) + strings.Repeat(" ", 30-n) + "] "
		}
		fmt.Fprintf(p.w, "\r\x1b[K%s%s", bar, msg)
		p.shown = true
		return
	}
	if !announce && now.Sub(p.last) < 5*time.Second {
		return
	}
	p.last = now
	fmt.Fprintln(p.w, msg)
}

// done ends a bar's line.
func (p *progress) done() {
	if p.tty && p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}
