package batch

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/iyzico"
)

func TestOutcomesRoundTrip(t *testing.T) {
	long := strings.Repeat("Alıcı hesabı kapalı; ", 20) // over 127 bytes: a two-byte length
	cases := [][]Outcome{
		{{Status: iyzico.ItemInit}},
		{{Status: iyzico.ItemInit}, {Status: iyzico.ItemInvalid, Code: "10051", Message: "IBAN geçersiz"}},
		{{Status: iyzico.ItemDepositSuccess, Ref: "ref-1", Commission: "1.00"}, {Status: RowUnknown, Message: long}, {}},
	}
	for _, in := range cases {
		got, err := decodeOutcomes(encodeOutcomes(in), len(in))
		if err != nil || !reflect.DeepEqual(got, in) {
			t.Errorf("round trip of %+v = %+v, %v", in, got, err)
		}
	}
	if got, err := decodeOutcomes("", 3); got != nil || err != nil {
		t.Errorf(`decodeOutcomes("") = %v, %v; want none recorded`, got, err)
	}
}

func TestDecodeOutcomesRejectsDamage(t *testing.T) {
	enc := encodeOutcomes([]Outcome{{Status: iyzico.ItemInit}, {Status: iyzico.ItemInvalid, Message: "bad"}})
	for name, s := range map[string]string{
		"truncated":       enc[:len(enc)-1],
		"trailing bytes":  enc + "x",
		"length too long": "\x7fINIT",
		"unended varint":  "\xff\xff",
	} {
		if _, err := decodeOutcomes(s, 2); err == nil {
			t.Errorf("%s: decodeOutcomes(%q) accepted damaged outcomes", name, s)
		}
	}
	if _, err := decodeOutcomes(enc, 3); err == nil {
		t.Error("decodeOutcomes read 3 outcomes from 2")
	}
}

// TestOutcomesSurviveTheLedger records outcomes with a commit and reads them back with GetChunk.
func TestOutcomesSurviveTheLedger(t *testing.T) {
	s, q := newStore(t)
	body := header + "a1,IDENTITY_NUMBER,17291716060,,200.25,TRY\na2,MEMBER_ID,2228853,,7000,TRY\n"
	if _, err := submitBytes(t, s, q, "oc", "csv", body, 10); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := s.GetChunk(ctx, "oc", 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Outcomes != nil || !reflect.DeepEqual(c.Statuses(), []string{RowPending, RowPending}) {
		t.Fatalf("fresh chunk: outcomes %+v statuses %v", c.Outcomes, c.Statuses())
	}
	want := []Outcome{{Status: iyzico.ItemSuccess, Ref: "r-1", Commission: "1.00"}, {Status: iyzico.ItemFailed, Code: "E1", Message: "hesap kapalı, \"tekrar\" deneyin\n"}}
	cl, err := s.Claim(ctx, "oc", 1, StepReconcile, time.Minute, ChunkStatesAll, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Commit(ctx, Change{Event: EvSeenFinal, Outcomes: want}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetChunk(ctx, "oc", 1)
	if err != nil || !reflect.DeepEqual(got.Outcomes, want) {
		t.Fatalf("read back %+v, %v; want %+v", got.Outcomes, err, want)
	}
}

// FuzzDecodeOutcomes: any stored bytes decode without a panic, and what decodes re-encodes to the
// same bytes (the form has one spelling per value).
func FuzzDecodeOutcomes(f *testing.F) {
	f.Add(encodeOutcomes([]Outcome{{Status: iyzico.ItemInit}, {Status: iyzico.ItemInvalid, Code: "1", Message: "m"}}), 2)
	f.Add("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 1)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1000 {
			return
		}
		out, err := decodeOutcomes(s, n)
		if err != nil || s == "" {
			return
		}
		if again := encodeOutcomes(out); again != s {
			t.Fatalf("decode(%q) re-encodes as %q", s, again)
		}
	})
}
