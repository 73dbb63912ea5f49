package decode_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/keylog"
	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// handoverCaptures are testdata/pcaps/handover's captures of TLS after a
// cleartext preamble (scripts/handovercapture): the server's port, the
// dissector tshark takes for it (its own STARTTLS dissectors where it has
// them, else tls, which skips the cleartext), and what tlsscope must name
// the preamble. Refused ones have no TLS and a credential in the clear.
var handoverCaptures = []struct {
	name, dissector string
	port            int
	starttls        string // Connection.StartTLS
	proxy           string // Connection.Proxy
	refused         bool   // STARTTLS refused: cleartext, a credential found
	sessions        int    // TLS handshakes in the stream (tshark's ClientHellos)
	creds           bool   // a credential in the preamble: tshark's socks.username/password
}{
	{name: "pg-ssl", dissector: "pgsql", port: 25432, starttls: "postgres"},
	{name: "pg-refused", port: 25433, starttls: "postgres", refused: true},
	{name: "mysql-ssl", dissector: "mysql", port: 23306, starttls: "mysql"},
	{name: "http-connect", dissector: "http", port: 28888, starttls: "http", proxy: "localhost:24433"},
	{name: "socks5", dissector: "socks", port: 21080, starttls: "socks5", proxy: "localhost:24433"},
	{name: "socks4", dissector: "socks", port: 21080, starttls: "socks4", proxy: "127.0.0.1:24433"},
	{name: "socks5-auth", dissector: "socks", port: 21081, starttls: "socks5", proxy: "localhost:24433", creds: true},
	{name: "xmpp-starttls", dissector: "xmpp", port: 25222, starttls: "xmpp"},
	{name: "irc-starttls", dissector: "tls", port: 26667, starttls: "irc"},
	{name: "irc-refused", port: 26668, starttls: "irc", refused: true},
	{name: "nntp-starttls", dissector: "nntp", port: 26119, starttls: "nntp"},
	{name: "nntp-refused", port: 26120, starttls: "nntp", refused: true},
	{name: "sieve-starttls", dissector: "tls", port: 24190, starttls: "sieve"},
	{name: "sieve-refused", port: 24191, starttls: "sieve", refused: true},
	{name: "tls-preamble", dissector: "tls", port: 27001},
	{name: "tls-twice", dissector: "tls", port: 27002, sessions: 2},
	// nmap's rdp-enum-encryption: one connection per protocol asked for;
	// the PROTOCOL_SSL one turns to TLS (the others stay X.224).
	{name: "rdp-x224", dissector: "tls", port: 3389, starttls: "rdp"},
}

// analyzeKeys is analyze with the capture's key log, when it has one, so
// that TLS 1.3 certificates are read.
func analyzeKeys(t *testing.T, path, keys string) map[string]*facts.Connection {
	t.Helper()
	cfg := decode.Config{ShowSecrets: true}
	if _, err := os.Stat(keys); err == nil {
		l := keylog.New()
		if err := l.ReadFile(keys); err != nil {
			t.Fatal(err)
		}
		cfg.Keys = keylog.Logs{l}
	}
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	conns := map[string]*facts.Connection{}
	a := decode.New(cfg, decode.Handler{Connection: func(c *facts.Connection) {
		cp := *c
		conns[c.Client.String()+" "+c.Server.String()] = &cp
	}})
	for {
		p, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		a.Packet(p)
	}
	a.Flush()
	return conns
}

// TestHandoverMatchesTshark: for every capture of TLS after a preamble,
// the connection tshark (with the dissector that follows the preamble)
// finds hellos in has tshark's SNI, version, suite, JA3 and JA3S, and the
// server certificate tshark read (decrypting with the key log); the
// preamble's protocol and the proxy's target are named. A refused
// STARTTLS leaves a cleartext connection whose credential is found.
func TestHandoverMatchesTshark(t *testing.T) {
	dir := filepath.Join(testutil.Pcaps(t), "handover")
	testutil.Tool(t, "tshark")
	checked := testutil.MinCompared(t, 12*6, "TLS facts")
	for _, hc := range handoverCaptures {
		t.Run(hc.name, func(t *testing.T) {
			path := filepath.Join(dir, hc.name+".pcap")
			keys := filepath.Join(dir, hc.name+".keys")
			got := analyzeKeys(t, path, keys)
			if hc.refused {
				if len(got) != 1 {
					t.Fatalf("%d connections, want 1: %s", len(got), keys2(got))
				}
				var g *facts.Connection
				for _, c := range got {
					g = c
				}
				if g.Protocol != hc.starttls || g.TLS != nil {
					t.Errorf("protocol %q (TLS %v), want %q in the clear", g.Protocol, g.TLS != nil, hc.starttls)
				}
				if hc.starttls != "irc" && len(g.Secrets) == 0 { // the IRC client sends no password
					t.Errorf("no credential found after the refusal")
				}
				checked.Add(1)
				return
			}
			d := []string{"-d", "tcp.port==" + strconv.Itoa(hc.port) + "," + hc.dissector}
			hellos := oracle.Hellos(t, path, d...)
			want := oracle.Conns(hellos)
			if len(want) != 1 {
				t.Fatalf("tshark found %d TLS connections, want 1", len(want))
			}
			if hc.name != "rdp-x224" && len(got) != 1 {
				t.Fatalf("%d connections, want 1: %s", len(got), keys2(got))
			}
			for key, w := range want {
				g := got[key]
				if g == nil {
					t.Fatalf("%s: not reported (have %s)", key, keys2(got))
				}
				if g.StartTLS != hc.starttls {
					t.Errorf("starttls %q, want %q", g.StartTLS, hc.starttls)
				}
				if g.Proxy != hc.proxy {
					t.Errorf("proxy %q, want %q", g.Proxy, hc.proxy)
				}
				sess := g.TLS
				if sess == nil || sess.ClientHello == nil || sess.ServerHello == nil {
					t.Fatalf("%s: no TLS handshake (protocol %q)", key, g.Protocol)
				}
				if want := max(hc.sessions, 1); w.ClientHellos != want {
					t.Errorf("tshark: %d ClientHellos, want %d", w.ClientHellos, want)
				}
				first := firstHello(hellos)
				eq(t, checked, "sni", sess.ClientHello.ServerName, first.SNI)
				eq(t, checked, "ja3", g.Fingerprints.JA3, first.JA3)
				eq(t, checked, "version", sess.Version, w.Version)
				eq(t, checked, "suite", sess.CipherSuite, w.CipherSuite)
				eq(t, checked, "ja3s", g.Fingerprints.JA3S, w.JA3S)
				if hc.creds {
					checkSOCKSCredential(t, checked, path, d, g)
				}
				if g.TLSOffset <= 0 && hc.name != "tls-twice" { // the one that starts with TLS
					t.Errorf("tls_offset %d, want the preamble's length", g.TLSOffset)
				}
				if hc.sessions > 1 {
					eq(t, checked, "later sessions", len(g.LaterTLS), hc.sessions-1)
					if len(g.LaterTLS) > 0 && g.LaterTLS[0].TLS.ClientHello != nil {
						eq(t, checked, "later sni", g.LaterTLS[0].TLS.ClientHello.ServerName, lastHello(hellos).SNI)
					}
				}
			}
			kl := ""
			if _, err := os.Stat(keys); err == nil {
				kl = keys
			}
			for key, w := range oracle.Decrypted(t, path, kl, d...) {
				if len(w.ServerCerts) == 0 {
					continue
				}
				c := got[key]
				if c == nil || c.TLS == nil || len(c.TLS.Certificates) == 0 {
					t.Errorf("%s: no server certificate; tshark read %d", key, len(w.ServerCerts))
					continue
				}
				checked.Add(1)
				if !bytes.Equal(c.TLS.Certificates[0].Raw, w.ServerCerts[0]) {
					t.Errorf("%s: server certificate differs from tshark's", key)
				}
				if len(c.Certificates) == 0 || c.Certificates[0].Subject != "O=tlsscope handover,CN=localhost" && c.Certificates[0].Subject != "CN=localhost,O=tlsscope handover" {
					t.Errorf("%s: certificate subject %v", key, c.Certificates)
				}
			}
		})
	}
}

func firstHello(hs []oracle.Hello) oracle.Hello {
	for _, h := range hs {
		if h.Type == 1 {
			return h
		}
	}
	return oracle.Hello{}
}

func eq[T comparable](t *testing.T, c *testutil.Compared, what string, got, want T) {
	t.Helper()
	c.Add(1)
	if got != want {
		t.Errorf("%s: %v, tshark %v", what, got, want)
	}
}

func keys2(m map[string]*facts.Connection) string { return keys(m) }

func lastHello(hs []oracle.Hello) oracle.Hello {
	var last oracle.Hello
	for _, h := range hs {
		if h.Type == 1 {
			last = h
		}
	}
	return last
}

// TestCorpusStartTLS: the corpus's STARTTLS captures (Zeek's and nDPI's,
// INDEX.md) give tshark's TLS facts (the .tshark.tsv oracle) on the
// connection, with the preamble's protocol named and its length counted.
func TestCorpusStartTLS(t *testing.T) {
	corpus := testutil.Corpus(t)
	cases := []struct{ path, starttls string }{
		{"zeek/testing/btest/Traces/tls/smtp-starttls.pcap", "smtp"},
		{"zeek/testing/btest/Traces/tls/imap-starttls.pcap", "imap"},
		{"zeek/testing/btest/Traces/tls/pop3-starttls.pcap", "pop3"},
		{"nDPI/tests/cfgs/default/pcap/ftp-start-tls.pcap", "ftp"},
		{"nDPI/tests/cfgs/default/pcap/pop3_stls.pcap", "pop3"},
	}
	checked := testutil.MinCompared(t, len(cases)*5, "STARTTLS facts")
	for _, c := range cases {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			path := filepath.Join(corpus, c.path)
			want := oracle.Conns(oracle.Hellos(t, path))
			got, _ := analyze(t, path, decode.Config{})
			if len(want) == 0 {
				t.Fatal("no TLS connection in the oracle")
			}
			for key, w := range want {
				g := got[key]
				if g == nil || g.TLS == nil || g.TLS.ClientHello == nil {
					t.Fatalf("%s: no TLS facts (have %s)", key, keys(got))
				}
				eq(t, checked, "starttls", g.StartTLS, c.starttls)
				eq(t, checked, "sni", g.TLS.ClientHello.ServerName, w.SNI)
				eq(t, checked, "ja3", g.Fingerprints.JA3, w.JA3)
				eq(t, checked, "version", g.TLS.Version, w.Version)
				eq(t, checked, "suite", g.TLS.CipherSuite, w.CipherSuite)
				if g.TLSOffset <= 0 {
					t.Errorf("tls_offset %d, want the cleartext's length", g.TLSOffset)
				}
			}
		})
	}
}

// TestMidStreamWithoutHandshake: the tls-preamble capture without its
// TCP handshake (a capture started after the SYN): the roles come from
// the ClientHello the scan finds, and the TLS facts are tshark's.
func TestMidStreamWithoutHandshake(t *testing.T) {
	path := filepath.Join(testutil.Pcaps(t), "handover", "tls-preamble.pcap")
	want := oracle.Conns(oracle.Hellos(t, path, "-d", "tcp.port==27001,tls"))
	checked := testutil.MinCompared(t, 4, "TLS facts")
	pkts := readPackets(t, path)
	if len(pkts) < 4 {
		t.Fatalf("%d packets", len(pkts))
	}
	got := map[string]*facts.Connection{}
	a := decode.New(decode.Config{}, decode.Handler{Connection: func(c *facts.Connection) {
		cp := *c
		got[c.Client.String()+" "+c.Server.String()] = &cp
	}})
	for _, p := range pkts[3:] { // SYN, SYN/ACK, ACK dropped
		a.Packet(p)
	}
	a.Flush()
	for key, w := range want {
		g := got[key]
		if g == nil || g.TLS == nil || g.TLS.ClientHello == nil {
			t.Fatalf("%s: no TLS facts (have %s)", key, keys(got))
		}
		if g.StartSeen {
			t.Errorf("start_seen with the SYN dropped")
		}
		eq(t, checked, "sni", g.TLS.ClientHello.ServerName, w.SNI)
		eq(t, checked, "ja3", g.Fingerprints.JA3, w.JA3)
		eq(t, checked, "version", g.TLS.Version, w.Version)
		eq(t, checked, "suite", g.TLS.CipherSuite, w.CipherSuite)
	}
}

// checkSOCKSCredential: the RFC 1929 username and password tshark's socks
// dissector read are the connection's credential (its value is there with
// ShowSecrets).
func checkSOCKSCredential(t *testing.T, checked *testutil.Compared, path string, d []string, g *facts.Connection) {
	t.Helper()
	args := append([]string{"-r", path}, d...)
	args = append(args, "-Y", "socks.username", "-T", "fields", "-e", "socks.username", "-e", "socks.password")
	out, err := exec.Command(testutil.Tool(t, "tshark"), args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\t")
	if len(f) != 2 {
		t.Fatalf("tshark: %q", out)
	}
	if len(g.Secrets) != 1 {
		t.Fatalf("%d secrets, want the SOCKS5 password", len(g.Secrets))
	}
	eq(t, checked, "socks user", g.Secrets[0].User, f[0])
	eq(t, checked, "socks password", g.Secrets[0].Value, f[1])
}
