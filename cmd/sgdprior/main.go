// Command sgdprior turns the technical note on SGD's implicit prior into an instrument: it
// computes the note's quantities for real models and data, checks the note's assumptions,
// measures SGD's stationary distribution and reports which prediction holds.
//
// Usage: sgdprior <command> [flags]; `sgdprior help` lists the commands.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
