package payoutfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// Report is what Validate found in a file: rows, valid and rejected, the rejected rows per code,
// amounts per currency, warnings and the file error that stopped reading. Its JSON form is the
// summary of "masspayout validate --json" and of the API's POST /v1/validations: one shape, made
// here, so that the two cannot drift.
type Report struct {
	File   string // the file's name, for display; set by the caller
	Format Format
	Rows   int
	Valid  int
	// Rejected counts the invalid rows; RejectedByCode counts them per code (a row with two
	// problems of one code counts once for it).
	Rejected       int
	RejectedByCode map[string]int
	// Totals are the amounts per currency of the rows whose amount and currency could be read.
	Totals map[string]*CurrencyTotal
	// RejectedWithoutAmount counts rejected rows whose amount or currency could not be read: they
	// are in no total.
	RejectedWithoutAmount int
	// Warnings are the file's warnings (Reader.Warnings) and, after them, one per recipient that
	// several valid rows pay (see Repeats).
	Warnings []string
	// Repeats lists, in the order of their first rows, the recipients that more than one valid
	// row pays: at most 100, each with at most 20 rows. RepeatedRows counts the rows warned about
	// (CodeDuplicateRecipient: every such row but the first of its recipient), RepeatedRowsUnlisted
	// those of recipients past the first 100. They are warnings: the rows are valid.
	Repeats              []RecipientRepeat
	RepeatedRows         int
	RepeatedRowsUnlisted int
	repeatIndex          map[int]int // first row → index in Repeats
	// Defaults are a JSON file's batch-level fields (zero for other formats).
	Defaults BatchDefaults
	// FileError, when set, stopped the reading: the counts cover the rows before it.
	FileError *FileError
}

// CurrencyTotal is the rows and amount of one currency, valid and rejected apart.
type CurrencyTotal struct {
	ValidRows, RejectedRows int
	Valid, Rejected         decimal.Decimal
}

// Validate reads every row of in with o, without submitting anything, calls problem (when not
// nil) for each row problem in file order as it is found, and returns the Report. A file that
// cannot be read, or stops being readable, returns the Report so far with FileError set and that
// *FileError as the error; another error (an I/O error, ctx ending) returns it with the Report so
// far.
func Validate(ctx context.Context, in io.Reader, o Options, problem func(RowError)) (*Report, error) {
	rep := &Report{Format: o.Format, RejectedByCode: map[string]int{}, Totals: map[string]*CurrencyTotal{}}
	r, err := NewReader(in, o)
	if err != nil {
		return rep, rep.stop(err)
	}
	defer r.Close()
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return rep, ctx.Err()
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			rep.Warnings = append(r.Warnings(), rep.repeatWarnings()...)
			return rep, rep.stop(err)
		}
		rep.add(&rec)
		rep.addRepeat(&rec, r.LineOf)
		if problem != nil {
			for _, e := range rec.Errors {
				problem(e)
			}
		}
	}
	rep.Warnings = append(r.Warnings(), rep.repeatWarnings()...)
	rep.Defaults = r.Defaults()
	return rep, nil
}

// Problem is the JSON form of one problem in validate --json and POST /v1/validations:
// {"row","column","code","message"}, column "" for the whole row or file, then where the row is
// when known: "line" (RowError.Line), "cell" (XLSX) and "item_external_id".
type Problem struct {
	Row            int    `json:"row"`
	Column         string `json:"column"`
	Code           string `json:"code"`
	Message        string `json:"message"`
	Line           int    `json:"line,omitempty"`
	Cell           string `json:"cell,omitempty"`
	ItemExternalID string `json:"item_external_id,omitempty"`
}

// ProblemOf is e as a Problem.
func ProblemOf(e RowError) Problem {
	return Problem{e.Row, e.Column, e.Code, e.Message, e.Line, e.Cell, e.ItemExternalID}
}

// FileProblem is a file error as a Problem: the last one of a file that stops being readable.
func FileProblem(fe *FileError) Problem {
	return Problem{Row: fe.Row, Code: fe.Code, Message: fe.Message}
}

// stop records a *FileError in the report and returns err.
func (rep *Report) stop(err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		rep.FileError = fe
	}
	return err
}

// WarnPurpose adds a warning when a JSON file's purpose is not one of accepted (iyzico's
// purposes): a submission of the file would be refused.
func (rep *Report) WarnPurpose(accepted []string) {
	if p := rep.Defaults.Purpose; p != "" && !slices.Contains(accepted, p) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("purpose %q is not one iyzico accepts (%s); a submission of this file will be refused",
			p, strings.Join(accepted, ", ")))
	}
}

func (rep *Report) total(cur string) *CurrencyTotal {
	t := rep.Totals[cur]
	if t == nil {
		t = &CurrencyTotal{}
		rep.Totals[cur] = t
	}
	return t
}

func (rep *Report) add(rec *Record) {
	rep.Rows++
	it := &rec.Item
	if rec.Valid() {
		rep.Valid++
		t := rep.total(it.Currency)
		t.ValidRows++
		t.Valid = t.Valid.Add(it.Amount)
		return
	}
	rep.Rejected++
	seen := map[string]bool{}
	for _, e := range rec.Errors {
		if !seen[e.Code] {
			seen[e.Code] = true
			rep.RejectedByCode[e.Code]++
		}
	}
	if !rec.AmountOK || it.Currency == "" {
		rep.RejectedWithoutAmount++
		return
	}
	t := rep.total(it.Currency)
	t.RejectedRows++
	t.Rejected = t.Rejected.Add(it.Amount)
}

// Currencies returns the currencies of Totals in order.
func (rep *Report) Currencies() []string { return sortedKeys(rep.Totals) }

// Codes returns the codes of RejectedByCode in order.
func (rep *Report) Codes() []string { return sortedKeys(rep.RejectedByCode) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ExactAmount formats d with the currency's decimals, or more when d has more: never rounded.
// An unknown currency gets 2.
func ExactAmount(d decimal.Decimal, currency string) string {
	scale, ok := MinorUnits(currency)
	if !ok {
		scale = 2
	}
	if -d.Exponent() > scale {
		scale = -d.Exponent()
	}
	return d.StringFixed(scale)
}

// MarshalJSON writes the report as validate --json's summary: {"file","format","rows","valid",
// "rejected","rejected_by_code","totals":{CUR:{"valid_rows","valid_amount","rejected_rows",
// "rejected_amount"}},"payable":{CUR:{"rows","amount"}},"rejected_amounts":{CUR:{"rows","amount"}},
// "rejected_without_amount","warnings","duplicate_recipients":[{"recipient_type","recipient",
// "rows","lines"?,"row_count"}],"duplicate_recipient_rows","duplicate_recipient_rows_unlisted",
// "batch"?,"file_error"?}, amounts as JSON numbers with their exact digits. "payable" holds the
// valid rows alone, the amount the batch would pay; "rejected_amounts" the rejected rows, in
// currencies that may not even be accepted.
func (rep *Report) MarshalJSON() ([]byte, error) {
	type total struct {
		ValidRows      int         `json:"valid_rows"`
		ValidAmount    json.Number `json:"valid_amount"`
		RejectedRows   int         `json:"rejected_rows"`
		RejectedAmount json.Number `json:"rejected_amount"`
	}
	type amount struct {
		Rows   int         `json:"rows"`
		Amount json.Number `json:"amount"`
	}
	type repeat struct {
		RecipientType string `json:"recipient_type"`
		Recipient     string `json:"recipient"`
		Rows          []int  `json:"rows"`
		Lines         []int  `json:"lines,omitempty"`
		RowCount      int    `json:"row_count"`
	}
	type batchFields struct {
		ExternalID     string `json:"externalId"`
		ConversationID string `json:"conversationId"`
		Purpose        string `json:"purpose"`
	}
	type summary struct {
		File                  string            `json:"file"`
		Format                string            `json:"format"`
		Rows                  int               `json:"rows"`
		Valid                 int               `json:"valid"`
		Rejected              int               `json:"rejected"`
		RejectedByCode        map[string]int    `json:"rejected_by_code"`
		Totals                map[string]total  `json:"totals"`
		Payable               map[string]amount `json:"payable"`
		RejectedAmounts       map[string]amount `json:"rejected_amounts"`
		RejectedWithoutAmount int               `json:"rejected_without_amount"`
		Warnings              []string          `json:"warnings"`
		Repeats               []repeat          `json:"duplicate_recipients"`
		RepeatedRows          int               `json:"duplicate_recipient_rows"`
		RepeatedRowsUnlisted  int               `json:"duplicate_recipient_rows_unlisted"`
		Batch                 *batchFields      `json:"batch,omitempty"`
		FileError             string            `json:"file_error,omitempty"`
	}
	out := summary{File: rep.File, Format: string(rep.Format), Rows: rep.Rows, Valid: rep.Valid, Rejected: rep.Rejected,
		RejectedByCode: rep.RejectedByCode, Totals: map[string]total{}, RejectedWithoutAmount: rep.RejectedWithoutAmount, Warnings: rep.Warnings}
	if out.RejectedByCode == nil {
		out.RejectedByCode = map[string]int{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	out.Payable, out.RejectedAmounts = map[string]amount{}, map[string]amount{}
	for c, t := range rep.Totals {
		out.Totals[c] = total{t.ValidRows, json.Number(ExactAmount(t.Valid, c)), t.RejectedRows, json.Number(ExactAmount(t.Rejected, c))}
		if t.ValidRows > 0 {
			out.Payable[c] = amount{t.ValidRows, json.Number(ExactAmount(t.Valid, c))}
		}
		if t.RejectedRows > 0 {
			out.RejectedAmounts[c] = amount{t.RejectedRows, json.Number(ExactAmount(t.Rejected, c))}
		}
	}
	out.Repeats, out.RepeatedRows, out.RepeatedRowsUnlisted = []repeat{}, rep.RepeatedRows, rep.RepeatedRowsUnlisted
	for _, r := range rep.Repeats {
		out.Repeats = append(out.Repeats, repeat{r.RecipientType, r.Recipient, r.Rows, r.Lines, r.RowCount})
	}
	if d := rep.Defaults; d != (BatchDefaults{}) {
		out.Batch = &batchFields{d.ExternalID, d.ConversationID, d.Purpose}
	}
	if rep.FileError != nil {
		out.FileError = rep.FileError.Code
	}
	// The caller's encoder decides on HTML escaping (it compacts what this returns, escaping
	// as it is set to), so nothing is escaped here.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
