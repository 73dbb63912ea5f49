// Package flow turns captured frames into TCP segments and UDP datagrams:
// it decodes the link, network and transport headers of every supported
// link type into preallocated layers (gopacket's layers, walked as its
// DecodingLayerParser does; no allocation per packet), opens the
// encapsulations a packet travels in (encap.go), reassembles IPv4 and
// IPv6 fragments, and names the endpoints, with the tunnel they came
// through. Its Table follows flows of any transport (key, cap, idle
// timeout, least-recently-active eviction, counters). It knows nothing
// about the protocols carried above TCP and UDP.
package flow

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/layers"
)

// Verdict says what the decoder made of a frame.
type Verdict uint8

const (
	TCPSegment      Verdict = iota // Segment is filled
	NotIP                          // not IPv4/IPv6 (ARP, LLDP, ...)
	NotTCP                         // IP, but not TCP (UDP, ICMP, ...)
	Fragment                       // an IPv4 or IPv6 fragment held until the datagram is whole
	Malformed                      // headers damaged or cut short
	UnsupportedLink                // a link type this decoder does not handle
	UDPDatagram                    // Segment is filled: Src, Dst, Pair, Payload, Data, Truncated
)

// Segment is one decoded TCP segment or UDP datagram. Its fields point into
// the decoder's reused layers and the frame's bytes: valid until the next
// Decode. A UDP datagram has TCP nil, no Net and no Flags.
type Segment struct {
	Net       gopacket.Flow // network endpoints, for the reassembler; unset after a lazy Decode until Decoder.TCP
	TCP       *layers.TCP   // nil after a lazy Decode until Decoder.TCP
	Src, Dst  netip.AddrPort
	Pair      Pair // PairOf(Src, Dst)
	Truncated bool // the frame was cut by the snaplen: payload is partial
	Flags     TCPFlags
	Payload   int    // TCP or UDP payload bytes
	Data      []byte // a UDP datagram's payload (the frame's bytes); UDPDatagram only
	// Defragmented says the segment or datagram was reassembled from IP
	// fragments (its frame is the last fragment).
	Defragmented bool
	// Tunnel names the tunnels the packet came through (0: none); the
	// flow's Key and Net include it, so the same inner endpoints in two
	// tunnels are two flows. Decoder.Encapsulation lists them.
	Tunnel Tunnel
	raw    []byte
	ip     []byte // the IP header, for Net after a lazy Decode
}

// Key names the segment's flow: its endpoints, the transport and its
// Tunnel.
func (s *Segment) Key(t Transport) Key { return keyIn(t, s.Pair, s.Tunnel) }

// TCPFlags is the TCP header's flags byte.
type TCPFlags uint8

// The flags in TCPFlags.
const (
	FIN TCPFlags = 1 << iota
	SYN
	RST
	PSH
	ACK
)

// Has reports whether every flag of f2 is set in f.
func (f TCPFlags) Has(f2 TCPFlags) bool { return f&f2 == f2 }

// Decoder decodes frames of any supported link type. It is not safe for
// concurrent use.
type Decoder struct {
	eth      layers.Ethernet
	dot1q    layers.Dot1Q
	sll      layers.LinuxSLL
	sll2     layers.LinuxSLL2
	loop     layers.Loopback
	ip4      layers.IPv4
	ip6      layers.IPv6
	ip6ext   layers.IPv6ExtensionSkipper
	tcp      layers.TCP
	udp      layers.UDP
	vxlan    layers.VXLAN
	geneve   layers.Geneve
	gre      layers.GRE
	erspan2  layers.ERSPANII
	llc      layers.LLC
	snap     layers.SNAP
	pppoe    pppoe
	cmd      cmd
	mpls     mpls
	erspan3  erspan3
	radiotap radiotap
	ppi      ppi
	dot11    dot11
	nflog    nflog
	payload  gopacket.Payload
	decoded  []gopacket.LayerType
	defrag   *ip4defrag.IPv4Defragmenter
	noFast   bool // tests: take the general path only

	truncated bool  // a layer of the general path was cut short (gopacket.DecodeFeedback)
	lastIP    uint8 // the version of the last IP header decoded: the outer one of a tunnel

	// What the current frame's packet was wrapped in (Encapsulation).
	encap   [MaxEncapsulations]Encap
	nencap  int
	tunnel  Tunnel
	tooDeep bool
	// The last Tunnel.enter and its result (enter).
	lastStep tunnelStep
	lastOut  Tunnel
	// The fast path's VXLAN over IPv4 (vxlan4): the last tunnel, and the
	// current packet's outer addresses while its Encap is pending.
	vx struct {
		key      uint64 // the outer addresses, lower first
		vni      uint32
		tun      Tunnel
		src, dst uint32
		pending  bool // encap[0] is to be made from src, dst and vni
	}

	frag    FragmentKey // the last frame's datagram, when fragment is set
	fragSet bool        // the last frame Decode took was an IPv4 or IPv6 fragment

	frag6         defrag6
	now           time.Time // the frame's capture time, for IPv6 reassembly
	held6         bool      // the frame is an IPv6 fragment, held
	defragmented6 bool      // the frame completed an IPv6 datagram
	capped        string    // the anomaly of a cap the frame hit (Capped)

	// UDP makes Decode name the endpoints and payload of a UDP datagram
	// (UDPDatagram); unset, a UDP datagram is NotTCP like any other
	// protocol, and costs no more.
	UDP bool

	// Lazy leaves the common case's TCP header undecoded: Segment has the
	// endpoints, flags and payload length, and TCP fills in its
	// layers.TCP and Net when the caller needs them (a segment only
	// counted never does). A lazy segment's options are not checked until
	// then.
	Lazy bool
}

// NewDecoder makes a decoder with its layers preallocated.
func NewDecoder() *Decoder {
	d := &Decoder{decoded: make([]gopacket.LayerType, 0, 8), defrag: ip4defrag.NewIPv4Defragmenter()}
	return d
}

// Capped names the cap the last frame hit, as an anomaly kind
// (AnomalyEncapsulationDepth, AnomalyNFLOGTLVs: the frame is Malformed;
// AnomalyIPv6FragmentsDropped: an older datagram was dropped), "" when
// none.
func (d *Decoder) Capped() string { return d.capped }

// SetTruncated implements gopacket.DecodeFeedback for the general path's
// layers.
func (d *Decoder) SetTruncated() { d.truncated = true }

// firstLayer is the layer a frame of a link type starts with.
func firstLayer(lt layers.LinkType) (gopacket.LayerType, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, true
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, true
	case linkTypeIEEE80211:
		return layerDot11, true
	case linkTypeRadiotap:
		return layerRadiotap, true
	case linkTypePPI:
		return layerPPI, true
	case linkTypeNFLOG:
		return layerNFLOG, true
	}
	return 0, false
}

// Link types carrying a bare IP packet, version told by the first nibble.
func rawIP(lt layers.LinkType) bool {
	switch lt {
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		return true
	}
	return false
}

// Supported reports whether the decoder handles a link type.
func (d *Decoder) Supported(lt layers.LinkType) bool {
	_, ok := firstLayer(lt)
	return ok || rawIP(lt) || lt == layers.LinkTypePPP
}

// stripPPP removes a PPP header (RFC 1661, with the optional HDLC address
// and control bytes of RFC 1662) and returns the IP packet it carries.
func stripPPP(data []byte) ([]byte, bool) {
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) < 1 {
		return nil, false
	}
	proto := uint16(data[0])
	n := 1
	if data[0]&1 == 0 { // protocol field not compressed
		if len(data) < 2 {
			return nil, false
		}
		proto = uint16(data[0])<<8 | uint16(data[1])
		n = 2
	}
	if proto != 0x0021 && proto != 0x0057 {
		return nil, false
	}
	return data[n:], true
}

// Decode decodes one frame. ci is the frame's capture info (its timestamp
// drives fragment reassembly timeouts).
func (d *Decoder) Decode(lt layers.LinkType, data []byte, ci gopacket.CaptureInfo, seg *Segment) Verdict {
	d.fragSet = false
	d.nencap, d.tunnel, d.tooDeep, d.vx.pending = 0, 0, false, false
	d.now, d.held6, d.defragmented6, d.capped = ci.Timestamp, false, false, ""
	if !d.noFast && d.fast(lt, data, ci, seg) {
		return TCPSegment
	}
	var first gopacket.LayerType
	if lt == layers.LinkTypePPP {
		ip, ok := stripPPP(data)
		if !ok {
			return NotIP
		}
		data, lt = ip, layers.LinkTypeRaw
	}
	if rawIP(lt) {
		if len(data) == 0 {
			return Malformed
		}
		if first = ipByVersion(data); first == gopacket.LayerTypeZero {
			return NotIP
		}
	} else if t, ok := firstLayer(lt); ok {
		first = t
	} else {
		return UnsupportedLink
	}
	err := d.decodeLayers(first, data)
	switch {
	case d.tooDeep || err == errMPLSTooDeep:
		d.capped = AnomalyEncapsulationDepth
		return Malformed
	case err == errNFLOGTooLarge:
		d.capped = AnomalyNFLOGTLVs
		return Malformed
	}
	if d.held6 && err == nil {
		return Fragment
	}
	truncated := d.truncated || (ci.Length > ci.CaptureLength && ci.CaptureLength > 0)
	if err != nil {
		// A layer failed to decode. If we already have IP and TCP headers
		// the damage is in the payload: keep what we have.
		if !d.has(layers.LayerTypeTCP) {
			if d.has(layers.LayerTypeIPv4) || d.has(layers.LayerTypeIPv6) {
				if d.has(layers.LayerTypeIPv4) && d.isFragment() {
					return d.reassemble(seg, ci)
				}
				if truncated {
					return Malformed
				}
				if d.ipProtocol() != layers.IPProtocolTCP {
					return NotTCP
				}
			}
			return Malformed
		}
	}
	return d.finish(seg, truncated, ci)
}

// decodeLayers is the general path: from the first layer, each layer's
// header is decoded into the Decoder's own, and its payload handed to the
// next, as gopacket's DecodingLayerParser does; a layer the decoder does
// not know ends the walk without an error. Where a packet enters an
// encapsulation its Encap is recorded and the layers decoded so far are
// forgotten, so what follows reads the inner packet as if it had come
// bare. A panic in a layer is an error, as in DecodingLayerParser.
func (d *Decoder) decodeLayers(typ gopacket.LayerType, data []byte) error {
	d.decoded = d.decoded[:0]
	d.truncated, d.lastIP = false, 0
	d.nencap, d.tunnel, d.tooDeep, d.vx.pending = 0, 0, false, false // the fast path may have entered one
	return d.walk(typ, data)
}

// walk decodes from layer typ on, adding to what is decoded so far.
func (d *Decoder) walk(typ gopacket.LayerType, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errLayerPanic
		}
	}()
	for len(data) > 0 && typ != gopacket.LayerTypeZero {
		var l gopacket.DecodingLayer
		switch typ {
		case layers.LayerTypeEthernet:
			l = &d.eth
		case layers.LayerTypeDot1Q:
			l = &d.dot1q
		case layers.LayerTypeLinuxSLL:
			l = &d.sll
		case layers.LayerTypeLinuxSLL2:
			l = &d.sll2
		case layers.LayerTypeLoopback:
			l = &d.loop
		case layers.LayerTypeIPv4:
			l = &d.ip4
		case layers.LayerTypeIPv6:
			l = &d.ip6
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			l = &d.ip6ext
		case layers.LayerTypeIPv6Fragment:
			next, payload, held, err := d.fragment6(data)
			if err != nil || held {
				d.held6 = held
				return err
			}
			if next, err = d.ipNext(next, d.ip6ext.NextHeader); err != nil {
				return err
			}
			typ, data = next, payload
			continue
		case layers.LayerTypeTCP:
			l = &d.tcp
		case layers.LayerTypeUDP:
			l = &d.udp
		case layers.LayerTypeVXLAN:
			l = &d.vxlan
		case layers.LayerTypeGeneve:
			l = &d.geneve
		case layers.LayerTypeGRE:
			l = &d.gre
		case layers.LayerTypeERSPANII:
			l = &d.erspan2
		case layers.LayerTypeLLC:
			l = &d.llc
		case layers.LayerTypeSNAP:
			l = &d.snap
		}
		if l == nil {
			typ, data, err = d.decodeOwn(typ, data)
			if err != nil {
				return err
			}
			continue
		}
		if err := l.DecodeFromBytes(data, d); err != nil {
			return err
		}
		d.decoded = append(d.decoded, typ)
		next, payload := l.NextLayerType(), l.LayerPayload()
		switch typ {
		case layers.LayerTypeEthernet:
			next = etherOr(d.eth.EthernetType, next)
		case layers.LayerTypeDot1Q:
			next = etherOr(d.dot1q.Type, next)
		case layers.LayerTypeLinuxSLL:
			next = etherOr(d.sll.EthernetType, next)
		case layers.LayerTypeLinuxSLL2:
			next = etherOr(d.sll2.ProtocolType, next)
		case layers.LayerTypeSNAP:
			next = etherOr(d.snap.Type, next)
		case layers.LayerTypeIPv4:
			d.lastIP = 4
			next, err = d.ipNext(next, d.ip4.Protocol)
		case layers.LayerTypeIPv6:
			d.lastIP = 6
			next, err = d.ipNext(next, d.ip6.NextHeader)
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			next, err = d.ipNext(next, d.ip6ext.NextHeader)
		case layers.LayerTypeTCP:
			next = gopacket.LayerTypeZero // the payload is the stream's
		case layers.LayerTypeUDP:
			next = udpTunnel(uint16(d.udp.SrcPort), uint16(d.udp.DstPort), d.udp.Payload)
		case layers.LayerTypeVXLAN:
			err = d.tunnelled(Encap{Kind: EncapVXLAN, ID: d.vxlan.VNI, HasID: true})
		case layers.LayerTypeGeneve:
			next = etherOr(d.geneve.Protocol, gopacket.LayerTypeZero)
			err = d.tunnelled(Encap{Kind: EncapGeneve, ID: d.geneve.VNI, HasID: true})
		case layers.LayerTypeGRE:
			if d.gre.Version != 0 { // enhanced GRE (PPTP) carries PPP, not followed
				return nil
			}
			next = etherOr(d.gre.Protocol, gopacket.LayerTypeZero)
			if d.gre.Protocol == layers.EthernetTypeERSPAN && len(d.gre.Contents) == 4 {
				next = layers.LayerTypeEthernet // ERSPAN type I: no header of its own
			}
			err = d.tunnelled(Encap{Kind: EncapGRE, ID: d.gre.Key, HasID: d.gre.KeyPresent})
		case layers.LayerTypeERSPANII:
			err = d.wrapped(Encap{Kind: EncapERSPAN, ID: uint32(d.erspan2.SessionID), HasID: true})
		}
		if err != nil {
			return err
		}
		typ, data = next, payload
	}
	return nil
}

var (
	errLayerPanic = errors.New("a layer decoder panicked")
	errTooDeep    = errors.New("encapsulations nested too deep")
)

// etherOr is the layer an ethertype carries, where the encapsulation
// decoder follows it, else gopacket's choice.
func etherOr(et layers.EthernetType, gopacketNext gopacket.LayerType) gopacket.LayerType {
	if t, ok := etherNext(et); ok {
		return t
	}
	return gopacketNext
}

// ipNext follows an IP header whose protocol (or last extension header's
// next header) is proto: IP in IP enters a tunnel, MPLS in IP (RFC 4023)
// a label stack.
func (d *Decoder) ipNext(next gopacket.LayerType, proto layers.IPProtocol) (gopacket.LayerType, error) {
	if next == gopacket.LayerTypeFragment {
		return next, nil
	}
	var k EncapKind
	switch {
	case proto == layers.IPProtocolIPv4 && d.lastIP == 4:
		k = EncapIPIP
	case proto == layers.IPProtocolIPv6 && d.lastIP == 4:
		k = Encap6in4
	case proto == layers.IPProtocolIPv4:
		k = Encap4in6
	case proto == layers.IPProtocolIPv6:
		k = Encap6in6
	case proto == 137: // MPLS-in-IP
		return layerMPLS, nil
	default:
		return next, nil
	}
	if proto == layers.IPProtocolIPv4 {
		next = layers.LayerTypeIPv4
	} else {
		next = layers.LayerTypeIPv6
	}
	return next, d.tunnelled(Encap{Kind: k})
}

// tunnelled records that the packet enters a tunnel whose outer IP header
// is the last one decoded, and forgets the outer layers.
func (d *Decoder) tunnelled(e Encap) error {
	switch d.lastIP {
	case 4:
		e.Src, e.Dst = addr4(d.ip4.SrcIP), addr4(d.ip4.DstIP)
	case 6:
		e.Src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
		e.Dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
	}
	return d.wrapped(e)
}

// wrapped records an encapsulation and forgets the outer layers.
func (d *Decoder) wrapped(e Encap) error {
	if !d.enter(e) {
		return errTooDeep
	}
	d.decoded = d.decoded[:0]
	return nil
}

// decodeOwn decodes the layers of this package (encap.go); a layer it
// does not know either ends the walk (LayerTypeZero, nil).
func (d *Decoder) decodeOwn(typ gopacket.LayerType, data []byte) (gopacket.LayerType, []byte, error) {
	switch typ {
	case layerPPPoE:
		if err := d.pppoe.decode(data, d); err != nil {
			return 0, nil, err
		}
		return d.pppoe.next, d.pppoe.payload, d.wrapped(Encap{Kind: EncapPPPoE, ID: uint32(d.pppoe.session), HasID: true})
	case layerCMD:
		if err := d.cmd.decode(data, d); err != nil {
			return 0, nil, err
		}
		return etherOr(d.cmd.et, gopacket.LayerTypeZero), d.cmd.payload, d.wrapped(Encap{Kind: EncapSGT, ID: uint32(d.cmd.sgt), HasID: true})
	case layerMPLS:
		if err := d.mpls.decode(data, d); err != nil {
			return 0, nil, err
		}
		return d.mpls.next, d.mpls.payload, d.wrapped(Encap{Kind: EncapMPLS, ID: d.mpls.top, HasID: true})
	case layerERSPAN3:
		if err := d.erspan3.decode(data, d); err != nil {
			return 0, nil, err
		}
		return d.erspan3.next, d.erspan3.payload, d.wrapped(Encap{Kind: EncapERSPAN, ID: uint32(d.erspan3.session), HasID: true})
	case layerRadiotap:
		if err := d.radiotap.decode(data, d); err != nil {
			return 0, nil, err
		}
		if err := d.dot11.decode(d.radiotap.payload, d.radiotap.pad, d); err != nil {
			return 0, nil, err
		}
		return d.dot11.next, d.dot11.payload, nil
	case layerPPI:
		if err := d.ppi.decode(data, d); err != nil {
			return 0, nil, err
		}
		switch d.ppi.dlt {
		case linkTypeIEEE80211:
			return layerDot11, d.ppi.payload, nil
		case layers.LinkTypeEthernet:
			return layers.LayerTypeEthernet, d.ppi.payload, nil
		}
	case layerDot11:
		if err := d.dot11.decode(data, false, d); err != nil {
			return 0, nil, err
		}
		return d.dot11.next, d.dot11.payload, nil
	case layerNFLOG:
		if err := d.nflog.decode(data, d); err != nil {
			return 0, nil, err
		}
		return d.nflog.next, d.nflog.payload, nil
	case layerTeredo:
		ip, _ := teredoIPv6(data) // udpTunnel checked it
		return layers.LayerTypeIPv6, ip, d.tunnelled(Encap{Kind: EncapTeredo})
	}
	return gopacket.LayerTypeZero, nil, nil
}

func (d *Decoder) finish(seg *Segment, truncated bool, ci gopacket.CaptureInfo) Verdict {
	isIP4, isIP6 := d.has(layers.LayerTypeIPv4), d.has(layers.LayerTypeIPv6)
	if !isIP4 && !isIP6 {
		return NotIP
	}
	if isIP4 && d.isFragment() {
		return d.reassemble(seg, ci)
	}
	seg.Defragmented = false
	if !d.has(layers.LayerTypeTCP) {
		if d.ipProtocol() == layers.IPProtocolTCP {
			return Malformed
		}
		if d.UDP && d.has(layers.LayerTypeUDP) {
			d.datagram(seg, isIP4, truncated)
			return UDPDatagram
		}
		return NotTCP
	}
	var src, dst netip.Addr
	seg.Tunnel = d.tunnel
	if isIP4 {
		src = addr4(d.ip4.SrcIP)
		dst = addr4(d.ip4.DstIP)
		seg.Net = d.ip4.NetworkFlow()
	} else {
		src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
		dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
		seg.Net = d.ip6.NetworkFlow()
	}
	if d.tunnel != 0 {
		seg.Net = gopacket.NewFlow(tunnelEndpoint(d.tunnel), seg.Net.Src().Raw(), seg.Net.Dst().Raw())
	}
	seg.TCP = &d.tcp
	seg.Src = netip.AddrPortFrom(src, uint16(d.tcp.SrcPort))
	seg.Dst = netip.AddrPortFrom(dst, uint16(d.tcp.DstPort))
	seg.Pair = PairOf(seg.Src, seg.Dst)
	seg.Truncated = truncated
	seg.Flags = TCPFlags(d.tcp.Contents[13])
	seg.Payload = len(d.tcp.Payload)
	seg.Defragmented = d.defragmented6
	return TCPSegment
}

// datagram fills seg with a decoded UDP datagram (RFC 768).
func (d *Decoder) datagram(seg *Segment, isIP4, truncated bool) {
	var src, dst netip.Addr
	if isIP4 {
		src, dst = addr4(d.ip4.SrcIP), addr4(d.ip4.DstIP)
	} else {
		src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
		dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
	}
	seg.Net = gopacket.Flow{}
	seg.Tunnel = d.tunnel
	seg.TCP, seg.raw, seg.ip = nil, nil, nil
	seg.Src = netip.AddrPortFrom(src, uint16(d.udp.SrcPort))
	seg.Dst = netip.AddrPortFrom(dst, uint16(d.udp.DstPort))
	seg.Pair = PairOf(seg.Src, seg.Dst)
	seg.Truncated = truncated
	seg.Flags = 0
	seg.Data = d.udp.Payload
	seg.Payload = len(seg.Data)
	seg.Defragmented = d.defragmented6
}

func addr4(ip []byte) netip.Addr {
	if len(ip) != 4 {
		a, _ := netip.AddrFromSlice(ip)
		return a.Unmap()
	}
	return netip.AddrFrom4([4]byte{ip[0], ip[1], ip[2], ip[3]})
}

func (d *Decoder) has(t gopacket.LayerType) bool {
	for _, l := range d.decoded {
		if l == t {
			return true
		}
	}
	return false
}

func (d *Decoder) isFragment() bool {
	return d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0
}

func (d *Decoder) ipProtocol() layers.IPProtocol {
	if d.has(layers.LayerTypeIPv4) {
		return d.ip4.Protocol
	}
	if len(d.decoded) > 0 && d.decoded[len(d.decoded)-1] != layers.LayerTypeIPv6 {
		return d.ip6ext.NextHeader // extension headers were skipped
	}
	return d.ip6.NextHeader
}

// reassemble hands an IPv4 fragment to gopacket's defragmenter; when the
// datagram is whole its TCP header is decoded from the reassembled payload.
// Fragmented TCP is rare, so this path may allocate.
func (d *Decoder) reassemble(seg *Segment, ci gopacket.CaptureInfo) Verdict {
	d.frag, d.fragSet = fragmentKey(&d.ip4), true
	frag := d.ip4 // the defragmenter keeps the layer: give it a copy
	frag.Payload = append([]byte(nil), d.ip4.Payload...)
	whole, err := d.defrag.DefragIPv4WithTimestamp(&frag, ci.Timestamp)
	if err != nil {
		return Malformed
	}
	if whole == nil {
		return Fragment
	}
	switch whole.Protocol {
	case layers.IPProtocolTCP, layers.IPProtocolUDP, layers.IPProtocolIPv4, layers.IPProtocolIPv6, layers.IPProtocolGRE:
	default:
		return NotTCP
	}
	d.ip4 = *whole
	d.ip4.Flags &^= layers.IPv4MoreFragments
	d.ip4.FragOffset = 0
	// The datagram's payload is walked as an unfragmented one's would be
	// (a tunnel's outer datagram, fragmented on the underlay, opens).
	d.decoded = append(d.decoded[:0], layers.LayerTypeIPv4)
	d.lastIP = 4
	next, err := d.ipNext(d.ip4.NextLayerType(), d.ip4.Protocol)
	if err == nil {
		err = d.walk(next, whole.Payload)
	}
	if d.tooDeep {
		d.capped = AnomalyEncapsulationDepth
		return Malformed
	}
	if d.held6 && err == nil {
		return Fragment
	}
	if err != nil && !d.has(layers.LayerTypeTCP) && !d.has(layers.LayerTypeUDP) {
		if d.ipProtocol() == layers.IPProtocolTCP {
			return Malformed
		}
		return NotTCP // as a UDP header that does not decode is, unfragmented
	}
	v := d.finish(seg, false, ci)
	seg.Defragmented = true
	return v
}

// FragmentKey names the IP datagram a fragment belongs to. An IPv4
// datagram's is its source, destination, protocol and identification (RFC
// 791, 2.3), as the defragmenter groups fragments, the addresses
// IPv4-mapped; an IPv6 datagram's its source, destination and
// identification (RFC 8200, 4.5), Proto 44 (the Fragment header).
type FragmentKey struct {
	Src, Dst [16]byte
	ID       uint32
	Proto    uint8
}

func fragmentKey(ip *layers.IPv4) FragmentKey {
	k := FragmentKey{Proto: uint8(ip.Protocol), ID: uint32(ip.Id)}
	k.Src = addr4(ip.SrcIP).As16()
	k.Dst = addr4(ip.DstIP).As16()
	return k
}

// Fragment says whether the last frame Decode took was an IPv4 or IPv6
// fragment, and of which datagram: its verdict is then Fragment (held until the
// datagram is whole), the datagram's own (this fragment completed it:
// Segment.Defragmented), or Malformed (the defragmenter refused it and
// dropped what it held of the datagram).
func (d *Decoder) Fragment() (FragmentKey, bool) { return d.frag, d.fragSet }

// fast decodes the common case, an unfragmented, whole TCP segment over
// IPv4 or IPv6 (without extension headers) in Ethernet (VLAN tags allowed)
// or raw IP, bare or in VXLAN, without the generic layer walk. Anything else, or anything
// odd, returns false and takes the general path, which has the final say.
func (d *Decoder) fast(lt layers.LinkType, data []byte, ci gopacket.CaptureInfo, seg *Segment) bool {
	if ci.Length > ci.CaptureLength && ci.CaptureLength > 0 {
		return false
	}
	off, ok := ipOffset(lt, data)
	if !ok {
		return false
	}
	ip := data[off:]
	var src, dst netip.Addr
	var tcp []byte
	// The endpoints as Pair takes them: each address as 128 bits, the port
	// and the family go in once the ports are known.
	var srcHi, srcLo, dstHi, dstLo uint64
	var family uint32
	for depth := 0; ; depth++ {
		if len(ip) < 1 {
			return false
		}
		var proto byte
		var l4 []byte
		switch ip[0] >> 4 {
		case 4:
			if len(ip) < 20 {
				return false
			}
			ihl := int(ip[0]&0x0f) * 4
			total := int(ip[2])<<8 | int(ip[3])
			flagsFrag := uint16(ip[6])<<8 | uint16(ip[7])
			if ihl < 20 || total < ihl || total > len(ip) || flagsFrag&0x3fff != 0 {
				return false // short, truncated or a fragment
			}
			proto = ip[9]
			l4 = ip[ihl:total] // trims Ethernet padding
		case 6:
			if len(ip) < 40 {
				return false
			}
			plen := int(ip[4])<<8 | int(ip[5])
			if 40+plen > len(ip) || plen == 0 {
				return false // truncated, or a jumbogram
			}
			proto = ip[6] // extension headers take the general path
			l4 = ip[40 : 40+plen]
		default:
			return false
		}
		if proto == 6 {
			tcp = l4
			break
		}
		// VXLAN (RFC 7348), the one encapsulation taken here: a UDP
		// datagram whose ports and header udpTunnel calls VXLAN, an
		// Ethernet frame in it.
		if proto != 17 || depth > 0 || len(l4) < 8 {
			return false
		}
		ulen := int(l4[4])<<8 | int(l4[5])
		if ulen < 8 || ulen > len(l4) {
			return false
		}
		udp := l4[8:ulen]
		if udpTunnel(binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4]), udp) != layers.LayerTypeVXLAN {
			return false
		}
		vni, _ := vxlanHeader(udp)
		inner := udp[8:]
		ioff, ok := ipOffset(layers.LinkTypeEthernet, inner)
		if !ok {
			return false
		}
		if ip[0]>>4 == 4 {
			d.vxlan4(vni, ip[12:16], ip[16:20])
		} else {
			d.enter(Encap{Kind: EncapVXLAN, ID: vni, HasID: true,
				Src: netip.AddrFrom16([16]byte(ip[8:24])), Dst: netip.AddrFrom16([16]byte(ip[24:40]))})
		}
		ip = inner[ioff:]
	}
	if ip[0]>>4 == 4 {
		src = netip.AddrFrom4([4]byte(ip[12:16]))
		dst = netip.AddrFrom4([4]byte(ip[16:20]))
		srcLo = v4InV6 | uint64(binary.BigEndian.Uint32(ip[12:16]))
		dstLo = v4InV6 | uint64(binary.BigEndian.Uint32(ip[16:20]))
		family = 4
	} else {
		src = netip.AddrFrom16([16]byte(ip[8:24]))
		dst = netip.AddrFrom16([16]byte(ip[24:40]))
		srcHi, srcLo = binary.BigEndian.Uint64(ip[8:16]), binary.BigEndian.Uint64(ip[16:24])
		dstHi, dstLo = binary.BigEndian.Uint64(ip[24:32]), binary.BigEndian.Uint64(ip[32:40])
		family = 6
	}
	if len(tcp) < 20 {
		return false
	}
	doff := int(tcp[12]>>4) * 4
	if doff < 20 || doff > len(tcp) {
		return false
	}
	sport, dport := binary.BigEndian.Uint16(tcp[0:2]), binary.BigEndian.Uint16(tcp[2:4])
	seg.Src = netip.AddrPortFrom(src, sport)
	seg.Dst = netip.AddrPortFrom(dst, dport)
	seg.Pair = pairOf(srcHi, srcLo, uint32(sport)<<8|family, dstHi, dstLo, uint32(dport)<<8|family)
	seg.Flags = TCPFlags(tcp[13])
	seg.Payload = len(tcp) - doff
	seg.Truncated = false
	seg.Tunnel = d.tunnel
	seg.TCP, seg.raw, seg.ip = nil, tcp, ip
	if d.Lazy {
		return true // Net and TCP wait for Decoder.TCP
	}
	if d.tcp.DecodeFromBytes(tcp, gopacket.NilDecodeFeedback) != nil {
		return false
	}
	seg.Net = netFlow(ip, d.tunnel)
	seg.TCP = &d.tcp
	return true
}

// vxlan4 records the fast path's VXLAN over IPv4 as enter does, without
// its cost per packet: the Encap (whose netip.Addr hold pointers) is made
// only when Encapsulation asks, and the tunnel of the last outer endpoint
// pair and VNI, in either direction, is kept.
func (d *Decoder) vxlan4(vni uint32, src, dst []byte) {
	a, b := binary.BigEndian.Uint32(src), binary.BigEndian.Uint32(dst)
	lo, hi := min(a, b), max(a, b)
	key := uint64(lo)<<32 | uint64(hi)
	if key != d.vx.key || vni != d.vx.vni || d.vx.tun == 0 {
		e := Encap{Kind: EncapVXLAN, ID: vni, HasID: true, Src: netip.AddrFrom4([4]byte(src)), Dst: netip.AddrFrom4([4]byte(dst))}
		d.vx.key, d.vx.vni, d.vx.tun = key, vni, Tunnel(0).enter(e)
	}
	d.vx.src, d.vx.dst = a, b
	d.vx.pending = true
	d.tunnel = d.vx.tun
}

// netFlow is the reassembler's name for the network endpoints of an IP
// header that fast has checked.
func netFlow(ip []byte, tun Tunnel) gopacket.Flow {
	t4, t6 := layers.EndpointIPv4, layers.EndpointIPv6
	if tun != 0 {
		t4, t6 = tunnelEndpoint(tun), tunnelEndpoint(tun)
	}
	if ip[0]>>4 == 4 {
		return gopacket.NewFlow(t4, ip[12:16], ip[16:20])
	}
	return gopacket.NewFlow(t6, ip[8:24], ip[24:40])
}

// tunnelEndpoint is the endpoint type of the network endpoints of a
// packet that came through a tunnel: the reassembler keys connections by
// gopacket.Flow, whose type is the one field left to tell the same inner
// addresses in two tunnels apart. (The addresses' lengths keep IPv4 and
// IPv6 apart.) gopacket's own endpoint types are small numbers.
func tunnelEndpoint(tun Tunnel) gopacket.EndpointType {
	return gopacket.EndpointType(1<<60 | int64(tun))
}

// NetFlow is the reassembler's name for the network endpoints of a
// segment between src and dst through tun, as Decode sets Segment.Net:
// for a segment the caller makes up (a closing FIN).
func NetFlow(src, dst netip.Addr, tun Tunnel) gopacket.Flow {
	t := layers.EndpointIPv6
	if tun != 0 {
		t = tunnelEndpoint(tun)
	} else if src.Is4() {
		t = layers.EndpointIPv4
	}
	if src.Is4() {
		s4, d4 := src.As4(), dst.As4()
		return gopacket.NewFlow(t, s4[:], d4[:])
	}
	s16, d16 := src.As16(), dst.As16()
	return gopacket.NewFlow(t, s16[:], d16[:])
}

// TCP completes a segment that a lazy Decode left without its
// layers.TCP and Net (see Decoder.Lazy). It reports false when the
// header does not decode (bad options): the frame is then malformed.
func (d *Decoder) TCP(seg *Segment) bool {
	if seg.TCP != nil {
		return true
	}
	if d.tcp.DecodeFromBytes(seg.raw, gopacket.NilDecodeFeedback) != nil {
		return false
	}
	seg.Net = netFlow(seg.ip, seg.Tunnel)
	seg.TCP = &d.tcp
	return true
}

// ipOffset is where the IP header starts in a frame of the fast paths'
// link types: Ethernet with any 802.1Q/802.1ad tags in front of IPv4 or
// IPv6, or raw IP. It reports false for anything else.
func ipOffset(lt layers.LinkType, data []byte) (int, bool) {
	switch {
	case lt == layers.LinkTypeEthernet:
		off := 12
		for {
			if len(data) < off+2 {
				return 0, false
			}
			et := uint16(data[off])<<8 | uint16(data[off+1])
			if et == 0x8100 || et == 0x88a8 { // 802.1Q, 802.1ad (QinQ)
				off += 4
				continue
			}
			if et != 0x0800 && et != 0x86dd {
				return 0, false
			}
			return off + 2, true
		}
	case rawIP(lt):
		return 0, true
	}
	return 0, false
}
