package cleartext

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// The fuzz targets check three invariants: no panic on any input, bounded
// state after every Feed, and (for the framed protocols) the same secrets
// whether a direction's bytes arrive whole or cut in two anywhere.

// seedCaptures adds the two directions of recorded streams as seeds, when
// tshark and the captures are there.
func seedCaptures(f *testing.F, glob string, add func(client, server []byte)) {
	if _, err := exec.LookPath("tshark"); err != nil {
		return
	}
	files, _ := filepath.Glob(filepath.Join(testutil.Pcaps(f), glob))
	for _, p := range files {
		for _, fs := range followTCP(f, p) {
			var c, s []byte
			for _, ch := range fs.chunks {
				if ch.dir == tls.ClientToServer {
					c = append(c, ch.data...)
				} else {
					s = append(s, ch.data...)
				}
			}
			add(c, s)
		}
	}
}

type fuzzRun struct {
	secrets []string
	http    int
	up      bool
}

// feedTwo feeds client then server bytes, cutting direction `which` at
// `cut` (no cut when out of range), checking the bounds after each Feed.
func feedTwo(t *testing.T, p Protocol, client, server []byte, which int, cut int) fuzzRun {
	var r fuzzRun
	st := NewStream(p, Config{ShowSecrets: true, MaxBody: 4096}, Handler{
		Secret: func(s facts.Secret) {
			r.secrets = append(r.secrets, s.Kind+"|"+s.Type+"|"+s.User+"|"+s.Value+"|"+s.Field)
			// The masked form names the secret's type (an Authorization
			// scheme, say), which a value may happen to be part of.
			shown := strings.ReplaceAll(strings.ToLower(s.Masked), strings.ToLower(s.Type), "")
			if s.Value != "" && len(s.Value) > 3 && strings.Contains(shown, strings.ToLower(s.Value)) {
				t.Fatalf("masked %q shows the value %q", s.Masked, s.Value)
			}
		},
		HTTP: func(facts.HTTPMessage) { r.http++ },
	})
	ts := time.Unix(0, 0)
	for i, data := range [][]byte{client, server} {
		dir := tls.Direction(i)
		parts := [][]byte{data}
		if i == which && cut > 0 && cut < len(data) {
			parts = [][]byte{data[:cut], data[cut:]}
		}
		for _, part := range parts {
			if st.Feed(dir, append([]byte(nil), part...), ts) {
				r.up = true
			}
			checkBounds(t, st)
		}
	}
	st.Close()
	return r
}

func checkBounds(t *testing.T, st *Stream) {
	if c := st.http; c != nil {
		for _, d := range c.dir {
			if len(d.buf) > maxHeaderBytes || d.msg != nil && len(d.msg.body) > st.cfg.MaxBody {
				t.Fatalf("HTTP buffers over the limits: %d, body", len(d.buf))
			}
		}
		if len(c.pending) > maxPipelined {
			t.Fatalf("%d pipelined requests kept", len(c.pending))
		}
	}
	if c := st.line; c != nil {
		for _, d := range c.dir {
			if len(d.buf) > maxLine+1 {
				t.Fatalf("line buffer %d", len(d.buf))
			}
		}
		if len(c.telnet.line) > maxLine || len(c.telnet.tail) > 128+512 {
			t.Fatalf("telnet buffers %d %d", len(c.telnet.line), len(c.telnet.tail))
		}
	}
	if c := st.ldap; c != nil {
		for _, b := range c.buf {
			if len(b) > maxLDAPMessage {
				t.Fatalf("LDAP buffer %d", len(b))
			}
		}
	}
	if len(st.seen) > maxSecrets {
		t.Fatalf("%d secrets remembered", len(st.seen))
	}
}

func equalRuns(a, b fuzzRun) bool {
	return strings.Join(a.secrets, "\n") == strings.Join(b.secrets, "\n") && a.http == b.http && a.up == b.up
}

func FuzzHTTP(f *testing.F) {
	for _, fx := range httpFixtures {
		var c, s []byte
		for _, ch := range fx.conv {
			if ch.dir == tls.ClientToServer {
				c = append(c, ch.data...)
			} else {
				s = append(s, ch.data...)
			}
		}
		f.Add(c, s, uint16(len(c)/2), false)
	}
	seedCaptures(f, "http-[cgk]*.pcap", func(c, s []byte) { f.Add(c, s, uint16(len(c)/3), true) })
	f.Fuzz(func(t *testing.T, client, server []byte, cut uint16, cutServer bool) {
		which := 0
		if cutServer {
			which = 1
		}
		whole := feedTwo(t, HTTP, client, server, -1, 0)
		split := feedTwo(t, HTTP, client, server, which, int(cut))
		if !equalRuns(whole, split) {
			t.Fatalf("cut at %d (server %v) changed the result:\nwhole %+v\nsplit %+v", cut, cutServer, whole, split)
		}
	})
}

// FuzzLineProtocols drives FTP, SMTP, POP3, IMAP and Telnet: the client's
// and server's bytes are interleaved line by line, as a real exchange is.
func FuzzLineProtocols(f *testing.F) {
	protos := []Protocol{FTP, SMTP, POP3, IMAP, Telnet, IRC, NNTP, Sieve}
	for _, fx := range lineFixtures {
		var buf bytes.Buffer
		for _, ch := range fx.conv {
			if ch.dir == tls.ServerToClient {
				buf.WriteString("S:")
			} else {
				buf.WriteString("C:")
			}
			buf.Write(ch.data)
			buf.WriteByte(0)
		}
		for i, p := range protos {
			if p == fx.proto {
				f.Add(uint8(i), buf.Bytes(), uint16(buf.Len()/2))
			}
		}
	}
	f.Fuzz(func(t *testing.T, pi uint8, script []byte, cut uint16) {
		p := protos[int(pi)%len(protos)]
		// The script is "C:" or "S:" chunks separated by NUL bytes.
		var cv conv
		for _, ch := range bytes.Split(script, []byte{0}) {
			switch {
			case bytes.HasPrefix(ch, []byte("S:")):
				cv = append(cv, followChunk{tls.ServerToClient, ch[2:]})
			case bytes.HasPrefix(ch, []byte("C:")):
				cv = append(cv, followChunk{tls.ClientToServer, ch[2:]})
			default:
				cv = append(cv, followChunk{tls.ClientToServer, ch})
			}
		}
		whole := runAs(p, cv, Config{ShowSecrets: true}, nil)
		// Cut the chunk holding byte `cut` of the script.
		pos, idx, at := int(cut), -1, 0
		for i, ch := range cv {
			if pos < len(ch.data) {
				idx, at = i, pos
				break
			}
			pos -= len(ch.data)
		}
		if idx < 0 {
			return
		}
		split := runAs(p, cv, Config{ShowSecrets: true}, map[int]int{idx: at})
		if strings.Join(got(whole.secrets), "\n") != strings.Join(got(split.secrets), "\n") || whole.startTLS != split.startTLS {
			t.Fatalf("%s: cut chunk %d at %d changed the result:\nwhole %q %d\nsplit %q %d", p, idx, at, got(whole.secrets), whole.startTLS, got(split.secrets), split.startTLS)
		}
		// Sniff never panics either.
		for _, ch := range cv {
			Sniff(ch.data, ch.dir, uint16(cut))
		}
	})
}

func FuzzLDAP(f *testing.F) {
	for _, h := range []string{ldapBindHex, ldapStartTLSReq, ldapStartTLSOK, "300c020101600702010304008000",
		"308400000035" + "020101" + "60840000002c" + ldapBindHex[14:]} {
		b, _ := hex.DecodeString(h)
		f.Add(b, []byte{}, uint16(len(b)/2))
	}
	ok, _ := hex.DecodeString(ldapStartTLSOK)
	req, _ := hex.DecodeString(ldapStartTLSReq)
	f.Add(req, ok, uint16(3))
	f.Fuzz(func(t *testing.T, client, server []byte, cut uint16) {
		Sniff(client, tls.ClientToServer, 389)
		whole := feedTwo(t, LDAP, client, server, -1, 0)
		split := feedTwo(t, LDAP, client, server, 0, int(cut))
		if !equalRuns(whole, split) {
			t.Fatalf("cut at %d changed the result:\nwhole %+v\nsplit %+v", cut, whole, split)
		}
	})
}

func FuzzMask(f *testing.F) {
	f.Add("hunter2")
	f.Add("4111 1111 1111 1111")
	f.Fuzz(func(t *testing.T, v string) {
		// What Mask shows of the value is the part before "***": never
		// the whole of a value of four characters or more.
		m := Mask(v)
		shown, _, ok := strings.Cut(m, "***")
		if !ok || utf8.RuneCountInString(v) >= 4 && strings.Contains(shown, v) {
			t.Fatalf("Mask(%q) = %q", v, m)
		}
		if d := digitsOnly(v); len(d) >= 13 && len(d) <= 19 {
			if c := MaskCard(v); strings.Count(c, "*") != len(d)-10 || strings.Contains(c, d) {
				t.Fatalf("MaskCard(%q) = %q", v, c)
			}
		}
		if m := MaskToken("t", v); !strings.HasPrefix(m, "t sha256:") || len(m) != len("t sha256:")+8+len("…") {
			t.Fatalf("MaskToken(%q) = %q", v, m)
		}
	})
}
