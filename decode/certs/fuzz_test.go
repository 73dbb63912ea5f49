package certs

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/certs/certtest"
)

// FuzzName: Name reads hostile DER without panicking, always prints
// something, and for a name it reads (no "#hex" fallback) prints at
// least one "=" per attribute encoding/asn1 finds.
func FuzzName(f *testing.F) {
	p := certtest.NewPKI(f)
	for _, c := range []*certtest.Cert{p.Root, p.Intermediate, p.Leaf} {
		f.Add(c.Cert.RawSubject)
		f.Add(c.Cert.RawIssuer)
	}
	seed, _ := asn1.Marshal(pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "a,b"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: " x "}},
		{{Type: asn1.ObjectIdentifier{1, 2, 3}, Value: 42}},
	})
	f.Add(seed)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		s := Name(der)
		if len(der) > 0 && s == "" && !(len(der) == 2 && der[0] == 0x30 && der[1] == 0) {
			t.Fatalf("empty string for %x", der)
		}
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(der, &rdn); err == nil && len(rest) == 0 {
			n := 0
			for _, set := range rdn {
				n += len(set)
			}
			if n > 0 && !strings.HasPrefix(s, "#") && strings.Count(s, "=") < n {
				t.Fatalf("%d attributes, name %q", n, s)
			}
		}
	})
}
