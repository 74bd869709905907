package callback

import "net/netip"

// addrClass is how the dialer treats an address.
type addrClass int

const (
	public      addrClass = iota // global unicast: always dialled
	private                      // dialled only with Policy.AllowPrivate
	unreachable                  // never dialled
)

// nonGlobal are the special-purpose ranges (IANA IPv4 and IPv6 special-purpose address
// registries) that netip's predicates do not name and that no public receiver lives in.
var nonGlobal = []struct {
	prefix netip.Prefix
	kind   string
	class  addrClass
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network", unreachable},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)", private},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment", private},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation", private},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking", private},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation", private},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation", private},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved", private},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible", private},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use IPv4/IPv6 translation", private},
	{netip.MustParsePrefix("100::/64"), "discard-only", private},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignment (Teredo included)", private},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation", private},
	{netip.MustParsePrefix("2002::/16"), "6to4", private},
	{netip.MustParsePrefix("3fff::/20"), "documentation", private},
	{netip.MustParsePrefix("5f00::/16"), "segment routing", private},
	{netip.MustParsePrefix("fec0::/10"), "site-local", private},
}

// nat64 is the well-known NAT64 prefix (RFC 6052): such an address reaches the IPv4 address in
// its last 32 bits, so that address is what is judged.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// classify says how the dialer treats a, and names its kind for messages ("" when public).
// Loopback, private (RFC 1918, RFC 4193) and the other non-global unicast ranges are private;
// unspecified, multicast, broadcast, link-local (where cloud metadata services answer) and
// this-network addresses are unreachable even with AllowPrivate.
func classify(a netip.Addr) (addrClass, string) {
	a = a.WithZone("").Unmap()
	switch {
	case !a.IsValid():
		return unreachable, "invalid"
	case a.IsUnspecified():
		return unreachable, "unspecified"
	case a.IsMulticast():
		return unreachable, "multicast"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return unreachable, "broadcast"
	case a.IsLinkLocalUnicast():
		return unreachable, "link-local"
	case a.IsLoopback():
		return private, "loopback"
	case a.IsPrivate():
		return private, "private"
	}
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		return classify(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	for _, r := range nonGlobal {
		if r.prefix.Contains(a) {
			return r.class, r.kind
		}
	}
	if !a.IsGlobalUnicast() {
		return private, "non-global"
	}
	return public, ""
}
