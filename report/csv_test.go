package report

import "testing"

// TestCSVNeutralisesEveryCell: OWASP's CSV injection rule on every cell,
// the capture's file name included, with control characters and bidi
// overrides made harmless after the check.
func TestCSVNeutralisesEveryCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=HYPERLINK(1).pcap", "'=HYPERLINK(1).pcap"},
		{"\t=1+1", "'?=1+1"},
		{"\r=1+1", "'?=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"a\x1b[2Jb", "a?[2Jb"},
		{"evil\u202ecod.exe", "evil[U+202E]cod.exe"},
		{"zero\u200bwidth", "zero[U+200B]width"},
		{"bad\xffutf8", "bad?utf8"},
		{"plain.example.com", "plain.example.com"},
	} {
		if got := csvSafe(tc.in); got != tc.want {
			t.Errorf("csvSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
