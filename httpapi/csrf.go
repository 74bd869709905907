package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// csrfKeyName is the Redis key holding the dashboard's CSRF key, shared by every serve process.
const csrfKeyName = "mp:csrf-key"

// LoadCSRFKey returns the dashboard's CSRF key from Redis, creating it on first use, so that every
// serve process behind a load balancer accepts the forms the others rendered.
func LoadCSRFKey(ctx context.Context, rdb redis.UniversalClient) ([]byte, error) {
	fresh := make([]byte, 32)
	rand.Read(fresh)
	if err := rdb.SetNX(ctx, csrfKeyName, hex.EncodeToString(fresh), 0).Err(); err != nil {
		return nil, fmt.Errorf("CSRF key: %w", err)
	}
	s, err := rdb.Get(ctx, csrfKeyName).Result()
	if err != nil {
		return nil, fmt.Errorf("CSRF key: %w", err)
	}
	key, err := hex.DecodeString(s)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("CSRF key: %s does not hold a key; delete it and restart", csrfKeyName)
	}
	return key, nil
}

// csrfWindow is how long one form token is issued for; a token stays valid for the window it was
// issued in and the next one, so a page left open for up to 12 hours still submits, and one from
// last week does not.
const csrfWindow = 12 * time.Hour

// csrf protects the dashboard's forms (synchronizer token): a form carries an HMAC of the user's
// name and the current 12-hour window under a server key, which another site can neither read nor
// compute. Go's CrossOriginProtection refuses cross-origin posts as well.
type csrf struct {
	key []byte
	cop *http.CrossOriginProtection
	now func() time.Time
}

func newCSRF(key []byte) *csrf {
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	return &csrf{key: key, cop: http.NewCrossOriginProtection(), now: time.Now}
}

// token is the form token of user for the current window.
func (c *csrf) token(user string) string { return c.tokenAt(user, c.now()) }

// tokenAt is the form token of user for the window holding t.
func (c *csrf) tokenAt(user string, t time.Time) string {
	window := t.Unix() / int64(csrfWindow/time.Second)
	mac := hmac.New(sha256.New, c.key)
	mac.Write([]byte("masspayout dashboard form\x00" + user + "\x00" + strconv.FormatInt(window, 10)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// valid reports whether got is user's token of the current or the previous window.
func (c *csrf) valid(got, user string) bool {
	now := c.now()
	cur := hmac.Equal([]byte(got), []byte(c.tokenAt(user, now)))
	prev := hmac.Equal([]byte(got), []byte(c.tokenAt(user, now.Add(-csrfWindow))))
	return cur || prev
}

// protect lets through a form post whose field csrf_token is the caller's token (of this window
// or the previous one); others get 403.
func (c *csrf) protect(h http.Handler) http.Handler {
	return c.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		got := r.PostFormValue("csrf_token")
		if !c.valid(got, principalFrom(r.Context()).Name) {
			http.Error(w, "403 forbidden: the form is stale or did not come from this dashboard; reload the page and try again", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	}))
}
