package flow

// Encapsulations: the headers a packet may travel in between the link and
// the IP packet a flow is made of (tunnels over IP or UDP, label stacks,
// tags, PPPoE sessions, 802.11 data frames) and the link types that carry
// them. The general path decodes them into the Decoder's preallocated
// layers (gopacket's where it has one that decodes without allocating or
// writing into the frame, the small headers below otherwise); the fast
// path takes only VXLAN. What a packet was wrapped in is kept as a list
// of Encap, outermost first, and the tunnels among them make its Tunnel,
// part of the flow's Key.

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/crypto/cryptobyte"
)

// EncapKind is a kind of encapsulation.
type EncapKind uint8

// The encapsulations Decode looks into.
const (
	EncapVXLAN  EncapKind = iota + 1 // RFC 7348, UDP port 4789
	EncapGeneve                      // RFC 8926, UDP port 6081
	EncapGRE                         // RFC 2784, RFC 2890 (key, sequence)
	EncapERSPAN                      // draft-foschiano-erspan-03 type II or III, in GRE
	EncapIPIP                        // IPv4 in IPv4, RFC 2003
	Encap6in4                        // IPv6 in IPv4, RFC 4213
	Encap4in6                        // IPv4 in IPv6, RFC 2473
	Encap6in6                        // IPv6 in IPv6, RFC 2473
	EncapMPLS                        // RFC 3032 label stack
	EncapPPPoE                       // RFC 2516 session stage
	EncapSGT                         // Cisco MetaData (ethertype 0x8909): a security group tag
	EncapTeredo                      // RFC 4380, UDP port 3544: IPv6 in UDP over IPv4
)

var encapNames = [...]string{EncapVXLAN: "vxlan", EncapGeneve: "geneve", EncapGRE: "gre", EncapERSPAN: "erspan",
	EncapIPIP: "ipip", Encap6in4: "6in4", Encap4in6: "4in6", Encap6in6: "6in6", EncapMPLS: "mpls", EncapPPPoE: "pppoe", EncapSGT: "sgt", EncapTeredo: "teredo"}

func (k EncapKind) String() string {
	if int(k) < len(encapNames) && encapNames[k] != "" {
		return encapNames[k]
	}
	return "unknown"
}

// idName is what an encapsulation's ID is called.
var idName = [...]string{EncapVXLAN: "vni", EncapGeneve: "vni", EncapGRE: "key", EncapERSPAN: "session",
	EncapMPLS: "label", EncapPPPoE: "session", EncapSGT: "sgt"}

// Encap is one encapsulation a packet was found in.
type Encap struct {
	Kind EncapKind
	// ID is the VXLAN or Geneve VNI, the GRE key (HasID: only when the
	// header has one), the ERSPAN or PPPoE session, the top MPLS label or
	// the security group tag.
	ID    uint32
	HasID bool
	// Src and Dst are the outer IP header's addresses, for the
	// encapsulations over IP (VXLAN, Geneve, GRE, IP in IP); invalid for
	// the others.
	Src, Dst netip.Addr
}

// String is "vxlan vni=42 192.0.2.1-192.0.2.2", "mpls label=16", "6in4
// 192.0.2.1-192.0.2.2".
func (e Encap) String() string {
	b := []byte(e.Kind.String())
	if e.HasID && int(e.Kind) < len(idName) {
		b = append(b, ' ')
		b = append(b, idName[e.Kind]...)
		b = append(b, '=')
		b = strconv.AppendUint(b, uint64(e.ID), 10)
	}
	if e.Src.IsValid() {
		b = append(b, ' ')
		b = e.Src.AppendTo(b)
		b = append(b, '-')
		b = e.Dst.AppendTo(b)
	}
	return string(b)
}

// identifies reports whether an encapsulation tells flows apart: a tunnel
// (its outer endpoints and network identifier) or a PPPoE session. MPLS
// labels and security group tags are chosen per direction, so the two
// halves of one connection carry different ones: they are described, not
// keyed on.
func (k EncapKind) identifies() bool {
	return k != EncapMPLS && k != EncapSGT
}

// Tunnel names the tunnels a packet came through, in either direction: a
// 56-bit hash of each identifying Encap (kind, ID, the outer endpoints in
// either order), 0 for a packet that came through none. Two different
// tunnels collide with probability 2^-56.
type Tunnel uint64

func (t Tunnel) enter(e Encap) Tunnel {
	h := mix64(uint64(t) ^ uint64(e.Kind)<<40 ^ uint64(e.ID) ^ boolBit(e.HasID)<<39)
	if e.Src.IsValid() {
		h ^= addrHash(e.Src) ^ addrHash(e.Dst) // XOR: the same in either direction
	}
	h = mix64(h) >> 8
	if h == 0 {
		h = 1
	}
	return Tunnel(h)
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func addrHash(a netip.Addr) uint64 {
	b := a.As16()
	return endpointHash(binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), 0)
}

// Limits of the encapsulation decoder.
const (
	// MaxEncapsulations is how many encapsulations one packet may be
	// nested in; a deeper packet is malformed (AnomalyEncapsulationDepth).
	MaxEncapsulations = 8
	// maxMPLSLabels caps one label stack (RFC 3032 sets no limit; real
	// stacks hold a few labels): a deeper one is malformed
	// (AnomalyEncapsulationDepth).
	maxMPLSLabels = 16
	// maxNFLOGTLVs caps the TLVs read looking for an NFLOG packet's
	// payload: past it the frame is malformed (AnomalyNFLOGTLVs).
	maxNFLOGTLVs = 64
)

// AnomalyNFLOGTLVs names an NFLOG frame with more than maxNFLOGTLVs TLVs
// before its packet.
const AnomalyNFLOGTLVs = "nflog_tlvs_capped"

// The errors of the caps, which Decode turns into Capped's anomalies.
var (
	errMPLSTooDeep   = errors.New("MPLS label stack too deep")
	errNFLOGTooLarge = errors.New("too many NFLOG TLVs")
)

// AnomalyEncapsulationDepth names a packet nested deeper than
// MaxEncapsulations: Decode returns Malformed and EncapsulationTooDeep
// reports true.
const AnomalyEncapsulationDepth = "encapsulation_too_deep"

// The UDP ports of the tunnels Decode opens (IANA).
const (
	portVXLAN  = 4789
	portGeneve = 6081
	portTeredo = 3544
)

// Link types of the encapsulation decoder, beyond gopacket's constants.
const (
	linkTypeIEEE80211 layers.LinkType = 105 // bare 802.11 frames
	linkTypeRadiotap  layers.LinkType = 127 // 802.11 with a radiotap header
	linkTypePPI       layers.LinkType = 192 // Per-Packet Information header
	linkTypeNFLOG     layers.LinkType = 239 // Linux netfilter log (tcpdump -i nflog)
)

// Ethertypes the encapsulation decoder follows.
const (
	etherTypeERSPAN3 layers.EthernetType = 0x22eb // ERSPAN type III
	etherTypeCMD     layers.EthernetType = 0x8909 // Cisco MetaData
)

// Layers decoded by this package, outside gopacket's registry (negative,
// where gopacket's are not).
const (
	layerPPPoE    gopacket.LayerType = -1 - iota // RFC 2516 session header and the PPP protocol field
	layerCMD                                     // Cisco MetaData
	layerMPLS                                    // RFC 3032 label stack
	layerERSPAN3                                 // ERSPAN type III
	layerRadiotap                                // radiotap header
	layerPPI                                     // PPI header
	layerDot11                                   // 802.11 data frame header
	layerNFLOG                                   // NFLOG header and TLVs
	layerTeredo                                  // Teredo's indicators before an IPv6 packet
)

var errShort = errors.New("header cut short")

// etherNext is the layer an ethertype carries, where the encapsulation
// decoder follows it; ok is false for the ethertypes left to gopacket.
// PPPoE discovery frames (0x8863) carry no packet: LayerTypeZero.
func etherNext(et layers.EthernetType) (gopacket.LayerType, bool) {
	switch et {
	case layers.EthernetTypeMPLSUnicast, layers.EthernetTypeMPLSMulticast:
		return layerMPLS, true
	case layers.EthernetTypePPPoESession:
		return layerPPPoE, true
	case layers.EthernetTypePPPoEDiscovery:
		return gopacket.LayerTypeZero, true
	case etherTypeCMD:
		return layerCMD, true
	case layers.EthernetTypeTransparentEthernetBridging:
		return layers.LayerTypeEthernet, true
	case layers.EthernetTypeERSPAN:
		return layers.LayerTypeERSPANII, true
	case etherTypeERSPAN3:
		return layerERSPAN3, true
	case layers.EthernetTypeIPv4:
		return layers.LayerTypeIPv4, true
	case layers.EthernetTypeIPv6:
		return layers.LayerTypeIPv6, true
	}
	return 0, false
}

// vxlanHeader reports whether b starts with a VXLAN header (RFC 7348,
// 5: the I flag set) and returns its VNI. Both paths ask it, so they
// agree on which datagrams to port 4789 are VXLAN.
func vxlanHeader(b []byte) (vni uint32, ok bool) {
	if len(b) < 8 || b[0]&0x08 == 0 {
		return 0, false
	}
	return uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6]), true
}

// udpTunnel is the tunnel a UDP datagram between the two ports carries by
// its header, or LayerTypeZero: VXLAN to or from 4789 with its I flag set,
// Geneve version 0 to or from 6081, Teredo to or from 3544 with an IPv6
// packet after its indicators. The destination port is tried first.
func udpTunnel(sport, dport uint16, payload []byte) gopacket.LayerType {
	for _, p := range [2]uint16{dport, sport} {
		switch p {
		case portTeredo:
			if _, ok := teredoIPv6(payload); ok {
				return layerTeredo
			}
		case portVXLAN:
			if _, ok := vxlanHeader(payload); ok {
				return layers.LayerTypeVXLAN
			}
		case portGeneve:
			if len(payload) >= 8 && payload[0]>>6 == 0 {
				return layers.LayerTypeGeneve
			}
		}
	}
	return gopacket.LayerTypeZero
}

// teredoIPv6 is the IPv6 packet of a Teredo datagram (RFC 4380, 5.1.1):
// after an optional authentication indicator (type 0x0001, client id and
// authentication value lengths, them, an 8-byte nonce and a confirmation
// byte) and an optional origin indication (type 0x0000, 8 bytes).
func teredoIPv6(b []byte) ([]byte, bool) {
	s := cryptobyte.String(b)
	if len(s) >= 2 && s[0] == 0 && s[1] == 1 {
		var idLen, auLen uint8
		if !s.Skip(2) || !s.ReadUint8(&idLen) || !s.ReadUint8(&auLen) || !s.Skip(int(idLen)+int(auLen)+8+1) {
			return nil, false
		}
	}
	if len(s) >= 2 && s[0] == 0 && s[1] == 0 && !s.Skip(8) {
		return nil, false
	}
	if len(s) < 40 || s[0]>>4 != 6 {
		return nil, false
	}
	return []byte(s), true
}

// pppoe is an RFC 2516 session header (4: ver 1, type 1, code 0x00)
// followed by the PPP protocol field of the packet it carries.
type pppoe struct {
	session uint16
	next    gopacket.LayerType
	payload []byte
}

func (p *pppoe) decode(b []byte, df gopacket.DecodeFeedback) error {
	s := cryptobyte.String(b)
	var vt, code uint8
	var length uint16
	if !s.ReadUint8(&vt) || !s.ReadUint8(&code) || !s.ReadUint16(&p.session) || !s.ReadUint16(&length) {
		df.SetTruncated()
		return errShort
	}
	if vt != 0x11 || code != 0 {
		return errors.New("not a PPPoE session frame")
	}
	body := []byte(s)
	if int(length) < len(body) {
		body = body[:length] // Ethernet padding
	} else if int(length) > len(body) {
		df.SetTruncated()
	}
	p.next, p.payload = gopacket.LayerTypeZero, nil
	if ip, ok := stripPPP(body); ok {
		p.payload = ip
		p.next = ipByVersion(ip)
	}
	return nil
}

// ipByVersion is the IP layer a packet's version nibble names.
func ipByVersion(b []byte) gopacket.LayerType {
	if len(b) > 0 {
		switch b[0] >> 4 {
		case 4:
			return layers.LayerTypeIPv4
		case 6:
			return layers.LayerTypeIPv6
		}
	}
	return gopacket.LayerTypeZero
}

// cmd is Cisco MetaData as Wireshark's packet-cmd.c reads it: version,
// length, option type and length, the security group tag, and the
// ethertype of what follows.
type cmd struct {
	sgt     uint16
	et      layers.EthernetType
	payload []byte
}

func (c *cmd) decode(b []byte, df gopacket.DecodeFeedback) error {
	s := cryptobyte.String(b)
	var et uint16
	if !s.Skip(4) || !s.ReadUint16(&c.sgt) || !s.ReadUint16(&et) {
		df.SetTruncated()
		return errShort
	}
	c.et, c.payload = layers.EthernetType(et), []byte(s)
	return nil
}

// mpls is an RFC 3032 label stack: entries up to the one with the bottom
// of stack bit, then IPv4 or IPv6 by their version nibble, or an Ethernet
// pseudowire behind a control word (RFC 4448, first nibble 0), as
// Wireshark guesses them.
type mpls struct {
	top     uint32 // the outermost label
	next    gopacket.LayerType
	payload []byte
}

func (m *mpls) decode(b []byte, df gopacket.DecodeFeedback) error {
	s := cryptobyte.String(b)
	for i := 0; ; i++ {
		if i == maxMPLSLabels {
			return errMPLSTooDeep
		}
		var e uint32
		if !s.ReadUint32(&e) {
			df.SetTruncated()
			return errShort
		}
		if i == 0 {
			m.top = e >> 12
		}
		if e&0x100 != 0 { // bottom of stack
			break
		}
	}
	m.payload = []byte(s)
	m.next = ipByVersion(m.payload)
	if len(m.payload) >= 4 && m.payload[0]>>4 == 0 {
		m.payload, m.next = m.payload[4:], layers.LayerTypeEthernet
	}
	return nil
}

// erspan3 is an ERSPAN type III header (draft-foschiano-erspan-03, 4.3):
// 12 bytes, and an 8-byte platform-specific subheader when its O bit is
// set; frame type 0 is Ethernet, 2 an IP packet.
type erspan3 struct {
	session uint16
	next    gopacket.LayerType
	payload []byte
}

func (e *erspan3) decode(b []byte, df gopacket.DecodeFeedback) error {
	s := cryptobyte.String(b)
	var verVLAN, cosSession, flags uint16
	if !s.ReadUint16(&verVLAN) || !s.ReadUint16(&cosSession) || !s.Skip(6) || !s.ReadUint16(&flags) {
		df.SetTruncated()
		return errShort
	}
	if verVLAN>>12 != 2 {
		return errors.New("not ERSPAN type III")
	}
	if flags&1 != 0 && !s.Skip(8) {
		df.SetTruncated()
		return errShort
	}
	e.session = cosSession & 0x3ff
	e.payload = []byte(s)
	switch (flags >> 10) & 0x1f {
	case 0:
		e.next = layers.LayerTypeEthernet
	case 2:
		e.next = ipByVersion(e.payload)
	default:
		e.next = gopacket.LayerTypeZero
	}
	return nil
}

// radiotap is the radiotap header (radiotap.org): its length, and of its
// fields only Flags (bit 1), whose 0x20 says the 802.11 header is padded
// to 32 bits. Extended presence bitmaps (bit 31) are skipped.
type radiotap struct {
	pad     bool
	payload []byte
}

func (r *radiotap) decode(b []byte, df gopacket.DecodeFeedback) error {
	if len(b) < 8 {
		df.SetTruncated()
		return errShort
	}
	n := int(binary.LittleEndian.Uint16(b[2:4]))
	if b[0] != 0 || n < 8 || n > len(b) {
		if n > len(b) {
			df.SetTruncated()
		}
		return errors.New("bad radiotap header")
	}
	hdr := b[:n]
	present := binary.LittleEndian.Uint32(hdr[4:8])
	off := 8
	for p := present; p&(1<<31) != 0; { // extended bitmaps
		if off+4 > n {
			return errShort
		}
		p = binary.LittleEndian.Uint32(hdr[off:])
		off += 4
	}
	r.pad = false
	if present&1 != 0 { // TSFT: 8 bytes, aligned to 8
		off = (off+7)&^7 + 8
	}
	if present&2 != 0 && off < n {
		r.pad = hdr[off]&0x20 != 0
	}
	r.payload = b[n:]
	return nil
}

// ppi is the Per-Packet Information header: version 0, flags, its length
// and the link type of what follows, little-endian.
type ppi struct {
	dlt     layers.LinkType
	payload []byte
}

func (p *ppi) decode(b []byte, df gopacket.DecodeFeedback) error {
	if len(b) < 8 {
		df.SetTruncated()
		return errShort
	}
	n := int(binary.LittleEndian.Uint16(b[2:4]))
	if b[0] != 0 || n < 8 || n > len(b) {
		return errors.New("bad PPI header")
	}
	p.dlt = layers.LinkType(binary.LittleEndian.Uint32(b[4:8]))
	p.payload = b[n:]
	return nil
}

// dot11 is an IEEE 802.11 data frame's MAC header (802.11-2020, 9.3.2.1)
// and the LLC/SNAP header after it (RFC 1042). Other frames (management,
// control, null data) and protected ones carry no packet tlsscope can
// read: next is LayerTypeZero.
type dot11 struct {
	protected bool
	next      gopacket.LayerType
	payload   []byte
}

func (d *dot11) decode(b []byte, padded bool, df gopacket.DecodeFeedback) error {
	if len(b) < 24 {
		df.SetTruncated()
		return errShort
	}
	fc0, flags := b[0], b[1]
	d.protected, d.next, d.payload = flags&0x40 != 0, gopacket.LayerTypeZero, nil
	typ, subtype := (fc0>>2)&3, fc0>>4
	if typ != 2 || subtype&0x4 != 0 || d.protected { // not data, no data, or encrypted
		return nil
	}
	n := 24
	if flags&3 == 3 { // to and from the DS: a fourth address
		n += 6
	}
	if subtype&0x8 != 0 { // QoS data: QoS control
		n += 2
		if flags&0x80 != 0 { // +HTC
			n += 4
		}
	}
	if padded {
		n = (n + 3) &^ 3
	}
	if len(b) < n+8 {
		df.SetTruncated()
		return errShort
	}
	llc := b[n:]
	if llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 {
		return nil // not SNAP: no ethertype
	}
	et := layers.EthernetType(binary.BigEndian.Uint16(llc[6:8]))
	d.payload = llc[8:]
	if t, ok := etherNext(et); ok {
		d.next = t
	}
	return nil
}

// nflog is the NFLOG pseudo-header (address family, version, resource id)
// and its TLVs, lengths and types in the capturing host's byte order
// (guessed from the first TLV); the packet is TLV 9, NFULA_PAYLOAD.
type nflog struct {
	next    gopacket.LayerType
	payload []byte
}

func (f *nflog) decode(b []byte, df gopacket.DecodeFeedback) error {
	if len(b) < 4 {
		df.SetTruncated()
		return errShort
	}
	family := b[0]
	if b[1] != 0 {
		return errors.New("unknown NFLOG version")
	}
	t := b[4:]
	var order binary.ByteOrder = binary.LittleEndian
	if len(t) >= 4 {
		if n := int(order.Uint16(t)); n < 4 || n > len(t) {
			order = binary.BigEndian
		}
	}
	f.next, f.payload = gopacket.LayerTypeZero, nil
	for i := 0; len(t) >= 4; i++ {
		if i == maxNFLOGTLVs {
			return errNFLOGTooLarge
		}
		n, typ := int(order.Uint16(t)), order.Uint16(t[2:])
		if n < 4 || n > len(t) {
			df.SetTruncated()
			return errShort
		}
		if typ == 9 {
			f.payload = t[4:n]
			switch family {
			case 2: // AF_INET
				f.next = layers.LayerTypeIPv4
			case 10: // AF_INET6
				f.next = layers.LayerTypeIPv6
			default:
				f.next = ipByVersion(f.payload)
			}
			return nil
		}
		n = (n + 3) &^ 3
		if n > len(t) {
			break
		}
		t = t[n:]
	}
	return nil
}

// Encapsulation is what the last frame Decode took was wrapped in,
// outermost first; valid until the next Decode.
func (d *Decoder) Encapsulation() []Encap {
	if d.vx.pending {
		var s, t [4]byte
		binary.BigEndian.PutUint32(s[:], d.vx.src)
		binary.BigEndian.PutUint32(t[:], d.vx.dst)
		d.encap[0] = Encap{Kind: EncapVXLAN, ID: d.vx.vni, HasID: true, Src: netip.AddrFrom4(s), Dst: netip.AddrFrom4(t)}
		d.nencap, d.vx.pending = 1, false
	}
	return d.encap[:d.nencap]
}

// Outer describes Encapsulation for a connection's facts: "vxlan vni=42
// 192.0.2.1-192.0.2.2", nested ones joined by " / " outermost first; ""
// when the packet was bare.
func (d *Decoder) Outer() string {
	encs := d.Encapsulation()
	if len(encs) == 0 {
		return ""
	}
	s := make([]string, len(encs))
	for i, e := range encs {
		s[i] = e.String()
	}
	return strings.Join(s, " / ")
}

// EncapsulationTooDeep says the last frame was Malformed because it was
// nested more than MaxEncapsulations deep (AnomalyEncapsulationDepth).
func (d *Decoder) EncapsulationTooDeep() bool { return d.tooDeep }

// enter records an encapsulation of the packet being decoded; false when
// that is one too many.
func (d *Decoder) enter(e Encap) bool {
	if d.nencap == MaxEncapsulations {
		d.tooDeep = true
		return false
	}
	d.encap[d.nencap] = e
	d.nencap++
	if !e.Kind.identifies() {
		return true
	}
	// The packets of a tunnel come in runs: the last hash, in either
	// direction, is kept.
	k := tunnelStep{in: d.tunnel, e: e}
	if e.Dst.Less(e.Src) {
		k.e.Src, k.e.Dst = e.Dst, e.Src
	}
	if k != d.lastStep || d.lastOut == 0 {
		d.lastStep, d.lastOut = k, d.tunnel.enter(e)
	}
	d.tunnel = d.lastOut
	return true
}

// tunnelStep is one Tunnel.enter, its endpoints in order.
type tunnelStep struct {
	in Tunnel
	e  Encap
}
