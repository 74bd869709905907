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
	"strings"

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
	jsonOut := fs.Bool("json", false, `print one JSON object per problem ({"row","column","code","message"} and, where known, "line", "cell", "item_external_id"), then a {"summary": …} object`)
	decimalComma := fs.Bool("decimal-comma", false, "amounts use a decimal comma, like 1.234,56 (Turkish Excel exports)")
	format := fs.String("format", "", "csv, jsonl, json or xlsx (default: from the file name's extension)")
	currencies := fs.String("currencies", strings.Join(payoutfile.DefaultCurrencies(), ","), "comma-separated currencies to accept")
	maxRows := fs.Int("max-rows", payoutfile.DefaultMaxRows, "refuse files with more rows than this")
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, "usage: masspayout validate [flags] FILE\n\n"+
			"Checks every row of FILE (CSV, JSON Lines, JSON or XLSX; - reads standard input and needs\n"+
			"--format) without submitting anything, prints every problem and a summary. Amounts above\n"+
			"MAX_ITEM_AMOUNT (default 10000000.00) are rejected with AMOUNT_TOO_LARGE, as on submission.\n"+
			"Problems name the row, its line (CSV) or cell (XLSX) and its item_external_id. Valid rows\n"+
			"paying one recipient more than once are listed as warnings, which do not change the exit status.\n"+
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
	// payoutfile.Validate is the dry run the API's POST /v1/validations runs too.
	sum, err := payoutfile.Validate(ctx, in, opts, p.problem)
	sum.File = name
	if sum.FileError != nil || (err != nil && !errors.Is(err, ctx.Err())) {
		return fileError(p, out, sum, err)
	}
	if err != nil {
		return err
	}
	sum.WarnPurpose(iyzico.Purposes)
	p.summary(sum)
	if err := out.Flush(); err != nil {
		return fmt.Errorf("validate: write output: %w", err)
	}
	if sum.Rejected > 0 {
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

// fileError reports a file-level error (or an I/O error) and returns it with exit status 2.
func fileError(p problemPrinter, out *bufio.Writer, s *payoutfile.Report, err error) error {
	fe := s.FileError
	if fe == nil {
		out.Flush()
		return withExit(exitUsage, fmt.Errorf("validate %s: %w", s.File, err))
	}
	p.fileError(fe)
	p.summary(s)
	out.Flush()
	return withExit(exitUsage, fmt.Errorf("validate %s: %s [%s]", s.File, fe.Message, fe.Code))
}

// problemPrinter writes problems as they are found and the summary at the end.
type problemPrinter interface {
	problem(payoutfile.RowError)
	fileError(*payoutfile.FileError)
	summary(*payoutfile.Report)
}

type textProblems struct {
	w *bufio.Writer
}

func (t *textProblems) problem(e payoutfile.RowError) {
	fmt.Fprintf(t.w, "%s [%s]\n", e.Message, e.Code)
}

// fileError prints nothing: the message goes to standard error as the command's error.
func (t *textProblems) fileError(*payoutfile.FileError) {}

func (t *textProblems) summary(s *payoutfile.Report) {
	w := t.w
	if s.Rows > 0 || s.FileError == nil {
		fmt.Fprintf(w, "\n%s (%s): %s, %d valid, %d rejected\n", s.File, s.Format, plural(s.Rows, "row"), s.Valid, s.Rejected)
	}
	if d := s.Defaults; d != (payoutfile.BatchDefaults{}) {
		fmt.Fprintf(w, "batch fields: externalId %q, conversationId %q, purpose %q\n", d.ExternalID, d.ConversationID, d.Purpose)
	}
	if len(s.RejectedByCode) > 0 {
		fmt.Fprintln(w, "rejected rows by problem:")
		for _, c := range s.Codes() {
			fmt.Fprintf(w, "  %-28s %d\n", c, s.RejectedByCode[c])
		}
	}
	// The payable total holds the valid rows alone; rejected rows' amounts, in whatever currency
	// they name, are listed apart and never added to it.
	var payable, rejected []string
	for _, c := range s.Currencies() {
		tot := s.Totals[c]
		if tot.ValidRows > 0 {
			payable = append(payable, fmt.Sprintf("  %-4s %s (%s)", c, payoutfile.ExactAmount(tot.Valid, c), plural(tot.ValidRows, "row")))
		}
		if tot.RejectedRows > 0 {
			rejected = append(rejected, fmt.Sprintf("  %-4s %s (%s)", c, payoutfile.ExactAmount(tot.Rejected, c), plural(tot.RejectedRows, "row")))
		}
	}
	if s.Rows > 0 {
		if len(payable) == 0 {
			fmt.Fprintln(w, "payable total (valid rows): nothing")
		} else {
			fmt.Fprintln(w, "payable total (valid rows):")
			fmt.Fprintln(w, strings.Join(payable, "\n"))
		}
	}
	if len(rejected) > 0 || s.RejectedWithoutAmount > 0 {
		fmt.Fprintln(w, "rejected rows, not payable and not in the total above:")
		if len(rejected) > 0 {
			fmt.Fprintln(w, strings.Join(rejected, "\n"))
		}
	}
	if s.RejectedWithoutAmount > 0 {
		fmt.Fprintf(w, "  %s without a readable amount or currency\n", plural(s.RejectedWithoutAmount, "rejected row"))
	}
	for _, warning := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
	switch {
	case s.FileError != nil && s.Rows > 0:
		fmt.Fprintf(w, "stopped: the file cannot be read past row %d (%s); fix that first\n", s.Rows, s.FileError.Code)
	case s.FileError != nil:
	case s.Rejected == 0 && s.Rows == 1:
		fmt.Fprintln(w, "the row is valid")
	case s.Rejected == 0:
		fmt.Fprintf(w, "all %d rows are valid\n", s.Rows)
	case s.Rejected == 1:
		fmt.Fprintln(w, "1 row is invalid: fix it in the file and run validate again")
	default:
		fmt.Fprintf(w, "%d rows are invalid: fix them in the file and run validate again\n", s.Rejected)
	}
}

type jsonProblems struct {
	enc *json.Encoder
}

func newJSONProblems(w io.Writer) *jsonProblems {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonProblems{enc: enc}
}

func (j *jsonProblems) problem(e payoutfile.RowError) { j.enc.Encode(payoutfile.ProblemOf(e)) }

// fileError prints the file's problem as one more problem object.
func (j *jsonProblems) fileError(fe *payoutfile.FileError) { j.enc.Encode(payoutfile.FileProblem(fe)) }

// summary prints {"summary": …}: payoutfile.Report's JSON form.
func (j *jsonProblems) summary(s *payoutfile.Report) {
	j.enc.Encode(struct {
		Summary *payoutfile.Report `json:"summary"`
	}{s})
}

// plural writes n and noun, adding "s" unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
