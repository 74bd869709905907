package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Outcome is what a scheduled run did.
type Outcome string

// Outcomes of a run.
const (
	// OutcomeSubmitted: at least one matching file was submitted as a new batch.
	OutcomeSubmitted Outcome = "SUBMITTED"
	// OutcomeAlreadySubmitted: every file of the run had been submitted before (a retried or
	// repeated run); nothing new was enqueued.
	OutcomeAlreadySubmitted Outcome = "ALREADY_SUBMITTED"
	// OutcomeWaiting: no file matched yet; the run looks again later the same business day.
	OutcomeWaiting Outcome = "WAITING"
	// OutcomeMissed: no file matched by the end of the run's business day.
	OutcomeMissed Outcome = "MISSED"
	// OutcomeFailed: a file could not be submitted (Retrying says whether asynq tries again).
	OutcomeFailed Outcome = "FAILED"
)

// Triggers of a run.
const (
	TriggerSchedule = "schedule" // the scheduler enqueued it (on time or catching up)
	TriggerManual   = "manual"   // masspayout scheduler run NAME
)

// Record is one entry of a schedule's run history. It holds no personal data: file names,
// batch IDs and counts only.
type Record struct {
	Schedule string    `json:"schedule"`
	Period   string    `json:"period"`
	Due      time.Time `json:"due"`     // when the run was due
	At       time.Time `json:"at"`      // when this outcome was recorded
	Trigger  string    `json:"trigger"` // TriggerSchedule or TriggerManual
	Outcome  Outcome   `json:"outcome"`
	Batches  []string  `json:"batches,omitempty"` // in file order
	Files    []string  `json:"files,omitempty"`   // base names, one per batch
	Message  string    `json:"message,omitempty"`
	// Retrying marks a FAILED attempt that asynq will retry.
	Retrying bool `json:"retrying,omitempty"`
}

// provisional reports whether a later record of the same period replaces r rather than
// following it, so a day of waiting or a run of retries takes one line of history.
func (r Record) provisional() bool {
	return r.Outcome == OutcomeWaiting || r.Retrying
}

// DefaultHistoryLength is how many records History keeps per schedule by default.
const DefaultHistoryLength = 50

// History keeps what scheduled runs did, in Redis: the last records of each schedule
// (mp:schedule:{NAME}:runs, newest first, bounded) and, per period, which files the run has
// taken and in which order (mp:schedule:{NAME}:files:PERIOD). It is safe for concurrent use.
type History struct {
	rdb  redis.UniversalClient
	keep int
}

// NewHistory returns the history on rdb, keeping the last keep records of each schedule
// (DefaultHistoryLength when keep < 1).
func NewHistory(rdb redis.UniversalClient, keep int) *History {
	if keep < 1 {
		keep = DefaultHistoryLength
	}
	return &History{rdb: rdb, keep: keep}
}

func runsKey(name string) string { return "mp:schedule:{" + name + "}:runs" }
func openKey(name string) string { return "mp:schedule:{" + name + "}:open" }
func filesKey(name, period string) string {
	return "mp:schedule:{" + name + "}:files:" + period
}

// recordScript adds a record. KEYS: runs, open. ARGV: record JSON, period, provisional (1/0),
// keep. The newest record is replaced instead when it is provisional and of the same period.
var recordScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) == ARGV[2] and redis.call('LLEN', KEYS[1]) > 0 then
  redis.call('LSET', KEYS[1], 0, ARGV[1])
else
  redis.call('LPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[4]) - 1)
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[2], ARGV[2])
else
  redis.call('DEL', KEYS[2])
end
return 1
`)

// Record adds r to its schedule's history. When the newest record is of the same period and
// was WAITING or a FAILED attempt being retried, r replaces it.
func (h *History) Record(ctx context.Context, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	prov := "0"
	if r.provisional() {
		prov = "1"
	}
	if err := recordScript.Run(ctx, h.rdb, []string{runsKey(r.Schedule), openKey(r.Schedule)}, b, r.Period, prov, h.keep).Err(); err != nil {
		return fmt.Errorf("record run of %s for %s: %w", r.Schedule, r.Period, err)
	}
	return nil
}

// Recent returns up to n of the schedule's latest records, newest first; none for a schedule
// that never ran.
func (h *History) Recent(ctx context.Context, name string, n int) ([]Record, error) {
	if n < 1 {
		return nil, nil
	}
	raw, err := h.rdb.LRange(ctx, runsKey(name), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", name, err)
	}
	out := make([]Record, 0, len(raw))
	for _, s := range raw {
		var r Record
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			return nil, fmt.Errorf("history of %s: %w", name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// assignScript numbers the files of a run. KEYS: files. ARGV: TTL in ms, then file paths.
// A file keeps the number it got first; a new one gets the next. Returns every file and number.
var assignScript = redis.NewScript(`
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then
    redis.call('HSET', KEYS[1], ARGV[i], redis.call('HLEN', KEYS[1]) + 1)
  end
end
if #ARGV > 1 and tonumber(ARGV[1]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return redis.call('HGETALL', KEYS[1])
`)

// AssignFiles gives each of paths, in the order given, the next free position in run r's list
// of files, unless it has one already, and returns the whole list: the files r has taken in
// this call and every earlier one (a retried run whose files were already moved away still
// finds them here). The k-th file of the list (from 1) is the run's k-th batch. The list
// expires ttl after its last change (zero: never).
func (h *History) AssignFiles(ctx context.Context, r Run, paths []string, ttl time.Duration) ([]string, error) {
	args := make([]any, 0, len(paths)+1)
	args = append(args, ttl.Milliseconds())
	for _, p := range paths {
		args = append(args, p)
	}
	res, err := assignScript.Run(ctx, h.rdb, []string{filesKey(r.Schedule, r.Period)}, args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("assign files of %s for %s: %w", r.Schedule, r.Period, err)
	}
	type numbered struct {
		path string
		n    int
	}
	files := make([]numbered, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		n, err := strconv.Atoi(res[i+1])
		if err != nil {
			return nil, fmt.Errorf("assign files of %s for %s: bad position %q", r.Schedule, r.Period, res[i+1])
		}
		files = append(files, numbered{res[i], n})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].n < files[j].n })
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out, nil
}
