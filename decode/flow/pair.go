package flow

import (
	"encoding/binary"
	"net/netip"
)

// Pair names a TCP connection by its two endpoints, the same in either
// direction. It is plain memory without padding, so a map keyed by it
// hashes and compares its bytes in one go: a [2]netip.AddrPort key costs
// more, since a netip.Addr holds a pointer (its zone's unique.Handle) that
// the map's hash and equality handle field by field.
type Pair struct {
	// Each endpoint's address as 128 bits (IPv4 as ::ffff:a.b.c.d), the
	// lower endpoint first.
	aHi, aLo, bHi, bLo uint64
	// Each endpoint's port<<8 | family (4, 6, or 0 for the zero Addr),
	// which keeps an IPv4 address apart from the same address mapped into
	// IPv6, as netip.Addr does.
	aPF, bPF uint32
}

// PairOf names the connection between two endpoints: PairOf(a, b) ==
// PairOf(b, a), and two Pairs are equal only when their endpoints are. A
// zone in an address is not part of the name (decoded packets have none).
func PairOf(a, b netip.AddrPort) Pair {
	aHi, aLo, aPF := endpoint(a)
	bHi, bLo, bPF := endpoint(b)
	return pairOf(aHi, aLo, aPF, bHi, bLo, bPF)
}

// pairOf orders two endpoints given as Pair holds them. Decode's fast path
// calls it with the addresses read straight from the frame.
func pairOf(aHi, aLo uint64, aPF uint32, bHi, bLo uint64, bPF uint32) Pair {
	if aHi > bHi || aHi == bHi && (aLo > bLo || aLo == bLo && aPF > bPF) {
		return Pair{bHi, bLo, aHi, aLo, bPF, aPF}
	}
	return Pair{aHi, aLo, bHi, bLo, aPF, bPF}
}

// v4InV6 is the prefix of an IPv4-mapped IPv6 address (::ffff:0:0/96) in
// the low 64 bits.
const v4InV6 = 0xffff << 32

func endpoint(ap netip.AddrPort) (hi, lo uint64, pf uint32) {
	a := ap.Addr()
	b := a.As16()
	pf = uint32(ap.Port()) << 8
	switch {
	case a.Is4():
		pf |= 4
	case a.Is6():
		pf |= 6
	}
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), pf
}
