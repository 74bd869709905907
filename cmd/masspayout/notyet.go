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

var ()
