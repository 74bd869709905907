package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/config"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
)

// cmdValidate checks every row of a payout file without submitting anything and prints every
// problem and a summary. Exit status: 0 all rows valid, 1 some rows invalid, 2 bad usage or a file
// that cannot be read (empty, binary, wrong header, over a limit, broken structure).
func cmdValidate(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	jsonOut := fs.Bool("json", false, `print one JSON object per problem ({"row","column","code","message"}), then a {"summary": …} object`)
	decimalComma := fs.Bool("decimal-comma", false, "amounts use a decimal comma, like 1.234,56 (Turkish Excel exports)")
	format := fs.String("format", "", "csv, jsonl, json or xlsx (default: from the file name's extension)")
	currencies := fs.String("currencies", strings.Join(payoutfile.DefaultCurrencies(), ","), "comma-separated currencies to accept")
	maxRows := fs.Int("max-rows", payoutfile.DefaultMaxRows, "refuse files with more rows than this")
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, "usage: masspayout validate [flags] FILE\n\n"+
			"Checks every row of FILE (CSV, JSON Lines, JSON or XLSX; - reads standard input and needs\n"+
			"--format) without submitting anything, prints every problem and a summary. Amounts above\n"+
			"MAX_ITEM_AMOUNT (default 10000000.00) are rejected with AMOUNT_TOO_LARGE, as on submission.\n"+
			"Exit status: 0 all rows valid, 1 some rows invalid, 2 the file cannot be read.\n\nflags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	args, err := validateArgs(fs, e.args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(e.stdout)
		return errors.Join(flag.ErrHelp, errSilent) // exit 0, nothing more to print
	case err != nil:
		printUsage(e.stderr)
		return withExit(exitUsage, fmt.Errorf("validate: %w", err))
	case len(args) != 1:
		printUsage(e.stderr)
		return usageErrorf("validate: give exactly one FILE (or - for standard input), got %d arguments", len(args))
	}
	name := args[0]
	// The configuration gives the limits a submission applies (MAX_ITEM_AMOUNT), so that a file
	// validate passes is not refused on submit.
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("configuration: %w", err))
	}

	opts := payoutfile.Options{DecimalComma: *decimalComma, MaxRows: *maxRows, MaxAmount: cfg.MaxItemAmount}
	for _, c := range strings.Split(*currencies, ",") {
		if c = strings.TrimSpace(c); c != "" {
			opts.Currencies = append(opts.Currencies, c)
		}
	}
	if len(opts.Currencies) == 0 {
		return usageErrorf("validate: --currencies is empty; give codes such as TRY,USD,EUR")
	}
	if *maxRows < 1 {
		return usageErrorf("validate: --max-rows %d: want 1 or more", *maxRows)
	}
	switch {
	case *format != "":
		opts.Format, err = payoutfile.ParseFormat(*format)
	case name == "-":
		err = errors.New("standard input needs --format csv|jsonl|json|xlsx")
	default:
		opts.Format, err = payoutfile.FormatFromName(name)
	}
	if err != nil {
		return usageErrorf("validate: %v", err)
	}

	var in io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return withExit(exitUsage, fmt.Errorf("validate: %w; check the file name", err))
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return usageErrorf("validate: %s is a directory; give a payout file", name)
		}
		in = f
	}

	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	var p problemPrinter = &textProblems{w: out}
	if *jsonOut {
		p = newJSONProblems(out)
	}
	sum := newValidateSummary(name, opts.Format)

	r, err := payoutfile.NewReader(in, opts)
	if err != nil {
		return sum.fileError(p, out, name, err)
	}
	defer r.Close()
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			sum.warnings = r.Warnings()
			return sum.fileError(p, out, name, err)
		}
		sum.add(&rec)
		for _, re := range rec.Errors {
			p.problem(re)
		}
	}
	sum.warnings = r.Warnings()
	sum.defaults = r.Defaults()
	if pp := sum.defaults.Purpose; pp != "" && !slices.Contains(iyzico.Purposes, pp) {
		sum.warnings = append(sum.warnings, fmt.Sprintf("purpose %q is not one iyzico accepts (%s); a submission of this file will be refused",
			pp, strings.Join(iyzico.Purposes, ", ")))
	}
	p.summary(sum)
	if err := out.Flush(); err != nil {
		return fmt.Errorf("validate: write output: %w", err)
	}
	if sum.rejected > 0 {
		return silentExit(exitFailed)
	}
	return nil
}

// validateArgs parses flags given before or after the positional arguments.
func validateArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// validateSummary accumulates what validate reports at the end.
type validateSummary struct {
	file, format     string
	rows, valid      int
	rejected         int
	byCode           map[string]int // rows rejected with each code
	totals           map[string]*currencyTotal
	rejectedNoAmount int // rejected rows whose amount or currency could not be read
	warnings         []string
	defaults         payoutfile.BatchDefaults // JSON files only
	fileErr          *payoutfile.FileError
}

type currencyTotal struct {
	validRows, rejectedRows int
	valid, rejected         decimal.Decimal
}

func newValidateSummary(file string, f payoutfile.Format) *validateSummary {
	return &validateSummary{file: file, format: string(f), byCode: map[string]int{}, totals: map[string]*currencyTotal{}}
}

func (s *validateSummary) total(cur string) *currencyTotal {
	t := s.totals[cur]
	if t == nil {
		t = &currencyTotal{}
		s.totals[cur] = t
	}
	return t
}

func (s *validateSummary) add(rec *payoutfile.Record) {
	s.rows++
	it := &rec.Item
	if rec.Valid() {
		s.valid++
		t := s.total(it.Currency)
		t.validRows++
		t.valid = t.valid.Add(it.Amount)
		return
	}
	s.rejected++
	seen := map[string]bool{}
	for _, e := range rec.Errors {
		if !seen[e.Code] {
			seen[e.Code] = true
			s.byCode[e.Code]++
		}
	}
	if !rec.AmountOK || it.Currency == "" {
		s.rejectedNoAmount++
		return
	}
	t := s.total(it.Currency)
	t.rejectedRows++
	t.rejected = t.rejected.Add(it.Amount)
}

// fileError reports a file-level error and returns it with exit status 2.
func (s *validateSummary) fileError(p problemPrinter, out *bufio.Writer, name string, err error) error {
	var fe *payoutfile.FileError
	if !errors.As(err, &fe) {
		out.Flush()
		return withExit(exitUsage, fmt.Errorf("validate %s: %w", name, err))
	}
	s.fileErr = fe
	p.fileError(fe)
	p.summary(s)
	out.Flush()
	return withExit(exitUsage, fmt.Errorf("validate %s: %s [%s]", name, fe.Message, fe.Code))
}

func (s *validateSummary) currencies() []string {
	curs := make([]string, 0, len(s.totals))
	for c := range s.totals {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	return curs
}

func (s *validateSummary) codes() []string {
	codes := make([]string, 0, len(s.byCode))
	for c := range s.byCode {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}

// exactAmount formats d with the currency's decimals, or more when d has more: never rounded.
func exactAmount(d decimal.Decimal, cur string) string {
	scale, ok := payoutfile.MinorUnits(cur)
	if !ok {
		scale = 2
	}
	if -d.Exponent() > scale {
		scale = -d.Exponent()
	}
	return d.StringFixed(scale)
}

// problemPrinter writes problems as they are found and the summary at the end.
type problemPrinter interface {
	problem(payoutfile.RowError)
	fileError(*payoutfile.FileError)
	summary(*validateSummary)
}

type textProblems struct {
	w *bufio.Writer
}

func (t *textProblems) problem(e payoutfile.RowError) {
	fmt.Fprintf(t.w, "%s [%s]\n", e.Message, e.Code)
}

// fileError prints nothing: the message goes to standard error as the command's error.
func (t *textProblems) fileError(*payoutfile.FileError) {}

func (t *textProblems) summary(s *validateSummary) {
	w := t.w
	if s.rows > 0 || s.fileErr == nil {
		fmt.Fprintf(w, "\n%s (%s): %s, %d valid, %d rejected\n", s.file, s.format, plural(s.rows, "row"), s.valid, s.rejected)
	}
	if d := s.defaults; d != (payoutfile.BatchDefaults{}) {
		fmt.Fprintf(w, "batch fields: externalId %q, conversationId %q, purpose %q\n", d.ExternalID, d.ConversationID, d.Purpose)
	}
	if len(s.byCode) > 0 {
		fmt.Fprintln(w, "rejected rows by problem:")
		for _, c := range s.codes() {
			fmt.Fprintf(w, "  %-28s %d\n", c, s.byCode[c])
		}
	}
	if len(s.totals) > 0 {
		fmt.Fprintln(w, "amounts:")
		for _, c := range s.currencies() {
			tot := s.totals[c]
			var parts []string
			if tot.validRows > 0 {
				parts = append(parts, fmt.Sprintf("valid %s (%s)", exactAmount(tot.valid, c), plural(tot.validRows, "row")))
			}
			if tot.rejectedRows > 0 {
				parts = append(parts, fmt.Sprintf("rejected %s (%s)", exactAmount(tot.rejected, c), plural(tot.rejectedRows, "row")))
			}
			fmt.Fprintf(w, "  %-4s %s\n", c, strings.Join(parts, ", "))
		}
	}
	if s.rejectedNoAmount > 0 {
		fmt.Fprintf(w, "  %s without a readable amount or currency, in no total\n", plural(s.rejectedNoAmount, "rejected row"))
	}
	for _, warning := range s.warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
	switch {
	case s.fileErr != nil && s.rows > 0:
		fmt.Fprintf(w, "stopped: the file cannot be read past row %d (%s); fix that first\n", s.rows, s.fileErr.Code)
	case s.fileErr != nil:
	case s.rejected == 0 && s.rows == 1:
		fmt.Fprintln(w, "the row is valid")
	case s.rejected == 0:
		fmt.Fprintf(w, "all %d rows are valid\n", s.rows)
	case s.rejected == 1:
		fmt.Fprintln(w, "1 row is invalid: fix it in the file and run validate again")
	default:
		fmt.Fprintf(w, "%d rows are invalid: fix them in the file and run validate again\n", s.rejected)
	}
}

// batchFields are a JSON file's batch-level values in the --json summary.
type batchFields struct {
	ExternalID     string `json:"externalId"`
	ConversationID string `json:"conversationId"`
	Purpose        string `json:"purpose"`
}

type jsonProblems struct {
	enc *json.Encoder
}

func newJSONProblems(w io.Writer) *jsonProblems {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonProblems{enc: enc}
}

func (j *jsonProblems) problem(e payoutfile.RowError) {
	j.enc.Encode(struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}{e.Row, e.Column, e.Code, e.Message})
}

// fileError prints the file's problem as one more problem object.
func (j *jsonProblems) fileError(fe *payoutfile.FileError) {
	j.problem(payoutfile.RowError{Row: fe.Row, Code: fe.Code, Message: fe.Message})
}

func (j *jsonProblems) summary(s *validateSummary) {
	type total struct {
		ValidRows      int         `json:"valid_rows"`
		ValidAmount    json.Number `json:"valid_amount"`
		RejectedRows   int         `json:"rejected_rows"`
		RejectedAmount json.Number `json:"rejected_amount"`
	}
	type summary struct {
		File                  string           `json:"file"`
		Format                string           `json:"format"`
		Rows                  int              `json:"rows"`
		Valid                 int              `json:"valid"`
		Rejected              int              `json:"rejected"`
		RejectedByCode        map[string]int   `json:"rejected_by_code"`
		Totals                map[string]total `json:"totals"`
		RejectedWithoutAmount int              `json:"rejected_without_amount"`
		Warnings              []string         `json:"warnings"`
		Batch                 *batchFields     `json:"batch,omitempty"`
		FileError             string           `json:"file_error,omitempty"`
	}
	out := summary{File: s.file, Format: s.format, Rows: s.rows, Valid: s.valid, Rejected: s.rejected,
		RejectedByCode: s.byCode, Totals: map[string]total{}, RejectedWithoutAmount: s.rejectedNoAmount, Warnings: s.warnings}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for c, t := range s.totals {
		out.Totals[c] = total{t.validRows, json.Number(exactAmount(t.valid, c)), t.rejectedRows, json.Number(exactAmount(t.rejected, c))}
	}
	if d := s.defaults; d != (payoutfile.BatchDefaults{}) {
		out.Batch = &batchFields{d.ExternalID, d.ConversationID, d.Purpose}
	}
	if s.fileErr != nil {
		out.FileError = s.fileErr.Code
	}
	j.enc.Encode(struct {
		Summary summary `json:"summary"`
	}{out})
}

// plural writes n and noun, adding "s" unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
