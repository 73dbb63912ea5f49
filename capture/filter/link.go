package filter

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
)

// linkKind says how a link type carries the network protocol.
type linkKind int

const (
	linkEthernet linkKind = iota // ethertype at 12, before any 802.1Q tags
	linkSLL                      // Linux cooked v1: protocol at 14
	linkSLL2                     // Linux cooked v2: protocol at 0
	linkPPP                      // PPP protocol at 2 (0x0021 IPv4, 0x0057 IPv6)
	linkNull                     // BSD loopback: 4-byte AF_ in the writer's byte order
	linkLoop                     // OpenBSD loopback: 4-byte AF_ in network order
	linkRaw                      // raw IP: version nibble tells IPv4 from IPv6
	linkIPv4                     // always IPv4
	linkIPv6                     // always IPv6
)

// linkInfo is what codegen needs of a link type: the offset of the
// network header and how the ethertype is found.
type linkInfo struct {
	name   string
	kind   linkKind
	netOff uint32
}

func lookupLink(lt layers.LinkType) (linkInfo, error) {
	switch lt {
	case layers.LinkTypeEthernet:
		return linkInfo{"Ethernet", linkEthernet, 14}, nil
	case layers.LinkTypeLinuxSLL:
		return linkInfo{"Linux cooked (SLL)", linkSLL, 16}, nil
	case layers.LinkTypeLinuxSLL2:
		return linkInfo{"Linux cooked v2 (SLL2)", linkSLL2, 20}, nil
	case layers.LinkTypePPP:
		return linkInfo{"PPP", linkPPP, 4}, nil
	case layers.LinkTypeNull:
		return linkInfo{"BSD loopback (Null)", linkNull, 4}, nil
	case layers.LinkTypeLoop:
		return linkInfo{"OpenBSD loopback (Loop)", linkLoop, 4}, nil
	case layers.LinkTypeRaw, 12: // LINKTYPE_RAW; DLT_RAW is 12 on Linux
		return linkInfo{"raw IP", linkRaw, 0}, nil
	case layers.LinkTypeIPv4:
		return linkInfo{"raw IPv4", linkIPv4, 0}, nil
	case layers.LinkTypeIPv6:
		return linkInfo{"raw IPv6", linkIPv6, 0}, nil
	}
	return linkInfo{}, fmt.Errorf("filter: link type %d (%s) is not supported; supported: Ethernet, Linux SLL/SLL2, PPP, Null/Loop, raw IP", int(lt), lt)
}

const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd
	etherTypeARP  = 0x0806
	etherTypeRARP = 0x8035
)

// BSD AF_INET6 values differ between systems; libpcap accepts all three.
var afInet6 = []uint32{24, 28, 30} // NetBSD/OpenBSD, FreeBSD, Darwin

// linkIs tests that the link layer carries etype (an ethertype). vlans
// moves the Ethernet type field past that many 802.1Q tags.
func (g *gen) linkIs(etype uint16, vlans int) test {
	switch g.link.kind {
	case linkEthernet:
		return g.ldJeq(bpfH, 12+4*uint32(vlans), uint32(etype))
	case linkSLL:
		return g.ldJeq(bpfH, 14, uint32(etype))
	case linkSLL2:
		return g.ldJeq(bpfH, 0, uint32(etype))
	case linkPPP:
		switch etype {
		case etherTypeIPv4:
			return g.ldJeq(bpfH, 2, 0x0021)
		case etherTypeIPv6:
			return g.ldJeq(bpfH, 2, 0x0057)
		}
		return g.ldJeq(bpfH, 2, uint32(etype)) // as libpcap does for ARP
	case linkNull, linkLoop:
		var afs []uint32
		switch etype {
		case etherTypeIPv4:
			afs = []uint32{2}
		case etherTypeIPv6:
			afs = afInet6
		default:
			return never
		}
		if g.link.kind == linkNull {
			// Host byte order of the machine that wrote the capture:
			// accept both orders (AF values are small, so no clash).
			for _, af := range afs[:len(afs):len(afs)] {
				afs = append(afs, af<<24)
			}
		}
		return g.ldJeq(bpfW, 0, afs...)
	case linkRaw:
		switch etype {
		case etherTypeIPv4:
			return g.ldMaskJeq(bpfB, 0, 0xf0, 0x40)
		case etherTypeIPv6:
			return g.ldMaskJeq(bpfB, 0, 0xf0, 0x60)
		}
		return never
	case linkIPv4:
		if etype == etherTypeIPv4 {
			return always
		}
		return never
	default: // linkIPv6
		if etype == etherTypeIPv6 {
			return always
		}
		return never
	}
}
