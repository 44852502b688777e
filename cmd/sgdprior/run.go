package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"github.com/sgdprior/sgdprior/study"
)

// version is the program version, reported by `sgdprior version` and in every JSON output.
var version = "0.1.0-dev"

// Exit statuses.
const (
	exitOK      = 0
	exitRuntime = 1 // runtime or data error
	exitUsage   = 2 // usage error
)

// usageError marks errors in the command line: they exit with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// command is one subcommand: a name, a one-line summary and the function that runs it.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every subcommand receives: its output streams and the full command line
// (for provenance).
type env struct {
	stdout, stderr io.Writer
	cmdline        []string
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func init() {
	register(&command{name: "help", summary: "list the commands, or show one command's flags", run: runHelp})
	register(&command{name: "version", summary: "print the version", run: runVersion})
}

// commandName splits the arguments after the program's name into the subcommand's name and
// its arguments: "run" when the first argument is a flag or there is none.
func commandName(args []string) (name string, rest []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "run", args
}

// run is the whole program: it parses args, runs a subcommand and returns the exit status:
// 2 for what the user typed (a usage error, an invalid study file), 1 for data and runtime
// failures. Errors are printed as one line on stderr; panics from programmer errors are not caught
// here, so tests see them.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: stdout, stderr: stderr, cmdline: canonicalCommandLine(append([]string{"sgdprior"}, args...))}
	name, args := commandName(args)
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "sgdprior: unknown command %q (see 'sgdprior help')\n", name)
		return exitUsage
	}
	err := c.run(ctx, e, args)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	}
	if ctx.Err() != nil {
		// Stopped by SIGINT or SIGTERM: what was interrupted, and how to go on.
		fmt.Fprintf(stderr, "sgdprior %s: interrupted (%s); outputs are written atomically, so none is partial: %s\n", name, oneLine(err.Error()), resumeHint(name))
		return exitRuntime
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "sgdprior %s: %s (see 'sgdprior help %s')\n", name, oneLine(err.Error()), name)
		return exitUsage
	}
	// A study file's text is what the user typed, like a flag.
	var se *study.FileError
	if errors.As(err, &se) {
		fmt.Fprintf(stderr, "sgdprior %s: %s\n", name, oneLine(err.Error()))
		return exitUsage
	}
	fmt.Fprintf(stderr, "sgdprior %s: %s\n", name, oneLine(err.Error()))
	return exitRuntime
}

// oneLine folds an error message onto a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newFlagSet returns a FlagSet for a subcommand whose parse errors become usage errors and
// whose -h output goes to stdout.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "usage: sgdprior %s %s\n\n%s\n\nflags:\n", name, synopsis, commands[name].summary)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

var invalidValueRE = regexp.MustCompile(`^invalid value ".*" for flag -([\w-]+): (.*)$`)

// parseFlags parses args, turning errors into usage errors and refusing positional
// arguments. The usage (fs.Usage) is printed once for -h or --help, and not for an error,
// whose one line on stderr points to `sgdprior help CMD` instead. (flag.FlagSet.Parse would
// call fs.Usage itself on both.)
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return err
		}
		// flag's "invalid value "x" for flag -name: reason" reads "--name: reason".
		if m := invalidValueRE.FindStringSubmatch(err.Error()); m != nil {
			return usagef("--%s: %s", m[1], m[2])
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func runHelp(ctx context.Context, e *env, args []string) error {
	if len(args) == 1 {
		c, ok := commands[args[0]]
		if !ok {
			return usagef("unknown command %q", args[0])
		}
		if c.name == "help" || c.name == "version" {
			fmt.Fprintf(e.stdout, "sgdprior %s: %s\n", c.name, c.summary)
			return nil
		}
		return c.run(ctx, e, []string{"-h"})
	}
	if len(args) > 1 {
		return usagef("help takes at most one command")
	}
	fmt.Fprintf(e.stdout, "sgdprior %s: SGD's implicit prior, computed, checked and measured.\n\n", version)
	fmt.Fprintf(e.stdout, "usage: sgdprior <command> [flags]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(e.stdout, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(e.stdout, "\n'sgdprior help <command>' lists a command's flags.\n")
	return nil
}

func runVersion(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprintf(e.stdout, "sgdprior %s\n", version)
	return nil
}
