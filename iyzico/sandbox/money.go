package sandbox

import (
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/iyzico"
)

// money is an exact amount as the sandbox stores it: hundredths in an int64 plus the number of
// decimals it is written with, or a decimal when it does not fit that form. It exists because a
// decimal.Decimal costs a heap big.Int, and the sandbox holds millions of amounts; it converts to
// decimal.Decimal at every boundary and renders exactly as iyzico.AppendDecimal would.
type money struct {
	cents int64
	scale int8             // decimals written (fast form): 0, 1, 2 or more trailing zeros
	big   *decimal.Decimal // non-nil: the decimal form
}

// moneyOf returns d as money, keeping its written scale.
func moneyOf(d decimal.Decimal) money {
	if cents, ok := minorUnits(d); ok {
		return money{cents: cents, scale: int8(max(-d.Exponent(), 0))}
	}
	return money{big: &d}
}

// centsMoney returns hundredths written with 2 decimals.
func centsMoney(cents int64) money { return money{cents: cents, scale: 2} }

// Decimal returns m as a decimal with its written scale.
func (m money) Decimal() decimal.Decimal {
	if m.big != nil {
		return *m.big
	}
	return decimal.New(m.cents, -2).Round(int32(m.scale)) // exact: the digits dropped are zeros
}

// Add returns m + o with the larger scale, like decimal.Decimal.Add.
func (m money) Add(o money) money {
	if m.big == nil && o.big == nil {
		if s := m.cents + o.cents; s < maxFastCents && s > -maxFastCents {
			return money{cents: s, scale: max(m.scale, o.scale)}
		}
	}
	d := m.Decimal().Add(o.Decimal())
	return money{big: &d}
}

// Sign returns -1, 0 or +1.
func (m money) Sign() int {
	if m.big != nil {
		return m.big.Sign()
	}
	switch {
	case m.cents > 0:
		return 1
	case m.cents < 0:
		return -1
	}
	return 0
}

// appendMoney appends m as a JSON number with its written digits.
func appendMoney(b []byte, m money) []byte {
	if m.big != nil {
		return iyzico.AppendDecimal(b, *m.big)
	}
	c := m.cents
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	b = strconv.AppendInt(b, c/100, 10)
	if m.scale == 0 {
		return b
	}
	frac := c % 100
	b = append(b, '.', byte('0'+frac/10))
	if m.scale >= 2 {
		b = append(b, byte('0'+frac%10))
	}
	for range int(m.scale) - 2 {
		b = append(b, '0')
	}
	return b
}
