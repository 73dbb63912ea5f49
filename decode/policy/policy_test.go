package policy

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

const example = `# every key, as documented in policy.schema.json
version: 1
min_version: TLS 1.2
allowed_suites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
denied_suites: [TLS_RSA_WITH_3DES_EDE_CBC_SHA, "0x0005"]
severity:
  cert-expired: critical
expected_snis: ["*.example.com", example.com]
pins:
  - sni: www.example.com
    sha256: ["ec62fabd80645668e6bc55c3d16ddb43b1d7f743fd49f1ef7bda502c526e2e55"]
suppress:
  - id: cert-self-signed
    sni: "*.lab.example.com"
    reason: lab hosts use self-signed certificates
    expires: 2027-01-31
  - server: 10.0.0.0/8
    reason: internal network
`

func TestExampleValidatesAgainstSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile("policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{"example": example} {
		var v any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := Parse([]byte(doc)); err != nil {
			t.Errorf("%s: Parse: %v", name, err)
		}
	}
	// The schema and the parser reject an unknown key alike.
	var v any
	yaml.Unmarshal([]byte("suppress:\n  - id: x\n    reasn: typo\n"), &v)
	if sch.Validate(v) == nil {
		t.Error("schema accepts an unknown key")
	}
}

func TestUnknownKeyNamed(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"min_versoin: TLS 1.2\n", `line 1, column 1: unknown field "min_versoin"`},
		{"suppress:\n  - id: x\n    reasn: y\n", `unknown field "reasn"`},
		{"min_version: TLS 9\n", `min_version: unknown version "TLS 9"`},
		{"suppress:\n  - id: x\n", "suppress[0]: reason is required"},
		{"denied_suites: [TLS_BOGUS]\n", `denied_suites: unknown cipher suite "TLS_BOGUS"`},
		{"severity:\n  cert-expired: urgent\n", `unknown severity "urgent"`},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.doc, err, tc.want)
		}
	}
}

func conn(version, suite uint16, sni string) *facts.Connection {
	return &facts.Connection{
		ID: 7, Capture: "x.pcap", Client: netip.MustParseAddrPort("10.1.1.1:5000"), Server: netip.MustParseAddrPort("192.0.2.1:443"),
		TLS: &tls.Session{
			ClientHello: &tls.ClientHello{ServerName: sni},
			ServerHello: &tls.ServerHello{CipherSuite: suite},
			Version:     version, CipherSuite: suite,
		},
	}
}

func ids(fs []facts.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.ID)
	}
	return strings.Join(s, ",")
}

func TestCheck(t *testing.T) {
	p, err := Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    *facts.Connection
		want string
	}{
		{conn(0x0303, 0xc02f, "www.example.com"), ""},
		{conn(0x0301, 0xc02f, "example.com"), IDMinVersion},
		{conn(0x0303, 0x000a, "a.example.com"), IDDeniedSuite + "," + IDSuiteNotAllow},
		{conn(0x0304, 0x1301, "evil.test"), IDUnexpectedSNI},
	} {
		if got := ids(p.Check(tc.c)); got != tc.want {
			t.Errorf("%s %x %s: %s, want %s", tls.VersionName(tc.c.TLS.Version), tc.c.TLS.CipherSuite, tc.c.SNI(), got, tc.want)
		}
	}
}

func TestApplySuppressesAndOverrides(t *testing.T) {
	p, err := Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	fs := []facts.Finding{
		{ID: "cert-self-signed", SNI: "db.lab.example.com", Server: netip.MustParseAddrPort("192.0.2.9:443")},
		{ID: "cert-self-signed", SNI: "www.example.com", Server: netip.MustParseAddrPort("192.0.2.9:443")},
		{ID: "cert-expired", Severity: facts.High, Server: netip.MustParseAddrPort("192.0.2.9:443")},
		{ID: "tls-version-deprecated", Server: netip.MustParseAddrPort("10.2.3.4:443")},
	}
	a := p.Apply(fs, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC))
	if ids(a.Kept) != "cert-self-signed,cert-expired" || a.Suppressed != 2 {
		t.Fatalf("kept %s, suppressed %d", ids(a.Kept), a.Suppressed)
	}
	if a.Kept[1].Severity != facts.Critical {
		t.Errorf("severity override not applied: %s", a.Kept[1].Severity)
	}
	// After its expiry date the suppression holds no more.
	a = p.Apply(fs, time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	if a.Suppressed != 1 || len(a.Expired) != 1 {
		t.Errorf("after expiry: suppressed %d, expired %d", a.Suppressed, len(a.Expired))
	}
	// The expiry date itself is still covered.
	if a := p.Apply(fs, time.Date(2027, 1, 31, 23, 0, 0, 0, time.UTC)); a.Suppressed != 2 {
		t.Errorf("on the expiry day: suppressed %d, want 2", a.Suppressed)
	}
}

func TestBaselineRoundTrip(t *testing.T) {
	f1 := facts.Finding{ID: "cert-expired", Severity: facts.High, Capture: "a.pcap", SNI: "www.example.com", Server: netip.MustParseAddrPort("192.0.2.1:443"), Evidence: "notAfter=2020-01-01"}
	f2 := facts.Finding{ID: "cert-expired", Severity: facts.High, Capture: "b.pcap", SNI: "new.example.com", Server: netip.MustParseAddrPort("192.0.2.2:443"), Evidence: "notAfter=2020-01-01"}
	b, err := Baseline([]facts.Finding{f1}, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(b)
	if err != nil {
		t.Fatalf("baseline does not parse: %v\n%s", err, b)
	}
	var v any
	yaml.Unmarshal(b, &v)
	sch, _ := jsonschema.NewCompiler().Compile("policy.schema.json")
	if err := sch.Validate(v); err != nil {
		t.Errorf("baseline does not validate: %v\n%s", err, b)
	}
	a := p.Apply([]facts.Finding{f1, f2}, time.Now())
	if len(a.Kept) != 1 || a.Kept[0].SNI != "new.example.com" {
		t.Errorf("kept %v, want only the new finding", a.Kept)
	}
	if !bytes.Contains(b, []byte(`reason: "baseline 2026-11-29, seen in a.pcap"`)) {
		t.Errorf("baseline lacks a reason:\n%s", b)
	}
}

// TestCheckErrorsNameTheLine: a policy that parses as YAML but fails a
// check names the line of the offending value (the line is found in the
// text by the test, not by the parser), and an unknown finding id names
// the closest defined one (issue 20).
func TestCheckErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ doc, bad, want string }{
		{"version: 1\nseverity:\n  weak-ciphr: low\n", "weak-ciphr", `unknown finding id "weak-ciphr" (did you mean weak-cipher?)`},
		{"version: 1\nseverity:\n  weak-cipher: hgh\n", "hgh", `unknown severity "hgh"`},
		{"suppress:\n  - id: cert-expired\n    reason: a\n  - id: cert-untrustd\n    reason: b\n", "cert-untrustd", "(did you mean cert-untrusted?)"},
		{"suppress:\n  - id: no-such-thing-at-all\n    reason: a\n", "no-such-thing", "unknown finding id \"no-such-thing-at-all\"; `tlsscope rules` lists them"},
		{"version: 1\n\nmin_version: TLS 9\n", "TLS 9", "min_version: unknown version"},
		{"suppress:\n  - id: cert-expired\n    reason: a\n    expires: soon\n", "soon", "is not a date"},
		{"pins:\n  - sni: a\n    sha256: [abc]\n", "abc", "want 64 hex digits"},
	} {
		line := 1 + strings.Count(tc.doc[:strings.Index(tc.doc, tc.bad)], "\n")
		_, err := Parse([]byte(tc.doc))
		if err == nil {
			t.Errorf("%q: accepted", tc.doc)
			continue
		}
		if want := fmt.Sprintf("line %d: ", line); !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %s...%s", tc.doc, err, want, tc.want)
		}
	}
}
