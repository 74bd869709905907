package sandbox

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/iyzico"
)

// TestPublishedVectors sends iyzico.md §2.5's requests with their published Authorization
// values: each must pass authentication.
func TestPublishedVectors(t *testing.T) {
	h := setup(t, Options{Credentials: map[string]string{"apiKey": "secretKey", DefaultAPIKey: DefaultSecretKey}})
	tests := []struct {
		method, path, body, auth string
		wantStatus               int
		wantCode                 iyzico.Code
	}{
		{
			http.MethodPost, iyzico.PathAuth, `{"requestId":"79cdefc1-3ce6-4f51-bdd9-c050274db664"}`,
			"IYZWSv2 YXBpS2V5OmFwaUtleSZyYW5kb21LZXk6MTIzNDU2Nzg5JnNpZ25hdHVyZTo2MWE4MzlhYTViNzUyMDNkZDkyZTAxNjFkZjI0YzFmMjU1MzRlNGE2MTI2NzVmZmJhODY2ZGUyZjU4MTZiZmZk",
			http.StatusBadRequest, CodeNotFound,
		},
		{
			http.MethodGet, "/v1/mass/payout/retrieve/items/b9a2f39c-0403-4869-a23a-371046c7431f", "",
			"IYZWSv2 YXBpS2V5OmFwaUtleSZyYW5kb21LZXk6MTIzNDU2Nzg5JnNpZ25hdHVyZTo4ZGZmMDc3MTYzYTlkNGMyZjdhMzAyMDUxNjA4MzJjNjFmOGM1ODY3OWJlZmRjZjNiNmVhMjA3ZmMzMTllYjQw",
			http.StatusBadRequest, CodeNotFound,
		},
		{
			http.MethodPost, "/v1/mass/payout/cancel/79cdefc1-3ce6-4f51-bdd9-c050274db664", "",
			"IYZWSv2 YXBpS2V5OmFwaUtleSZyYW5kb21LZXk6MTIzNDU2Nzg5JnNpZ25hdHVyZTplNmUwNGE3NTY3MThiMGQ5MWFlMmMxNTkzMDYzZTMyMTI3MjQ5MzVlMTBiMGU0MGM0YmI0ZmRiMDRkZGFlY2Q1",
			http.StatusBadRequest, CodeNotFound,
		},
		{
			http.MethodGet, iyzico.PathBalance, "",
			"IYZWSv2 YXBpS2V5OmFwaUtleSZyYW5kb21LZXk6MTIzNDU2Nzg5JnNpZ25hdHVyZTpiMWJlZDBlOTRmY2FkYjI0MWRmM2NiNmJiMzAxYWRkYzg1MmFmODg0ZjgxMmEzNWVjZWYwMThjZmIzNDBhY2Q5",
			http.StatusOK, "",
		},
		{
			http.MethodPost, iyzico.PathRetrieve, `{"requestId":"c95e344a-c7c9-4605-91b8-3f48ee9dece6","externalMassPayoutId":"massPayoutId-323","page":0,"size":40}`,
			"IYZWSv2 YXBpS2V5OmFwaUtleSZyYW5kb21LZXk6MTIzNDU2Nzg5JnNpZ25hdHVyZTo4MzJhNWNkNzA4MGIwZDhmM2Q3ZWZhYTY0OGY3ZjYxOWJmYjgzM2RjZDRkYWRiNzNhMDVjY2ViMjVmMjc2MWJl",
			http.StatusBadRequest, CodeNotFound,
		},
		{
			http.MethodPost, iyzico.PathInit, `{"externalId":"massPayoutId-323ddd","conversationId":"conversationId-323f","purpose":"SALARY","items":[{"itemExternalId":"ext-65656","recipientType":"IBAN","recipientInfo":"TR920086402100002353983528","amount":{"value":100,"currency":"TRY"},"description":"Payment for services","recipientName":"John Doe"}]}`,
			"IYZWSv2 YXBpS2V5OmFwaUtleSZyYW5kb21LZXk6MTIzNDU2Nzg5JnNpZ25hdHVyZTo3ZmJlNjhhMjZlNGE0ZTBmMWY5ZDc3MTIxMmJhY2FmMjZjNDgzOTc1NTY4YmU5YWNhNGU3MTQ1YzZlM2JhYmEx",
			http.StatusOK, "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			r := h.raw(tt.method, tt.path+"?locale=en", tt.auth, body)
			if tt.wantCode == "" {
				r.wantSuccess(t)
				return
			}
			r.wantFailure(t, tt.wantStatus, tt.wantCode)
		})
	}
	// The init vector's IBAN fails mod-97: the sandbox keeps the payout and lists the item.
	r := h.retrieve(iyzico.RetrieveRequest{ExternalMassPayoutID: "massPayoutId-323ddd"})
	if got := statuses(r)["ext-65656"]; got != iyzico.ItemInvalid {
		t.Errorf("ext-65656 = %s, want INVALID (the example IBAN fails mod-97)", got)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	h := setup(t, Options{})
	body := []byte(`{"requestId":"x"}`)
	good := iyzico.Authorization(DefaultAPIKey, DefaultSecretKey, "r1", iyzico.PathAuth, body)
	encode := func(s string) string { return "IYZWSv2 " + base64.StdEncoding.EncodeToString([]byte(s)) }
	sig := iyzico.Signature(DefaultSecretKey, "r1", iyzico.PathAuth, body)
	tests := []struct {
		name     string
		target   string
		auth     string
		body     []byte
		wantCode iyzico.Code // "" = authentic
		wantMsg  string
	}{
		{"good", iyzico.PathAuth, good, body, "", ""},
		{"upper-case hex", iyzico.PathAuth, encode("apiKey:" + DefaultAPIKey + "&randomKey:r1&signature:" + strings.ToUpper(sig)), body, "", ""},
		{"query not signed", iyzico.PathAuth + "?locale=tr&x=1", good, body, "", ""},
		{"missing", iyzico.PathAuth, "", body, iyzico.CodeAuthHeaderRequired, "Authorization header string gönderilmesi zorunludur"},
		{"blank", iyzico.PathAuth, "   ", body, iyzico.CodeAuthHeaderRequired, "Authorization header string gönderilmesi zorunludur"},
		{"other scheme", iyzico.PathAuth, "IYZWS apiKey:x", body, iyzico.CodeInvalidSignature, "Geçersiz imza"},
		{"not base64", iyzico.PathAuth, "IYZWSv2 !!!", body, iyzico.CodeInvalidSignature, "Geçersiz imza"},
		{"no signature part", iyzico.PathAuth, encode("apiKey:" + DefaultAPIKey + "&randomKey:r1"), body, iyzico.CodeInvalidSignature, "Geçersiz imza"},
		{"empty randomKey", iyzico.PathAuth, encode("apiKey:" + DefaultAPIKey + "&randomKey:&signature:" + sig), body, iyzico.CodeRandomRequired, "Random string gönderilmesi zorunludur"},
		{"unknown apiKey", iyzico.PathAuth, iyzico.Authorization("nope", DefaultSecretKey, "r1", iyzico.PathAuth, body), body, iyzico.CodeCredentialsNotFound, "api bilgileri bulunamadı"},
		{"wrong secret", iyzico.PathAuth, iyzico.Authorization(DefaultAPIKey, "wrong", "r1", iyzico.PathAuth, body), body, iyzico.CodeInvalidSignature, "Geçersiz imza"},
		{"body changed", iyzico.PathAuth, good, []byte(`{"requestId": "x"}`), iyzico.CodeInvalidSignature, "Geçersiz imza"},
		{"query signed", iyzico.PathAuth + "?locale=tr", iyzico.Authorization(DefaultAPIKey, DefaultSecretKey, "r1", iyzico.PathAuth+"?locale=tr", body), body, iyzico.CodeInvalidSignature, "Geçersiz imza"},
		{"other path", iyzico.PathInit, good, body, iyzico.CodeInvalidSignature, "Geçersiz imza"},
		{"escaped path signed as sent", iyzico.PathCancelPrefix + "a%20b", iyzico.Authorization(DefaultAPIKey, DefaultSecretKey, "r1", iyzico.PathCancelPrefix+"a%20b", body), body, "", ""},
		{"escaped path signed decoded", iyzico.PathCancelPrefix + "a%20b", iyzico.Authorization(DefaultAPIKey, DefaultSecretKey, "r1", iyzico.PathCancelPrefix+"a b", body), body, "", ""},
		{"truncated signature", iyzico.PathAuth, encode("apiKey:" + DefaultAPIKey + "&randomKey:r1&signature:" + sig[:63]), body, iyzico.CodeInvalidSignature, "Geçersiz imza"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.raw(http.MethodPost, tt.target, tt.auth, tt.body)
			if tt.wantCode == "" {
				// Authentic: the unknown requestId is the only complaint left.
				r.wantFailure(t, http.StatusBadRequest, CodeNotFound)
				return
			}
			r.wantFailure(t, http.StatusUnauthorized, tt.wantCode)
			if e := r.envelope(t); e.ErrorMessage != tt.wantMsg || e.Locale != "tr" || e.SystemTime == 0 {
				t.Errorf("envelope %+v, want message %q, locale tr and a systemTime", e, tt.wantMsg)
			}
		})
	}
	if got := h.s.Stats().AuthFailures; got != 12 {
		t.Errorf("Stats().AuthFailures = %d, want 12", got)
	}
}

// TestSDKByteLayouts signs and sends the byte layouts iyzico's SDKs produce (iyzico.md §2.3):
// all must authenticate and be read correctly.
func TestSDKByteLayouts(t *testing.T) {
	h := setup(t, Options{})

	// Python: json.dumps default separators, ensure_ascii escapes.
	python := `{"externalId": "py-1", "conversationId": "c-py", "items": [{"itemExternalId": "py-i1", "recipientType": "IBAN", "recipientInfo": "` + testIBAN + `", "recipientName": "\u00c7a\u011fr\u0131 \u015eahin", "amount": {"value": 10.5, "currency": "TRY"}}], "locale": "en"}`
	r := h.post(iyzico.PathInit, python)
	r.wantSuccess(t)
	if e := r.envelope(t); e.Locale != "en" || e.ConversationID != "c-py" {
		t.Errorf("python init envelope %+v, want locale en from the body and conversationId c-py", e)
	}
	got := h.retrieve(iyzico.RetrieveRequest{ExternalMassPayoutID: "py-1"})
	if it := got.MassPayoutItems.Items[0]; it.RecipientName != "Çağrı Şahin" || !it.TotalAmount.Equal(dec("10.5")) {
		t.Errorf("python item %+v, want name Çağrı Şahin and amount 10.5", it)
	}

	// .NET: compact, explicit nulls, camelCase.
	dotnet := `{"externalId":"net-1","conversationId":null,"purpose":null,"items":[{"itemExternalId":"net-i1","recipientType":"PHONE","recipientInfo":"+905551234567","recipientName":null,"description":null,"amount":{"value":20.00,"currency":"TRY"},"nonWithdrawable":null}],"locale":null}`
	r = h.post(iyzico.PathInit, dotnet)
	r.wantSuccess(t)
	var ir iyzico.InitResponse
	r.decode(t, &ir)
	if len(ir.InvalidItems) != 0 {
		t.Errorf(".NET init invalidItems %+v, want none", ir.InvalidItems)
	}

	// Java: Gson HTML escaping (= as \u003d), locale "TR" and conversationId in the body.
	java := `{"externalId":"java-1","purpose":"SALARY","items":[{"itemExternalId":"java-i1","recipientType":"IDENTITY_NUMBER","recipientInfo":"` + testTCKN + `","amount":{"value":1,"currency":"TRY"},"description":"a\u003db \u003cc\u003e \u0026"}],"locale":"TR","conversationId":"123456789"}`
	r = h.post(iyzico.PathInit, java)
	r.wantSuccess(t)
	if e := r.envelope(t); e.Locale != "tr" || e.ConversationID != "123456789" {
		t.Errorf("java init envelope %+v, want locale tr and conversationId echoed", e)
	}
	got = h.retrieve(iyzico.RetrieveRequest{ExternalMassPayoutID: "java-1"})
	if d := got.MassPayoutItems.Items[0].Description; d != "a=b <c> &" {
		t.Errorf("java description = %q, want %q", d, "a=b <c> &")
	}

	// Node: body-less calls send and sign "{}"; Python sends and signs "null".
	for _, body := range []string{"{}", "null", ""} {
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		h.send(http.MethodGet, iyzico.PathBalance, b).wantSuccess(t)
		h.send(http.MethodGet, iyzico.PathItemPrefix+got.MassPayoutItems.Items[0].ReferenceCode, b).wantSuccess(t)
	}
	// Node signs {} on cancel too.
	h.send(http.MethodPost, iyzico.PathCancelPrefix+ir.RequestID, []byte("{}")).wantSuccess(t)

	// Unknown body fields are ignored; PHP and Node send prices as strings.
	php := `{"externalId":"php-1","items":[{"itemExternalId":"php-i1","recipientType":"MEMBER_ID","recipientInfo":"2228853","amount":{"value":"15.0","currency":"TRY"},"price":"1.0"}],"basketId":"B1"}`
	r = h.post(iyzico.PathInit, php)
	r.wantSuccess(t)
	r.decode(t, &ir)
	if len(ir.InvalidItems) != 0 {
		t.Errorf("php init invalidItems %+v, want none", ir.InvalidItems)
	}
}

func TestLocale(t *testing.T) {
	h := setup(t, Options{})
	tests := []struct {
		name, query, body string
		want              string
		wantMsg           string
	}{
		{"default", "", `{"requestId":"x"}`, "tr", "Toplu ödeme bulunamadı"},
		{"query en", "?locale=en", `{"requestId":"x"}`, "en", "mass payout not found"},
		{"query EN", "?locale=EN", `{"requestId":"x"}`, "en", "mass payout not found"},
		{"body en", "", `{"requestId":"x","locale":"en"}`, "en", "mass payout not found"},
		{"query wins", "?locale=tr", `{"requestId":"x","locale":"en"}`, "tr", "Toplu ödeme bulunamadı"},
		{"unknown", "?locale=de", `{"requestId":"x"}`, "tr", "Toplu ödeme bulunamadı"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.post(iyzico.PathAuth+tt.query, tt.body)
			e := r.envelope(t)
			if e.Locale != tt.want || e.ErrorMessage != tt.wantMsg {
				t.Errorf("locale %q message %q, want %q %q", e.Locale, e.ErrorMessage, tt.want, tt.wantMsg)
			}
		})
	}
	// Authentication failures read the body's locale too.
	r := h.raw(http.MethodPost, iyzico.PathAuth, "", []byte(`{"locale":"en"}`))
	if e := r.envelope(t); e.Locale != "en" || e.ErrorMessage != "Authorization header is required" {
		t.Errorf("unauthenticated answer %+v, want English", e)
	}
}

func TestRouting(t *testing.T) {
	h := setup(t, Options{})
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/v1/mass/payout/unknown", http.StatusNotFound},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodPost, iyzico.PathCancelPrefix, http.StatusNotFound},
		{http.MethodPost, iyzico.PathCancelPrefix + "a/b", http.StatusNotFound},
		{http.MethodGet, iyzico.PathItemPrefix, http.StatusNotFound},
		{http.MethodGet, iyzico.PathInit, http.StatusMethodNotAllowed},
		{http.MethodPost, iyzico.PathBalance, http.StatusMethodNotAllowed},
		{http.MethodDelete, "/sandbox/faults", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		r := h.send(tt.method, tt.path, nil)
		if r.status != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, r.status, tt.want)
		}
		if e := r.envelope(t); e.Status != iyzico.StatusFailure {
			t.Errorf("%s %s answer %s, want a failure envelope", tt.method, tt.path, r.body)
		}
	}
	if r := h.send(http.MethodGet, iyzico.PathInit, nil); r.header.Get("Allow") != http.MethodPost {
		t.Errorf("Allow = %q, want POST", r.header.Get("Allow"))
	}
}
