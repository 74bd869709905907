package httpapi

import (
	"bufio"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/masspayout/masspayout/batch"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

// reportRow is one row of the JSON report: the CSV report's columns (batch.ReportColumns).
type reportRow struct {
	Row                 int          `json:"row"`
	ItemExternalID      string       `json:"item_external_id,omitempty"`
	RecipientType       string       `json:"recipient_type,omitempty"`
	RecipientInfoMasked string       `json:"recipient_info_masked,omitempty"`
	Amount              *json.Number `json:"amount"`
	Currency            string       `json:"currency,omitempty"`
	Status              string       `json:"status"`
	ErrorCode           string       `json:"error_code,omitempty"`
	ErrorMessage        string       `json:"error_message,omitempty"`
	ExternalID          string       `json:"external_id,omitempty"`
	RequestID           string       `json:"request_id,omitempty"`
	ReferenceCode       string       `json:"reference_code,omitempty"`
	CommissionAmount    *json.Number `json:"commission_amount,omitempty"`
	Paid                string       `json:"paid"`
}

// number returns s as an exact JSON number, or nil when s is not a decimal in JSON's spelling
// (a rejected row's amount can be anything the file held).
func number(s string) *json.Number {
	if _, err := decimal.NewFromString(s); err != nil || s == "" || !json.Valid([]byte(s)) {
		return nil
	}
	n := json.Number(s)
	return &n
}

// handleReport is GET /v1/batches/{id}/report and the dashboard's download: the reconciliation
// report as CSV (byte for byte what "masspayout report" writes), or as JSON when the Accept
// header prefers application/json. It is streamed from the ledger.
func handleReport(log zerolog.Logger, store *batch.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		b, err := store.Get(r.Context(), id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		cw := &countingWriter{w: w}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		if prefersJSON(r.Header.Get("Accept")) {
			h.Set("Content-Type", "application/json")
			err = writeJSONReport(r, store, b, cw)
		} else {
			h.Set("Content-Type", "text/csv; charset=utf-8")
			h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": id + ".csv"}))
			_, err = store.WriteReport(r.Context(), id, cw)
		}
		if err != nil {
			if cw.n == 0 {
				h.Del("Content-Disposition")
				writeError(w, r, log, err)
				return
			}
			// The status line is gone; cutting the stream short is all that is left.
			log.Error().Err(err).Str("batch", id).Int64("bytes", cw.n).Msg("report download broken off")
			panic(http.ErrAbortHandler)
		}
	})
}

// writeJSONReport streams {"batch":…,"status":…,"rows":[…]}.
func writeJSONReport(r *http.Request, store *batch.Store, b *batch.Batch, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head, _ := json.Marshal(map[string]string{"batch": b.ID, "status": b.Status})
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"rows":[`)
	_, err := store.WriteRows(r.Context(), b, bw, batch.RowFormat{Sep: ",", Row: appendJSONRow})
	if err != nil {
		return err
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// appendJSONRow appends one report row as a JSON object and a newline.
func appendJSONRow(b []byte, rr *batch.ReportRow) []byte {
	// Every field is a string or a number that number checked, so this cannot fail.
	raw, _ := json.Marshal(reportRow{
		Row: rr.Row, ItemExternalID: rr.ItemExternalID, RecipientType: rr.RecipientType,
		RecipientInfoMasked: rr.RecipientInfoMasked, Amount: number(rr.Amount), Currency: rr.Currency,
		Status: rr.Status, ErrorCode: rr.ErrorCode, ErrorMessage: rr.ErrorMessage, ExternalID: rr.ExternalID,
		RequestID: rr.RequestID, ReferenceCode: rr.ReferenceCode, CommissionAmount: number(rr.CommissionAmount),
		Paid: batch.Paid(rr.Status),
	})
	return append(append(b, raw...), '\n')
}

// prefersJSON reports whether an Accept header ranks application/json above text/csv. Explicit
// types beat wildcards; a tie goes to CSV, the report's own format.
func prefersJSON(accept string) bool {
	return quality(accept, "application/json") > quality(accept, "text/csv")
}

// quality returns the weight an Accept header gives mediaType, ranking the most specific match,
// scaled so that an exact match outranks a wildcard of the same q.
func quality(accept, mediaType string) int {
	typ, _, _ := strings.Cut(mediaType, "/")
	best, bestSpec := 0, -1
	for _, rng := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(rng))
		if err != nil {
			continue
		}
		spec := -1
		switch {
		case mt == mediaType:
			spec = 2
		case mt == typ+"/*":
			spec = 1
		case mt == "*/*":
			spec = 0
		}
		if spec < 0 || spec < bestSpec {
			continue
		}
		q := 1000
		if s, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = int(f * 1000)
		}
		if spec > bestSpec {
			best, bestSpec = q, spec
		}
	}
	return best*3 + bestSpec
}

// countingWriter counts what went through to the client.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
