package worker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/callback"
	"github.com/masspayout/masspayout/tasks"
	"github.com/rs/zerolog"
)

// Finalizer carries what the batch:finalize handler uses.
type Finalizer struct {
	Log        zerolog.Logger
	Store      *batch.Store
	ResultsDir string    // RESULTS_DIR: reports go to <dir>/<batch>.csv and .json
	Callback   *Callback // nil: no callbacks
}

// HandleFinalize is the batch:finalize handler. It writes the report whenever the batch's status
// (derived from its chunks) differs from the one the last report was written for. A final status
// (COMPLETED, COMPLETED_WITH_ERRORS, FAILED, CANCELED) is recorded once per generation under
// compare-and-set, which starts the ledger's expiry, and then the final callback is sent, claimed so
// that one sender at a time sends it, until the receiver accepts it. NEEDS_RECONCILE and
// AWAITING_APPROVAL get a report, never a callback. Running it again is harmless.
func HandleFinalize(f *Finalizer) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		p, err := tasks.Decode[tasks.Finalize](t)
		if err != nil {
			return permanent(err)
		}
		log := f.Log.With().Str("batch", p.Batch).Str("phase", p.Phase).Logger()
		// A chunk that changes while this runs finds this task running and enqueues no other: look
		// again after each report until the status holds still.
		for range 3 {
			changed, err := f.finalize(ctx, log, p.Batch)
			if err != nil || !changed {
				return err
			}
		}
		return nil
	}
}

// finalize does one pass of HandleFinalize; changed reports whether the batch's status moved on
// while it ran.
func (f *Finalizer) finalize(ctx context.Context, log zerolog.Logger, id string) (changed bool, err error) {
	b, err := f.Store.Get(ctx, id)
	if err != nil {
		return false, err
	}
	if !b.SubmitDone || b.SubmitFailed {
		return false, nil
	}
	status := b.Status
	if batch.FinalStatus(status) && !b.Final {
		won, err := f.Store.MarkFinal(ctx, b, status)
		if err != nil {
			return false, err
		}
		if won {
			if err := f.Store.Audit(ctx, id, "masspayout", "final", status); err != nil {
				return false, err
			}
			log.Info().Str("status", status).Int("generation", b.Reopened).Msg("batch final")
		} else if b, err = f.Store.Get(ctx, id); err != nil {
			return false, err
		}
	}
	if b.ReportStatus != b.Status {
		path, sum, err := f.Store.WriteReportFiles(ctx, id, filepath.Join(f.ResultsDir, id+".csv"))
		if err != nil {
			return false, fmt.Errorf("finalize batch %s: %w", id, err)
		}
		if err := f.Store.SetReportPath(ctx, id, path, sum.Status); err != nil {
			return false, err
		}
		log.Info().Str("status", sum.Status).Str("report", path).Int("rows", sum.Rows).Msg("batch report written")
		if sum.Status != status {
			return true, nil
		}
	}
	if b.Final && f.Callback != nil && b.Options.CallbackURL != "" && !b.CallbackDelivered {
		event := b.CallbackEvent()
		sent, err := f.Store.SendCallbackOnce(ctx, b, 2*f.Callback.timeout(), func() error {
			sum, err := f.Store.Summary(ctx, id)
			if err != nil {
				return err
			}
			return f.Callback.Send(ctx, b.Options.CallbackURL, event, sum)
		})
		if err != nil {
			log.Warn().Err(err).Str("event", event).Msg("callback not delivered; will retry")
			return false, err
		}
		if sent {
			log.Info().Str("event", event).Msg("callback delivered")
		}
	}
	again, err := f.Store.Get(ctx, id)
	if err != nil {
		return false, err
	}
	return again.Status != status, nil
}

// Callback posts a batch's summary to the URL given at submit, signed with CALLBACK_SECRET:
// X-Masspayout-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>. The receiver
// should check the signature and de-duplicate by the X-Masspayout-Event header. Every delivery
// goes through Policy (see package callback): the URL is checked again, the connection only goes
// to an allowed address, redirects are not followed and no proxy is used.
type Callback struct {
	Secret string
	// Policy is CALLBACK_ALLOWED_HOSTS, CALLBACK_ALLOW_PRIVATE and CALLBACK_ALLOW_HTTP. The zero
	// Policy refuses every callback.
	Policy callback.Policy
	// Timeout bounds one delivery (default 30s).
	Timeout time.Duration
	// Log gets an error line for each delivery the policy refuses (not retried).
	Log zerolog.Logger
	// Now is the signature's clock (default time.Now).
	Now func() time.Time
}

func (cb *Callback) timeout() time.Duration {
	if cb.Timeout > 0 {
		return cb.Timeout
	}
	return 30 * time.Second
}

// CallbackPayload is the body of a batch callback.
type CallbackPayload struct {
	Event   string         `json:"event"` // batch.finalized
	ID      string         `json:"id"`    // unique per batch and generation; the same on every retry
	Summary *batch.Summary `json:"summary"`
}

// Send posts the summary. A non-2xx answer (a redirect included: it is never followed) or a
// network error is returned for the task to retry. A URL or address that the policy refuses is
// a permanent error (asynq.SkipRetry), logged at error level: retrying cannot help until the
// configuration changes, and the batch stays final with its callback not delivered
// (`masspayout reconcile BATCH` enqueues its finalize again once the configuration allows it).
func (cb *Callback) Send(ctx context.Context, url, eventID string, sum *batch.Summary) error {
	body, err := json.Marshal(CallbackPayload{Event: "batch.finalized", ID: eventID, Summary: sum})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("callback %s: %w", eventID, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Masspayout-Event", eventID)
	if cb.Secret != "" {
		now := time.Now
		if cb.Now != nil {
			now = cb.Now
		}
		req.Header.Set("X-Masspayout-Signature", SignCallback(cb.Secret, now().Unix(), body))
	}
	resp, err := cb.Policy.Client(cb.timeout()).Do(req)
	if err != nil {
		err = fmt.Errorf("callback %s: %w", eventID, err)
		if errors.Is(err, callback.ErrNotAllowed) || errors.Is(err, callback.ErrInvalidURL) {
			ev := cb.Log.Error().Err(err).Str("event", eventID)
			if sum != nil {
				ev = ev.Str("batch", sum.Batch)
			}
			ev.Msg("callback refused by the callback policy (CALLBACK_ALLOWED_HOSTS, CALLBACK_ALLOW_PRIVATE, CALLBACK_ALLOW_HTTP); it is not retried")
			return permanent(err)
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 3 {
		return fmt.Errorf("callback %s: receiver answered HTTP %d, a redirect to %q; redirect refused: callbacks never follow redirects, so give the receiver's final URL",
			eventID, resp.StatusCode, callback.Redact(resp.Header.Get("Location")))
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("callback %s: receiver answered HTTP %d", eventID, resp.StatusCode)
	}
	return nil
}

// SignCallback returns the X-Masspayout-Signature value for body sent at unix time t.
func SignCallback(secret string, t int64, body []byte) string {
	ts := strconv.FormatInt(t, 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}
