package sandbox

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masspayout/masspayout/iyzico"
)

func TestAuthAndSettlement(t *testing.T) {
	const delay = time.Minute
	h := setup(t, Options{SettleDelay: delay, InitialBalance: dec("10000")})
	bad := ibanItem("inv", "0")
	got := h.init(initReq("e1",
		ibanItem("ok", "100.50"),    // SUCCESS, commission 1.00
		ibanItem("refund", "10.99"), // FAILED → DEPOSIT_SUCCESS, commission 1.00
		ibanItem("lost", "1000.98"), // FAILED → DEPOSIT_FAIL, commission 5.00 (5.0049)
		bad,
	))
	h.auth(got.RequestID).wantSuccess(t)
	// 10000 − (100.50 + 10.99 + 1000.98) − (1.00 + 1.00 + 5.00)
	if b := h.balance(); !b.Equal(dec("8880.53")) {
		t.Errorf("balance after auth = %s, want 8880.53", b)
	}
	read := func() iyzico.RetrieveResponse {
		t.Helper()
		return h.retrieve(iyzico.RetrieveRequest{RequestID: got.RequestID})
	}
	type want struct {
		payout string
		items  map[string]string
	}
	check := func(step string, w want) iyzico.RetrieveResponse {
		t.Helper()
		r := read()
		if r.MassPayout.MassPayoutStatus != w.payout {
			t.Errorf("%s: payout %s, want %s", step, r.MassPayout.MassPayoutStatus, w.payout)
		}
		if d := cmp.Diff(w.items, statuses(r)); d != "" {
			t.Errorf("%s: items (-want +got):\n%s", step, d)
		}
		return r
	}
	check("after auth", want{iyzico.PayoutInProgress, map[string]string{"ok": "PROCESSING", "refund": "PROCESSING", "lost": "PROCESSING", "inv": "INVALID"}})
	h.clock.Add(delay - time.Nanosecond)
	check("just before", want{iyzico.PayoutInProgress, map[string]string{"ok": "PROCESSING", "refund": "PROCESSING", "lost": "PROCESSING", "inv": "INVALID"}})
	h.clock.Add(time.Nanosecond)
	r := check("bank answered", want{iyzico.PayoutPublishedToQueue, map[string]string{"ok": "SUCCESS", "refund": "FAILED", "lost": "FAILED", "inv": "INVALID"}})
	for _, it := range r.MassPayoutItems.Items {
		if it.ItemStatus == iyzico.ItemFailed && !slices.Equal(it.ErrorMessages, []string{"Alıcı banka ödemeyi reddetti"}) {
			t.Errorf("FAILED item messages %q", it.ErrorMessages)
		}
	}
	h.clock.Add(delay)
	r = check("final", want{iyzico.PayoutCompleted, map[string]string{"ok": "SUCCESS", "refund": "DEPOSIT_SUCCESS", "lost": "DEPOSIT_FAIL", "inv": "INVALID"}})
	if !r.MassPayout.TotalSuccessfulAmount.Equal(dec("100.50")) || !r.MassPayout.TotalCommissionAmount.Equal(dec("7")) {
		t.Errorf("summary %+v, want successful 100.50 and commission 7.00", r.MassPayout)
	}
	msgs := map[string][]string{}
	for _, it := range r.MassPayoutItems.Items {
		msgs[it.ItemExternalID] = it.ErrorMessages
	}
	wantMsgs := map[string][]string{
		"ok":     {},
		"refund": {"Alıcı banka ödemeyi reddetti"},
		"lost":   {"Alıcı banka ödemeyi reddetti", "Tutar ve komisyon toplu ödeme bakiyesine iade edilemedi"},
		"inv":    {"Tutar 0'dan büyük bir sayı olmalıdır"},
	}
	if d := cmp.Diff(wantMsgs, msgs); d != "" {
		t.Errorf("errorMessages (-want +got):\n%s", d)
	}
	// The refund of 10.99 + 1.00 is back.
	if b := h.balance(); !b.Equal(dec("8892.52")) {
		t.Errorf("final balance = %s, want 8892.52", b)
	}

	// Auth again: invalid state, counted.
	h.auth(got.RequestID).wantFailure(t, http.StatusBadRequest, CodeInvalidState)
	st := h.s.Stats()
	if st.AuthCalls[got.RequestID] != 2 || st.AuthCommits[got.RequestID] != 1 || st.AuthInvalidState != 1 {
		t.Errorf("auth stats calls %v commits %v invalid %d, want 2, 1, 1", st.AuthCalls, st.AuthCommits, st.AuthInvalidState)
	}
}

func TestSettleDelayZero(t *testing.T) {
	h := setup(t, Options{})
	a := h.init(initReq("all-fail", ibanItem("f1", "5.99"), ibanItem("f2", "5.98")))
	b := h.init(initReq("ok", ibanItem("s1", "5")))
	h.auth(a.RequestID).wantSuccess(t)
	h.auth(b.RequestID).wantSuccess(t)
	r := h.retrieve(iyzico.RetrieveRequest{RequestID: a.RequestID})
	if r.MassPayout.MassPayoutStatus != iyzico.PayoutFail {
		t.Errorf("all failed: payout %s, want FAIL", r.MassPayout.MassPayoutStatus)
	}
	if d := cmp.Diff(map[string]string{"f1": "DEPOSIT_SUCCESS", "f2": "DEPOSIT_FAIL"}, statuses(r)); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	// The item endpoint settles too.
	r = h.retrieve(iyzico.RetrieveRequest{RequestID: b.RequestID, Size: 1})
	ir := h.get(iyzico.PathItemPrefix + r.MassPayoutItems.Items[0].ReferenceCode)
	var item iyzico.ItemResponse
	ir.decode(t, &item)
	if item.Item.ItemStatus != iyzico.ItemSuccess {
		t.Errorf("item status %s, want SUCCESS", item.Item.ItemStatus)
	}
}

func TestBalanceReadSettles(t *testing.T) {
	h := setup(t, Options{InitialBalance: dec("100")})
	a := h.init(initReq("e", ibanItem("f1", "9.99")))
	h.auth(a.RequestID).wantSuccess(t)
	// Debited 9.99 + 1.00 and, settled by this very read, refunded.
	if b := h.balance(); !b.Equal(dec("100")) {
		t.Errorf("balance = %s, want 100 (refunded)", b)
	}
	if b := h.s.Balance(); !b.Equal(dec("100")) {
		t.Errorf("Balance() = %s, want 100", b)
	}
}

func TestInsufficientBalance(t *testing.T) {
	h := setup(t, Options{InitialBalance: dec("100"), SettleDelay: time.Second})
	a := h.init(initReq("big", ibanItem("b1", "60"), ibanItem("b2", "39.50"))) // + 2.00 commission > 100
	h.auth(a.RequestID).wantSuccess(t)
	r := h.retrieve(iyzico.RetrieveRequest{RequestID: a.RequestID})
	if r.MassPayout.MassPayoutStatus != iyzico.PayoutInsufficientBalance {
		t.Errorf("payout %s, want INSUFFICIENT_BALANCE", r.MassPayout.MassPayoutStatus)
	}
	if b := h.balance(); !b.Equal(dec("100")) {
		t.Errorf("balance = %s, want 100 untouched", b)
	}
	h.clock.Add(time.Second)
	if d := cmp.Diff(map[string]string{"b1": "FAILED", "b2": "FAILED"}, statuses(h.retrieve(iyzico.RetrieveRequest{RequestID: a.RequestID}))); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	h.clock.Add(time.Second)
	r = h.retrieve(iyzico.RetrieveRequest{RequestID: a.RequestID})
	if d := cmp.Diff(map[string]string{"b1": "DEPOSIT_SUCCESS", "b2": "DEPOSIT_SUCCESS"}, statuses(r)); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	if r.MassPayout.MassPayoutStatus != iyzico.PayoutInsufficientBalance || r.MassPayoutItems.Items[0].ErrorMessages[0] != "Toplu ödeme bakiyesi yetersiz" {
		t.Errorf("final %+v, want INSUFFICIENT_BALANCE with its message", r)
	}
	if b := h.balance(); !b.Equal(dec("100")) {
		t.Errorf("balance = %s, want 100 untouched", b)
	}
	h.auth(a.RequestID).wantFailure(t, http.StatusBadRequest, CodeInvalidState)

	// A smaller payout still fits: exactly the balance.
	h.s.SetBalance(dec("11.00"))
	b := h.init(initReq("fits", ibanItem("s", "10")))
	h.auth(b.RequestID).wantSuccess(t)
	if got := h.s.Balance(); !got.IsZero() {
		t.Errorf("balance = %s, want 0", got)
	}
}

func TestCancel(t *testing.T) {
	h := setup(t, Options{})
	bad := ibanItem("inv", "0")
	a := h.init(initReq("c1", ibanItem("i1", "10"), bad))
	h.post(iyzico.PathCancelPrefix+a.RequestID, nil).wantSuccess(t)
	r := h.retrieve(iyzico.RetrieveRequest{RequestID: a.RequestID})
	if r.MassPayout.MassPayoutStatus != iyzico.PayoutCanceled {
		t.Errorf("payout %s, want CANCELED", r.MassPayout.MassPayoutStatus)
	}
	if d := cmp.Diff(map[string]string{"i1": "MASS_PAYOUT_CANCELED", "inv": "INVALID"}, statuses(r)); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	h.post(iyzico.PathCancelPrefix+a.RequestID, nil).wantFailure(t, http.StatusBadRequest, CodeInvalidState)
	h.auth(a.RequestID).wantFailure(t, http.StatusBadRequest, CodeInvalidState)

	b := h.init(initReq("c2", ibanItem("j1", "10")))
	h.auth(b.RequestID).wantSuccess(t)
	h.post(iyzico.PathCancelPrefix+b.RequestID, nil).wantFailure(t, http.StatusBadRequest, CodeInvalidState)

	for _, id := range []string{"79cdefc1-3ce6-4f51-bdd9-c050274db664", "nope", "79CDEFC1-3CE6-4F51-BDD9-C050274DB664"} {
		h.post(iyzico.PathCancelPrefix+id, nil).wantFailure(t, http.StatusBadRequest, CodeNotFound)
		h.auth(id).wantFailure(t, http.StatusBadRequest, CodeNotFound)
	}
	// Upper-case form of a real id: not the id the sandbox issued.
	h.auth(upper(b.RequestID)).wantFailure(t, http.StatusBadRequest, CodeNotFound)
	h.post(iyzico.PathAuth, `{}`).wantFailure(t, http.StatusBadRequest, CodeInvalidRequest)
	h.post(iyzico.PathAuth, `nope`).wantFailure(t, http.StatusBadRequest, CodeInvalidRequest)

	st := h.s.Stats()
	if st.CancelCalls[a.RequestID] != 2 || st.CancelCalls[b.RequestID] != 1 || st.CancelCommits != 1 {
		t.Errorf("cancel stats %v commits %d, want 2, 1 and 1 commit", st.CancelCalls, st.CancelCommits)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
