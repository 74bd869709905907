// Package payrollgen generates realistic payroll payout files for tests, benchmarks and the bundled
// sample: Turkish IBANs and identity numbers with correct check digits, E.164 phones, amounts
// with at most two decimals, and, on request, rows made invalid on purpose (one rule each).
package payrollgen

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"strconv"

	"github.com/shopspring/decimal"
)

// Options shape a generated file.
type Options struct {
	Rows int
	// InvalidEvery makes every n-th row invalid (0: none), cycling through the broken rules.
	InvalidEvery int
	// Seed makes the file reproducible.
	Seed uint64
	// Delimiter is the CSV delimiter (default ',').
	Delimiter rune
	// IDPrefix is put before every item_external_id ("emp-<n>"). An item_external_id names one
	// payment, so two files meant to be paid both need different ones (see batch/repeat.go).
	IDPrefix string
	// BankFailEvery gives every n-th valid row an amount ending in .99, which the sandbox's bank
	// fails (then refunds); 0: none.
	BankFailEvery int
}

// Totals are what a generated file holds.
type Totals struct {
	Rows, Valid, Invalid int
	// Amounts per currency over every row whose amount is readable.
	Amounts map[string]decimal.Decimal
	// ValidAmounts per currency over valid rows only.
	ValidAmounts map[string]decimal.Decimal
}

// Header is the generated CSV header.
var Header = []string{"item_external_id", "recipient_type", "recipient_info", "recipient_name", "amount", "currency", "description"}

var (
	firstNames = []string{"Ayşe", "Mehmet", "Fatma", "Mustafa", "Emine", "Ahmet", "Hatice", "Ali", "Zeynep", "Hüseyin", "Elif", "İbrahim", "Şule", "Gökhan", "Özge", "Çağrı"}
	lastNames  = []string{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç"}
	banks      = []string{"00010", "00012", "00015", "00046", "00059", "00062", "00064", "00067", "00111", "00134"}
)

// WriteCSV writes a payroll CSV to w and returns its totals.
func WriteCSV(w io.Writer, o Options) (Totals, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := csv.NewWriter(bw)
	if o.Delimiter != 0 {
		cw.Comma = o.Delimiter
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x6d70))
	t := Totals{Amounts: map[string]decimal.Decimal{}, ValidAmounts: map[string]decimal.Decimal{}}
	if err := cw.Write(Header); err != nil {
		return t, err
	}
	rec := make([]string, len(Header))
	for i := 1; i <= o.Rows; i++ {
		row := NewRow(r, i)
		row.ItemExternalID = o.IDPrefix + row.ItemExternalID
		if o.BankFailEvery > 0 && i%o.BankFailEvery == 0 {
			row.Amount = row.Amount[:len(row.Amount)-3] + ".99"
		}
		invalid := o.InvalidEvery > 0 && i%o.InvalidEvery == 0
		if invalid {
			row.breakRule((i / o.InvalidEvery) % ruleCount)
		}
		rec = append(rec[:0], row.ItemExternalID, row.RecipientType, row.RecipientInfo, row.RecipientName, row.Amount, row.Currency, row.Description)
		if err := cw.Write(rec); err != nil {
			return t, err
		}
		t.Rows++
		amt, err := decimal.NewFromString(row.Amount)
		readable := err == nil && row.Currency != ""
		if readable {
			t.Amounts[row.Currency] = t.Amounts[row.Currency].Add(amt)
		}
		if invalid {
			t.Invalid++
		} else {
			t.Valid++
			t.ValidAmounts[row.Currency] = t.ValidAmounts[row.Currency].Add(amt)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return t, err
	}
	return t, bw.Flush()
}

// A Row is one generated payroll row, as text.
type Row struct {
	ItemExternalID, RecipientType, RecipientInfo, RecipientName, Amount, Currency, Description string
}

// NewRow generates the n-th valid row: mostly IBAN salaries, some to identity numbers, phones and
// member IDs.
func NewRow(r *rand.Rand, n int) Row {
	row := Row{
		ItemExternalID: "emp-" + strconv.Itoa(n),
		RecipientName:  firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))],
		Amount:         fmt.Sprintf("%d.%02d", 17002+r.IntN(80000), r.IntN(99)),
		Currency:       "TRY",
		Description:    "Maaş " + strconv.Itoa(n),
	}
	switch k := r.IntN(20); {
	case k < 14:
		row.RecipientType, row.RecipientInfo = "IBAN", IBAN(r)
	case k < 17:
		row.RecipientType, row.RecipientInfo = "IDENTITY_NUMBER", TCKN(r)
	case k < 19:
		row.RecipientType, row.RecipientInfo = "PHONE", Phone(r)
	default:
		row.RecipientType, row.RecipientInfo = "MEMBER_ID", strconv.Itoa(1000000+r.IntN(9000000))
	}
	if r.IntN(50) == 0 {
		row.Currency = "USD"
		row.Amount = fmt.Sprintf("%d.%02d", 500+r.IntN(3000), r.IntN(99))
	}
	return row
}

const ruleCount = 6

// breakRule makes the row break one validation rule.
func (row *Row) breakRule(k int) {
	switch k {
	case 0: // IBAN check digits off by one
		row.RecipientType = "IBAN"
		iban := []byte(IBAN(rand.New(rand.NewPCG(uint64(len(row.ItemExternalID)), 7))))
		iban[len(iban)-1] = '0' + (iban[len(iban)-1]-'0'+1)%10
		row.RecipientInfo = string(iban)
	case 1: // more decimals than the currency allows
		row.Amount += "5"
	case 2: // TCKN with a wrong last digit
		row.RecipientType = "IDENTITY_NUMBER"
		t := []byte(TCKN(rand.New(rand.NewPCG(uint64(len(row.Description)), 9))))
		t[10] = '0' + (t[10]-'0'+1)%10
		row.RecipientInfo = string(t)
	case 3: // unsupported currency
		row.Currency = "GBP"
	case 4: // IBAN without a name
		row.RecipientType, row.RecipientInfo, row.RecipientName = "IBAN", IBAN(rand.New(rand.NewPCG(3, 3))), ""
	case 5: // amount with a thousands separator
		row.Amount = "1,250.00"
	}
}

// IBAN returns a random valid Turkish IBAN (26 characters, correct mod-97 check digits).
func IBAN(r *rand.Rand) string {
	bban := banks[r.IntN(len(banks))] + "0"
	for len(bban) < 22 {
		bban += strconv.Itoa(r.IntN(10))
	}
	return "TR" + IBANCheckDigits("TR", bban) + bban
}

// IBANCheckDigits computes the two check digits of an IBAN with country cc and BBAN bban.
func IBANCheckDigits(cc, bban string) string {
	s := ""
	for _, c := range bban + cc + "00" {
		if c >= 'A' && c <= 'Z' {
			s += strconv.Itoa(int(c-'A') + 10)
		} else {
			s += string(c)
		}
	}
	n, _ := new(big.Int).SetString(s, 10)
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("%02d", check)
}

// TCKN returns a random valid T.C. identity number (11 digits, first not 0, both check digits).
func TCKN(r *rand.Rand) string {
	d := make([]int, 11)
	d[0] = 1 + r.IntN(9)
	for i := 1; i < 9; i++ {
		d[i] = r.IntN(10)
	}
	odd := d[0] + d[2] + d[4] + d[6] + d[8]
	even := d[1] + d[3] + d[5] + d[7]
	d[9] = ((odd*7-even)%10 + 10) % 10
	sum := 0
	for i := 0; i < 10; i++ {
		sum += d[i]
	}
	d[10] = sum % 10
	b := make([]byte, 11)
	for i, v := range d {
		b[i] = byte('0' + v)
	}
	return string(b)
}

// Phone returns a random Turkish mobile number, half in national form (05xx…), half E.164.
func Phone(r *rand.Rand) string {
	n := fmt.Sprintf("5%02d%07d", 30+r.IntN(30), r.IntN(10000000))
	if r.IntN(2) == 0 {
		return "0" + n
	}
	return "+90" + n
}
