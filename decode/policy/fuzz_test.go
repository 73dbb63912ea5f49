package policy

import "testing"

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
