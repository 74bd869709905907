// Package batch is masspayout's ledger in Redis: batches, their chunks (each holding the exact init
// request body built at submit time), every item's outcome, and counters kept by atomic scripts so
// a chunk counts once however often its handler runs. Submit streams a payout file into it
// idempotently, and the report writer turns it into the reconciliation report.
//
// Keys of one batch share the hash tag {<batch>} so they live in one Redis Cluster slot:
//
//	mp:{B}:batch      hash: options, content hash, row counters, cs:<STATE> chunks per state,
//	                  init_waiting, approvals, final mark and generation, timestamps
//	mp:{B}:counts     hash: n:<STATUS> rows and m:<STATUS>:<CUR> amounts (minor units) of chunk items
//	mp:{B}:c:<seq>    hash: body_sha, state, version, request_id, attempts, outcomes, approved,
//	                  claim, claim_until, claim_step (claim.go), ...
//	mp:{B}:c:<seq>:body   string: the chunk's init request body, byte for byte what is sent
//	mp:{B}:c:<seq>:items  string: the chunk's report items (see appendReportItem)
//	mp:{B}:r:<page>   string: JSON array of up to 1000 rejected rows
//	mp:{B}:audit      list: JSON audit entries (who did what, when)
//	mp:{B}:repeats    hash: row → the JSON RowError of a row the cross-batch check rejected
//	mp:{pay}:<yyyymm> hash: the payment index, row identity → "<batch>|<row>" (repeat.go)
//	mp:{pay}:buckets  set of the payment index's bucket keys
//	mp:batches        sorted set of batch IDs by creation time (no tag: it spans batches)
//	mp:active         set of batch IDs that are not final: the janitor's worklist (no tag)
//	mp:discarded      list of JSON records of discarded batches (no tag; see Discard)
//	mp:content:<sha256>  string: the batch holding the file with that SHA-256 (no tag; see content.go)
package batch

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Batch statuses (DESIGN.md §6).
const (
	StatusSubmitting          = "SUBMITTING"
	StatusProcessing          = "PROCESSING"
	StatusAwaitingApproval    = "AWAITING_APPROVAL"
	StatusCompleted           = "COMPLETED"
	StatusCompletedWithErrors = "COMPLETED_WITH_ERRORS"
	StatusFailed              = "FAILED"
	StatusCanceled            = "CANCELED"
	// StatusNeedsReconcile: a chunk is UNKNOWN (money may be moving): no final status, no ledger
	// expiry, no final callback until reconcile or the janitor resolves it.
	StatusNeedsReconcile = "NEEDS_RECONCILE"
	// StatusSubmitFailed: the submission stopped before it completed and nothing was sent.
	StatusSubmitFailed = "SUBMIT_FAILED"
)

// Chunk states in the ledger.
const (
	ChunkPending    = "PENDING"    // stored; init not confirmed yet
	ChunkInit       = "INIT"       // iyzico holds it in INIT, awaiting auth
	ChunkAuthorized = "AUTHORIZED" // auth accepted; items moving at the bank
	ChunkDone       = "DONE"       // every item has its final status
	ChunkError      = "ERROR"      // iyzico refused the whole chunk permanently
	ChunkUnknown    = "UNKNOWN"    // retries exhausted without a confirmed answer; reconcile resolves it
	ChunkCanceled   = "CANCELED"   // canceled while INIT
)

// Row statuses of our own; the others are iyzico's item statuses (DESIGN.md §6).
const (
	RowRejected = "REJECTED" // failed our validation, never sent
	RowPending  = "PENDING"  // in a chunk whose init is not confirmed yet
	RowError    = "ERROR"    // its chunk was refused permanently
	RowUnknown  = "UNKNOWN"  // its chunk's retries were exhausted
)

// Errors callers react to.
var (
	// ErrBatchConflict: the batch ID exists with different content or options.
	ErrBatchConflict = errors.New("batch conflict")
	// ErrNotFound: no such batch or chunk.
	ErrNotFound = errors.New("not found")
	// ErrInvalidOptions: a submission option or the batch ID is unusable.
	ErrInvalidOptions = errors.New("invalid submission options")
)

// ValidBatchID is the shape of a batch ID (DESIGN.md §3): 1 to 64 letters, digits, '.', '_' or
// '-', at least one of them a letter or digit (so neither "." nor ".." nor "---").
var ValidBatchID batchIDShape

type batchIDShape struct{}

var batchIDChars = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
var batchIDAlnum = regexp.MustCompile(`[A-Za-z0-9]`)

// MatchString reports whether id has the shape of a batch ID.
func (batchIDShape) MatchString(id string) bool {
	return batchIDChars.MatchString(id) && batchIDAlnum.MatchString(id)
}

// Store is the ledger. It is safe for concurrent use.
type Store struct {
	rdb       redis.UniversalClient
	inspector *asynq.Inspector
	now       func() time.Time
	ttl       time.Duration
}

// NewStore returns a ledger on rdb (which holds the asynq queue too). ttl is how long a final
// batch's keys are kept (LEDGER_TTL); zero keeps them forever.
func NewStore(rdb redis.UniversalClient, ttl time.Duration) *Store {
	return &Store{rdb: rdb, inspector: asynq.NewInspectorFromRedisClient(rdb), now: time.Now, ttl: ttl}
}

// Redis returns the client the store uses.
func (s *Store) Redis() redis.UniversalClient { return s.rdb }

func batchKey(b string) string          { return "mp:{" + b + "}:batch" }
func countsKey(b string) string         { return "mp:{" + b + "}:counts" }
func chunkKey(b string, seq int) string { return "mp:{" + b + "}:c:" + strconv.Itoa(seq) }

// The large values of a chunk are strings of their own: Redis stores a plain SET argument as it
// is, where a hash field or a script argument is copied (a million-row submit spent most of
// Redis's time copying bodies through the store script).
func chunkBodyKey(b string, seq int) string  { return chunkKey(b, seq) + ":body" }
func chunkItemsKey(b string, seq int) string { return chunkKey(b, seq) + ":items" }
func rejectedKey(b string, page int) string {
	return "mp:{" + b + "}:r:" + strconv.Itoa(page)
}
func auditKey(b string) string { return "mp:{" + b + "}:audit" }

const indexKey = "mp:batches"

// rejectedPageSize is how many rejected rows one mp:{B}:r:<page> key holds.
const rejectedPageSize = 1000

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func wrapNotFound(what string, err error) error {
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}
