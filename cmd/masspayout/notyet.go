package main

import (
	"context"
	"fmt"
)

// notYet is the placeholder for a command whose issue has not landed; it says which.
func notYet(issue string) func(context.Context, env) error {
	return func(_ context.Context, e env) error {
		fmt.Fprintf(e.stdout, "not yet: see issue %s\n", issue)
		return nil
	}
}

var (
	cmdRun       = notYet("4 (the pipeline)")
	cmdEnqueue   = notYet("4 (the pipeline)")
	cmdWorker    = notYet("4 (the pipeline)")
	cmdStatus    = notYet("4 (the pipeline)")
	cmdReport    = notYet("4 (the pipeline)")
	cmdServe     = notYet("6 (HTTP API)")
	cmdScheduler = notYet("7 (scheduled runs)")
	cmdApprove   = notYet("5 (two-phase completion)")
	cmdCancel    = notYet("5 (two-phase completion)")
	cmdReconcile = notYet("5 (two-phase completion)")
	cmdValidate  = notYet("3 (file intake)")
)
