package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/callback"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/tasks"
	"github.com/rs/zerolog"
)

// SubmitOptions are the server-side settings of POST /v1/batches.
type SubmitOptions struct {
	// MaxUploadBytes bounds a request body (MAX_UPLOAD_BYTES); default 512 MiB.
	MaxUploadBytes int64
	// TempDir is where uploads are spooled; default os.TempDir().
	TempDir string
	// ChunkSize is used when the request gives no chunk_size (CHUNK_SIZE); default 500.
	ChunkSize int
	// Currencies allowed in files (CURRENCIES); default payoutfile's.
	Currencies []string
	// Limits are payoutfile's MaxFileBytes, MaxFieldBytes, MaxRows and MaxAmount.
	Limits payoutfile.Options
	// AutoApprove (APPROVAL=auto) records every batch as approved at submission.
	AutoApprove bool
	// MaxConcurrentUploads bounds the uploads received and submitted at once
	// (MAX_CONCURRENT_UPLOADS); one more is answered 503 BUSY with Retry-After. Default 4.
	MaxConcurrentUploads int
	// MinFreeDisk is how many bytes TempDir's file system must keep free beyond the uploads in
	// progress, this one counted at its Content-Length (else MaxUploadBytes); short of it the
	// upload is answered 503 BUSY before a byte is spooled. Default 256 MiB.
	MinFreeDisk int64
	// Callbacks is the callback policy (CALLBACK_ALLOWED_HOSTS, CALLBACK_ALLOW_PRIVATE,
	// CALLBACK_ALLOW_HTTP) that a request's callback_url must pass: 400 CALLBACK_NOT_ALLOWED
	// when it refuses the URL, 400 BAD_OPTIONS when the URL is malformed or has a user name or
	// password. The zero Policy refuses every callback_url.
	Callbacks callback.Policy
}

// maxRowErrors bounds the row errors of one 422 answer.
const maxRowErrors = 1000

// submitParams are the query parameters of POST /v1/batches.
var submitParams = []string{"batch_id", "purpose", "chunk_size", "decimal_comma", "callback_url", "reject", "format", "allow_duplicate", "allow_repeat"}

// handleBatchCreate is POST /v1/batches: it spools the file, validates it first when reject=all
// (422 with the row errors when any row is invalid; nothing is submitted), then submits it with
// batch.Store.Submit and answers 202 with the batch. The same file and options under the same
// batch ID (query batch_id or the Idempotency-Key header) answer the same batch again.
func handleBatchCreate(log zerolog.Logger, store *batch.Store, q batch.Enqueuer, topts tasks.Options, in *intake) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sq, err := parseSubmitQuery(r, in.o)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		up, _, release, err := in.spool(w, r, sq.format, nil)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer release()
		defer up.close()
		if sq.rejectAll {
			if err := validateAll(up.file, in.limits(up, sq.opts)); err != nil {
				writeError(w, r, log, err)
				return
			}
		}
		ctx := batch.ContextWithVia(context.WithoutCancel(r.Context()), via(r))
		who := principalFrom(r.Context()).Name
		res, err := in.submit(ctx, store, q, topts, up, sq, who)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		b := res.Batch
		audit, err := store.AuditLog(ctx, b.ID)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if res.AlreadySubmitted {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		log.Info().Str("batch", b.ID).Str("status", b.Status).Str("who", who).Int("rows", b.Rows).
			Bool("replayed", res.AlreadySubmitted).Int64("bytes", up.size).Msg("batch submitted over HTTP")
		w.Header().Set("Location", "/v1/batches/"+b.ID)
		writeJSON(w, http.StatusAccepted, newBatchResource(b, audit))
	})
}

// submitQuery is the query of POST /v1/batches, checked.
type submitQuery struct {
	opts           batch.Options
	id             string
	rejectAll      bool
	format         payoutfile.Format
	allowDuplicate bool // submit a file that another batch holds (it is paid again)
}

// parseSubmitQuery reads and checks the query of POST /v1/batches before any byte of the body.
func parseSubmitQuery(r *http.Request, o SubmitOptions) (submitQuery, error) {
	return parseSubmitValues(r.URL.Query(), r.Header.Get("Idempotency-Key"), o)
}

// parseSubmitValues checks submission parameters: POST /v1/batches's query and Idempotency-Key
// header, or the dashboard's submit form.
func parseSubmitValues(q url.Values, idempotencyKey string, o SubmitOptions) (submitQuery, error) {
	var sq submitQuery
	for k := range q {
		if !slices.Contains(submitParams, k) {
			return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "unknown query parameter %q; the parameters are %s", k, strings.Join(submitParams, ", "))
		}
	}
	sq.opts = batch.Options{
		Purpose:     strings.ToUpper(strings.TrimSpace(q.Get("purpose"))),
		ChunkSize:   o.ChunkSize,
		CallbackURL: strings.TrimSpace(q.Get("callback_url")),
		Currencies:  o.Currencies,
	}
	opts := &sq.opts
	id := strings.TrimSpace(q.Get("batch_id"))
	if key := strings.TrimSpace(idempotencyKey); key != "" {
		if id != "" && id != key {
			return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "batch_id %q and Idempotency-Key %q differ; send one of them, or the same value in both", id, key)
		}
		id = key
	}
	if id != "" && !batch.ValidBatchID.MatchString(id) {
		return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "batch ID %q: use 1 to 64 letters, digits, '.', '_' or '-'", id)
	}
	if s := q.Get("chunk_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "chunk_size %q: give a whole number from 1 to 100000", s)
		}
		opts.ChunkSize = n
	}
	if s := q.Get("decimal_comma"); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "decimal_comma %q: give true or false", s)
		}
		opts.DecimalComma = v
	}
	if s := opts.CallbackURL; s != "" {
		if err := o.Callbacks.CheckURL(s); errors.Is(err, callback.ErrNotAllowed) {
			return sq, errorf(http.StatusBadRequest, "CALLBACK_NOT_ALLOWED", "callback_url: %v", err)
		} else if err != nil {
			return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "callback_url: %v", err)
		}
	}
	switch s := q.Get("reject"); s {
	case "", "rows":
	case "all":
		sq.rejectAll = true
	default:
		return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "reject %q: give rows (invalid rows are rejected, the others paid; the default) or all (nothing is submitted when any row is invalid)", s)
	}
	if s := q.Get("format"); s != "" {
		f, err := payoutfile.ParseFormat(s)
		if err != nil {
			return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "%v", err)
		}
		sq.format = f
	}
	if s := q.Get("allow_duplicate"); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "allow_duplicate %q: give true or false", s)
		}
		sq.allowDuplicate = v
	}
	if s := q.Get("allow_repeat"); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return sq, errorf(http.StatusBadRequest, "BAD_OPTIONS", "allow_repeat %q: give true or false", s)
		}
		opts.AllowRepeat = v
	}
	sq.id = id
	return sq, nil
}

// validateAll reads the whole file and returns a 422 *apiError listing the row errors when any
// row is invalid, or the *payoutfile.FileError when the file cannot be read.
func validateAll(f *os.File, o payoutfile.Options) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	rd, err := payoutfile.NewReader(f, o)
	if err != nil {
		return err
	}
	defer rd.Close()
	ae := &apiError{Status: http.StatusUnprocessableEntity, Code: "INVALID_ROWS"}
	rows := 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rows++
		if rec.Valid() {
			continue
		}
		ae.InvalidRows++
		for _, e := range rec.Errors {
			if len(ae.Rows) < maxRowErrors {
				ae.Rows = append(ae.Rows, rowError{Row: e.Row, Column: e.Column, Code: e.Code, Message: e.Message})
			}
		}
	}
	if ae.InvalidRows == 0 {
		return nil
	}
	ae.Message = fmt.Sprintf("%d of %d rows are invalid and reject=all was asked: nothing was submitted; correct the rows listed and send the file again", ae.InvalidRows, rows)
	return ae
}

// pageParams reads limit (default 50, at most 500) and offset (default 0).
func pageParams(r *http.Request) (offset, limit int, err error) {
	limit = 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return 0, 0, errorf(http.StatusBadRequest, "BAD_OPTIONS", "limit %q: give a whole number from 1 to 500", s)
		}
		limit = n
	}
	if s := r.URL.Query().Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, 0, errorf(http.StatusBadRequest, "BAD_OPTIONS", "offset %q: give a whole number from 0", s)
		}
		offset = n
	}
	return offset, limit, nil
}

type batchList struct {
	Batches    []batchResource `json:"batches"`
	Offset     int             `json:"offset"`
	Limit      int             `json:"limit"`
	NextOffset *int            `json:"next_offset,omitempty"`
	// ItemSearchSince: with q, item IDs were looked up in the batches created since.
	ItemSearchSince *time.Time `json:"item_search_since,omitempty"`
}

// handleBatchList is GET /v1/batches: a page of batches, newest first (limit, offset), filtered
// by status, q and from/to (see findBatches; bad values are 400 BAD_OPTIONS). offset counts
// batches of the index within from/to, matching or not: follow next_offset, which is present
// while there may be more, even when a filtered page holds fewer than limit batches.
func handleBatchList(log zerolog.Logger, store *batch.Store) http.Handler {
	loc := istanbul()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset, limit, err := pageParams(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		f, err := parseBatchFilter(r.URL.Query(), loc)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		found, err := findBatches(r.Context(), store, f, offset, limit, time.Now())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		out := batchList{Batches: make([]batchResource, 0, len(found.batches)), Offset: offset, Limit: limit}
		for _, b := range found.batches {
			out.Batches = append(out.Batches, newBatchResource(b, nil))
		}
		if found.next >= 0 {
			out.NextOffset = &found.next
		}
		if !found.itemsSince.IsZero() {
			out.ItemSearchSince = &found.itemsSince
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// batchID returns the request's {id}, or a 404 when it cannot be a batch ID.
func batchID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !batch.ValidBatchID.MatchString(id) {
		return "", fmt.Errorf("batch %q: %w", id, batch.ErrNotFound)
	}
	return id, nil
}

// getBatch reads a batch with its audit list.
func getBatch(ctx context.Context, store *batch.Store, id string) (batchResource, error) {
	b, err := store.Get(ctx, id)
	if err != nil {
		return batchResource{}, err
	}
	audit, err := store.AuditLog(ctx, id)
	if err != nil {
		return batchResource{}, err
	}
	return newBatchResource(b, audit), nil
}

// handleBatchGet is GET /v1/batches/{id}: status, counts and amounts per status and currency,
// progress and the audit list.
func handleBatchGet(log zerolog.Logger, store *batch.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err == nil {
			var res batchResource
			if res, err = getBatch(r.Context(), store, id); err == nil {
				writeJSON(w, http.StatusOK, res)
				return
			}
		}
		writeError(w, r, log, err)
	})
}

// handleCancel is POST /v1/batches/{id}/cancel: the caller cancels a batch awaiting approval (409
// CANCEL_REFUSED once it was approved). Repeating it is harmless.
func handleCancel(log zerolog.Logger, store *batch.Store, q batch.Enqueuer, topts tasks.Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := cancel(r, store, q, topts)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		log.Info().Str("batch", res.ID).Str("who", principalFrom(r.Context()).Name).Msg("batch canceled over HTTP")
		writeJSON(w, http.StatusAccepted, res)
	})
}

func cancel(r *http.Request, store *batch.Store, q batch.Enqueuer, topts tasks.Options) (batchResource, error) {
	id, err := batchID(r)
	if err != nil {
		return batchResource{}, err
	}
	ctx := batch.ContextWithVia(context.WithoutCancel(r.Context()), via(r))
	if _, err := store.Cancel(ctx, id, principalFrom(r.Context()).Name, q, topts); err != nil {
		return batchResource{}, err
	}
	return getBatch(ctx, store, id)
}

// via says how the caller of r acts, for the audit list: through the API or the dashboard.
func via(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		return "HTTP API"
	}
	return "dashboard"
}
