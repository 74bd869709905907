package batch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/masspayout/masspayout/iyzico"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/masspayout/masspayout/payoutfile"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
)

// ReportColumns are the report CSV's columns, in the contract's order (DESIGN.md §6).
var ReportColumns = []string{
	"row", "item_external_id", "recipient_type", "recipient_info_masked", "amount", "currency",
	"status", "error_code", "error_message", "external_id", "request_id", "reference_code",
	"commission_amount", "paid",
}

// What the report's paid column says of a row.
const (
	PaidYes     = "yes"     // SUCCESS: the recipient was paid
	PaidNo      = "no"      // definitively not paid (rejected, invalid, refused, canceled, failed at the bank)
	PaidPending = "pending" // not paid yet, may still be (awaiting init, approval or the bank)
	PaidUnknown = "unknown" // UNKNOWN: iyzico may have acted on it; reconcile resolves it
)

// Paid is the paid column for a row status.
func Paid(status string) string {
	switch status {
	case "SUCCESS":
		return PaidYes
	case RowRejected, "INVALID", RowError, "MASS_PAYOUT_CANCELED", "FAILED", "DEPOSIT_SUCCESS", "DEPOSIT_FAIL":
		return PaidNo
	case RowUnknown:
		return PaidUnknown
	}
	return PaidPending
}

// NotPaidForGood reports whether a row with this status (in a chunk whose massPayoutStatus is
// payout) is definitively not paid: its money did not leave, or came back, and nothing will
// change that. DEPOSIT_FAIL (money neither paid nor back) and a FAILED that may still turn into
// DEPOSIT_FAIL are not: paying such a row again may pay it twice.
func NotPaidForGood(status, payout string) bool {
	if Paid(status) != PaidNo || status == iyzico.ItemDepositFail {
		return false
	}
	return status != iyzico.ItemFailed || iyzico.PayoutFinal(payout)
}

// paidOrder is the order the summary lists the paid classes in.
var paidOrder = []string{PaidYes, PaidNo, PaidPending, PaidUnknown}

// ReportRow is one row of the reconciliation report.
type ReportRow struct {
	Row                 int
	ItemExternalID      string
	RecipientType       string
	RecipientInfoMasked string
	Amount              string
	Currency            string
	Status              string
	ErrorCode           string
	ErrorMessage        string
	ExternalID          string
	RequestID           string
	ReferenceCode       string
	CommissionAmount    string
}

// appendCSV appends the row as one report CSV line, exactly as encoding/csv writes it.
func (r *ReportRow) appendCSV(b []byte) []byte {
	b = strconv.AppendInt(b, int64(r.Row), 10)
	for _, f := range [...]string{r.ItemExternalID, r.RecipientType, r.RecipientInfoMasked, r.Amount, r.Currency,
		r.Status, r.ErrorCode, r.ErrorMessage, r.ExternalID, r.RequestID, r.ReferenceCode, r.CommissionAmount} {
		b = append(b, ',')
		b = appendCSVField(b, safeCell(f))
	}
	b = append(b, ',')
	b = append(b, Paid(r.Status)...)
	return append(b, '\n')
}

// appendCSVField appends one field as encoding/csv's Writer does with a comma and LF line ends:
// quoted, with quotes doubled, when it holds a comma, quote, CR or LF, starts with a space, or is
// `\.`; as it is otherwise. The report writes a million rows, so it skips the Writer's per-rune
// work.
func appendCSVField(b []byte, f string) []byte {
	if !csvNeedsQuotes(f) {
		return append(b, f...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(f, '"')
		if i < 0 {
			break
		}
		b = append(b, f[:i+1]...)
		b = append(b, '"')
		f = f[i+1:]
	}
	b = append(b, f...)
	return append(b, '"')
}

func csvNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` {
		return true
	}
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	if f[0] < utf8.RuneSelf {
		return f[0] == ' ' || f[0] == '\t' || f[0] == '\v' || f[0] == '\f'
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

// safeCell neutralises a cell that a spreadsheet would run as a formula (OWASP CSV injection):
// a leading = + - @ tab or CR gets a single quote in front.
func safeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// reportWindowSize is how many chunks one report part holds (read in one round trip).
const reportWindowSize = 16

// reportLineGuess is about the length of a report line, to size a part's buffer once.
const reportLineGuess = 160

// reportPart is the report of a run of chunks: their CSV lines, in row order, and their totals.
type reportPart struct {
	rows  []int  // the file row of each line
	ends  []int  // where each row's text ends in lines (Sep follows, but for the last)
	lines []byte // the rendered rows
	sum   *summer
	err   error
}

// RowFormat renders report rows: Row appends one row to b (it is called from several goroutines
// at once), Sep is written between two rows.
type RowFormat struct {
	Row func(b []byte, r *ReportRow) []byte
	Sep string
}

// CSVRows is the report CSV's row format (the header is not a row).
var CSVRows = RowFormat{Row: func(b []byte, r *ReportRow) []byte { return r.appendCSV(b) }}

// buildReportPart reads chunks from..to and renders their rows, Sep between them.
func (s *Store) buildReportPart(ctx context.Context, batchID string, from, to int, f RowFormat) reportPart {
	chunks, err := s.getChunks(ctx, batchID, from, to)
	if err != nil {
		return reportPart{err: err}
	}
	n := 0
	for _, c := range chunks {
		n += len(c.Rows)
	}
	p := reportPart{sum: newSummer(), rows: make([]int, 0, n), ends: make([]int, 0, n), lines: make([]byte, 0, n*reportLineGuess)}
	var r ReportRow
	for _, c := range chunks {
		items, err := c.ReportItems()
		if err != nil {
			return reportPart{err: err}
		}
		statuses := c.Statuses()
		extID := c.ExternalID()
		for i := range items {
			var oc Outcome
			if i < len(c.Outcomes) {
				oc = c.Outcomes[i]
			}
			it := &items[i]
			r = ReportRow{
				Row:                 c.Rows[i],
				ItemExternalID:      it.ItemExternalID,
				RecipientType:       it.RecipientType,
				RecipientInfoMasked: it.RecipientInfo,
				Amount:              it.Amount,
				Currency:            it.Currency,
				Status:              statuses[i],
				ErrorCode:           oc.Code,
				ErrorMessage:        oc.Message,
				ExternalID:          extID,
				RequestID:           c.RequestID,
				ReferenceCode:       oc.Ref,
				CommissionAmount:    oc.Commission,
			}
			p.sum.add(&r)
			if len(p.rows) > 0 {
				p.lines = append(p.lines, f.Sep...)
			}
			p.lines = f.Row(p.lines, &r)
			p.rows = append(p.rows, r.Row)
			p.ends = append(p.ends, len(p.lines))
		}
	}
	return p
}

// reportParts renders chunks 1..n as parts on several goroutines and hands them over in order:
// each element of the returned channel is filled with its part when it is ready. The channel
// closes after the last part, or when ctx ends, once no rendering goroutine is left.
func (s *Store) reportParts(ctx context.Context, batchID string, n int, f RowFormat) <-chan chan reportPart {
	workers := max(2, runtime.GOMAXPROCS(0))
	order := make(chan chan reportPart, workers)
	go func() {
		var wg sync.WaitGroup
		defer func() {
			wg.Wait()
			close(order)
		}()
		busy := make(chan struct{}, workers)
		for seq := 1; seq <= n; seq += reportWindowSize {
			select {
			case busy <- struct{}{}:
			case <-ctx.Done():
				return
			}
			// Every part handed over gets filled, so a reader waiting on it never hangs.
			part := make(chan reportPart, 1)
			wg.Add(1)
			go func(from, to int) {
				defer wg.Done()
				part <- s.buildReportPart(ctx, batchID, from, to, f)
				<-busy
			}(seq, min(seq+reportWindowSize-1, n))
			select {
			case order <- part:
			case <-ctx.Done():
				return
			}
		}
	}()
	return order
}

func rejectedReportRow(r *RejectedRow) *ReportRow {
	return &ReportRow{
		Row:                 r.Row,
		ItemExternalID:      r.ItemExternalID,
		RecipientType:       r.RecipientType,
		RecipientInfoMasked: r.RecipientInfo,
		Amount:              r.Amount,
		Currency:            r.Currency,
		Status:              RowRejected,
		ErrorCode:           r.Code,
		ErrorMessage:        r.Message,
	}
}

type rejectedIter struct {
	s     *Store
	ctx   context.Context
	id    string
	pages int
	page  int
	buf   []RejectedRow
	pos   int
}

func (it *rejectedIter) peek() (*RejectedRow, error) {
	for it.pos >= len(it.buf) {
		if it.page >= it.pages {
			return nil, nil
		}
		raw, err := it.s.rdb.Get(it.ctx, rejectedKey(it.id, it.page)).Bytes()
		if err == redis.Nil {
			it.pages = it.page
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("batch %s: read rejected rows: %w", it.id, err)
		}
		it.buf, it.pos = it.buf[:0], 0
		if err := json.Unmarshal(raw, &it.buf); err != nil {
			return nil, fmt.Errorf("batch %s: rejected rows page %d: %w", it.id, it.page, err)
		}
		it.page++
	}
	return &it.buf[it.pos], nil
}

func (it *rejectedIter) pop() { it.pos++ }

// Summary is a report's totals: rows and amounts per status and currency, summed from the report's
// own rows, so its totals over all statuses equal the file's (DESIGN.md §7, conservation). It
// leads with what a payroll team asks first: paid, not paid, pending, unknown.
type Summary struct {
	Batch       string    `json:"batch"`
	Status      string    `json:"status"`
	Rows        int       `json:"rows"`
	GeneratedAt time.Time `json:"generated_at"`
	// Paid gives rows and amounts per currency for each value of the report's paid column, in the
	// order yes, no, pending, unknown (absent when no row has it).
	Paid     []StatusTotal `json:"paid"`
	ByStatus []StatusTotal `json:"by_status"`
	// Totals are the amounts of every row whose amount could be read, per currency.
	Totals map[string]string `json:"totals"`
	// Commission is what iyzico charged on the paid rows, per currency.
	Commission map[string]string `json:"commission,omitempty"`
	// CommissionRefunded is the commission of rows that failed and were refunded (DEPOSIT_SUCCESS).
	CommissionRefunded map[string]string `json:"commission_refunded,omitempty"`
	// Alarms are what needs a person now: rows whose money is neither paid nor back (DEPOSIT_FAIL),
	// rows whose outcome is UNKNOWN.
	Alarms []string `json:"alarms,omitempty"`
	// Unreadable counts rejected rows whose amount could not be read (left out of Totals).
	Unreadable int `json:"unreadable_amounts,omitempty"`
}

// StatusTotal is the rows and amount per currency of one status (or paid class).
type StatusTotal struct {
	Status  string            `json:"status"`
	Rows    int               `json:"rows"`
	Amounts map[string]string `json:"amounts"`
}

type summer struct {
	rows       int
	counts     map[string]int
	amounts    map[string]map[string]*sum
	totals     map[string]*sum
	commission map[string]*sum
	refunded   map[string]*sum
	unreadable int
}

func newSummer() *summer {
	return &summer{counts: map[string]int{}, amounts: map[string]map[string]*sum{}, totals: map[string]*sum{},
		commission: map[string]*sum{}, refunded: map[string]*sum{}}
}

func sumOf(m map[string]*sum, key string) *sum {
	s := m[key]
	if s == nil {
		s = &sum{}
		m[key] = s
	}
	return s
}

func (s *summer) add(r *ReportRow) {
	s.rows++
	s.counts[r.Status]++
	if s.amounts[r.Status] == nil {
		s.amounts[r.Status] = map[string]*sum{}
	}
	if r.Currency == "" || !sumOf(s.amounts[r.Status], r.Currency).add(r.Amount) {
		s.unreadable++
		return
	}
	sumOf(s.totals, r.Currency).add(r.Amount)
	if r.CommissionAmount == "" {
		return
	}
	switch r.Status {
	case "SUCCESS":
		sumOf(s.commission, r.Currency).add(r.CommissionAmount)
	case "DEPOSIT_SUCCESS":
		sumOf(s.refunded, r.Currency).add(r.CommissionAmount)
	}
}

// merge adds o's totals to s.
func (s *summer) merge(o *summer) {
	s.rows += o.rows
	s.unreadable += o.unreadable
	for st, n := range o.counts {
		s.counts[st] += n
	}
	for st, m := range o.amounts {
		if s.amounts[st] == nil {
			s.amounts[st] = map[string]*sum{}
		}
		mergeSums(s.amounts[st], m)
	}
	mergeSums(s.totals, o.totals)
	mergeSums(s.commission, o.commission)
	mergeSums(s.refunded, o.refunded)
}

func mergeSums(into, from map[string]*sum) {
	for cur, v := range from {
		sumOf(into, cur).merge(v)
	}
}

func (s *summer) summary(batchID, status string, at time.Time) *Summary {
	out := &Summary{Batch: batchID, Status: status, Rows: s.rows, GeneratedAt: at, Totals: formatSums(s.totals), Unreadable: s.unreadable}
	if len(s.commission) > 0 {
		out.Commission = formatSums(s.commission)
	}
	if len(s.refunded) > 0 {
		out.CommissionRefunded = formatSums(s.refunded)
	}
	paid := map[string]*StatusTotal{}
	paidSums := map[string]map[string]*sum{}
	for _, st := range StatusesOf(s.counts) {
		out.ByStatus = append(out.ByStatus, StatusTotal{Status: st, Rows: s.counts[st], Amounts: formatSums(s.amounts[st])})
		p := Paid(st)
		if paid[p] == nil {
			paid[p], paidSums[p] = &StatusTotal{Status: p}, map[string]*sum{}
		}
		paid[p].Rows += s.counts[st]
		mergeSums(paidSums[p], s.amounts[st])
	}
	for _, p := range paidOrder {
		if t := paid[p]; t != nil {
			t.Amounts = formatSums(paidSums[p])
			out.Paid = append(out.Paid, *t)
		}
	}
	out.Alarms = alarms(s.counts, func(st string) map[string]string { return formatSums(s.amounts[st]) })
	return out
}

// alarms words what needs a person now, from rows per status and amounts (per currency) of a status.
func alarms(counts map[string]int, amounts func(status string) map[string]string) []string {
	var out []string
	if n := counts["DEPOSIT_FAIL"]; n > 0 {
		out = append(out, fmt.Sprintf("%d %s DEPOSIT_FAIL (%s): failed at the bank and the refund failed too, so the money is neither paid nor back; ask iyzico support",
			n, plural(n, "row is", "rows are"), formatTotals(amounts("DEPOSIT_FAIL"))))
	}
	if n := counts[RowUnknown]; n > 0 {
		out = append(out, fmt.Sprintf("%d %s UNKNOWN (%s): iyzico may have paid them; do not pay them again until reconcile resolves them",
			n, plural(n, "row is", "rows are"), formatTotals(amounts(RowUnknown))))
	}
	return out
}

// PaidTotals gives the batch's rows and amounts per currency for each value of the report's paid
// column (yes, no, pending, unknown), from its counters: what the dashboard and the API lead with.
func (b *Batch) PaidTotals() []StatusTotal {
	rows := map[string]int{}
	amounts := map[string]map[string]decimal.Decimal{}
	for st, n := range b.Counts {
		p := Paid(st)
		rows[p] += n
		for cur, a := range b.Amounts[st] {
			if amounts[p] == nil {
				amounts[p] = map[string]decimal.Decimal{}
			}
			amounts[p][cur] = amounts[p][cur].Add(a)
		}
	}
	var out []StatusTotal
	for _, p := range paidOrder {
		if rows[p] == 0 {
			continue
		}
		t := StatusTotal{Status: p, Rows: rows[p], Amounts: map[string]string{}}
		for cur, a := range amounts[p] {
			t.Amounts[cur] = FormatAmount(a, cur)
		}
		out = append(out, t)
	}
	return out
}

// Alarms words what in the batch needs a person now (DEPOSIT_FAIL and UNKNOWN rows), from its
// counters.
func (b *Batch) Alarms() []string {
	return alarms(b.Counts, func(st string) map[string]string {
		m := map[string]string{}
		for cur, a := range b.Amounts[st] {
			m[cur] = FormatAmount(a, cur)
		}
		return m
	})
}

func formatSums(m map[string]*sum) map[string]string {
	out := make(map[string]string, len(m))
	for cur, a := range m {
		out[cur] = FormatAmount(a.value(), cur)
	}
	return out
}

// FormatAmount prints an amount with its currency's minor-unit digits (100.5 TRY → 100.50),
// keeping any extra digits it has.
func FormatAmount(a decimal.Decimal, cur string) string {
	scale, ok := payoutfile.MinorUnits(cur)
	if !ok || -a.Exponent() > scale {
		return a.String()
	}
	return a.StringFixed(scale)
}

// WriteReport writes the batch's report CSV to w and returns its summary.
func (s *Store) WriteReport(ctx context.Context, batchID string, w io.Writer) (*Summary, error) {
	b, err := s.Get(ctx, batchID)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	if _, err := bw.WriteString(strings.Join(ReportColumns, ",") + "\n"); err != nil {
		return nil, fmt.Errorf("batch %s: write report: %w", batchID, err)
	}
	sum, err := s.WriteRows(ctx, b, bw, CSVRows)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, fmt.Errorf("batch %s: report: %w", batchID, err)
	}
	return sum, nil
}

// WriteRows writes every row of batch b's file to w in row order, rendered by f: rejected rows
// from the ledger's rejected pages, the others from their chunks with their latest outcome. It
// returns the rows' summary. Chunks are read and rendered on several goroutines.
func (s *Store) WriteRows(ctx context.Context, b *Batch, w io.Writer, f RowFormat) (*Summary, error) {
	rej := &rejectedIter{s: s, ctx: ctx, id: b.ID, pages: (b.Rejected + rejectedPageSize - 1) / rejectedPageSize}
	if !b.SubmitDone {
		rej.pages = 1 << 30 // read pages until one is missing
	}
	sum := newSummer()
	wrote := false
	write := func(text []byte) error {
		if len(text) == 0 {
			return nil
		}
		if wrote && f.Sep != "" {
			if _, err := io.WriteString(w, f.Sep); err != nil {
				return err
			}
		}
		wrote = true
		_, err := w.Write(text)
		return err
	}
	var line []byte
	// writeRejectedBefore writes the rejected rows before file row `row` (all that are left for 0).
	writeRejectedBefore := func(row int) error {
		for {
			r, err := rej.peek()
			if err != nil || r == nil || (row > 0 && r.Row > row) {
				return err
			}
			rej.pop()
			rr := rejectedReportRow(r)
			sum.add(rr)
			line = f.Row(line[:0], rr)
			if err := write(line); err != nil {
				return err
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	parts := s.reportParts(ctx, b.ID, b.ChunksSeen, f)
	defer func() {
		cancel()
		for range parts { // let the rendering goroutines end before returning
		}
	}()
	for next := range parts {
		p := <-next
		if p.err != nil {
			return nil, p.err
		}
		sum.merge(p.sum)
		// Write the part's text, breaking it where rejected rows go in between.
		from := 0
		for i, row := range p.rows {
			r, err := rej.peek()
			if err != nil {
				return nil, err
			}
			if r == nil || r.Row > p.rows[len(p.rows)-1] {
				break // no rejected row among this part's rows
			}
			if r.Row > row {
				continue
			}
			if i > 0 {
				if err := write(p.lines[from:p.ends[i-1]]); err != nil {
					return nil, err
				}
				from = p.ends[i-1] + len(f.Sep)
			}
			if err := writeRejectedBefore(row); err != nil {
				return nil, err
			}
		}
		if err := write(p.lines[from:]); err != nil {
			return nil, err
		}
	}
	if err := writeRejectedBefore(0); err != nil {
		return nil, err
	}
	return sum.summary(b.ID, b.Status, s.now().UTC()), nil
}

// Summary computes the batch's report summary without writing the report.
func (s *Store) Summary(ctx context.Context, batchID string) (*Summary, error) {
	return s.WriteReport(ctx, batchID, io.Discard)
}

// WriteReportFiles writes <dir>/<batch>.csv and <dir>/<batch>.json (the summary) atomically (a
// temporary file renamed into place) and returns the CSV path and the summary.
func (s *Store) WriteReportFiles(ctx context.Context, batchID, csvPath string) (string, *Summary, error) {
	if err := os.MkdirAll(filepath.Dir(csvPath), 0o750); err != nil {
		return "", nil, fmt.Errorf("report directory: %w", err)
	}
	var sum *Summary
	err := writeAtomic(csvPath, func(w io.Writer) error {
		var err error
		sum, err = s.WriteReport(ctx, batchID, w)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	jsonPath := csvPath[:len(csvPath)-len(filepath.Ext(csvPath))] + ".json"
	err = writeAtomic(jsonPath, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	})
	if err != nil {
		return "", nil, err
	}
	return csvPath, sum, nil
}

func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteAtomic writes a file through write into a temporary file beside path and renames it into
// place, so that a reader never sees half of it.
func WriteAtomic(path string, write func(io.Writer) error) error { return writeAtomic(path, write) }
