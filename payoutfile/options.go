package payoutfile

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Defaults of Options' zero fields.
const (
	DefaultMaxFileBytes  int64 = 512 << 20
	DefaultMaxFieldBytes       = 1024
	DefaultMaxRows             = 5_000_000
)

// MaxColumns is the most columns a CSV or XLSX header may have; a CSV row is split into at most
// one field more than its header (more fields are counted, not kept), and an XLSX cell with a
// value beyond column IV (the 256th) stops the file with BAD_XLSX.
const MaxColumns = 256

// Length limits of text fields, in Unicode characters after trimming. Longer values are rejected
// with FIELD_TOO_LONG.
const (
	MaxItemExternalIDLen = 64
	MaxRecipientNameLen  = 140
	MaxDescriptionLen    = 255
	MaxMemberIDLen       = 20
	// MaxAmountIntDigits bounds the integer part of an amount (999,999,999,999,999 at most), so
	// amounts and their sums stay far from any overflow downstream.
	MaxAmountIntDigits = 15
)

// DefaultCurrencies returns the currencies accepted when Options.Currencies is empty: the ones
// iyzico documents for mass payouts.
func DefaultCurrencies() []string { return []string{"TRY", "USD", "EUR"} }

// Options configure a Reader. The zero value of every field except Format means its default.
type Options struct {
	// Format of the input; required (see FormatFromName).
	Format Format
	// DecimalComma reads amounts written the Turkish way, "1.234,56": ',' separates decimals and
	// '.' groups thousands. It applies to CSV fields and XLSX text cells; XLSX number cells and
	// JSON always use '.'.
	DecimalComma bool
	// Currencies allowed in the file (ISO 4217, any case); default DefaultCurrencies().
	Currencies []string
	// MaxFileBytes is the largest accepted file; default DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxFieldBytes is the largest field, in bytes; default DefaultMaxFieldBytes. A longer CSV
	// field stops the file with FIELD_TOO_LONG: it almost always means an unclosed quote. An XLSX
	// cell or shared string is cut at this size as it is read (comments, entities and rich-text
	// runs included) and, in a known column, its row is refused with FIELD_TOO_LONG; a cell whose
	// XML exceeds max(256 KiB, 4·MaxFieldBytes) stops the file. JSON items may be
	// 16·MaxFieldBytes + 4 KiB long.
	MaxFieldBytes int
	// MaxRows is the largest accepted row number; default DefaultMaxRows.
	MaxRows int
	// MaxAmount is the largest amount of one row (MAX_ITEM_AMOUNT), compared as a number in the
	// row's own currency: the same limit for every currency. A larger row is rejected with
	// AMOUNT_TOO_LARGE. Zero means no limit; a negative limit is refused (BAD_OPTIONS).
	MaxAmount decimal.Decimal
}

// currency is an allowed currency with its minor units.
type currency struct {
	code  string
	minor int32
}

// normalize fills the defaults in and checks the options.
func (o Options) normalize() (Options, []currency, error) {
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxFieldBytes == 0 {
		o.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if o.MaxRows == 0 {
		o.MaxRows = DefaultMaxRows
	}
	switch {
	case o.MaxFileBytes < 0:
		return o, nil, fmt.Errorf("maximum file size %d: must be positive", o.MaxFileBytes)
	case o.MaxFieldBytes < 16 || o.MaxFieldBytes > 1<<20:
		return o, nil, fmt.Errorf("maximum field size %d: must be between 16 and 1048576 bytes", o.MaxFieldBytes)
	case o.MaxRows < 0:
		return o, nil, fmt.Errorf("maximum rows %d: must be positive", o.MaxRows)
	case o.MaxAmount.Sign() < 0:
		return o, nil, fmt.Errorf("maximum amount %s: must be positive (or 0 for no limit)", o.MaxAmount)
	}
	if len(o.Currencies) == 0 {
		o.Currencies = DefaultCurrencies()
	}
	curs := make([]currency, 0, len(o.Currencies))
	for _, c := range o.Currencies {
		code := strings.ToUpper(strings.TrimSpace(c))
		minor, ok := MinorUnits(code)
		if !ok {
			return o, nil, fmt.Errorf("currency %q: not an ISO 4217 currency code; use codes like TRY, USD, EUR", c)
		}
		curs = append(curs, currency{code, minor})
	}
	return o, curs, nil
}
