package sandbox

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masspayout/masspayout/iyzico"
)

// dialectWant is what the wire shows of a preset dialect once applied to Options.
type dialectWant struct {
	notFound       iyzico.Code
	notFoundStatus int
	failureStatus  int  // of every other business failure
	replay         bool // a byte-identical repeated init gets the original answer
	duplicate      iyzico.Code
	invalidState   iyzico.Code
	idInPage       bool   // retrieve items carry massPayoutRequestId
	idInItem       bool   // the retrieve item answer carries it
	refunded       string // final status of a failed item refunded (cents .99, insufficient balance)
	lost           string // final status of a failed item not refunded (cents .98)
	completed      string // final payout status, some item succeeded
	fail           string // final payout status, none did
}

var dialectWants = []struct {
	d    Dialect
	want dialectWant
}{
	{DialectOurs(), dialectWant{
		notFound: "10404", notFoundStatus: http.StatusBadRequest, failureStatus: http.StatusBadRequest,
		replay: true, duplicate: "10400", invalidState: "10409", idInPage: true, idInItem: true,
		refunded: "DEPOSIT_SUCCESS", lost: "DEPOSIT_FAIL", completed: "COMPLETED", fail: "FAIL",
	}},
	{DialectForeign(), dialectWant{
		notFound: "5404", notFoundStatus: http.StatusNotFound, failureStatus: http.StatusOK,
		replay: false, duplicate: "6001", invalidState: "6009", idInPage: false, idInItem: true,
		refunded: "FAILED", lost: "FAILED", completed: "SUCCESS", fail: "FAIL",
	}},
}

const unknownID = "b9a2f39c-0403-4869-a23a-371046c7431f"

func TestDialectPresets(t *testing.T) {
	if d := cmp.Diff([]Dialect{{}, DialectForeign()}, Dialects()); d != "" {
		t.Errorf("Dialects() (-want +got):\n%s", d)
	}
	var names []string
	for _, d := range Dialects() {
		names = append(names, d.String())
	}
	if !slices.Equal(names, []string{"ours", "foreign"}) {
		t.Errorf("names %q, want ours, foreign", names)
	}
	o := Options{FailureStatus: http.StatusTeapot, OmitRequestIDInItem: true}
	DialectOurs().Apply(&o)
	if o.FailureStatus != http.StatusTeapot || o.OmitRequestIDInRetrieve || !o.OmitRequestIDInItem || o.Dialect != (Dialect{}) {
		t.Errorf("DialectOurs().Apply changed more than Dialect: %+v", o)
	}
	DialectForeign().Apply(&o)
	if o.FailureStatus != http.StatusOK || !o.OmitRequestIDInRetrieve || o.OmitRequestIDInItem || o.Dialect != DialectForeign() {
		t.Errorf("DialectForeign().Apply: %+v", o)
	}
}

func TestDialects(t *testing.T) {
	for _, tt := range dialectWants {
		w := tt.want
		newHarness := func(t *testing.T) *harness {
			opts := Options{InitialBalance: dec("1000")}
			tt.d.Apply(&opts)
			return setupHTTP(t, opts)
		}
		t.Run(tt.d.String(), func(t *testing.T) {
			t.Run("not found", func(t *testing.T) {
				h := newHarness(t)
				a := h.init(initReq("e1", ibanItem("i1", "10")))
				for _, c := range []struct {
					name string
					r    reply
				}{
					{"retrieve by requestId", h.post(iyzico.PathRetrieve, iyzico.RetrieveRequest{RequestID: unknownID, Size: 10})},
					{"retrieve by externalMassPayoutId", h.post(iyzico.PathRetrieve, iyzico.RetrieveRequest{ExternalMassPayoutID: "nope", Size: 10})},
					{"retrieve by both, other payouts", h.post(iyzico.PathRetrieve, iyzico.RetrieveRequest{RequestID: a.RequestID, ExternalMassPayoutID: "nope", Size: 10})},
					{"retrieve item", h.get(iyzico.PathItemPrefix + unknownID)},
					{"auth", h.auth(unknownID)},
					{"cancel", h.post(iyzico.PathCancelPrefix+unknownID, nil)},
				} {
					t.Run(c.name, func(t *testing.T) { c.r.wantFailure(t, w.notFoundStatus, w.notFound) })
				}
			})

			t.Run("duplicate init", func(t *testing.T) {
				h := newHarness(t)
				req := initReq("e1", ibanItem("i1", "10"))
				body := bodyOf(t, req)
				var first, again iyzico.InitResponse
				h.post(iyzico.PathInit, body).decode(t, &first)
				r := h.post(iyzico.PathInit, body)
				if w.replay {
					r.wantSuccess(t)
					if r.decode(t, &again); again.RequestID != first.RequestID {
						t.Errorf("replay requestId %s, want the original %s", again.RequestID, first.RequestID)
					}
				} else {
					r.wantFailure(t, w.failureStatus, w.duplicate)
				}
				req.ConversationID = "other"
				h.post(iyzico.PathInit, req).wantFailure(t, w.failureStatus, w.duplicate)
				h.init(initReq("e2", ibanItem("i2", "10")))

				replays := 0
				if w.replay {
					replays = 1
				}
				st := h.s.Stats()
				if d := cmp.Diff(map[string]int{"e1": 2}, st.InitToExisting); d != "" {
					t.Errorf("InitToExisting (-want +got):\n%s", d)
				}
				if st.CommittedPayouts != 2 || st.InitReplays != replays || st.InitConflicts != 2-replays {
					t.Errorf("committed %d, replays %d, conflicts %d; want 2, %d, %d", st.CommittedPayouts, st.InitReplays, st.InitConflicts, replays, 2-replays)
				}
				var js Stats
				h.get("/sandbox/stats").decode(t, &js)
				if d := cmp.Diff(st.InitToExisting, js.InitToExisting); d != "" {
					t.Errorf("/sandbox/stats initToExisting (-Stats() +JSON):\n%s", d)
				}
			})

			t.Run("invalid state", func(t *testing.T) {
				h := newHarness(t)
				a := h.init(initReq("a", ibanItem("a1", "10")))
				b := h.init(initReq("b", ibanItem("b1", "10")))
				h.auth(a.RequestID).wantSuccess(t)
				h.auth(a.RequestID).wantFailure(t, w.failureStatus, w.invalidState)
				h.post(iyzico.PathCancelPrefix+a.RequestID, nil).wantFailure(t, w.failureStatus, w.invalidState)
				h.post(iyzico.PathCancelPrefix+b.RequestID, nil).wantSuccess(t)
				h.auth(b.RequestID).wantFailure(t, w.failureStatus, w.invalidState)
				h.auth(b.RequestID).wantFailure(t, w.failureStatus, w.invalidState)

				st := h.s.Stats()
				if d := cmp.Diff(map[string]int{a.RequestID: 1, b.RequestID: 2}, st.AuthToNonInit); d != "" {
					t.Errorf("AuthToNonInit (-want +got):\n%s", d)
				}
				if st.AuthInvalidState != 3 {
					t.Errorf("AuthInvalidState = %d, want 3", st.AuthInvalidState)
				}
			})

			t.Run("request id", func(t *testing.T) {
				h := newHarness(t)
				a := h.init(initReq("e1", ibanItem("i1", "10")))
				wantInPage, wantInItem := "", ""
				if w.idInPage {
					wantInPage = a.RequestID
				}
				if w.idInItem {
					wantInItem = a.RequestID
				}
				it := h.retrieve(iyzico.RetrieveRequest{RequestID: a.RequestID}).MassPayoutItems.Items[0]
				if it.MassPayoutRequestID != wantInPage {
					t.Errorf("retrieved item's massPayoutRequestId = %q, want %q", it.MassPayoutRequestID, wantInPage)
				}
				r := h.get(iyzico.PathItemPrefix + it.ReferenceCode)
				r.wantSuccess(t)
				var ir iyzico.ItemResponse
				if r.decode(t, &ir); ir.Item.MassPayoutRequestID != wantInItem {
					t.Errorf("item answer's massPayoutRequestId = %q, want %q", ir.Item.MassPayoutRequestID, wantInItem)
				}
			})

			t.Run("settlement", func(t *testing.T) {
				h := newHarness(t)
				some := h.init(initReq("some", ibanItem("ok", "100.00"), ibanItem("refund", "10.99"), ibanItem("lost", "5.98")))
				none := h.init(initReq("none", ibanItem("refund2", "1.99"), ibanItem("lost2", "2.98")))
				h.auth(some.RequestID).wantSuccess(t)
				h.auth(none.RequestID).wantSuccess(t)
				check := func(step, requestID, payout string, items map[string]string) {
					t.Helper()
					r := h.retrieve(iyzico.RetrieveRequest{RequestID: requestID})
					if r.MassPayout.MassPayoutStatus != payout {
						t.Errorf("%s: payout %s, want %s", step, r.MassPayout.MassPayoutStatus, payout)
					}
					if d := cmp.Diff(items, statuses(r)); d != "" {
						t.Errorf("%s: items (-want +got):\n%s", step, d)
					}
					for _, it := range r.MassPayoutItems.Items {
						if it.ItemStatus == iyzico.ItemFailed && !slices.Equal(it.ErrorMessages, []string{"Alıcı banka ödemeyi reddetti"}) {
							t.Errorf("%s: FAILED item %s messages %q, want the bank's rejection", step, it.ItemExternalID, it.ErrorMessages)
						}
					}
				}
				for _, step := range []string{"first read", "an hour later"} {
					check(step, some.RequestID, w.completed, map[string]string{"ok": "SUCCESS", "refund": w.refunded, "lost": w.lost})
					check(step, none.RequestID, w.fail, map[string]string{"refund2": w.refunded, "lost2": w.lost})
					h.clock.Add(time.Hour)
				}
				// 1000 − (100.00 + 10.99 + 5.98 + 1.99 + 2.98) − 5 × 1.00 + (10.99 + 1.00) + (1.99 + 1.00)
				if b := h.balance(); !b.Equal(dec("888.04")) {
					t.Errorf("balance = %s, want 888.04 (refunds credited)", b)
				}

				h.s.SetBalance(dec("1"))
				poor := h.init(initReq("poor", ibanItem("p1", "100.00")))
				h.auth(poor.RequestID).wantSuccess(t)
				r := h.retrieve(iyzico.RetrieveRequest{RequestID: poor.RequestID})
				it := r.MassPayoutItems.Items[0]
				if r.MassPayout.MassPayoutStatus != iyzico.PayoutInsufficientBalance || it.ItemStatus != w.refunded ||
					!slices.Equal(it.ErrorMessages, []string{"Toplu ödeme bakiyesi yetersiz"}) {
					t.Errorf("insufficient balance: payout %s, item %s %q; want INSUFFICIENT_BALANCE, %s with the insufficient-balance message",
						r.MassPayout.MassPayoutStatus, it.ItemStatus, it.ErrorMessages, w.refunded)
				}
				if b := h.balance(); !b.Equal(dec("1")) {
					t.Errorf("balance after an insufficient payout = %s, want 1", b)
				}
			})
		})
	}
}
