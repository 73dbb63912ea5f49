package rules

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// handshake12 is a complete, clean TLS 1.2 handshake with a suite.
func handshake12(suite uint16) *facts.Connection {
	return &facts.Connection{
		ID:     1,
		Client: netip.MustParseAddrPort("192.0.2.1:50000"),
		Server: netip.MustParseAddrPort("192.0.2.2:443"),
		First:  t0, Last: t0.Add(time.Second), Closed: "fin", StartSeen: true, Protocol: "tls",
		TLS: &tls.Session{
			ClientHello: &tls.ClientHello{LegacyVersion: tls.VersionTLS12, ServerName: "www.example.com",
				CipherSuites: []uint16{suite}, CompressionMethods: []uint8{0}, RenegotiationInfo: true},
			ServerHello:   &tls.ServerHello{LegacyVersion: tls.VersionTLS12, CipherSuite: suite, RenegotiationInfo: true},
			Version:       tls.VersionTLS12,
			CipherSuite:   suite,
			Established:   true,
			Finished:      [2]bool{true, true},
			Start:         t0,
			ServerHelloAt: t0.Add(10 * time.Millisecond),
			EstablishedAt: t0.Add(50 * time.Millisecond),
		},
	}
}

func ids(fs []facts.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

func find(fs []facts.Finding, id string) (facts.Finding, bool) {
	for _, f := range fs {
		if f.ID == id {
			return f, true
		}
	}
	return facts.Finding{}, false
}

// TestSuiteFindings: for each suite, the findings expected from its IANA
// name and the RFCs (written by hand here, not derived from the code's
// tables): what the suite's key exchange, cipher and MAC mean.
func TestSuiteFindings(t *testing.T) {
	const (
		weak = "weak-cipher"
		nofs = "no-forward-secrecy"
		cbc  = "cbc-mode-cipher"
	)
	crit, high, med := facts.Critical, facts.High, facts.Medium
	for _, tc := range []struct {
		id      uint16
		name    string
		want    []string
		weakSev facts.Severity
	}{
		{0x0000, "TLS_NULL_WITH_NULL_NULL", []string{weak}, crit},
		{0x0001, "TLS_RSA_WITH_NULL_MD5", []string{nofs, weak}, crit},
		{0x0002, "TLS_RSA_WITH_NULL_SHA", []string{nofs, weak}, crit},
		{0x003b, "TLS_RSA_WITH_NULL_SHA256", []string{nofs, weak}, crit},
		{0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", []string{nofs, weak}, high},
		{0x0004, "TLS_RSA_WITH_RC4_128_MD5", []string{nofs, weak}, high},
		{0x0005, "TLS_RSA_WITH_RC4_128_SHA", []string{nofs, weak}, high},
		{0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", []string{cbc, nofs, weak}, high},
		{0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", []string{cbc, nofs, weak}, med},
		{0x0009, "TLS_RSA_WITH_DES_CBC_SHA", []string{cbc, nofs, weak}, high},
		{0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", []string{cbc, nofs, weak}, med},
		{0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", []string{cbc, weak}, med},
		{0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", []string{cbc, weak}, high},
		{0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", []string{weak}, crit},
		{0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", []string{cbc, weak}, crit},
		{0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", []string{cbc, weak}, crit},
		{0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA", []string{cbc, nofs}, 0},
		{0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", []string{cbc, nofs}, 0},
		{0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", []string{nofs}, 0},
		{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", []string{cbc, nofs}, 0},
		{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", []string{nofs}, 0},
		{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", []string{cbc}, 0},
		{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", []string{cbc}, 0},
		{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", []string{cbc}, 0},
		{0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", []string{weak}, high},
		{0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", []string{cbc, weak}, med},
		{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", nil, 0},
		{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", nil, 0},
		{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", nil, 0},
		{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", nil, 0},
		{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", nil, 0},
		{0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", nil, 0},
		{0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA", []string{cbc, nofs}, 0},
		{0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", []string{cbc, nofs}, 0},
		{0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", nil, 0},
		{0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", []string{cbc, nofs}, 0},
	} {
		if got := tls.CipherSuiteName(tc.id); got != tc.name {
			t.Fatalf("0x%04x is %s in the registry, the test says %s", tc.id, got, tc.name)
		}
		fs := Evaluate(handshake12(tc.id), &Config{})
		got := ids(fs)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("0x%04x %s: findings %v, want %v", tc.id, tc.name, got, want)
			continue
		}
		if f, ok := find(fs, weak); ok {
			if f.Severity != tc.weakSev {
				t.Errorf("0x%04x %s: weak-cipher %v, want %v", tc.id, tc.name, f.Severity, tc.weakSev)
			}
			if !strings.Contains(f.Evidence, tc.name) || f.Step != facts.StepServerHello {
				t.Errorf("0x%04x: evidence %q step %q", tc.id, f.Evidence, f.Step)
			}
		}
	}
}

// TestTLS13SuitesClean: the five RFC 8446 suites in a TLS 1.3 handshake
// give nothing; the RFC 9150 integrity-only ones are NULL encryption.
func TestTLS13SuitesClean(t *testing.T) {
	for _, id := range []uint16{0x1301, 0x1302, 0x1303, 0x1304, 0x1305, 0xc0b4} {
		c := handshake12(id)
		s := c.TLS
		s.Version = tls.VersionTLS13
		s.ServerHello.SupportedVersion = tls.VersionTLS13
		s.ClientHello.SupportedVersions = []uint16{0x0a0a, tls.VersionTLS13, tls.VersionTLS12}
		s.ClientHello.RenegotiationInfo, s.ServerHello.RenegotiationInfo = false, false
		s.Hidden = true
		fs := Evaluate(c, &Config{})
		if id == 0xc0b4 {
			if f, ok := find(fs, "weak-cipher"); !ok || f.Severity != facts.Critical || len(fs) != 1 {
				t.Errorf("TLS_SHA256_SHA256: %v", ids(fs))
			}
			continue
		}
		for _, f := range fs {
			if f.Severity > facts.Info {
				t.Errorf("TLS 1.3 %s: %s %v: %s", tls.CipherSuiteName(id), f.ID, f.Severity, f.Message)
			}
		}
	}
}
