package sandbox

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/masspayout/masspayout/iyzico"
)

func TestInit(t *testing.T) {
	h := setup(t, Options{})
	bad := ibanItem("i2", "5")
	bad.RecipientInfo = "TR340006100519786457841326"
	noName := ibanItem("i4", "5")
	noName.RecipientName = ""
	req := initReq("ext-1", ibanItem("i1", "100.50"), bad,
		iyzico.Item{ItemExternalID: "i3", RecipientType: iyzico.RecipientPhone, RecipientInfo: testPhone, Amount: iyzico.Amount{Value: dec("7"), Currency: "EUR"}},
		noName)
	r := h.post(iyzico.PathInit, req)
	r.wantSuccess(t)
	var got iyzico.InitResponse
	r.decode(t, &got)
	if _, err := uuid.Parse(got.RequestID); err != nil {
		t.Errorf("requestId %q is not a UUID", got.RequestID)
	}
	if got.ConversationID != "conv-ext-1" {
		t.Errorf("conversationId = %q, want echo", got.ConversationID)
	}
	want := []iyzico.InvalidItem{
		{ExternalID: "i2", ErrorCode: CodeInvalidIBAN, ErrorMessage: "Geçersiz IBAN"},
		{ExternalID: "i4", ErrorCode: CodeRecipientNameRequired, ErrorMessage: "IBAN için alıcı adı zorunludur"},
	}
	if d := cmp.Diff(want, got.InvalidItems); d != "" {
		t.Errorf("invalidItems (-want +got):\n%s", d)
	}

	rr := h.retrieve(iyzico.RetrieveRequest{RequestID: got.RequestID})
	if d := cmp.Diff(map[string]string{"i1": "INIT", "i2": "INVALID", "i3": "INIT", "i4": "INVALID"}, statuses(rr)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	refs := map[string]bool{}
	for _, it := range rr.MassPayoutItems.Items {
		if _, err := uuid.Parse(it.ReferenceCode); err != nil || refs[it.ReferenceCode] || it.ReferenceCode == got.RequestID {
			t.Errorf("referenceCode %q not a fresh UUID", it.ReferenceCode)
		}
		refs[it.ReferenceCode] = true
		if it.MassPayoutRequestID != got.RequestID {
			t.Errorf("massPayoutRequestId = %q, want %q", it.MassPayoutRequestID, got.RequestID)
		}
	}
	if rr.MassPayout.MassPayoutStatus != iyzico.PayoutInit || !rr.MassPayout.TotalAmount.Equal(dec("107.5")) ||
		!rr.MassPayout.TotalCommissionAmount.Equal(dec("2")) || rr.MassPayout.Currency != "TRY" {
		t.Errorf("summary %+v, want INIT, total 107.5 (valid items), commission 2.00, TRY", rr.MassPayout)
	}

	// Every item valid: invalidItems is [] rather than absent.
	r = h.post(iyzico.PathInit, initReq("ext-2", ibanItem("j1", "1")))
	if f := r.fields(t); fmt.Sprint(f["invalidItems"]) != "[]" {
		t.Errorf("invalidItems = %v, want []", f["invalidItems"])
	}
}

func TestInitAllInvalid(t *testing.T) {
	h := setup(t, Options{})
	bad := ibanItem("i1", "0")
	got := h.init(initReq("ext-bad", bad))
	if len(got.InvalidItems) != 1 || got.InvalidItems[0].ErrorCode != CodeInvalidAmount {
		t.Fatalf("invalidItems %+v, want i1 CodeInvalidAmount", got.InvalidItems)
	}
	rr := h.retrieve(iyzico.RetrieveRequest{ExternalMassPayoutID: "ext-bad"})
	if rr.MassPayout.MassPayoutStatus != iyzico.PayoutInit || !rr.MassPayout.TotalAmount.IsZero() {
		t.Errorf("summary %+v, want INIT and total 0", rr.MassPayout)
	}
	if st := h.s.Stats(); st.CommittedPayouts != 1 || st.CommittedItems != 1 {
		t.Errorf("committed %d payouts %d items, want 1 and 1", st.CommittedPayouts, st.CommittedItems)
	}
}

func TestInitRequestFailures(t *testing.T) {
	h := setup(t, Options{})
	tests := []struct {
		name string
		body string
		want iyzico.Code
	}{
		{"not JSON", `{"externalId":`, CodeInvalidRequest},
		{"array", `[]`, CodeInvalidRequest},
		{"wrong type", `{"externalId":5,"items":[]}`, CodeInvalidRequest},
		{"no externalId", `{"items":[{"itemExternalId":"a"}]}`, CodeInvalidRequest},
		{"no items", `{"externalId":"e1"}`, CodeInvalidRequest},
		{"empty items", `{"externalId":"e1","items":[]}`, CodeInvalidRequest},
		{"bad purpose", `{"externalId":"e1","purpose":"LOTTERY","items":[{"itemExternalId":"a"}]}`, CodeInvalidRequest},
		{"empty body", ``, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.post(iyzico.PathInit, tt.body).wantFailure(t, http.StatusBadRequest, tt.want)
		})
	}
	if st := h.s.Stats(); st.CommittedPayouts != 0 {
		t.Errorf("committed %d payouts, want 0", st.CommittedPayouts)
	}
	// FailureStatus 200.
	h2 := setup(t, Options{FailureStatus: http.StatusOK})
	h2.post(iyzico.PathInit, `{}`).wantFailure(t, http.StatusOK, CodeInvalidRequest)
}

func TestInitIdempotency(t *testing.T) {
	h := setup(t, Options{})
	bad := ibanItem("i2", "1.001")
	body := bodyOf(t, initReq("ext-1", ibanItem("i1", "10"), bad))
	first := h.post(iyzico.PathInit, body)
	first.wantSuccess(t)
	var a, b iyzico.InitResponse
	first.decode(t, &a)

	h.clock.Add(1000)
	again := h.post(iyzico.PathInit+"?locale=en", body)
	again.wantSuccess(t)
	again.decode(t, &b)
	if b.RequestID != a.RequestID {
		t.Errorf("replayed requestId %q, want %q", b.RequestID, a.RequestID)
	}
	if len(b.InvalidItems) != 1 || b.InvalidItems[0].ExternalID != "i2" || b.InvalidItems[0].ErrorCode != CodeAmountScale {
		t.Errorf("replayed invalidItems %+v, want the original", b.InvalidItems)
	}

	// Same externalId, other bytes (even only whitespace): refused.
	other := append([]byte(" "), body...)
	h.post(iyzico.PathInit, other).wantFailure(t, http.StatusBadRequest, CodeDuplicateExternalID)
	h.post(iyzico.PathInit, initReq("ext-1", ibanItem("i1", "11"))).wantFailure(t, http.StatusBadRequest, CodeDuplicateExternalID)
	// Even an empty item list is a duplicate, not a bad request: the externalId is looked up first.
	h.post(iyzico.PathInit, `{"externalId":"ext-1","items":[]}`).wantFailure(t, http.StatusBadRequest, CodeDuplicateExternalID)

	st := h.s.Stats()
	want := Stats{CommittedPayouts: 1, CommittedItems: 2, InitReplays: 1, InitConflicts: 3,
		InitAttempts: map[string]int{"ext-1": 5}, InitBodies: map[string]int{"ext-1": 4}}
	if st.CommittedPayouts != want.CommittedPayouts || st.CommittedItems != want.CommittedItems ||
		st.InitReplays != want.InitReplays || st.InitConflicts != want.InitConflicts ||
		!cmp.Equal(st.InitAttempts, want.InitAttempts) || !cmp.Equal(st.InitBodies, want.InitBodies) {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

// TestInitConcurrentSameExternalID races identical inits: one payout, one requestId for all.
func TestInitConcurrentSameExternalID(t *testing.T) {
	h := setup(t, Options{})
	body := bodyOf(t, initReq("race", ibanItem("i1", "10"), ibanItem("i2", "20")))
	ids := make([]string, 16)
	var wg sync.WaitGroup
	for n := range ids {
		wg.Go(func() {
			r := h.post(iyzico.PathInit, body)
			var out iyzico.InitResponse
			r.decode(t, &out)
			ids[n] = out.RequestID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("requestIds %v, want one and the same", ids)
		}
	}
	if st := h.s.Stats(); st.CommittedPayouts != 1 || st.InitReplays != 15 || st.CommittedItems != 2 {
		t.Errorf("stats %+v, want 1 payout, 2 items, 15 replays", st)
	}
}

func TestItemsUnderManyExternalIDs(t *testing.T) {
	h := setup(t, Options{})
	h.init(initReq("A", ibanItem("x", "1"), ibanItem("y", "1"), ibanItem("y", "2")))
	h.init(initReq("B", ibanItem("x", "1"), ibanItem("z", "1")))
	bad := ibanItem("x", "0")
	h.init(initReq("C", bad))
	want := map[string][]string{"x": {"A", "B", "C"}}
	if d := cmp.Diff(want, h.s.Stats().ItemsUnderManyExternalIDs); d != "" {
		t.Errorf("ItemsUnderManyExternalIDs (-want +got):\n%s", d)
	}
}
