package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/tasks"
)

// intake is what every route that takes a payout file shares (POST /v1/batches, POST
// /v1/validations, the dashboard's upload page): the submit options with their defaults, and one
// bound on the uploads received at once (MAX_CONCURRENT_UPLOADS) and on the disk they take.
type intake struct {
	o     SubmitOptions
	slots *uploadSlots
}

// newIntake fills in o's defaults.
func newIntake(o SubmitOptions) *intake {
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 512 << 20
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 500
	}
	if o.MaxConcurrentUploads <= 0 {
		o.MaxConcurrentUploads = 4
	}
	if o.MinFreeDisk <= 0 {
		o.MinFreeDisk = 256 << 20
	}
	return &intake{o: o, slots: newUploadSlots(o.MaxConcurrentUploads, o.TempDir, o.MinFreeDisk)}
}

// spool receives the request's payout file into a temporary file (see receiveForm), forced being
// the format asked for, if any. A declared length over the limit, no free upload slot or too
// little disk are refused before a byte of the body is read (the connection is then closed, see
// guardRequests). The caller closes up; release gives the upload slot back.
func (in *intake) spool(w http.ResponseWriter, r *http.Request, forced payoutfile.Format, before func(url.Values) error) (up *upload, fields url.Values, release func(), err error) {
	if r.ContentLength > in.o.MaxUploadBytes {
		return nil, nil, nil, &http.MaxBytesError{Limit: in.o.MaxUploadBytes}
	}
	size := r.ContentLength
	if size < 0 {
		size = in.o.MaxUploadBytes
	}
	release, err = in.slots.acquire(size)
	if err != nil {
		return nil, nil, nil, err
	}
	up, fields, err = receiveForm(w, r, in.o.TempDir, in.o.MaxUploadBytes, forced, before)
	if err != nil {
		release()
		return nil, nil, nil, err
	}
	return up, fields, release, nil
}

// limits are the reader options for up: the configured limits, up's format, and the query's
// decimal comma and currencies.
func (in *intake) limits(up *upload, opts batch.Options) payoutfile.Options {
	l := in.o.Limits
	l.Format, l.DecimalComma, l.Currencies = up.format, opts.DecimalComma, opts.Currencies
	return l
}

// submit submits the spooled upload up as who with the checked options sq: what POST
// /v1/batches and the dashboard's upload page do once the file is here. The file is whole, so
// the submission goes on even if the client hangs up (ctx's cancellation is ignored), rather than
// leave a batch half submitted until someone sends it again.
func (in *intake) submit(ctx context.Context, store *batch.Store, q batch.Enqueuer, topts tasks.Options, up *upload, sq submitQuery, who string) (*batch.SubmitResult, error) {
	opts := sq.opts
	opts.Format = string(up.format)
	l := in.o.Limits
	return store.Submit(context.WithoutCancel(ctx), batch.SubmitRequest{
		File:        up.file,
		Source:      up.name,
		BatchID:     sq.id,
		Options:     opts,
		Limits:      payoutfile.Options{MaxFileBytes: l.MaxFileBytes, MaxFieldBytes: l.MaxFieldBytes, MaxRows: l.MaxRows, MaxAmount: l.MaxAmount},
		Submitter:   who,
		AutoApprove: in.o.AutoApprove,

		AllowDuplicate: sq.allowDuplicate,
	}, q, topts)
}
