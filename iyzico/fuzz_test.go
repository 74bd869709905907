package iyzico

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// FuzzParseAuthorization checks that ParseAuthorization never panics on any header, and that a
// header built by Authorization parses back to its parts whenever the parts are representable
// (a non-empty apiKey, no '&' in apiKey or randomKey).
func FuzzParseAuthorization(f *testing.F) {
	for _, v := range publishedVectors[:3] {
		f.Add(v.want, v.apiKey, v.secretKey, v.random, v.path, []byte(v.body))
	}
	f.Add("IYZWSv2 YXBpS2V5OmEmcmFuZG9tS2V5OnImc2lnbmF0dXJlOnM=", "a:b", "", "", "/", []byte(nil))
	f.Add("IYZWSv2 !!", "k", "s", "r&x", "/v1/mass/payout/init", []byte("{}"))
	f.Fuzz(func(t *testing.T, header, apiKey, secretKey, randomKey, path string, body []byte) {
		if c, err := ParseAuthorization(header); err == nil && (c.APIKey == "" || c.Signature == "") {
			t.Errorf("ParseAuthorization(%q) accepted %+v", header, c)
		}

		h := Authorization(apiKey, secretKey, randomKey, path, body)
		c, err := ParseAuthorization(h)
		if apiKey == "" || strings.Contains(apiKey, "&") || strings.Contains(randomKey, "&") {
			return // not representable in the IYZWSv2 payload
		}
		if err != nil {
			t.Fatalf("ParseAuthorization(Authorization(%q, _, %q, ...)) = %v", apiKey, randomKey, err)
		}
		want := Credentials{APIKey: apiKey, RandomKey: randomKey, Signature: Signature(secretKey, randomKey, path, body)}
		if c != want {
			t.Errorf("round trip = %+v, want %+v", c, want)
		}
	})
}

// FuzzAmountDecode checks that decoding any bytes into an Amount or an ItemDetail never panics,
// and that every accepted amount re-encodes to a JSON number that decodes to an equal decimal.
func FuzzAmountDecode(f *testing.F) {
	for _, s := range []string{
		`{"value":100.50,"currency":"TRY"}`,
		`{"value":"25399393.5","currency":"TRY"}`,
		`{"value":20.00000000,"currency":"TRY"}`,
		`{"value":1e3,"currency":"TRY"}`,
		`{"value":"-0.000","currency":""}`,
		`{"value":null}`,
		`{"itemExternalId":"ext-0077","itemStatus":"INIT","errorMessages":[],"totalAmount":100.50,"commissionAmount":20.00000000,"currencyCode":"TRY"}`,
		`{"totalAmount":"1E-10000","commissionAmount":"1e10000"}`,
		`{"totalAmount":"1e","commissionAmount":".5"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Amount
		if json.Unmarshal(data, &a) == nil {
			b, err := json.Marshal(a)
			if err != nil {
				t.Fatalf("Marshal(%+v) after decoding %q: %v", a, data, err)
			}
			var back Amount
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("re-decoding %s: %v", b, err)
			}
			if !back.Value.Equal(a.Value) || back.Currency != a.Currency {
				t.Errorf("%q → %s → %+v, want %+v", data, b, back, a)
			}
			checkNumber(t, a.Value)
		}
		var it ItemDetail
		if json.Unmarshal(data, &it) == nil {
			checkNumber(t, it.TotalAmount)
			checkNumber(t, it.CommissionAmount)
		}
	})
}

// checkNumber encodes d with AppendDecimal and checks that the text is a JSON number (not a
// string) that decodes to a decimal equal to d.
func checkNumber(t *testing.T, d decimal.Decimal) {
	t.Helper()
	b := AppendDecimal(nil, d)
	var n json.Number
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil || string(n) != string(b) {
		t.Fatalf("AppendDecimal(%s) = %s, not a JSON number (%v)", d, b, err)
	}
	var back decimal.Decimal
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	if !back.Equal(d) {
		t.Errorf("%s re-encoded as %s decodes to %s", d, b, back)
	}
}
