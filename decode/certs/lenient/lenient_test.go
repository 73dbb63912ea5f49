package lenient

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// pemCertificates are the repository's test PKI's certificates (made by
// openssl, scripts/captures).
func pemCertificates(t testing.TB) [][]byte {
	files, _ := filepath.Glob("../../../testdata/pcaps/certs/*.pem")
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			if b.Type == "CERTIFICATE" {
				out = append(out, b.Bytes)
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d certificates in testdata/pcaps/certs", len(out))
	}
	return out
}

// TestParseAgreesWithX509: on certificates crypto/x509 parses, Parse
// reads the same names, dates, serial, algorithms and SANs.
func TestParseAgreesWithX509(t *testing.T) {
	n := 0
	for _, der := range pemCertificates(t) {
		want, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(der)
		if err != nil {
			t.Errorf("%s: %v", want.Subject, err)
			continue
		}
		n++
		if got.Subject.String() != want.Subject.String() || got.Issuer.String() != want.Issuer.String() ||
			got.SerialNumber.Cmp(want.SerialNumber) != 0 || !got.NotBefore.Equal(want.NotBefore) ||
			!got.NotAfter.Equal(want.NotAfter) || got.Version != want.Version ||
			got.SignatureAlgorithm != want.SignatureAlgorithm || got.PublicKeyAlgorithm != want.PublicKeyAlgorithm ||
			got.IsCA != want.IsCA || got.BasicConstraintsValid != want.BasicConstraintsValid ||
			len(got.DNSNames) != len(want.DNSNames) || string(got.Signature) != string(want.Signature) ||
			string(got.RawSubjectPublicKeyInfo) != string(want.RawSubjectPublicKeyInfo) {
			t.Errorf("%s: Parse differs from crypto/x509:\n got %v %v %v %v %v %v\nwant %v %v %v %v %v %v", want.Subject,
				got.Subject, got.SerialNumber, got.NotAfter, got.SignatureAlgorithm, got.DNSNames, got.IsCA,
				want.Subject, want.SerialNumber, want.NotAfter, want.SignatureAlgorithm, want.DNSNames, want.IsCA)
		}
		for i := range want.DNSNames {
			if i < len(got.DNSNames) && got.DNSNames[i] != want.DNSNames[i] {
				t.Errorf("%s: DNS name %d %q, want %q", want.Subject, i, got.DNSNames[i], want.DNSNames[i])
			}
		}
		k, ok := KeyOf(der[0:0:0])
		if ok {
			t.Errorf("KeyOf(empty) = %+v, ok", k)
		}
		k, ok = KeyOf(want.RawSubjectPublicKeyInfo)
		if !ok || k.Algorithm != want.PublicKeyAlgorithm || k.Explicit {
			t.Errorf("%s: KeyOf = %+v, %v", want.Subject, k, ok)
		}
	}
	if n < 10 {
		t.Fatalf("only %d certificates compared", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, der := range pemCertificates(f) {
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := Parse(der)
		if err == nil && c.SerialNumber == nil {
			t.Fatal("parsed without a serial")
		}
		KeyOf(der)
	})
}
