package report

import (
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// Planted secrets: no format may print these unless ShowSecrets is set.
const (
	secretPassword = "hunter2-PLANTED-PASSWORD"
	secretCookie   = "PLANTEDCOOKIE0123456789abcdef"
)

func loadCert(t testing.TB) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile("testdata/server.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// testResult is a run over two captures built by hand: a TLS 1.2
// connection with a certificate, a TLS 1.0 handshake refused by an alert
// between long IPv6 addresses, FTP and HTTP in the clear carrying planted
// secrets, a resumed TLS 1.3 connection and a capture with anomalies.
func testResult(t testing.TB) *Result {
	cert := loadCert(t)
	c1 := &facts.Connection{
		ID: 1, Capture: "a.pcap", Client: ap("192.168.100.123:54321"), Server: ap("93.184.216.34:443"),
		First: at(0), Last: at(900), Packets: [2]uint64{10, 12}, Bytes: [2]uint64{1200, 5400},
		Protocol: "tls", Closed: "fin", StartSeen: true,
		TLS: &tls.Session{
			ClientHello: &tls.ClientHello{
				LegacyVersion: 0x0303, ServerName: "www.example.com",
				CipherSuites:      []uint16{0x0a0a, 0xc02f, 0xc030, 0x009c},
				ALPNProtocols:     []string{"h2", "http/1.1"},
				SupportedGroups:   []uint16{0x001d, 0x0017},
				SupportedVersions: nil,
			},
			ServerHello: &tls.ServerHello{LegacyVersion: 0x0303, CipherSuite: 0xc02f, ALPNProtocol: "h2"},
			Version:     0x0303, CipherSuite: 0xc02f, ALPN: "h2",
			Certificates: []*x509.Certificate{cert},
			KeyExchange:  &tls.KeyExchange{Kind: "ECDHE", NamedGroup: 0x001d, PublicKeyBits: 256},
			Established:  true, Start: at(10), EstablishedAt: at(60),
			AppData: [2]uint64{500, 4000},
		},
		Fingerprints: facts.Fingerprints{
			JA3: "d41d8cd98f00b204e9800998ecf8427e", JA3Full: "771,49199-49200-156,0-16,29-23,0",
			JA3S: "e35df3e00ca4ef31d42b34bebaa2f86e", JA3SFull: "771,49199,16",
			JA4: "t12d0304h2_6b1d6b4d5a3b_3c5e0c4fb2d9", JA4R: "t12d0304h2_009c,c02f,c030_0000,0010",
		},
	}
	c1.Certificates = []facts.Certificate{certs.Describe(cert)} // as decode describes them
	c2 := &facts.Connection{
		ID: 2, Capture: "a.pcap",
		Client: ap("[2001:db8:1234:5678:9abc:def0:1234:5678]:50000"), Server: ap("[2a00:1450:4001:82b:0:0:0:200e]:443"),
		First: at(1000), Last: at(1100), Packets: [2]uint64{3, 2}, Bytes: [2]uint64{200, 7},
		Protocol: "tls", Closed: "rst", StartSeen: true,
		TLS: &tls.Session{
			ClientHello: &tls.ClientHello{LegacyVersion: 0x0301, ServerName: "a-very-long-server-name.subdomain.example.org", CipherSuites: []uint16{0x002f, 0x000a}},
			Alerts:      []tls.Alert{{From: tls.ServerToClient, Level: 2, Description: 70, Time: at(1050)}},
			Start:       at(1010),
		},
		Fingerprints: facts.Fingerprints{JA4: "t10d020000_0f3a4d1b2c77_000000000000", JA3: "aaaabbbbccccddddeeeeffff00001111"},
	}
	c3 := &facts.Connection{
		ID: 3, Capture: "a.pcap", Client: ap("10.0.0.5:40000"), Server: ap("10.0.0.9:21"),
		First: at(2000), Last: at(3000), Packets: [2]uint64{6, 6}, Bytes: [2]uint64{60, 300},
		Protocol: "ftp", Closed: "fin", StartSeen: true,
		Secrets: []facts.Secret{{
			Kind: "plaintext-credentials", Protocol: "ftp", Type: "password", Field: "PASS", User: "alice",
			Masked: "h*****", Value: secretPassword, From: 0, Time: at(2500),
		}},
	}
	c4 := &facts.Connection{
		ID: 4, Capture: "a.pcap", Client: ap("10.0.0.5:40001"), Server: ap("10.0.0.10:80"),
		First: at(4000), Last: at(4200), Packets: [2]uint64{4, 4}, Bytes: [2]uint64{400, 1400},
		Protocol: "http", Closed: "fin", StartSeen: true,
		HTTP: []facts.HTTPMessage{{Time: at(4010), Method: "GET", Host: "intranet.example", Path: "/login?user=", Version: "HTTP/1.1", Status: 200, ContentType: "text/html", RequestBytes: 350, ResponseBytes: 1300, UserAgent: "curl/8.5.0"}},
		Secrets: []facts.Secret{{
			Kind: "plaintext-session-cookie", Protocol: "http", Type: "cookie", Field: "Cookie: sessionid",
			Masked: "PLAN…", Value: secretCookie, Time: at(4010), Method: "GET", Host: "intranet.example", Path: "/login",
		}},
	}
	c5 := &facts.Connection{
		ID: 5, Capture: "a.pcap", Client: ap("192.168.1.2:60000"), Server: ap("1.1.1.1:443"),
		First: at(5000), Last: at(6000), Packets: [2]uint64{8, 8}, Bytes: [2]uint64{900, 3000},
		Protocol: "tls", Closed: "end",
		TLS: &tls.Session{
			ClientHello: &tls.ClientHello{
				LegacyVersion: 0x0303, ServerName: "one.one.one.one", CipherSuites: []uint16{0x1301, 0x1302, 0x1303},
				SupportedVersions: []uint16{0x7a7a, 0x0304, 0x0303}, KeyShareGroups: []uint16{0x001d}, SupportedGroups: []uint16{0x001d, 0x0017},
				ALPNProtocols: []string{"h2"}, PreSharedKey: true,
			},
			ServerHello: &tls.ServerHello{LegacyVersion: 0x0303, SupportedVersion: 0x0304, CipherSuite: 0x1301, KeyShareGroup: 0x001d, PreSharedKey: true},
			Version:     0x0304, CipherSuite: 0x1301, ALPN: "h2", Resumed: true, Resumption: "psk", Hidden: true,
			Established: true, Start: at(5001), EstablishedAt: at(5030),
		},
		Fingerprints: facts.Fingerprints{JA4: "t13d0301h2_55b375c5d22e_000000000000", JA4R: "t13d0301h2_1301,1302,1303_", JA3: "0123456789abcdef0123456789abcdef"},
	}
	c6 := &facts.Connection{
		ID: 1, Capture: "dir/b.pcap", Client: ap("172.16.0.1:1234"), Server: ap("172.16.0.2:8443"),
		First: at(10000), Last: at(10500), Packets: [2]uint64{2, 1}, Bytes: [2]uint64{300, 0},
		Protocol: "tls", Closed: "idle", Gaps: 1,
		TLS: &tls.Session{
			ClientHello: &tls.ClientHello{LegacyVersion: 0x0303, ServerName: "www.example.com", CipherSuites: []uint16{0xc02f}},
			Start:       at(10001),
		},
		Fingerprints: facts.Fingerprints{JA4: "t12d0304h2_6b1d6b4d5a3b_3c5e0c4fb2d9", JA3: "d41d8cd98f00b204e9800998ecf8427e"},
	}
	fa := []facts.Finding{
		{ID: "cert-expired", Severity: facts.High, ConnID: 1, Capture: "a.pcap", Time: at(50), Client: c1.Client, Server: c1.Server, SNI: "www.example.com",
			Message: "server certificate has expired", Evidence: "notAfter=2026-12-29T02:59:54Z", Reference: "RFC 5280, 4.1.2.5", Step: facts.StepCertificate},
		{ID: "tls-version-deprecated", Severity: facts.Medium, ConnID: 2, Capture: "a.pcap", Time: at(1010), Client: c2.Client, Server: c2.Server, SNI: c2.TLS.ClientHello.ServerName,
			Message: "client offered TLS 1.0, deprecated by RFC 8996", Evidence: "legacy_version=0x0301", Reference: "https://www.rfc-editor.org/rfc/rfc8996", Step: facts.StepClientHello},
		{ID: "plaintext-credentials", Severity: facts.Critical, ConnID: 3, Capture: "a.pcap", Time: at(2500), Client: c3.Client, Server: c3.Server,
			Message: "FTP password sent in the clear", Evidence: "USER alice PASS h*****", Reference: "RFC 4217"},
		{ID: "plaintext-session-cookie", Severity: facts.High, ConnID: 4, Capture: "a.pcap", Time: at(4010), Client: c4.Client, Server: c4.Server,
			Message: "session cookie sent over HTTP", Evidence: "Cookie: sessionid=PLAN…", Reference: "https://owasp.org/www-community/controls/SecureCookieAttribute", Step: facts.StepHTTP},
		{ID: "tls13-resumption-psk", Severity: facts.Info, ConnID: 5, Capture: "a.pcap", Time: at(5030), Client: c5.Client, Server: c5.Server, SNI: "one.one.one.one",
			Message: "session resumed with a PSK", Step: facts.StepServerHello},
	}
	fb := []facts.Finding{
		{ID: "handshake-incomplete", Severity: facts.Low, ConnID: 1, Capture: "dir/b.pcap", Time: at(10500), Client: c6.Client, Server: c6.Server, SNI: "www.example.com",
			Message: "handshake did not complete", Evidence: "=cmd|' /C calc'!A0"},
	}
	return &Result{
		Tool: "tlsscope", Version: "v0.0.0-test",
		Rules: []rules.Definition{
			{ID: "cert-expired", Severity: facts.High, Title: "Server certificate expired", Help: "The server presented a certificate whose notAfter is before the check time.", Reference: "https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5"},
			{ID: "plaintext-credentials", Severity: facts.Critical, Title: "Credentials in cleartext", Help: "A password crossed the network unencrypted.", Reference: "RFC 4217"},
			{ID: "plaintext-session-cookie", Severity: facts.High, Title: "Session cookie in cleartext", Help: "A session cookie crossed the network unencrypted.", Reference: "https://www.rfc-editor.org/rfc/rfc6265#section-8.3"},
			{ID: "tls-version-deprecated", Severity: facts.Medium, Title: "Deprecated TLS version", Help: "TLS 1.0 and 1.1 are deprecated.", Reference: "https://www.rfc-editor.org/rfc/rfc8996"},
			{ID: "handshake-incomplete", Severity: facts.Low, Title: "Handshake incomplete", Help: "The handshake did not finish."},
			{ID: "tls13-resumption-psk", Severity: facts.Info, Title: "TLS 1.3 PSK resumption", Help: "The session was resumed."},
		},
		Captures: []*Capture{
			{
				Name: "a.pcap",
				Stats: facts.Stats{Files: 1, Packets: 71, Bytes: 20000, Connections: 5, Truncated: 1, First: at(0), Last: at(6000),
					Anomalies: map[string]uint64{"tls_record_too_long": 1}},
				Connections: []*facts.Connection{c1, c2, c3, c4, c5},
				Findings:    fa,
				Anomalies:   []facts.Anomaly{{Kind: "tls_record_too_long", Time: at(1020), ConnID: 2, Client: c2.Client, Server: c2.Server, Offset: 517, Detail: "record length 20000", Capture: "a.pcap"}},
			},
			{
				Name: "dir/b.pcap",
				Stats: facts.Stats{Files: 1, Packets: 3, Bytes: 500, Connections: 1, Gaps: 1, Evicted: 0, First: at(10000), Last: at(10500),
					Anomalies: map[string]uint64{"tcp_gap": 1}},
				Connections: []*facts.Connection{c6},
				Findings:    fb,
				Anomalies:   []facts.Anomaly{{Kind: "tcp_gap", Time: at(10200), ConnID: 1, Client: c6.Client, Server: c6.Server, Offset: 300, Capture: "dir/b.pcap"}},
			},
		},
	}
}
