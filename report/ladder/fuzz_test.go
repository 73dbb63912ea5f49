package ladder

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// sessionFrom builds a session whose events, alerts and hellos come from
// fuzz bytes: 4 bytes per event (content, handshake type, flags, time
// step), so events, alerts and hellos need not agree with each other.
func sessionFrom(data []byte) *tls.Session {
	s := &tls.Session{}
	ts := time.Unix(1_700_000_000, 0)
	for len(data) >= 4 {
		e := tls.Event{Content: data[0], Handshake: data[1], From: tls.Direction(data[2] & 1), Encrypted: data[2]&2 != 0}
		ts = ts.Add(time.Duration(data[3]) * time.Duration(1+int(data[2]>>2)) * time.Millisecond * 997)
		e.Time = ts
		if data[2]&4 != 0 {
			e.Time = time.Time{}
		}
		s.Events = append(s.Events, e)
		if e.Content == tls.ContentAlert && data[2]&8 != 0 {
			s.Alerts = append(s.Alerts, tls.Alert{From: e.From, Level: data[1] & 3, Description: data[3], Encrypted: data[2]&16 != 0})
		}
		if data[2]&32 != 0 {
			s.ClientHello = &tls.ClientHello{ServerName: string(data[:4]), SupportedVersions: []uint16{uint16(data[1]) << 8}}
		}
		if data[2]&64 != 0 {
			s.ServerHello = &tls.ServerHello{SupportedVersion: 0x0304, CipherSuite: uint16(data[3])}
			s.Version, s.Hidden = 0x0304, true
		}
		if data[2]&128 != 0 {
			s.HelloRetry = &tls.ServerHello{KeyShareGroup: uint16(data[1])}
			s.FirstClientHello = &tls.ClientHello{}
		}
		data = data[4:]
	}
	return s
}

// FuzzWrite: any session draws without panicking, every line fits the
// width, and no control character but the newline (and, with Color, the
// escape of SGR sequences) reaches the terminal.
func FuzzWrite(f *testing.F) {
	f.Add([]byte{22, 1, 0, 0, 22, 2, 1, 1, 22, 11, 1, 0, 21, 2, 9, 40}, uint8(0), "www.example.com")
	f.Add([]byte{22, 1, 0, 0, 22, 2, 193, 1, 20, 0, 1, 0, 23, 0, 3, 200, 23, 0, 3, 1, 23, 0, 2, 1}, uint8(30), "\x1b[2J")
	f.Add([]byte{0x80, 1, 4, 255, 24, 0, 1, 255, 21, 0, 0x19, 0}, uint8(200), "")
	f.Fuzz(func(t *testing.T, data []byte, width uint8, sni string) {
		s := sessionFrom(data)
		if s.ClientHello != nil {
			s.ClientHello.ServerName = sni
		}
		c := &facts.Connection{ID: 1, TLS: s, HTTP: []facts.HTTPMessage{{Method: sni, Path: sni, Status: 200}},
			Secrets: []facts.Secret{{Protocol: "ftp", Field: sni, Masked: sni, From: 1}}}
		fs := []facts.Finding{{ID: sni, ConnID: 1, Step: facts.StepCertificate, Message: sni}, {ID: "x", ConnID: 1, Step: facts.StepAlert}, {ID: "y", ConnID: 1, Step: facts.StepHTTP}}
		w := int(width)
		for _, color := range []bool{false, true} {
			var b bytes.Buffer
			if err := Write(&b, c, fs, Options{Width: w, Color: color}); err != nil {
				t.Fatal(err)
			}
			limit := max(w, MinWidth)
			if w == 0 {
				limit = DefaultWidth
			}
			for _, l := range strings.Split(b.String(), "\n") {
				if color {
					l = sgr.ReplaceAllString(l, "")
				}
				if n := utf8.RuneCountInString(l); n > limit {
					t.Fatalf("line of %d runes at width %d: %q", n, limit, l)
				}
				if strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }) {
					t.Fatalf("control character in %q", l)
				}
			}
		}
	})
}

func FuzzSelect(f *testing.F) {
	for _, q := range []string{"#12", "12", "*.example.com", "10.0.0.1", "[::1]:443", "[", "a[b", "::ffff:1.2.3.4"} {
		f.Add(q)
	}
	conns := []*facts.Connection{
		{ID: 12, Client: ap("10.0.0.1:5000"), Server: ap("[::1]:443"), TLS: &tls.Session{ClientHello: &tls.ClientHello{ServerName: "a.example.com"}}},
		{ID: 13, Client: ap("1.2.3.4:1"), Server: ap("5.6.7.8:80")},
	}
	f.Fuzz(func(t *testing.T, q string) {
		got, err := Select(conns, q)
		if err != nil && got != nil {
			t.Fatalf("error %v with a result", err)
		}
	})
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")
