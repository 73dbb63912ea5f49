package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// FuzzTable puts hostile text (as it can arrive from traffic: SNI,
// finding messages, evidence, capture names) into the table and the
// markdown report: every table line must fit the width unless it holds a
// single word wider than the width (a value is never cut: "sni: NAME"),
// and no control character other than the line feed may reach the
// terminal.
func FuzzTable(f *testing.F) {
	f.Add("www.example.com", "server certificate has expired", "notAfter=2026", "a.pcap", 80)
	f.Add("\x1b[2J\x1b[H", "evil\r\nmessage\x07", "\x9b31m", "x\x00y.pcap", 40)
	f.Add(strings.Repeat("ｗ", 50), "é́́́", "\xff\xfe", "", 200)
	f.Fuzz(func(t *testing.T, sni, msg, evidence, name string, width int) {
		width = 40 + (width%200+200)%200
		r := testResult(t)
		r.Captures[0].Name = name
		r.Captures[0].Connections[0].TLS.ClientHello.ServerName = sni
		r.Captures[0].Findings = append(r.Captures[0].Findings, facts.Finding{ID: "x", SNI: sni, Message: msg, Evidence: evidence, ConnID: 1, Capture: name})
		var buf bytes.Buffer
		if err := WriteTable(&buf, r, Options{Width: width}); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(buf.String(), "\n") {
			f := strings.Fields(line)
			if len(f) == 2 && strings.HasSuffix(f[0], ":") {
				f = f[1:]
			}
			if n := textWidth(line); n > width && len(f) > 1 {
				t.Fatalf("width %d: %d columns: %q", width, n, line)
			}
		}
		for _, format := range []string{"table", "markdown"} {
			buf.Reset()
			if err := Write(&buf, format, r, Options{Width: width}); err != nil {
				t.Fatal(err)
			}
			for _, c := range buf.String() {
				if c != '\n' && unicode.IsControl(c) {
					t.Fatalf("%s: control character %U in the output", format, c)
				}
			}
		}
	})
}
