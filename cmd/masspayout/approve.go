package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/user"
	"strings"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/config"
)

// cmdApprove releases the chunks of a batch awaiting approval: one auth per chunk. With
// APPROVAL_FOUR_EYES on it goes through the HTTP API (MASSPAYOUT_URL, MASSPAYOUT_TOKEN), so that the
// approver is the person the token names, not a name typed on the command line.
func cmdApprove(ctx context.Context, e env) error {
	fs := newFlagSet(e, "approve", "approve [--as NAME] BATCH")
	as := fs.String("as", "", "your name, recorded in the audit list and checked by the four-eyes rule (default: your OS user); not with APPROVAL_FOUR_EYES, where the token names you")
	allow := fs.Bool("allow-insufficient", false, "approve although iyzico's mass payout balance does not cover the payouts and their commission (recorded in the audit list)")
	comment := fs.String("comment", "", "a comment kept with the approval in the audit list")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("approve needs exactly one BATCH")
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("configuration: %w", err))
	}
	if cfg.ApprovalFourEyes {
		if *as != "" {
			return usageErrorf("approve: --as is not used with APPROVAL_FOUR_EYES=true: the approver is the person MASSPAYOUT_TOKEN names")
		}
		ap, err := approveOverHTTP(ctx, cfg, args[0], *allow, *comment)
		if err != nil {
			return err
		}
		printApproval(e, args[0], ap)
		return nil
	}
	a, err := newApp(ctx, e, appNeeds{iyzico: true}, "approve")
	if err != nil {
		return err
	}
	defer a.close()
	p := a.pipeline()
	o := batch.ApproveOptions{AllowInsufficient: *allow, Comment: *comment,
		CheckBalance: func(ctx context.Context, pend *batch.Pending) (*batch.BalanceCheck, error) {
			return p.CheckBalance(ctx, args[0], pend)
		}}
	ap, err := a.store.Approve(ctx, args[0], identity(e, *as), o, a.queue, a.taskOptions())
	if err != nil {
		return twoPhaseError(err)
	}
	printApproval(e, args[0], ap)
	return nil
}

// printApproval says what an approval of batch id released.
func printApproval(e env, id string, ap *batch.Approval) {
	if ap.Repeated {
		fmt.Fprintf(e.stdout, "batch %s: already approved (approval %d by %s at %s); nothing new awaits approval; follow it with: masspayout status --watch %s\n",
			id, ap.N, ap.Who, ap.At.Format(time.RFC3339), id)
		return
	}
	fmt.Fprintf(e.stdout, "batch %s: approval %d by %s released %s (%d rows, %s) for payment; follow it with: masspayout status --watch %s\n",
		id, ap.N, ap.Who, plural(len(ap.Chunks), "chunk"), ap.Rows, formatCurrencyAmounts(ap.Totals), id)
	switch {
	case ap.AllowedInsufficient:
		fmt.Fprintf(e.stdout, "%s (approved anyway: --allow-insufficient)\n", ap.Balance)
	case ap.Balance != "":
		fmt.Fprintln(e.stdout, ap.Balance)
	}
}

// approveOverHTTP approves batch id through serve's API with MASSPAYOUT_TOKEN.
func approveOverHTTP(ctx context.Context, cfg *config.Config, id string, allow bool, comment string) (*batch.Approval, error) {
	if cfg.MasspayoutURL == "" || cfg.MasspayoutToken.Reveal() == "" {
		return nil, errors.New("APPROVAL_FOUR_EYES is on: approvals go through the HTTP API, so that the approver is the person a token names; " +
			"set MASSPAYOUT_URL (the address of `masspayout serve`, e.g. http://127.0.0.1:8080) and MASSPAYOUT_TOKEN (your API token with role approve), or approve in the dashboard")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	form := url.Values{}
	if allow {
		form.Set("allow_insufficient", "true")
	}
	if comment != "" {
		form.Set("comment", comment)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.MasspayoutURL+"/v1/batches/"+url.PathEscape(id)+"/approve", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, withExit(exitUsage, fmt.Errorf("MASSPAYOUT_URL: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+cfg.MasspayoutToken.Reveal())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("approve batch %s through %s: %w; check that `masspayout serve` runs there", id, cfg.MasspayoutURL, err)
	}
	defer resp.Body.Close()
	var body struct {
		Approval *batch.Approval `json:"approval"`
		Error    *struct{ Code, Message string }
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("approve batch %s through %s: HTTP %d with an unreadable answer: %w", id, cfg.MasspayoutURL, resp.StatusCode, err)
	}
	switch {
	case body.Error != nil:
		return nil, fmt.Errorf("approve batch %s: %s (%s, HTTP %d)", id, body.Error.Message, body.Error.Code, resp.StatusCode)
	case resp.StatusCode/100 != 2 || body.Approval == nil:
		return nil, fmt.Errorf("approve batch %s through %s: HTTP %d without an approval", id, cfg.MasspayoutURL, resp.StatusCode)
	}
	return body.Approval, nil
}

// cmdCancel cancels a batch awaiting approval: its chunks still in INIT are canceled at iyzico.
func cmdCancel(ctx context.Context, e env) error {
	fs := newFlagSet(e, "cancel", "cancel [--as NAME] BATCH")
	as := fs.String("as", "", "your name, recorded in the audit list (default: $USER)")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("cancel needs exactly one BATCH")
	}
	a, err := newApp(ctx, e, appNeeds{}, "cancel")
	if err != nil {
		return err
	}
	defer a.close()
	b, err := a.store.Cancel(ctx, args[0], identity(e, *as), a.queue, a.taskOptions())
	if err != nil {
		return twoPhaseError(err)
	}
	fmt.Fprintf(e.stdout, "batch %s: cancel requested by %s; its chunks in INIT are being canceled at iyzico\n", b.ID, b.CanceledBy)
	return nil
}

// identity is who runs a command: --as, else the OS user (osUser), else "cli". The ledger
// normalises it and the audit list records the OS user beside it (see run).
func identity(e env, as string) string {
	for _, v := range []string{as, osUser(e)} {
		if v != "" {
			return v
		}
	}
	return "cli"
}

// osUser is the name of the user running the process: the OS's account name, else $USER.
func osUser(e env) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return e.getenv("USER")
}

// twoPhaseError gives refusals exit code 1 with their message, and unknown batches a hint.
func twoPhaseError(err error) error {
	if errors.Is(err, batch.ErrNotFound) {
		return fmt.Errorf("%w: check the batch ID", err)
	}
	return err
}
