// Package oracle reads tshark's dissection of a capture: the independent
// source that tests compare tlsscope's facts with. For corpus captures it
// reads the `<pcap>.tshark.tsv` file the corpus builder made; for other
// captures it runs tshark with the same fields.
package oracle

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// Fields are the columns of a `.tshark.tsv` oracle file, in order.
var Fields = []string{
	"frame.number", "ip.src", "ipv6.src", "tcp.srcport", "udp.srcport",
	"ip.dst", "ipv6.dst", "tcp.dstport", "udp.dstport",
	"tls.handshake.type", "tls.handshake.version",
	"tls.handshake.extensions.supported_version", "tls.handshake.ciphersuite",
	"tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
	"tls.handshake.ja3", "tls.handshake.ja3_full", "tls.handshake.ja3s", "tls.handshake.ja3s_full",
}

// Hello is one frame holding a ClientHello (Type 1) or ServerHello (Type 2).
type Hello struct {
	Frame             int
	Src, Dst          netip.AddrPort
	UDP               bool
	Type              int // 1 ClientHello, 2 ServerHello (the first hello in the frame)
	Version           uint16
	SupportedVersions []uint16
	CipherSuites      []uint16 // ClientHello: offered; ServerHello: chosen
	SNI               string
	ALPN              []string
	JA3, JA3Full      string
	JA3S, JA3SFull    string
}

// Hellos returns every ClientHello and ServerHello frame of a capture, in
// frame order. extra are tshark options (e.g. "-d", "tcp.port==80,tls")
// used only when tshark runs.
func Hellos(t testing.TB, pcap string, extra ...string) []Hello {
	t.Helper()
	raw, err := os.ReadFile(pcap + ".tshark.tsv")
	if err != nil {
		tshark := testutil.Tool(t, "tshark")
		args := []string{"-r", pcap, "-o", "tcp.reassemble_out_of_order:TRUE", "-Y", "tls.handshake.type==1 || tls.handshake.type==2",
			"-T", "fields", "-E", "header=y", "-E", "occurrence=a", "-E", "aggregator=,"}
		args = append(args, extra...)
		for _, f := range Fields {
			args = append(args, "-e", f)
		}
		out, err := exec.Command(tshark, args...).Output()
		if err != nil {
			t.Fatalf("tshark on %s: %v", pcap, err)
		}
		raw = out
	}
	hs, err := parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", pcap, err)
	}
	return hs
}

func parse(raw []byte) ([]Hello, error) {
	var out []Hello
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	header := true
	for sc.Scan() {
		if header {
			header = false
			if !strings.HasPrefix(sc.Text(), strings.Join(Fields[:4], "\t")) {
				return nil, nil // another dissection (DTLS's dtls.* fields): no TLS over TCP
			}
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) < len(Fields) {
			f = append(f, make([]string, len(Fields)-len(f))...)
		}
		var h Hello
		h.Frame, _ = strconv.Atoi(f[0])
		src, dst := first(f[1]), first(f[5])
		if src == "" {
			src, dst = first(f[2]), first(f[6])
		}
		sport, dport := first(f[3]), first(f[7])
		if sport == "" {
			sport, dport, h.UDP = first(f[4]), first(f[8]), true
		}
		var err error
		if h.Src, err = addrPort(src, sport); err != nil {
			return nil, fmt.Errorf("frame %d: %v", h.Frame, err)
		}
		if h.Dst, err = addrPort(dst, dport); err != nil {
			return nil, fmt.Errorf("frame %d: %v", h.Frame, err)
		}
		for _, ty := range strings.Split(f[9], ",") {
			if ty == "1" || ty == "2" {
				h.Type, _ = strconv.Atoi(ty)
				break
			}
		}
		if h.Type == 0 {
			continue
		}
		if v := hexes(first(f[10])); len(v) > 0 {
			h.Version = v[0]
		}
		h.CipherSuites = hexes(f[12])
		if h.Type == 2 && h.Version == 0 && len(h.CipherSuites) == 0 {
			// SSLv2 message type 2 is CLIENT-MASTER-KEY, not a ServerHello
			// (which always has a version and a suite).
			continue
		}
		h.SupportedVersions = hexes(f[11])
		h.SNI = first(f[13])
		if f[14] != "" {
			h.ALPN = strings.Split(f[14], ",")
		}
		h.JA3, h.JA3Full, h.JA3S, h.JA3SFull = f[15], f[16], f[17], f[18]
		out = append(out, h)
	}
	return out, sc.Err()
}

func first(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i]
	}
	return s
}

func addrPort(a, p string) (netip.AddrPort, error) {
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}

func hexes(s string) []uint16 {
	if s == "" {
		return nil
	}
	var out []uint16
	for _, x := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimPrefix(x, "0x"), 16, 16)
		if err == nil {
			out = append(out, uint16(v))
		}
	}
	return out
}

// Conn is what tshark says about one TCP connection's hellos.
type Conn struct {
	Client, Server netip.AddrPort
	SNI            string
	Version        uint16 // negotiated (0: no ServerHello)
	CipherSuite    uint16
	ClientHellos   int
	ServerHellos   int // including a HelloRetryRequest
	JA3, JA3S      string
}

// Conns groups the TCP hellos into connections keyed by "client server".
// The last ServerHello of a connection gives its version and suite (a
// HelloRetryRequest comes first).
func Conns(hs []Hello) map[string]*Conn {
	out := make(map[string]*Conn)
	for _, h := range hs {
		if h.UDP {
			continue
		}
		client, server := h.Src, h.Dst
		if h.Type == 2 {
			client, server = h.Dst, h.Src
		}
		key := client.String() + " " + server.String()
		c := out[key]
		if c == nil {
			c = &Conn{Client: client, Server: server}
			out[key] = c
		}
		if h.Type == 1 {
			c.ClientHellos++
			c.SNI = h.SNI
			if c.ClientHellos == 1 {
				c.JA3 = h.JA3 // after an HRR, the first hello's (as ja4.py)
			}
			continue
		}
		c.ServerHellos++
		c.Version = h.Version
		if len(h.SupportedVersions) > 0 {
			c.Version = h.SupportedVersions[0]
		}
		if len(h.CipherSuites) > 0 {
			c.CipherSuite = h.CipherSuites[0]
		}
		c.JA3S = h.JA3S
	}
	return out
}
