package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/tasks"
	"github.com/rs/zerolog"
)

// uploadDesk is what the dashboard's upload page uses: the shared upload intake (limits, upload
// slots, submission) and the validated uploads waiting for their Submit.
type uploadDesk struct {
	in     *intake
	staged *stagedUploads
	store  *batch.Store // for the cross-batch preview (rows other batches pay)
}

// uploadFormats are the file name extensions the upload page takes.
const uploadFormats = ".csv, .tsv, .xlsx, .json, .jsonl, .ndjson"

// uploadBody is the upload page: the form, or what validation found in an upload and its
// Submit form.
type uploadBody struct {
	CSRF    string
	Problem string // why the last step was refused
	Formats string

	// After validation.
	ID           string
	Report       *payoutfile.Report
	Size         int64
	DecimalComma bool
	Problems     []payoutfile.RowError
	Hidden       int // problems found but not listed
	// Repeats are valid rows that other batches pay or may still pay: submitted, they are
	// REJECTED (ALREADY_PAID, POSSIBLE_DUPLICATE_PAYMENT) unless allow_repeat is ticked.
	Repeats     []payoutfile.RowError
	RepeatCount int
	Codes       []codeCount
	Totals      []validTotal
	Expires     string
	CanSubmit   bool
	Purposes    []string
	// The Submit form's values, kept when it is shown again.
	BatchID, Purpose string
	AllowDuplicate   bool
	AllowRepeat      bool
}

type codeCount struct {
	Code string
	Rows int
}

type validTotal struct {
	Currency, Valid, Rejected string
	ValidRows, RejectedRows   int
}

// handleUploadPage is GET /upload (role submit): the form that uploads a payout file for
// validation.
func handleUploadPage(log zerolog.Logger, pg *pages, c *csrf) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderUpload(w, r, log, pg, c, http.StatusOK, uploadBody{})
	})
}

func renderUpload(w http.ResponseWriter, r *http.Request, log zerolog.Logger, pg *pages, c *csrf, status int, body uploadBody) {
	p := principalFrom(r.Context())
	body.CSRF = c.token(p.Name)
	body.Formats = uploadFormats
	title := "Upload a payout file"
	if body.Report != nil {
		title = "Validation of " + body.Report.File
	}
	render(w, log, pg.upload, status, pageData{Title: title, User: p, Body: body})
}

// handleUploadForm is POST /upload (role submit; multipart/form-data with csrf_token and
// decimal_comma before the field file): the upload is received within the limits and upload
// slots of POST /v1/batches, validated as POST /v1/validations validates, and kept for its
// Submit (see stagedUploads); the browser then goes to its result page, GET /upload/{id}. The CSRF
// token is checked before a byte of the file is read.
func handleUploadForm(log zerolog.Logger, pg *pages, c *csrf, desk uploadDesk) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := principalFrom(r.Context()).Name
		checkToken := func(fields url.Values) error {
			if !c.valid(fields.Get("csrf_token"), who) {
				return errorf(http.StatusForbidden, "CSRF", "the form is stale or did not come from this dashboard; reload the page and try again")
			}
			return nil
		}
		up, fields, release, err := desk.in.spool(w, r, "", checkToken)
		if err != nil {
			status, msg := refusal(log, r, err)
			if ae := classify(err); ae != nil && ae.Code == "UNSUPPORTED_MEDIA_TYPE" {
				msg = "cannot tell the file's format from its name: upload a file whose name ends in " + uploadFormats + " (XLSX: the first sheet is read)"
			}
			renderUpload(w, r, log, pg, c, status, uploadBody{Problem: msg})
			return
		}
		defer release()
		// An HTML checkbox sends "on" when ticked and nothing otherwise.
		opts := batch.Options{DecimalComma: fields.Get("decimal_comma") != "", Currencies: desk.in.o.Currencies}
		su := &stagedUpload{owner: who, up: up, decimalComma: opts.DecimalComma, at: time.Now()}
		su.report, err = desk.in.dryRun(r.Context(), up, opts, func(e payoutfile.RowError) {
			if su.problemCount++; len(su.problems) < maxRowErrors {
				su.problems = append(su.problems, e)
			}
		})
		if err == nil && su.report.FileError == nil && desk.store != nil {
			// What the cross-batch check would refuse, shown before Submit; it claims nothing.
			su.repeatCount, su.repeats, err = desk.store.PreviewRepeats(r.Context(), up.file, desk.in.limits(up, opts), maxRowErrors)
		}
		if err != nil {
			up.close()
			renderProblem(w, r, log, pg, err, "/upload")
			return
		}
		id := desk.staged.put(su)
		log.Info().Str("who", who).Int("rows", su.report.Rows).Int("rejected", su.report.Rejected).Int64("bytes", up.size).
			Msg("file validated in the dashboard")
		http.Redirect(w, r, "/upload/"+id, http.StatusSeeOther)
	})
}

// handleUploadResult is GET /upload/{id} (role submit, the uploader only): what validation found
// in a kept upload (summary, amounts, every problem with row, column, code and message, the first
// maxRowErrors listed) and, when the file could be read, its Submit form.
func handleUploadResult(log zerolog.Logger, pg *pages, c *csrf, desk uploadDesk) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		su, err := desk.staged.get(r.PathValue("id"), principalFrom(r.Context()).Name)
		if err != nil {
			status, msg := refusal(log, r, err)
			renderUpload(w, r, log, pg, c, status, uploadBody{Problem: msg})
			return
		}
		renderUpload(w, r, log, pg, c, http.StatusOK, resultBody(su, r.PathValue("id"), "", url.Values{}))
	})
}

// resultBody is the result page of su, with the Submit form's values (form) and a problem.
func resultBody(su *stagedUpload, id, problem string, form url.Values) uploadBody {
	rep := su.report
	body := uploadBody{
		ID: id, Report: rep, Size: su.up.size, DecimalComma: su.decimalComma, Problem: problem,
		Problems: su.problems, Hidden: su.problemCount - len(su.problems),
		Repeats: su.repeats, RepeatCount: su.repeatCount,
		CanSubmit: rep.FileError == nil && rep.Valid > 0, Purposes: iyzico.Purposes,
		BatchID: form.Get("batch_id"), Purpose: form.Get("purpose"), AllowDuplicate: form.Get("allow_duplicate") != "",
		AllowRepeat: form.Get("allow_repeat") != "",
	}
	for _, code := range rep.Codes() {
		body.Codes = append(body.Codes, codeCount{code, rep.RejectedByCode[code]})
	}
	for _, cur := range rep.Currencies() {
		t := rep.Totals[cur]
		body.Totals = append(body.Totals, validTotal{Currency: cur, Valid: t.Valid.String(), Rejected: t.Rejected.String(), ValidRows: t.ValidRows, RejectedRows: t.RejectedRows})
	}
	return body
}

// handleUploadSubmit is POST /upload/{id}/submit (role submit, the uploader only, CSRF token):
// it submits the kept upload as POST /v1/batches would (batch_id, purpose, allow_duplicate from
// the form; invalid rows are rejected, the others paid: with invalid rows the form must confirm
// that, accept_rejected), then the browser goes to the batch's page. A refused submission shows
// the result page again with why; the upload stays kept for another try.
func handleUploadSubmit(log zerolog.Logger, pg *pages, c *csrf, store *batch.Store, q batch.Enqueuer, topts tasks.Options, desk uploadDesk) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, who := r.PathValue("id"), principalFrom(r.Context()).Name
		su, err := desk.staged.claim(id, who)
		if err != nil {
			status, msg := refusal(log, r, err)
			renderUpload(w, r, log, pg, c, status, uploadBody{Problem: msg})
			return
		}
		submitted := false
		defer func() { desk.staged.done(su, submitted) }()
		// The form's fields as POST /v1/batches's parameters (a ticked checkbox sends "on").
		values := url.Values{"decimal_comma": {strconv.FormatBool(su.decimalComma)}}
		for _, k := range []string{"batch_id", "purpose"} {
			if v := r.PostFormValue(k); v != "" {
				values.Set(k, v)
			}
		}
		if r.PostFormValue("allow_duplicate") != "" {
			values.Set("allow_duplicate", "true")
		}
		if r.PostFormValue("allow_repeat") != "" {
			values.Set("allow_repeat", "true")
		}
		fail := func(err error) {
			status, msg := refusal(log, r, err)
			renderUpload(w, r, log, pg, c, status, resultBody(su, id, msg, values))
		}
		if su.report.FileError != nil || su.report.Valid == 0 {
			fail(errorf(http.StatusUnprocessableEntity, "NOTHING_TO_SUBMIT", "the file has no valid row to pay: correct it and upload it again"))
			return
		}
		if su.report.Rejected > 0 && r.PostFormValue("accept_rejected") == "" {
			fail(errorf(http.StatusUnprocessableEntity, "INVALID_ROWS", "%d rows are invalid: tick the box to submit the others without them, or correct the file and upload it again", su.report.Rejected))
			return
		}
		sq, err := parseSubmitValues(values, "", desk.in.o)
		if err != nil {
			fail(err)
			return
		}
		ctx := batch.ContextWithVia(r.Context(), via(r))
		res, err := desk.in.submit(ctx, store, q, topts, su.up, sq, who)
		if err != nil {
			fail(err)
			return
		}
		submitted = true
		b := res.Batch
		log.Info().Str("batch", b.ID).Str("status", b.Status).Str("who", who).Int("rows", b.Rows).
			Bool("replayed", res.AlreadySubmitted).Int64("bytes", su.up.size).Msg("batch submitted in the dashboard")
		http.Redirect(w, r, "/batches/"+url.PathEscape(b.ID), http.StatusSeeOther)
	})
}

// refusal is err as the upload page shows it: its status and message as writeError would answer
// them. An error classify does not know is logged and shown as a 500 that points to the log.
func refusal(log zerolog.Logger, r *http.Request, err error) (status int, message string) {
	if ae := classify(err); ae != nil {
		return ae.Status, ae.Message
	}
	log.Error().Err(err).Str("path", r.URL.Path).Msg("dashboard request failed")
	return http.StatusInternalServerError, "internal error; the server log has the details, try again later"
}
