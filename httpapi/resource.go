package httpapi

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/callback"
)

// batchResource is the JSON shape of a batch (GET /v1/batches/{id}; openapi.yaml: Batch).
type batchResource struct {
	ID              string                            `json:"id"`
	Status          string                            `json:"status"`
	Final           bool                              `json:"final"`
	Source          string                            `json:"source,omitempty"`
	Submitter       string                            `json:"submitter,omitempty"`
	CreatedAt       time.Time                         `json:"created_at"`
	UpdatedAt       time.Time                         `json:"updated_at"`
	Options         optionsResource                   `json:"options"`
	Rows            int                               `json:"rows"`
	Valid           int                               `json:"valid"`
	Rejected        int                               `json:"rejected"`
	Chunks          chunksResource                    `json:"chunks"`
	ProgressPercent int                               `json:"progress_percent"`
	Counts          map[string]int                    `json:"counts"`
	Amounts         map[string]map[string]json.Number `json:"amounts"`
	NextStep        string                            `json:"next_step,omitempty"`
	Paid            []batch.StatusTotal               `json:"paid"`
	Alarms          []string                          `json:"alarms,omitempty"`
	Approvals       int                               `json:"approvals,omitempty"`
	ApprovedBy      string                            `json:"approved_by,omitempty"`
	ApprovedAt      *time.Time                        `json:"approved_at,omitempty"`
	CancelRequested bool                              `json:"cancel_requested,omitempty"`
	CanceledBy      string                            `json:"canceled_by,omitempty"`
	Links           linksResource                     `json:"links"`
	// Approval is what an approve request released (its answer only).
	Approval *batch.Approval `json:"approval,omitempty"`
	Audit    []auditResource `json:"audit,omitempty"`
}

type optionsResource struct {
	Format       string `json:"format"`
	Purpose      string `json:"purpose,omitempty"`
	ChunkSize    int    `json:"chunk_size"`
	DecimalComma bool   `json:"decimal_comma,omitempty"`
	CallbackURL  string `json:"callback_url,omitempty"`
}

type chunksResource struct {
	Total            int            `json:"total"`
	Stored           int            `json:"stored"`
	Initialized      int            `json:"initialized"`
	Settled          int            `json:"settled"`
	ByState          map[string]int `json:"by_state"`
	AwaitingApproval int            `json:"awaiting_approval"`
}

type linksResource struct {
	Self   string `json:"self"`
	Report string `json:"report"`
}

type auditResource struct {
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
	Via    string    `json:"via,omitempty"`
}

// newBatchResource renders b (and its audit list when audit is not nil).
func newBatchResource(b *batch.Batch, audit []batch.AuditEntry) batchResource {
	res := batchResource{
		ID:        b.ID,
		Status:    b.Status,
		Final:     b.Final,
		Source:    b.Source,
		Submitter: b.Submitter,
		CreatedAt: b.Created,
		UpdatedAt: b.Updated,
		Options: optionsResource{
			Format:       b.Options.Format,
			Purpose:      b.Options.Purpose,
			ChunkSize:    b.Options.ChunkSize,
			DecimalComma: b.Options.DecimalComma,
			CallbackURL:  callback.Redact(b.Options.CallbackURL), // never a stored user name or password
		},
		Rows:     b.Rows,
		Valid:    b.Valid,
		Rejected: b.Rejected,
		Chunks: chunksResource{
			Total:            b.ChunksTotal,
			Stored:           b.ChunksSeen,
			Initialized:      b.InitDone,
			Settled:          b.Settled,
			ByState:          b.Chunks,
			AwaitingApproval: b.InitWaiting,
		},
		NextStep:        batch.NextStep(b),
		Paid:            b.PaidTotals(),
		Alarms:          b.Alarms(),
		Approvals:       b.Approvals,
		ProgressPercent: progressPercent(b),
		Counts:          b.Counts,
		Amounts:         map[string]map[string]json.Number{},
		ApprovedBy:      b.ApprovedBy,
		CancelRequested: b.CancelRequested,
		CanceledBy:      b.CanceledBy,
		Links: linksResource{
			Self:   "/v1/batches/" + b.ID,
			Report: "/v1/batches/" + b.ID + "/report",
		},
	}
	if !b.ApprovedAt.IsZero() {
		at := b.ApprovedAt
		res.ApprovedAt = &at
	}
	for status, byCur := range b.Amounts {
		m := map[string]json.Number{}
		for cur, a := range byCur {
			m[cur] = json.Number(batch.FormatAmount(a, cur))
		}
		res.Amounts[status] = m
	}
	for _, e := range audit {
		res.Audit = append(res.Audit, auditResource(e))
	}
	return res
}

// progressPercent is how far a batch got, 0 to 100: each chunk counts half when it has its init
// outcome and half when it is settled; a final batch is at 100.
func progressPercent(b *batch.Batch) int {
	switch {
	case b.Final:
		return 100
	case !b.SubmitDone || b.ChunksTotal == 0:
		return 0
	}
	p := (b.InitDone + b.Settled) * 100 / (2 * b.ChunksTotal)
	return min(p, 99)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
