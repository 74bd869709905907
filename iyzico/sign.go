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
// iyzico's SDKs). Each of apiKey, randomKey and signature must appear exactly once; apiKey and
// signature must not be empty (an empty randomKey is returned as is, for the caller to refuse).
// It never panics; anything unreadable yields ErrMalformedAuthorization.
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
	var seen [3]bool // apiKey, randomKey, signature: each exactly once
	for _, part := range strings.Split(string(raw), "&") {
		name, value, ok := strings.Cut(part, ":")
		if !ok {
			return Credentials{}, ErrMalformedAuthorization
		}
		var i int
		switch name {
		case "apiKey":
			i, c.APIKey = 0, value
		case "randomKey":
			i, c.RandomKey = 1, value
		case "signature":
			i, c.Signature = 2, value
		default:
			return Credentials{}, ErrMalformedAuthorization
		}
		if seen[i] {
			return Credentials{}, ErrMalformedAuthorization
		}
		seen[i] = true
	}
	if seen != [3]bool{true, true, true} || c.APIKey == "" || c.Signature == "" {
		return Credentials{}, ErrMalformedAuthorization
	}
	return c, nil
}
