package httpapi

import (
	"html/template"
	"strings"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/shopspring/decimal"
)

// Locales of the dashboard's numbers (UI_LOCALE).
const (
	LocaleTR = "tr" // 1.050.587.811,49 TL
	LocaleEN = "en" // 1,050,587,811.49 TRY
)

// dashboardZone is the time zone the dashboard shows times in.
const dashboardZone = "Europe/Istanbul"

// display formats what the dashboard shows people: amounts in the locale's way, times in
// Europe/Istanbul. The API is not affected: it answers exact decimals and RFC 3339 times.
type display struct {
	en  bool
	loc *time.Location
}

// newDisplay returns the display of locale (LocaleTR, the default, or LocaleEN).
func newDisplay(locale string) display {
	return display{en: locale == LocaleEN, loc: istanbul()}
}

// istanbul is Europe/Istanbul, or a fixed +03:00 zone (Türkiye has kept +03:00 all year since
// 2016) when the system has no time zone database; cmd links time/tzdata, so it has one there.
func istanbul() *time.Location {
	if loc, err := time.LoadLocation(dashboardZone); err == nil {
		return loc
	}
	return time.FixedZone("+03", 3*60*60)
}

// funcs are the templates' formatting functions: money AMOUNT CURRENCY and when TIME.
func (d display) funcs() template.FuncMap {
	return template.FuncMap{"money": d.money, "when": d.when}
}

// money formats an amount in the currency's digits (batch.FormatAmount: never rounded) with the
// locale's separators and the currency: "1.050.587,49 TL" (tr, TRY), "1.050,00 USD" (tr),
// "1,050,587.49 TRY" (en). Text that is not a decimal (a rejected row's amount can be anything)
// is shown as it is.
func (d display) money(amount, currency string) string {
	a, err := decimal.NewFromString(amount)
	if err != nil {
		return strings.TrimSpace(amount + " " + currency)
	}
	return d.amount(a, currency)
}

// amount is money for a decimal.
func (d display) amount(a decimal.Decimal, currency string) string {
	s := batch.FormatAmount(a, currency)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	group, point := ".", ","
	if d.en {
		group, point = ",", "."
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(point + frac)
	}
	unit := currency
	if currency == "TRY" && !d.en {
		unit = "TL"
	}
	if unit != "" {
		b.WriteString(" " + unit)
	}
	return b.String()
}

// when formats t in Europe/Istanbul: "04.12.2026 21:05:33" (tr) or "2026-12-04 21:05:33" (en),
// with the zone's offset; the zero time is "–".
func (d display) when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	layout := "02.01.2006 15:04:05 -07:00"
	if d.en {
		layout = "2006-01-02 15:04:05 -07:00"
	}
	return t.In(d.loc).Format(layout)
}
