package flow

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// PairHash hashes the two endpoints of a TCP segment or a UDP datagram,
// the same in either direction, straight from the frame's bytes: for
// spreading flows over workers, where a full Decode per frame would cost
// as much as the dispatch saves. It handles what Decode's fast path
// handles (Ethernet with any VLAN tags, or raw IP; IPv4 without fragments,
// IPv6 without extension headers; not VXLAN, Geneve or Teredo) and reports false
// for anything else, which the caller decodes and hashes with HashPair. Both give the same
// value for the same endpoints; a TCP and a UDP flow between the same
// endpoints hash alike (one worker takes both, which is no harm).
func PairHash(lt layers.LinkType, data []byte) (uint64, bool) {
	off, ok := ipOffset(lt, data)
	if !ok {
		return 0, false
	}
	ip := data[off:]
	if len(ip) < 1 {
		return 0, false
	}
	switch ip[0] >> 4 {
	case 4:
		if len(ip) < 20 || !hashed(ip[9]) {
			return 0, false
		}
		ihl := int(ip[0]&0x0f) * 4
		if ihl < 20 || len(ip) < ihl+4 || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 || ip[9] == 17 && tunnelPort(ip[ihl:]) {
			return 0, false
		}
		src := endpointHash(0, v4InV6|uint64(binary.BigEndian.Uint32(ip[12:])), binary.BigEndian.Uint16(ip[ihl:]))
		dst := endpointHash(0, v4InV6|uint64(binary.BigEndian.Uint32(ip[16:])), binary.BigEndian.Uint16(ip[ihl+2:]))
		return src ^ dst, true
	case 6:
		if len(ip) < 44 || !hashed(ip[6]) || ip[6] == 17 && tunnelPort(ip[40:]) {
			return 0, false
		}
		src := endpointHash(binary.BigEndian.Uint64(ip[8:]), binary.BigEndian.Uint64(ip[16:]), binary.BigEndian.Uint16(ip[40:]))
		dst := endpointHash(binary.BigEndian.Uint64(ip[24:]), binary.BigEndian.Uint64(ip[32:]), binary.BigEndian.Uint16(ip[42:]))
		return src ^ dst, true
	}
	return 0, false
}

// hashed reports whether PairHash takes an IP protocol: TCP (6) and UDP
// (17), whose headers both start with the two ports.
func hashed(proto byte) bool { return proto == 6 || proto == 17 }

// tunnelPort reports whether a UDP header's ports are a tunnel's (VXLAN,
// Geneve, Teredo): Decode takes the inner packet's endpoints, which the caller
// hashes with HashPair.
func tunnelPort(udp []byte) bool {
	sport, dport := binary.BigEndian.Uint16(udp), binary.BigEndian.Uint16(udp[2:])
	return sport == portVXLAN || dport == portVXLAN || sport == portGeneve || dport == portGeneve || sport == portTeredo || dport == portTeredo
}

// HashPair is PairHash for decoded endpoints.
func HashPair(a, b netip.AddrPort) uint64 {
	return addrPortHash(a) ^ addrPortHash(b)
}

func addrPortHash(ap netip.AddrPort) uint64 {
	b := ap.Addr().As16() // IPv4 as ::ffff:a.b.c.d, as PairHash takes it
	return endpointHash(binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), ap.Port())
}

// endpointHash mixes an address (as 128 bits) and a port with the
// splitmix64 finalizer; the two endpoints' hashes are combined with XOR,
// which does not depend on their order.
func endpointHash(hi, lo uint64, port uint16) uint64 {
	return mix64(hi ^ mix64(lo^uint64(port)<<48^uint64(port)))
}

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
