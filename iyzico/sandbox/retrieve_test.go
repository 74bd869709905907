package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/masspayout/masspayout/iyzico"
)

// pagedPayout inits a payout of n items where every third item (index 2, 5, …) is invalid.
func pagedPayout(t *testing.T, h *harness, ext string, n int) iyzico.InitResponse {
	t.Helper()
	items := make([]iyzico.Item, n)
	for i := range items {
		items[i] = ibanItem(fmt.Sprintf("%s-%03d", ext, i), "10")
		if i%3 == 2 {
			items[i].Amount.Currency = "GBP"
		}
	}
	return h.init(initReq(ext, items...))
}

func ids(r iyzico.RetrieveResponse) []string {
	var out []string
	for _, it := range r.MassPayoutItems.Items {
		out = append(out, it.ItemExternalID)
	}
	return out
}

func TestRetrievePaging(t *testing.T) {
	h := setup(t, Options{MaxPageSize: 4})
	a := pagedPayout(t, h, "p", 10) // valid: 0 1 3 4 6 7 9; invalid: 2 5 8
	tests := []struct {
		name       string
		req        iyzico.RetrieveRequest
		want       []string
		wantSize   int
		wantTotal  int64
		wantPageNo int
	}{
		{"all page 0", iyzico.RetrieveRequest{RequestID: a.RequestID, Page: 0, Size: 3}, []string{"p-000", "p-001", "p-002"}, 3, 10, 0},
		{"all page 3", iyzico.RetrieveRequest{RequestID: a.RequestID, Page: 3, Size: 3}, []string{"p-009"}, 3, 10, 3},
		{"beyond", iyzico.RetrieveRequest{RequestID: a.RequestID, Page: 4, Size: 3}, nil, 3, 10, 4},
		{"far beyond", iyzico.RetrieveRequest{RequestID: a.RequestID, Page: 1 << 40, Size: 3}, nil, 3, 10, 1 << 40},
		{"capped", iyzico.RetrieveRequest{RequestID: a.RequestID, Page: 1, Size: 40}, []string{"p-004", "p-005", "p-006", "p-007"}, 4, 10, 1},
		{"valid", iyzico.RetrieveRequest{ExternalMassPayoutID: "p", ItemType: "VALID", Page: 1, Size: 3}, []string{"p-004", "p-006", "p-007"}, 3, 7, 1},
		{"invalid", iyzico.RetrieveRequest{ExternalMassPayoutID: "p", ItemType: "INVALID", Page: 0, Size: 4}, []string{"p-002", "p-005", "p-008"}, 4, 3, 0},
		{"both ids", iyzico.RetrieveRequest{RequestID: a.RequestID, ExternalMassPayoutID: "p", ItemType: "INVALID", Size: 1}, []string{"p-002"}, 1, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.retrieve(tt.req)
			if d := cmp.Diff(tt.want, ids(r)); d != "" {
				t.Errorf("items (-want +got):\n%s", d)
			}
			page, size, total := r.Paging()
			if page != tt.wantPageNo || size != tt.wantSize || total != tt.wantTotal {
				t.Errorf("paging %d/%d/%d, want %d/%d/%d", page, size, total, tt.wantPageNo, tt.wantSize, tt.wantTotal)
			}
		})
	}
}

func TestRetrieveFailures(t *testing.T) {
	h := setup(t, Options{})
	a := pagedPayout(t, h, "p", 2)
	h.init(initReq("q", ibanItem("q1", "1")))
	tests := []struct {
		name string
		body string
		want iyzico.Code
	}{
		{"no id", `{"page":0,"size":10}`, CodeInvalidRequest},
		{"no size", `{"requestId":"` + a.RequestID + `","page":0}`, CodeInvalidRequest},
		{"size 0", `{"requestId":"` + a.RequestID + `","page":0,"size":0}`, CodeInvalidRequest},
		{"negative page", `{"requestId":"` + a.RequestID + `","page":-1,"size":10}`, CodeInvalidRequest},
		{"bad itemType", `{"requestId":"` + a.RequestID + `","itemType":"ALL","size":10}`, CodeInvalidRequest},
		{"not JSON", `{`, CodeInvalidRequest},
		{"unknown requestId", `{"requestId":"79cdefc1-3ce6-4f51-bdd9-c050274db664","size":10}`, CodeNotFound},
		{"unknown externalId", `{"externalMassPayoutId":"nope","size":10}`, CodeNotFound},
		{"ids of two payouts", `{"requestId":"` + a.RequestID + `","externalMassPayoutId":"q","size":10}`, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.post(iyzico.PathRetrieve, tt.body).wantFailure(t, http.StatusBadRequest, tt.want)
		})
	}
	// page may be absent (0).
	h.post(iyzico.PathRetrieve, `{"requestId":"`+a.RequestID+`","size":10}`).wantSuccess(t)
}

func TestRetrievePagingPlacement(t *testing.T) {
	for _, mode := range []string{PagingTop, PagingNested, PagingBoth, ""} {
		t.Run(mode, func(t *testing.T) {
			h := setup(t, Options{Paging: mode})
			a := h.init(initReq("e", ibanItem("i", "1")))
			f := h.post(iyzico.PathRetrieve, iyzico.RetrieveRequest{RequestID: a.RequestID, Size: 5}).fields(t)
			nested := f["massPayoutItems"].(map[string]any)
			_, top := f["total"]
			_, in := nested["total"]
			wantTop := mode != PagingNested
			wantIn := mode != PagingTop
			if top != wantTop || in != wantIn {
				t.Errorf("total at top %v, nested %v; want %v, %v", top, in, wantTop, wantIn)
			}
			if _, ok := f["requestId"]; ok {
				t.Errorf("retrieve carries a top-level requestId; iyzico's does not")
			}
		})
	}
}

// TestWireFormat checks numbers on the wire: amounts as JSON numbers with their digits,
// commissions with two decimals, the balance as a string.
func TestWireFormat(t *testing.T) {
	h := setup(t, Options{InitialBalance: dec("25399393.5")})
	a := h.init(initReq("w", ibanItem("i1", "100.50"), ibanItem("i2", "100")))
	r := h.post(iyzico.PathRetrieve, iyzico.RetrieveRequest{RequestID: a.RequestID, Size: 10})
	for _, want := range []string{
		`"totalAmount":200.50,`, `"totalSuccessfulAmount":0,`, `"totalCommissionAmount":2.00,`,
		`"totalAmount":100.50,"commissionAmount":1.00,"currencyCode":"TRY"`,
		`"totalAmount":100,"commissionAmount":1.00,`, `"merchantId":1,`, `"massPayoutStatus":"INIT"`,
		`"errorMessages":[]`, `"recipientName":"Ayşe Yılmaz"`, `"description":"maaş"`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("retrieve answer lacks %s:\n%s", want, r.body)
		}
	}
	if !json.Valid(r.body) {
		t.Errorf("retrieve answer is not JSON: %s", r.body)
	}
	b := h.get(iyzico.PathBalance)
	if !strings.Contains(string(b.body), `"balance":"25399393.5"`) {
		t.Errorf("balance answer %s, want balance as the string 25399393.5", b.body)
	}
	if ct := b.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestRetrieveItem(t *testing.T) {
	h := setup(t, Options{})
	bad := ibanItem("inv", "1")
	bad.Amount.Currency = "GBP"
	a := h.init(initReq("e", ibanItem("i1", "10"), bad))
	r := h.retrieve(iyzico.RetrieveRequest{RequestID: a.RequestID})
	for _, want := range r.MassPayoutItems.Items {
		got := h.get(iyzico.PathItemPrefix + want.ReferenceCode + "?locale=en")
		got.wantSuccess(t)
		var ir iyzico.ItemResponse
		got.decode(t, &ir)
		if want.ItemStatus == iyzico.ItemInvalid {
			want.ErrorMessages = []string{"currency must be TRY, USD or EUR"}
		}
		if d := cmp.Diff(&want, ir.Item); d != "" {
			t.Errorf("item (-want +got):\n%s", d)
		}
	}
	for _, ref := range []string{"b9a2f39c-0403-4869-a23a-371046c7431f", "x", upper(r.MassPayoutItems.Items[0].ReferenceCode)} {
		h.get(iyzico.PathItemPrefix+ref).wantFailure(t, http.StatusBadRequest, CodeNotFound)
	}
	// OmitRequestIDInRetrieve drops it from retrieve items only, OmitRequestIDInItem from the item
	// answer only.
	for _, opts := range []Options{{OmitRequestIDInRetrieve: true}, {OmitRequestIDInItem: true}} {
		h2 := setup(t, opts)
		b := h2.init(initReq("e", ibanItem("i1", "10")))
		wantInPage, wantInItem := b.RequestID, b.RequestID
		if opts.OmitRequestIDInRetrieve {
			wantInPage = ""
		}
		if opts.OmitRequestIDInItem {
			wantInItem = ""
		}
		r = h2.retrieve(iyzico.RetrieveRequest{RequestID: b.RequestID})
		if id := r.MassPayoutItems.Items[0].MassPayoutRequestID; id != wantInPage {
			t.Errorf("OmitRequestIDInRetrieve %t: retrieved item's massPayoutRequestId = %q, want %q", opts.OmitRequestIDInRetrieve, id, wantInPage)
		}
		var ir iyzico.ItemResponse
		h2.get(iyzico.PathItemPrefix+r.MassPayoutItems.Items[0].ReferenceCode).decode(t, &ir)
		if id := ir.Item.MassPayoutRequestID; id != wantInItem {
			t.Errorf("OmitRequestIDInItem %t: item answer's massPayoutRequestId = %q, want %q", opts.OmitRequestIDInItem, id, wantInItem)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "tab\tnl\ncr\r\x00\x1f", "Çağrı", "bad\xff\xfeutf8", "\u2028\u2029", "<&>"} {
		b := iyzico.AppendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("iyzico.AppendJSONString(%q) = %s: %v", s, b, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if s == "bad\xff\xfeutf8" {
			want = "bad\uFFFD\uFFFDutf8"
		}
		if got != want {
			t.Errorf("iyzico.AppendJSONString(%q) decodes to %q, want %q", s, got, want)
		}
	}
}
