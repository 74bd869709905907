package payoutfile

// Row error codes (DESIGN.md §5). They are stable: reports and scripts match on them.
const (
	CodeInvalidIBAN          = "INVALID_IBAN"
	CodeInvalidIdentity      = "INVALID_IDENTITY_NUMBER"
	CodeInvalidPhone         = "INVALID_PHONE"
	CodeInvalidMemberID      = "INVALID_MEMBER_ID"
	CodeInvalidRecipientType = "INVALID_RECIPIENT_TYPE"
	CodeMissingField         = "MISSING_FIELD"
	CodeInvalidAmount        = "INVALID_AMOUNT"
	CodeAmountScale          = "AMOUNT_SCALE"
	CodeAmountTooLarge       = "AMOUNT_TOO_LARGE" // above Options.MaxAmount (MAX_ITEM_AMOUNT)
	CodeUnsupportedCurrency  = "UNSUPPORTED_CURRENCY"
	CodeDuplicateID          = "DUPLICATE_ITEM_EXTERNAL_ID"
	CodeReservedID           = "RESERVED_ITEM_EXTERNAL_ID" // submit: the form given to rows without an ID
	CodeNameRequired         = "RECIPIENT_NAME_REQUIRED"
	CodeFieldTooLong         = "FIELD_TOO_LONG"
	CodeWrongFieldCount      = "WRONG_FIELD_COUNT"
	CodeInvalidBoolean       = "INVALID_BOOLEAN"
	CodeInvalidCharacter     = "INVALID_CHARACTER" // control, bidi or zero-width character in text
	CodeInvalidEncoding      = "INVALID_ENCODING"  // the field is not UTF-8
	CodeMalformedQuotes      = "MALFORMED_QUOTES"  // CSV: text after a closing quote
	CodeMalformedItem        = "MALFORMED_ITEM"    // JSON Lines: the line is not a JSON object
	CodeWrongType            = "WRONG_TYPE"        // JSON: an object or array where a value belongs
	CodeDuplicateField       = "DUPLICATE_FIELD"   // JSON: the same key twice in one item
)

// Row warning codes, in Record.Warnings: the row stays valid (and is paid), but a person should
// look at it. They are stable like the error codes.
const (
	// CodeDuplicateRecipient: a valid row pays a recipient (the same recipient type and normalised
	// recipient info) that an earlier valid row of the file pays too; Record.SameRecipientAs names
	// that row.
	CodeDuplicateRecipient = "DUPLICATE_RECIPIENT"
)

// File error codes: the file as a whole cannot be read.
const (
	CodeEmptyFile           = "EMPTY_FILE"
	CodeBinaryFile          = "BINARY_FILE"
	CodeUnsupportedEncoding = "UNSUPPORTED_ENCODING"
	CodeBadHeader           = "BAD_HEADER"
	CodeMissingColumn       = "MISSING_COLUMN"
	CodeNoRows              = "NO_ROWS"
	CodeFileTooLarge        = "FILE_TOO_LARGE"
	CodeTooManyRows         = "TOO_MANY_ROWS"
	CodeMalformedCSV        = "MALFORMED_CSV"
	CodeMalformedJSON       = "MALFORMED_JSON"
	CodeItemTooLarge        = "ITEM_TOO_LARGE"
	CodeBadXLSX             = "BAD_XLSX"
	CodeUnsupportedFormat   = "UNSUPPORTED_FORMAT"
	CodeBadOptions          = "BAD_OPTIONS"
	CodeReadError           = "READ_ERROR"
	// CodeFieldTooLong is also a file error: a CSV field over Options.MaxFieldBytes.
)

// RowError is one problem of one row. Message names the row, where it is in the file as the
// payroll clerk sees it (the CSV line, the XLSX cell), the row's item external ID when it has one,
// the column and the value (masked when it is personal data), and says what to do:
//
//	row 19 (line 20, ID E-1042), amount: "10.005" has 3 decimals but TRY allows 2; …
//	row 19 (cell E20, ID E-1042), amount: …
//
// Line, Cell and ItemExternalID repeat the location for programs.
type RowError struct {
	Row     int    // data row, 1-based
	Column  string // canonical snake_case column name, e.g. "amount"; "" for the whole row
	Code    string // one of the row error (or, in Record.Warnings, warning) codes
	Message string
	// Line is where the row starts in the file: the physical line of a CSV or JSON Lines file
	// (header and blank lines counted, a quoted line break moving the rows after it), the sheet row
	// of an XLSX sheet; 0 for JSON.
	Line int
	// Cell is the XLSX cell of the column, such as "E20"; "" for the other formats, for a problem
	// of the whole row and for a column the sheet does not have.
	Cell string
	// ItemExternalID is the row's item external ID as written (trimmed); "" when it has none or
	// when the row's columns cannot be trusted (WRONG_FIELD_COUNT, MALFORMED_ITEM).
	ItemExternalID string
}

// Error returns the message.
func (e RowError) Error() string { return e.Message }

// FileError is a problem with the file as a whole (unreadable, unsupported, over a limit, broken
// structure). Reading stops at a FileError; the rows returned before it stay valid as reported.
type FileError struct {
	Code    string // one of the file error codes
	Message string // what is wrong and what to do
	Row     int    // the row being read when it happened; 0 before the first row
}

// Error returns the message.
func (e *FileError) Error() string { return e.Message }
