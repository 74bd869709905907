package iyzico

import (
	"fmt"
	"unicode/utf8"
)

// MarshalInit returns the body of an init request: compact JSON, fields in the documented order,
// amounts as JSON numbers with exactly their digits (100.50 stays 100.50), '<', '>' and '&'
// escaped as \u003c, \u003e, \u0026. The bytes are those encoding/json would produce for the
// request (a test holds it to that), written without reflection because submit builds one body
// per chunk for files of millions of rows. The same request always gives the same bytes; build
// them once per chunk, store them and send them with Client.InitRaw on every attempt. A nil
// request, an empty ExternalID or no items is refused with ErrInvalidRequest.
func MarshalInit(req *InitRequest) ([]byte, error) {
	switch {
	case req == nil:
		return nil, fmt.Errorf("%w: nil init request", ErrInvalidRequest)
	case req.ExternalID == "":
		return nil, fmt.Errorf("%w: init request without externalId", ErrInvalidRequest)
	case len(req.Items) == 0:
		return nil, fmt.Errorf("%w: init request %s without items", ErrInvalidRequest, req.ExternalID)
	}
	return appendInit(make([]byte, 0, initSize(req)), req), nil
}

// initSize estimates the body's length closely (escapes aside), so the buffer is allocated once.
func initSize(req *InitRequest) int {
	n := 64 + len(req.ExternalID) + len(req.ConversationID) + len(req.Purpose)
	for i := range req.Items {
		it := &req.Items[i]
		n += 160 + len(it.ItemExternalID) + len(it.RecipientType) + len(it.RecipientInfo) + len(it.Amount.Currency) +
			len(it.Description) + len(it.RecipientName) + 24
	}
	return n
}

func appendInit(b []byte, req *InitRequest) []byte {
	b = append(b, `{"externalId":`...)
	b = AppendJSONString(b, req.ExternalID)
	if req.ConversationID != "" {
		b = append(b, `,"conversationId":`...)
		b = AppendJSONString(b, req.ConversationID)
	}
	if req.Purpose != "" {
		b = append(b, `,"purpose":`...)
		b = AppendJSONString(b, req.Purpose)
	}
	b = append(b, `,"items":[`...)
	for i := range req.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, &req.Items[i])
	}
	return append(b, "]}"...)
}

func appendItem(b []byte, it *Item) []byte {
	b = append(b, `{"itemExternalId":`...)
	b = AppendJSONString(b, it.ItemExternalID)
	b = append(b, `,"recipientType":`...)
	b = AppendJSONString(b, it.RecipientType)
	b = append(b, `,"recipientInfo":`...)
	b = AppendJSONString(b, it.RecipientInfo)
	b = append(b, `,"amount":{"value":`...)
	b = AppendDecimal(b, it.Amount.Value)
	b = append(b, `,"currency":`...)
	b = AppendJSONString(b, it.Amount.Currency)
	b = append(b, '}')
	if it.Description != "" {
		b = append(b, `,"description":`...)
		b = AppendJSONString(b, it.Description)
	}
	if it.RecipientName != "" {
		b = append(b, `,"recipientName":`...)
		b = AppendJSONString(b, it.RecipientName)
	}
	if it.NonWithdrawable {
		b = append(b, `,"nonWithdrawable":true`...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string as encoding/json writes it with HTML escaping:
// short escapes for \ " \b \f \n \r \t, \u00XX for other control bytes and < > &, \ufffd for
// invalid UTF-8, and \u2028, \u2029 escaped.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
