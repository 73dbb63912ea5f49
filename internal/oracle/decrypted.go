package oracle

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TLSConn is what tshark, decrypting with a key log, saw of one TLS
// connection over TCP: its endpoints (the client sent the ClientHello),
// each side's certificates as DER in wire order (Certificate and
// CompressedCertificate messages, decrypted in TLS 1.3), the server's ALPN
// choice (ServerHello, or TLS 1.3's EncryptedExtensions) and every alert
// either side sent, decrypted or not, in order.
type TLSConn struct {
	Client, Server           netip.AddrPort
	ServerCerts, ClientCerts [][]byte
	ALPN                     string
	Alerts                   []Alert
	// Handshake lists the handshake message types tshark read, per
	// side, in order (decrypted ones included).
	Handshake [2][]int
}

// Alert is one alert as tshark read it; From is 0 for the client, 1 for
// the server.
type Alert struct {
	From               int
	Level, Description int
}

// Decrypted runs tshark on pcap with keylog as tls.keylog_file ("" for
// none: a pcapng's own Decryption Secrets Blocks are used either way) and
// returns its TLS-over-TCP connections by "client server" (as
// netip.AddrPort prints them). extra are more tshark options ("-d",
// "tcp.port==N,tls" for TLS on a port tshark does not know).
func Decrypted(t testing.TB, pcap, keylog string, extra ...string) map[string]*TLSConn {
	t.Helper()
	tshark := testutil.Tool(t, "tshark")
	args := []string{"-r", pcap, "-o", "tcp.reassemble_out_of_order:TRUE", "-Y", "tls && tcp",
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
		"-e", "tls.handshake.type", "-e", "tls.handshake.extensions_alpn_str", "-e", "tls.handshake.certificate",
		"-e", "tls.alert_message.level", "-e", "tls.alert_message.desc"}
	if keylog != "" {
		args = append(args, "-o", "tls.keylog_file:"+keylog)
	}
	args = append(args, extra...)
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", pcap, err)
	}
	conns := map[string]*TLSConn{}
	byPair := map[string]*TLSConn{} // either way round
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 11 {
			continue
		}
		src, err1 := addrPort(first(f[0]+f[1]), first(f[2]))
		dst, err2 := addrPort(first(f[3]+f[4]), first(f[5]))
		if err1 != nil || err2 != nil {
			t.Fatalf("tshark -r %s: %q: %v %v", pcap, sc.Text(), err1, err2)
		}
		types := ints(f[6])
		c := byPair[src.String()+" "+dst.String()]
		if c == nil {
			if len(types) == 0 || types[0] != 1 && types[0] != 2 {
				continue // a connection whose hellos tshark did not see
			}
			c = &TLSConn{Client: src, Server: dst}
			if types[0] == 2 {
				c.Client, c.Server = dst, src
			}
			conns[c.Client.String()+" "+c.Server.String()] = c
			byPair[src.String()+" "+dst.String()] = c
			byPair[dst.String()+" "+src.String()] = c
		}
		from := 0
		if src == c.Server {
			from = 1
		}
		c.Handshake[from] = append(c.Handshake[from], types...)
		if from == 1 && f[7] != "" {
			c.ALPN = f[7]
		}
		for _, h := range strings.Split(f[8], ",") {
			if h == "" {
				continue
			}
			der, err := hex.DecodeString(h)
			if err != nil {
				t.Fatalf("tshark: certificate %q: %v", h[:min(len(h), 20)], err)
			}
			if from == 1 {
				c.ServerCerts = append(c.ServerCerts, der)
			} else {
				c.ClientCerts = append(c.ClientCerts, der)
			}
		}
		levels, descs := ints(f[9]), ints(f[10])
		for i := range min(len(levels), len(descs)) {
			c.Alerts = append(c.Alerts, Alert{From: from, Level: levels[i], Description: descs[i]})
		}
	}
	return conns
}

func ints(s string) []int {
	var out []int
	for _, x := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(x); err == nil {
			out = append(out, n)
		}
	}
	return out
}
