package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/masspayout/masspayout/batch"
	"github.com/rs/zerolog"
)

// BalanceChecker reads iyzico's balance against what an approval would release (see
// worker.Pipeline.CheckBalance); nil skips the check.
type BalanceChecker func(ctx context.Context, batchID string, p *batch.Pending) (*batch.BalanceCheck, error)

// approver carries what an approval needs, for the API and the dashboard.
type approver struct {
	store    *batch.Store
	queue    batch.Enqueuer
	d        Deps
	fourEyes bool
}

// approve approves the batch of r as its caller: allow_insufficient=true approves although the
// balance does not cover the release (audited), comment goes into the audit list.
func (a approver) approve(r *http.Request) (batchResource, error) {
	id, err := batchID(r)
	if err != nil {
		return batchResource{}, err
	}
	ctx := batch.ContextWithVia(context.WithoutCancel(r.Context()), via(r))
	allow, _ := strconv.ParseBool(r.FormValue("allow_insufficient"))
	o := batch.ApproveOptions{FourEyes: a.fourEyes, AllowInsufficient: allow, Comment: r.FormValue("comment")}
	if a.d.CheckBalance != nil {
		o.CheckBalance = func(ctx context.Context, p *batch.Pending) (*batch.BalanceCheck, error) {
			return a.d.CheckBalance(ctx, id, p)
		}
	}
	ap, err := a.store.Approve(ctx, id, principalFrom(r.Context()).Name, o, a.queue, a.d.TaskOptions)
	if err != nil {
		return batchResource{}, err
	}
	res, err := getBatch(ctx, a.store, id)
	res.Approval = ap
	return res, err
}

// handleApprove is POST /v1/batches/{id}/approve: the caller (the token's name) approves the
// chunks of a batch awaiting approval and is answered with the batch and the approval (which
// chunks, rows, totals per currency, the balance check); 403 FOUR_EYES when the caller submitted
// it under four-eyes; 409 INSUFFICIENT_BALANCE when iyzico's balance does not cover the release
// plus its commission (allow_insufficient=true approves anyway, audited). Repeating it is
// harmless: the answer then carries the earlier approval, marked repeated.
func handleApprove(log zerolog.Logger, a approver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := a.approve(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		log.Info().Str("batch", res.ID).Str("who", principalFrom(r.Context()).Name).Msg("batch approved over HTTP")
		writeJSON(w, http.StatusAccepted, res)
	})
}

// approvePage is the body of the approval page.
type approvePage struct {
	B           batchResource
	Pending     *batch.Pending
	Totals      []currencyAmount
	Check       *batch.BalanceCheck
	CheckError  string
	Short       string // how much the balance lacks, "" when it covers the release
	Approver    string
	CSRF        string
	Problem     string // why the last attempt was refused
	NeedConfirm string // what the user must type: the batch ID
}

// handleApprovePage is GET /batches/{id}/approve: what approving would release (rows, totals per
// currency, commission, iyzico's balance and the gap), the submitter and the approver, and a form
// that needs the batch ID typed to confirm, with an optional comment.
func handleApprovePage(log zerolog.Logger, pg *pages, c *csrf, a approver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.renderApprovePage(w, r, log, pg, c, http.StatusOK, "")
	})
}

func (a approver) renderApprovePage(w http.ResponseWriter, r *http.Request, log zerolog.Logger, pg *pages, c *csrf, status int, problem string) {
	id, err := batchID(r)
	if err != nil {
		renderProblem(w, r, log, pg, err, "/")
		return
	}
	b, err := a.store.Get(r.Context(), id)
	if err != nil {
		renderProblem(w, r, log, pg, err, "/")
		return
	}
	p := principalFrom(r.Context())
	body := approvePage{B: newBatchResource(b, nil), Approver: p.Name, CSRF: c.token(p.Name), Problem: problem, NeedConfirm: b.ID}
	if b.Status == batch.StatusAwaitingApproval {
		if body.Pending, err = a.store.Pending(r.Context(), id); err != nil {
			renderProblem(w, r, log, pg, err, "/batches/"+id)
			return
		}
		for _, cur := range sortedKeys(body.Pending.Totals) {
			body.Totals = append(body.Totals, currencyAmount{Currency: cur, Amount: batch.FormatAmount(body.Pending.Totals[cur], cur)})
		}
		if a.d.CheckBalance != nil {
			if body.Check, err = a.d.CheckBalance(r.Context(), id, body.Pending); err != nil {
				body.CheckError = err.Error()
			} else if short := body.Check.Short(); short.Sign() > 0 {
				body.Short = batch.FormatAmount(short, "TRY")
			}
		}
	}
	render(w, log, pg.approve, status, pageData{Title: "Approve batch " + b.ID, User: p, Body: body})
}

// handleApproveForm is POST /batches/{id}/approve (the approval page's form): the typed
// confirmation must be the batch ID; then the approval is made and the browser goes back to the
// batch page, or sees the page again with what was refused.
func handleApproveForm(log zerolog.Logger, pg *pages, c *csrf, a approver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("confirm") != r.PathValue("id") {
			a.renderApprovePage(w, r, log, pg, c, http.StatusBadRequest, "Type the batch ID exactly to confirm the approval.")
			return
		}
		res, err := a.approve(r)
		if err != nil {
			ae := classify(err)
			if ae == nil {
				renderProblem(w, r, log, pg, err, "/batches/"+r.PathValue("id"))
				return
			}
			a.renderApprovePage(w, r, log, pg, c, ae.Status, ae.Message+" ("+ae.Code+")")
			return
		}
		log.Info().Str("batch", res.ID).Str("who", principalFrom(r.Context()).Name).Msg("batch approved in the dashboard")
		http.Redirect(w, r, "/batches/"+res.ID, http.StatusSeeOther)
	})
}
