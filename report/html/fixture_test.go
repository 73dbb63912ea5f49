package html

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
	"github.com/tlsscope/tlsscope/report"
)

// Planted secrets: the report must never contain them unless ShowSecrets.
const (
	plantedPassword = "hunter2-PLANTED-PASSWORD"
	plantedCookie   = "PLANTEDCOOKIE0123456789abcdef"
)

var t0 = time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

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

// fixture is a hand-made run: a TLS 1.2 connection whose certificate
// (report/testdata/server.pem, notAfter 2026-12-29) is 9 days from expiry,
// a handshake refused with an alert, a cleartext login carrying planted
// secrets, and hostile text in an SNI.
func fixture(t testing.TB) *report.Result {
	cert := loadCert(t)
	c1 := &facts.Connection{ID: 1, Capture: "a.pcap", Client: ap("192.168.1.10:50000"), Server: ap("93.184.216.34:443"),
		First: at(0), Last: at(900), Protocol: "tls",
		TLS: &tls.Session{
			ClientHello: &tls.ClientHello{LegacyVersion: 0x0303, ServerName: "www.example.com", CipherSuites: []uint16{0xc02f, 0xc030}},
			ServerHello: &tls.ServerHello{LegacyVersion: 0x0303, CipherSuite: 0xc02f},
			Version:     0x0303, CipherSuite: 0xc02f, Certificates: []*x509.Certificate{cert},
			Established: true, Start: at(1), EstablishedAt: at(5),
			Events: []tls.Event{{Time: at(1), Content: 22, Handshake: 1}, {Time: at(2), From: 1, Content: 22, Handshake: 2}, {Time: at(2), From: 1, Content: 22, Handshake: 11}},
		}}
	c1.Certificates = []facts.Certificate{certs.Describe(cert)} // as decode describes them
	c2 := &facts.Connection{ID: 2, Capture: "a.pcap", Client: ap("10.0.0.7:40000"), Server: ap("10.0.0.8:443"),
		First: at(1000), Last: at(1100), Protocol: "tls",
		TLS: &tls.Session{
			ClientHello: &tls.ClientHello{LegacyVersion: 0x0301, ServerName: "legacy.example.net", CipherSuites: []uint16{0x002f}},
			Alerts:      []tls.Alert{{From: 1, Level: 2, Description: 40, Time: at(1050)}},
			Start:       at(1010),
			Events:      []tls.Event{{Time: at(1010), Content: 22, Handshake: 1}, {Time: at(1050), From: 1, Content: 21}},
		}}
	c3 := &facts.Connection{ID: 3, Capture: "a.pcap", Client: ap("10.0.0.5:40001"), Server: ap("10.0.0.10:80"),
		First: at(2000), Last: at(2200), Protocol: "http",
		HTTP: []facts.HTTPMessage{{Time: at(2010), Method: "POST", Host: "intranet.example", Path: "/login", Version: "HTTP/1.1", Status: 200}},
		Secrets: []facts.Secret{
			{Kind: "plaintext-credentials", Protocol: "http", Type: "password-field", Field: "password", User: "alice", Masked: "h******", Value: plantedPassword, Time: at(2010)},
			{Kind: "plaintext-session-cookie", Protocol: "http", Type: "cookie", Field: "Cookie: sid", Masked: "PLAN…", Value: plantedCookie, Time: at(2010)},
		}}
	c4 := &facts.Connection{ID: 4, Capture: "a.pcap", Client: ap("10.0.0.5:40002"), Server: ap("10.0.0.11:443"),
		First: at(3000), Last: at(3100), Protocol: "tls",
		TLS: &tls.Session{ClientHello: &tls.ClientHello{LegacyVersion: 0x0303, ServerName: "<script src=\"https://evil.example/x.js\"></script>\x1b[2J\r"}, Start: at(3000)}}
	fs := []facts.Finding{
		{ID: "cert-expiring-soon", Severity: facts.Medium, ConnID: 1, Capture: "a.pcap", Time: at(2), Server: c1.Server, SNI: "www.example.com",
			Message: "certificate expires in 9 days", Evidence: "notAfter=2026-12-29", Reference: "RFC 5280, 4.1.2.5", Step: facts.StepCertificate},
		{ID: "handshake-failed", Severity: facts.Low, ConnID: 2, Capture: "a.pcap", Time: at(1050), Server: c2.Server, SNI: "legacy.example.net",
			Message: "server refused the handshake: handshake_failure", Step: facts.StepAlert},
		{ID: "plaintext-credentials", Severity: facts.Critical, ConnID: 3, Capture: "a.pcap", Time: at(2010), Server: c3.Server,
			Message: "password sent in the clear", Evidence: "password=h******", Reference: "https://owasp.org/Top10/A02_2021-Cryptographic_Failures/", Step: facts.StepHTTP},
	}
	return &report.Result{Tool: "tlsscope", Version: "test", Captures: []*report.Capture{{
		Name: "a.pcap", Stats: facts.Stats{Files: 1, Packets: 40, First: at(0), Last: at(3100)},
		Connections: []*facts.Connection{c1, c2, c3, c4}, Findings: fs,
	}}}
}

func reportOptions() report.Options { return report.Options{} }
