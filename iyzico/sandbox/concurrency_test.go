package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/iyzico"
)

// TestConcurrentUse runs many goroutines of init, replayed init, auth, cancel, retrieve,
// retrieve item and balance against one server (go test -race), then checks that money is
// conserved: the balance fell by exactly the amount plus commission of SUCCESS and DEPOSIT_FAIL
// items.
func TestConcurrentUse(t *testing.T) {
	const workers, payoutsEach, itemsEach = 16, 6, 40
	initial := dec("1000000")
	h := setup(t, Options{SettleDelay: time.Millisecond, Clock: time.Now, InitialBalance: initial, MaxPageSize: 25})
	amounts := []string{"10.00", "12.99", "7.98", "100.5", "3"}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	// Readers of the balance and the stats, all along.
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				h.balance()
				h.s.Stats()
			}
		})
	}
	var work sync.WaitGroup
	for w := range workers {
		work.Go(func() {
			for p := range payoutsEach {
				ext := fmt.Sprintf("w%02d-p%d", w, p)
				items := make([]iyzico.Item, itemsEach)
				for i := range items {
					items[i] = ibanItem(fmt.Sprintf("%s-i%02d", ext, i), amounts[(w+p+i)%len(amounts)])
					if i%13 == 5 {
						items[i].RecipientInfo = "TR000"
					}
				}
				req := initReq(ext, items...)
				a := h.init(req)
				if b := h.init(req); b.RequestID != a.RequestID {
					t.Errorf("replay of %s gave requestId %s, want %s", ext, b.RequestID, a.RequestID)
				}
				switch p % 3 {
				case 0, 1:
					h.auth(a.RequestID).wantSuccess(t)
				case 2:
					h.post(iyzico.PathCancelPrefix+a.RequestID, nil).wantSuccess(t)
				}
				for page := 0; ; page++ {
					r := h.retrieve(iyzico.RetrieveRequest{RequestID: a.RequestID, Page: page, Size: 25})
					if len(r.MassPayoutItems.Items) == 0 {
						break
					}
					it := r.MassPayoutItems.Items[0]
					h.get(iyzico.PathItemPrefix + it.ReferenceCode).wantSuccess(t)
				}
			}
		})
	}
	work.Wait()
	close(stop)
	wg.Wait()

	time.Sleep(5 * time.Millisecond) // past auth + 2·SettleDelay for every payout
	spent := decimal.Zero
	counts := map[string]int{}
	for w := range workers {
		for p := range payoutsEach {
			var items []iyzico.ItemDetail
			for page := 0; page*25 < itemsEach; page++ {
				r := h.retrieve(iyzico.RetrieveRequest{ExternalMassPayoutID: fmt.Sprintf("w%02d-p%d", w, p), Page: page, Size: 100})
				items = append(items, r.MassPayoutItems.Items...)
			}
			if len(items) != itemsEach {
				t.Fatalf("%d items read, want %d", len(items), itemsEach)
			}
			for _, it := range items {
				counts[it.ItemStatus]++
				if !iyzico.ItemFinal(it.ItemStatus) {
					t.Errorf("item %s still %s", it.ItemExternalID, it.ItemStatus)
				}
				if it.ItemStatus == iyzico.ItemSuccess || it.ItemStatus == iyzico.ItemDepositFail {
					spent = spent.Add(it.TotalAmount).Add(it.CommissionAmount)
				}
			}
		}
	}
	if got, want := h.s.Balance(), initial.Sub(spent); !got.Equal(want) {
		t.Errorf("balance %s, want %s (initial − spent %s)", got, want, spent)
	}
	for _, s := range []string{iyzico.ItemSuccess, iyzico.ItemDepositSuccess, iyzico.ItemDepositFail, iyzico.ItemMassPayoutCanceled, iyzico.ItemInvalid} {
		if counts[s] == 0 {
			t.Errorf("no item ended %s: %v", s, counts)
		}
	}
	st := h.s.Stats()
	if st.CommittedPayouts != workers*payoutsEach || st.CommittedItems != workers*payoutsEach*itemsEach ||
		st.InitReplays != workers*payoutsEach || len(st.ItemsUnderManyExternalIDs) != 0 {
		t.Errorf("stats: %d payouts, %d items, %d replays, %d shared items", st.CommittedPayouts, st.CommittedItems, st.InitReplays, len(st.ItemsUnderManyExternalIDs))
	}
	for id, n := range st.AuthCommits {
		if n != 1 {
			t.Errorf("requestId %s authorized %d times", id, n)
		}
	}
}

// TestLogLines: one line per request with the fixed keys, and nothing personal or secret.
func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	h := setup(t, Options{Log: zerolog.New(zerolog.SyncWriter(&buf))})
	req := initReq("log-1",
		ibanItem("i1", "10"),
		iyzico.Item{ItemExternalID: "i2", RecipientType: iyzico.RecipientPhone, RecipientInfo: testPhone, RecipientName: "Mehmet Öz", Amount: iyzico.Amount{Value: dec("1"), Currency: "TRY"}},
		iyzico.Item{ItemExternalID: "i3", RecipientType: iyzico.RecipientIdentityNumber, RecipientInfo: testTCKN, Amount: iyzico.Amount{Value: dec("1"), Currency: "TRY"}},
	)
	a := h.init(req)
	h.auth(a.RequestID)
	h.raw("POST", iyzico.PathAuth, "IYZWSv2 bm9wZQ==", []byte(`{}`))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3:\n%s", len(lines), buf.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"method", "path", "external_id", "request_id", "outcome", "http_status", "duration"} {
		if _, ok := first[k]; !ok {
			t.Errorf("log line lacks %q: %s", k, lines[0])
		}
	}
	if first["external_id"] != "log-1" || first["request_id"] != a.RequestID || first["outcome"] != "success" {
		t.Errorf("init log line %s", lines[0])
	}
	for _, secret := range []string{testIBAN, testPhone, testTCKN, "Ayşe", "Mehmet", "IYZWSv2", "bm9wZQ", DefaultSecretKey, DefaultAPIKey} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log contains %q:\n%s", secret, buf.String())
		}
	}
}
