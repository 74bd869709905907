package main

import (
	"context"
	"strings"
	"time"

	"github.com/masspayout/masspayout/batch"
)

// approver approves like a person: whenever the batch awaits approval it runs `masspayout
// approve`. Right after the first approval that succeeds it closes approved and, while the auths
// are in flight, runs `masspayout reconcile` and `masspayout approve` again. It ends with ctx.
func (r *rig) approver(ctx context.Context, approved chan<- struct{}) {
	first := true
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		b, err := r.getBatch(ctx)
		if err != nil || b.Status != batch.StatusAwaitingApproval {
			continue
		}
		if !r.cli(ctx, "approve") || !first {
			continue
		}
		first = false
		close(approved)
		r.cli(ctx, "reconcile")
		r.cli(ctx, "approve")
	}
}

// cli runs `masspayout approve` or `masspayout reconcile` on the batch, prints how it ended and
// reports whether it exited 0. reconcile exits 1 while chunks are UNKNOWN or busy: not a failure
// of the run.
func (r *rig) cli(ctx context.Context, cmd string) bool {
	args := []string{cmd, r.batchID}
	if cmd == "approve" {
		args = []string{cmd, "--as", "chaos-approver", r.batchID}
		r.tally.approvals.Add(1)
	} else {
		r.tally.reconciles.Add(1)
	}
	o, err := r.launch.run(ctx, cmd, args...)
	if err != nil {
		if ctx.Err() == nil {
			r.tl.say("%s: %v", cmd, err)
		}
		return false
	}
	said := o.stdout
	if o.code != 0 && strings.TrimSpace(o.stderr) != "" {
		said = o.stderr
	}
	r.tl.say("masspayout %s (%s) exited %d: %s", strings.Join(args, " "), o.label, o.code, lastLine(said))
	return o.code == 0
}

// lastLine is the last non-empty line of s, shortened for one event line.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := lines[len(lines)-1]
	if len(l) > 160 {
		l = l[:157] + "..."
	}
	if l == "" {
		return "(no output)"
	}
	return l
}
