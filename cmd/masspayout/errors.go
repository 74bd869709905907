package main

import (
	"errors"
	"flag"
	"fmt"
)

// Exit codes (DESIGN.md §3).
const (
	exitOK       = 0
	exitFailed   = 1 // the job failed (validate: some rows invalid)
	exitUsage    = 2 // bad usage or unreadable input
	exitConflict = 3 // batch ID conflict
)

// exitError carries the process exit code for an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExit wraps err so that the process exits with code.
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func usageErrorf(format string, args ...any) error {
	return withExit(exitUsage, fmt.Errorf(format, args...))
}

// errSilent marks an error whose message was already printed; main only sets the exit code.
var errSilent = errors.New("silent")

// silentExit ends the command with code without printing anything more.
func silentExit(code int) error { return withExit(code, errSilent) }

func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	}
	return exitFailed
}
