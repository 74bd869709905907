package iyzico

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/shopspring/decimal"
)

func dec(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("decimal %q: %v", s, err)
	}
	return d
}

func TestMarshalInitDocumentedBody(t *testing.T) {
	req := &InitRequest{
		ExternalID:     "massPayoutId-323ddd",
		ConversationID: "conversationId-323f",
		Purpose:        "SALARY",
		Items: []Item{{
			ItemExternalID: "ext-65656",
			RecipientType:  RecipientIBAN,
			RecipientInfo:  "TR920086402100002353983528",
			Amount:         Amount{Value: dec(t, "100"), Currency: "TRY"},
			Description:    "Payment for services",
			RecipientName:  "John Doe",
		}},
	}
	got, err := MarshalInit(req)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != initBody25 {
		t.Errorf("MarshalInit =\n%s\nwant\n%s", got, initBody25)
	}
	again, _ := MarshalInit(req)
	if string(again) != string(got) {
		t.Error("MarshalInit is not deterministic")
	}
}

func TestMarshalInitAmounts(t *testing.T) {
	for _, tc := range []struct {
		value decimal.Decimal
		want  string
	}{
		{dec(t, "100.50"), `100.50`},
		{dec(t, "100.5"), `100.5`},
		{dec(t, "0.10"), `0.10`},
		{dec(t, "20.00000000"), `20.00000000`},
		{dec(t, "1234567890123456789012.34"), `1234567890123456789012.34`},
		{dec(t, "-5.00"), `-5.00`},
		{decimal.New(1, 3), `1000`},
		{decimal.Decimal{}, `0`},
	} {
		req := &InitRequest{ExternalID: "b-00001", Items: []Item{{
			ItemExternalID: "i1", RecipientType: RecipientMemberID, RecipientInfo: "2228853",
			Amount: Amount{Value: tc.value, Currency: "TRY"},
		}}}
		got, err := MarshalInit(req)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"externalId":"b-00001","items":[{"itemExternalId":"i1","recipientType":"MEMBER_ID","recipientInfo":"2228853","amount":{"value":` + tc.want + `,"currency":"TRY"}}]}`
		if string(got) != want {
			t.Errorf("MarshalInit(%s) =\n%s\nwant\n%s", tc.value, got, want)
		}
	}
}

func TestMarshalInitEscapesAndFlags(t *testing.T) {
	req := &InitRequest{ExternalID: "b-00002", Items: []Item{{
		ItemExternalID: "i1", RecipientType: RecipientIBAN, RecipientInfo: "TR920086402100002353983528",
		Amount: Amount{Value: dec(t, "1"), Currency: "TRY"}, RecipientName: `Ali & "Veli" <Ltd>`,
		NonWithdrawable: true,
	}}}
	got, err := MarshalInit(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"externalId":"b-00002","items":[{"itemExternalId":"i1","recipientType":"IBAN","recipientInfo":"TR920086402100002353983528","amount":{"value":1,"currency":"TRY"},"recipientName":"Ali \u0026 \"Veli\" \u003cLtd\u003e","nonWithdrawable":true}]}`
	if string(got) != want {
		t.Errorf("MarshalInit =\n%s\nwant\n%s", got, want)
	}
}

func TestMarshalInitRefuses(t *testing.T) {
	item := Item{ItemExternalID: "i", RecipientType: RecipientMemberID, RecipientInfo: "1", Amount: Amount{Value: decimal.New(1, 0), Currency: "TRY"}}
	for name, req := range map[string]*InitRequest{
		"nil":           nil,
		"no externalId": {Items: []Item{item}},
		"no items":      {ExternalID: "b-1"},
		"empty items":   {ExternalID: "b-1", Items: []Item{}},
	} {
		if _, err := MarshalInit(req); !errors.Is(err, ErrInvalidRequest) || !IsPermanent(err) {
			t.Errorf("%s: MarshalInit error = %v, want ErrInvalidRequest", name, err)
		}
	}
}

func TestAppendDecimalIgnoresScientificNotation(t *testing.T) {
	// Not parallel: it flips a package-level switch of shopspring/decimal.
	old := decimal.UseScientificNotation
	decimal.UseScientificNotation = true
	t.Cleanup(func() { decimal.UseScientificNotation = old })
	if got := string(AppendDecimal(nil, decimal.New(12, 3))); got != "12000" {
		t.Errorf("AppendDecimal(12e3) = %s, want 12000", got)
	}
}

func TestDecodeAmounts(t *testing.T) {
	var a Amount
	if err := json.Unmarshal([]byte(`{"value":"25399393.5","currency":"TRY"}`), &a); err != nil {
		t.Fatal(err)
	}
	if !a.Value.Equal(dec(t, "25399393.5")) || a.Currency != "TRY" {
		t.Errorf("Amount from string = %+v", a)
	}
	if err := json.Unmarshal([]byte(`{"value":100.50,"currency":"TRY"}`), &a); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(a); string(b) != `{"value":100.50,"currency":"TRY"}` {
		t.Errorf("Amount round trip = %s", b)
	}

	var b BalanceResponse
	if err := json.Unmarshal([]byte(`{"status":"success","systemTime":1759158319395,"balance":"25399393.5"}`), &b); err != nil {
		t.Fatal(err)
	}
	if !b.Balance.Equal(dec(t, "25399393.5")) {
		t.Errorf("balance = %s", b.Balance)
	}
	if err := json.Unmarshal([]byte(`{"status":"success","balance":1234.56}`), &b); err != nil || !b.Balance.Equal(dec(t, "1234.56")) {
		t.Errorf("balance from number = %s, %v", b.Balance, err)
	}
	if err := json.Unmarshal([]byte(`{"status":"success","balance":"12,5"}`), &b); err == nil {
		t.Error("balance \"12,5\" decoded without error")
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRetrieveNestedPaging(t *testing.T) {
	// iyzico.md §3.5, EN-overview example: paging inside massPayoutItems, 20.00000000 commission.
	var r RetrieveResponse
	if err := json.Unmarshal(readFixture(t, "retrieve_nested.json"), &r); err != nil {
		t.Fatal(err)
	}
	if page, size, total := r.Paging(); page != 0 || size != 40 || total != 2 {
		t.Errorf("Paging = %d, %d, %d; want 0, 40, 2", page, size, total)
	}
	if r.MassPayout == nil || !r.MassPayout.TotalAmount.Equal(dec(t, "201")) || r.MassPayout.MerchantID != 123456 {
		t.Fatalf("massPayout = %+v", r.MassPayout)
	}
	if got := string(AppendDecimal(nil, r.MassPayout.TotalAmount)); got != "201.00" {
		t.Errorf("totalAmount keeps digits %s, want 201.00", got)
	}
	it := r.MassPayoutItems.Items[0]
	if !it.TotalAmount.Equal(dec(t, "100.5")) || !it.CommissionAmount.Equal(dec(t, "20")) {
		t.Errorf("item amounts = %s, %s", it.TotalAmount, it.CommissionAmount)
	}
	if got := string(AppendDecimal(nil, it.CommissionAmount)); got != "20.00000000" {
		t.Errorf("commission keeps digits %s, want 20.00000000", got)
	}
	if it.ItemStatus != ItemInit || it.ErrorMessages == nil || len(it.ErrorMessages) != 0 {
		t.Errorf("item = %+v", it)
	}
}

func TestDecodeRetrieveTopLevelPaging(t *testing.T) {
	// iyzico.md §3.5, EN-retrieve example: paging at the top level.
	var r RetrieveResponse
	if err := json.Unmarshal(readFixture(t, "retrieve_top.json"), &r); err != nil {
		t.Fatal(err)
	}
	if page, size, total := r.Paging(); page != 0 || size != 40 || total != 2 {
		t.Errorf("Paging = %d, %d, %d; want 0, 40, 2", page, size, total)
	}
	if n := len(r.MassPayoutItems.Items); n != 2 {
		t.Errorf("%d items, want 2", n)
	}
	var sum decimal.Decimal
	for _, it := range r.MassPayoutItems.Items {
		sum = sum.Add(it.TotalAmount)
	}
	if !sum.Equal(r.MassPayout.TotalAmount) {
		t.Errorf("item totals %s != payout total %s", sum, r.MassPayout.TotalAmount)
	}
}

func TestPagingMissingAndPrecedence(t *testing.T) {
	var r RetrieveResponse
	if err := json.Unmarshal([]byte(`{"status":"success","massPayoutItems":{"items":[]}}`), &r); err != nil {
		t.Fatal(err)
	}
	if page, size, total := r.Paging(); page != 0 || size != 0 || total != -1 {
		t.Errorf("Paging without paging = %d, %d, %d; want 0, 0, -1", page, size, total)
	}
	if err := json.Unmarshal([]byte(`{"status":"success","page":3,"size":10,"total":99,"massPayoutItems":{"items":[],"page":1,"size":5,"total":7}}`), &r); err != nil {
		t.Fatal(err)
	}
	if page, size, total := r.Paging(); page != 3 || size != 10 || total != 99 {
		t.Errorf("Paging = %d, %d, %d; want the top level 3, 10, 99", page, size, total)
	}
}

func TestDecodeEnvelopes(t *testing.T) {
	for _, tc := range []struct {
		body   string
		status Status
		code   Code
	}{
		{`{"status":"failure","errorCode":"1000","errorMessage":"Geçersiz imza","locale":"tr","systemTime":1688561366716,"conversationId":"123456789"}`, StatusFailure, CodeInvalidSignature},
		{`{"status":"failure","errorCode":50000,"errorMessage":"Request Limit Exceeded","locale":"en"}`, StatusFailure, CodeRateLimited},
		{`{"status":401,"errorCode":"5","errorMessage":"Authentication failed!","systemTime":1753183509796,"locale":"tr"}`, "401", CodeGatewayAuthFailed},
		{`{"status":"success","errorCode":null}`, StatusSuccess, ""},
	} {
		var r AuthResponse
		if err := json.Unmarshal([]byte(tc.body), &r); err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if r.Status != tc.status || r.ErrorCode != tc.code {
			t.Errorf("%s: status %q code %q, want %q %q", tc.body, r.Status, r.ErrorCode, tc.status, tc.code)
		}
	}
	var r AuthResponse
	if err := json.Unmarshal([]byte(`{"status":true}`), &r); err == nil {
		t.Error(`status true decoded without error`)
	}
}

func TestDecodeItemAndInit(t *testing.T) {
	var ir ItemResponse
	if err := json.Unmarshal(readFixture(t, "item.json"), &ir); err != nil {
		t.Fatal(err)
	}
	if ir.Item == nil || ir.Item.ReferenceCode != "b9a2f39c-0403-4869-a23a-371046c7431f" || !ir.Item.TotalAmount.Equal(decimal.New(100, 0)) {
		t.Errorf("item = %+v", ir.Item)
	}
	var in InitResponse
	body := `{"status":"success","systemTime":1759231970716,"conversationId":"c-1","requestId":"79cdefc1-3ce6-4f51-bdd9-0c050274db64","invalidItems":[{"externalId":"ext-1","errorCode":"2001","errorMessage":"bad IBAN"}]}`
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if in.RequestID != "79cdefc1-3ce6-4f51-bdd9-0c050274db64" || len(in.InvalidItems) != 1 || in.InvalidItems[0].ExternalID != "ext-1" || in.InvalidItems[0].ErrorCode != "2001" {
		t.Errorf("init = %+v", in)
	}
}
