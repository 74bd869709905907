package main

import (
	"context"
	"fmt"
)

// cmdEnqueue submits a file for separate workers and prints the batch ID.
func cmdEnqueue(ctx context.Context, e env) error {
	fs := newFlagSet(e, "enqueue", "enqueue [flags] FILE")
	var sf submitFlags
	sf.register(fs)
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("enqueue needs exactly one FILE")
	}
	a, err := newApp(ctx, e, appNeeds{}, "enqueue")
	if err != nil {
		return err
	}
	defer a.close()
	res, err := sf.submit(ctx, a, e, args[0], nil)
	if err != nil {
		return err
	}
	b := res.Batch
	switch {
	case res.AlreadySubmitted:
		fmt.Fprintf(e.stderr, "batch %s was already submitted with this file and these options: nothing new was enqueued\n", b.ID)
	case res.Resumed:
		fmt.Fprintf(e.stderr, "batch %s: completed an interrupted submission\n", b.ID)
	default:
		fmt.Fprintf(e.stderr, "batch %s: %d rows, %d valid, %d rejected, %d chunks enqueued\n", b.ID, b.Rows, b.Valid, b.Rejected, b.ChunksTotal)
	}
	fmt.Fprintln(e.stdout, b.ID)
	return nil
}
