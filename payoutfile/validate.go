package payoutfile

import (
	"errors"
	"fmt"
	"strings"
)

// Recipient types (the iyzico API's names).
const (
	TypeIBAN           = "IBAN"
	TypePhone          = "PHONE"
	TypeIdentityNumber = "IDENTITY_NUMBER"
	TypeMemberID       = "MEMBER_ID"
)

// validate applies every rule but uniqueness (see dedupe) to a raw row and fills rec with the
// item and all of its problems. It trims raw.val in place.
func (r *Reader) validate(raw *rawRecord, rec *Record) {
	v := &raw.val
	for f := range v {
		v[f] = trim(v[f])
	}
	rec.Row, rec.Line, rec.AmountOK, rec.Errors, rec.Warnings, rec.SameRecipientAs, rec.AmountText = raw.row, raw.line, false, nil, nil, 0, ""
	it := &rec.Item
	*it = Item{
		Row:            raw.row,
		ItemExternalID: v[fItemExternalID],
		RecipientType:  v[fRecipientType],
		RecipientInfo:  v[fRecipientInfo],
		RecipientName:  v[fRecipientName],
		Description:    v[fDescription],
		Currency:       upperASCII(v[fCurrency]),
	}
	// The item external ID names the row in messages, unless its columns cannot be trusted.
	id := it.ItemExternalID
	if raw.shifted || raw.bad[fItemExternalID] {
		id = ""
	}
	for _, e := range raw.errs {
		rec.Errors = append(rec.Errors, r.rowError(raw.row, raw.line, id, e.f, e.code, e.msg))
	}
	if raw.shifted {
		return
	}
	add := func(f field, code, format string, args ...any) {
		rec.Errors = append(rec.Errors, r.rowError(raw.row, raw.line, id, f, code, fmt.Sprintf(format, args...)))
	}
	missing := func(f field, what string) {
		switch {
		case raw.noResult[f]:
			add(f, CodeMissingField, "the cell has a formula but no saved result (the program that wrote the file does not calculate); open the file in Excel or LibreOffice, save it, and try again")
		case raw.has[f]:
			add(f, CodeMissingField, "empty; fill in %s", what)
		default:
			add(f, CodeMissingField, "missing; every item needs %s", what)
		}
	}

	if id := it.ItemExternalID; id != "" && !raw.bad[fItemExternalID] {
		if code, why := textProblem(id, MaxItemExternalIDLen); code != "" {
			add(fItemExternalID, code, "%s", why)
		}
	}

	typ := recipientType(it.RecipientType)
	switch {
	case raw.bad[fRecipientType]:
	case it.RecipientType == "":
		missing(fRecipientType, "the recipient type (IBAN, PHONE, IDENTITY_NUMBER or MEMBER_ID)")
	case typ == "":
		add(fRecipientType, CodeInvalidRecipientType, "%s is not a recipient type; write IBAN, PHONE, IDENTITY_NUMBER or MEMBER_ID", echo(it.RecipientType))
	}

	info := it.RecipientInfo
	switch {
	case raw.bad[fRecipientInfo]:
	case info == "":
		missing(fRecipientInfo, "the recipient's IBAN, phone, identity number or member ID")
	default:
		var err error
		switch typ {
		case TypeIBAN:
			if info, err = NormalizeIBAN(info); err != nil {
				add(fRecipientInfo, CodeInvalidIBAN, "IBAN %s: %v", Mask(typ, it.RecipientInfo), err)
			}
		case TypePhone:
			if info, err = NormalizePhone(info); err != nil {
				add(fRecipientInfo, CodeInvalidPhone, "phone %s: %v", Mask(typ, it.RecipientInfo), err)
			}
		case TypeIdentityNumber:
			if err = checkTCKN(info); err != nil {
				add(fRecipientInfo, CodeInvalidIdentity, "identity number %s: %v", Mask(typ, info), err)
			}
		case TypeMemberID:
			if err = checkMemberID(info); err != nil {
				add(fRecipientInfo, CodeInvalidMemberID, "member ID %s: %v", Mask(typ, info), err)
			}
		}
	}

	switch {
	case raw.bad[fRecipientName]:
	case it.RecipientName == "":
		if typ == TypeIBAN {
			add(fRecipientName, CodeNameRequired, "empty; an IBAN payout needs the account holder's name")
		}
	default:
		if code, why := textProblem(it.RecipientName, MaxRecipientNameLen); code != "" {
			add(fRecipientName, code, "%s", why)
		}
	}

	var amt parsedAmount
	amountOK := false
	// shown is the amount as the clerk sees it: as written, or as Excel shows a number cell.
	shown := v[fAmount]
	switch a := v[fAmount]; {
	case raw.bad[fAmount]:
	case a == "":
		missing(fAmount, "the amount")
	default:
		var err error
		if raw.double[fAmount] {
			amt, shown, err = parseExcelNumber(a)
		} else {
			amt, err = parseAmount(a, r.opts.DecimalComma && !raw.numeric[fAmount])
		}
		switch {
		case err != nil:
			add(fAmount, CodeInvalidAmount, "%s %v", echo(a), err)
		case amt.d.Sign() < 0:
			amountOK = true
			add(fAmount, CodeInvalidAmount, "%s is negative; a payout amount must be greater than 0", quote(shown))
		case amt.d.Sign() == 0:
			amountOK = true
			add(fAmount, CodeInvalidAmount, "%s is zero; a payout amount must be greater than 0 (remove the row if nothing is paid)", quote(shown))
		case amt.intDigits > MaxAmountIntDigits:
			add(fAmount, CodeInvalidAmount, "%s is too large (more than %d digits before the decimals); check the amount", quote(shown), MaxAmountIntDigits)
		default:
			amountOK = true
		}
	}

	rec.AmountText = shown
	cur := it.Currency
	minor, curOK := r.currency(cur)
	switch {
	case raw.bad[fCurrency]:
	case cur == "":
		missing(fCurrency, "the currency ("+r.currencyList()+")")
	case !curOK:
		hint := ""
		switch cur {
		case "TL", "YTL", "₺":
			hint = "; for Turkish lira write TRY"
		case "$":
			hint = "; for US dollars write USD"
		case "€":
			hint = "; for euros write EUR"
		}
		if _, iso := MinorUnits(cur); iso {
			add(fCurrency, CodeUnsupportedCurrency, "%s is not accepted for this payout; use %s", echo(cur), r.currencyList())
		} else {
			add(fCurrency, CodeUnsupportedCurrency, "%s is not a currency code; use %s%s", echo(cur), r.currencyList(), hint)
		}
	case amountOK && int32(amt.sigFrac) > minor && raw.double[fAmount]:
		add(fAmount, CodeAmountScale, "%s has %d decimals but %s allows %d; the cell holds this value even where its format shows fewer decimals: round it to %d decimals in the sheet (with ROUND, YUVARLA in Turkish Excel) and export again (it is never rounded here)",
			quote(shown), amt.sigFrac, cur, minor, minor)
	case amountOK && int32(amt.sigFrac) > minor:
		add(fAmount, CodeAmountScale, "%s has %d decimals but %s allows %d; correct the amount (it is never rounded)",
			quote(shown), amt.sigFrac, cur, minor)
	}
	if amountOK && r.limit.exceeds(&amt) {
		unit := ""
		if curOK {
			unit = " " + cur
		}
		add(fAmount, CodeAmountTooLarge, "%s is above the limit of %s%s for one payment; split it into several rows of at most that amount, or have MAX_ITEM_AMOUNT raised",
			quote(shown), r.limit.text(minor, curOK), unit)
	}
	if amountOK {
		rec.AmountOK = true
		it.Amount = amt.d
		if curOK && int32(amt.frac) > minor && int32(amt.sigFrac) <= minor {
			// Only zeros are dropped: 10.500 TRY is exactly 10.50.
			it.Amount = amt.d.Truncate(minor)
		}
	}

	if it.Description != "" && !raw.bad[fDescription] {
		if code, why := textProblem(it.Description, MaxDescriptionLen); code != "" {
			add(fDescription, code, "%s", why)
		}
	}

	if s := v[fNonWithdrawable]; s != "" && !raw.bad[fNonWithdrawable] {
		b, ok := parseBool(s)
		if !ok {
			add(fNonWithdrawable, CodeInvalidBoolean, "%s is not a yes/no value; write true or false (1/0, yes/no, evet/hayır also work)", echo(s))
		}
		it.NonWithdrawable = b
	}

	if len(rec.Errors) == 0 {
		it.RecipientType = typ
		it.RecipientInfo = info
	}
}

// recipientType returns the canonical recipient type, or "" if s is none.
func recipientType(s string) string {
	switch s {
	case TypeIBAN, TypePhone, TypeIdentityNumber, TypeMemberID:
		return s
	}
	for _, t := range [...]string{TypeIBAN, TypePhone, TypeIdentityNumber, TypeMemberID} {
		if strings.EqualFold(s, t) {
			return t
		}
	}
	return ""
}

// numRecipientTypes is the number of recipient types; recipientTypeIndex numbers them.
const numRecipientTypes = 4

// recipientTypeIndex returns 0 to 3 for a canonical recipient type.
func recipientTypeIndex(typ string) int {
	switch typ {
	case TypePhone:
		return 1
	case TypeIdentityNumber:
		return 2
	case TypeMemberID:
		return 3
	}
	return 0
}

// recipientLabel names a canonical recipient type in a message: "IBAN", "phone", ….
func recipientLabel(typ string) string {
	switch typ {
	case TypePhone:
		return "phone"
	case TypeIdentityNumber:
		return "identity number"
	case TypeMemberID:
		return "member ID"
	}
	return "IBAN"
}

// ValidMemberID reports whether s is an iyzico member ID: 1 to 20 ASCII digits.
func ValidMemberID(s string) bool { return checkMemberID(s) == nil }

func checkMemberID(s string) error {
	if len(s) > MaxMemberIDLen {
		return fmt.Errorf("is longer than %d digits", MaxMemberIDLen)
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return errors.New("must contain digits 0–9 only (the iyzico member number)")
		}
	}
	if s == "" {
		return errors.New("is empty")
	}
	return nil
}

// currency returns the minor units of an allowed currency.
func (r *Reader) currency(code string) (int32, bool) {
	for _, c := range r.curs {
		if c.code == code {
			return c.minor, true
		}
	}
	return 0, false
}

func (r *Reader) currencyList() string {
	var b strings.Builder
	for i, c := range r.curs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.code)
	}
	return b.String()
}

// parseBool reads a yes/no cell: true/false, 1/0, yes/no, y/n, evet/hayır, doğru/yanlış (Excel's
// Turkish TRUE/FALSE), in any case.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "y", "evet", "e", "doğru", "dogru":
		return true, true
	case "false", "0", "no", "n", "hayır", "hayir", "h", "yanlış", "yanliş", "yanlis":
		return false, true
	}
	return false, false
}

// upperASCII upper-cases ASCII letters, leaving other runes alone.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
