package decode_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/fingerprint"
	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// The corpus's QUIC captures, checked against tshark's dissection and the
// peers' expected outputs (Zeek's quic.log, suricata-verify's test.yaml,
// FoxIO's ja4 snapshots): never against tlsscope's own output.

// quicCaptures are the corpus captures that carry QUIC: those whose
// tshark oracle has a hello over UDP (the DTLS ones aside), relative to
// the corpus.
func quicCaptures(t *testing.T) []string {
	corpus := testutil.Corpus(t)
	var out []string
	filepath.Walk(corpus, func(p string, info os.FileInfo, err error) error {
		if err != nil || !strings.HasSuffix(p, ".tshark.tsv") || strings.Contains(filepath.Base(p), "dtls") {
			return nil
		}
		pcap := strings.TrimSuffix(p, ".tshark.tsv")
		for _, h := range oracle.Hellos(t, pcap) {
			if h.UDP {
				rel, _ := filepath.Rel(corpus, pcap)
				out = append(out, rel)
				break
			}
		}
		return nil
	})
	if len(out) < 11 {
		t.Errorf("%d corpus captures with QUIC hellos, want at least 11", len(out))
	}
	return out
}

var quicConfig = decode.Config{UDP: decode.QUIC}

// TestQUICMatchesTshark: every QUIC connection tshark decodes a hello of
// is reported as a QUIC connection with tshark's SNI, offered ALPN, JA3,
// negotiated version, suite and JA3S.
func TestQUICMatchesTshark(t *testing.T) {
	corpus := testutil.Corpus(t)
	compared := testutil.MinCompared(t, 64, "QUIC connections")
	hellos := 0
	for _, rel := range quicCaptures(t) {
		pcap := filepath.Join(corpus, rel)
		got, _ := analyze(t, pcap, quicConfig)
		type want struct {
			ch, sh *oracle.Hello
		}
		conns := map[string]*want{}
		var order []string
		for _, h := range oracle.Hellos(t, pcap) {
			if !h.UDP {
				continue
			}
			key := h.Src.String() + " " + h.Dst.String()
			if h.Type == 2 {
				key = h.Dst.String() + " " + h.Src.String()
			}
			w := conns[key]
			if w == nil {
				w = &want{}
				conns[key] = w
				order = append(order, key)
			}
			h := h
			if h.Type == 1 && w.ch == nil {
				w.ch = &h
			} else if h.Type == 2 {
				w.sh = &h
			}
		}
		for _, key := range order {
			w := conns[key]
			c := got[key]
			if c == nil {
				t.Errorf("%s: QUIC connection %s not reported", rel, key)
				continue
			}
			if c.Transport != facts.QUIC || c.QUIC == nil || c.TLS == nil {
				t.Errorf("%s: %s: transport %v, quic %v, tls %v", rel, key, c.Transport, c.QUIC != nil, c.TLS != nil)
				continue
			}
			compared.Add(1)
			if w.ch != nil {
				hellos++
				ch := c.TLS.ClientHello
				if ch == nil {
					t.Errorf("%s: %s: no ClientHello, tshark frame %d has one", rel, key, w.ch.Frame)
					continue
				}
				if ch.ServerName != w.ch.SNI {
					t.Errorf("%s: %s: SNI %q, tshark %q", rel, key, ch.ServerName, w.ch.SNI)
				}
				if !slices.Equal(ch.ALPNProtocols, w.ch.ALPN) && !(len(ch.ALPNProtocols) == 0 && len(w.ch.ALPN) == 0) {
					t.Errorf("%s: %s: ALPN %q, tshark %q", rel, key, ch.ALPNProtocols, w.ch.ALPN)
				}
				if c.Fingerprints.JA3 != w.ch.JA3 {
					t.Errorf("%s: %s: JA3 %s (%s), tshark %s (%s)", rel, key, c.Fingerprints.JA3, c.Fingerprints.JA3Full, w.ch.JA3, w.ch.JA3Full)
				}
				if c.Fingerprints.JA4 == "" || c.Fingerprints.JA4[0] != fingerprint.JA4QUIC {
					t.Errorf("%s: %s: JA4 %q does not start with q", rel, key, c.Fingerprints.JA4)
				}
			}
			if w.sh != nil {
				hellos++
				wantVersion := w.sh.Version
				if len(w.sh.SupportedVersions) > 0 {
					wantVersion = w.sh.SupportedVersions[0]
				}
				if c.TLS.Version != wantVersion {
					t.Errorf("%s: %s: version %#04x, tshark %#04x", rel, key, c.TLS.Version, wantVersion)
				}
				if len(w.sh.CipherSuites) > 0 && c.TLS.CipherSuite != w.sh.CipherSuites[0] {
					t.Errorf("%s: %s: suite %#04x, tshark %#04x", rel, key, c.TLS.CipherSuite, w.sh.CipherSuites[0])
				}
				if c.Fingerprints.JA3S != w.sh.JA3S {
					t.Errorf("%s: %s: JA3S %s, tshark %s", rel, key, c.Fingerprints.JA3S, w.sh.JA3S)
				}
			}
		}
		for key, c := range got {
			if c.Transport == facts.QUIC && conns[key] == nil {
				t.Errorf("%s: %s reported as QUIC, tshark saw no hello on it", rel, key)
			}
		}
	}
	if hellos < 97 {
		t.Errorf("%d QUIC hellos compared, want at least 97", hellos)
	}
}

// zeekQUIC maps Zeek's QUIC btest baselines to their traces.
var zeekQUIC = map[string]string{
	"scripts.base.protocols.quic.chromium":                      "chromium-115.0.5790.110-api-cirrus-com.pcap",
	"scripts.base.protocols.quic.dpd-custom-port":               "chromium-dpd-custom-port-4433.pcap",
	"scripts.base.protocols.quic.quicv2-echo-443":               "quicv2-echo-443.pcap",
	"scripts.base.protocols.quic.interop.quic-go_quic-go.retry": "interop/quic-go_quic-go/retry.pcap",
}

// TestQUICMatchesZeek: Zeek's quic.log gives each connection's version,
// the client's Initial DCID, the server's SCID, the SNI and the first
// ALPN offered. Zeek logs a connection that was sent a Retry twice: once
// for the DCID before the Retry, once for the one after (our RetrySCID).
func TestQUICMatchesZeek(t *testing.T) {
	corpus := testutil.Corpus(t)
	zeek := filepath.Join(corpus, "zeek", "testing", "btest")
	compared := testutil.MinCompared(t, 5, "quic.log lines")
	for base, trace := range zeekQUIC {
		pcap := filepath.Join(zeek, "Traces", "quic", trace)
		got, _ := analyze(t, pcap, quicConfig)
		f, err := os.Open(filepath.Join(zeek, "Baseline", base, "quic.log"))
		if err != nil {
			t.Fatal(err)
		}
		var fields []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "#fields\t"); ok {
				fields = strings.Split(rest, "\t")
				continue
			}
			if strings.HasPrefix(line, "ts\t") { // a zeek-cut baseline's header
				fields = strings.Split(line, "\t")
				continue
			}
			if strings.HasPrefix(line, "#") || line == "" {
				continue
			}
			row := map[string]string{}
			for i, v := range strings.Split(line, "\t") {
				if i < len(fields) {
					row[fields[i]] = v
				}
			}
			key := zeekEndpoint(row["id.orig_h"], row["id.orig_p"]) + " " + zeekEndpoint(row["id.resp_h"], row["id.resp_p"])
			c := got[key]
			if c == nil || c.QUIC == nil {
				t.Errorf("%s: QUIC connection %s not reported", trace, key)
				continue
			}
			compared.Add(1)
			q := c.QUIC
			version := map[string]string{"1": "1", "quicv2": "2"}[row["version"]]
			if q.VersionName != version {
				t.Errorf("%s: version %q, Zeek %q", trace, q.VersionName, row["version"])
			}
			dcid := hex.EncodeToString(q.OriginalDCID)
			if q.Retry && row["client_initial_dcid"] == hex.EncodeToString(q.RetrySCID) {
				dcid = hex.EncodeToString(q.RetrySCID)
			}
			if dcid != row["client_initial_dcid"] {
				t.Errorf("%s: client Initial DCID %s (retry %v %x), Zeek %s", trace, dcid, q.Retry, q.RetrySCID, row["client_initial_dcid"])
			}
			if want := zeekValue(row["client_scid"]); hex.EncodeToString(q.ClientSCID) != want {
				t.Errorf("%s: client SCID %x, Zeek %q", trace, q.ClientSCID, want)
			}
			if want := zeekValue(row["server_scid"]); want != "" && hex.EncodeToString(q.ServerSCID) != want {
				t.Errorf("%s: server SCID %x, Zeek %q", trace, q.ServerSCID, want)
			}
			if c.SNI() != row["server_name"] {
				t.Errorf("%s: SNI %q, Zeek %q", trace, c.SNI(), row["server_name"])
			}
			if ch := c.TLS.ClientHello; len(ch.ALPNProtocols) == 0 || ch.ALPNProtocols[0] != row["client_protocol"] {
				t.Errorf("%s: ALPN %q, Zeek %q", trace, ch.ALPNProtocols, row["client_protocol"])
			}
		}
		f.Close()
	}
}

func zeekEndpoint(h, p string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + p
	}
	return h + ":" + p
}

// zeekValue is a Zeek log field with its empty and unset markers as "".
func zeekValue(v string) string {
	if v == "(empty)" || v == "-" {
		return ""
	}
	return v
}

// TestQUICMatchesSuricata: suricata-verify's quic checks (quic.ja4 and
// its count, quic.sni, quic.extensions[i].name and values).
func TestQUICMatchesSuricata(t *testing.T) {
	corpus := testutil.Corpus(t)
	root := filepath.Join(corpus, "suricata-verify", "tests")
	compared := testutil.MinCompared(t, 15, "suricata-verify quic matches")
	// Suricata's extension names, for the ones its quic tests name.
	extensions := map[string]uint16{"server_name": 0, "status_request": 5, "supported_groups": 10, "alpn": 16, "key_share": 51, "quic_transport_params": 57}
	for _, test := range []string{"ja4-quic", "ja4-quic-7.0.x-02", "ja4-tls-quic", "quic-v2-ja3"} {
		raw, err := os.ReadFile(filepath.Join(root, test, "test.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Pcap   string `yaml:"pcap"`
			Checks []struct {
				Filter struct {
					Count int            `yaml:"count"`
					Match map[string]any `yaml:"match"`
				} `yaml:"filter"`
			} `yaml:"checks"`
		}
		if err := yaml.Unmarshal(raw, &st); err != nil {
			t.Fatalf("%s: %v", test, err)
		}
		pcap := filepath.Join(root, test, "input.pcap")
		if st.Pcap != "" {
			pcap = filepath.Join(root, test, st.Pcap)
		}
		got, _ := analyze(t, pcap, quicConfig)
		for _, ck := range st.Checks {
			m := ck.Filter.Match
			if m["event_type"] != "quic" {
				continue
			}
			n := 0
			for _, c := range got {
				if c.Transport != facts.QUIC || c.TLS == nil || c.TLS.ClientHello == nil {
					continue
				}
				ch := c.TLS.ClientHello
				ok := true
				for k, v := range m {
					want := fmt.Sprint(v)
					switch {
					case k == "event_type", k == "has-key":
					case k == "quic.ja4":
						ok = ok && c.Fingerprints.JA4 == want
					case k == "quic.sni":
						ok = ok && ch.ServerName == want
					case strings.HasPrefix(k, "quic.extensions["):
						var i int
						var field string
						if _, err := fmt.Sscanf(k, "quic.extensions[%d].%s", &i, &field); err != nil || i >= len(ch.Extensions) {
							ok = false
							break
						}
						switch field {
						case "name":
							id, known := extensions[want]
							ok = ok && known && ch.Extensions[i] == id
						case "values[0]":
							ok = ok && ch.Extensions[i] == 16 && len(ch.ALPNProtocols) > 0 && ch.ALPNProtocols[0] == want
						default:
							t.Fatalf("%s: check %s not understood", test, k)
						}
					default:
						t.Fatalf("%s: check %s not understood", test, k)
					}
				}
				if ok {
					n++
				}
			}
			compared.Add(n)
			if n != ck.Filter.Count {
				t.Errorf("%s: %d QUIC connections match %v, suricata-verify expects %d", test, n, m, ck.Filter.Count)
			}
		}
	}
}

// TestQUICJA4MatchesFoxIO: FoxIO's ja4 (Rust) snapshots give the q JA4 of
// each QUIC stream.
func TestQUICJA4MatchesFoxIO(t *testing.T) {
	dir := filepath.Join(testutil.Corpus(t), "ja4")
	snaps, _ := filepath.Glob(filepath.Join(dir, "rust/ja4/src/snapshots/*.snap"))
	compared := testutil.MinCompared(t, 40, "QUIC JA4s (FoxIO)")
	for _, snap := range snaps {
		raw, err := os.ReadFile(snap)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.SplitN(string(raw), "\n---\n", 2)
		if len(parts) != 2 || !strings.Contains(parts[1], "transport: udp") {
			continue
		}
		var streams []map[string]any
		if err := yaml.Unmarshal([]byte(parts[1]), &streams); err != nil {
			t.Fatalf("%s: %v", snap, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(snap), "ja4__insta@"), ".snap")
		got, _ := analyze(t, filepath.Join(dir, "pcap", name), quicConfig)
		for _, s := range streams {
			if s["transport"] != "udp" || s["ja4"] == nil {
				continue
			}
			key := endpoint(s["src"], s["src_port"]) + " " + endpoint(s["dst"], s["dst_port"])
			c := got[key]
			if c == nil {
				t.Errorf("%s: %s not reported", name, key)
				continue
			}
			compared.Add(1)
			if c.Fingerprints.JA4 != s["ja4"] || c.SNI() != s["tls_server_name"] {
				t.Errorf("%s: %s: ja4 %s sni %s, FoxIO %s %s", name, key, c.Fingerprints.JA4, c.SNI(), s["ja4"], s["tls_server_name"])
			}
		}
	}
}

// TestQUICParallelSameFacts: workers dealt UDP flows by their endpoints
// report each QUIC connection with the facts, and the Handler calls in
// the order, of one Analyzer.
func TestQUICParallelSameFacts(t *testing.T) {
	corpus := testutil.Corpus(t)
	compared := testutil.MinCompared(t, 128, "QUIC connections (workers)")
	for _, rel := range quicCaptures(t) {
		path := filepath.Join(corpus, rel)
		want, _ := analyze(t, path, quicConfig)
		pkts := readPackets(t, path)
		wantCalls := packetCalls(slicePackets(pkts), func(h decode.Handler) decode.Engine { return decode.New(quicConfig, h) }, nil, 0)
		for _, n := range []int{2, 3} {
			got := map[string]*facts.Connection{}
			calls := packetCalls(slicePackets(pkts), func(h decode.Handler) decode.Engine { return decode.NewParallel(quicConfig, h, n) }, func(c *facts.Connection, s facts.Stats) {
				if c != nil {
					cp := *c
					got[c.Client.String()+" "+c.Server.String()] = &cp
				}
			}, 0)
			if diff := compareFacts(want, got); diff != "" || len(got) != len(want) {
				t.Fatalf("%s, %d workers: %d connections, want %d: %s", rel, n, len(got), len(want), diff)
			}
			for k, w := range want {
				if w.QUIC != nil {
					compared.Add(1)
					if !reflect.DeepEqual(w.QUIC, got[k].QUIC) {
						t.Errorf("%s, %d workers: %s: QUIC facts %+v, one Analyzer's %+v", rel, n, k, got[k].QUIC, w.QUIC)
					}
				}
			}
			if !slices.Equal(calls, wantCalls) {
				t.Errorf("%s, %d workers: Handler calls differ from one Analyzer's", rel, n)
			}
		}
	}
}

// quicPacket is one QUIC packet as tshark dissects it.
type quicPacket struct {
	frame      int
	fromClient bool
	version    string // "0x00000001"
	typ        string // long packet type ("" for version 2 in tshark 4.0, or a short header)
	dcid, scid string
	crypto     int // CRYPTO frames in the packet
}

// tsharkQUIC dissects a capture's QUIC packets with tshark: the client
// is the sender of the first datagram.
func tsharkQUIC(t *testing.T, pcap string) []quicPacket {
	tshark := testutil.Tool(t, "tshark")
	out, err := exec.Command(tshark, "-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=;",
		"-e", "frame.number", "-e", "udp.srcport", "-e", "quic.version", "-e", "quic.long.packet_type",
		"-e", "quic.dcid", "-e", "quic.scid", "-e", "quic.crypto.offset").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", pcap, err)
	}
	var pkts []quicPacket
	client := ""
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 7 {
			continue
		}
		if client == "" {
			client = f[1]
		}
		first := func(s string) string { return strings.Split(s, ";")[0] }
		p := quicPacket{fromClient: f[1] == client, version: first(f[2]), typ: first(f[3]), dcid: first(f[4]), scid: first(f[5])}
		fmt.Sscan(f[0], &p.frame)
		if f[6] != "" {
			p.crypto = len(strings.Split(f[6], ";"))
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// TestQUICRecordedCaptures: the repository's quic-go captures
// (testdata/pcaps/quic) against tshark: version, the client's first DCID
// (kept though its second Initial goes to the server's SCID), the SCIDs,
// the Retry's SCID, a ClientHello whose CRYPTO data tshark sees in two
// client Initials, and the hellos' SNI, ALPN, JA3, suite and JA3S.
func TestQUICRecordedCaptures(t *testing.T) {
	dir := filepath.Join(testutil.Pcaps(t), "quic")
	compared := testutil.MinCompared(t, 3, "recorded QUIC captures")
	dcidChanged := 0
	for _, name := range []string{"quic-v1.pcap", "quic-v2.pcap", "quic-v1-retry.pcap"} {
		pcap := filepath.Join(dir, name)
		pkts := tsharkQUIC(t, pcap)
		got, _ := analyze(t, pcap, quicConfig)
		if len(got) != 1 || len(pkts) == 0 {
			t.Fatalf("%s: %d connections, %d packets from tshark", name, len(got), len(pkts))
		}
		var c *facts.Connection
		for _, c = range got {
		}
		q := c.QUIC
		if q == nil || c.TLS == nil || c.TLS.ClientHello == nil || c.TLS.ServerHello == nil {
			t.Fatalf("%s: not read as a QUIC handshake: %+v", name, c)
		}
		compared.Add(1)
		if want := pkts[0].version; fmt.Sprintf("0x%08x", q.Version) != want {
			t.Errorf("%s: version %#08x, tshark %s", name, q.Version, want)
		}
		if want := strings.ReplaceAll(pkts[0].dcid, ":", ""); hex.EncodeToString(q.OriginalDCID) != want {
			t.Errorf("%s: original DCID %x, tshark %s", name, q.OriginalDCID, want)
		}
		var retrySCID, serverSCID, secondDCID string
		cryptoPackets := 0
		for _, p := range pkts {
			switch {
			case !p.fromClient && p.typ == "3" && retrySCID == "":
				retrySCID = p.scid
			case !p.fromClient && serverSCID == "" && p.typ != "3" && p.scid != "":
				serverSCID = p.scid
			case p.fromClient && p.crypto > 0 && retrySCID == "":
				cryptoPackets++
				if cryptoPackets == 2 {
					secondDCID = p.dcid
				}
			}
		}
		if hex.EncodeToString(q.ServerSCID) != serverSCID {
			t.Errorf("%s: server SCID %x, tshark %s", name, q.ServerSCID, serverSCID)
		}
		if q.Retry != (retrySCID != "") || hex.EncodeToString(q.RetrySCID) != retrySCID {
			t.Errorf("%s: retry %v %x, tshark %q", name, q.Retry, q.RetrySCID, retrySCID)
		}
		if cryptoPackets < 2 {
			t.Errorf("%s: tshark sees the ClientHello's CRYPTO data in %d client Initial(s), want 2", name, cryptoPackets)
		}
		if retrySCID == "" && secondDCID != pkts[0].dcid {
			dcidChanged++ // the second half of the ClientHello went to the server's SCID
		}
		var ch, sh *oracle.Hello
		for _, h := range oracle.Hellos(t, pcap) {
			h := h
			if h.Type == 1 && ch == nil {
				ch = &h
			} else if h.Type == 2 {
				sh = &h
			}
		}
		if ch == nil || sh == nil {
			t.Fatalf("%s: tshark hellos %v %v", name, ch, sh)
		}
		cl := c.TLS.ClientHello
		if cl.ServerName != ch.SNI || !slices.Equal(cl.ALPNProtocols, ch.ALPN) || c.Fingerprints.JA3 != ch.JA3 {
			t.Errorf("%s: sni %q alpn %q ja3 %s, tshark %q %q %s", name, cl.ServerName, cl.ALPNProtocols, c.Fingerprints.JA3, ch.SNI, ch.ALPN, ch.JA3)
		}
		if len(sh.CipherSuites) == 0 || c.TLS.CipherSuite != sh.CipherSuites[0] || c.Fingerprints.JA3S != sh.JA3S {
			t.Errorf("%s: suite %#04x ja3s %s, tshark %v %s", name, c.TLS.CipherSuite, c.Fingerprints.JA3S, sh.CipherSuites, sh.JA3S)
		}
		if !c.TLS.Established {
			t.Errorf("%s: handshake not taken as established", name)
		}
	}
	if dcidChanged == 0 {
		t.Error("no capture has a ClientHello whose second Initial goes to a new DCID")
	}
}

// TestQUICTransportParametersMatchTshark: the ClientHello's
// quic_transport_parameters ids, in wire order, are tshark's
// (tls.quic.parameter.type), on every corpus QUIC capture.
func TestQUICTransportParametersMatchTshark(t *testing.T) {
	corpus := testutil.Corpus(t)
	tshark := testutil.Tool(t, "tshark")
	compared := testutil.MinCompared(t, 62, "ClientHellos' transport parameters")
	for _, rel := range quicCaptures(t) {
		pcap := filepath.Join(corpus, rel)
		got, _ := analyze(t, pcap, quicConfig)
		out, err := exec.Command(tshark, "-r", pcap, "-Y", "quic && tls.handshake.type==1", "-T", "fields", "-E", "occurrence=a",
			"-E", "aggregator=,", "-e", "ip.src", "-e", "ipv6.src", "-e", "udp.srcport", "-e", "tls.quic.parameter.type").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", rel, err)
		}
		seen := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Split(line, "\t")
			if len(f) < 4 {
				continue
			}
			client := zeekEndpoint(f[0]+f[1], f[2])
			if seen[client] {
				continue // a second ClientHello of the connection (after a Retry: the same)
			}
			seen[client] = true
			var c *facts.Connection
			for _, gc := range got {
				if gc.Client.String() == client {
					c = gc
				}
			}
			if c == nil || c.TLS == nil || c.TLS.ClientHello == nil {
				t.Errorf("%s: %s: no ClientHello", rel, client)
				continue
			}
			var ids []string
			for _, p := range c.TLS.ClientHello.QUICTransportParameters {
				ids = append(ids, fmt.Sprint(p.ID))
			}
			compared.Add(1)
			if strings.Join(ids, ",") != f[3] {
				t.Errorf("%s: %s: transport parameters %v, tshark %s", rel, client, ids, f[3])
			}
			if len(c.QUIC.TransportParameters) != len(ids) {
				t.Errorf("%s: %s: %d named, %d parsed", rel, client, len(c.QUIC.TransportParameters), len(ids))
			}
		}
	}
}
