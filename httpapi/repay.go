package httpapi

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/rs/zerolog"
)

// repayOut writes batch id's repay file from the spooled original into a temporary file (so that
// a problem found half-way is an error answer, not half a CSV) and hands it back to send.
func repayOut(r *http.Request, store *batch.Store, in *intake, id string, up *upload) (*os.File, *batch.RepaySummary, error) {
	f, err := os.CreateTemp(in.o.TempDir, "masspayout-repay-*.csv")
	if err != nil {
		return nil, nil, err
	}
	os.Remove(f.Name()) // unlinked: gone with the last close
	sum, err := store.WriteRepay(r.Context(), id, up.file, in.o.Limits, f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, sum, nil
}

// sendRepay answers with the repay file f: an attachment, its counts in headers.
func sendRepay(w http.ResponseWriter, id string, f *os.File, sum *batch.RepaySummary) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+batch.RepayFileName(id)+`"`)
	h.Set("X-Repay-Rows", strconv.Itoa(sum.Rows))
	h.Set("X-Repay-Still-Open", strconv.Itoa(sum.StillOpen))
	h.Set("X-Repay-Deposit-Fail", strconv.Itoa(sum.DepositFail))
	h.Set("X-Repay-Paid-Elsewhere", strconv.Itoa(sum.PaidElsewhere))
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f)
}

// handleRepay is POST /v1/batches/{id}/repay.csv (role submit): the body is the batch's original
// file, as for POST /v1/batches; the answer is the CSV of the rows definitively not paid, with a
// reason column (batch.WriteRepay). Another file is 422 NOT_ORIGINAL_FILE.
func handleRepay(log zerolog.Logger, store *batch.Store, in *intake) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		b, err := store.Head(r.Context(), id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		// The batch's format is used whatever the upload's Content-Type says.
		up, _, release, err := in.spool(w, r, payoutfile.Format(b.Options.Format), nil)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer release()
		defer up.close()
		f, sum, err := repayOut(r, store, in, id, up)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer f.Close()
		log.Info().Str("batch", id).Str("who", principalFrom(r.Context()).Name).Int("rows", sum.Rows).Msg("repay file written")
		sendRepay(w, id, f, sum)
	})
}

// handleRepayGet is GET /v1/batches/{id}/repay.csv: the rows cannot be written without the
// original file, so it says how to ask.
func handleRepayGet(log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, errorf(http.StatusConflict, "ORIGINAL_FILE_NEEDED",
			"masspayout keeps no recipient details once iyzico holds a payout: POST the batch's original file to /v1/batches/%s/repay.csv (as for POST /v1/batches) to get its rows that are not paid", r.PathValue("id")))
	})
}

// repayBody is the repay page's data.
type repayBody struct {
	B       *batch.Batch
	CSRF    string
	Problem string
}

// handleRepayPage is GET /batches/{id}/repay (role submit): the form that takes the original file.
func handleRepayPage(log zerolog.Logger, store *batch.Store, pg *pages, c *csrf) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderRepay(w, r, log, store, pg, c, http.StatusOK, "")
	})
}

func renderRepay(w http.ResponseWriter, r *http.Request, log zerolog.Logger, store *batch.Store, pg *pages, c *csrf, status int, problem string) {
	id := r.PathValue("id")
	b, err := store.Head(r.Context(), id)
	if err != nil {
		renderProblem(w, r, log, pg, err, "/")
		return
	}
	p := principalFrom(r.Context())
	render(w, log, pg.repay, status, pageData{Title: "Re-pay rows of " + id, User: p, Body: repayBody{B: b, CSRF: c.token(p.Name), Problem: problem}})
}

// handleRepayForm is POST /batches/{id}/repay (role submit; multipart/form-data, csrf_token
// before the field file, checked before a byte of the file is read): the repay file as a
// download, or the form again saying why not.
func handleRepayForm(log zerolog.Logger, store *batch.Store, pg *pages, c *csrf, in *intake) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, who := r.PathValue("id"), principalFrom(r.Context()).Name
		b, err := store.Head(r.Context(), id)
		if err != nil {
			renderProblem(w, r, log, pg, err, "/")
			return
		}
		checkToken := func(fields url.Values) error {
			if !c.valid(fields.Get("csrf_token"), who) {
				return errorf(http.StatusForbidden, "CSRF", "the form is stale or did not come from this dashboard; reload the page and try again")
			}
			return nil
		}
		up, _, release, err := in.spool(w, r, payoutfile.Format(b.Options.Format), checkToken)
		if err != nil {
			status, msg := refusal(log, r, err)
			renderRepay(w, r, log, store, pg, c, status, msg)
			return
		}
		defer release()
		defer up.close()
		f, sum, err := repayOut(r, store, in, id, up)
		if err != nil {
			status, msg := refusal(log, r, err)
			if errors.Is(err, batch.ErrNotOriginal) {
				msg = "this is not the file batch " + id + " was submitted from (" + b.Source + "): choose that file, unchanged"
			}
			renderRepay(w, r, log, store, pg, c, status, msg)
			return
		}
		defer f.Close()
		log.Info().Str("batch", id).Str("who", who).Int("rows", sum.Rows).Msg("repay file written in the dashboard")
		sendRepay(w, id, f, sum)
	})
}

// hasNotPaid reports whether some row of b is not paid (the repay file may have rows).
func hasNotPaid(b *batch.Batch) bool {
	for _, t := range b.PaidTotals() {
		if t.Status == batch.PaidNo && t.Rows > 0 {
			return true
		}
	}
	return false
}
