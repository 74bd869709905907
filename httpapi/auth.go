package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/masspayout/masspayout/config"
	"github.com/masspayout/masspayout/internal/identity"
	"github.com/rs/zerolog"
)

// Role is what a caller may do. read views batches, reports, queues and metrics; submit and
// approve include read; admin may do everything.
type Role string

// The roles of API_TOKENS (config.Roles).
const (
	RoleRead    Role = "read"    // view batches, reports, the dashboard, asynqmon, /metrics
	RoleSubmit  Role = "submit"  // read + submit batches
	RoleApprove Role = "approve" // read + approve and cancel batches
	RoleAdmin   Role = "admin"   // everything, including asynqmon's mutating calls with UI_READ_WRITE
)

// Allows reports whether a caller with role r may do what needs role need.
func (r Role) Allows(need Role) bool {
	switch {
	case r == RoleAdmin || r == need:
		return true
	case need == RoleRead:
		return r == RoleSubmit || r == RoleApprove
	}
	return false
}

// Principal is an authenticated caller. Name is the identity recorded in the audit list and
// compared by the four-eyes rule.
type Principal struct {
	Name string
	Role Role
}

// Anonymous is the caller of an open (no credentials) all-in-one development server.
const Anonymous = "anonymous"

// ErrNoCredentials: NewAuth was given no token and no dashboard user, and Open was not set.
var ErrNoCredentials = errors.New("no credentials configured")

// AuthOptions configure NewAuth.
type AuthOptions struct {
	// Tokens are the API tokens (API_TOKENS). Each also logs in to the dashboard and asynqmon
	// with HTTP basic auth: user name = the token's name, password = the token.
	Tokens []config.Token
	// UIUsername and UIPassword (UI_USERNAME, UI_PASSWORD) are the dashboard's own login, with
	// role read: it may view everything and change nothing.
	UIUsername string
	UIPassword config.Secret
	// Open lets every request in as Anonymous with role admin when no credential is configured.
	// Only for the all-in-one development server; ignored when credentials exist.
	Open bool
}

// Auth checks credentials: Bearer tokens for the API, basic auth for the dashboard and asynqmon.
// Secrets are compared in constant time, as SHA-256 sums so that lengths leak nothing either.
type Auth struct {
	creds []credential // tokens, then the dashboard user
	open  bool
}

type credential struct {
	name  string
	role  Role
	sum   [32]byte
	token bool // an API token (usable as Bearer); false for the dashboard user
}

// NewAuth returns the checker for o. Names (of tokens and the dashboard user) are people: they are
// normalised (internal/identity) and must be unique in that form. It fails with ErrNoCredentials
// when there is nothing to check against and o.Open is false, and on a name that cannot identify a
// person or that two credentials share.
func NewAuth(o AuthOptions) (*Auth, error) {
	a := &Auth{}
	taken := func(name string) bool {
		return slices.ContainsFunc(a.creds, func(c credential) bool { return c.name == name })
	}
	for _, t := range o.Tokens {
		role := Role(t.Role)
		if !slices.Contains(config.Roles, t.Role) {
			return nil, fmt.Errorf("API token %s: unknown role %q", t.Name, t.Role)
		}
		if t.Name == "" || t.Token == "" {
			return nil, errors.New("API token without a name or a secret")
		}
		name, err := identity.Normalize(t.Name)
		if err != nil {
			return nil, fmt.Errorf("API token %q: its name: %w", t.Name, err)
		}
		if taken(name) {
			return nil, fmt.Errorf("API token %q: another token has the same name (%q once normalised); names identify people: make them distinct", t.Name, name)
		}
		a.creds = append(a.creds, credential{name: name, role: role, sum: sha256.Sum256([]byte(t.Token.Reveal())), token: true})
	}
	if o.UIUsername != "" {
		if o.UIPassword == "" {
			return nil, errors.New("the dashboard user has no password")
		}
		name, err := identity.Normalize(o.UIUsername)
		if err != nil {
			return nil, fmt.Errorf("the dashboard user's name: %w", err)
		}
		if taken(name) {
			return nil, fmt.Errorf("the dashboard user %q is also the name of an API token; names identify people (audit, four-eyes): use distinct names", o.UIUsername)
		}
		a.creds = append(a.creds, credential{name: name, role: RoleRead, sum: sha256.Sum256([]byte(o.UIPassword.Reveal()))})
	}
	if len(a.creds) == 0 {
		if !o.Open {
			return nil, ErrNoCredentials
		}
		a.open = true
	}
	return a, nil
}

// Open reports whether every request is let in as Anonymous (no credentials configured).
func (a *Auth) Open() bool { return a.open }

// known reports whether r carries any valid credential, whatever its role: a Bearer token or
// basic auth (the dashboard user or a token). On an open server everyone is known.
func (a *Auth) known(r *http.Request) bool {
	if a.open {
		return true
	}
	if _, ok, _ := a.bearer(r); ok {
		return true
	}
	_, ok, _ := a.basic(r)
	return ok
}

// bearer returns the caller of an "Authorization: Bearer" request; present says whether the
// header was there at all.
func (a *Auth) bearer(r *http.Request) (p Principal, ok, present bool) {
	scheme, tok, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, false, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := -1
	for i, c := range a.creds {
		// Compare with every credential, without stopping at a match.
		if subtle.ConstantTimeCompare(sum[:], c.sum[:]) == 1 && c.token && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return Principal{}, false, true
	}
	return Principal{Name: a.creds[match].name, Role: a.creds[match].role}, true, true
}

// basic returns the caller of a basic-auth request; present says whether credentials were sent.
func (a *Auth) basic(r *http.Request) (p Principal, ok, present bool) {
	user, pass, found := r.BasicAuth()
	if !found {
		return Principal{}, false, false
	}
	if n, err := identity.Normalize(user); err == nil {
		user = n // "OPS" is ops; an invisible character matches nobody
	}
	us := sha256.Sum256([]byte(user))
	ps := sha256.Sum256([]byte(pass))
	match := -1
	for i, c := range a.creds {
		ns := sha256.Sum256([]byte(c.name))
		same := subtle.ConstantTimeCompare(us[:], ns[:]) & subtle.ConstantTimeCompare(ps[:], c.sum[:])
		if same == 1 && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return Principal{}, false, true
	}
	return Principal{Name: a.creds[match].name, Role: a.creds[match].role}, true, true
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalFrom returns the authenticated caller of a request that passed an auth middleware.
func principalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

const basicChallenge = `Basic realm="masspayout", charset="UTF-8"`

// api lets through requests with a Bearer token whose role allows need: 401 (JSON) without a
// valid token, 403 with a token of the wrong role.
func (a *Auth) api(need Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := Principal{Name: Anonymous, Role: RoleAdmin}, a.open
		if !a.open {
			var present bool
			p, ok, present = a.bearer(r)
			if !ok {
				msg := "this API needs a token: send \"Authorization: Bearer <token>\" with a token from API_TOKENS"
				if present {
					msg = "the token is not valid; check the token given to you for API_TOKENS"
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="masspayout"`)
				writeError(w, r, zerolog.Nop(), errorf(http.StatusUnauthorized, "UNAUTHORIZED", "%s", msg))
				return
			}
		}
		if !p.Role.Allows(need) {
			writeError(w, r, zerolog.Nop(), errorf(http.StatusForbidden, "FORBIDDEN", "token %s has role %s; this needs role %s (or admin)", p.Name, p.Role, need))
			return
		}
		h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// browser lets through basic-auth requests (the dashboard, asynqmon) whose role allows need: 401
// with a basic-auth challenge without valid credentials, 403 for the wrong role.
func (a *Auth) browser(need Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := Principal{Name: Anonymous, Role: RoleAdmin}, a.open
		if !a.open {
			p, ok, _ = a.basic(r)
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", basicChallenge)
			http.Error(w, "401 unauthorized: log in with UI_USERNAME and UI_PASSWORD, or with an API token's name and token", http.StatusUnauthorized)
			return
		}
		if !p.Role.Allows(need) {
			http.Error(w, fmt.Sprintf("403 forbidden: %s has role %s; this needs role %s (or admin)", p.Name, p.Role, need), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// either accepts a Bearer token or basic auth (for /metrics, scraped by Prometheus with either).
func (a *Auth) either(need Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := Principal{Name: Anonymous, Role: RoleAdmin}, a.open
		if !a.open {
			if p, ok, _ = a.bearer(r); !ok {
				p, ok, _ = a.basic(r)
			}
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", basicChallenge)
			http.Error(w, "401 unauthorized: send a Bearer token from API_TOKENS or basic-auth credentials", http.StatusUnauthorized)
			return
		}
		if !p.Role.Allows(need) {
			http.Error(w, fmt.Sprintf("403 forbidden: %s has role %s; this needs role %s (or admin)", p.Name, p.Role, need), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}
