package batch

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/masspayout/masspayout/payoutfile"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
)

// ReportColumns are the report CSV's columns, in the contract's order (DESIGN.md §6).
var ReportColumns = []string{
	"row", "item_external_id", "recipient_type", "recipient_info_masked", "amount", "currency",
	"status", "error_code", "error_message", "external_id", "request_id", "reference_code",
	"commission_amount",
}

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

func (r *ReportRow) record(buf []string) []string {
	return append(buf[:0],
		strconv.Itoa(r.Row), safeCell(r.ItemExternalID), safeCell(r.RecipientType), safeCell(r.RecipientInfoMasked),
		safeCell(r.Amount), safeCell(r.Currency), safeCell(r.Status), safeCell(r.ErrorCode), safeCell(r.ErrorMessage),
		safeCell(r.ExternalID), safeCell(r.RequestID), safeCell(r.ReferenceCode), safeCell(r.CommissionAmount))
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

// reportWindow is how many chunks the report reads per round trip.
const reportWindow = 16

// Rows calls fn for every row of the batch's file in row order: rejected rows from the ledger's
// rejected pages, the others from their chunks with their latest outcome.
func (s *Store) Rows(ctx context.Context, batchID string, fn func(*ReportRow) error) error {
	b, err := s.Get(ctx, batchID)
	if err != nil {
		return err
	}
	rej := &rejectedIter{s: s, ctx: ctx, id: batchID, pages: (b.Rejected + rejectedPageSize - 1) / rejectedPageSize}
	if !b.SubmitDone {
		rej.pages = 1 << 30 // read pages until one is missing
	}
	emitRejectedBefore := func(row int) error {
		for {
			r, err := rej.peek()
			if err != nil || r == nil || (row > 0 && r.Row > row) {
				return err
			}
			rej.pop()
			if err := fn(rejectedReportRow(r)); err != nil {
				return err
			}
		}
	}
	var out ReportRow
	var window []*Chunk // chunks are read a window at a time, in one round trip each
	for seq := 1; seq <= b.ChunksSeen; seq++ {
		if len(window) == 0 {
			if window, err = s.getChunks(ctx, batchID, seq, min(seq+reportWindow-1, b.ChunksSeen)); err != nil {
				return err
			}
		}
		c := window[0]
		window = window[1:]
		items, err := c.ReportItems()
		if err != nil {
			return err
		}
		statuses := c.Statuses()
		extID := c.ExternalID()
		for i := range items {
			if err := emitRejectedBefore(c.Rows[i]); err != nil {
				return err
			}
			var oc Outcome
			if i < len(c.Outcomes) {
				oc = c.Outcomes[i]
			}
			it := &items[i]
			out = ReportRow{
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
			if err := fn(&out); err != nil {
				return err
			}
		}
	}
	return emitRejectedBefore(0)
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
// own rows, so its totals over all statuses equal the file's (DESIGN.md §7, conservation).
type Summary struct {
	Batch       string        `json:"batch"`
	Status      string        `json:"status"`
	Rows        int           `json:"rows"`
	GeneratedAt time.Time     `json:"generated_at"`
	ByStatus    []StatusTotal `json:"by_status"`
	// Totals are the amounts of every row whose amount could be read, per currency.
	Totals map[string]string `json:"totals"`
	// Commission is the commission iyzico reported, per currency.
	Commission map[string]string `json:"commission,omitempty"`
	// Unreadable counts rejected rows whose amount could not be read (left out of Totals).
	Unreadable int `json:"unreadable_amounts,omitempty"`
}

// StatusTotal is the rows and amount per currency of one status.
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
	unreadable int
}

func newSummer() *summer {
	return &summer{counts: map[string]int{}, amounts: map[string]map[string]*sum{}, totals: map[string]*sum{}, commission: map[string]*sum{}}
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
	if r.CommissionAmount != "" {
		sumOf(s.commission, r.Currency).add(r.CommissionAmount)
	}
}

func (s *summer) summary(batchID, status string, at time.Time) *Summary {
	sum := &Summary{Batch: batchID, Status: status, Rows: s.rows, GeneratedAt: at, Totals: formatSums(s.totals), Unreadable: s.unreadable}
	if len(s.commission) > 0 {
		sum.Commission = formatSums(s.commission)
	}
	for _, st := range StatusesOf(s.counts) {
		sum.ByStatus = append(sum.ByStatus, StatusTotal{Status: st, Rows: s.counts[st], Amounts: formatSums(s.amounts[st])})
	}
	return sum
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
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(ReportColumns); err != nil {
		return nil, err
	}
	sum := newSummer()
	rec := make([]string, 0, len(ReportColumns))
	err = s.Rows(ctx, batchID, func(r *ReportRow) error {
		sum.add(r)
		rec = r.record(rec)
		return cw.Write(rec)
	})
	if err != nil {
		return nil, fmt.Errorf("batch %s: report: %w", batchID, err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, fmt.Errorf("batch %s: write report: %w", batchID, err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("batch %s: write report: %w", batchID, err)
	}
	return sum.summary(batchID, b.Status, s.now().UTC()), nil
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
