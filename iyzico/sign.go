package iyzico

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// AuthScheme is the prefix of the Authorization header value.
const AuthScheme = "IYZWSv2"

// Signature returns the IYZWSv2 signature: lowercase hex of HMAC-SHA256 keyed with secretKey over
// randomKey + path + body (iyzico.md §2.2). path carries no query string; body is the exact bytes
// sent (nil when the request has none).
func Signature(secretKey, randomKey, path string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secretKey))
	mac.Write([]byte(randomKey))
	mac.Write([]byte(path))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Authorization returns the Authorization header value for one request:
// "IYZWSv2 " + base64("apiKey:<k>&randomKey:<r>&signature:<s>").
func Authorization(apiKey, secretKey, randomKey, path string, body []byte) string {
	auth := "apiKey:" + apiKey + "&randomKey:" + randomKey + "&signature:" + Signature(secretKey, randomKey, path, body)
	return AuthScheme + " " + base64.StdEncoding.EncodeToString([]byte(auth))
}

// Credentials are the parts of a decoded IYZWSv2 Authorization header.
type Credentials struct {
	APIKey    string
	RandomKey string
	Signature string
}

// ErrMalformedAuthorization is returned by ParseAuthorization for a header it cannot read.
var ErrMalformedAuthorization = errors.New("malformed IYZWSv2 authorization header")

// ParseAuthorization decodes an Authorization header value made by Authorization (or by any of
// iyzico's SDKs). It never panics; anything unreadable yields ErrMalformedAuthorization.
func ParseAuthorization(header string) (Credentials, error) {
	scheme, encoded, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || scheme != AuthScheme {
		return Credentials{}, ErrMalformedAuthorization
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return Credentials{}, ErrMalformedAuthorization
	}
	var c Credentials
	seen := 0
	for _, part := range strings.Split(string(raw), "&") {
		name, value, ok := strings.Cut(part, ":")
		if !ok {
			return Credentials{}, ErrMalformedAuthorization
		}
		switch name {
		case "apiKey":
			c.APIKey = value
		case "randomKey":
			c.RandomKey = value
		case "signature":
			c.Signature = value
		default:
			return Credentials{}, ErrMalformedAuthorization
		}
		seen++
	}
	if seen != 3 || c.APIKey == "" || c.Signature == "" {
		return Credentials{}, ErrMalformedAuthorization
	}
	return c, nil
}
