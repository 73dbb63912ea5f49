package certs

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/certs/certtest"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

func TestDescribeKeys(t *testing.T) {
	for _, tc := range []struct {
		kind, typ, key string
		bits           int
	}{
		{"p256", "ECDSA", "ECDSA P-256", 256},
		{"p384", "ECDSA", "ECDSA P-384", 384},
		{"p224", "ECDSA", "ECDSA P-224", 224},
		{"ed25519", "Ed25519", "Ed25519", 256},
		{"rsa1024", "RSA", "RSA 1024", 1024},
		{"rsa2048", "RSA", "RSA 2048", 2048},
	} {
		c := certtest.New(t, certtest.Options{CN: "key-" + tc.kind, Key: tc.kind, DNS: []string{"a.example"}, IPs: []string{"192.0.2.1", "2001:db8::1"}}, nil)
		in := Describe(c.Cert)
		if in.KeyType != tc.typ || in.Key != tc.key || in.KeyBits != tc.bits {
			t.Errorf("%s: got %s / %s / %d", tc.kind, in.KeyType, in.Key, in.KeyBits)
		}
		if !in.SelfSigned || in.IsCA {
			t.Errorf("%s: SelfSigned %v IsCA %v", tc.kind, in.SelfSigned, in.IsCA)
		}
		want := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}
		if len(in.IPs) != 2 || in.IPs[0] != want[0] || in.IPs[1] != want[1] {
			t.Errorf("%s: IPs %v", tc.kind, in.IPs)
		}
		if in.Subject != "CN=key-"+tc.kind+",O=tlsscope test" || in.Subject != in.Issuer {
			t.Errorf("%s: subject %q issuer %q", tc.kind, in.Subject, in.Issuer)
		}
	}
}

func TestSelfSigned(t *testing.T) {
	p := certtest.NewPKI(t)
	if SelfSigned(p.Leaf.Cert) || SelfSigned(p.Intermediate.Cert) || !SelfSigned(p.Root.Cert) {
		t.Error("PKI: only the root is self-signed")
	}
	// Issuer name equal to the subject, but signed by another key.
	name := pkix.Name{CommonName: "impostor", Organization: []string{"tlsscope test"}}
	imp := certtest.New(t, certtest.Options{CN: "impostor", IssuerName: &name}, p.Root)
	if string(imp.Cert.RawSubject) != string(imp.Cert.RawIssuer) {
		t.Fatal("test certificate: issuer name should equal subject")
	}
	if SelfSigned(imp.Cert) || Describe(imp.Cert).SelfSigned {
		t.Error("subject == issuer but signed by another key counted as self-signed")
	}
	// SHA-1 self-signatures still count (crypto/x509 makes them).
	sha1 := certtest.New(t, certtest.Options{CN: "sha1 self", Key: "rsa2048", SigAlg: x509.SHA1WithRSA}, nil)
	if sha1.Cert.SignatureAlgorithm != x509.SHA1WithRSA || !SelfSigned(sha1.Cert) {
		t.Errorf("SHA-1 self-signed: alg %v self %v", sha1.Cert.SignatureAlgorithm, SelfSigned(sha1.Cert))
	}
	if got := Describe(sha1.Cert).Signature; got != "SHA1-RSA" {
		t.Errorf("Signature %q", got)
	}
}

// TestSelfSignedOpenSSL checks algorithms crypto/x509 will not create:
// MD5-signed RSA and DSA, made by openssl.
func TestSelfSignedOpenSSL(t *testing.T) {
	openssl := testutil.Tool(t, "openssl")
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	load := func(name string) *x509.Certificate {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(raw)
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	run("req", "-x509", "-newkey", "rsa:1024", "-md5", "-nodes", "-keyout", "md5.key", "-out", "md5.pem", "-days", "30", "-subj", "/CN=md5 self/O=a\\, b")
	md5 := load("md5.pem")
	in := Describe(md5)
	if md5.SignatureAlgorithm != x509.MD5WithRSA || !in.SelfSigned || in.Key != "RSA 1024" {
		t.Errorf("MD5: alg %v self %v key %s", md5.SignatureAlgorithm, in.SelfSigned, in.Key)
	}
	if in.Subject != `O=a\, b,CN=md5 self` {
		t.Errorf("MD5 subject %q", in.Subject)
	}
	run("dsaparam", "-out", "dsa.param", "1024")
	run("req", "-x509", "-newkey", "dsa:dsa.param", "-sha256", "-nodes", "-keyout", "dsa.key", "-out", "dsa.pem", "-days", "30", "-subj", "/CN=dsa self")
	dsa := load("dsa.pem")
	in = Describe(dsa)
	if in.KeyType != "DSA" || in.KeyBits != 1024 || in.Key != "DSA 1024" || !in.SelfSigned {
		t.Errorf("DSA: %s %d %s self %v (alg %v)", in.KeyType, in.KeyBits, in.Key, in.SelfSigned, dsa.SignatureAlgorithm)
	}
}

// TestNameEscapingMatchesPythonCryptography builds names with every
// character RFC 4514, 2.4 escapes and compares Name with
// python-cryptography's rfc4514_string, when it is installed.
func TestNameEscapingMatchesPythonCryptography(t *testing.T) {
	py := testutil.Tool(t, "python3")
	if err := exec.Command(py, "-c", "import cryptography.x509").Run(); err != nil {
		t.Skip("python3 cryptography not installed")
	}
	values := []string{`a,b`, `a+b`, `"q"`, `back\slash`, `<x>`, `semi;colon`, `#lead`, ` lead`, `trail `, `mid#dle`, `ünï`, `x=y`}
	var der [][]byte
	for _, v := range values {
		rdn := pkix.RDNSequence{
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "US"}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: v}, {Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: "unit"}},
			{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "a@b.example"}},
			{{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "dc"}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: v}},
		}
		b, err := asn1.Marshal(rdn)
		if err != nil {
			t.Fatal(err)
		}
		der = append(der, b)
	}
	var in strings.Builder
	for i, b := range der {
		c := certtest.New(t, certtest.Options{CN: fmt.Sprint("escape ", i), RawSubject: b}, nil)
		if got := Name(c.Cert.RawSubject); got == "" {
			t.Fatal("empty name")
		}
		in.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}))
	}
	script := `import sys
from cryptography import x509
for c in x509.load_pem_x509_certificates(sys.stdin.buffer.read()):
    print(c.subject.rfc4514_string())
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(der) {
		t.Fatalf("python printed %d names for %d", len(lines), len(der))
	}
	for i, b := range der {
		if got := Name(b); got != lines[i] {
			t.Errorf("value %q:\n got %s\nwant %s", values[i], got, lines[i])
		}
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// TestRememberedPerCertificate: SubjectName, IssuerName and Fingerprint
// equal what they remember (Name of the DER names, SHA-256 of the DER),
// computed and then remembered.
func TestRememberedPerCertificate(t *testing.T) {
	p := certtest.NewPKI(t)
	for round := range 2 {
		for _, c := range []*certtest.Cert{p.Root, p.Intermediate, p.Leaf} {
			x := c.Cert
			if got, want := SubjectName(x), Name(x.RawSubject); got != want {
				t.Errorf("round %d: SubjectName %q, Name %q", round, got, want)
			}
			if got, want := IssuerName(x), Name(x.RawIssuer); got != want {
				t.Errorf("round %d: IssuerName %q, Name %q", round, got, want)
			}
			if got, want := Fingerprint(x), sha256.Sum256(x.Raw); got != want {
				t.Errorf("round %d: Fingerprint %x, SHA-256 %x", round, got, want)
			}
		}
	}
	if SubjectName(p.Leaf.Cert) == IssuerName(p.Leaf.Cert) {
		t.Error("leaf: subject and issuer names equal")
	}
}
