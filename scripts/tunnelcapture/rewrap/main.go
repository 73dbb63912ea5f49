// Command rewrap wraps the inner frames of a real VXLAN capture (recorded
// by scripts/tunnelcapture/capture.sh) in the encapsulations the test
// machine's kernel could not make: GRE (keyed), GRE carrying Ethernet,
// ERSPAN type II and III, IP in IPv4 (IPIP, 6in4), IP in IPv6 (4in6,
// 6in6), Geneve, Teredo (the IPv6 connection only), an MPLS label stack, a
// PPPoE session (after a discovery frame, which carries no packet), Cisco
// MetaData (SGT), 802.11 data frames with LLC/SNAP under radiotap and PPI,
// NFLOG, and VLAN / GRE / VXLAN nested. It is synthetic wrapping of real
// traffic: the inner frames, their TCP and TLS, are the ones the kernel
// sent; only the outer headers are written here, as the RFCs and drafts
// lay them out (their checksums right). capture.sh checks each file with
// tshark.
//
//	go run ./scripts/tunnelcapture/rewrap -in testdata/pcaps/tunnel/vxlan.pcap -out testdata/pcaps/tunnel
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

type frame struct {
	ci      gopacket.CaptureInfo
	eth     []byte // the inner Ethernet frame
	srcMAC  []byte // the outer frame's
	dstMAC  []byte
	src4    [4]byte // the underlay's addresses
	dst4    [4]byte
	forward bool // from the first frame's sender
}

func main() {
	in := flag.String("in", "", "the VXLAN capture")
	out := flag.String("out", ".", "directory for the rewrapped captures")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "rewrap:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	frames, err := read(in)
	if err != nil {
		return err
	}
	for _, w := range wrappers {
		path := filepath.Join(out, w.name+".pcap")
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		pw := pcapgo.NewWriter(f)
		if err := pw.WriteFileHeader(65535, w.lt); err != nil {
			return err
		}
		for i, fr := range frames {
			if i == 0 && w.first != nil {
				b := w.first(fr)
				ci := fr.ci
				ci.CaptureLength, ci.Length = len(b), len(b)
				if err := pw.WritePacket(ci, b); err != nil {
					return err
				}
			}
			if t := innerType(fr); !w.ethernet && t != 0x0800 && t != 0x86dd {
				continue
			}
			b := w.wrap(fr)
			if b == nil {
				continue
			}
			ci := fr.ci
			ci.CaptureLength, ci.Length = len(b), len(b)
			if err := pw.WritePacket(ci, b); err != nil {
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "rewrap: wrote %s\n", path)
	}
	return nil
}

// read takes the inner Ethernet frames of a capture's VXLAN datagrams
// (IPv4 underlay); a datagram the underlay fragmented is put together
// again (RFC 791) and dated by its last fragment.
func read(path string) ([]frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, err
	}
	var out []frame
	var first [4]byte
	frags := map[uint16][]byte{} // by identification: the datagram's payload so far
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) < 14+20+8+8+14 || binary.BigEndian.Uint16(data[12:]) != 0x0800 {
			continue
		}
		ip := data[14:]
		ihl := int(ip[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ip[9] != 17 || total > len(ip) {
			continue
		}
		body := ip[ihl:total]
		if ff := binary.BigEndian.Uint16(ip[6:]); ff&0x3fff != 0 {
			id, off := binary.BigEndian.Uint16(ip[4:]), int(ff&0x1fff)*8
			buf := frags[id]
			if len(buf) < off+len(body) {
				buf = append(buf, make([]byte, off+len(body)-len(buf))...)
			}
			copy(buf[off:], body)
			frags[id] = buf
			if ff&0x2000 != 0 {
				continue // more fragments
			}
			body = buf
			delete(frags, id)
		}
		if len(body) < 16+14 || binary.BigEndian.Uint16(body[2:]) != 4789 {
			continue
		}
		fr := frame{ci: ci, eth: append([]byte(nil), body[16:]...), srcMAC: data[6:12], dstMAC: data[0:6]}
		copy(fr.src4[:], ip[12:16])
		copy(fr.dst4[:], ip[16:20])
		if len(out) == 0 {
			first = fr.src4
		}
		fr.forward = fr.src4 == first
		out = append(out, fr)
	}
}

type wrapper struct {
	name  string
	lt    layers.LinkType
	first func(frame) []byte // a frame before the first, or nil
	wrap  func(frame) []byte // nil: the frame is left out
	// ethernet says the encapsulation carries Ethernet frames; the others
	// carry IP packets, and the inner ARP and other non-IP frames are left
	// out.
	ethernet bool
}

var wrappers = []wrapper{
	{name: "gre-synthetic", lt: layers.LinkTypeEthernet, wrap: func(f frame) []byte {
		// RFC 2890: key present, the inner IP packet after it.
		return ether(f, 0x0800, ipv4(f.src4, f.dst4, 47, cat(gre(0x20, innerType(f), 5, 0), innerIP(f))))
	}},
	{name: "gretap-synthetic", lt: layers.LinkTypeEthernet, ethernet: true, wrap: func(f frame) []byte {
		return ether(f, 0x0800, ipv4(f.src4, f.dst4, 47, cat(gre(0x20, 0x6558, 6, 0), f.eth)))
	}},
	{name: "erspan2-synthetic", lt: layers.LinkTypeEthernet, ethernet: true, wrap: func(f frame) []byte {
		// draft-foschiano-erspan-03 4.2: GRE with a sequence number, then
		// version 1, VLAN 0, session 123, index 0.
		h := []byte{0x10, 0x00, 0x00, 123, 0, 0, 0, 0}
		return ether(f, 0x0800, ipv4(f.src4, f.dst4, 47, cat(gre(0x10, 0x88be, 0, 1), h, f.eth)))
	}},
	{name: "erspan3-synthetic", lt: layers.LinkTypeEthernet, ethernet: true, wrap: func(f frame) []byte {
		// 4.3: version 2, session 124, a timestamp, SGT 0, frame type 0
		// (Ethernet), hardware id 7, no optional subheader.
		h := []byte{0x20, 0x00, 0x00, 124, 0, 0, 0x12, 0x34, 0, 0, 0x01, 0xc0}
		return ether(f, 0x0800, ipv4(f.src4, f.dst4, 47, cat(gre(0x10, 0x22eb, 0, 1), h, f.eth)))
	}},
	{name: "ip-in-ip4-synthetic", lt: layers.LinkTypeEthernet, wrap: func(f frame) []byte {
		// RFC 2003 (IPv4 inside: protocol 4), RFC 4213 (IPv6: 41).
		return ether(f, 0x0800, ipv4(f.src4, f.dst4, innerProto(f), innerIP(f)))
	}},
	{name: "ip-in-ip6-synthetic", lt: layers.LinkTypeEthernet, wrap: func(f frame) []byte {
		// RFC 2473: IPv4 or IPv6 inside IPv6.
		return ether(f, 0x86dd, ipv6(v6(f.src4), v6(f.dst4), innerProto(f), innerIP(f)))
	}},
	{name: "geneve-synthetic", lt: layers.LinkTypeEthernet, ethernet: true, wrap: func(f frame) []byte {
		// RFC 8926: one 4-byte option (class 0x0102, type 0x80), VNI 61,
		// protocol 0x6558 (Ethernet).
		h := []byte{0x02, 0x00, 0x65, 0x58, 0, 0, 61, 0, 0x01, 0x02, 0x80, 0x01, 1, 2, 3, 4}
		return ether(f, 0x0800, ipv4(f.src4, f.dst4, 17, udp(49152+uint16(len(f.eth)%1000), 6081, cat(h, f.eth))))
	}},
	{name: "nested-synthetic", lt: layers.LinkTypeEthernet, ethernet: true, wrap: func(f frame) []byte {
		// Encapsulations nest: an 802.1Q tag (VLAN 100), GRE with key 7
		// between the underlay's addresses, VXLAN VNI 42 between
		// 192.168.0.1 and .2 inside it, the Ethernet frame inside that.
		a, b := [4]byte{192, 168, 0, f.src4[3]}, [4]byte{192, 168, 0, f.dst4[3]}
		vx := ipv4(a, b, 17, udp(49152+uint16(len(f.eth)%1000), 4789, cat([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, f.eth)))
		tagged := cat([]byte{0x00, 100, 0x08, 0x00}, ipv4(f.src4, f.dst4, 47, cat(gre(0x20, 0x0800, 7, 0), vx)))
		return ether(f, 0x8100, tagged)
	}},
	{name: "teredo-synthetic", lt: layers.LinkTypeEthernet, wrap: func(f frame) []byte {
		// RFC 4380: the IPv6 packets in UDP between a client's port and
		// the relay's 3544, the relay's with an origin indication (5.1.1:
		// type 0, the obfuscated port and address).
		if innerType(f) != 0x86dd {
			return nil
		}
		if f.forward {
			return ether(f, 0x0800, ipv4(f.src4, f.dst4, 17, udp(49500, 3544, innerIP(f))))
		}
		origin := []byte{0, 0, ^byte(49500 >> 8), ^byte(49500 & 0xff), ^f.dst4[0], ^f.dst4[1], ^f.dst4[2], ^f.dst4[3]}
		return ether(f, 0x0800, ipv4(f.src4, f.dst4, 17, udp(3544, 49500, cat(origin, innerIP(f)))))
	}},
	{name: "mpls-synthetic", lt: layers.LinkTypeEthernet, wrap: func(f frame) []byte {
		// RFC 3032: two labels, the second at the bottom of the stack.
		h := []byte{0x00, 0x06, 0x40, 64, 0x00, 0x0c, 0x81, 64} // label 100, label 200 (S)
		return ether(f, 0x8847, cat(h, innerIP(f)))
	}},
	{name: "pppoe-synthetic", lt: layers.LinkTypeEthernet,
		first: func(f frame) []byte {
			// RFC 2516 5.1: a PADI with a Service-Name tag, no packet.
			return ether(f, 0x8863, []byte{0x11, 0x09, 0, 0, 0, 4, 0x01, 0x01, 0, 0})
		},
		wrap: func(f frame) []byte {
			ip := innerIP(f)
			proto := []byte{0x00, 0x21}
			if innerType(f) == 0x86dd {
				proto = []byte{0x00, 0x57}
			}
			body := cat(proto, ip)
			h := []byte{0x11, 0x00, 0x12, 0x34, byte(len(body) >> 8), byte(len(body))}
			return ether(f, 0x8864, cat(h, body))
		}},
	{name: "sgt-synthetic", lt: layers.LinkTypeEthernet, wrap: func(f frame) []byte {
		// Cisco MetaData: version 1, length 1, option SGT (type 1,
		// length 0), tag 10, then the inner ethertype.
		t := innerType(f)
		return ether(f, 0x8909, cat([]byte{0x01, 0x01, 0x00, 0x01, 0x00, 10, byte(t >> 8), byte(t)}, innerIP(f)))
	}},
	{name: "radiotap-synthetic", lt: 127, wrap: func(f frame) []byte {
		// radiotap: version 0, length 12, present: Flags (bit 1) and Rate
		// (bit 2); flags 0 (no FCS).
		rt := []byte{0, 0, 12, 0, 0x06, 0, 0, 0, 0x00, 0x0c, 0, 0}
		return cat(rt, dot11(f, true), snap(f))
	}},
	{name: "ppi-synthetic", lt: 192, wrap: func(f frame) []byte {
		// PPI: version 0, flags 0, length 8, link type 105 (802.11).
		ppi := []byte{0, 0, 8, 0, 105, 0, 0, 0}
		return cat(ppi, dot11(f, false), snap(f))
	}},
	{name: "nflog-synthetic", lt: 239, wrap: func(f frame) []byte {
		// NFLOG: family, version 0, resource id 5 (big-endian); TLVs in
		// little-endian (the capturing host's order): NFULA_PACKET_HDR
		// (1: hw_protocol, hook, pad), NFULA_PREFIX (10), NFULA_PAYLOAD (9).
		ip := innerIP(f)
		fam := byte(2)
		if innerType(f) == 0x86dd {
			fam = 10
		}
		t := innerType(f)
		b := []byte{fam, 0, 0, 5}
		b = append(b, tlv(1, []byte{byte(t >> 8), byte(t), 3, 0})...)
		b = append(b, tlv(10, []byte("tls\x00"))...)
		b = append(b, tlv(9, ip)...)
		return b
	}},
}

func tlv(typ uint16, v []byte) []byte {
	n := 4 + len(v)
	b := []byte{byte(n), byte(n >> 8), byte(typ), byte(typ >> 8)}
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func innerType(f frame) uint16 { return binary.BigEndian.Uint16(f.eth[12:]) }

// innerIP is the inner frame's IP packet.
func innerIP(f frame) []byte { return f.eth[14:] }

func innerProto(f frame) byte {
	if innerType(f) == 0x86dd {
		return 41
	}
	return 4
}

func ether(f frame, et uint16, payload []byte) []byte {
	return cat(f.dstMAC, f.srcMAC, []byte{byte(et >> 8), byte(et)}, payload)
}

func gre(flags byte, proto uint16, key, seq uint32) []byte {
	b := []byte{flags, 0, byte(proto >> 8), byte(proto)}
	if flags&0x20 != 0 {
		b = binary.BigEndian.AppendUint32(b, key)
	}
	if flags&0x10 != 0 {
		b = binary.BigEndian.AppendUint32(b, seq)
	}
	return b
}

func ipv4(src, dst [4]byte, proto byte, payload []byte) []byte {
	n := 20 + len(payload)
	h := []byte{0x45, 0, byte(n >> 8), byte(n), 0, 0, 0x40, 0, 64, proto, 0, 0}
	h = append(h, src[:]...)
	h = append(h, dst[:]...)
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
	return append(h, payload...)
}

// v6 is the IPv6 underlay address of an IPv4 one: fd00:200::N.
func v6(a [4]byte) [16]byte {
	return [16]byte{0xfd, 0x00, 0x02, 0x00, 15: a[3]}
}

func ipv6(src, dst [16]byte, nh byte, payload []byte) []byte {
	h := []byte{0x60, 0, 0, 0, byte(len(payload) >> 8), byte(len(payload)), nh, 64}
	h = append(h, src[:]...)
	h = append(h, dst[:]...)
	return append(h, payload...)
}

// udp has a zero checksum (allowed over IPv4, RFC 768).
func udp(sport, dport uint16, payload []byte) []byte {
	n := 8 + len(payload)
	return cat([]byte{byte(sport >> 8), byte(sport), byte(dport >> 8), byte(dport), byte(n >> 8), byte(n), 0, 0}, payload)
}

// dot11 is an 802.11 data frame header between a station and its access
// point: QoS data (subtype 8, QoS control) to the DS when qos, plain data
// from the DS otherwise (802.11-2020, 9.3.2.1).
func dot11(f frame, qos bool) []byte {
	bssid := []byte{0x02, 0, 0, 0, 0, 0xaa}
	var fc []byte
	var a1, a2, a3 []byte
	if qos {
		fc = []byte{0x88, 0x01} // QoS data, to DS
		a1, a2, a3 = bssid, f.eth[6:12], f.eth[0:6]
	} else {
		fc = []byte{0x08, 0x02} // data, from DS
		a1, a2, a3 = f.eth[0:6], bssid, f.eth[6:12]
	}
	h := cat(fc, []byte{0x2c, 0x00}, a1, a2, a3, []byte{0x10, 0x00})
	if qos {
		h = append(h, 0x00, 0x00)
	}
	return h
}

// snap is RFC 1042's LLC/SNAP header and the inner packet.
func snap(f frame) []byte {
	t := innerType(f)
	return cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, byte(t >> 8), byte(t)}, innerIP(f))
}
