package policy

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse: a policy file never panics the parser, and a policy that
// parses survives Marshal and Parse again.
func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte("suppress:\n  - id: x\n    reason: y\n    expires: 2027-01-01\n"))
	f.Add([]byte("pins:\n  - sha256: [\"" + "ab" + "\"]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("re-parse of\n%s\nfailed: %v", out, err)
		}
	})
}

// FuzzMerge: merging a baseline's suppressions into any policy file never
// panics, and a merge that succeeds reads back with the base's
// suppressions and the new one (Merge checks it; this holds it).
func FuzzMerge(f *testing.F) {
	f.Add([]byte(example), "localhost")
	f.Add([]byte("# c\nmin_version: TLS 1.2 # x\nsuppress:\n  - id: cert-expired\n    reason: y\n"), "*.example.com")
	f.Add([]byte("suppress: []\n"), "a\nb")
	f.Add([]byte(""), "")
	f.Fuzz(func(t *testing.T, base []byte, sni string) {
		p, err := Parse(base)
		if err != nil || !utf8.ValidString(sni) { // (Marshal writes invalid UTF-8 as U+FFFD)
			return
		}
		add := []Suppression{{ID: "cert-expired", SNI: globLiteral(sni), Reason: "baseline " + sni}}
		out, err := Merge(base, add)
		if err != nil {
			return
		}
		q, err := Parse(out)
		if err != nil || len(q.Suppress) != len(p.Suppress)+1 || q.Suppress[len(q.Suppress)-1] != add[0] {
			t.Fatalf("merged\n%s\ninto\n%s\nread back %+v (%v)", out, base, q, err)
		}
	})
}
