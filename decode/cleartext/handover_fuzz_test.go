package cleartext

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// handoverProtos are the hand-over parsers FuzzHandover drives; seeds
// come from testdata/pcaps/handover, the capture of each one.
var handoverProtos = []struct {
	p    Protocol
	pcap string
}{
	{Postgres, "pg-ssl"}, {Postgres, "pg-refused"}, {MySQL, "mysql-ssl"}, {SOCKS4, "socks4"},
	{SOCKS5, "socks5"}, {SOCKS5, "socks5-auth"}, {XMPP, "xmpp-starttls"}, {RDP, "rdp-x224"},
	{IRC, "irc-starttls"}, {NNTP, "nntp-refused"}, {Sieve, "sieve-refused"},
}

// script writes a conversation as FuzzHandover's input: "C:" or "S:"
// chunks separated by NUL bytes (as FuzzLineProtocols).
func script(cv conv) []byte {
	var buf bytes.Buffer
	for _, ch := range cv {
		if ch.dir == tls.ServerToClient {
			buf.WriteString("S:")
		} else {
			buf.WriteString("C:")
		}
		buf.Write(ch.data)
		buf.WriteByte(0)
	}
	return buf.Bytes()
}

// FuzzHandover: the hand-over parsers never panic, keep their buffers
// within maxHandover, and find the same secrets and the same switch
// whether a chunk arrives whole or cut in two; Rest never exceeds the
// data fed.
func FuzzHandover(f *testing.F) {
	dir := filepath.Join(testutil.Pcaps(f), "handover")
	for i, hp := range handoverProtos {
		if hp.pcap == "" {
			continue
		}
		if _, err := exec.LookPath("tshark"); err != nil {
			break
		}
		for _, fs := range followTCP(f, filepath.Join(dir, hp.pcap+".pcap")) {
			f.Add(uint8(i), script(fs.chunks), uint16(20))
		}
	}
	// RDP: an X.224 Connection Request and a Connection Confirm selecting
	// PROTOCOL_SSL (MS-RDPBCGR 4.1.1, 4.1.2).
	rdp := 0
	for i, hp := range handoverProtos {
		if hp.p == RDP {
			rdp = i
		}
	}
	f.Add(uint8(rdp), script(conv{
		{tls.ClientToServer, []byte("\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x01\x00\x00\x00")},
		{tls.ServerToClient, []byte("\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x01\x00\x00\x00\x16\x03\x01")},
	}), uint16(5))
	f.Fuzz(func(t *testing.T, pi uint8, raw []byte, cut uint16) {
		p := handoverProtos[int(pi)%len(handoverProtos)].p
		var cv conv
		for _, ch := range bytes.Split(raw, []byte{0}) {
			switch {
			case bytes.HasPrefix(ch, []byte("S:")):
				cv = append(cv, followChunk{tls.ServerToClient, ch[2:]})
			case bytes.HasPrefix(ch, []byte("C:")):
				cv = append(cv, followChunk{tls.ClientToServer, ch[2:]})
			default:
				cv = append(cv, followChunk{tls.ClientToServer, ch})
			}
		}
		st := NewStream(p, Config{}, Handler{})
		for _, ch := range cv {
			Sniff(ch.data, ch.dir, uint16(cut))
			if st.Feed(ch.dir, ch.data, time.Unix(0, 0)) {
				if st.Rest() > len(ch.data) || st.Rest() < 0 {
					t.Fatalf("Rest %d of %d bytes", st.Rest(), len(ch.data))
				}
				break
			}
			if c := st.hand; c != nil {
				for _, b := range c.buf {
					if len(b) > maxHandover {
						t.Fatalf("hand-over buffer %d", len(b))
					}
				}
			}
		}
		whole := runAs(p, cv, Config{ShowSecrets: true}, nil)
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
	})
}
