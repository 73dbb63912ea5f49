package decode_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// udpCaptures are the corpus captures that carry UDP (QUIC, DNS, SSDP,
// mDNS, DTLS), in Ethernet, DLT_NULL and PPP frames, IPv4 and IPv6.
var udpCaptures = []string{
	"ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng",
	"ja4/pcap/latest.pcapng",
	"ja4/pcap/tls-handshake.pcapng",
	"ja4/pcap/tls-sni.pcapng",
	"ja4/pcap/tls3.pcapng",
	"suricata-verify/tests/ja4-quic/input.pcap",
	"suricata-verify/tests/ja4-tls-quic/input.pcap",
	"suricata-verify/tests/quic-v2-ja3/input.pcap",
	"suricata-verify/tests/tls/tls-cert-issuer/tls.pcap",
	"zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-api-cirrus-com.pcap",
	"zeek/testing/btest/Traces/quic/chromium-dpd-custom-port-4433.pcap",
	"zeek/testing/btest/Traces/quic/interop/quic-go_quic-go/retry.pcap",
	"zeek/testing/btest/Traces/quic/quicv2-echo-443.pcap",
	"zeek/testing/btest/Traces/tls/dtls1_2.pcap",
}

// datagramCounter is the trivial UDP parser: it counts the datagrams of
// its flow per direction and, at Close, hands the counts to its tally
// under the flow's "client server".
type datagramCounter struct {
	f     *decode.UDPFlow
	n     [2]uint64
	tally *tally
}

func (c *datagramCounter) Datagram(d decode.Datagram) decode.UDPStatus {
	c.n[d.Dir]++
	return decode.UDPNeedMore
}

func (c *datagramCounter) Close() {
	conn := c.f.Conn()
	conn.Protocol = "count"
	c.tally.add(conn.Client.String()+" "+conn.Server.String(), c.n)
}

// tally collects the counters' counts; a Parallel's workers add to it at
// once.
type tally struct {
	mu    sync.Mutex
	m     map[string][2]uint64
	total uint64 // datagrams counted by every parser
	cfg   decode.Config
}

func (t *tally) add(key string, n [2]uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += n[0] + n[1]
	if _, ok := t.m[key]; ok {
		n[0] = ^uint64(0) // a flow closed twice: never matches
	}
	t.m[key] = n
}

func (t *tally) config() decode.Config {
	cfg := t.cfg
	cfg.UDP = func(f *decode.UDPFlow) decode.UDPParser {
		return &datagramCounter{f: f, tally: t}
	}
	return cfg
}

// udpRun runs packets through an Engine made by mk with the counting
// parser, and returns the parser's counts and the reported UDP
// connections, by "client server".
func udpRun(t *testing.T, pkts []capture.Packet, mk func(decode.Config, decode.Handler) decode.Engine) (map[string][2]uint64, map[string]facts.Connection, facts.Stats) {
	t.Helper()
	tl := &tally{m: map[string][2]uint64{}}
	return udpRunTally(t, tl, pkts, mk)
}

func udpRunTally(t *testing.T, tl *tally, pkts []capture.Packet, mk func(decode.Config, decode.Handler) decode.Engine) (map[string][2]uint64, map[string]facts.Connection, facts.Stats) {
	t.Helper()
	conns := map[string]facts.Connection{}
	e := mk(tl.config(), decode.Handler{Connection: func(c *facts.Connection) {
		if c.Transport == facts.UDP {
			conns[c.Client.String()+" "+c.Server.String()] = *c
		}
	}})
	defer e.Close()
	e.SetCapture("udp")
	for _, p := range pkts {
		e.Packet(p)
	}
	e.Flush()
	return tl.m, conns, e.Stats()
}

// tsharkConvUDP is tshark -z conv,udp: the frames each way of every UDP
// conversation, as [A->B, B->A] under "A B".
func tsharkConvUDP(t *testing.T, tshark, path string) map[string][2]uint64 {
	t.Helper()
	conv := map[string][2]uint64{}
	for _, c := range tsharkConv(t, tshark, "udp", path) {
		conv[c.key] = [2]uint64{c.aToB, c.bToA}
	}
	return conv
}

// parseEndpoint reads tshark's addr:port, where an IPv6 address has no
// brackets.
func parseEndpoint(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", s)
	}
	addr, err := netip.ParseAddr(s[:i])
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// TestUDPDatagramsMatchTshark: with a UDP parser configured, every UDP
// datagram of a capture reaches its flow's parser: per flow and per
// direction, the parser's count is tshark's (-z conv,udp), and so is the
// reported connection's; every conversation tshark lists is one flow, and
// there is no other.
func TestUDPDatagramsMatchTshark(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	corpus := testutil.Corpus(t)
	var compared int
	for _, name := range udpCaptures {
		path := filepath.Join(corpus, name)
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			want := tsharkConvUDP(t, tshark, path)
			if len(want) == 0 {
				t.Fatal("tshark lists no UDP conversation")
			}
			got, conns, st := udpRun(t, decode.ReadCapture(t, path), func(cfg decode.Config, h decode.Handler) decode.Engine { return decode.New(cfg, h) })
			for key, w := range want {
				ab := strings.Fields(key)
				ba := ab[1] + " " + ab[0]
				g, ok := got[key]
				if !ok {
					if g, ok = got[ba]; ok {
						g[0], g[1] = g[1], g[0]
					}
				}
				if !ok {
					t.Errorf("%s: no flow (tshark: %d and %d frames)", key, w[0], w[1])
					continue
				}
				compared++
				if g != w {
					t.Errorf("%s: parser saw %d and %d datagrams, tshark %d and %d", key, g[0], g[1], w[0], w[1])
				}
				c, ok := conns[key]
				if !ok {
					c, ok = conns[ba]
					c.Packets[0], c.Packets[1] = c.Packets[1], c.Packets[0]
				}
				if c.Packets != w {
					t.Errorf("%s: connection counted %v, tshark %v (reported: %v)", key, c.Packets, w, ok)
				}
				if ok && (c.Protocol != "count" || c.Closed != "end" && c.Closed != "idle") {
					t.Errorf("%s: protocol %q, closed %q", key, c.Protocol, c.Closed)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d flows, tshark %d conversations", len(got), len(want))
			}
			if st.Connections < uint64(len(conns)) {
				t.Errorf("stats: %d connections, %d UDP reported", st.Connections, len(conns))
			}
		})
	}
	t.Logf("%d UDP flows compared with tshark", compared)
	if compared < 100 {
		t.Errorf("only %d UDP flows compared with tshark", compared)
	}
}

// TestParallelUDPFlows: a Parallel deals every datagram of a UDP flow to
// one worker: with three workers each flow's parser sees the datagrams it
// sees with one, and the connections are reported in the same order.
func TestParallelUDPFlows(t *testing.T) {
	corpus := testutil.Corpus(t)
	var compared int
	for _, name := range udpCaptures {
		path := filepath.Join(corpus, name)
		pkts := decode.ReadCapture(t, path)
		var order [2][]string
		var counts [2]map[string][2]uint64
		var stats [2]facts.Stats
		for i, n := range []int{1, 3} {
			got, conns, st := udpRun(t, pkts, func(cfg decode.Config, h decode.Handler) decode.Engine {
				inner := h.Connection
				h.Connection = func(c *facts.Connection) {
					order[i] = append(order[i], fmt.Sprintf("%d %s %s %v", c.ID, c.Client, c.Server, c.Packets))
					inner(c)
				}
				return decode.NewParallel(cfg, h, n)
			})
			counts[i], stats[i] = got, st
			if len(conns) == 0 {
				t.Fatalf("%s: no UDP connection reported", name)
			}
		}
		for k, w := range counts[0] {
			if counts[1][k] != w {
				t.Errorf("%s: %s: 3 workers %v, 1 worker %v", name, k, counts[1][k], w)
			}
			compared++
		}
		if len(counts[1]) != len(counts[0]) {
			t.Errorf("%s: 3 workers %d flows, 1 worker %d", name, len(counts[1]), len(counts[0]))
		}
		if !slices.Equal(order[0], order[1]) {
			t.Errorf("%s: connections reported differ:\n%s\nvs\n%s", name, strings.Join(order[0], "\n"), strings.Join(order[1], "\n"))
		}
		if stats[0].Connections != stats[1].Connections || stats[0].NonTCP != stats[1].NonTCP {
			t.Errorf("%s: stats differ: %+v vs %+v", name, stats[0], stats[1])
		}
	}
	if compared < 100 {
		t.Errorf("only %d UDP flows compared", compared)
	}
}

// TestUDPUnconfiguredOnlyCounted: with no UDP parser, a capture's UDP
// datagrams are counted as NonTCP (tshark's count of IP frames without
// TCP), and no UDP connection is reported.
func TestUDPUnconfiguredOnlyCounted(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	path := filepath.Join(testutil.Corpus(t), "ja4/pcap/tls3.pcapng")
	out, err := exec.Command(tshark, "-r", path, "-Y", "(ip || ipv6) && !tcp", "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatal(err)
	}
	nonTCP := bytes.Count(out, []byte("\n"))
	a := decode.New(decode.Config{}, decode.Handler{Connection: func(c *facts.Connection) {
		if c.Transport != facts.TCP {
			t.Errorf("%s %s: a %v connection", c.Client, c.Server, c.Transport)
		}
	}})
	a.SetCapture(path)
	for _, p := range decode.ReadCapture(t, path) {
		a.Packet(p)
	}
	a.Flush()
	if st := a.Stats(); st.NonTCP != uint64(nonTCP) || nonTCP < 500 {
		t.Errorf("NonTCP %d, tshark %d IP frames without TCP", st.NonTCP, nonTCP)
	}
}

// TestUDPFlowsEvicted: under a flow cap far below a capture's flows, UDP
// flows are evicted like TCP connections (least recently active first,
// each a flow_evicted anomaly, counted in Stats.Evicted), and no datagram
// is lost: the parsers of all the pieces count every UDP frame tshark
// counts.
func TestUDPFlowsEvicted(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	path := filepath.Join(testutil.Corpus(t), "ja4/pcap/tls3.pcapng")
	var want uint64
	for _, w := range tsharkConvUDP(t, tshark, path) {
		want += w[0] + w[1]
	}
	tl := &tally{m: map[string][2]uint64{}, cfg: decode.Config{MaxFlows: 5}}
	var evicted int
	_, _, st := udpRunTally(t, tl, decode.ReadCapture(t, path), func(cfg decode.Config, h decode.Handler) decode.Engine {
		h.Connection = func(c *facts.Connection) {
			if c.Transport == facts.UDP && c.Closed == "evicted" {
				evicted++
			}
		}
		return decode.New(cfg, h)
	})
	if tl.total != want || want < 500 {
		t.Errorf("parsers counted %d datagrams, tshark %d", tl.total, want)
	}
	if evicted < 10 || st.Evicted < uint64(evicted) || st.Anomalies["flow_evicted"] != st.Evicted {
		t.Errorf("%d UDP flows evicted; stats: %d evicted, %d flow_evicted", evicted, st.Evicted, st.Anomalies["flow_evicted"])
	}
}

// helloParser plays a QUIC or DTLS parser: at its flow's first datagram it
// records a TLS session with a given ClientHello and says the handshake is
// over.
type helloParser struct {
	f        *decode.UDPFlow
	protocol string
	ch       *tls.ClientHello
}

func (p *helloParser) Datagram(d decode.Datagram) decode.UDPStatus {
	c := p.f.Conn()
	c.Protocol = p.protocol
	if p.protocol == "quic" {
		c.Transport = facts.QUIC // as decode.QUIC's parser says it
	}
	c.TLS = &tls.Session{ClientHello: p.ch}
	p.f.Handshake()
	return decode.UDPDone
}

func (p *helloParser) Close() {}

// TestJA4TransportFromFlow: JA4's first character is the flow's: 't' for
// TLS over TCP, 'q' for a UDP flow its parser says is QUIC (Transport QUIC), 'd' for DTLS; the
// rest of the fingerprint is the ClientHello's either way. The ClientHello
// is a real one (the corpus capture's, whose JA4 FoxIO's ja4 gives).
func TestJA4TransportFromFlow(t *testing.T) {
	corpus := testutil.Corpus(t)
	tcp, _ := analyze(t, filepath.Join(corpus, "ja4/pcap/tls3.pcapng"), decode.Config{})
	var ch *tls.ClientHello
	var ja4 string
	for _, c := range tcp {
		if c.TLS != nil && c.TLS.ClientHello != nil && c.Fingerprints.JA4 != "" {
			ch, ja4 = c.TLS.ClientHello, c.Fingerprints.JA4
			break
		}
	}
	if ch == nil || ja4[0] != 't' {
		t.Fatalf("no TCP ClientHello with a JA4 (%q)", ja4)
	}
	pkts := decode.ReadCapture(t, filepath.Join(corpus, "zeek/testing/btest/Traces/quic/quicv2-echo-443.pcap"))
	for _, tc := range []struct {
		protocol string
		char     byte
	}{{"quic", 'q'}, {"dtls", 'd'}} {
		var handshakes, conns int
		h := decode.Handler{
			Handshake: func(c *facts.Connection) {
				handshakes++
				if want := string(tc.char) + ja4[1:]; c.Fingerprints.JA4 != want {
					t.Errorf("%s: JA4 %q, want %q", tc.protocol, c.Fingerprints.JA4, want)
				}
			},
			Connection: func(c *facts.Connection) {
				if c.Transport.OverUDP() {
					conns++
					if c.Fingerprints.JA4 == "" || c.Fingerprints.JA4[0] != tc.char {
						t.Errorf("%s: connection's JA4 %q", tc.protocol, c.Fingerprints.JA4)
					}
				}
			},
		}
		cfg := decode.Config{UDP: func(f *decode.UDPFlow) decode.UDPParser {
			return &helloParser{f: f, protocol: tc.protocol, ch: ch}
		}}
		a := decode.New(cfg, h)
		for _, p := range pkts {
			a.Packet(p)
		}
		a.Flush()
		if handshakes != 1 || conns != 1 {
			t.Errorf("%s: %d handshakes, %d UDP connections; want one of each", tc.protocol, handshakes, conns)
		}
	}
}

// truncParser records what a cut capture gives it.
type truncParser struct {
	cut, whole *int
	maxLen     *int
}

func (p *truncParser) Datagram(d decode.Datagram) decode.UDPStatus {
	if d.Truncated {
		*p.cut++
	} else {
		*p.whole++
	}
	*p.maxLen = max(*p.maxLen, len(d.Payload))
	return decode.UDPNeedMore
}

func (p *truncParser) Close() {}

// TestUDPTruncatedDatagrams: a real capture cut to a 96-byte snaplen still
// gives every datagram to its parser, each longer one marked Truncated
// with no more payload than the frame holds, and each counted as a
// packet_truncated anomaly.
func TestUDPTruncatedDatagrams(t *testing.T) {
	const snap = 96
	pkts := decode.ReadCapture(t, filepath.Join(testutil.Corpus(t), "ja4/pcap/tls3.pcapng"))
	var cutFrames int
	for i := range pkts {
		if p := &pkts[i]; len(p.Data) > snap {
			p.Data = p.Data[:snap]
			p.Info.CaptureLength = snap
			cutFrames++
		}
	}
	var cut, whole, maxLen int
	cfg := decode.Config{UDP: func(f *decode.UDPFlow) decode.UDPParser {
		return &truncParser{cut: &cut, whole: &whole, maxLen: &maxLen}
	}}
	a := decode.New(cfg, decode.Handler{})
	for _, p := range pkts {
		a.Packet(p)
	}
	a.Flush()
	st := a.Stats()
	if cut < 500 || maxLen > snap-14-20-8 {
		t.Errorf("%d datagrams cut (of %d frames), longest payload %d", cut, cutFrames, maxLen)
	}
	if st.Anomalies["packet_truncated"] < uint64(cut) || st.Truncated < uint64(cut) {
		t.Errorf("%d cut datagrams, %d packet_truncated, %d truncated", cut, st.Anomalies["packet_truncated"], st.Truncated)
	}
	if cut+whole != 794 { // tshark -Y udp
		t.Errorf("%d datagrams, tshark 794", cut+whole)
	}
}
