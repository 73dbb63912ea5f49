package robust

import (
	"bufio"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/crypto/cryptobyte"
)

// genStart is the capture time of the first generated packet.
var genStart = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// pcapGen writes an Ethernet pcap of synthetic TCP/IPv4 packets with real
// headers (lengths and checksums computed by gopacket's serializer).
type pcapGen struct {
	t  testing.TB
	f  *os.File
	bw *bufio.Writer
	w  interface {
		WritePacket(gopacket.CaptureInfo, []byte) error
	}
	ng   *pcapgo.NgWriter // set for pcapng
	snap int              // > 0: frames longer than this are cut (caplen < len)
	ts   time.Time
	step time.Duration // capture time between packets
	buf  gopacket.SerializeBuffer
	opts gopacket.SerializeOptions
	eth  layers.Ethernet
	ip4  layers.IPv4
	tcp  layers.TCP
	n    int
}

func newPcap(t testing.TB, path string) *pcapGen {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	g := &pcapGen{t: t, f: f, bw: bufio.NewWriterSize(f, 1<<20), ts: genStart, step: 10 * time.Microsecond,
		buf:  gopacket.NewSerializeBuffer(),
		opts: gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}}
	w := pcapgo.NewWriter(g.bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	g.w = w
	g.initEth()
	return g
}

// newPcapng is newPcap for a pcapng file whose interface 0 is Ethernet;
// extra adds one interface per link type, numbered from 1.
func newPcapng(t testing.TB, path string, extra ...layers.LinkType) *pcapGen {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	g := &pcapGen{t: t, f: f, bw: bufio.NewWriterSize(f, 1<<20), ts: genStart, step: 10 * time.Microsecond,
		buf:  gopacket.NewSerializeBuffer(),
		opts: gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}}
	ng, err := pcapgo.NewNgWriterInterface(g.bw, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i, lt := range extra {
		if _, err := ng.AddInterface(pcapgo.NgInterface{Name: "x" + string(rune('a'+i)), LinkType: lt, SnapLength: 65535}); err != nil {
			t.Fatal(err)
		}
	}
	g.w, g.ng = ng, ng
	g.initEth()
	return g
}

func (g *pcapGen) initEth() {
	g.eth = layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
}

// frame serializes one TCP/IPv4 packet from src to dst.
func (g *pcapGen) frame(src, dst netip.AddrPort, flags uint8, seq, ack uint32, payload []byte) []byte {
	g.ip4 = layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Flags: layers.IPv4DontFragment,
		SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(), Id: uint16(g.n)}
	g.tcp = layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: seq, Ack: ack, Window: 65535,
		SYN: flags&flagSYN != 0, ACK: flags&flagACK != 0, FIN: flags&flagFIN != 0,
		RST: flags&flagRST != 0, PSH: flags&flagPSH != 0}
	if err := g.tcp.SetNetworkLayerForChecksum(&g.ip4); err != nil {
		g.t.Fatal(err)
	}
	if err := gopacket.SerializeLayers(g.buf, g.opts, &g.eth, &g.ip4, &g.tcp, gopacket.Payload(payload)); err != nil {
		g.t.Fatal(err)
	}
	return g.buf.Bytes()
}

const (
	flagSYN = 1 << iota
	flagACK
	flagFIN
	flagRST
	flagPSH
)

// packet writes one whole TCP/IPv4 packet.
func (g *pcapGen) packet(src, dst netip.AddrPort, flags uint8, seq, ack uint32, payload []byte) {
	data := g.frame(src, dst, flags, seq, ack, payload)
	ci := gopacket.CaptureInfo{CaptureLength: len(data), Length: len(data)}
	if g.snap > 0 && len(data) > g.snap {
		data, ci.CaptureLength = data[:g.snap], g.snap
	}
	g.raw(ci, data)
}

// raw writes a record as given; a zero Timestamp takes the next packet
// time.
func (g *pcapGen) raw(ci gopacket.CaptureInfo, data []byte) {
	if ci.Timestamp.IsZero() {
		ci.Timestamp = g.ts
		g.ts = g.ts.Add(g.step)
	}
	if err := g.w.WritePacket(ci, data); err != nil {
		g.t.Fatal(err)
	}
	g.n++
}

func (g *pcapGen) close() {
	if g.ng != nil {
		if err := g.ng.Flush(); err != nil {
			g.t.Fatal(err)
		}
	}
	if err := g.bw.Flush(); err != nil {
		g.t.Fatal(err)
	}
	if err := g.f.Close(); err != nil {
		g.t.Fatal(err)
	}
}

// tcpConn is one generated TCP connection; it tracks sequence numbers.
type tcpConn struct {
	g          *pcapGen
	c, s       netip.AddrPort
	cseq, sseq uint32
}

// mss is the largest payload per generated segment.
const mss = 1448

// open writes the three-way handshake.
func (g *pcapGen) open(c, s netip.AddrPort) *tcpConn {
	k := &tcpConn{g: g, c: c, s: s, cseq: 1000, sseq: 500000}
	g.packet(c, s, flagSYN, k.cseq, 0, nil)
	k.cseq++
	g.packet(s, c, flagSYN|flagACK, k.sseq, k.cseq, nil)
	k.sseq++
	g.packet(c, s, flagACK, k.cseq, k.sseq, nil)
	return k
}

// send writes data from the client (fromServer false) or the server, in
// segments of at most mss bytes.
func (k *tcpConn) send(fromServer bool, data []byte) {
	for len(data) > 0 {
		n := min(len(data), mss)
		if fromServer {
			k.g.packet(k.s, k.c, flagACK|flagPSH, k.sseq, k.cseq, data[:n])
			k.sseq += uint32(n)
		} else {
			k.g.packet(k.c, k.s, flagACK|flagPSH, k.cseq, k.sseq, data[:n])
			k.cseq += uint32(n)
		}
		data = data[n:]
	}
}

// close writes a FIN from each side and the last ACK.
func (k *tcpConn) close() {
	k.g.packet(k.c, k.s, flagFIN|flagACK, k.cseq, k.sseq, nil)
	k.cseq++
	k.g.packet(k.s, k.c, flagFIN|flagACK, k.sseq, k.cseq, nil)
	k.sseq++
	k.g.packet(k.c, k.s, flagACK, k.cseq, k.sseq, nil)
}

// addrN is a distinct client endpoint for each n (up to 2^24 of them).
func addrN(n int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}), uint16(20000+n%40000))
}

var server = netip.MustParseAddrPort("192.0.2.1:443")

// TLS record and handshake building, RFC 8446 5.1 and 4.

const (
	ctChangeCipherSpec = 20
	ctAlert            = 21
	ctHandshake        = 22
)

// record frames body as one TLS record (no length check: callers build
// hostile ones on purpose through recordHeader).
func record(typ uint8, body []byte) []byte {
	return append(recordHeader(typ, len(body)), body...)
}

// recordHeader is a record header claiming n bytes (the low 16 bits).
func recordHeader(typ uint8, n int) []byte {
	return []byte{typ, 3, 3, byte(n >> 8), byte(n)}
}

// handshake frames body as one handshake message claiming n bytes (n < 0:
// the body's own length).
func handshake(typ uint8, n int, body []byte) []byte {
	if n < 0 {
		n = len(body)
	}
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// records splits a handshake stream into records of at most 16 KiB.
func records(typ uint8, data []byte) []byte {
	var out []byte
	for len(data) > 0 {
		n := min(len(data), 1<<14)
		out = append(out, record(typ, data[:n])...)
		data = data[n:]
	}
	return out
}

// clientHelloBody is a valid TLS 1.2 ClientHello body (RFC 5246, 7.4.1.2)
// offering two suites and server_name; ext, when set, is appended raw to
// the extensions block (which then claims its own length correctly).
func clientHelloBody(ext []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint16(0x0303)
	b.AddBytes(make([]byte, 32)) // random
	b.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0xc02f) // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
		b.AddUint16(0x009c) // TLS_RSA_WITH_AES_128_GCM_SHA256
	})
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0) // server_name, RFC 6066 3
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8(0)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("robust.example")) })
			})
		})
		b.AddBytes(ext)
	})
	return b.BytesOrPanic()
}

// serverHelloBody is a TLS 1.2 ServerHello choosing
// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, no extensions.
func serverHelloBody() []byte {
	var b cryptobyte.Builder
	b.AddUint16(0x0303)
	b.AddBytes(make([]byte, 32))
	b.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
	b.AddUint16(0xc02f)
	b.AddUint8(0)
	return b.BytesOrPanic()
}
