package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/rs/zerolog"
)

// validationParams are the query parameters of POST /v1/validations.
var validationParams = []string{"format", "decimal_comma"}

// mediaTypeNDJSON is the media type of validate --json's output: one JSON object a line.
const mediaTypeNDJSON = "application/x-ndjson"

// handleValidate is POST /v1/validations: a dry run of an upload. It takes the bodies and limits
// of POST /v1/batches (the file itself or a multipart field "file"; format and decimal_comma in
// the query), checks every row with payoutfile.Validate, as "masspayout validate --json" does, and
// stores nothing. The answer is 200 with every problem in file order and the summary, streamed:
// {"problems":[{"row","column","code","message"},…],"summary":{…}}, or, when the Accept header
// prefers application/x-ndjson, validate --json's own lines. A file that cannot be read is a
// result too (its problem last, summary.file_error its code); what keeps the file from being
// received (a bad query, media type or size, 503 BUSY) is an error answer as for POST /v1/batches.
func handleValidate(log zerolog.Logger, in *intake) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sq, err := parseValidationQuery(r.URL.Query(), in.o)
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
		out := &lazyJSON{w: w, ndjson: quality(r.Header.Get("Accept"), mediaTypeNDJSON) > quality(r.Header.Get("Accept"), "application/json")}
		rep, err := in.dryRun(r.Context(), up, sq.opts, out.problem)
		if err == nil {
			err = out.end(rep)
		}
		if err != nil {
			if !out.started {
				writeError(w, r, log, err)
				return
			}
			log.Error().Err(err).Int64("bytes", out.n).Msg("validation answer broken off")
			panic(http.ErrAbortHandler)
		}
		log.Info().Str("who", principalFrom(r.Context()).Name).Int("rows", rep.Rows).Int("rejected", rep.Rejected).
			Int64("bytes", up.size).Msg("file validated over HTTP")
	})
}

// parseValidationQuery checks the query of POST /v1/validations: format and decimal_comma, read
// as POST /v1/batches reads them.
func parseValidationQuery(q url.Values, o SubmitOptions) (submitQuery, error) {
	for k := range q {
		if !slices.Contains(validationParams, k) {
			return submitQuery{}, errorf(http.StatusBadRequest, "BAD_OPTIONS", "unknown query parameter %q; the parameters are %s", k, strings.Join(validationParams, ", "))
		}
	}
	return parseSubmitValues(q, "", o)
}

// dryRun validates the spooled upload up as a submission with opts would read it, calling problem
// for each row problem in file order, and returns the report (File is the upload's name). A file
// error is in the report (FileError), not returned; an error is something else (ctx ended, the
// spool unreadable).
func (in *intake) dryRun(ctx context.Context, up *upload, opts batch.Options, problem func(payoutfile.RowError)) (*payoutfile.Report, error) {
	if _, err := up.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	rep, err := payoutfile.Validate(ctx, up.file, in.limits(up, opts), problem)
	rep.File = up.name
	switch {
	case rep.FileError != nil:
		return rep, nil
	case err != nil:
		return nil, err
	}
	rep.WarnPurpose(iyzico.Purposes)
	return rep, nil
}

// lazyJSON streams a validation answer, sending the status line with the first byte, so that an
// error before anything was written can still be an error answer.
type lazyJSON struct {
	w       http.ResponseWriter
	bw      *bufio.Writer
	enc     *json.Encoder
	ndjson  bool
	started bool
	count   int   // problems written
	n       int64 // bytes written
	err     error
}

func (l *lazyJSON) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	l.n += int64(n)
	return n, err
}

func (l *lazyJSON) start() {
	if l.started {
		return
	}
	l.started = true
	h := l.w.Header()
	h.Set("Content-Type", "application/json")
	if l.ndjson {
		h.Set("Content-Type", mediaTypeNDJSON)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	l.w.WriteHeader(http.StatusOK)
	l.bw = bufio.NewWriterSize(l, 64<<10)
	if l.ndjson {
		l.enc = json.NewEncoder(l.bw)
		l.enc.SetEscapeHTML(false) // byte for byte what validate --json prints
	} else {
		l.bw.WriteString(`{"problems":[`)
	}
}

func (l *lazyJSON) put(p payoutfile.Problem) {
	l.start()
	if !l.ndjson && l.count > 0 {
		l.bw.WriteByte(',')
	}
	l.count++
	l.value(p)
}

// value writes v: a line of its own in NDJSON, else compact.
func (l *lazyJSON) value(v any) {
	var err error
	if l.ndjson {
		err = l.enc.Encode(v)
	} else {
		var b []byte
		if b, err = json.Marshal(v); err == nil {
			l.bw.Write(b)
		}
	}
	if err != nil && l.err == nil {
		l.err = err
	}
}

func (l *lazyJSON) problem(e payoutfile.RowError) { l.put(payoutfile.ProblemOf(e)) }

// end writes the file's problem, if any, and the summary.
func (l *lazyJSON) end(rep *payoutfile.Report) error {
	if rep.FileError != nil {
		l.put(payoutfile.FileProblem(rep.FileError))
	}
	l.start()
	if l.ndjson {
		l.value(struct {
			Summary *payoutfile.Report `json:"summary"`
		}{rep})
	} else {
		l.bw.WriteString(`],"summary":`)
		l.value(rep)
		l.bw.WriteString("}\n")
	}
	if err := l.bw.Flush(); err != nil {
		return err
	}
	return l.err
}
