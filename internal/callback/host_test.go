package callback

import (
	"net/netip"
	"testing"
)

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "HR.Example.COM", want: "hr.example.com"},
		{in: "hr.example.com.", want: "hr.example.com"},
		{in: "localhost", want: "localhost"},
		// The same forms net/http dials (its IDNA 2008 lookup profile).
		{in: "münchen.de", want: "xn--mnchen-3ya.de"},
		{in: "MÜNCHEN.de", want: "xn--mnchen-3ya.de"},
		{in: "bücher.example", want: "xn--bcher-kva.example"},
		{in: "日本語.jp", want: "xn--wgv71a119e.jp"},
		{in: "ÄÖÜ.example", want: "xn--4ca0bs.example"},
		{in: "straße.de", want: "xn--strae-oqa.de"},
		{in: "ＡＢＣ.example", want: "abc.example"},
		{in: "a。b.example", want: "a.b.example"},
		{in: "xn--Mnchen-3ya.de", want: "xn--mnchen-3ya.de"},
		{in: "127.0.0.1", want: "127.0.0.1"},
		{in: "::ffff:127.0.0.1", want: "127.0.0.1"},
		{in: "2001:DB8::1", want: "2001:db8::1"},
		{in: "", bad: true},
		{in: "a..b", bad: true},
		{in: ".", bad: true},
		{in: "-a.example", bad: true},
		{in: "a_b.example", bad: true},
		{in: "a b.example", bad: true},
		{in: "127.1", bad: true},
		{in: "2130706433", bad: true},
		{in: "0x7f.0.0.1", bad: true},
		{in: "fe80::1%eth0", bad: true},
		{in: "hr.example.com:443", bad: true},
	}
	for _, tt := range tests {
		got, err := normalizeHost(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("normalizeHost(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("normalizeHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestPunycodeKnownAnswers(t *testing.T) {
	// RFC 3492 §7.1 (A) Arabic (Egyptian) and (L) 3<nen>B<gumi><kinpachi><sensei>, lower-cased.
	tests := map[string]string{
		"\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F": "egbpdaj6bu4bxfgehfvwxn",
		"3\u5E74b\u7D44\u91D1\u516B\u5148\u751F": "3b-ww4c5e180e575a65lsy2b",
		"münchen":                                "mnchen-3ya",
	}
	for in, want := range tests {
		if got, err := punycode(in); err != nil || got != want {
			t.Errorf("punycode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		addr  string
		class addrClass
	}{
		{"93.184.215.14", public},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", public},
		{"64:ff9b::5db8:d70e", public}, // NAT64 of 93.184.215.14
		{"127.0.0.1", private},
		{"127.9.9.9", private},
		{"::1", private},
		{"::ffff:127.0.0.1", private},
		{"10.1.2.3", private},
		{"172.16.0.1", private},
		{"172.31.255.255", private},
		{"192.168.1.1", private},
		{"fd12:3456::1", private},
		{"100.64.0.1", private},
		{"198.18.0.1", private},
		{"192.0.2.1", private},
		{"2001:db8::1", private},
		{"64:ff9b::7f00:1", private}, // NAT64 of 127.0.0.1
		{"::7f00:1", private},
		{"240.0.0.1", private},
		{"0.0.0.0", unreachable},
		{"0.1.2.3", unreachable},
		{"::", unreachable},
		{"224.0.0.1", unreachable},
		{"ff02::1", unreachable},
		{"255.255.255.255", unreachable},
		{"169.254.169.254", unreachable},
		{"fe80::1", unreachable},
		{"64:ff9b::a9fe:a9fe", unreachable}, // NAT64 of 169.254.169.254
	}
	for _, tt := range tests {
		if got, kind := classify(netip.MustParseAddr(tt.addr)); got != tt.class {
			t.Errorf("classify(%s) = %d (%s), want %d", tt.addr, got, kind, tt.class)
		}
	}
}
