package rules_test

import (
	"crypto/x509"
	"encoding/hex"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// tsharkConnections builds facts.Connection values from tshark alone,
// independent of tlsscope's parsers: hellos (version, suites, SNI) from
// the corpus .tshark.tsv oracle, server certificates and their times from
// tshark's own dissection. Extensions tshark's oracle does not list
// (renegotiation_info, heartbeat) are left out of the judgement by
// setting them clean.
func tsharkConnections(t *testing.T, pcap string) []*facts.Connection {
	t.Helper()
	tshark := testutil.Tool(t, "tshark")
	conns := map[string]*facts.Connection{}
	get := func(client, server netip.AddrPort) *facts.Connection {
		k := client.String() + " " + server.String()
		c := conns[k]
		if c == nil {
			c = &facts.Connection{ID: uint64(len(conns) + 1), Client: client, Server: server, Protocol: "tls", Closed: "end",
				TLS: &tls.Session{Established: true}}
			conns[k] = c
		}
		return c
	}
	for _, h := range oracle.Hellos(t, pcap) {
		if h.Type == 1 {
			c := get(h.Src, h.Dst)
			c.TLS.ClientHello = &tls.ClientHello{LegacyVersion: h.Version, SupportedVersions: h.SupportedVersions,
				CipherSuites: h.CipherSuites, ServerName: h.SNI, RenegotiationInfo: true}
			continue
		}
		c := get(h.Dst, h.Src)
		sh := &tls.ServerHello{LegacyVersion: h.Version, RenegotiationInfo: true}
		if len(h.SupportedVersions) > 0 {
			sh.SupportedVersion = h.SupportedVersions[0]
		}
		if len(h.CipherSuites) > 0 {
			sh.CipherSuite = h.CipherSuites[0]
		}
		c.TLS.ServerHello, c.TLS.Version, c.TLS.CipherSuite = sh, sh.Version(), sh.CipherSuite
	}
	out, err := exec.Command(tshark, "-r", pcap, "-Y", "tls.handshake.certificate", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
		"-e", "frame.time_epoch", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport", "-e", "tls.handshake.certificate").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		col := strings.Split(line, "\t")
		if len(col) != 6 {
			continue
		}
		sec, _ := strconv.ParseFloat(col[0], 64)
		at := time.Unix(0, int64(sec*1e9)).UTC()
		server := netip.MustParseAddrPort(col[1] + ":" + col[2])
		client := netip.MustParseAddrPort(col[3] + ":" + col[4])
		c := get(client, server)
		c.TLS.ServerHelloAt, c.First = at, at
		for _, h := range strings.Split(col[5], ",") {
			der, err := hex.DecodeString(strings.ReplaceAll(h, ":", ""))
			if err != nil {
				t.Fatal(err)
			}
			x, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatalf("certificate from tshark: %v", err)
			}
			c.TLS.Certificates = append(c.TLS.Certificates, x)
		}
	}
	var list []*facts.Connection
	for _, c := range conns {
		list = append(list, c)
	}
	return list
}

// TestRulesOnTsharkFacts: the rules on facts tshark extracted agree with
// the peers: zeek's notice.log (expired / expiring soon) and the TLS 1.0
// RC4-MD5 trace.
func TestRulesOnTsharkFacts(t *testing.T) {
	corpus := testutil.Corpus(t)
	cfg := &rules.Config{CAFiles: []string{filepath.Join(testutil.Pcaps(t), "ca.pem")}}
	want := map[string][]string{ // server -> ids (zeek notice.log, ssl-all.log)
		"87.98.220.10":  {"cert-expired", "deprecated-version"},
		"122.1.240.204": {"cert-expiring-soon", "deprecated-version"},
	}
	for _, c := range tsharkConnections(t, filepath.Join(corpus, "zeek/testing/btest/Traces/tls/tls-expired-cert.pcap")) {
		fs := rules.Evaluate(c, cfg)
		for _, id := range want[c.Server.Addr().String()] {
			if !has(fs, id, "") {
				t.Errorf("%s: no %s in %v", c.Server, id, idSet(fs))
			}
		}
		delete(want, c.Server.Addr().String())
	}
	if len(want) != 0 {
		t.Errorf("servers not seen: %v", want)
	}
	n := 0
	for _, c := range tsharkConnections(t, filepath.Join(corpus, "zeek/testing/btest/Traces/tls/ssl.v3.pcap")) {
		if c.TLS.ServerHello == nil {
			continue
		}
		n++
		fs := rules.Evaluate(c, cfg)
		if !has(fs, "deprecated-version", "TLS 1.0") || !has(fs, "weak-cipher", "RC4") || !has(fs, "no-forward-secrecy", "") {
			t.Errorf("%s: %v", c.Server, idSet(fs))
		}
	}
	if n != 3 {
		t.Errorf("%d connections with a ServerHello, want 3", n)
	}
}
