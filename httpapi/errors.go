package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/rs/zerolog"
)

// apiError is an error with its HTTP status and stable code: what writeError sends.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Rows are the row errors of a 422 answer (reject=all), at most maxRowErrors of them;
	// InvalidRows counts every invalid row.
	Rows        []rowError
	InvalidRows int
	// RetryAfter, when set, is sent as the Retry-After header (whole seconds): a 503 BUSY.
	RetryAfter time.Duration
}

func (e *apiError) Error() string { return e.Message }

// errorf returns an *apiError with a formatted message.
func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// rowError is one problem of one row, as in "masspayout validate --json".
type rowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorBody is the JSON shape of every error answer: {"error":{"code":"…","message":"…"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code        string     `json:"code"`
	Message     string     `json:"message"`
	InvalidRows int        `json:"invalid_rows,omitempty"`
	Rows        []rowError `json:"rows,omitempty"`
}

// classify maps an error to its answer. This is the one place where errors become HTTP statuses.
func classify(err error) *apiError {
	var (
		ae  *apiError
		mbe *http.MaxBytesError
		ce  *batch.ConflictError
		fe  *payoutfile.FileError
		se  *slowBodyError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &se):
		return &apiError{Status: http.StatusRequestTimeout, Code: "TOO_SLOW", Message: se.Error()}
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, "TOO_LARGE",
			"the upload is larger than the limit of %d bytes (MAX_UPLOAD_BYTES); split the file into smaller batches", mbe.Limit)
	case errors.Is(err, batch.ErrDuplicateContent):
		return &apiError{Status: http.StatusConflict, Code: "DUPLICATE_CONTENT", Message: err.Error()}
	case errors.As(err, &ce):
		return errorf(http.StatusConflict, "BATCH_CONFLICT",
			"batch %s was already submitted with different %s; nothing was sent: use a new batch_id (or Idempotency-Key), or resubmit the same file with the same options", ce.BatchID, ce.What)
	case errors.Is(err, batch.ErrBatchConflict):
		return &apiError{Status: http.StatusConflict, Code: "BATCH_CONFLICT", Message: err.Error()}
	case errors.Is(err, batch.ErrNotAwaitingApproval):
		return &apiError{Status: http.StatusConflict, Code: "NOT_AWAITING_APPROVAL", Message: err.Error()}
	case errors.Is(err, batch.ErrCancelRefused):
		return &apiError{Status: http.StatusConflict, Code: "CANCEL_REFUSED", Message: err.Error()}
	case errors.Is(err, batch.ErrReachedIyzico):
		return &apiError{Status: http.StatusConflict, Code: "REACHED_IYZICO", Message: err.Error()}
	case errors.Is(err, batch.ErrInsufficientBalance):
		return &apiError{Status: http.StatusConflict, Code: "INSUFFICIENT_BALANCE", Message: err.Error()}
	case errors.Is(err, batch.ErrNotOriginal):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "NOT_ORIGINAL_FILE", Message: err.Error()}
	case errors.Is(err, batch.ErrStillSubmitting):
		return &apiError{Status: http.StatusConflict, Code: "STILL_SUBMITTING", Message: err.Error()}
	case errors.Is(err, batch.ErrFourEyes):
		return &apiError{Status: http.StatusForbidden, Code: "FOUR_EYES", Message: err.Error()}
	case errors.Is(err, batch.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: err.Error() + "; check the batch ID"}
	case errors.Is(err, batch.ErrInvalidOptions):
		return &apiError{Status: http.StatusBadRequest, Code: "BAD_OPTIONS", Message: err.Error()}
	case errors.As(err, &fe):
		status := http.StatusBadRequest
		if fe.Code == payoutfile.CodeFileTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		return &apiError{Status: status, Code: fe.Code, Message: fe.Message}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, "UNAVAILABLE", "the request was interrupted; send it again")
	}
	return nil
}

// writeError answers with err as {"error":{"code":"…","message":"…"}} and its status. Errors it
// does not know are 500s with a generic message; their details go to the log only.
func writeError(w http.ResponseWriter, r *http.Request, log zerolog.Logger, err error) {
	ae := classify(err)
	if ae == nil {
		log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("request failed")
		ae = errorf(http.StatusInternalServerError, "INTERNAL", "internal error; the server log has the details, try again later")
	}
	if ae.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="masspayout"`)
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((ae.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, ae.Status, errorBody{Error: errorDetail{Code: ae.Code, Message: ae.Message, InvalidRows: ae.InvalidRows, Rows: ae.Rows}})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
