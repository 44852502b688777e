// Command sgdprior turns the technical note on SGD's implicit prior into an instrument: it
// computes the note's quantities for real models and data, checks the note's assumptions,
// measures SGD's stationary distribution and reports which prediction holds.
//
// Usage: sgdprior <command> [flags]; `sgdprior help` lists the commands.
package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
)

func main() {
	name, _ := commandName(os.Args[1:])
	go watchdog(os.Stderr, stopGrace, name)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// stopGrace is how long a SIGINT or SIGTERM waits for the command to stop by itself (its
// context is cancelled: long loops return, checkpoints are written) before the process exits.
const stopGrace = 5 * time.Second

// watchdog bounds the time an interrupted command takes to stop: some computations (a
// dense factorisation inside gonum, one big product) cannot observe the cancelled context.
// After grace, or at a second signal, it removes the temporary files of the writes in
// progress and exits with status 1. Every output is written to a temporary file and renamed
// into place, so the exit leaves no partial output and no temporary file.
func watchdog(stderr *os.File, grace time.Duration, name string) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	select {
	case <-sig:
	case <-time.After(grace):
	}
	atomicfile.RemoveInFlight()
	stderr.WriteString("sgdprior " + name + ": interrupted, and the computation did not stop within " + grace.String() + ": stopped now; outputs are written atomically, so none is partial: " + resumeHint(name) + "\n")
	os.Exit(exitRuntime)
}
