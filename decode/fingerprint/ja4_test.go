package fingerprint

import (
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// specHello is the ClientHello of the worked example in FoxIO's JA4.md
// ("Cipher hash", "Extension hash", "Example" and "Raw Output"), lists in
// the original order that JA4_ro shows.
func specHello() *tls.ClientHello {
	return &tls.ClientHello{
		LegacyVersion: 0x0303,
		CipherSuites: []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
			0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d,
			0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015},
		ServerName:          "example.com",
		ALPNProtocols:       []string{"h2", "http/1.1"},
		SupportedVersions:   []uint16{0x0304, 0x0303},
		SignatureAlgorithms: []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
	}
}

// TestJA4SpecExample checks the values JA4.md states for its example.
func TestJA4SpecExample(t *testing.T) {
	ja4, ja4r := JA4(specHello(), 't')
	if want := "t13d1516h2_8daaf6152771_e5627efa2ab1"; ja4 != want {
		t.Errorf("JA4 = %s, want %s", ja4, want)
	}
	want := "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_" +
		"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_" +
		"0403,0804,0401,0503,0805,0501,0806,0601"
	if ja4r != want {
		t.Errorf("JA4_r = %s\nwant     %s", ja4r, want)
	}
}

// TestJA4SpecNoSignatureAlgorithms: JA4.md, "Extension hash": without
// signature algorithms the string ends without '_' and hashes to
// 6d807ffa2a79.
func TestJA4SpecNoSignatureAlgorithms(t *testing.T) {
	ch := specHello()
	ch.SignatureAlgorithms = nil
	ja4, ja4r := JA4(ch, 't')
	if !strings.HasSuffix(ja4, "_6d807ffa2a79") {
		t.Errorf("JA4 = %s, want part c 6d807ffa2a79", ja4)
	}
	if !strings.HasSuffix(ja4r, "_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01") {
		t.Errorf("JA4_r = %s: want the extension list last, no trailing '_'", ja4r)
	}
}

// TestJA4GREASEIgnored: GREASE values anywhere change nothing (JA4.md,
// "Details": "ignore GREASE values anywhere it sees them").
func TestJA4GREASEIgnored(t *testing.T) {
	want, wantR := JA4(specHello(), 't')
	ch := specHello()
	ch.CipherSuites = append([]uint16{0x0a0a}, ch.CipherSuites...)
	ch.Extensions = append([]uint16{0x2a2a}, append(ch.Extensions, 0xfafa)...)
	ch.SupportedVersions = append([]uint16{0x7a7a}, ch.SupportedVersions...)
	ch.SignatureAlgorithms = append([]uint16{0x1a1a}, ch.SignatureAlgorithms...)
	got, gotR := JA4(ch, 't')
	if got != want || gotR != wantR {
		t.Errorf("with GREASE: %s / %s\nwant %s / %s", got, gotR, want, wantR)
	}
}

func TestJA4PartA(t *testing.T) {
	many := make([]uint16, 120)
	for i := range many {
		many[i] = uint16(0x0100 + i)
	}
	tests := []struct {
		name string
		edit func(*tls.ClientHello)
		tr   byte
		want string // part a
	}{
		{"spec", func(*tls.ClientHello) {}, 't', "t13d1516h2"},
		{"quic", func(*tls.ClientHello) {}, 'q', "q13d1516h2"},
		{"no SNI extension", func(c *tls.ClientHello) { c.Extensions = without(c.Extensions, 0) }, 't', "t13i1515h2"},
		{"no supported_versions: legacy version", func(c *tls.ClientHello) { c.Extensions = without(c.Extensions, 43) }, 't', "t12d1515h2"},
		{"supported_versions only GREASE: legacy", func(c *tls.ClientHello) { c.SupportedVersions = []uint16{0x3a3a} }, 't', "t12d1516h2"},
		{"highest supported version wins, any order", func(c *tls.ClientHello) { c.SupportedVersions = []uint16{0x0302, 0x0304, 0x0303} }, 't', "t13d1516h2"},
		{"TLS 1.0", func(c *tls.ClientHello) { c.LegacyVersion = 0x0301; c.Extensions = without(c.Extensions, 43) }, 't', "t10d1515h2"},
		{"SSL 3.0", func(c *tls.ClientHello) { c.LegacyVersion = 0x0300; c.Extensions = without(c.Extensions, 43) }, 't', "ts3d1515h2"},
		{"SSL 2.0", func(c *tls.ClientHello) { c.LegacyVersion = 0x0002; c.Extensions = without(c.Extensions, 43) }, 't', "ts2d1515h2"},
		{"DTLS 1.2", func(c *tls.ClientHello) { c.LegacyVersion = 0xfefd; c.Extensions = without(c.Extensions, 43) }, 'd', "dd2d1515h2"},
		{"unknown version", func(c *tls.ClientHello) { c.LegacyVersion = 0x1234; c.Extensions = without(c.Extensions, 43) }, 't', "t00d1515h2"},
		{"no ALPN", func(c *tls.ClientHello) { c.Extensions = without(c.Extensions, 16); c.ALPNProtocols = nil }, 't', "t13d151500"},
		{"counts cap at 99", func(c *tls.ClientHello) { c.CipherSuites = many; c.Extensions = many }, 't', "t12i9999h2"}, // no supported_versions among them,
		{"SCSV counts", func(c *tls.ClientHello) { c.CipherSuites = append(c.CipherSuites, 0x00ff, 0x5600) }, 't', "t13d1716h2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := specHello()
			tt.edit(ch)
			ja4, ja4r := JA4(ch, tt.tr)
			if ja4[:10] != tt.want || ja4r[:10] != tt.want {
				t.Errorf("part a = %s / %s, want %s", ja4[:10], ja4r[:10], tt.want)
			}
		})
	}
}

func without(vs []uint16, drop uint16) []uint16 {
	var out []uint16
	for _, v := range vs {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}

// TestJA4EmptyLists: JA4.md: an empty cipher or extension list hashes to
// "000000000000", not to the SHA-256 of nothing.
func TestJA4EmptyLists(t *testing.T) {
	ch := &tls.ClientHello{LegacyVersion: 0x0303}
	ja4, ja4r := JA4(ch, 't')
	if want := "t12i000000_000000000000_000000000000"; ja4 != want {
		t.Errorf("JA4 = %s, want %s", ja4, want)
	}
	if want := "t12i000000__"; ja4r != want {
		t.Errorf("JA4_r = %q, want %q", ja4r, want)
	}
	// SNI and ALPN alone leave part c's list empty too.
	ch.Extensions = []uint16{0, 16}
	ch.ALPNProtocols = []string{"h2"}
	if ja4, _ := JA4(ch, 't'); ja4 != "t12d0002h2_000000000000_000000000000" {
		t.Errorf("SNI+ALPN only: JA4 = %s", ja4)
	}
}

// TestALPNChars: JA4.md's "ALPN Extension Value" examples, except where
// both reference implementations print something else (see alpnChars).
func TestALPNChars(t *testing.T) {
	tests := []struct {
		in, want, why string
	}{
		{"h2", "h2", "spec"},
		{"http/1.1", "h1", "spec"},
		{"", "00", "spec: empty first value"},
		{"h", "hh", "spec: one character is first and last"},
		{"\xab", "ab", "spec: 0xAB -> ab (python 99, rust 90 disagree)"},
		{"\x30\xab", "3b", "spec: 0x30 0xAB -> 3b (python '0'+U+FFFD, rust 09 disagree)"},
		{"\x30\x31\xab\xcd", "3d", "spec: 0x30 0x31 0xAB 0xCD -> 3d"},
		{"\x30\xab\xcd\x31", "01", "spec and both implementations"},
		{"\xab\xcd", "99", "both implementations (spec text: ad); FoxIO tls-non-ascii-alpn expects 99"},
		{"\xba\xad", "99", "FoxIO tls-non-ascii-alpn.pcapng"},
		{"acme-tls/1", "a1", "spec and both implementations"},
		{"h2-", "h-", "both implementations keep ASCII punctuation (spec text: 6d)"},
	}
	for _, tt := range tests {
		if got := alpnChars(tt.in); string(got[:]) != tt.want {
			t.Errorf("alpnChars(%q) = %q, want %q (%s)", tt.in, got[:], tt.want, tt.why)
		}
	}
}

// TestIsGREASE checks the RFC 8701, section 2 list exactly.
func TestIsGREASE(t *testing.T) {
	grease := map[uint16]bool{}
	for _, v := range []uint16{0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a,
		0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa} {
		grease[v] = true
	}
	for v := 0; v <= 0xffff; v++ {
		if isGREASE(uint16(v)) != grease[uint16(v)] {
			t.Errorf("isGREASE(%#04x) = %v", v, !grease[uint16(v)])
		}
	}
}

func TestKnownClient(t *testing.T) {
	if got := KnownClient("t13d1516h2_8daaf6152771_e5627efa2ab1"); got != "Chrome" {
		t.Errorf("KnownClient(chrome) = %q", got)
	}
	if got := KnownClient("t13d1516h2_000000000000_000000000000"); got != "" {
		t.Errorf("KnownClient(unknown) = %q, want empty", got)
	}
	for ja4 := range knownClients {
		if !ja4Shape(ja4) {
			t.Errorf("table row %q is not a JA4", ja4)
		}
	}
}

// ja4Shape checks the fixed layout of a JA4: transport, two version
// characters, d/i, four count digits, two ALPN characters (any ASCII), then
// two 12-digit lowercase hex hashes, separated by '_'.
func ja4Shape(s string) bool {
	if len(s) != ja4Len || s[10] != '_' || s[23] != '_' {
		return false
	}
	if !strings.ContainsRune("tqd", rune(s[0])) || !strings.ContainsRune("0123456789sd", rune(s[1])) ||
		!strings.ContainsRune("0123456789", rune(s[2])) || !strings.ContainsRune("di", rune(s[3])) {
		return false
	}
	for _, c := range s[4:8] {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, c := range s[8:10] {
		if c >= 0x80 {
			return false
		}
	}
	for _, c := range s[11:23] + s[24:] {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
