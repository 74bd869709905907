package iyzico

import (
	"crypto/rand"
	"encoding/hex"
)

// newRandomKey returns a fresh random UUID (version 4) for the IYZWSv2 randomKey and x-iyzi-rnd.
// A UUID holds neither '&' nor ':', which would break the Authorization payload.
func newRandomKey() string {
	var b [16]byte
	rand.Read(b[:])         // never fails: crypto/rand crashes the program rather than return weak bytes
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
