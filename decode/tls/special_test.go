package tls

import (
	"crypto/sha1"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// corpusConns runs every TLS stream of one corpus capture through a Conn.
func corpusConns(t *testing.T, rel string) ([]*Conn, []string) {
	t.Helper()
	pcap := filepath.Join(testutil.Corpus(t), rel)
	var out []*Conn
	var anomalies []string
	for _, s := range followStreams(t, pcap) {
		if len(s.segs) == 0 {
			continue
		}
		out = append(out, s.run(t, &anomalies))
	}
	if len(out) == 0 {
		t.Fatalf("%s: no TLS stream", rel)
	}
	return out, anomalies
}

// tsharkField returns one field of the frames matching a display filter,
// one row per frame, values split on commas.
func tsharkField(t *testing.T, rel, filter, field string) [][]string {
	t.Helper()
	tshark := testutil.Tool(t, "tshark")
	out, err := exec.Command(tshark, "-r", filepath.Join(testutil.Corpus(t), rel), "-Y", filter,
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", field).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, ","))
		}
	}
	return rows
}

func hexValues(t *testing.T, vs []string) []uint32 {
	var out []uint32
	for _, v := range vs {
		n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 32)
		if err != nil {
			t.Fatalf("bad tshark value %q", v)
		}
		out = append(out, uint32(n))
	}
	return out
}

func TestHelloRetryRequestRecognised(t *testing.T) {
	// zeek hrr.pcap: CH, HRR, CH2, SH (INDEX: tshark 2 CH / 2 SH).
	conns, _ := corpusConns(t, "zeek/testing/btest/Traces/tls/hrr.pcap")
	s := conns[0].Session()
	if s.HelloRetry == nil || !s.HelloRetry.HelloRetryRequest {
		t.Fatal("HelloRetryRequest not recognised")
	}
	// RFC 8446, 4.1.3: the HRR's random is SHA-256("HelloRetryRequest").
	if hex.EncodeToString(s.HelloRetry.Random) != "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c" {
		t.Errorf("HRR random %x", s.HelloRetry.Random)
	}
	if s.FirstClientHello == nil || s.ClientHello == nil || s.FirstClientHello == s.ClientHello {
		t.Fatal("both ClientHellos should be kept")
	}
	// RFC 8446, 4.1.4: the HRR asks for a group the first hello sent no
	// share for, and the second hello sends exactly that share.
	g := s.HelloRetry.KeyShareGroup
	if slices.Contains(s.FirstClientHello.KeyShareGroups, g) || !slices.Contains(s.ClientHello.KeyShareGroups, g) {
		t.Errorf("HRR group %s; first hello shares %v, second %v", GroupName(g), s.FirstClientHello.KeyShareGroups, s.ClientHello.KeyShareGroups)
	}
	if s.ServerHello == nil || s.ServerHello.HelloRetryRequest {
		t.Fatal("the real ServerHello is missing")
	}
	if s.Version != VersionTLS13 || !s.Hidden || !s.Established {
		t.Errorf("version %s hidden %v established %v", VersionName(s.Version), s.Hidden, s.Established)
	}
	// tshark's chosen suite in the last ServerHello.
	rows := tsharkField(t, "zeek/testing/btest/Traces/tls/hrr.pcap", "tls.handshake.type==2", "tls.handshake.ciphersuite")
	if want := hexValues(t, rows[len(rows)-1]); uint32(s.CipherSuite) != want[0] {
		t.Errorf("suite %s, tshark 0x%04x", CipherSuiteName(s.CipherSuite), want[0])
	}
}

func TestTLS13PSKResumption(t *testing.T) {
	conns, _ := corpusConns(t, "zeek/testing/btest/Traces/tls/tls13_psk_succesfull.pcap")
	s := conns[0].Session()
	if !s.Resumed || s.Resumption != "psk" {
		t.Errorf("resumed %v %q, want psk", s.Resumed, s.Resumption)
	}
	if !s.ClientHello.PreSharedKey || !s.ServerHello.PreSharedKey {
		t.Error("pre_shared_key not seen in both hellos")
	}
	if len(s.Certificates) != 0 || !s.Hidden || s.Version != VersionTLS13 {
		t.Errorf("certs %d hidden %v version %s", len(s.Certificates), s.Hidden, VersionName(s.Version))
	}
	if !conns[0].Done() {
		t.Error("Done() false after an established TLS 1.3 session")
	}
}

func TestSSLv2HelloPair(t *testing.T) {
	rel := "zeek/testing/btest/Traces/tls/ssl-v2.pcap"
	conns, _ := corpusConns(t, rel)
	s := conns[0].Session()
	ch := s.ClientHello
	if ch == nil || !ch.SSLv2 || ch.LegacyVersion != VersionSSL20 {
		t.Fatalf("SSLv2 CLIENT-HELLO not read: %+v", ch)
	}
	// tshark's SSLv2 cipher specs of the CLIENT-HELLO (frame type 1).
	want := hexValues(t, tsharkField(t, rel, "tls.handshake.type==1", "tls.handshake.cipherspec")[0])
	if !slices.Equal(ch.SSLv2CipherKinds, want) {
		t.Errorf("kinds %x, tshark %x", ch.SSLv2CipherKinds, want)
	}
	if ch.SSLv2OnlyKinds != len(want) || len(ch.CipherSuites) != 0 {
		t.Errorf("%d SSLv2-only kinds, %d TLS suites; all %d are SSLv2-only", ch.SSLv2OnlyKinds, len(ch.CipherSuites), len(want))
	}
	if s.ServerHello == nil || s.ServerHello.LegacyVersion != VersionSSL20 || s.Version != VersionSSL20 {
		t.Fatalf("SSLv2 SERVER-HELLO not recognised: %+v", s.ServerHello)
	}
	// The session's cipher kind is the one the client chose in its
	// CLIENT-MASTER-KEY (SSLv2 msg_type 2, frame 8).
	cmk := hexValues(t, tsharkField(t, rel, "tls.handshake.type==2", "tls.handshake.cipherspec")[0])
	if len(cmk) != 1 || s.ServerHello.SSLv2CipherKind != cmk[0] {
		t.Errorf("session kind 0x%06x, tshark's CLIENT-MASTER-KEY %06x", s.ServerHello.SSLv2CipherKind, cmk)
	}
	// Encrypted records flow both ways after it (frames 9-11: the
	// CLIENT-FINISHED, SERVER-VERIFY and SERVER-FINISHED; then data).
	if !conns[0].Done() || !s.Established || s.AppData[ClientToServer] == 0 || s.AppData[ServerToClient] == 0 {
		t.Errorf("SSLv2 session: done %v established %v, application data %v", conns[0].Done(), s.Established, s.AppData)
	}
}

func TestSSLv2CompatibleHelloUpgradesToTLS(t *testing.T) {
	rel := "suricata-verify/tests/sslv2-tls-upgrade-01/ssl-v2-s1.pcap"
	conns, _ := corpusConns(t, rel)
	s := conns[0].Session()
	ch := s.ClientHello
	if ch == nil || !ch.SSLv2 {
		t.Fatal("SSLv2-compatible ClientHello not read")
	}
	kinds := hexValues(t, tsharkField(t, rel, "tls.handshake.cipherspec", "tls.handshake.cipherspec")[0])
	var suites []uint16
	only := 0
	for _, k := range kinds {
		if k>>16 == 0 {
			suites = append(suites, uint16(k))
		} else {
			only++
		}
	}
	if !slices.Equal(ch.CipherSuites, suites) || ch.SSLv2OnlyKinds != only {
		t.Errorf("suites %x (+%d SSLv2-only), from tshark's kinds %x (+%d)", ch.CipherSuites, ch.SSLv2OnlyKinds, suites, only)
	}
	// suricata-verify test.yaml: tls.version TLSv1, serial 55, fingerprint.
	if s.Version != VersionTLS10 {
		t.Errorf("version %s, suricata TLSv1", VersionName(s.Version))
	}
	if len(s.Certificates) != 1 {
		t.Fatalf("%d certificates, suricata 1", len(s.Certificates))
	}
	c := s.Certificates[0]
	sum := sha1.Sum(c.Raw)
	if c.SerialNumber.Text(16) != "55" || hex.EncodeToString(sum[:]) != "8c90bd2ab3aee60bd0eab786b01ae4b1cc57ef22" {
		t.Errorf("certificate serial %s sha1 %x", c.SerialNumber.Text(16), sum)
	}
	if !s.Established {
		t.Error("not established")
	}
}

func TestHandshakeFailureAlert(t *testing.T) {
	// Zeek baseline ssl.log: last_alert handshake_failure, established F.
	conns, _ := corpusConns(t, "zeek/testing/btest/Traces/tls/tls-1.2-handshake-failure.pcap")
	c := conns[0]
	s := c.Session()
	if len(s.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(s.Alerts))
	}
	a := s.Alerts[0]
	if a.Encrypted || a.From != ServerToClient || a.Level != AlertLevelFatal || AlertName(a.Description) != "handshake_failure" {
		t.Errorf("alert %+v", a)
	}
	if s.Established || s.ServerHello != nil || !c.Done() {
		t.Errorf("established %v, ServerHello %v, done %v", s.Established, s.ServerHello != nil, c.Done())
	}
}

func TestClientCertificateRequested(t *testing.T) {
	rel := "zeek/testing/btest/Traces/tls/client-certificate.pcap"
	conns, _ := corpusConns(t, rel)
	s := conns[0].Session()
	if !s.CertificateRequested || !s.ClientCertSent {
		t.Errorf("requested %v sent %v", s.CertificateRequested, s.ClientCertSent)
	}
	// tshark: certificate_list lengths per Certificate message, server's first.
	rows := tsharkField(t, rel, "tls.handshake.type==11", "tls.handshake.certificate_length")
	if len(rows) != 2 {
		t.Fatalf("tshark shows %d Certificate messages", len(rows))
	}
	if len(s.Certificates) != len(rows[0]) || len(s.ClientCertificates) != len(rows[1]) {
		t.Errorf("server chain %d, client chain %d; tshark %d and %d", len(s.Certificates), len(s.ClientCertificates), len(rows[0]), len(rows[1]))
	}
	if !s.Established || !s.ClientKeyExchange || !s.ServerHelloDone {
		t.Errorf("established %v cke %v shd %v", s.Established, s.ClientKeyExchange, s.ServerHelloDone)
	}
}

func TestSessionIDAndTicketResumption(t *testing.T) {
	// suricata tls-cert-issuer: tshark shows 5 ServerHellos and 4
	// Certificate messages: one session is resumed.
	rel := "suricata-verify/tests/tls/tls-cert-issuer/tls.pcap"
	conns, _ := corpusConns(t, rel)
	resumed := 0
	for _, c := range conns {
		s := c.Session()
		if s.Resumed {
			resumed++
			if len(s.Certificates) != 0 || s.Resumption == "" {
				t.Errorf("resumed session with %d certificates, resumption %q", len(s.Certificates), s.Resumption)
			}
		}
	}
	sh := len(tsharkField(t, rel, "tls.handshake.type==2", "frame.number"))
	cert := len(tsharkField(t, rel, "tls.handshake.type==11", "frame.number"))
	if resumed != sh-cert {
		t.Errorf("%d resumed, tshark: %d ServerHellos, %d Certificates", resumed, sh, cert)
	}
}

// TestSSLv2SwitchMidHeader: client bytes that began a 5-byte TLS record
// header before the SSLv2 SERVER-HELLO switched the framing (a pipelining
// or hostile client) do not take an SSLv2 header past its 3 bytes: the
// rest of the session is read without a panic.
func TestSSLv2SwitchMidHeader(t *testing.T) {
	streams := followStreams(t, filepath.Join(testutil.Corpus(t), "zeek/testing/btest/Traces/tls/ssl-v2.pcap"))
	if len(streams) != 1 {
		t.Fatalf("%d streams", len(streams))
	}
	s := streams[0]
	var client, server [][]byte
	for _, g := range s.segs {
		if g.from == ClientToServer {
			client = append(client, g.data)
		} else {
			server = append(server, g.data)
		}
	}
	if len(client) < 2 || len(server) < 1 {
		t.Fatalf("%d client and %d server segments", len(client), len(server))
	}
	c := NewConn(Limits{}, nil)
	c.Feed(ClientToServer, client[0], t0)                      // the CLIENT-HELLO
	c.Feed(ClientToServer, []byte{0x16, 0x03, 0x01, 0x00}, t0) // 4 bytes of a TLS header
	for _, b := range server {
		c.Feed(ServerToClient, b, t0)
	}
	for _, b := range client[1:] {
		c.Feed(ClientToServer, b, t0)
	}
	if sh := c.Session().ServerHello; sh == nil || c.Session().Version != VersionSSL20 {
		t.Fatalf("SSLv2 SERVER-HELLO not read: %+v", sh)
	}
}
