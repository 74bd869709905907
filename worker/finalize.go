package worker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
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

// HandleFinalize is the batch:finalize handler. When every chunk is settled it sets the batch's
// final status, writes the report and sends the callback (retried as a task until delivered).
// When every chunk has only its init outcome it sets AWAITING_APPROVAL (or PROCESSING with
// automatic approval) and writes the interim report. Running it again is harmless.
func HandleFinalize(f *Finalizer) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		p, err := tasks.Decode[tasks.Finalize](t)
		if err != nil {
			return permanent(err)
		}
		log := f.Log.With().Str("batch", p.Batch).Str("phase", p.Phase).Logger()
		b, err := f.Store.Get(ctx, p.Batch)
		if err != nil {
			return err
		}
		prog := b.Progress()
		var status string
		switch {
		case prog.AllSettled():
			status = FinalStatus(b)
		case prog.InitPhaseDone():
			if b.Final {
				return nil
			}
			status = batch.StatusProcessing
			if b.ApprovedBy == "" && !b.CancelRequested {
				status = batch.StatusAwaitingApproval
			}
		default:
			log.Debug().Msg("batch not ready to finalize")
			return nil
		}
		final := prog.AllSettled()
		if b.Status != status || b.ReportStatus != status || (final && !b.Final) {
			if err := f.Store.SetStatus(ctx, p.Batch, status, final); err != nil {
				return err
			}
			if b.Status != status {
				if err := f.Store.Audit(ctx, p.Batch, "masspayout", "status", status); err != nil {
					return err
				}
			}
			path, sum, err := f.Store.WriteReportFiles(ctx, p.Batch, filepath.Join(f.ResultsDir, p.Batch+".csv"))
			if err != nil {
				return fmt.Errorf("finalize batch %s: %w", p.Batch, err)
			}
			if err := f.Store.SetReportPath(ctx, p.Batch, path, status); err != nil {
				return err
			}
			log.Info().Str("status", status).Str("report", path).Int("rows", sum.Rows).Msg("batch report written")
		}
		if !final || f.Callback == nil || b.Options.CallbackURL == "" || b.CallbackDelivered {
			return nil
		}
		sum, err := f.Store.Summary(ctx, p.Batch)
		if err != nil {
			return err
		}
		event := p.Batch + ":" + p.Phase
		if b.Reopened > 0 {
			event += ":r" + strconv.Itoa(b.Reopened) // a repaired outcome: a new event
		}
		if err := f.Callback.Send(ctx, b.Options.CallbackURL, event, sum); err != nil {
			log.Warn().Err(err).Msg("callback not delivered; will retry")
			return err
		}
		log.Info().Str("event", event).Msg("callback delivered")
		return f.Store.SetCallbackDelivered(ctx, p.Batch)
	}
}

// FinalStatus is a settled batch's status: COMPLETED when every row was paid (SUCCESS),
// CANCELED when it was canceled and nothing was paid, FAILED when no row was paid, else
// COMPLETED_WITH_ERRORS.
func FinalStatus(b *batch.Batch) string {
	paid := b.Counts[iyzico.ItemSuccess]
	canceled := b.Counts[iyzico.ItemMassPayoutCanceled]
	switch {
	case b.Rows > 0 && paid == b.Rows:
		return batch.StatusCompleted
	case paid == 0 && canceled > 0:
		return batch.StatusCanceled
	case paid == 0:
		return batch.StatusFailed
	}
	return batch.StatusCompletedWithErrors
}

// Callback posts a batch's summary to the URL given at submit, signed with CALLBACK_SECRET:
// X-Masspayout-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>. The receiver
// should check the signature and de-duplicate by the X-Masspayout-Event header.
type Callback struct {
	Secret string
	Client *http.Client
	Now    func() time.Time
}

// CallbackPayload is the body of a batch callback.
type CallbackPayload struct {
	Event   string         `json:"event"` // batch.finalized
	ID      string         `json:"id"`    // unique per batch and phase; the same on every retry
	Summary *batch.Summary `json:"summary"`
}

// Send posts the summary; a non-2xx answer or a network error is returned for the task to retry.
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
	client := cb.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("callback %s: %w", eventID, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
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
