package decode_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// dtlsFields are the columns of the corpus's DTLS oracle files
// (<pcap>.tshark.tsv with dtls.* fields), which tsharkDTLS also asks for.
var dtlsFields = []string{"frame.number", "ip.src", "ipv6.src", "udp.srcport", "ip.dst", "ipv6.dst", "udp.dstport",
	"dtls.handshake.type", "dtls.handshake.version", "dtls.handshake.extensions.supported_version",
	"dtls.handshake.ciphersuite", "dtls.handshake.extensions_server_name", "dtls.handshake.extensions_alpn_str",
	"dtls.handshake.ja3", "dtls.handshake.ja3_full", "dtls.handshake.ja3s", "dtls.handshake.ja3s_full"}

// dtlsHellos reads tshark's DTLS dissection of a capture (the corpus's
// oracle file, else tshark run here): one map per frame with a
// reassembled hello (a version), keyed by field name.
func dtlsHellos(t *testing.T, pcap string) []map[string]string {
	raw, err := os.ReadFile(pcap + ".tshark.tsv")
	if err != nil {
		args := []string{"-r", pcap, "-Y", "dtls.handshake.type==1 || dtls.handshake.type==2", "-T", "fields", "-E", "header=y",
			"-E", "occurrence=a", "-E", "aggregator=,"}
		for _, f := range dtlsFields {
			args = append(args, "-e", f)
		}
		if raw, err = exec.Command(testutil.Tool(t, "tshark"), args...).Output(); err != nil {
			t.Fatalf("tshark %s: %v", pcap, err)
		}
	}
	var out []map[string]string
	var header []string
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if header == nil {
			header = f
			continue
		}
		row := map[string]string{}
		for i, v := range f {
			if i < len(header) {
				row[header[i]] = v
			}
		}
		if row["dtls.handshake.version"] != "" {
			out = append(out, row)
		}
	}
	return out
}

// TestDTLSMatchesTshark: each DTLS capture (Zeek's dtls1_2.pcap: a
// ClientHello in two fragments, a HelloVerifyRequest, the second
// ClientHello with the cookie, a certificate in five fragments; the
// repository's openssl captures) gives tshark's version, suite, JA3 (of
// the last ClientHello, the one that counts) and JA3S, and Zeek's facts
// where Zeek has a baseline.
func TestDTLSMatchesTshark(t *testing.T) {
	corpus := testutil.Corpus(t)
	pcaps := []string{filepath.Join(corpus, "zeek/testing/btest/Traces/tls/dtls1_2.pcap")}
	own, _ := filepath.Glob(filepath.Join(testutil.Pcaps(t), "dtls", "*.pcap"))
	pcaps = append(pcaps, own...)
	compared := testutil.MinCompared(t, 3, "DTLS connections")
	for _, pcap := range pcaps {
		rows := dtlsHellos(t, pcap)
		got, st := analyze(t, pcap, decode.Config{UDP: decode.UDPByContent})
		if len(st.Anomalies) != 0 {
			// dtls10-openssl.pcap's ServerKeyExchange is signed without a
			// SignatureAndHashAlgorithm (RFC 4346, 7.4.3), as DTLS 1.0's is.
			t.Errorf("%s: anomalies %v", pcap, st.Anomalies)
		}
		var ch, sh map[string]string
		clientHellos := 0
		for _, r := range rows {
			if strings.HasPrefix(r["dtls.handshake.type"], "1") {
				ch = r // the last ClientHello
				clientHellos++
			} else if strings.HasPrefix(r["dtls.handshake.type"], "2") {
				sh = r
			}
		}
		if ch == nil {
			t.Fatalf("%s: tshark shows no ClientHello", pcap)
		}
		key := zeekEndpoint(first(ch["ip.src"]+ch["ipv6.src"]), ch["udp.srcport"]) + " " + zeekEndpoint(first(ch["ip.dst"]+ch["ipv6.dst"]), ch["udp.dstport"])
		c := got[key]
		if c == nil || c.TLS == nil || c.TLS.ClientHello == nil {
			t.Fatalf("%s: DTLS connection %s not reported (%d connections)", pcap, key, len(got))
		}
		compared.Add(1)
		if c.Transport != facts.UDP || c.Protocol != "dtls" || c.DTLS == nil {
			t.Fatalf("%s: transport %v protocol %q dtls %v", pcap, c.Transport, c.Protocol, c.DTLS)
		}
		// Every capture here has a HelloVerifyRequest: tshark's two
		// ClientHellos.
		if c.DTLS.ClientHellos != clientHellos || c.DTLS.HelloVerifyRequest != (clientHellos == 2) {
			t.Errorf("%s: %d ClientHellos (hello_verify_request %v), tshark %d", pcap, c.DTLS.ClientHellos, c.DTLS.HelloVerifyRequest, clientHellos)
		}
		if c.Fingerprints.JA3 != ch["dtls.handshake.ja3"] || c.SNI() != ch["dtls.handshake.extensions_server_name"] {
			t.Errorf("%s: JA3 %s (%s) SNI %q, tshark %s (%s) %q", pcap, c.Fingerprints.JA3, c.Fingerprints.JA3Full,
				c.SNI(), ch["dtls.handshake.ja3"], ch["dtls.handshake.ja3_full"], ch["dtls.handshake.extensions_server_name"])
		}
		if c.Fingerprints.JA4 == "" || c.Fingerprints.JA4[0] != 'd' {
			t.Errorf("%s: JA4 %q", pcap, c.Fingerprints.JA4)
		}
		// The server's certificates as tshark reassembled them.
		out, err := exec.Command(testutil.Tool(t, "tshark"), "-r", pcap, "-Y", "dtls.handshake.type==11", "-T", "fields",
			"-E", "occurrence=a", "-E", "aggregator=,", "-e", "dtls.handshake.certificate").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", pcap, err)
		}
		var wantCerts []string
		for _, der := range strings.FieldsFunc(string(out), func(r rune) bool { return r == ',' || r == '\n' }) {
			raw, err := hex.DecodeString(strings.TrimSpace(der))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(raw)
			wantCerts = append(wantCerts, hex.EncodeToString(sum[:]))
		}
		var gotCerts []string
		for _, cert := range c.Certificates {
			gotCerts = append(gotCerts, cert.SHA256)
		}
		if len(wantCerts) == 0 || !slices.Equal(gotCerts, wantCerts) {
			t.Errorf("%s: certificates %q, tshark %q", pcap, gotCerts, wantCerts)
		}
		if sh == nil {
			continue
		}
		if hex4(c.TLS.Version) != sh["dtls.handshake.version"] {
			t.Errorf("%s: version %s, tshark %s", pcap, tls.VersionName(c.TLS.Version), sh["dtls.handshake.version"])
		}
		if hex4(c.TLS.CipherSuite) != sh["dtls.handshake.ciphersuite"] || c.Fingerprints.JA3S != sh["dtls.handshake.ja3s"] {
			t.Errorf("%s: suite %s JA3S %s, tshark %s %s", pcap, hex4(c.TLS.CipherSuite), c.Fingerprints.JA3S, sh["dtls.handshake.ciphersuite"], sh["dtls.handshake.ja3s"])
		}
	}
}

func first(s string) string { return strings.Split(s, ",")[0] }

func hex4(v uint16) string {
	const digits = "0123456789abcdef"
	return "0x" + string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

// TestDTLSMatchesZeek: Zeek's ssl log of dtls1_2.pcap (version, cipher,
// curve, established, the certificate's SHA-256 and, from its x509 log,
// serial).
func TestDTLSMatchesZeek(t *testing.T) {
	zeek := filepath.Join(testutil.Corpus(t), "zeek/testing/btest")
	got, _ := analyze(t, filepath.Join(zeek, "Traces/tls/dtls1_2.pcap"), decode.Config{UDP: decode.UDPByContent})
	rows := zeekLog(t, filepath.Join(zeek, "Baseline/scripts.base.protocols.ssl.dtls/ssl1_2.log"))
	x509 := zeekLog(t, filepath.Join(zeek, "Baseline/scripts.base.protocols.ssl.dtls/x5091_2.log"))
	compared := testutil.MinCompared(t, 1, "Zeek DTLS ssl.log lines")
	for _, r := range rows {
		key := zeekEndpoint(r["id.orig_h"], r["id.orig_p"]) + " " + zeekEndpoint(r["id.resp_h"], r["id.resp_p"])
		c := got[key]
		if c == nil || c.TLS == nil {
			t.Fatalf("%s not reported", key)
		}
		compared.Add(1)
		s := c.TLS
		version := map[string]uint16{"DTLSv10": tls.VersionDTLS10, "DTLSv12": tls.VersionDTLS12}[r["version"]]
		if s.Version != version || tls.CipherSuiteName(s.CipherSuite) != r["cipher"] {
			t.Errorf("version %s cipher %s, Zeek %s %s", tls.VersionName(s.Version), tls.CipherSuiteName(s.CipherSuite), r["version"], r["cipher"])
		}
		if s.KeyExchange == nil || tls.GroupName(s.KeyExchange.NamedGroup) != r["curve"] {
			t.Errorf("curve %+v, Zeek %s", s.KeyExchange, r["curve"])
		}
		if s.Established != (r["established"] == "T") {
			t.Errorf("established %v, Zeek %s", s.Established, r["established"])
		}
		if len(c.Certificates) == 0 || c.Certificates[0].SHA256 != r["cert_chain_fps"] {
			t.Errorf("certificates %d, Zeek %s", len(c.Certificates), r["cert_chain_fps"])
		} else if len(x509) == 0 || c.Certificates[0].Serial != x509[0]["certificate.serial"] {
			t.Errorf("serial %s, Zeek %v", c.Certificates[0].Serial, x509)
		}
	}
}

// zeekLog reads a Zeek ASCII log's rows by field name.
func zeekLog(t *testing.T, path string) []map[string]string {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	var out []map[string]string
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "#fields\t"); ok {
			fields = strings.Split(rest, "\t")
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		row := map[string]string{}
		for i, v := range strings.Split(line, "\t") {
			if i < len(fields) {
				row[fields[i]] = v
			}
		}
		out = append(out, row)
	}
	return out
}
