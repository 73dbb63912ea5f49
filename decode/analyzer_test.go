package decode_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// analyze runs a capture through the Analyzer and returns its connections
// keyed by "client server".
func analyze(t testing.TB, path string, cfg decode.Config) (map[string]*facts.Connection, facts.Stats) {
	t.Helper()
	f, err := capture.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	conns := make(map[string]*facts.Connection)
	a := decode.New(cfg, decode.Handler{Connection: func(c *facts.Connection) {
		cp := *c
		conns[c.Client.String()+" "+c.Server.String()] = &cp
	}})
	a.SetCapture(path)
	for {
		p, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		a.Packet(p)
	}
	a.Flush()
	return conns, a.Stats()
}

// captures lists the repository's captures and the corpus's TLS-over-TCP
// captures that have a tshark oracle.
func captures(t *testing.T) []string {
	var out []string
	own, _ := filepath.Glob(filepath.Join(testutil.Pcaps(t), "*.pcap*"))
	out = append(out, own...)
	corpus := testutil.Corpus(t)
	err := filepath.Walk(corpus, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".tshark.tsv") {
			out = append(out, strings.TrimSuffix(p, ".tshark.tsv"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestConnectionsMatchTshark: every TCP connection tshark decodes a hello
// of is reported with the same endpoints, SNI, negotiated version and
// suite, JA3 and JA3S.
func TestConnectionsMatchTshark(t *testing.T) {
	checked := testutil.MinCompared(t, 230, "connections")
	for _, path := range captures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := oracle.Conns(oracle.Hellos(t, path))
			if len(want) == 0 {
				t.Skip("no TLS over TCP")
			}
			got, _ := analyze(t, path, decode.Config{})
			for key, w := range want {
				g := got[key]
				if g == nil {
					t.Errorf("%s: connection not reported (have %s)", key, keys(got))
					continue
				}
				checked.Add(1)
				if g.TLS == nil {
					t.Errorf("%s: no TLS facts", key)
					continue
				}
				if w.ClientHellos > 0 && g.TLS.ClientHello == nil {
					t.Errorf("%s: ClientHello missing", key)
				} else if w.ClientHellos > 0 && g.TLS.ClientHello.ServerName != w.SNI {
					t.Errorf("%s: SNI %q, tshark %q", key, g.TLS.ClientHello.ServerName, w.SNI)
				}
				if w.ClientHellos > 0 && g.Fingerprints.JA3 != w.JA3 {
					t.Errorf("%s: ja3 %q, tshark %q", key, g.Fingerprints.JA3, w.JA3)
				}
				if w.ServerHellos == 0 {
					continue
				}
				if g.TLS.Version != w.Version {
					t.Errorf("%s: version %#04x, tshark %#04x", key, g.TLS.Version, w.Version)
				}
				if g.TLS.CipherSuite != w.CipherSuite {
					t.Errorf("%s: suite %#04x, tshark %#04x", key, g.TLS.CipherSuite, w.CipherSuite)
				}
				if g.Fingerprints.JA3S != w.JA3S {
					t.Errorf("%s: ja3s %q, tshark %q", key, g.Fingerprints.JA3S, w.JA3S)
				}
			}
		})
	}
}

func keys(m map[string]*facts.Connection) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, "; ")
}

// TestMangledCaptureSameFacts: a capture rebuilt with segments reordered,
// duplicated and overlapping yields the same facts as the original.
func TestMangledCaptureSameFacts(t *testing.T) {
	corpus := testutil.Corpus(t)
	for _, name := range []string{
		"zeek/testing/btest/Traces/tls/tls1.2.pcap",
		"zeek/testing/btest/Traces/tls/hrr.pcap",
		"zeek/testing/btest/Traces/tls/client-certificate.pcap",
		"ja4/pcap/latest.pcapng",
		"zeek/testing/btest/Traces/tls/ecdhe.pcap",
	} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			path := filepath.Join(corpus, name)
			want, _ := analyze(t, path, decode.Config{})
			for seed := int64(1); seed <= 3; seed++ {
				mangled := filepath.Join(t.TempDir(), "mangled.pcap")
				mangle(t, path, mangled, seed)
				got, _ := analyze(t, mangled, decode.Config{})
				if diff := compareFacts(want, got); diff != "" {
					t.Errorf("seed %d: %s", seed, diff)
				}
			}
		})
	}
}

func compareFacts(want, got map[string]*facts.Connection) string {
	var b strings.Builder
	for k, w := range want {
		g := got[k]
		if g == nil {
			fmt.Fprintf(&b, "%s missing; ", k)
			continue
		}
		if summary(w) != summary(g) {
			fmt.Fprintf(&b, "%s:\n  want %s\n  got  %s\n", k, summary(w), summary(g))
		}
	}
	return b.String()
}

func summary(c *facts.Connection) string {
	s := c.TLS
	if s == nil {
		return "no tls"
	}
	sni := ""
	if s.ClientHello != nil {
		sni = s.ClientHello.ServerName
	}
	return fmt.Sprintf("sni=%s v=%#x cs=%#x certs=%d est=%v hrr=%v alerts=%d ja3=%s ja4=%s ja3s=%s",
		sni, s.Version, s.CipherSuite, len(s.Certificates), s.Established, s.HelloRetry != nil,
		len(s.Alerts), c.Fingerprints.JA3, c.Fingerprints.JA4, c.Fingerprints.JA3S)
}

// mangle rewrites an Ethernet capture: TCP payloads are cut into pieces
// that overlap their neighbours, some pieces are sent twice, and pieces are
// swapped with their successor in the same direction.
func mangle(t *testing.T, in, out string, seed int64) {
	t.Helper()
	f, err := capture.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewSource(seed))
	type pkt struct {
		data []byte
		ci   gopacket.CaptureInfo
	}
	var pkts []pkt
	for {
		p, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.LinkType != layers.LinkTypeEthernet {
			t.Skipf("link type %v", p.LinkType)
		}
		pk := gopacket.NewPacket(p.Data, layers.LayerTypeEthernet, gopacket.Default)
		tcp, _ := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || len(tcp.Payload) < 8 {
			pkts = append(pkts, pkt{append([]byte(nil), p.Data...), p.Info})
			continue
		}
		payload := tcp.Payload
		// Cut into 2-4 pieces; each piece after the first starts a few
		// bytes early, overlapping its predecessor with the same bytes.
		n := 2 + rng.Intn(3)
		step := len(payload) / n
		var pieces []pkt
		for i := 0; i < n; i++ {
			start, end := i*step, (i+1)*step
			if i == n-1 {
				end = len(payload)
			}
			if i > 0 {
				start -= min(start, 1+rng.Intn(4))
			}
			data := rebuild(t, pk, tcp, uint32(start), payload[start:end], i == n-1)
			pieces = append(pieces, pkt{data, p.Info})
			if rng.Intn(4) == 0 {
				pieces = append(pieces, pkt{data, p.Info}) // duplicate
			}
		}
		if len(pieces) > 2 && rng.Intn(2) == 0 {
			pieces[0], pieces[1] = pieces[1], pieces[0] // out of order
		}
		for i := range pieces {
			pieces[i].ci.CaptureLength = len(pieces[i].data)
			pieces[i].ci.Length = len(pieces[i].data)
		}
		pkts = append(pkts, pieces...)
	}
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := pw.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
}

// rebuild serialises a copy of pk's TCP segment carrying part of its
// payload, at offset off of the original sequence number. Only the last
// piece keeps FIN/PSH.
func rebuild(t *testing.T, pk gopacket.Packet, tcp *layers.TCP, off uint32, part []byte, last bool) []byte {
	t.Helper()
	nt := *tcp
	nt.Seq = tcp.Seq + off
	if !last {
		nt.FIN, nt.PSH = false, false
	}
	var ls []gopacket.SerializableLayer
	for _, l := range pk.Layers() {
		switch l := l.(type) {
		case *layers.Ethernet:
			c := *l
			ls = append(ls, &c)
		case *layers.Dot1Q:
			c := *l
			ls = append(ls, &c)
		case *layers.IPv4:
			c := *l
			ls = append(ls, &c)
			nt.SetNetworkLayerForChecksum(&c)
		case *layers.IPv6:
			c := *l
			ls = append(ls, &c)
			nt.SetNetworkLayerForChecksum(&c)
		}
	}
	ls = append(ls, &nt, gopacket.Payload(part))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// BenchmarkAnalyzer measures the whole decode path (headers, reassembly,
// TLS, cleartext, fingerprints) over a capture held in memory:
// $TLSSCOPE_BENCH_PCAP (e.g. one made by scripts/benchcapture), or the
// corpus's 1 MB browsing capture.
func BenchmarkAnalyzer(b *testing.B) {
	path := os.Getenv("TLSSCOPE_BENCH_PCAP")
	if path == "" {
		path = filepath.Join(testutil.Corpus(b), "ja4/pcap/tls3.pcapng")
	}
	f, err := capture.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	var pkts []capture.Packet
	var size int64
	for {
		p, err := f.Next()
		if err != nil {
			break
		}
		p.Data = append([]byte(nil), p.Data...)
		pkts = append(pkts, p)
		size += int64(len(p.Data))
	}
	f.Close()
	engines := []struct {
		name string
		new  func(h decode.Handler) decode.Engine
	}{
		{"single", func(h decode.Handler) decode.Engine { return decode.New(decode.Config{}, h) }},
		{"parallel-1", func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, 1) }},
		{"parallel-2", func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, 2) }},
	}
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var n int
				a := e.new(decode.Handler{Connection: func(*facts.Connection) { n++ }})
				for _, p := range pkts {
					a.Packet(p)
				}
				a.Flush()
				a.Close()
			}
			b.ReportMetric(float64(len(pkts)), "packets/op")
		})
	}
}

// TestParallelSameFacts: spreading flows over workers changes nothing in
// what is reported, nor in the order of the Handler calls: the same
// sequence as one Analyzer's, for any number of workers.
func TestParallelSameFacts(t *testing.T) {
	for _, path := range captures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, wantStats := analyze(t, path, decode.Config{})
			pkts := readPackets(t, path)
			wantCalls := packetCalls(slicePackets(pkts), func(h decode.Handler) decode.Engine { return decode.New(decode.Config{}, h) }, nil, 0)
			for _, n := range []int{1, 2, 3} {
				got := map[string]*facts.Connection{}
				var st facts.Stats
				calls := packetCalls(slicePackets(pkts), func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, n) }, func(c *facts.Connection, s facts.Stats) {
					if c != nil {
						cp := *c
						got[c.Client.String()+" "+c.Server.String()] = &cp
					}
					st = s
				}, 0)
				if diff := compareFacts(want, got); diff != "" || len(got) != len(want) {
					t.Fatalf("%d workers: %d connections, want %d: %s", n, len(got), len(want), diff)
				}
				for k, w := range want {
					if got[k].ID != w.ID {
						t.Errorf("%d workers: %s id %d, want %d", n, k, got[k].ID, w.ID)
					}
				}
				if st.Packets != wantStats.Packets || st.Connections != wantStats.Connections {
					t.Errorf("%d workers: stats %d packets %d connections, want %d %d", n, st.Packets, st.Connections, wantStats.Packets, wantStats.Connections)
				}
				if !slices.Equal(calls, wantCalls) {
					for i := range min(len(calls), len(wantCalls)) {
						if calls[i] != wantCalls[i] {
							t.Fatalf("%d workers: Handler call %d is %q, one Analyzer's %q (%d and %d calls)", n, i, calls[i], wantCalls[i], len(calls), len(wantCalls))
						}
					}
					t.Fatalf("%d workers: %d Handler calls, one Analyzer %d", n, len(calls), len(wantCalls))
				}
			}
		})
	}
}

// TestParallelIdleFlushOrder: connections left open and idle for longer
// than the idle timeout are closed by the idle flush at the same frame, and
// reported in the same order, by any number of workers as by one
// Analyzer. The input strings several captures together three minutes
// apart, without their FIN and RST segments, so each one's connections are
// still open (and idle) when the next one's frames come.
func TestParallelIdleFlushOrder(t *testing.T) {
	dir := testutil.Pcaps(t)
	var pkts []capture.Packet
	var shift time.Duration
	for _, name := range []string{"tls13-go.pcap", "http-form-login.pcap", "tls12-chacha20-openssl.pcap", "smtp-auth-plain.pcap", "cert-good.pcap", "http-basic-auth.pcap"} {
		f, err := capture.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var first time.Time
		for {
			p, err := f.Next()
			if err != nil {
				break
			}
			if first.IsZero() {
				if shift == 0 {
					shift = time.Nanosecond // the first capture stays where it is
				} else if d := 3*time.Minute - p.Info.Timestamp.Sub(pkts[len(pkts)-1].Info.Timestamp); d > 0 {
					shift = d
				}
				first = p.Info.Timestamp
			}
			// Ethernet, IPv4 without options on these captures: TCP flags at 14+20+13.
			if len(p.Data) > 47 && p.Data[47]&0x05 != 0 {
				continue // FIN or RST
			}
			p.Data = append([]byte(nil), p.Data...)
			p.Info.Timestamp = p.Info.Timestamp.Add(shift)
			pkts = append(pkts, p)
		}
		f.Close()
	}
	want := packetCalls(slicePackets(pkts), func(h decode.Handler) decode.Engine { return decode.New(decode.Config{}, h) }, nil, 7)
	var idle int
	for _, c := range want {
		if strings.Contains(c, " idle ") {
			idle++
		}
	}
	if idle < 5 {
		t.Fatalf("only %d connections closed idle: %q", idle, want)
	}
	for _, n := range []int{2, 3} {
		got := packetCalls(slicePackets(pkts), func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, n) }, nil, 7)
		if !slices.Equal(got, want) {
			t.Errorf("%d workers:\n%s\none Analyzer:\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// packetCalls runs packets through an engine and lists its Handler calls
// in order, each as its kind, connection id and a detail; conn, when set,
// sees each closed connection and, last, with nil, the stats.
//
// With noteEvery > 0, an anomaly is noted (Engine.Note, as the packet
// reader does) before every noteEvery-th packet.
func packetCalls(next func() (capture.Packet, bool), newEngine func(decode.Handler) decode.Engine, conn func(*facts.Connection, facts.Stats), noteEvery int) []string {
	var calls []string
	e := newEngine(decode.Handler{
		Handshake: func(c *facts.Connection) { calls = append(calls, fmt.Sprint("handshake ", c.ID)) },
		Connection: func(c *facts.Connection) {
			calls = append(calls, fmt.Sprint("connection ", c.ID, " ", c.Closed, " ", c.Packets, c.Bytes))
			if conn != nil {
				conn(c, facts.Stats{})
			}
		},
		Secret: func(c *facts.Connection, s facts.Secret) {
			calls = append(calls, fmt.Sprint("secret ", c.ID, " ", s.Kind))
		},
		HTTP: func(c *facts.Connection, m facts.HTTPMessage) {
			calls = append(calls, fmt.Sprint("http ", c.ID, " ", m.Method, m.Status))
		},
		Anomaly: func(a facts.Anomaly) {
			calls = append(calls, fmt.Sprint("anomaly ", a.ConnID, " ", a.Kind, " ", a.Offset))
		},
	})
	e.SetCapture("input")
	var i int
	for ; ; i++ {
		p, ok := next()
		if !ok {
			break
		}
		if noteEvery > 0 && i%noteEvery == 0 {
			e.Note(facts.Anomaly{Kind: "reader_note", Offset: int64(i)})
		}
		e.Packet(p)
	}
	e.Flush()
	if noteEvery > 0 {
		if n := e.Stats().Anomalies["reader_note"]; n != uint64((i+noteEvery-1)/noteEvery) {
			calls = append(calls, fmt.Sprint("notes counted: ", n))
		}
	}
	if conn != nil {
		conn(nil, e.Stats())
	}
	e.Close()
	return calls
}

// readPackets reads a whole capture, each packet's bytes its own.
func readPackets(t *testing.T, path string) []capture.Packet {
	t.Helper()
	return decode.ReadCapture(t, path)
}

// slicePackets yields pkts one by one.
func slicePackets(pkts []capture.Packet) func() (capture.Packet, bool) {
	return func() (capture.Packet, bool) {
		if len(pkts) == 0 {
			return capture.Packet{}, false
		}
		p := pkts[0]
		pkts = pkts[1:]
		return p, true
	}
}

// filePackets yields a capture's packets as its reader hands them out:
// in place, valid until the next one unless their Block is retained.
func filePackets(f *capture.File) func() (capture.Packet, bool) {
	return func() (capture.Packet, bool) {
		p, err := f.Next()
		return p, err == nil
	}
}

// TestConnectionJA4MatchesFoxIO: every TCP connection's JA4 and JA4_r, as
// the Analyzer reports them, equal the first ClientHello's values in
// FoxIO's ja4.py expected output (python/test/testdata/*.json); after a
// HelloRetryRequest JA4Retry and JA4RetryR equal the second's (JA4.2),
// and without one they are empty.
func TestConnectionJA4MatchesFoxIO(t *testing.T) {
	dir := filepath.Join(testutil.Corpus(t), "ja4")
	files, _ := filepath.Glob(filepath.Join(dir, "python/test/testdata/*.json"))
	var checked, retries int
	for _, exp := range files {
		pcap := filepath.Join(dir, "pcap", strings.TrimSuffix(filepath.Base(exp), ".json"))
		raw, err := os.ReadFile(exp)
		if err != nil {
			t.Fatal(err)
		}
		var streams []map[string]any
		if err := json.Unmarshal(raw, &streams); err != nil {
			t.Fatalf("%s: %v", exp, err)
		}
		got, _ := analyze(t, pcap, decode.Config{})
		for _, s := range streams {
			ja4, _ := s["JA4.1"].(string)
			if ja4 == "" || !strings.HasPrefix(ja4, "t") {
				continue // QUIC, or no ClientHello
			}
			key := fmt.Sprintf("%s %s", endpoint(s["src"], s["srcport"]), endpoint(s["dst"], s["dstport"]))
			c := got[key]
			if c == nil {
				t.Errorf("%s: %s not reported", filepath.Base(pcap), key)
				continue
			}
			checked++
			if c.Fingerprints.JA4 != ja4 || c.Fingerprints.JA4R != s["JA4_r.1"] {
				t.Errorf("%s: %s: ja4 %s / %s, FoxIO %s / %s", filepath.Base(pcap), key, c.Fingerprints.JA4, c.Fingerprints.JA4R, ja4, s["JA4_r.1"])
			}
			ja4two, _ := s["JA4.2"].(string)
			r2, _ := s["JA4_r.2"].(string)
			if ja4two != "" {
				retries++
			}
			if c.Fingerprints.JA4Retry != ja4two || c.Fingerprints.JA4RetryR != r2 {
				t.Errorf("%s: %s: second ClientHello's ja4 %q / %q, FoxIO %q / %q", filepath.Base(pcap), key, c.Fingerprints.JA4Retry, c.Fingerprints.JA4RetryR, ja4two, r2)
			}
		}
	}
	if checked < 130 || retries < 5 {
		t.Errorf("only %d connections checked (%d with a second ClientHello), want at least 130 (5)", checked, retries)
	}
	t.Logf("%d connections' JA4 equal FoxIO's", checked)
}

func endpoint(addr, port any) string {
	a, p := fmt.Sprint(addr), fmt.Sprint(port)
	if strings.Contains(a, ":") {
		return "[" + a + "]:" + p
	}
	return a + ":" + p
}

// TestReusedPortAfterHalfClose: a connection whose client never sends its
// FIN (the server's FIN and RST end it, as Go servers often do), then a new
// connection on the same endpoints: both are reported, as tshark counts
// two TCP streams.
func TestReusedPortAfterHalfClose(t *testing.T) {
	src := filepath.Join(testutil.Corpus(t), "zeek/testing/btest/Traces/tls/tls1.2.pcap")
	f, err := capture.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		ci   gopacket.CaptureInfo
		data []byte
	}
	var first []rec
	var client netip.AddrPort
	for {
		p, err := f.Next()
		if err != nil {
			break
		}
		pk := gopacket.NewPacket(p.Data, layers.LayerTypeEthernet, gopacket.Default)
		tcp, _ := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		ip, _ := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if tcp == nil || ip == nil {
			continue
		}
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip.SrcIP.To4())), uint16(tcp.SrcPort))
		if tcp.SYN && !tcp.ACK {
			client = from
		}
		if tcp.FIN && from == client {
			continue // the client never closes its half
		}
		first = append(first, rec{p.Info, append([]byte(nil), p.Data...)})
	}
	f.Close()
	out := filepath.Join(t.TempDir(), "reused.pcap")
	w, _ := os.Create(out)
	pw := pcapgo.NewWriter(w)
	pw.WriteFileHeader(65535, layers.LinkTypeEthernet)
	for round := 0; round < 2; round++ {
		for _, r := range first {
			ci := r.ci
			ci.Timestamp = ci.Timestamp.Add(time.Duration(round) * 2 * time.Second)
			data := r.data
			if round == 1 {
				// The new connection picks new initial sequence numbers.
				data = shiftSeq(t, data, client, 100000, 200000)
				ci.CaptureLength, ci.Length = len(data), len(data)
			}
			pw.WritePacket(ci, data)
		}
	}
	w.Close()
	tshark := testutil.Tool(t, "tshark")
	streams, err := exec.Command(tshark, "-r", out, "-T", "fields", "-e", "tcp.stream").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, l := range strings.Fields(string(streams)) {
		want[l] = true
	}
	var got []*facts.Connection
	a := decode.New(decode.Config{}, decode.Handler{Connection: func(c *facts.Connection) { cp := *c; got = append(got, &cp) }})
	cf, _ := capture.Open(out)
	for {
		p, err := cf.Next()
		if err != nil {
			break
		}
		a.Packet(p)
	}
	a.Flush()
	if len(want) != 2 || len(got) != len(want) {
		t.Fatalf("tlsscope reports %d connections, tshark %d streams", len(got), len(want))
	}
	for _, c := range got {
		if c.TLS == nil || !c.TLS.Established || c.TLS.ClientHello == nil {
			t.Errorf("connection %d: handshake not seen whole: %s", c.ID, summary(c))
		}
	}
}

// shiftSeq adds cs to the sequence numbers the client sends (and to the
// acknowledgements it receives), ss to the server's.
func shiftSeq(t *testing.T, data []byte, client netip.AddrPort, cs, ss uint32) []byte {
	pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
	eth := *pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip := *pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp := *pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
	fromClient := uint16(tcp.SrcPort) == client.Port()
	if fromClient {
		tcp.Seq += cs
		if tcp.ACK {
			tcp.Ack += ss
		}
	} else {
		tcp.Seq += ss
		if tcp.ACK {
			tcp.Ack += cs
		}
	}
	tcp.SetNetworkLayerForChecksum(&ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&eth, &ip, &tcp, gopacket.Payload(tcp.Payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// TestPrepare: with Prepare and Prepared set, every closed connection
// goes through both (Prepared in Connection's place, with what Prepare
// made of that same connection), in the same order for one Analyzer and
// for workers, which run Prepare themselves.
func TestPrepare(t *testing.T) {
	path := filepath.Join(testutil.Pcaps(t), "http-keepalive-login.pcap")
	pkts := readPackets(t, path)
	var want []string
	for _, n := range []int{0, 1, 2, 3} {
		var got []string
		var prepares atomic.Int64
		h := decode.Handler{
			Connection: func(c *facts.Connection) { t.Errorf("Connection called for %d with Prepared set", c.ID) },
			Prepare: func(c *facts.Connection) any {
				prepares.Add(1)
				return fmt.Sprint(c.ID, " ", c.Closed, " ", c.Packets, " ", len(c.HTTP))
			},
			Prepared: func(c *facts.Connection, v any) {
				if s := fmt.Sprint(c.ID, " ", c.Closed, " ", c.Packets, " ", len(c.HTTP)); v != s {
					t.Errorf("Prepared got %v for connection %s", v, s)
				}
				got = append(got, v.(string))
			},
		}
		e := decode.Engine(decode.New(decode.Config{}, h))
		if n > 0 {
			e = decode.NewParallel(decode.Config{}, h, n)
		}
		e.SetCapture(path)
		for _, p := range pkts {
			e.Packet(p)
		}
		e.Flush()
		e.Close()
		if len(got) == 0 || prepares.Load() != int64(len(got)) {
			t.Fatalf("%d workers: %d Prepare calls, %d Prepared", n, prepares.Load(), len(got))
		}
		if n == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			t.Errorf("%d workers: %q, one Analyzer %q", n, got, want)
		}
	}
}

// TestCountsMatchTshark: each connection's packets and payload bytes per
// direction are tshark's for its TCP stream: every payload byte and every
// frame, those after the close included (the last ACK after the second
// FIN is the connection's, as tshark's conversations count it). Past its
// handshake a TLS connection is counted outside the reassembler, so this
// holds the two ways of counting to one independent count.
func TestCountsMatchTshark(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	files, _ := filepath.Glob(filepath.Join(testutil.Pcaps(t), "*.pcap"))
	if len(files) < 50 {
		t.Fatalf("only %d captures in testdata/pcaps", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(tshark, "-r", path, "-Y", "tcp", "-T", "fields",
				"-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
				"-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
				"-e", "tcp.len", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.flags.fin", "-e", "tcp.flags.reset").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			type count struct {
				client, server string
				packets, bytes [2]uint64
			}
			streams := map[string]*count{}
			var order []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Split(line, "\t")
				if len(f) != 12 {
					t.Fatalf("tshark line %q", line)
				}
				src, dst := net.JoinHostPort(f[1]+f[2], f[3]), net.JoinHostPort(f[4]+f[5], f[6])
				c := streams[f[0]]
				if c == nil {
					c = &count{client: src, server: dst}
					if f[8] == "1" && f[9] == "1" { // the SYN-ACK came first
						c.client, c.server = dst, src
					}
					streams[f[0]] = c
					order = append(order, f[0])
				}
				d := 0
				if src != c.client {
					d = 1
				}
				n, _ := strconv.ParseUint(f[7], 10, 64)
				c.packets[d]++
				c.bytes[d] += n
			}
			got, _ := analyze(t, path, decode.Config{})
			var checked int
			for _, id := range order {
				want := streams[id]
				if want.bytes[0]+want.bytes[1] == 0 {
					continue // no payload: not reported
				}
				c := got[want.client+" "+want.server]
				if c == nil {
					t.Errorf("tcp.stream %s (%s -> %s) not reported", id, want.client, want.server)
					continue
				}
				checked++
				if c.Packets != want.packets || c.Bytes != want.bytes {
					t.Errorf("%s -> %s (%s): packets %v bytes %v, tshark %v %v", want.client, want.server, c.Closed, c.Packets, c.Bytes, want.packets, want.bytes)
				}
			}
			if checked == 0 {
				t.Error("no connection checked")
			}
		})
	}
}
