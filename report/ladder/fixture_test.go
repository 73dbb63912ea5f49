package ladder

import (
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// plantedPassword must never be printed unless ShowSecrets is set.
const plantedPassword = "hunter2-PLANTED-PASSWORD"

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func at(us int) time.Time { return t0.Add(time.Duration(us) * time.Microsecond) }

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func loadCert(t testing.TB) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "server.pem"))
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

// fixtureTLS12 is a hand-made TLS 1.2 handshake with a certificate and a
// finding on it, for tests of layout (real captures drive the rest).
func fixtureTLS12(t testing.TB) (*facts.Connection, []facts.Finding) {
	cert := loadCert(t)
	s := &tls.Session{
		ClientHello: &tls.ClientHello{LegacyVersion: 0x0303, ServerName: "www.example.com",
			CipherSuites: []uint16{0x0a0a, 0xc02f, 0xc030}, ALPNProtocols: []string{"h2", "http/1.1"}},
		ServerHello: &tls.ServerHello{LegacyVersion: 0x0303, CipherSuite: 0xc02f, ALPNProtocol: "h2"},
		Version:     0x0303, CipherSuite: 0xc02f, ALPN: "h2",
		Certificates: []*x509.Certificate{cert},
		KeyExchange:  &tls.KeyExchange{Kind: "ECDHE", NamedGroup: 0x001d, PublicKeyBits: 256},
		Established:  true, Start: at(100), ServerHelloAt: at(1100), EstablishedAt: at(3100), FirstAppDataAt: at(3200),
		AppData: [2]uint64{500, 4000},
		Events: []tls.Event{
			{Time: at(100), From: 0, Content: 22, Handshake: 1},
			{Time: at(1100), From: 1, Content: 22, Handshake: 2},
			{Time: at(1100), From: 1, Content: 22, Handshake: 11},
			{Time: at(1100), From: 1, Content: 22, Handshake: 12},
			{Time: at(1100), From: 1, Content: 22, Handshake: 14},
			{Time: at(2000), From: 0, Content: 22, Handshake: 16},
			{Time: at(2000), From: 0, Content: 20},
			{Time: at(2000), From: 0, Content: 22, Encrypted: true},
			{Time: at(3100), From: 1, Content: 20},
			{Time: at(3100), From: 1, Content: 22, Encrypted: true},
			{Time: at(3200), From: 0, Content: 23, Encrypted: true, Length: 100},
		},
	}
	c := &facts.Connection{ID: 7, Capture: "fixture.pcap", Client: ap("192.168.1.10:50000"), Server: ap("93.184.216.34:443"),
		First: at(0), Last: at(9000), Protocol: "tls", TLS: s,
		Certificates: []facts.Certificate{certs.Describe(cert)}} // as decode describes them
	fs := []facts.Finding{
		{ID: "cert-expired", Severity: facts.High, ConnID: 7, Capture: "fixture.pcap", Message: "server certificate has expired", Evidence: "notAfter=2026-10-01", Step: facts.StepCertificate},
		{ID: "weak-thing", Severity: facts.Low, ConnID: 7, Capture: "fixture.pcap", Message: "something about the connection"},
		{ID: "other-connection", Severity: facts.Critical, ConnID: 8, Capture: "fixture.pcap", Step: facts.StepCertificate},
	}
	return c, fs
}

// fixtureHTTP is a cleartext login with a planted password.
func fixtureHTTP() (*facts.Connection, []facts.Finding) {
	c := &facts.Connection{ID: 3, Capture: "fixture.pcap", Client: ap("10.0.0.5:40001"), Server: ap("10.0.0.10:80"),
		First: at(0), Last: at(5000), Protocol: "http",
		HTTP: []facts.HTTPMessage{{Time: at(1000), Method: "POST", Host: "intranet.example", Path: "/login", Version: "HTTP/1.1",
			Status: 302, ContentType: "text/html", RequestBytes: 350, ResponseBytes: 120, UserAgent: "curl/7.88.1"}},
		Secrets: []facts.Secret{{Kind: "plaintext-credentials", Protocol: "http", Type: "password-field", Field: "password",
			User: "alice", Masked: "h******", Value: plantedPassword, Time: at(1000), Method: "POST", Host: "intranet.example", Path: "/login"}},
	}
	fs := []facts.Finding{{ID: "plaintext-credentials", Severity: facts.Critical, ConnID: 3, Capture: "fixture.pcap", Time: at(1000),
		Message: "password sent in the clear over HTTP", Evidence: "password=h******", Step: facts.StepHTTP}}
	return c, fs
}
