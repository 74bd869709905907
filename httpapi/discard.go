package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/masspayout/masspayout/batch"
	"github.com/rs/zerolog"
)

// discardResult is the answer of POST /v1/batches/{id}/discard.
type discardResult struct {
	ID        string `json:"id"`
	Discarded bool   `json:"discarded"`
	By        string `json:"by"`
}

// discard removes the batch of r as its caller (batch.Store.Discard): only a batch that never
// reached iyzico (SUBMIT_FAILED, or every chunk PENDING with no init sent), else
// batch.ErrReachedIyzico (409 REACHED_IYZICO).
func discard(r *http.Request, store *batch.Store) (string, error) {
	id, err := batchID(r)
	if err != nil {
		return "", err
	}
	ctx := batch.ContextWithVia(context.WithoutCancel(r.Context()), via(r))
	return id, store.Discard(ctx, id, principalFrom(r.Context()).Name)
}

// handleDiscard is POST /v1/batches/{id}/discard (role approve): it removes a batch that never
// reached iyzico, so that its file can be submitted again, and answers 200
// {"id","discarded":true,"by"}; 409 REACHED_IYZICO when anything of it may be at iyzico (cancel
// it instead), 404 when there is no such batch (a second discard).
func handleDiscard(log zerolog.Logger, store *batch.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := discard(r, store)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		who := principalFrom(r.Context()).Name
		log.Info().Str("batch", id).Str("who", who).Msg("batch discarded over HTTP")
		writeJSON(w, http.StatusOK, discardResult{ID: id, Discarded: true, By: who})
	})
}

// handleDashboardDiscard is POST /batches/{id}/discard, the batch page's discard form: on success
// the browser goes to the batch list, which says what was discarded; a refusal is a page.
func handleDashboardDiscard(log zerolog.Logger, store *batch.Store, pg *pages) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := discard(r, store)
		if err != nil {
			renderProblem(w, r, log, pg, err, "/batches/"+url.PathEscape(r.PathValue("id")))
			return
		}
		log.Info().Str("batch", id).Str("who", principalFrom(r.Context()).Name).Msg("batch discarded in the dashboard")
		http.Redirect(w, r, "/?"+url.Values{"discarded": {id}}.Encode(), http.StatusSeeOther)
	})
}

// discardable reports whether the batch page offers discard: the submission failed, or nothing
// of the batch left for iyzico yet (every stored chunk PENDING). Discard itself checks under
// claims whether an init was sent; the page only offers it.
func discardable(b *batch.Batch) bool {
	switch b.Status {
	case batch.StatusSubmitFailed:
		return true
	case batch.StatusSubmitting, batch.StatusProcessing:
		return b.Chunks[batch.ChunkPending] == b.ChunksSeen
	}
	return false
}
