package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

func TestVersionAndExtensionRules(t *testing.T) {
	const gcm = 0xc02f
	for _, tc := range []struct {
		name   string
		mutate func(c *facts.Connection)
		want   []string
		sev    facts.Severity // of the first wanted id, when set
		inMsg  string
	}{
		{"clean TLS 1.2", func(c *facts.Connection) {}, nil, 0, ""},
		{"TLS 1.0 negotiated", func(c *facts.Connection) {
			c.TLS.Version, c.TLS.ServerHello.LegacyVersion, c.TLS.ClientHello.LegacyVersion = tls.VersionTLS10, tls.VersionTLS10, tls.VersionTLS10
		}, []string{"deprecated-version", "deprecated-version-offered"}, facts.Medium, "TLS 1.0"},
		{"TLS 1.1 negotiated", func(c *facts.Connection) { c.TLS.Version = tls.VersionTLS11 }, []string{"deprecated-version"}, facts.Medium, "TLS 1.1"},
		{"SSL 3.0 negotiated", func(c *facts.Connection) { c.TLS.Version = tls.VersionSSL30 }, []string{"deprecated-version"}, facts.High, "SSL 3.0"},
		{"SSL 2.0 negotiated, RC4", func(c *facts.Connection) {
			c.TLS.Version = tls.VersionSSL20
			c.TLS.ServerHello = &tls.ServerHello{LegacyVersion: tls.VersionSSL20, SSLv2CipherKind: 0x010080}
		}, []string{"deprecated-version", "weak-cipher"}, facts.High, "SSL 2.0"},
		{"client offers TLS 1.0 in supported_versions", func(c *facts.Connection) {
			c.TLS.ClientHello.SupportedVersions = []uint16{0x1a1a, tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10}
		}, []string{"deprecated-version-offered"}, facts.Info, "TLS 1.1, TLS 1.0"},
		{"client legacy_version TLS 1.1, no supported_versions", func(c *facts.Connection) {
			c.TLS.ClientHello.LegacyVersion = tls.VersionTLS11
		}, []string{"deprecated-version-offered"}, facts.Info, "TLS 1.1, TLS 1.0, SSL 3.0"},
		{"client offers only TLS 1.3 and 1.2", func(c *facts.Connection) {
			c.TLS.ClientHello.SupportedVersions = []uint16{tls.VersionTLS13, tls.VersionTLS12}
		}, nil, 0, ""},
		{"no renegotiation_info from the client", func(c *facts.Connection) { c.TLS.ClientHello.RenegotiationInfo = false },
			[]string{"insecure-renegotiation"}, facts.Medium, "client"},
		{"SCSV instead of the extension", func(c *facts.Connection) {
			c.TLS.ClientHello.RenegotiationInfo = false
			c.TLS.ClientHello.CipherSuites = []uint16{gcm, 0x00ff}
		}, nil, 0, ""},
		{"no renegotiation_info from the server", func(c *facts.Connection) { c.TLS.ServerHello.RenegotiationInfo = false },
			[]string{"insecure-renegotiation"}, facts.Medium, "server"},
		{"DEFLATE", func(c *facts.Connection) { c.TLS.ServerHello.CompressionMethod = 1 }, []string{"tls-compression"}, facts.High, "DEFLATE"},
		{"heartbeat both ways", func(c *facts.Connection) { c.TLS.ClientHello.Heartbeat, c.TLS.ServerHello.Heartbeat = true, true },
			[]string{"heartbeat-enabled"}, facts.Low, ""},
		{"heartbeat offered only", func(c *facts.Connection) { c.TLS.ClientHello.Heartbeat = true }, nil, 0, ""},
		{"no SNI", func(c *facts.Connection) { c.TLS.ClientHello.ServerName = "" }, []string{"missing-sni"}, facts.Low, ""},
		{"DH 1024", func(c *facts.Connection) {
			c.TLS.CipherSuite, c.TLS.ServerHello.CipherSuite = 0x009e, 0x009e
			c.TLS.KeyExchange = &tls.KeyExchange{Kind: "DHE", DHPrimeBits: 1024}
		}, []string{"weak-dh-group"}, facts.Medium, "1024-bit"},
		{"DH 512", func(c *facts.Connection) { c.TLS.KeyExchange = &tls.KeyExchange{Kind: "DHE", DHPrimeBits: 512} }, []string{"weak-dh-group"}, facts.High, "512-bit"},
		{"DH 2048", func(c *facts.Connection) { c.TLS.KeyExchange = &tls.KeyExchange{Kind: "DHE", DHPrimeBits: 2048} }, nil, 0, ""},
		{"secp192r1", func(c *facts.Connection) { c.TLS.KeyExchange = &tls.KeyExchange{Kind: "ECDHE", NamedGroup: 19} }, []string{"weak-dh-group"}, facts.High, "192"},
		{"secp224r1", func(c *facts.Connection) { c.TLS.KeyExchange = &tls.KeyExchange{Kind: "ECDHE", NamedGroup: 21} }, nil, 0, ""},
		{"x25519", func(c *facts.Connection) { c.TLS.KeyExchange = &tls.KeyExchange{Kind: "ECDHE", NamedGroup: 29} }, nil, 0, ""},
		{"explicit curve", func(c *facts.Connection) { c.TLS.KeyExchange = &tls.KeyExchange{Kind: "ECDHE", NamedGroup: 0xff01} }, []string{"weak-dh-group"}, facts.Medium, "explicit"},
		{"fatal alert", func(c *facts.Connection) {
			s := c.TLS
			s.ServerHello, s.Version, s.CipherSuite, s.Established, s.Finished = nil, 0, 0, false, [2]bool{}
			s.Alerts = []tls.Alert{{From: tls.ServerToClient, Level: tls.AlertLevelFatal, Description: 40, Time: t0.Add(time.Millisecond)}}
		}, []string{"handshake-failed"}, facts.Medium, "handshake_failure"},
		{"warning alert only (close_notify) after the handshake", func(c *facts.Connection) {
			c.TLS.Alerts = []tls.Alert{{From: tls.ClientToServer, Level: 1, Description: 0, Time: t0.Add(time.Second)}}
		}, nil, 0, ""},
		{"closed after ServerHello", func(c *facts.Connection) {
			c.TLS.Established, c.TLS.Finished = false, [2]bool{}
			c.Closed = "rst"
		}, []string{"handshake-failed"}, facts.Medium, "RST"},
		{"capture ended mid-handshake", func(c *facts.Connection) {
			c.TLS.Established, c.TLS.Finished = false, [2]bool{}
			c.Closed = "end"
		}, nil, 0, ""},
		{"TLS 1.3 closed after the client's Finished, no application data", func(c *facts.Connection) {
			s := c.TLS
			s.Version, s.CipherSuite, s.ServerHello.CipherSuite = tls.VersionTLS13, 0x1301, 0x1301
			s.ClientHello.SupportedVersions = []uint16{tls.VersionTLS13}
			s.Hidden, s.Established, s.Finished = true, false, [2]bool{}
			s.Events = []tls.Event{
				{From: tls.ClientToServer, Content: tls.ContentHandshake, Handshake: tls.TypeClientHello},
				{From: tls.ServerToClient, Content: tls.ContentHandshake, Handshake: tls.TypeServerHello},
				{From: tls.ServerToClient, Content: tls.ContentApplicationData, Encrypted: true, Length: 2000, Hidden13: tls.Hidden13Handshake},
				{From: tls.ClientToServer, Content: tls.ContentApplicationData, Encrypted: true, Length: 53, Hidden13: tls.Hidden13ClientFinished},
			}
			s.ClientFinished13 = true // what decode/tls makes of the 53-byte record
		}, nil, 0, ""},
		{"TLS 1.3 client answers with an encrypted alert and closes", func(c *facts.Connection) {
			s := c.TLS
			s.Version, s.CipherSuite, s.ServerHello.CipherSuite = tls.VersionTLS13, 0x1301, 0x1301
			s.ClientHello.SupportedVersions = []uint16{tls.VersionTLS13}
			s.Hidden, s.Established, s.Finished = true, false, [2]bool{}
			s.Events = []tls.Event{
				{From: tls.ServerToClient, Content: tls.ContentApplicationData, Encrypted: true, Length: 2000, Hidden13: tls.Hidden13Handshake},
				{From: tls.ClientToServer, Content: tls.ContentApplicationData, Encrypted: true, Length: 19, Hidden13: tls.Hidden13Alert},
			}
		}, []string{"handshake-failed"}, facts.Medium, "FIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := handshake12(gcm)
			tc.mutate(c)
			fs := Evaluate(c, &Config{})
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if got := ids(fs); !slices.Equal(got, want) {
				for _, f := range fs {
					t.Logf("%s: %s [%s]", f.ID, f.Message, f.Evidence)
				}
				t.Fatalf("got %v, want %v", got, want)
			}
			if len(tc.want) == 0 {
				return
			}
			f, _ := find(fs, tc.want[0])
			if f.Severity != tc.sev {
				t.Errorf("%s severity %v, want %v", f.ID, f.Severity, tc.sev)
			}
			if !strings.Contains(f.Message+" "+f.Evidence, tc.inMsg) {
				t.Errorf("%s: %q / %q lacks %q", f.ID, f.Message, f.Evidence, tc.inMsg)
			}
			if f.Reference == "" || f.Step == facts.StepNone || f.Message == "" || f.Evidence == "" {
				t.Errorf("incomplete finding %+v", f)
			}
		})
	}
}

func TestSecretsBecomeFindings(t *testing.T) {
	c := &facts.Connection{ID: 9, Protocol: "http", Secrets: []facts.Secret{
		{Kind: "plaintext-credentials", Protocol: "http", Type: "basic-auth", Field: "Authorization", User: "alice",
			Masked: "YW*****", Method: "GET", Host: "example.com", Path: "/admin", Time: t0},
		{Kind: "plaintext-card-number", Protocol: "http", Type: "card-number", Field: "card", Masked: "4111********1111", Method: "POST", Host: "shop.example", Path: "/pay", Time: t0.Add(time.Second)},
		{Kind: "plaintext-pii", Protocol: "http", Type: "email", Masked: "a***@example.com", Severity: "medium", Time: t0.Add(2 * time.Second)},
		{Kind: "plaintext-credentials", Protocol: "ftp", Type: "password", Field: "PASS", User: "bob", Masked: "Ft*******", Time: t0.Add(3 * time.Second)},
	}}
	fs := Evaluate(c, &Config{})
	want := []struct {
		id  string
		sev facts.Severity
		ev  string
	}{
		{"plaintext-card-number", facts.Critical, "POST shop.example/pay card=4111********1111"},
		{"plaintext-credentials", facts.High, "GET example.com/admin Authorization=YW***** user=alice"},
		{"plaintext-credentials", facts.High, "PASS=Ft******* user=bob"},
		{"plaintext-pii", facts.Medium, "a***@example.com"},
	}
	if len(fs) != len(want) {
		t.Fatalf("%d findings, want %d: %v", len(fs), len(want), ids(fs))
	}
	for i, w := range want {
		f := fs[i]
		if f.ID != w.id || f.Severity != w.sev || f.Evidence != w.ev || f.ConnID != 9 {
			t.Errorf("%d: %s %v %q, want %s %v %q", i, f.ID, f.Severity, f.Evidence, w.id, w.sev, w.ev)
		}
		for _, s := range c.Secrets {
			if s.Value != "" && strings.Contains(f.Evidence+f.Message, s.Value) {
				t.Errorf("secret value %q leaked into a finding", s.Value)
			}
		}
	}
	if fs[2].Step != facts.StepFTP || fs[1].Step != facts.StepHTTP || !fs[1].Time.Equal(t0) {
		t.Errorf("steps %q %q time %v", fs[1].Step, fs[2].Step, fs[1].Time)
	}
	// A login page's message says HTTP once; a proxy request's evidence
	// names its absolute URI, not the host glued to it (issue 20).
	lp := Evaluate(&facts.Connection{ID: 3, Protocol: "http", Secrets: []facts.Secret{
		{Kind: "plaintext-login-page", Protocol: "http", Type: "login-form", Method: "GET", Host: "example.com", Path: "/login", Time: t0},
		{Kind: "plaintext-credentials", Protocol: "http", Type: "url-userinfo", Field: "request-target", User: "u", Masked: "pa***", Method: "GET", Host: "proxy.example:3128", Path: "http://example.com/x", Time: t0},
	}}, &Config{})
	for _, f := range lp {
		if strings.Contains(f.Message, "over cleartext over") || strings.Contains(f.Evidence, "3128http") {
			t.Errorf("%s: message %q, evidence %q", f.ID, f.Message, f.Evidence)
		}
	}
	if len(lp) != 2 {
		t.Errorf("%d findings from a login page and a proxy request", len(lp))
	}
	// With show-secrets (decode fills Value then, and only then) the
	// evidence shows the value itself (issue 20: it stayed masked).
	values := []string{"YWxpY2U6aHVudGVyMg==", "4111111111111111", "", "FtpPassw0rd"}
	for i := range c.Secrets {
		c.Secrets[i].Value = values[i]
	}
	shown := Evaluate(c, &Config{})
	for i, ev := range []string{"POST shop.example/pay card=4111111111111111", "GET example.com/admin Authorization=YWxpY2U6aHVudGVyMg== user=alice", "PASS=FtpPassw0rd user=bob", "a***@example.com"} {
		if shown[i].Evidence != ev {
			t.Errorf("show-secrets %d: evidence %q, want %q", i, shown[i].Evidence, ev)
		}
	}
}

// TestDefinitionsTable: every id a rule or a policy check emits is defined
// once, with a title and help, and a rule's with a reference URL (a policy
// finding's reference is the policy file); Lookup finds each.
func TestDefinitionsTable(t *testing.T) {
	want := []string{
		"cbc-mode-cipher", "cert-chain-order", "cert-expired", "cert-expiring-soon", "cert-explicit-curve", "cert-hostname-mismatch",
		"cert-not-yet-valid", "cert-self-signed", "cert-untrusted", "cert-validity-too-long", "cert-weak-key",
		"cert-weak-signature", "deprecated-version", "deprecated-version-offered", "handshake-failed",
		"heartbeat-enabled", "insecure-renegotiation", "missing-sni", "no-forward-secrecy",
		"plaintext-card-number", "plaintext-credentials", "plaintext-login-page", "plaintext-pii",
		"plaintext-session-cookie", "policy-cert-pin-mismatch", "policy-denied-suite", "policy-min-version",
		"policy-suite-not-allowed", "policy-unexpected-sni", "tls-compression", "weak-cipher", "weak-dh-group",
	}
	ds := Definitions()
	var got []string
	for _, d := range ds {
		got = append(got, d.ID)
		if d.Title == "" || len(d.Help) < 40 || !d.Policy && !strings.HasPrefix(d.Reference, "https://") || d.Policy && d.Reference != "" {
			t.Errorf("%s: incomplete definition %+v", d.ID, d)
		}
		if l, ok := Lookup(d.ID); !ok || l != d {
			t.Errorf("Lookup(%s)", d.ID)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("ids %v\nwant %v", got, want)
	}
	sev := map[string]facts.Severity{"plaintext-credentials": facts.High, "plaintext-session-cookie": facts.Medium,
		"plaintext-card-number": facts.Critical, "plaintext-pii": facts.Low, "plaintext-login-page": facts.Medium,
		"deprecated-version-offered": facts.Info, "cbc-mode-cipher": facts.Low, "heartbeat-enabled": facts.Low, "missing-sni": facts.Low}
	for id, s := range sev {
		if d, _ := Lookup(id); d.Severity != s {
			t.Errorf("%s default %v, want %v", id, d.Severity, s)
		}
	}
	if _, ok := Lookup("no-such-rule"); ok {
		t.Error("Lookup of an unknown id")
	}
}

func TestFindingsSortedAndDeterministic(t *testing.T) {
	c := handshake12(0x0004)
	c.TLS.Version = tls.VersionTLS10
	c.TLS.ClientHello.ServerName = ""
	c.TLS.ServerHello.CompressionMethod = 1
	first := Evaluate(c, &Config{})
	for i := 0; i < 5; i++ {
		again := Evaluate(c, &Config{})
		if !slices.EqualFunc(first, again, func(a, b facts.Finding) bool { return a == b }) {
			t.Fatal("findings differ between runs")
		}
	}
	for i := 1; i < len(first); i++ {
		a, b := first[i-1], first[i]
		if a.Severity < b.Severity || a.Severity == b.Severity && a.ID > b.ID {
			t.Errorf("not sorted: %s %v before %s %v", a.ID, a.Severity, b.ID, b.Severity)
		}
	}
}
