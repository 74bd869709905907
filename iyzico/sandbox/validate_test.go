package sandbox

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/iyzico"
)

func TestValidIBAN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"TR330006100519786457841326", true},
		{"TR920086402100005482986178", true},  // iyzico.md example
		{"TR920086402100002353983528", false}, // iyzico.md example, fails mod-97
		{"DE89370400440532013000", true},
		{"GB82WEST12345698765432", true},
		{"NO9386011117947", true},
		{"TR33000610051978645784132", false},   // TR is 26 long
		{"TR3300061005197864578413261", false}, // too long
		{"TR340006100519786457841326", false},  // check digits off by one
		{"tr330006100519786457841326", false},  // lower case
		{"TR33 0006 1005 1978 6457 8413 26", false},
		{"XX330006100519786457841326", false}, // no such country
		{"TRAB0006100519786457841326", false}, // check digits not digits
		{"TR33000610051978645784132!", false},
		{"TR1234567891212", false}, // the Java SDK sample's
		{"", false},
		{"TR", false},
	}
	for _, tt := range tests {
		if got := validIBAN(tt.in); got != tt.want {
			t.Errorf("validIBAN(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidTCKN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"10000000146", true},
		{"53857708216", true}, // iyzico.md example
		{"22222222220", true}, // iyzico.md example
		{"2222222817", false}, // 10 digits (iyzico.md typo)
		{"02222222220", false},
		{"10000000147", false}, // 11th digit wrong
		{"10000000156", false}, // 10th digit wrong
		{"1000000014a", false},
		{"100000001460", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := validTCKN(tt.in); got != tt.want {
			t.Errorf("validTCKN(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidPhone(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"+905456856931", true},
		{"+905555555555", true},
		{"+4915112345678", true},
		{"+12025550123", true},
		{"+9055512345", false},    // +90 with 8 digits
		{"+9055512345678", false}, // +90 with 11 digits
		{"05551234567", false},    // national form
		{"905551234567", false},   // no +
		{"+0905551234567", false},
		{"+90 555 123 45 67", false},
		{"+1234567", false},          // 7 digits
		{"+1234567890123456", false}, // 16 digits
		{"", false},
	}
	for _, tt := range tests {
		if got := validPhone(tt.in); got != tt.want {
			t.Errorf("validPhone(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidMemberID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"2228853", true},
		{"0", true},
		{"12345678901234567890", true},
		{"123456789012345678901", false},
		{"12a", false},
		{"-1", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := validMemberID(tt.in); got != tt.want {
			t.Errorf("validMemberID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCheckItem(t *testing.T) {
	item := func(mod func(*initItem)) initItem {
		it := initItem{
			ItemExternalID: "i1", RecipientType: iyzico.RecipientIBAN, RecipientInfo: testIBAN,
			RecipientName: "Ali Veli", Amount: &initAmount{Value: json.RawMessage(`100.50`), Currency: "TRY"},
		}
		if mod != nil {
			mod(&it)
		}
		return it
	}
	tests := []struct {
		name       string
		it         initItem
		wantCode   iyzico.Code
		wantAmount string
	}{
		{"valid IBAN", item(nil), "", "100.5"},
		{"amount as string", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`"100.50"`) }), "", "100.5"},
		{"trailing zeros", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`100.500`) }), "", "100.5"},
		{"phone", item(func(i *initItem) { i.RecipientType, i.RecipientInfo, i.RecipientName = "PHONE", testPhone, "" }), "", "100.5"},
		{"identity", item(func(i *initItem) { i.RecipientType, i.RecipientInfo = "IDENTITY_NUMBER", testTCKN }), "", "100.5"},
		{"member", item(func(i *initItem) { i.RecipientType, i.RecipientInfo = "MEMBER_ID", "2228853" }), "", "100.5"},
		{"USD", item(func(i *initItem) { i.Amount.Currency = "USD" }), "", "100.5"},
		{"no itemExternalId", item(func(i *initItem) { i.ItemExternalID = "" }), CodeMissingField, "100.5"},
		{"bad type", item(func(i *initItem) { i.RecipientType = "EMAIL" }), CodeInvalidRecipientType, "100.5"},
		{"lower-case type", item(func(i *initItem) { i.RecipientType = "iban" }), CodeInvalidRecipientType, "100.5"},
		{"no info", item(func(i *initItem) { i.RecipientInfo = "" }), CodeMissingField, "100.5"},
		{"bad IBAN", item(func(i *initItem) { i.RecipientInfo = "TR340006100519786457841326" }), CodeInvalidIBAN, "100.5"},
		{"no name", item(func(i *initItem) { i.RecipientName = " " }), CodeRecipientNameRequired, "100.5"},
		{"bad phone", item(func(i *initItem) { i.RecipientType, i.RecipientInfo = "PHONE", "05551234567" }), CodeInvalidPhone, "100.5"},
		{"bad TCKN", item(func(i *initItem) { i.RecipientType, i.RecipientInfo = "IDENTITY_NUMBER", "10000000147" }), CodeInvalidIdentityNumber, "100.5"},
		{"bad member", item(func(i *initItem) { i.RecipientType, i.RecipientInfo = "MEMBER_ID", "M-1" }), CodeInvalidMemberID, "100.5"},
		{"no amount", item(func(i *initItem) { i.Amount = nil }), CodeMissingField, "0"},
		{"null value", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`null`) }), CodeMissingField, "0"},
		{"zero", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`0`) }), CodeInvalidAmount, "0"},
		{"negative", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`-5`) }), CodeInvalidAmount, "-5"},
		{"text", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`"abc"`) }), CodeInvalidAmount, "0"},
		{"padded text", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`" 5"`) }), CodeInvalidAmount, "0"},
		{"bool", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`true`) }), CodeInvalidAmount, "0"},
		{"huge exponent", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`1e-999999999`) }), CodeInvalidAmount, "0"},
		{"three decimals", item(func(i *initItem) { i.Amount.Value = json.RawMessage(`1.005`) }), CodeAmountScale, "1.005"},
		{"no currency", item(func(i *initItem) { i.Amount.Currency = "" }), CodeMissingField, "100.5"},
		{"GBP", item(func(i *initItem) { i.Amount.Currency = "GBP" }), CodeUnsupportedCurrency, "100.5"},
		{"lower-case currency", item(func(i *initItem) { i.Amount.Currency = "try" }), CodeUnsupportedCurrency, "100.5"},
		{"first rule wins", item(func(i *initItem) { i.RecipientType = "X"; i.Amount.Currency = "GBP" }), CodeInvalidRecipientType, "100.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			amount, code, why := checkItem(&tt.it)
			if code != tt.wantCode {
				t.Errorf("code = %q, want %q", code, tt.wantCode)
			}
			if (code == "") != (why == nil) {
				t.Errorf("code %q with message %v", code, why)
			}
			if !amount.value.Equal(dec(tt.wantAmount)) {
				t.Errorf("amount = %s, want %s", amount.value, tt.wantAmount)
			}
		})
	}
}

func TestCommission(t *testing.T) {
	tests := []struct{ amount, want string }{
		{"0.01", "1.00"},
		{"100", "1.00"},
		{"200", "1.00"},
		{"201", "1.01"},    // 1.005 rounds half-up
		{"200.99", "1.00"}, // 1.00495
		{"1000", "5.00"},
		{"1234.57", "6.17"}, // 6.17285
		{"8000", "40.00"},
	}
	for _, tt := range tests {
		got := Commission(dec(tt.amount))
		if !got.Equal(dec(tt.want)) || got.Exponent() != -2 {
			t.Errorf("Commission(%s) = %s (exp %d), want %s with 2 decimals", tt.amount, got, got.Exponent(), tt.want)
		}
	}
}

func TestBankOutcome(t *testing.T) {
	tests := []struct {
		amount string
		want   outcome
	}{
		{"10.99", outcomeFailRefund},
		{"0.99", outcomeFailRefund},
		{"10.98", outcomeFailNoRefund},
		{"10.990", outcomeFailRefund},
		{"10.97", outcomeSuccess},
		{"10.9", outcomeSuccess},
		{"99", outcomeSuccess},
		{"98", outcomeSuccess},
		{"1000.01", outcomeSuccess},
	}
	for _, tt := range tests {
		d := decimal.RequireFromString(tt.amount)
		cents, fast := minorUnits(d)
		if got := bankOutcome(amount{value: d, cents: cents, fast: fast}); got != tt.want {
			t.Errorf("bankOutcome(%s) = %v, want %v", tt.amount, got, tt.want)
		}
		if got := bankOutcome(amount{value: d}); got != tt.want {
			t.Errorf("bankOutcome(%s) by decimals = %v, want %v", tt.amount, got, tt.want)
		}
	}
}

func TestMinorUnits(t *testing.T) {
	tests := []struct {
		in     string
		cents  int64
		wantOK bool
	}{
		{"100.50", 10050, true},
		{"100.5", 10050, true},
		{"100", 10000, true},
		{"1e2", 10000, true},
		{"100.500000", 10050, true},
		{"0.01", 1, true},
		{"-3.25", -325, true},
		{"1.005", 0, false}, // third decimal: decimals decide
		{"9999999999999.99", 999999999999999, true},
		{"10000000000000", 0, false}, // 10^13 units: too big for the fast path
		{"123456789012345678901234", 0, false},
		{"1e17", 0, false},
	}
	for _, tt := range tests {
		cents, ok := minorUnits(dec(tt.in))
		if cents != tt.cents || ok != tt.wantOK {
			t.Errorf("minorUnits(%s) = %d, %v; want %d, %v", tt.in, cents, ok, tt.cents, tt.wantOK)
		}
	}
}

// TestFastMoneyMatchesDecimals: the int64 fast path gives the decimal rule's results.
func TestFastMoneyMatchesDecimals(t *testing.T) {
	for cents := int64(1); cents < 300_000; cents += 7 {
		d := decimal.New(cents, -2)
		slow := decimal.Max(minCommission, d.Mul(commissionRate).Round(2))
		if fast := decimal.New(commissionCentsOf(cents), -2); !fast.Equal(slow) {
			t.Fatalf("commission of %s: fast %s, decimals %s", d, fast, slow)
		}
		c, ok := minorUnits(d)
		if !ok || c != cents {
			t.Fatalf("minorUnits(%s) = %d, %v", d, c, ok)
		}
		if f, s := bankOutcome(amount{value: d, cents: c, fast: true}), bankOutcome(amount{value: d}); f != s {
			t.Fatalf("outcome of %s: fast %v, decimals %v", d, f, s)
		}
	}
	// A payout mixing fast and slow amounts sums the same as decimals would.
	req := &initRequest{ExternalID: "x", Items: []initItem{
		{ItemExternalID: "a", RecipientType: "MEMBER_ID", RecipientInfo: "1", Amount: &initAmount{Value: json.RawMessage(`10.25`), Currency: "TRY"}},
		{ItemExternalID: "b", RecipientType: "MEMBER_ID", RecipientInfo: "1", Amount: &initAmount{Value: json.RawMessage(`20000000000000.5`), Currency: "TRY"}},
		{ItemExternalID: "c", RecipientType: "MEMBER_ID", RecipientInfo: "1", Amount: &initAmount{Value: json.RawMessage(`3`), Currency: "TRY"}},
	}}
	p := newPayout(req, [32]byte{})
	if !p.total.Decimal().Equal(dec("20000000000013.75")) || !p.commission.Decimal().Equal(dec("100000000002.00")) {
		t.Errorf("totals %s and %s, want 20000000000013.75 and 100000000002.00", p.total.Decimal(), p.commission.Decimal())
	}
}

// TestMoney: money renders and adds exactly as decimal.Decimal with iyzico.AppendDecimal.
func TestMoney(t *testing.T) {
	vals := []string{"0", "100", "100.5", "100.50", "100.500", "1e2", "0.01", "0.10", "-3.25", "-0.5", "1.005",
		"9999999999999.99", "10000000000000", "123456789012345678901234.5", "7.000000000000000000", "12.3e1"}
	for _, a := range vals {
		da := dec(a)
		ma := moneyOf(da)
		if got, want := string(appendMoney(nil, ma)), string(iyzico.AppendDecimal(nil, da)); got != want {
			t.Errorf("appendMoney(%s) = %s, want %s", a, got, want)
		}
		if !ma.Decimal().Equal(da) || ma.Decimal().Exponent() != min(da.Exponent(), 0) && ma.big == nil {
			t.Errorf("moneyOf(%s).Decimal() = %s (exp %d)", a, ma.Decimal(), ma.Decimal().Exponent())
		}
		if ma.Sign() != da.Sign() {
			t.Errorf("Sign(%s) = %d", a, ma.Sign())
		}
		for _, b := range vals {
			db := dec(b)
			sum := ma.Add(moneyOf(db))
			want := da.Add(db)
			if !sum.Decimal().Equal(want) {
				t.Errorf("%s + %s = %s, want %s", a, b, sum.Decimal(), want)
			}
			if da.Exponent() <= 0 && db.Exponent() <= 0 {
				if got, w := string(appendMoney(nil, sum)), string(iyzico.AppendDecimal(nil, want)); got != w {
					t.Errorf("%s + %s renders %s, want %s", a, b, got, w)
				}
			}
		}
	}
	if got := string(appendMoney(nil, centsMoney(100))); got != "1.00" {
		t.Errorf("centsMoney(100) = %s, want 1.00", got)
	}
}
