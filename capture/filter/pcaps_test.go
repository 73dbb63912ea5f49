package filter

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Synthetic captures: the same network-layer packets under every
// supported link type, plus tagged Ethernet frames, built with
// gopacket's serializer. tcpdump is the oracle for all of them.

type netPacket struct {
	etype layers.EthernetType
	data  []byte
	wire  int // original length when truncated (0: len(data))
}

func ser(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4(), Id: 1}
}

func ip6(src, dst string, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
}

func tcpSeg(sp, dp uint16, syn, ack bool) *layers.TCP {
	return &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), SYN: syn, ACK: ack, Seq: 1, Window: 1024, DataOffset: 5}
}

func netPackets(t testing.TB) []netPacket {
	v4 := layers.EthernetTypeIPv4
	v6 := layers.EthernetTypeIPv6
	var ps []netPacket
	add := func(et layers.EthernetType, b []byte) { ps = append(ps, netPacket{etype: et, data: b}) }

	add(v4, ser(t, ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolTCP), tcpSeg(40000, 443, true, false)))
	add(v4, ser(t, ip4("10.0.0.2", "10.0.0.1", layers.IPProtocolTCP), tcpSeg(443, 40000, true, true)))
	// IPv4 with options (IHL 6): tcp[] and port tests must honour it.
	opt := ip4("10.0.0.2", "10.0.0.1", layers.IPProtocolTCP)
	opt.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
	add(v4, ser(t, opt, tcpSeg(443, 40000, false, true), gopacket.Payload("GET / HTTP/1.1\r\n")))
	fin := tcpSeg(40000, 443, false, true)
	fin.FIN = true
	add(v4, ser(t, ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolTCP), fin))
	rst := tcpSeg(80, 1234, false, false)
	rst.RST = true
	add(v4, ser(t, ip4("192.168.1.5", "10.0.0.9", layers.IPProtocolTCP), rst))
	add(v4, ser(t, ip4("192.168.1.5", "8.8.8.8", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 5353, DstPort: 53}, gopacket.Payload(bytes.Repeat([]byte{0x10}, 30))))
	add(v4, ser(t, ip4("8.8.8.8", "192.168.1.5", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 53, DstPort: 5353}, gopacket.Payload(bytes.Repeat([]byte{1}, 1200))))
	add(v4, ser(t, ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, gopacket.Payload("ping")))
	add(v4, ser(t, ip4("10.0.0.2", "10.0.0.1", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(0, 0), Id: 1, Seq: 1}, gopacket.Payload("ping")))
	// Fragments: the first carries the ports; the second's payload
	// starts with bytes that look like port 80 and must not match.
	f1 := ip4("172.16.0.1", "172.16.0.2", layers.IPProtocolTCP)
	f1.Flags = layers.IPv4MoreFragments
	add(v4, ser(t, f1, tcpSeg(1025, 80, true, false)))
	f2 := ip4("172.16.0.1", "172.16.0.2", layers.IPProtocolTCP)
	f2.FragOffset = 3
	add(v4, ser(t, f2, gopacket.Payload([]byte{0, 80, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0})))
	// SCTP (port tests without a protocol include it).
	add(v4, ser(t, ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolSCTP), gopacket.Payload([]byte{0x1f, 0x90, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0})))

	add(v6, ser(t, ip6("::1", "::1", layers.IPProtocolTCP), tcpSeg(50000, 443, true, false)))
	add(v6, ser(t, ip6("fe80::1", "ff02::fb", layers.IPProtocolUDP), &layers.UDP{SrcPort: 5353, DstPort: 5353}, gopacket.Payload("mdns")))
	add(v6, ser(t, ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolICMPv6),
		&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}, gopacket.Payload("pingpong")))
	add(v6, ser(t, ip6("2001:db8::2", "2001:db8::1", layers.IPProtocolICMPv6),
		&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(129, 0)}, gopacket.Payload("pingpong")))
	// IPv6 fragment header then TCP: "tcp" sees it, port tests do not.
	add(v6, ser(t, ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolIPv6Fragment),
		&layers.IPv6Fragment{NextHeader: layers.IPProtocolTCP, MoreFragments: true, Identification: 7},
		tcpSeg(1234, 443, true, false)))
	// Hop-by-hop then UDP: libpcap does not look past it.
	hbh := &layers.IPv6HopByHop{}
	hbh.NextHeader = layers.IPProtocolUDP
	hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
	add(v6, ser(t, ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolIPv6HopByHop), hbh,
		&layers.UDP{SrcPort: 53, DstPort: 53}, gopacket.Payload("x")))
	add(v6, ser(t, ip6("2001:db8:1::5", "fe80::2", layers.IPProtocolTCP), tcpSeg(443, 50000, false, true)))

	add(layers.EthernetTypeARP, ser(t, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
		SourceHwAddress: []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55}, SourceProtAddress: []byte{10, 0, 0, 1},
		DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 0, 2}}))
	// Truncated capture: "len" sees the wire length.
	long := ser(t, ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolTCP), tcpSeg(40000, 443, false, true), gopacket.Payload(bytes.Repeat([]byte{'a'}, 900)))
	ps = append(ps, netPacket{etype: v4, data: long[:60], wire: len(long)})
	// Too short for most loads.
	add(v4, []byte{0x45, 0, 0})
	add(layers.EthernetType(0x8035), ser(t, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: 3,
		SourceHwAddress: []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55}, SourceProtAddress: []byte{0, 0, 0, 0},
		DstHwAddress: []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55}, DstProtAddress: []byte{10, 0, 0, 7}}))
	return ps
}

var (
	macA = net.HardwareAddr{0, 0x11, 0x22, 0x33, 0x44, 0x55}
	macB = net.HardwareAddr{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb}
	macX = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

type rawPacket struct {
	data []byte
	wire int
}

// wrap puts the link-layer header of lt in front of p; ok is false when
// lt cannot carry it (ARP on raw IP).
func wrap(t testing.TB, lt layers.LinkType, p netPacket) ([]byte, bool) {
	v4 := p.etype == layers.EthernetTypeIPv4
	v6 := p.etype == layers.EthernetTypeIPv6
	var hdr []byte
	switch lt {
	case layers.LinkTypeEthernet:
		// Serialized with its payload: gopacket pads short frames to 60
		// bytes, as a real NIC does.
		return ser(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: p.etype}, gopacket.Payload(p.data)), true
	case layers.LinkTypeLinuxSLL:
		hdr = make([]byte, 16)
		binary.BigEndian.PutUint16(hdr[2:], 1)
		binary.BigEndian.PutUint16(hdr[4:], 6)
		copy(hdr[6:], macA)
		binary.BigEndian.PutUint16(hdr[14:], uint16(p.etype))
	case layers.LinkTypeLinuxSLL2:
		hdr = make([]byte, 20)
		binary.BigEndian.PutUint16(hdr[0:], uint16(p.etype))
		binary.BigEndian.PutUint32(hdr[4:], 2)
		binary.BigEndian.PutUint16(hdr[8:], 1)
		hdr[11] = 6
		copy(hdr[12:], macA)
	case layers.LinkTypePPP:
		proto := uint16(p.etype)
		switch {
		case v4:
			proto = 0x21
		case v6:
			proto = 0x57
		}
		hdr = []byte{0xff, 0x03, byte(proto >> 8), byte(proto)}
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		af := uint32(2)
		switch {
		case v6:
			af = 30
		case !v4:
			return nil, false
		}
		hdr = make([]byte, 4)
		if lt == layers.LinkTypeNull {
			binary.LittleEndian.PutUint32(hdr, af) // pcapgo writes little-endian files
		} else {
			binary.BigEndian.PutUint32(hdr, af)
		}
	case layers.LinkTypeRaw, 12:
		if !v4 && !v6 {
			return nil, false
		}
	case layers.LinkTypeIPv4:
		if !v4 {
			return nil, false
		}
	case layers.LinkTypeIPv6:
		if !v6 {
			return nil, false
		}
	default:
		t.Fatalf("no wrapper for %v", lt)
	}
	return append(hdr, p.data...), true
}

// vlanFrames are Ethernet frames with 802.1Q, 802.1ad and QinQ tags.
func vlanFrames(t testing.TB, ps []netPacket) [][]byte {
	tag := func(tpid layers.EthernetType, inner []gopacket.SerializableLayer, payload []byte) []byte {
		ls := append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: macB, DstMAC: macX, EthernetType: tpid}}, inner...)
		return ser(t, append(ls, gopacket.Payload(payload))...)
	}
	var fs [][]byte
	tcp443, udp6 := ps[0], ps[13]
	fs = append(fs,
		tag(layers.EthernetTypeDot1Q, []gopacket.SerializableLayer{&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}}, tcp443.data),
		tag(layers.EthernetTypeDot1Q, []gopacket.SerializableLayer{&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeIPv6}}, udp6.data),
		tag(layers.EthernetTypeQinQ, []gopacket.SerializableLayer{
			&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4}}, tcp443.data),
		tag(layers.EthernetTypeDot1Q, []gopacket.SerializableLayer{
			&layers.Dot1Q{VLANIdentifier: 30, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv6}}, ps[12].data),
		tag(layers.EthernetTypeDot1Q, []gopacket.SerializableLayer{&layers.Dot1Q{VLANIdentifier: 4095, Type: layers.EthernetTypeARP}}, ps[19].data),
	)
	return fs
}

// syntheticLinkTypes are the link types the synthetic captures cover.
var syntheticLinkTypes = []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
	layers.LinkTypePPP, layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeRaw, 12,
	layers.LinkTypeIPv4, layers.LinkTypeIPv6}

// writeSynthetic writes one capture per link type into dir.
func writeSynthetic(t testing.TB, dir string) []string {
	ps := netPackets(t)
	var files []string
	for _, lt := range syntheticLinkTypes {
		var pkts []rawPacket
		for _, p := range ps {
			if b, ok := wrap(t, lt, p); ok {
				w := len(b)
				if p.wire != 0 {
					w = p.wire + len(b) - len(p.data)
				}
				pkts = append(pkts, rawPacket{b, w})
			}
		}
		if lt == layers.LinkTypeEthernet {
			for _, b := range vlanFrames(t, ps) {
				pkts = append(pkts, rawPacket{b, len(b)})
			}
			pkts = append(pkts, rawPacket{[]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 10})
			self := ser(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macA, EthernetType: layers.EthernetTypeIPv4}, gopacket.Payload(ps[0].data))
			pkts = append(pkts, rawPacket{self, len(self)})
		}
		name := filepath.Join(dir, "synthetic-"+lt.String()+"-"+itoa(int(lt))+".pcap")
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w := pcapgo.NewWriter(f)
		if err := w.WriteFileHeader(65535, lt); err != nil {
			t.Fatal(err)
		}
		base := time.Unix(1700000000, 0)
		for i, p := range pkts {
			ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Second), CaptureLength: len(p.data), Length: p.wire}
			if err := w.WritePacket(ci, p.data); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	return files
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

// capPacket is one packet read back from a capture.
type capPacket struct {
	data []byte
	ci   gopacket.CaptureInfo
}

// readCapture reads a pcap or pcapng file whole.
func readCapture(t testing.TB, name string) (layers.LinkType, []capPacket) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var lt layers.LinkType
	if binary.LittleEndian.Uint32(magic) == 0x0a0d0d0a {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		src, lt = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		src, lt = r, r.LinkType()
	}
	var ps []capPacket
	for {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return lt, ps
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ps = append(ps, capPacket{append([]byte(nil), data...), ci})
	}
}
