package facts_test

import (
	"net/netip"
	"testing"

	"github.com/tlsscope/tlsscope/decode/cleartext"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// TestStepNames: each step prints the name NDJSON has always carried, and
// the handshake steps name their RFC 8446 HandshakeType.
func TestStepNames(t *testing.T) {
	for _, tc := range []struct {
		step      facts.Step
		name      string
		handshake uint8 // 0: not a handshake message
	}{
		{facts.StepNone, "", 0},
		{facts.StepClientHello, "client_hello", 1},
		{facts.StepServerHello, "server_hello", 2},
		{facts.StepHelloRetryRequest, "hello_retry_request", 0},
		{facts.StepNewSessionTicket, "new_session_ticket", 4},
		{facts.StepCertificate, "certificate", 11},
		{facts.StepServerKeyExchange, "server_key_exchange", 12},
		{facts.StepCertificateRequest, "certificate_request", 13},
		{facts.StepClientKeyExchange, "client_key_exchange", 16},
		{facts.StepAlert, "alert", 0},
		{facts.StepCleartext, "cleartext", 0},
	} {
		h, ok := tc.step.Handshake()
		if tc.step.String() != tc.name || ok != (tc.handshake != 0) || h != tc.handshake {
			t.Errorf("step %d: %q, handshake %d %v; want %q, %d", tc.step, tc.step, h, ok, tc.name, tc.handshake)
		}
		if ok && tls.HandshakeTypeName(h) == "" {
			t.Errorf("%s: handshake type %d has no name in decode/tls", tc.step, h)
		}
	}
}

// TestProtocolStep: every protocol decode/cleartext recognises has a step
// of its own name; an unnamed protocol is StepCleartext.
func TestProtocolStep(t *testing.T) {
	protos := []cleartext.Protocol{cleartext.HTTP, cleartext.FTP, cleartext.SMTP, cleartext.POP3, cleartext.IMAP, cleartext.Telnet, cleartext.LDAP}
	seen := map[facts.Step]bool{}
	for _, p := range protos {
		s := facts.ProtocolStep(string(p))
		if s.String() != string(p) || s == facts.StepCleartext || seen[s] {
			t.Errorf("%s: step %d %q", p, s, s)
		}
		seen[s] = true
	}
	if len(seen) != len(protos) {
		t.Errorf("%d distinct steps for %d protocols", len(seen), len(protos))
	}
	if s := facts.ProtocolStep(""); s != facts.StepCleartext {
		t.Errorf(`ProtocolStep(""): %q`, s)
	}
}

// TestFindingFingerprint: the value policy files and SARIF logs already
// hold (report's TestGolden pins the SARIF one) comes from the id, server,
// SNI and evidence only.
func TestFindingFingerprint(t *testing.T) {
	f := facts.Finding{ID: "cert-expired", Server: netip.MustParseAddrPort("192.0.2.1:443"), SNI: "www.example.com", Evidence: "notAfter=2020-01-01"}
	g := f
	g.Capture, g.ConnID, g.Severity, g.Message = "other.pcap", 9, facts.Critical, "other"
	if fp := f.Fingerprint(); len(fp) != 32 || fp != g.Fingerprint() {
		t.Errorf("fingerprint %q / %q", fp, g.Fingerprint())
	}
	g.Evidence = "notAfter=2020-01-02"
	if f.Fingerprint() == g.Fingerprint() {
		t.Error("evidence does not change the fingerprint")
	}
}
