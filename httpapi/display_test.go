package httpapi

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
)

func TestDisplayMoney(t *testing.T) {
	tr, en := newDisplay(LocaleTR), newDisplay(LocaleEN)
	tests := []struct {
		amount, cur, tr, en string
	}{
		{"1050587811.49", "TRY", "1.050.587.811,49 TL", "1,050,587,811.49 TRY"},
		{"100.5", "TRY", "100,50 TL", "100.50 TRY"},
		{"1234", "USD", "1.234,00 USD", "1,234.00 USD"},
		{"999.99", "EUR", "999,99 EUR", "999.99 EUR"},
		{"1000", "EUR", "1.000,00 EUR", "1,000.00 EUR"},
		{"0", "TRY", "0,00 TL", "0.00 TRY"},
		{"-12345.6", "TRY", "-12.345,60 TL", "-12,345.60 TRY"},
		{"10.005", "TRY", "10,005 TL", "10.005 TRY"}, // never rounded
		{"123456", "JPY", "123.456 JPY", "123,456 JPY"},
		{"abc", "XYZ", "abc XYZ", "abc XYZ"}, // a rejected row's amount, as it is
		{"", "", "", ""},
	}
	for _, tt := range tests {
		if got := tr.money(tt.amount, tt.cur); got != tt.tr {
			t.Errorf("tr money(%q, %q) = %q, want %q", tt.amount, tt.cur, got, tt.tr)
		}
		if got := en.money(tt.amount, tt.cur); got != tt.en {
			t.Errorf("en money(%q, %q) = %q, want %q", tt.amount, tt.cur, got, tt.en)
		}
	}
}

func TestDisplayWhen(t *testing.T) {
	at := time.Date(2026, 11, 30, 21, 5, 33, 0, time.UTC)
	if got, want := newDisplay(LocaleTR).when(at), "01.12.2026 00:05:33 +03:00"; got != want {
		t.Errorf("tr when = %q, want %q (Europe/Istanbul)", got, want)
	}
	if got, want := newDisplay(LocaleEN).when(at), "2026-12-01 00:05:33 +03:00"; got != want {
		t.Errorf("en when = %q, want %q", got, want)
	}
	if got := newDisplay(LocaleTR).when(time.Time{}); got != "–" {
		t.Errorf("when(zero) = %q", got)
	}
}

// TestDashboardLocale: with UI_LOCALE=en the pages write amounts the English way; the API's
// amounts stay exact decimals whatever the locale.
func TestDashboardLocale(t *testing.T) {
	r := setup(t, withDeps(func(d *Deps) { d.Locale = LocaleEN }))
	file, _ := payroll(t, 6, 0, 97)
	r.mustSubmit("submitter", file, url.Values{"batch_id": {"en-1"}})
	b, err := r.store.Get(t.Context(), "en-1")
	if err != nil {
		t.Fatal(err)
	}
	pending := b.Amounts[batch.RowPending]["TRY"]
	_, _, body := r.do(request{method: "GET", path: "/batches/en-1", basic: uiUser})
	want := newDisplay(LocaleEN).amount(pending, "TRY")
	if page := string(body); !strings.Contains(page, want) || !regexp.MustCompile(`^\d{1,3}(,\d{3})*\.\d\d TRY$`).MatchString(want) || strings.Contains(page, " TL<") {
		t.Errorf("the en batch page lacks %q:\n%s", want, page)
	}
	if res := r.getBatch("en-1"); string(res.Amounts[batch.RowPending]["TRY"]) != batch.FormatAmount(pending, "TRY") {
		t.Errorf("API amount %s, want %s", res.Amounts[batch.RowPending]["TRY"], batch.FormatAmount(pending, "TRY"))
	}
}
