// Command masspayout turns payroll payout files into iyzico Mass Payout requests: it validates
// files, submits them as chunk tasks on an asynq queue, runs the workers, and reports every row's
// outcome. Run "masspayout -h" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/masspayout/masspayout/batch"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // the scheduler's Europe/Istanbul must resolve on any image
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errSilent) && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "masspayout:", err)
		}
		os.Exit(exitCode(err))
	}
}

// env bundles what a subcommand receives from the process: arguments after the subcommand name,
// the environment (through getenv only) and the standard streams.
type env struct {
	args   []string
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e env) error
}

// commands is the one registry of subcommands; each lives in a file named for it.
func commands() map[string]command {
	return map[string]command{
		"run":       {"submit FILE and process it in this process; write the report", cmdRun},
		"enqueue":   {"submit FILE only and print the batch ID", cmdEnqueue},
		"worker":    {"run asynq workers", cmdWorker},
		"serve":     {"HTTP API, dashboard, asynqmon and /metrics", cmdServe},
		"scheduler": {"scheduled month-end runs", cmdScheduler},
		"validate":  {"validate every row of FILE without submitting (--json)", cmdValidate},
		"status":    {"show a batch's progress (--watch)", cmdStatus},
		"report":    {"write a batch's reconciliation report (-o PATH)", cmdReport},
		"approve":   {"release a batch's initialized chunks (auth)", cmdApprove},
		"cancel":    {"cancel a batch's chunks still in INIT", cmdCancel},
		"reconcile": {"re-read every chunk from iyzico and repair the ledger", cmdReconcile},
		"discard":   {"remove a batch that never reached iyzico", cmdDiscard},
		"repay":     {"write the rows of a batch not paid, from its original file (--file, -o)", cmdRepay},
		"sandbox":   {"run the fake iyzico server (--addr)", cmdSandbox},
		"version":   {"print the version", cmdVersion},
	}
}

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func cmdVersion(_ context.Context, e env) error {
	fmt.Fprintln(e.stdout, "masspayout", version)
	return nil
}

// run is the whole program: main only adapts it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) < 2 {
		usage(stderr, cmds)
		return usageErrorf("no command given")
	}
	name := args[1]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(stdout, cmds)
		return nil
	}
	c, ok := cmds[name]
	if !ok {
		usage(stderr, cmds)
		return usageErrorf("unknown command %q", name)
	}
	e := env{args: args[2:], getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	// The audit list records, beside the name a person gives (--as), who ran the command.
	ctx = batch.ContextWithVia(ctx, "masspayout "+name+", OS user "+osUser(e))
	return c.run(ctx, e)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: masspayout COMMAND [flags] [args]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nRun \"masspayout COMMAND -h\" for a command's flags. Configuration comes from the environment (see README.md).\n")
	io.WriteString(w, b.String())
}
