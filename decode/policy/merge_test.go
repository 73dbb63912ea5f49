package policy

import (
	"strings"
	"testing"
)

// TestMergeKeepsTheRest: merging a baseline's suppressions into an
// existing policy appends them to its suppress list (or starts one) and
// keeps every other setting, reason and comment.
func TestMergeKeepsTheRest(t *testing.T) {
	add := []Suppression{
		{ID: "cert-untrusted", Server: "127.0.0.1:21431", Reason: "baseline 2026-12-06, seen in a.pcap"},
		{ID: "cert-self-signed", SNI: `\*.example.com`, Reason: "baseline 2026-12-06, seen in a.pcap"},
	}
	for _, tc := range []struct {
		name, base string
		n          int // suppressions after the merge
		keep       []string
	}{
		{"list", "# corp policy\nmin_version: TLS 1.2 # rule 7\nsuppress:\n  # the old box\n  - id: cert-expired\n    server: 10.0.0.1\n    reason: retired in Q3 # ticket 12\n    expires: 2027-01-31\nseverity:\n  cbc-mode-cipher: low\n",
			3, []string{"# corp policy", "# rule 7", "# the old box", "# ticket 12", "reason: retired in Q3", "expires: 2027-01-31", "cbc-mode-cipher: low", "min_version: TLS 1.2"}},
		{"no list", "# strict\nmin_version: TLS 1.3\n", 2, []string{"# strict", "min_version: TLS 1.3"}},
		{"empty list", "min_version: TLS 1.2\nsuppress: []\n", 2, []string{"min_version: TLS 1.2"}},
		{"null list", "min_version: TLS 1.2\nsuppress:\n", 2, []string{"min_version: TLS 1.2"}},
		{"empty file", "", 2, nil},
	} {
		out, err := Merge([]byte(tc.base), add)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		p, err := Parse(out)
		if err != nil || len(p.Suppress) != tc.n {
			t.Errorf("%s: merged policy reads back with %v, err %v:\n%s", tc.name, p, err, out)
			continue
		}
		if got := p.Suppress[tc.n-1]; got != add[1] {
			t.Errorf("%s: last suppression %+v, want %+v", tc.name, got, add[1])
		}
		for _, k := range tc.keep {
			if !strings.Contains(string(out), k) {
				t.Errorf("%s: lost %q:\n%s", tc.name, k, out)
			}
		}
	}
	if _, err := Merge([]byte("suppress: [{id: cert-expird, reason: x}]\n"), add); err == nil || !strings.Contains(err.Error(), "cert-expired") {
		t.Errorf("a bad base policy: %v, want its check error", err)
	}
}
