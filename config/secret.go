package config

import (
	"fmt"

	"github.com/rs/zerolog"
)

// Secret holds a credential. It never prints its value: fmt verbs, JSON and zerolog all show
// "***" (or "" when unset, so an operator can tell "missing" from "set"). Use Reveal where the
// value is really needed, such as signing a request.
type Secret string

const masked = "***"

// Reveal returns the secret's value. Call it only where the value is used, never for output.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) shown() string {
	if s == "" {
		return ""
	}
	return masked
}

// String implements fmt.Stringer.
func (s Secret) String() string { return s.shown() }

// GoString implements fmt.GoStringer, so %#v masks too.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.shown()) }

// Format implements fmt.Formatter: every verb (%s %v %q %x %d ...) prints the mask.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.shown())
	default:
		fmt.Fprint(f, s.shown())
	}
}

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.shown() + `"`), nil }

// MarshalText implements encoding.TextMarshaler (used by map keys, YAML and some loggers).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// MarshalZerologObject lets a Secret be logged with Object; Str/Stringer calls use String.
func (s Secret) MarshalZerologObject(e *zerolog.Event) { e.Str("secret", s.shown()) }
