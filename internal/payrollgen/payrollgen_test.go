package payrollgen

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/masspayout/masspayout/payoutfile"
)

// TestGeneratedRowsValidateAsIntended checks the generator against the real validator: valid rows
// pass, broken rows are rejected, and the totals agree.
func TestGeneratedRowsValidateAsIntended(t *testing.T) {
	var buf bytes.Buffer
	tot, err := WriteCSV(&buf, Options{Rows: 3000, InvalidEvery: 17, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := payoutfile.NewReader(bytes.NewReader(buf.Bytes()), payoutfile.Options{Format: payoutfile.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	valid, invalid := 0, 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Errors) == 0 {
			valid++
		} else {
			invalid++
			if rec.Row%17 != 0 {
				t.Errorf("row %d rejected unexpectedly: %v", rec.Row, rec.Errors)
			}
		}
	}
	if valid != tot.Valid || invalid != tot.Invalid || tot.Rows != 3000 {
		t.Errorf("reader valid/invalid %d/%d, generator %+v", valid, invalid, tot)
	}
}

func TestCheckDigitGenerators(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		if _, err := payoutfile.NormalizeIBAN(IBAN(r)); err != nil {
			t.Fatalf("IBAN invalid: %v", err)
		}
		if s := TCKN(r); !payoutfile.ValidTCKN(s) {
			t.Fatalf("TCKN %s invalid", s)
		}
		if _, err := payoutfile.NormalizePhone(Phone(r)); err != nil {
			t.Fatalf("phone invalid: %v", err)
		}
	}
	if got := IBANCheckDigits("TR", "0006100519786457841326"); got != "33" {
		t.Errorf("IBANCheckDigits = %s, want 33 (TR330006100519786457841326)", got)
	}
}
