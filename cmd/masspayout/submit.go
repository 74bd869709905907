package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/config"
	"github.com/masspayout/masspayout/internal/callback"
	"github.com/masspayout/masspayout/payoutfile"
)

// submitFlags are the submission flags of run and enqueue (DESIGN.md §3).
type submitFlags struct {
	batchID      string
	purpose      string
	format       string
	decimalComma bool
	chunkSize    int
	callbackURL  string
	as           string
	allowDup     bool
	allowRepeat  bool
}

func (s *submitFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.batchID, "batch-id", "", "batch ID, [A-Za-z0-9._-]{1,64} (default: derived from the file's SHA-256)")
	fs.StringVar(&s.purpose, "purpose", "", "iyzico purpose: SALARY, BONUS, SETTLEMENT, GOODS, SERVICES, CASHBACK, REBATES, DONATIONS")
	fs.StringVar(&s.format, "format", "", "csv, jsonl, json or xlsx (default: by the file's extension)")
	fs.BoolVar(&s.decimalComma, "decimal-comma", false, "amounts use a decimal comma, like 1.234,56")
	fs.IntVar(&s.chunkSize, "chunk-size", 0, "items per iyzico mass payout (default: CHUNK_SIZE)")
	fs.StringVar(&s.callbackURL, "callback-url", "", "POST the signed batch summary here when the batch is final (an https URL on a host in CALLBACK_ALLOWED_HOSTS)")
	fs.StringVar(&s.as, "as", "", "your name, recorded in the batch's audit list (default: $USER)")
	fs.BoolVar(&s.allowDup, "allow-duplicate", false, "submit a file that another batch still holds: its rows are paid again")
	fs.BoolVar(&s.allowRepeat, "allow-repeat", false, "pay rows that another batch paid or is paying again (else they are REJECTED ALREADY_PAID or POSSIBLE_DUPLICATE_PAYMENT); audited")
}

// newFlagSet returns a flag set whose -h output goes to stderr and whose errors are usage errors.
func newFlagSet(e env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: masspayout %s\n\n", usage)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(e.stderr, "flags:")
			fs.PrintDefaults()
			fmt.Fprintln(e.stderr)
		}
		fmt.Fprintln(e.stderr, "Configuration comes from the environment (REDIS_URL, IYZICO_BASE_URL, IYZICO_API_KEY,\n"+
			"IYZICO_SECRET_KEY, APPROVAL, WORKER_CONCURRENCY, …): the README's Configuration table lists\n"+
			"every variable; a bad value stops the command and names the variable.")
	}
	return fs
}

// parseFlags parses args; -h gives flag.ErrHelp (exit 0), anything else wrong exits 2.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return withExit(exitUsage, err)
	}
	return nil
}

// parseInterleaved parses flags that may come before or after the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// submit submits the file at path with the flags' options.
func (s *submitFlags) submit(ctx context.Context, a *app, e env, path string, progress func(batch.SubmitProgress)) (*batch.SubmitResult, error) {
	format := payoutfile.Format(strings.ToLower(s.format))
	if format == "" {
		f, err := payoutfile.FormatFromName(path)
		if err != nil {
			return nil, withExit(exitUsage, err)
		}
		format = f
	} else if _, err := payoutfile.ParseFormat(string(format)); err != nil {
		return nil, withExit(exitUsage, err)
	}
	chunk := s.chunkSize
	if chunk == 0 {
		chunk = a.cfg.ChunkSize
	}
	if s.callbackURL != "" {
		if err := callbackPolicy(a.cfg).CheckURL(s.callbackURL); err != nil {
			return nil, withExit(exitUsage, fmt.Errorf("--callback-url: %w", err))
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, withExit(exitUsage, fmt.Errorf("open payout file: %w", err))
	}
	defer f.Close()
	who := identity(e, s.as)
	res, err := a.store.Submit(ctx, batch.SubmitRequest{
		File:    f,
		Source:  filepath.Base(path),
		BatchID: s.batchID,
		Options: batch.Options{
			Format:       string(format),
			Purpose:      strings.ToUpper(s.purpose),
			DecimalComma: s.decimalComma,
			ChunkSize:    chunk,
			CallbackURL:  s.callbackURL,
			Currencies:   a.cfg.Currencies,
			AllowRepeat:  s.allowRepeat,
		},
		Limits:      payoutfile.Options{MaxFileBytes: a.cfg.MaxFileBytes, MaxFieldBytes: a.cfg.MaxFieldBytes, MaxRows: a.cfg.MaxRows, MaxAmount: a.cfg.MaxItemAmount},
		Submitter:   who,
		AutoApprove: a.cfg.AutoApprove(),
		Progress:    progress,

		AllowDuplicate: s.allowDup,
	}, a.queue, a.taskOptions())
	return res, submitError(err)
}

// callbackPolicy is the callback policy of CALLBACK_ALLOWED_HOSTS, CALLBACK_ALLOW_PRIVATE and
// CALLBACK_ALLOW_HTTP: checked at submission (the --callback-url flag, the API's callback_url)
// and again by the workers on every delivery.
func callbackPolicy(c *config.Config) callback.Policy {
	return callback.Policy{AllowedHosts: c.CallbackAllowedHosts, AllowPrivate: c.CallbackAllowPrivate, AllowHTTP: c.CallbackAllowHTTP}
}

// submitError maps a submission error to its exit code: 3 for a batch conflict, 2 for an
// unreadable file or bad options, 1 otherwise.
func submitError(err error) error {
	var fe *payoutfile.FileError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, batch.ErrBatchConflict):
		return withExit(exitConflict, err)
	case errors.As(err, &fe), errors.Is(err, batch.ErrInvalidOptions):
		return withExit(exitUsage, err)
	}
	return err
}

// isTerminal reports whether w is a terminal (for progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
