package ladder

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tlsscope/tlsscope/decode/facts"
)

func render(t *testing.T, c *facts.Connection, fs []facts.Finding, opt Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, c, fs, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// linesAfter returns the lines that follow the first line containing
// marker, up to the next arrow line.
func blockOf(out, marker string) string {
	i := strings.Index(out, marker)
	if i < 0 {
		return ""
	}
	rest := out[i:]
	var b strings.Builder
	for n, l := range strings.Split(rest, "\n") {
		if n > 0 && strings.Contains(l, "-|") || n > 0 && strings.Contains(l, "|-") || n > 0 && strings.Contains(l, "|<") {
			break
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

func TestFindingUnderTheStepThatCausedIt(t *testing.T) {
	c, fs := fixtureTLS12(t)
	out := render(t, c, fs, Options{})
	cert := blockOf(out, " Certificate ")
	if !strings.Contains(cert, "! cert-expired (high)") {
		t.Errorf("cert-expired not under the Certificate arrow:\n%s", out)
	}
	if strings.Contains(blockOf(out, " ClientHello "), "cert-expired") {
		t.Errorf("cert-expired under ClientHello")
	}
	if !strings.Contains(out, "Findings on the connection as a whole:\n  ! weak-thing (low)") {
		t.Errorf("finding without a step not listed apart:\n%s", out)
	}
	if strings.Contains(out, "other-connection") {
		t.Errorf("another connection's finding drawn:\n%s", out)
	}
}

func TestTimingsRelativeToClientHello(t *testing.T) {
	c, fs := fixtureTLS12(t)
	out := render(t, c, fs, Options{})
	for _, want := range []string{"+0.000 ms  |--- ClientHello", "+1.000 ms  |<", "handshake RTT 1.000 ms", "first application data +3.100 ms"} {
		if !strings.Contains(strings.ReplaceAll(out, "\n", " "), want) {
			t.Errorf("missing %q:\n%s", want, out)
		}
	}
}

func TestPasswordMaskedUnderCleartextRequest(t *testing.T) {
	c, fs := fixtureHTTP()
	out := render(t, c, fs, Options{})
	if strings.Contains(out, plantedPassword) {
		t.Fatalf("planted password printed:\n%s", out)
	}
	req := blockOf(out, " POST /login ")
	for _, want := range []string{"secret password-field: h******", "! plaintext-credentials (critical)"} {
		if !strings.Contains(req, want) {
			t.Errorf("%q not under the request:\n%s", want, out)
		}
	}
	if !strings.Contains(render(t, c, fs, Options{ShowSecrets: true}), plantedPassword) {
		t.Errorf("ShowSecrets did not show the value")
	}
}

func TestColorOnlyWhenAsked(t *testing.T) {
	c, fs := fixtureTLS12(t)
	// An SNI from the wire may carry escape sequences of its own.
	c.TLS.ClientHello.ServerName = "evil\x1b[2J\x1b]0;title\x07.example"
	if out := render(t, c, fs, Options{}); strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("escape codes without Color: %q", out)
	}
	out := render(t, c, fs, Options{Color: true})
	if !strings.Contains(out, "\x1b[31m") || !strings.Contains(out, "\x1b[0m") {
		t.Errorf("no colour with Color: %q", out)
	}
}

func TestLinesFitWidth(t *testing.T) {
	c, fs := fixtureTLS12(t)
	h, hf := fixtureHTTP()
	for _, w := range []int{MinWidth, 80, 132} {
		for _, out := range []string{render(t, c, fs, Options{Width: w}), render(t, h, hf, Options{Width: w})} {
			for _, l := range strings.Split(out, "\n") {
				if n := utf8.RuneCountInString(l); n > w {
					t.Errorf("width %d: line of %d runes: %q", w, n, l)
				}
			}
		}
	}
}

func TestSelect(t *testing.T) {
	tls12, _ := fixtureTLS12(t)
	http, _ := fixtureHTTP()
	v6 := &facts.Connection{ID: 12, Client: ap("[2001:db8::1]:5555"), Server: ap("[2001:db8::2]:443")}
	conns := []*facts.Connection{tls12, http, v6}
	for _, tc := range []struct {
		q    string
		want []uint64
	}{
		{"#12", []uint64{12}},
		{"12", []uint64{12}},
		{"7", []uint64{7}},
		{"99", nil},
		{"www.example.com", []uint64{7}},
		{"*.EXAMPLE.com", []uint64{7}},
		{"*.example.org", nil},
		{"10.0.0.10", []uint64{3}},
		{"10.0.0.10:80", []uint64{3}},
		{"10.0.0.5:40001", []uint64{3}},
		{"10.0.0.10:81", nil},
		{"2001:db8::2", []uint64{12}},
		{"[2001:db8::1]:5555", []uint64{12}},
		{"93.184.216.34:443", []uint64{7}},
	} {
		got, err := Select(conns, tc.q)
		if err != nil {
			t.Errorf("%q: %v", tc.q, err)
			continue
		}
		var ids []uint64
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if len(ids) != len(tc.want) || len(ids) > 0 && ids[0] != tc.want[0] {
			t.Errorf("Select(%q) = %v, want %v", tc.q, ids, tc.want)
		}
	}
	for _, bad := range []string{"", "[a-"} {
		if _, err := Select(conns, bad); err == nil {
			t.Errorf("Select(%q): no error", bad)
		}
	}
}
