package decode_test

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// tsharkRecords sums, per TCP conversation and direction ("src dst"), the
// lengths of the application_data records tshark dissects, and counts the
// alert records; without a key log, so a TLS 1.2 record's type is the
// one on the wire. lost names the conversations where tshark saw a
// segment missing: it then leaves the retransmission that fills the hole
// undissected, whose records this program reads, so they are not compared
// (ssl.v3.pcap's last alert, browsers-x509.pcapng's two records).
func tsharkRecords(t *testing.T, tshark, path string) (appData map[string]uint64, alerts map[string]int, lost map[string]bool) {
	t.Helper()
	out, err := exec.Command(tshark, "-r", path, "-o", "tls.keylog_file:", "-Y", "tls.record || tcp.analysis.lost_segment",
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
		"-e", "tls.record.content_type", "-e", "tls.record.length", "-e", "tcp.analysis.lost_segment").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	appData, alerts, lost = map[string]uint64{}, map[string]int{}, map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 9 || f[2] == "" {
			continue
		}
		src, dst := f[0]+f[1], f[3]+f[4]
		sa, err1 := netip.ParseAddr(src)
		da, err2 := netip.ParseAddr(dst)
		sp, err3 := strconv.ParseUint(f[2], 10, 16)
		dp, err4 := strconv.ParseUint(f[5], 10, 16)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			continue // a tunnelled frame's several addresses: not compared
		}
		key := netip.AddrPortFrom(sa, uint16(sp)).String() + " " + netip.AddrPortFrom(da, uint16(dp)).String()
		if f[8] != "" {
			lost[key] = true
		}
		types, lengths := strings.Split(f[6], ","), strings.Split(f[7], ",")
		if len(types) != len(lengths) {
			continue // an SSLv2 record has no content type
		}
		for i, typ := range types {
			n, _ := strconv.ParseUint(lengths[i], 10, 32)
			switch typ {
			case "23":
				appData[key] += n
			case "21":
				alerts[key]++
			}
		}
	}
	return appData, alerts, lost
}

// TestAppDataMatchesTshark: on every TLS 1.0-1.2 connection that completed
// its handshake without a gap, the application data counted each way (the
// records' lengths, read after the handshake from segments that no longer
// go through the reassembler) and the number of alerts are tshark's.
func TestAppDataMatchesTshark(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	checked := testutil.MinCompared(t, 60, "TLS 1.2 connections' application data")
	withData := 0
	for _, path := range captures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got, _ := analyze(t, path, decode.Config{})
			var app map[string]uint64
			var alerts map[string]int
			var lost map[string]bool
			for key, c := range got {
				s := c.TLS
				if s == nil || !s.Established || s.Version < tls.VersionTLS10 || s.Version > tls.VersionTLS12 || c.Gaps > 0 || s.Decryption.Status != "" {
					continue
				}
				if app == nil {
					app, alerts, lost = tsharkRecords(t, tshark, path)
				}
				ends := strings.Fields(key)
				cs, sc := ends[0]+" "+ends[1], ends[1]+" "+ends[0]
				if lost[cs] || lost[sc] {
					continue
				}
				want := [2]uint64{app[cs], app[sc]}
				if s.AppData != want {
					t.Errorf("%s: application data %v bytes (client, server), tshark %v", key, s.AppData, want)
				}
				if n := len(s.Alerts); n != alerts[cs]+alerts[sc] {
					t.Errorf("%s: %d alerts, tshark %d", key, n, alerts[cs]+alerts[sc])
				}
				checked.Add(1)
				if want[0] > 0 && want[1] > 0 {
					withData++
				}
			}
		})
	}
	if withData < 20 {
		t.Errorf("only %d connections with application data both ways", withData)
	}
}

// TestSSLv2Session: zeek's ssl-v2.pcap, an SSL 2.0 session from hellos to
// data. tshark names the cipher kind of the CLIENT-MASTER-KEY (0x0700c0)
// and the seven cipher specs of the CLIENT-HELLO; encrypted records then
// flow both ways (frames 9-18), so the session was established.
func TestSSLv2Session(t *testing.T) {
	path := filepath.Join(testutil.Corpus(t), "zeek/testing/btest/Traces/tls/ssl-v2.pcap")
	got, _ := analyze(t, path, decode.Config{})
	c := got["192.168.4.149:59062 91.227.4.92:443"]
	if c == nil || c.TLS == nil || c.TLS.ServerHello == nil {
		t.Fatalf("no SSL 2.0 session: %s", keys(got))
	}
	s := c.TLS
	if name, id := s.Cipher(); id != 0x0700c0 || name != "SSL_CK_DES_192_EDE3_CBC_WITH_MD5" {
		t.Errorf("cipher %s (%#06x), tshark SSL2_DES_192_EDE3_CBC_WITH_MD5 (0x0700c0)", name, id)
	}
	wantSpecs := []uint32{0x0700c0, 0x050080, 0x030080, 0x010080, 0x060040, 0x040080, 0x020080}
	if !slices.Equal(s.ClientHello.SSLv2CipherKinds, wantSpecs) {
		t.Errorf("cipher specs %06x, tshark %06x", s.ClientHello.SSLv2CipherKinds, wantSpecs)
	}
	if n := len(s.ClientHello.OfferedSuites()); n != len(wantSpecs) {
		t.Errorf("%d suites offered, tshark %d cipher specs", n, len(wantSpecs))
	}
	if !s.Established || c.HandshakeOutcome().String() != "ok" {
		t.Errorf("established %v, outcome %q; encrypted records flowed both ways", s.Established, c.HandshakeOutcome())
	}
	// Frames 13, 15 and 17 (27 bytes each, a 3-byte header) and 18 (330,
	// a 2-byte header) after the handshake's three encrypted records.
	if want := [2]uint64{3 * 24, 328}; s.AppData != want {
		t.Errorf("application data %v, want %v", s.AppData, want)
	}
}

// TestHeldSegmentsLetGo: on captures whose segments come out of order
// after the handshake (mangle), bypassed streams hold some while they wait
// for the bytes in front, and once the input is over nothing is held:
// Analyzer.heldBytes, which maxHeldTotal bounds, comes back to zero.
func TestHeldSegmentsLetGo(t *testing.T) {
	corpus := testutil.Corpus(t)
	maxHeld := 0
	for _, name := range []string{"zeek/testing/btest/Traces/tls/ecdhe.pcap", "zeek/testing/btest/Traces/tls/tls1.2.pcap", "ja4/pcap/latest.pcapng"} {
		for seed := int64(1); seed <= 3; seed++ {
			mangled := filepath.Join(t.TempDir(), "mangled.pcap")
			mangle(t, filepath.Join(corpus, name), mangled, seed)
			a := decode.New(decode.Config{}, decode.Handler{})
			for _, p := range decode.ReadCapture(t, mangled) {
				a.Packet(p)
				maxHeld = max(maxHeld, a.HeldBytes())
			}
			a.Flush()
			if n := a.HeldBytes(); n != 0 {
				t.Errorf("%s seed %d: %d bytes still held after Flush", name, seed, n)
			}
		}
	}
	if maxHeld == 0 {
		t.Error("no segment was ever held: the mangled captures did not reach the bypassed path out of order")
	}
	t.Logf("at most %d bytes held at once", maxHeld)
}
