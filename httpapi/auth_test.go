package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/config"
)

func TestRoleAllows(t *testing.T) {
	tests := []struct {
		role, need Role
		want       bool
	}{
		{RoleRead, RoleRead, true},
		{RoleRead, RoleSubmit, false},
		{RoleRead, RoleApprove, false},
		{RoleSubmit, RoleRead, true},
		{RoleSubmit, RoleSubmit, true},
		{RoleSubmit, RoleApprove, false},
		{RoleApprove, RoleRead, true},
		{RoleApprove, RoleApprove, true},
		{RoleApprove, RoleSubmit, false},
		{RoleApprove, RoleAdmin, false},
		{RoleAdmin, RoleRead, true},
		{RoleAdmin, RoleSubmit, true},
		{RoleAdmin, RoleApprove, true},
		{RoleAdmin, RoleAdmin, true},
		{"", RoleRead, false},
	}
	for _, tt := range tests {
		if got := tt.role.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.role, tt.need, got, tt.want)
		}
	}
}

func TestNewAuth(t *testing.T) {
	if _, err := NewAuth(AuthOptions{}); err != ErrNoCredentials {
		t.Errorf("no credentials: %v, want ErrNoCredentials", err)
	}
	a, err := NewAuth(AuthOptions{Open: true})
	if err != nil || !a.Open() {
		t.Errorf("open: %v %v", a, err)
	}
	a, err = NewAuth(AuthOptions{Open: true, UIUsername: "u", UIPassword: "p"})
	if err != nil || a.Open() {
		t.Errorf("open with credentials must not be open: %v", err)
	}
	_, err = NewAuth(AuthOptions{Tokens: []config.Token{{Name: "ops", Role: "read", Token: "x"}}, UIUsername: "ops", UIPassword: "p"})
	if err == nil || !strings.Contains(err.Error(), "distinct") {
		t.Errorf("dashboard user named like a token: %v", err)
	}
	_, err = NewAuth(AuthOptions{Tokens: []config.Token{{Name: "ops", Role: "god", Token: "x"}}})
	if err == nil {
		t.Error("unknown role accepted")
	}
}

// TestRoutesAuth checks every route with every kind of caller: 401 without (valid) credentials,
// 403 with the wrong role, through otherwise.
func TestRoutesAuth(t *testing.T) {
	r := setup(t)
	const (
		open   = "open"   // no credentials needed
		api    = "api"    // Bearer only
		basic  = "basic"  // basic auth only
		either = "either" // Bearer or basic
	)
	routes := []struct {
		method, path string
		kind         string
		need         Role
	}{
		{"POST", "/v1/batches", api, RoleSubmit},
		{"GET", "/v1/batches", api, RoleRead},
		{"GET", "/v1/batches/nope", api, RoleRead},
		{"GET", "/v1/batches/nope/report", api, RoleRead},
		{"POST", "/v1/batches/nope/approve", api, RoleApprove},
		{"POST", "/v1/batches/nope/cancel", api, RoleApprove},
		{"GET", "/openapi.yaml", open, ""},
		{"GET", "/healthz", open, ""},
		{"GET", "/readyz", open, ""},
		{"GET", "/static/style.css", open, ""},
		{"GET", "/metrics", either, RoleRead},
		{"GET", "/", basic, RoleRead},
		{"GET", "/batches/nope", basic, RoleRead},
		{"GET", "/batches/nope/report.csv", basic, RoleRead},
		{"POST", "/batches/nope/approve", basic, RoleApprove},
		{"POST", "/batches/nope/cancel", basic, RoleApprove},
		{"GET", "/monitoring/", basic, RoleRead},
		{"GET", "/monitoring/api/queues", basic, RoleRead},
		{"GET", "/monitoring/static/js/main.js", basic, RoleRead},
	}
	roles := map[string]Role{"reader": RoleRead, "submitter": RoleSubmit, "approver": RoleApprove, "root": RoleAdmin, uiUser: RoleRead}
	for _, rt := range routes {
		send := func(bearer, basicUser string, header map[string]string) (int, http.Header, []byte) {
			req := request{method: rt.method, path: rt.path, bearer: bearer, basic: basicUser, header: header}
			if rt.method == "POST" && strings.HasPrefix(rt.path, "/v1/batches") {
				req.ctype = "text/csv"
			}
			if rt.method == "POST" && strings.HasPrefix(rt.path, "/batches/") {
				req.ctype = "application/x-www-form-urlencoded"
				who := basicUser
				req.body = []byte(url.Values{"csrf_token": {newCSRF([]byte(testCSRFKey)).token(who)}}.Encode())
			}
			return r.do(req)
		}
		// Anonymous.
		status, hdr, body := send("", "", nil)
		if rt.kind == open {
			if status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound {
				t.Errorf("%s %s anonymous: %d, want through", rt.method, rt.path, status)
			}
			continue
		}
		if status != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s anonymous: %d (WWW-Authenticate %q), want 401 with a challenge", rt.method, rt.path, status, hdr.Get("WWW-Authenticate"))
		}
		if rt.kind == api && errorCode(t, body) != "UNAUTHORIZED" {
			t.Errorf("%s %s anonymous: not a JSON error", rt.method, rt.path)
		}
		// Bad credentials.
		if status, _, _ := send("", "", map[string]string{"Authorization": "Bearer not-a-token"}); status != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong token: %d, want 401", rt.method, rt.path, status)
		}
		if status, _, _ := send("", "", map[string]string{"Authorization": "Basic cm9vdDp3cm9uZw=="}); status != http.StatusUnauthorized { // root:wrong
			t.Errorf("%s %s with a wrong password: %d, want 401", rt.method, rt.path, status)
		}
		// Every caller, over the scheme this route takes and the one it does not.
		for who, role := range roles {
			for _, scheme := range []string{api, basic} {
				if scheme == api && who == uiUser {
					continue // the dashboard user has no token
				}
				bearer, basicUser := "", ""
				if scheme == api {
					bearer = who
				} else {
					basicUser = who
				}
				status, _, body := send(bearer, basicUser, nil)
				accepted := rt.kind == either || rt.kind == scheme
				switch {
				case !accepted && status != http.StatusUnauthorized:
					t.Errorf("%s %s as %s over %s: %d, want 401 (scheme not taken)", rt.method, rt.path, who, scheme, status)
				case accepted && !role.Allows(rt.need) && status != http.StatusForbidden:
					t.Errorf("%s %s as %s (%s) over %s: %d, want 403", rt.method, rt.path, who, role, scheme, status)
				case accepted && role.Allows(rt.need) && (status == http.StatusUnauthorized || status == http.StatusForbidden):
					t.Errorf("%s %s as %s (%s) over %s: %d, want through\n%s", rt.method, rt.path, who, role, scheme, status, body)
				}
			}
		}
	}
}

// TestNamesAreIdentities: token and dashboard names are normalised, so two spellings of one person
// cannot be two credentials, and a name with an invisible character is refused.
func TestNamesAreIdentities(t *testing.T) {
	tok := func(name string) config.Token {
		return config.Token{Name: name, Role: "approve", Token: config.Secret("tok-" + name + "-0123456789")}
	}
	if _, err := NewAuth(AuthOptions{Tokens: []config.Token{tok("alice"), tok("ALICE")}}); err == nil {
		t.Error("tokens alice and ALICE accepted as two people")
	}
	if _, err := NewAuth(AuthOptions{Tokens: []config.Token{tok("alice\u200b")}}); err == nil {
		t.Error("a token name with a zero-width space accepted")
	}
	if _, err := NewAuth(AuthOptions{Tokens: []config.Token{tok("Alice")}, UIUsername: "ＡＬＩＣＥ", UIPassword: "pw"}); err == nil {
		t.Error("the dashboard user and a token share a name once normalised")
	}
	a, err := NewAuth(AuthOptions{Tokens: []config.Token{tok("Bob Smith")}, UIUsername: "Ops", UIPassword: "pw-ops"})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("OPS", "pw-ops")
	if p, ok, _ := a.basic(r); !ok || p.Name != "ops" {
		t.Errorf("basic auth as OPS = %+v, %v; want ops", p, ok)
	}
	r.SetBasicAuth("ops\u200b", "pw-ops")
	if _, ok, _ := a.basic(r); ok {
		t.Error("a look-alike user name logged in")
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer tok-Bob Smith-0123456789")
	if p, ok, _ := a.bearer(r); !ok || p.Name != "bob smith" {
		t.Errorf("bearer = %+v, %v; want bob smith", p, ok)
	}
}
