package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/payrollgen"
	"github.com/masspayout/masspayout/iyzico/sandbox"
	"github.com/shopspring/decimal"
)

// verdict is one invariant: whether it held, and the figures that show it.
type verdict struct {
	name    string
	ok      bool
	figures []string
}

// result is one seed's verdicts and the figures of what was done to it.
type result struct {
	seed     uint64
	verdicts []verdict
	figures  []string
}

func (r *result) ok() bool {
	for _, v := range r.verdicts {
		if !v.ok {
			return false
		}
	}
	return true
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "\n--- seed %d: invariants\n", r.seed)
	for i, v := range r.verdicts {
		state := "OK"
		if !v.ok {
			state = "VIOLATED"
		}
		fmt.Fprintf(w, "%d. %-44s %-8s %s\n", i+1, v.name, state, strings.Join(v.figures, "; "))
	}
	fmt.Fprintf(w, "--- seed %d: figures\n", r.seed)
	for _, f := range r.figures {
		fmt.Fprintf(w, "   %s\n", f)
	}
}

// evidence is what the verdicts are drawn from, read once the workers are stopped.
type evidence struct {
	b            *batch.Batch
	settled      bool
	stats        sandbox.Stats
	report       []reportRow // the ledger's (WriteReport)
	written      []reportRow // the report file finalize wrote, nil when there is none
	file         []fileRow
	chunks       []*batch.Chunk
	redisKills   int64 // Redis kills, crashes included
	redisCrashes int64 // Redis kills that lost the last writes
}

// check reads the evidence and draws every verdict. b is the batch as last seen; it is read
// again, now that the workers are stopped.
func (r *rig) check(ctx context.Context, b *batch.Batch, settled bool) (*result, error) {
	if now, err := r.getBatch(ctx); err == nil {
		b = now
	}
	if b == nil {
		return nil, fmt.Errorf("batch %s could not be read from the ledger", r.batchID)
	}
	ev := &evidence{b: b, settled: settled, stats: r.sb.Stats(), redisKills: r.tally.redisKills.Load(), redisCrashes: r.tally.redisCrashes.Load()}
	var err error
	if ev.report, err = r.ledgerReport(ctx); err != nil {
		return nil, err
	}
	if ev.written, err = readReportFile(ev.b.ReportPath); err != nil {
		return nil, err
	}
	if ev.file, err = readFileRows(r.file); err != nil {
		return nil, err
	}
	for seq := 1; seq <= ev.b.ChunksTotal; seq++ {
		c, err := r.store.GetChunk(ctx, r.batchID, seq)
		if err != nil {
			return nil, fmt.Errorf("read chunk %d: %w", seq, err)
		}
		ev.chunks = append(ev.chunks, c)
	}
	logs, err := r.scanLogs(ev.file)
	if err != nil {
		return nil, err
	}
	res := &result{seed: r.seed}
	res.verdicts = []verdict{
		conservation(ev, r.tot),
		atMostOnce(ev),
		authOnce(ev),
		live(ev),
		nothingFinalWhileMoving(ev),
		logs.secrets,
		logs.personal,
	}
	res.figures = r.figures(ev)
	return res, nil
}

// figures are the run's own numbers: what was done, how long it took, what the sandbox injected.
func (r *rig) figures(ev *evidence) []string {
	t := &r.tally
	st := ev.stats
	return []string{
		fmt.Sprintf("rows %d (%d valid, %d invalid), chunks %d", r.tot.Rows, r.tot.Valid, r.tot.Invalid, ev.b.ChunksTotal),
		fmt.Sprintf("kills: workers %d, redis %d (%d of them host crashes losing the last writes); stops %d; workers that exited by themselves %d",
			t.workerKills.Load(), t.redisKills.Load(), t.redisCrashes.Load(), t.stops.Load(), t.selfExits.Load()),
		fmt.Sprintf("approvals run %d (recorded %d), reconciles run %d", t.approvals.Load(), ev.b.Approvals, t.reconciles.Load()),
		fmt.Sprintf("wall time: final after %s, judged after %s (chaos over, quiet %s), seed total %s; deadline %s",
			r.finalAfter.Round(100*time.Millisecond), r.settledAfter.Round(100*time.Millisecond), quiet, time.Since(r.tl.start).Round(100*time.Millisecond), r.o.timeout),
		fmt.Sprintf("sandbox requests %s", describeInts(st.Requests)),
		fmt.Sprintf("sandbox faults %s, dropped after commit %d, init replays %d, init conflicts %d, auth invalid state %d", describeInts(st.Faults), st.Dropped, st.InitReplays, st.InitConflicts, st.AuthInvalidState),
	}
}

// reportRow is one row of a report, by column name.
type reportRow struct {
	row                                     int
	itemID, amount, currency, status, extID string
}

// ledgerReport reads the report from the ledger (batch.Store.WriteReport).
func (r *rig) ledgerReport(ctx context.Context) ([]reportRow, error) {
	var buf bytes.Buffer
	if _, err := r.store.WriteReport(ctx, r.batchID, &buf); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return parseReport(&buf)
}

func parseReport(rd io.Reader) ([]reportRow, error) {
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("report is empty: no header")
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	for _, name := range batch.ReportColumns {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("report header %v lacks column %q", recs[0], name)
		}
	}
	rows := make([]reportRow, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		get := func(name string) string {
			if i := col[name]; i < len(rec) {
				return rec[i]
			}
			return ""
		}
		n, _ := strconv.Atoi(get("row"))
		rows = append(rows, reportRow{row: n, itemID: get("item_external_id"), amount: get("amount"), currency: get("currency"), status: get("status"), extID: get("external_id")})
	}
	return rows, nil
}

// readReportFile reads the report file finalize wrote; nil when none was written.
func readReportFile(path string) ([]reportRow, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report file: %w", err)
	}
	defer f.Close()
	return parseReport(f)
}

// fileRow is one row of the generated payroll file.
type fileRow struct {
	itemID, recipientType, recipientInfo, amount, currency string
}

func readFileRows(path string) ([]fileRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, fmt.Errorf("read %s: %v", path, err)
	}
	// The generator's header: item_external_id, recipient_type, recipient_info, recipient_name, amount, currency, description.
	rows := make([]fileRow, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		rows = append(rows, fileRow{itemID: rec[0], recipientType: rec[1], recipientInfo: rec[2], amount: rec[4], currency: rec[5]})
	}
	return rows, nil
}

// finalItems are the item statuses that end an item's story.
var finalItems = []string{"SUCCESS", "INVALID", "DEPOSIT_SUCCESS", "DEPOSIT_FAIL", "FAILED"}

// problems collects a verdict's violations, keeping a few examples of each.
type problems struct {
	list []string
}

func (p *problems) add(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) verdict(name string, figures ...string) verdict {
	v := verdict{name: name, ok: len(p.list) == 0, figures: figures}
	if len(p.list) > 0 {
		shown := p.list
		if len(shown) > 8 {
			shown = append(slices.Clip(shown[:8]), fmt.Sprintf("... %d more", len(p.list)-8))
		}
		v.figures = append(shown, v.figures...)
	}
	return v
}

// conservation: report rows == file rows, each row exactly once with the file's item, and the
// amount totals per currency equal the file's.
func conservation(ev *evidence, tot payrollgen.Totals) verdict {
	var p problems
	if len(ev.report) != len(ev.file) {
		p.add("report has %d rows, file %d", len(ev.report), len(ev.file))
	}
	seen := make([]int, len(ev.file)+1)
	amounts := map[string]decimal.Decimal{}
	rejected := 0
	for _, rr := range ev.report {
		if rr.row < 1 || rr.row > len(ev.file) {
			p.add("report row %d is not a file row", rr.row)
			continue
		}
		seen[rr.row]++
		if want := ev.file[rr.row-1].itemID; rr.itemID != want {
			p.add("report row %d has item %q, file %q", rr.row, rr.itemID, want)
		}
		if rr.status == "" {
			p.add("report row %d has no status", rr.row)
		}
		if rr.status == batch.RowRejected {
			rejected++
		}
		if a, err := decimal.NewFromString(rr.amount); err == nil && rr.currency != "" {
			amounts[rr.currency] = amounts[rr.currency].Add(a)
		}
	}
	missing, repeated := 0, 0
	for _, n := range seen[1:] {
		switch {
		case n == 0:
			missing++
		case n > 1:
			repeated++
		}
	}
	if missing+repeated > 0 {
		p.add("%d file rows missing from the report, %d repeated", missing, repeated)
	}
	var totals []string
	for _, cur := range slices.Sorted(maps.Keys(unionKeys(amounts, tot.Amounts))) {
		if !amounts[cur].Equal(tot.Amounts[cur]) {
			p.add("%s total in the report %s, in the file %s", cur, amounts[cur], tot.Amounts[cur])
		}
		totals = append(totals, cur+" "+amounts[cur].String())
	}
	if rejected != tot.Invalid {
		p.add("%d rows REJECTED, the file has %d invalid", rejected, tot.Invalid)
	}
	return p.verdict("conservation",
		fmt.Sprintf("report rows %d = file rows %d, each once", len(ev.report), len(ev.file)),
		"totals "+strings.Join(totals, ", ")+" = file's",
		fmt.Sprintf("REJECTED %d = invalid rows %d", rejected, tot.Invalid),
		compareWritten(ev, &p))
}

// compareWritten checks that the report file of a final batch says what the ledger says.
func compareWritten(ev *evidence, p *problems) string {
	switch {
	case !ev.b.Final:
		return "report file: the batch is not final"
	case ev.written == nil:
		p.add("the batch is final and has no report file")
		return "report file: none"
	}
	differ := 0
	for i, w := range ev.written {
		if i >= len(ev.report) || w != ev.report[i] {
			differ++
		}
	}
	differ += max(len(ev.report)-len(ev.written), 0)
	if differ > 0 {
		p.add("the report file %s differs from the ledger's report in %d rows", ev.b.ReportPath, differ)
	}
	return fmt.Sprintf("report file rows %d, %d differing from the ledger's", len(ev.written), differ)
}

func unionKeys(a, b map[string]decimal.Decimal) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// atMostOnce: no externalId sent with two bodies, no itemExternalId committed under two
// externalIds, one committed payout per chunk. Inits that reached a payout iyzico already held
// are a figure: a Redis that lost its last second of writes forgets that an init was sent.
func atMostOnce(ev *evidence) verdict {
	var p problems
	st := ev.stats
	maxBodies := 0
	for ext, n := range st.InitBodies {
		maxBodies = max(maxBodies, n)
		if n > 1 {
			p.add("externalId %s sent with %d different bodies", ext, n)
		}
	}
	for item, exts := range st.ItemsUnderManyExternalIDs {
		p.add("item %s committed under %v", item, exts)
	}
	if st.CommittedPayouts != ev.b.ChunksTotal {
		p.add("iyzico committed %d payouts for %d chunks", st.CommittedPayouts, ev.b.ChunksTotal)
	}
	if st.CommittedItems != ev.b.Valid {
		p.add("iyzico committed %d items for %d valid rows", st.CommittedItems, ev.b.Valid)
	}
	maxInit, totalInit := maxSum(st.InitAttempts)
	maxExisting, sumExisting := maxSum(st.InitToExisting)
	existing := fmt.Sprintf("inits to a payout iyzico already held: %d payouts, %d calls (max %d)", len(st.InitToExisting), sumExisting, maxExisting)
	switch {
	case len(st.InitToExisting) > 0 && ev.redisKills == 0:
		p.add("%s with no Redis kill to excuse them: %v", existing, st.InitToExisting)
	case len(st.InitToExisting) > 0 && ev.redisCrashes > 0:
		existing += fmt.Sprintf(" (allowed: %d Redis crashes lost their last writes, a sent mark among them)", ev.redisCrashes)
	case len(st.InitToExisting) > 0:
		existing += fmt.Sprintf(" (allowed as Redis was killed %d times, but no kill lost a write: worth a look)", ev.redisKills)
	}
	return p.verdict("at most once at iyzico",
		fmt.Sprintf("bodies per externalId max %d", maxBodies),
		fmt.Sprintf("items under several externalIds %d", len(st.ItemsUnderManyExternalIDs)),
		fmt.Sprintf("committed payouts %d = chunks %d, items %d = valid rows %d", st.CommittedPayouts, ev.b.ChunksTotal, st.CommittedItems, ev.b.Valid),
		fmt.Sprintf("handled init calls per payout max %d, total %d (init requests with faults %d)", maxInit, totalInit, st.Requests[sandbox.EndpointInit]),
		existing)
}

// authOnce: every chunk's payout authorized, by exactly one handled auth call to the requestId
// the ledger recorded; no auth to a payout past INIT, none to a requestId no chunk holds.
func authOnce(ev *evidence) verdict {
	var p problems
	st := ev.stats
	ours := map[string]bool{}
	authorized := 0
	for _, c := range ev.chunks {
		rid := c.RequestID
		if rid == "" {
			p.add("chunk %s (%s) has no requestId", c.ExternalID(), c.State)
			continue
		}
		ours[rid] = true
		if st.AuthCommits[rid] == 1 {
			authorized++
		} else {
			p.add("chunk %s (%s): payout %s authorized %d times", c.ExternalID(), c.State, rid, st.AuthCommits[rid])
		}
		if n := st.AuthCalls[rid]; n != 1 {
			p.add("chunk %s: %d handled auth calls to payout %s", c.ExternalID(), n, rid)
		}
	}
	for rid, n := range st.AuthCalls {
		if !ours[rid] {
			p.add("%d auth calls to requestId %s, which no chunk recorded", n, rid)
		}
	}
	for rid, n := range st.AuthToNonInit {
		p.add("%d auth calls to payout %s past INIT", n, rid)
	}
	maxAuth, totalAuth := maxSum(st.AuthCalls)
	return p.verdict("auth exactly once per payout",
		fmt.Sprintf("authorized payouts %d of %d chunks", authorized, len(ev.chunks)),
		fmt.Sprintf("handled auth calls %d (max %d per payout; auth requests with faults %d)", totalAuth, maxAuth, st.Requests[sandbox.EndpointAuth]),
		fmt.Sprintf("auths past INIT %d", len(st.AuthToNonInit)))
}

// live: the batch settled in time and every valid row has a final item status.
func live(ev *evidence) verdict {
	var p problems
	if !ev.settled {
		p.add("the batch did not settle before the deadline (status %s)", ev.b.Status)
	}
	statuses := map[string]int{}
	open := map[string]int{} // "<externalId> <status>" → rows without a final status
	for _, rr := range ev.report {
		statuses[rr.status]++
		if rr.status != batch.RowRejected && !slices.Contains(finalItems, rr.status) {
			open[rr.extID+" "+rr.status]++
		}
	}
	for _, k := range slices.Sorted(maps.Keys(open)) {
		ext, st, _ := strings.Cut(k, " ")
		p.add("%d rows of %s are %s", open[k], ext, st)
	}
	for _, c := range ev.chunks {
		if !batch.Settled(c.State) {
			p.add("chunk %s is %s (claim %s until %s, %d failed attempts, last error: %s)", c.ExternalID(), c.State,
				orNone(c.ClaimStep), c.ClaimUntil.Format(time.TimeOnly), c.Attempts, orNone(c.LastError))
		}
	}
	return p.verdict("nothing lost, live",
		fmt.Sprintf("UNKNOWN left: %d", statuses[batch.RowUnknown]),
		"items "+describeCounts(statuses),
		"chunks "+batch.DescribeChunkStates(ev.b.Chunks))
}

// nothingFinalWhileMoving: the batch's final status is neither FAILED (its payouts were
// authorized) nor NEEDS_RECONCILE, and no batch with an UNKNOWN chunk is final.
func nothingFinalWhileMoving(ev *evidence) verdict {
	var p problems
	b := ev.b
	switch {
	case b.Status == batch.StatusFailed:
		p.add("batch is FAILED although its payouts were authorized")
	case b.Status == batch.StatusNeedsReconcile:
		p.add("batch still NEEDS_RECONCILE at the end")
	case b.Chunks[batch.ChunkUnknown] > 0 && batch.FinalStatus(b.Status):
		p.add("batch is %s with %d UNKNOWN chunks", b.Status, b.Chunks[batch.ChunkUnknown])
	case b.Final && b.FinalAs != "" && b.FinalAs != b.Status:
		p.add("batch recorded final as %s, its chunks give %s", b.FinalAs, b.Status)
	}
	return p.verdict("nothing final while money may move",
		fmt.Sprintf("status %s, final %v (as %s), report written for %s", b.Status, b.Final, orNone(b.FinalAs), orNone(b.ReportStatus)))
}

func maxSum(m map[string]int) (mx, sum int) {
	for _, n := range m {
		mx = max(mx, n)
		sum += n
	}
	return mx, sum
}

func describeInts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func describeCounts(m map[string]int) string {
	var parts []string
	for _, st := range batch.StatusesOf(m) {
		if m[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[st], st))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
