package payoutfile

import "github.com/shopspring/decimal"

// Item is one payout row. For a valid row every field is normalised: RecipientType upper-case,
// an IBAN compact and upper-case, a phone in E.164, text trimmed with its Unicode kept, Currency
// upper-case and Amount exact (never rounded; trailing zeros beyond the currency's minor units
// dropped).
type Item struct {
	// Row is the data row, 1-based, header not counted (JSON: index in items; JSON Lines: line).
	Row int
	// ItemExternalID is "" when the file has none; the pipeline then assigns <batchID>-r<row>.
	ItemExternalID  string
	RecipientType   string
	RecipientInfo   string
	RecipientName   string
	Description     string
	Amount          decimal.Decimal
	Currency        string
	NonWithdrawable bool
}

// Record is what Reader.Next returns for each non-blank row. When Errors is empty the row is
// valid and Item is normalised. Otherwise Item holds the fields as read (trimmed; Currency
// upper-cased), and AmountOK says whether Item.Amount is a parsed amount usable for totals.
type Record struct {
	Row int
	// Line is where the row starts in the file, as RowError.Line: the CSV or JSON Lines line, the
	// XLSX sheet row; 0 for JSON.
	Line     int
	Item     Item
	AmountOK bool
	// AmountText is the amount as the clerk sees it: as written, or as Excel shows a number
	// cell; for rows whose amount cannot be read it is what repay writes back for correction.
	AmountText string
	Errors     []RowError
	// Warnings are what a person should check although the row is valid, each with a warning code
	// (CodeDuplicateRecipient). A row with warnings is paid like any valid row; nil when none.
	Warnings []RowError
	// SameRecipientAs is, for a valid row whose recipient an earlier valid row of the file pays
	// too, that earlier row (the first one with this recipient); 0 otherwise. Such a row has a
	// CodeDuplicateRecipient warning.
	SameRecipientAs int
}

// Valid reports whether the row passed every rule.
func (r Record) Valid() bool { return len(r.Errors) == 0 }

// BatchDefaults are batch-level values a JSON file carries (externalId, conversationId, purpose),
// trimmed. Other formats leave them empty.
type BatchDefaults struct {
	ExternalID     string
	ConversationID string
	Purpose        string
}
