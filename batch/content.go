package batch

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ErrDuplicateContent: the file was already submitted as another batch that the ledger still
// holds. A re-run under a new batch ID (a scheduled run of a file left in the inbox, a new
// Idempotency-Key) would pay every row again. errors.Is(err, ErrBatchConflict) holds too.
var ErrDuplicateContent = errors.New("file already submitted as another batch")

// DuplicateContentError details an ErrDuplicateContent.
type DuplicateContentError struct {
	BatchID  string // the batch asked for
	Existing string // the batch that holds the same file
	SHA256   string // the file's SHA-256, hex
}

func (e *DuplicateContentError) Error() string {
	return fmt.Sprintf("batch %s: this file (sha256 %s) was already submitted as batch %s; nothing was sent, so it is not paid twice. "+
		"Check batch %s; if the file really is to be paid again, submit it with --allow-duplicate (API: allow_duplicate=true)",
		e.BatchID, e.SHA256[:16], e.Existing, e.Existing)
}

// Unwrap makes errors.Is true for ErrDuplicateContent and ErrBatchConflict.
func (e *DuplicateContentError) Unwrap() []error {
	return []error{ErrDuplicateContent, ErrBatchConflict}
}

// contentKey maps a file's SHA-256 to the batch that holds it. Like the index, it belongs to no
// batch: it has no hash tag.
func contentKey(sha string) string { return "mp:content:" + sha }

// swapScript sets KEYS[1] to ARGV[2] when it holds ARGV[1] ("" for a missing key); with ARGV[2]
// "" it deletes the key. Returns 1 when it changed the key.
var swapScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if (v or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
`)

// claimContent records batch id as the holder of the file with this SHA-256. It returns the other
// batch that holds it (and claims nothing), or "" once id holds it; claimed says whether this call
// made id the holder (so that a submission refused later can release it).
func (s *Store) claimContent(ctx context.Context, sha, id string) (other string, claimed bool, err error) {
	key := contentKey(sha)
	for range 3 {
		owner, err := s.rdb.Get(ctx, key).Result()
		if err != nil && err != redis.Nil {
			return "", false, fmt.Errorf("batch %s: read the file index: %w", id, err)
		}
		if owner == id {
			return "", false, nil
		}
		if owner != "" {
			n, err := s.rdb.Exists(ctx, batchKey(owner)).Result()
			if err != nil {
				return "", false, fmt.Errorf("batch %s: read the file index: %w", id, err)
			}
			if n == 1 {
				return owner, false, nil
			}
			// The batch that held the file is gone (its ledger expired, or its submission was
			// refused before it was created): the file is free again.
		}
		swapped, err := swapScript.Run(ctx, s.rdb, []string{key}, owner, id).Int()
		if err != nil {
			return "", false, fmt.Errorf("batch %s: record the file: %w", id, err)
		}
		if swapped == 1 {
			return "", true, nil
		}
		// Another submission changed the key in between: look again.
	}
	return "", false, fmt.Errorf("batch %s: the file index keeps changing under concurrent submissions of this file; try again", id)
}

// releaseContent undoes a claim of a submission that was refused.
func (s *Store) releaseContent(ctx context.Context, sha, id string) {
	_ = swapScript.Run(ctx, s.rdb, []string{contentKey(sha)}, id, "").Err()
}

// contentKeyOf returns the file index key of batch b when b holds it, else "".
func (s *Store) contentKeyOf(ctx context.Context, b *Batch) string {
	if b.ContentHash == "" {
		return ""
	}
	if owner, _ := s.rdb.Get(ctx, contentKey(b.ContentHash)).Result(); owner != b.ID {
		return ""
	}
	return contentKey(b.ContentHash)
}
