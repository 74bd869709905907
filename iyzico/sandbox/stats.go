package sandbox

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
)

// Stats are the sandbox's counters, for tests to assert DESIGN.md §7 invariant 2 ("no
// itemExternalId is initialized twice; an externalId is always sent with identical bytes").
// Maps are keyed as described; a key is absent rather than 0.
type Stats struct {
	// Requests counts API requests per endpoint name, whatever became of them.
	Requests map[string]int `json:"requests"`
	// AuthFailures counts requests refused for their Authorization header (1000, 1001, 1004, 1009).
	AuthFailures int `json:"authFailures"`
	// Faults counts injected faults per FaultKind name.
	Faults map[string]int `json:"faults"`
	// Dropped counts requests handled and then dropped (commit then drop).
	Dropped int `json:"dropped"`

	// CommittedPayouts counts payouts created by init; CommittedItems their items, INVALID ones
	// included.
	CommittedPayouts int `json:"committedPayouts"`
	CommittedItems   int `json:"committedItems"`
	// InitAttempts counts, per externalId, init requests that were handled (authenticated, not
	// refused by an injected 5xx or 429, body readable): first commits, replays and conflicts.
	InitAttempts map[string]int `json:"initAttempts"`
	// InitBodies counts the distinct request bodies seen per externalId; anything above 1 breaks
	// "an externalId is always sent with identical bytes".
	InitBodies map[string]int `json:"initBodies"`
	// InitReplays counts repeated inits answered with the original answer; InitConflicts those
	// refused with the dialect's DuplicateCode.
	InitReplays   int `json:"initReplays"`
	InitConflicts int `json:"initConflicts"`
	// InitToExisting counts, per externalId, init requests handled while a payout with that
	// externalId already existed: replays and refusals alike. Our worker keeps it empty.
	InitToExisting map[string]int `json:"initToExisting"`
	// ItemsUnderManyExternalIDs maps each itemExternalId committed under more than one externalId
	// (INVALID items included) to those externalIds, in commit order.
	ItemsUnderManyExternalIDs map[string][]string `json:"itemsUnderManyExternalIds"`

	// AuthCalls counts handled auth requests per requestId as sent; AuthCommits those that
	// authorized the payout (at most 1 each); AuthToNonInit, per requestId, and AuthInvalidState,
	// in total, those refused with the dialect's InvalidStateCode because the payout was not in
	// INIT.
	AuthCalls        map[string]int `json:"authCalls"`
	AuthCommits      map[string]int `json:"authCommits"`
	AuthToNonInit    map[string]int `json:"authToNonInit"`
	AuthInvalidState int            `json:"authInvalidState"`
	// CancelCalls counts handled cancel requests per requestId as sent; CancelCommits those that
	// canceled a payout.
	CancelCalls   map[string]int `json:"cancelCalls"`
	CancelCommits int            `json:"cancelCommits"`
}

// counters is the mutable part of Stats that lives under statsMu.
type counters struct {
	requests         map[string]int
	authFailures     int
	faults           map[string]int
	dropped          int
	committedPayouts int
	committedItems   int
	initAttempts     map[string]int
	initBodies       map[string][][32]byte
	initReplays      int
	initConflicts    int
	initToExisting   map[string]int
	authCalls        map[string]int
	authCommits      map[string]int
	authToNonInit    map[string]int
	authInvalidState int
	cancelCalls      map[string]int
	cancelCommits    int
}

func newCounters() counters {
	return counters{
		requests: map[string]int{}, faults: map[string]int{}, initAttempts: map[string]int{},
		initBodies: map[string][][32]byte{}, initToExisting: map[string]int{}, authCalls: map[string]int{},
		authCommits: map[string]int{}, authToNonInit: map[string]int{}, cancelCalls: map[string]int{},
	}
}

// count updates the counters under their lock.
func (s *Server) count(f func(*counters)) {
	s.statsMu.Lock()
	f(&s.stats)
	s.statsMu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	k := &s.stats
	st := Stats{
		Requests:         maps.Clone(k.requests),
		AuthFailures:     k.authFailures,
		Faults:           maps.Clone(k.faults),
		Dropped:          k.dropped,
		CommittedPayouts: k.committedPayouts,
		CommittedItems:   k.committedItems,
		InitAttempts:     maps.Clone(k.initAttempts),
		InitBodies:       make(map[string]int, len(k.initBodies)),
		InitReplays:      k.initReplays,
		InitConflicts:    k.initConflicts,
		InitToExisting:   maps.Clone(k.initToExisting),
		AuthCalls:        maps.Clone(k.authCalls),
		AuthCommits:      maps.Clone(k.authCommits),
		AuthToNonInit:    maps.Clone(k.authToNonInit),
		AuthInvalidState: k.authInvalidState,
		CancelCalls:      maps.Clone(k.cancelCalls),
		CancelCommits:    k.cancelCommits,
	}
	for ext, bodies := range k.initBodies {
		st.InitBodies[ext] = len(bodies)
	}
	s.statsMu.Unlock()

	s.mu.RLock()
	st.ItemsUnderManyExternalIDs = make(map[string][]string, len(s.itemDups))
	for id, exts := range s.itemDups {
		st.ItemsUnderManyExternalIDs[id] = slices.Clone(exts)
	}
	s.mu.RUnlock()
	return st
}

// handleStats answers GET /sandbox/stats with Stats as JSON. It needs no Authorization.
func (s *Server) handleStats(c *call) answer {
	b, err := json.Marshal(s.Stats())
	if err != nil {
		return c.failWith(http.StatusInternalServerError, "", &msgServerError)
	}
	c.outcome = "stats"
	return answer{status: http.StatusOK, body: b}
}

// handleFaults answers GET /sandbox/faults with the random faults in force and POST
// /sandbox/faults (a Faults JSON body) by replacing them. It needs no Authorization.
func (s *Server) handleFaults(c *call) answer {
	if c.r.Method == http.MethodPost {
		var f Faults
		if err := json.Unmarshal(c.body, &f); err != nil {
			return c.failWith(http.StatusBadRequest, CodeInvalidRequest, &msg{"Geçersiz hata ayarı: " + err.Error(), "invalid faults: " + err.Error()})
		}
		if err := f.Validate(); err != nil {
			return c.failWith(http.StatusBadRequest, CodeInvalidRequest, &msg{"Geçersiz hata ayarı: " + err.Error(), "invalid faults: " + err.Error()})
		}
		s.SetFaults(f)
	}
	b, err := json.Marshal(s.CurrentFaults())
	if err != nil {
		return c.failWith(http.StatusInternalServerError, "", &msgServerError)
	}
	c.outcome = "faults"
	return answer{status: http.StatusOK, body: b}
}
