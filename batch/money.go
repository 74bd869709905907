package batch

import (
	"math"
	"strings"

	"github.com/shopspring/decimal"
)

// sum adds decimal amounts given as text, exactly. While every term is plain digits (no sign, no
// exponent) it adds int64 units at the largest scale seen (fast: the report sums millions of
// amounts); any other term, or an overflow, moves it to decimal arithmetic.
type sum struct {
	units  int64
	scale  int32
	set    bool
	big    decimal.Decimal
	useBig bool
}

// add adds the amount s; it reports false (and adds nothing) when s is not a decimal number.
func (m *sum) add(s string) bool {
	if units, scale, ok := parseUnits(s); ok && m.addUnits(units, scale) {
		return true
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return false
	}
	m.toBig()
	m.big = m.big.Add(d)
	return true
}

// addUnits adds units at scale exactly in int64; it reports false, having switched m to decimal,
// when the result would not fit.
func (m *sum) addUnits(units int64, scale int32) bool {
	if m.useBig {
		return false
	}
	if !m.set {
		m.units, m.scale, m.set = units, scale, true
		return true
	}
	// Bring both to the larger scale; fall back to decimal on overflow.
	if scale > m.scale {
		r, ok := scaleUp(m.units, scale-m.scale)
		if !ok {
			m.toBig()
			return false
		}
		m.units, m.scale = r, scale
	} else if scale < m.scale {
		r, ok := scaleUp(units, m.scale-scale)
		if !ok {
			m.toBig()
			return false
		}
		units = r
	}
	if m.units > math.MaxInt64-units {
		m.toBig()
		return false
	}
	m.units += units
	return true
}

// merge adds the total of o.
func (m *sum) merge(o *sum) {
	switch {
	case !o.set && !o.useBig:
		return
	case !o.useBig && m.addUnits(o.units, o.scale):
		return
	}
	m.toBig()
	m.big = m.big.Add(o.value())
}

// scaleUp returns u·10^n when it fits an int64.
func scaleUp(u int64, n int32) (int64, bool) {
	for ; n > 0; n-- {
		if u > math.MaxInt64/10 {
			return 0, false
		}
		u *= 10
	}
	return u, true
}

func (m *sum) toBig() {
	if !m.useBig {
		m.big, m.useBig = decimal.New(m.units, -m.scale), true
	}
}

// value is the total.
func (m *sum) value() decimal.Decimal {
	if m.useBig {
		return m.big
	}
	return decimal.New(m.units, -m.scale)
}

// parseUnits reads "123" or "123.45" (no sign, no exponent, at most 18 digits, so that it fits an
// int64) as 12345 units of scale 2.
func parseUnits(s string) (units int64, scale int32, ok bool) {
	if s == "" || len(s) > 19 || (len(s) == 19 && strings.IndexByte(s, '.') < 0) {
		return 0, 0, false
	}
	dot := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			units = units*10 + int64(c-'0')
		case c == '.' && dot < 0 && i > 0 && i < len(s)-1:
			dot = i
		default:
			return 0, 0, false
		}
	}
	if dot >= 0 {
		scale = int32(len(s) - dot - 1)
	}
	return units, scale, true
}
