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
	Row      int
	Item     Item
	AmountOK bool
	Errors   []RowError
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
