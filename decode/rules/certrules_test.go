package rules

import (
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs/certtest"
	"github.com/tlsscope/tlsscope/decode/facts"
)

// withChain is a clean TLS 1.2 ECDHE-GCM handshake for sni at certtest.Base
// carrying a chain.
func withChain(sni string, chain ...*certtest.Cert) *facts.Connection {
	c := handshake12(0xc02f)
	c.First = certtest.Base
	c.TLS.Start = certtest.Base
	c.TLS.ServerHelloAt = certtest.Base
	c.TLS.ClientHello.ServerName = sni
	c.TLS.Certificates = certtest.Chain(chain...)
	return c
}

func certFindings(t *testing.T, c *facts.Connection, cfg *Config) []facts.Finding {
	t.Helper()
	var out []facts.Finding
	for _, f := range Evaluate(c, cfg) {
		if strings.HasPrefix(f.ID, "cert-") {
			out = append(out, f)
		}
	}
	return out
}

func TestCertificateCases(t *testing.T) {
	p := certtest.NewPKI(t)
	base := certtest.Base
	trust := func() *Config { return &Config{Roots: []*x509.Certificate{p.Root.Cert}} }
	leaf := func(o certtest.Options) *certtest.Cert {
		if o.DNS == nil {
			o.DNS = []string{"www.example.com"}
		}
		return certtest.New(t, o, p.Intermediate)
	}
	rogue := certtest.New(t, certtest.Options{CN: "Rogue Root", CA: true}, nil)
	for _, tc := range []struct {
		name  string
		sni   string
		chain []*certtest.Cert
		cfg   *Config
		want  []string
		check func(t *testing.T, fs []facts.Finding)
	}{
		{name: "good", sni: "www.example.com", chain: []*certtest.Cert{p.Leaf, p.Intermediate}, cfg: trust()},
		{name: "good, no SNI: no name check", chain: []*certtest.Cert{p.Leaf, p.Intermediate}, cfg: trust()},
		{name: "expired", sni: "expired.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "expired.example.com", DNS: []string{"expired.example.com"}, NotBefore: base.AddDate(0, -3, 0), NotAfter: base.AddDate(0, 0, -10)}), p.Intermediate},
			cfg:   trust(), want: []string{"cert-expired"},
			check: func(t *testing.T, fs []facts.Finding) {
				f := fs[0]
				if f.Severity != facts.High || f.Step != facts.StepCertificate || !strings.Contains(f.Message, "10 days before the capture time") ||
					!strings.Contains(f.Evidence, "notAfter 2026-05-22T00:00:00Z, capture time 2026-06-01T00:00:00Z") || !strings.Contains(f.Reference, "rfc5280") {
					t.Errorf("%+v", f)
				}
			}},
		{name: "not yet valid", sni: "future.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "future.example.com", DNS: []string{"future.example.com"}, NotBefore: base.AddDate(0, 0, 5), NotAfter: base.AddDate(0, 3, 0)}), p.Intermediate},
			cfg:   trust(), want: []string{"cert-not-yet-valid"}},
		{name: "expiring soon", sni: "soon.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "soon.example.com", DNS: []string{"soon.example.com"}, NotAfter: base.AddDate(0, 0, 7)}), p.Intermediate},
			cfg:   trust(), want: []string{"cert-expiring-soon"}},
		{name: "expiring soon, window off", sni: "soon.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "soon.example.com", DNS: []string{"soon.example.com"}, NotAfter: base.AddDate(0, 0, 7)}), p.Intermediate},
			cfg:   &Config{Roots: []*x509.Certificate{p.Root.Cert}, ExpiryWarn: -1}},
		{name: "expiring in 40 days, 60-day window", sni: "soon40.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "soon40.example.com", DNS: []string{"soon40.example.com"}, NotAfter: base.AddDate(0, 0, 40)}), p.Intermediate},
			cfg:   &Config{Roots: []*x509.Certificate{p.Root.Cert}, ExpiryWarn: 60 * 24 * time.Hour}, want: []string{"cert-expiring-soon"}},
		{name: "self-signed", sni: "self.example.com",
			chain: []*certtest.Cert{certtest.New(t, certtest.Options{CN: "self.example.com", DNS: []string{"self.example.com"}}, nil)},
			cfg:   trust(), want: []string{"cert-self-signed", "cert-untrusted"}},
		{name: "self-signed, no roots configured", sni: "self.example.com",
			chain: []*certtest.Cert{certtest.New(t, certtest.Options{CN: "self.example.com", DNS: []string{"self.example.com"}}, nil)},
			cfg:   &Config{}, want: []string{"cert-self-signed"}},
		{name: "untrusted", sni: "www.example.com",
			chain: []*certtest.Cert{certtest.New(t, certtest.Options{CN: "rogue leaf", DNS: []string{"www.example.com"}}, rogue)},
			cfg:   trust(), want: []string{"cert-untrusted"},
			check: func(t *testing.T, fs []facts.Finding) {
				if !strings.Contains(fs[0].Message, "CN=Rogue Root") {
					t.Errorf("reason not in message: %q", fs[0].Message)
				}
			}},
		{name: "wrong host", sni: "mail.example.org", chain: []*certtest.Cert{p.Leaf, p.Intermediate}, cfg: trust(), want: []string{"cert-hostname-mismatch"},
			check: func(t *testing.T, fs []facts.Finding) {
				if !strings.Contains(fs[0].Evidence, "www.example.com, example.com") || fs[0].SNI != "mail.example.org" {
					t.Errorf("%+v", fs[0])
				}
			}},
		{name: "wildcard matches one label", sni: "a.wild.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "wild", DNS: []string{"*.wild.example.com"}}), p.Intermediate}, cfg: trust()},
		{name: "wildcard does not match two labels", sni: "a.b.wild.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "wild", DNS: []string{"*.wild.example.com"}}), p.Intermediate}, cfg: trust(), want: []string{"cert-hostname-mismatch"}},
		{name: "wildcard does not match the bare domain", sni: "wild.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "wild", DNS: []string{"*.wild.example.com"}}), p.Intermediate}, cfg: trust(), want: []string{"cert-hostname-mismatch"}},
		{name: "RSA 1024", sni: "weak.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "weak.example.com", DNS: []string{"weak.example.com"}, Key: "rsa1024"}), p.Intermediate},
			cfg:   trust(), want: []string{"cert-weak-key"},
			check: func(t *testing.T, fs []facts.Finding) {
				if !strings.Contains(fs[0].Evidence, "RSA 1024 bits") {
					t.Errorf("%q", fs[0].Evidence)
				}
			}},
		{name: "P-224 is enough", sni: "p224.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "p224.example.com", DNS: []string{"p224.example.com"}, Key: "p224"}), p.Intermediate}, cfg: trust()},
		{name: "RSA 2048 is enough", sni: "rsa.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "rsa.example.com", DNS: []string{"rsa.example.com"}, Key: "rsa2048"}), p.Intermediate}, cfg: trust()},
		{name: "validity too long", sni: "long.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "long.example.com", DNS: []string{"long.example.com"}, NotBefore: base.AddDate(0, -1, 0), NotAfter: base.AddDate(0, -1, 825)}), p.Intermediate},
			cfg:   trust(), want: []string{"cert-validity-too-long"}},
		{name: "exactly 398 days is allowed", sni: "398.example.com",
			chain: []*certtest.Cert{leaf(certtest.Options{CN: "398.example.com", DNS: []string{"398.example.com"}, NotBefore: base.AddDate(0, -1, 0), NotAfter: base.AddDate(0, -1, 398).Add(-time.Second)}), p.Intermediate},
			cfg:   trust()},
		{name: "chain out of order", sni: "www.example.com", chain: []*certtest.Cert{p.Leaf, p.Root, p.Intermediate}, cfg: trust(), want: []string{"cert-chain-order"}},
		{name: "intermediate missing, bundle supplied it", sni: "www.example.com", chain: []*certtest.Cert{p.Leaf},
			cfg: &Config{Roots: []*x509.Certificate{p.Root.Cert, p.Intermediate.Cert}}, want: []string{"cert-chain-order"},
			check: func(t *testing.T, fs []facts.Finding) {
				if !strings.Contains(fs[0].Evidence, "CN=Test Intermediate CA") {
					t.Errorf("%q", fs[0].Evidence)
				}
			}},
		{name: "intermediate missing, nobody supplied it", sni: "www.example.com", chain: []*certtest.Cert{p.Leaf}, cfg: trust(), want: []string{"cert-untrusted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := certFindings(t, withChain(tc.sni, tc.chain...), tc.cfg)
			got := ids(fs)
			if !slices.Equal(got, tc.want) {
				for _, f := range fs {
					t.Logf("%s: %s [%s]", f.ID, f.Message, f.Evidence)
				}
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, fs)
			}
		})
	}
}

// TestWeakSignature: a SHA-1 signed leaf (crypto/x509 still creates
// them) from a trusted CA; a SHA-1 self-signed root is exempt.
func TestWeakSignature(t *testing.T) {
	p := certtest.NewPKI(t)
	rsaInter := certtest.New(t, certtest.Options{CN: "RSA Intermediate", CA: true, Key: "rsa2048"}, p.Root)
	sha1Leaf := certtest.New(t, certtest.Options{CN: "sha1.example.com", DNS: []string{"sha1.example.com"}, SigAlg: x509.SHA1WithRSA}, rsaInter)
	if sha1Leaf.Cert.SignatureAlgorithm != x509.SHA1WithRSA {
		t.Fatalf("made %v", sha1Leaf.Cert.SignatureAlgorithm)
	}
	fs := certFindings(t, withChain("sha1.example.com", sha1Leaf, rsaInter), &Config{Roots: []*x509.Certificate{p.Root.Cert}})
	f, ok := find(fs, "cert-weak-signature")
	if !ok || f.Severity != facts.Medium || !strings.Contains(f.Message, "SHA1-RSA") {
		t.Fatalf("SHA-1 leaf: %v", fs)
	}
	// crypto/x509 no longer verifies SHA-1 signatures, so the chain is
	// also untrusted, and says why.
	if u, ok := find(fs, "cert-untrusted"); !ok || !strings.Contains(u.Message, "SHA1-RSA") {
		t.Errorf("untrusted reason: %+v", u)
	}
	sha1Root := certtest.New(t, certtest.Options{CN: "SHA1 Root", CA: true, Key: "rsa2048", SigAlg: x509.SHA1WithRSA}, nil)
	leaf := certtest.New(t, certtest.Options{CN: "r.example.com", DNS: []string{"r.example.com"}}, sha1Root)
	fs = certFindings(t, withChain("r.example.com", leaf, sha1Root), &Config{Roots: []*x509.Certificate{sha1Root.Cert}})
	if len(fs) != 0 {
		t.Errorf("SHA-1 self-signed root sent in the chain: %v", ids(fs))
	}
}

// TestCheckTimeModes: the same expired chain judged at capture time, at
// a fixed time and at a supplied now.
func TestCheckTimeModes(t *testing.T) {
	p := certtest.NewPKI(t)
	cfgs := map[string]*Config{}
	fixed := &Config{}
	if err := fixed.SetCheckTime("2026-05-15T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	cfgs["fixed"] = fixed
	now := &Config{Now: func() time.Time { return certtest.Base.AddDate(1, 0, 0) }}
	if err := now.SetCheckTime("now"); err != nil {
		t.Fatal(err)
	}
	cfgs["now"] = now
	cfgs["capture"] = &Config{}
	if err := (&Config{}).SetCheckTime("yesterday"); err == nil {
		t.Error("bad check time accepted")
	}
	want := map[string][]string{"capture": nil, "fixed": nil, "now": {"cert-expired"}}
	for name, cfg := range cfgs {
		fs := certFindings(t, withChain("www.example.com", p.Leaf, p.Intermediate), cfg)
		got := ids(fs)
		if !slices.Equal(got, want[name]) {
			t.Errorf("%s: %v, want %v", name, got, want[name])
		}
		// The message names the check time in English (issue 20: "3 days
		// after the now").
		for _, f := range fs {
			if name == "now" && (!strings.HasSuffix(f.Message, " before now (--check-time now)") || strings.Contains(f.Message, "the now")) {
				t.Errorf("now: message %q", f.Message)
			}
		}
	}
}

func TestCAFile(t *testing.T) {
	cfg := &Config{CAFiles: []string{"/nonexistent/ca.pem"}}
	if err := cfg.Load(); err == nil || !strings.Contains(err.Error(), "/nonexistent/ca.pem") {
		t.Errorf("missing CA file: %v", err)
	}
}

func TestSeverityOverride(t *testing.T) {
	c := handshake12(0x0004)
	fs := Evaluate(c, &Config{Severity: map[string]facts.Severity{"no-forward-secrecy": facts.Critical}})
	if len(fs) != 2 || fs[0].ID != "no-forward-secrecy" || fs[0].Severity != facts.Critical {
		t.Errorf("override: %+v", fs)
	}
}

// TestCleanModernHandshake: TLS 1.2 ECDHE-RSA AES-GCM with a trusted chain
// and matching SNI, and a TLS 1.3 handshake, give nothing above info.
func TestCleanModernHandshake(t *testing.T) {
	p := certtest.NewPKI(t)
	cfg := &Config{Roots: []*x509.Certificate{p.Root.Cert}}
	c12 := withChain("www.example.com", p.Leaf, p.Intermediate)
	c13 := handshake12(0x1301)
	c13.TLS.Version, c13.TLS.ServerHello.SupportedVersion, c13.TLS.Hidden = 0x0304, 0x0304, true
	c13.TLS.ClientHello.SupportedVersions = []uint16{0x0304, 0x0303}
	for name, c := range map[string]*facts.Connection{"TLS 1.2": c12, "TLS 1.3": c13} {
		for _, f := range Evaluate(c, cfg) {
			if f.Severity > facts.Info {
				t.Errorf("%s: %s %v %s", name, f.ID, f.Severity, f.Message)
			}
		}
	}
}
