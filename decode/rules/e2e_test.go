package rules_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/keylog"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// analyze runs a capture through decode.New and returns its final
// connections in order.
func analyze(t testing.TB, path string) []*facts.Connection {
	t.Helper()
	conns, err := decode.ReadConnections(path, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	return conns
}

// analyzeWithKeys is analyze with the key log recorded beside the capture
// (NAME.keys for NAME.pcap), when there is one: what a TLS 1.3 capture's
// certificate findings need.
func analyzeWithKeys(t testing.TB, path string) []*facts.Connection {
	t.Helper()
	kl := strings.TrimSuffix(path, filepath.Ext(path)) + ".keys"
	if _, err := os.Stat(kl); err != nil {
		return analyze(t, path)
	}
	log := keylog.New()
	if err := log.ReadFile(kl); err != nil {
		t.Fatal(err)
	}
	var conns []*facts.Connection
	_, err := decode.ReadFile(path, filepath.Base(path), decode.Config{Keys: log}, decode.Handler{Connection: func(c *facts.Connection) {
		cp := *c
		conns = append(conns, &cp)
	}})
	if err != nil {
		t.Fatal(err)
	}
	return conns
}

// byServer maps "ip:port of the server" to the ids found on connections
// to it.
func evaluate(conns []*facts.Connection, cfg *rules.Config) (map[string][]facts.Finding, []facts.Finding) {
	m := map[string][]facts.Finding{}
	var all []facts.Finding
	for _, c := range conns {
		fs := rules.Evaluate(c, cfg)
		m[c.Server.Addr().String()] = append(m[c.Server.Addr().String()], fs...)
		all = append(all, fs...)
	}
	return m, all
}

func idSet(fs []facts.Finding) []string {
	var out []string
	for _, f := range fs {
		if !slices.Contains(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	slices.Sort(out)
	return out
}

func has(fs []facts.Finding, id string, in string) bool {
	for _, f := range fs {
		if f.ID == id && strings.Contains(f.Message+" "+f.Evidence, in) {
			return true
		}
	}
	return false
}

// TestManifestCaptures: every capture the repository recorded, judged
// with its test CA at capture time, reports at least the findings its
// manifest entry states as the scenario's intent (manifest.json; checked
// against tshark by scripts/captures/manifest_test.go). Clean TLS
// scenarios (no findings listed) report nothing above info.
func TestManifestCaptures(t *testing.T) {
	dir := testutil.Pcaps(t)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Skipf("no manifest: %v", err)
	}
	var m struct {
		CAFile   string `json:"ca_file"`
		Captures []struct {
			Pcap     string   `json:"pcap"`
			Version  string   `json:"version"`
			Findings []string `json:"findings"`
		} `json:"captures"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	cfg := &rules.Config{CAFiles: []string{filepath.Join(dir, m.CAFile)}}
	if err := cfg.Load(); err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Captures {
		t.Run(e.Pcap, func(t *testing.T) {
			conns := analyzeWithKeys(t, filepath.Join(dir, e.Pcap))
			_, all := evaluate(conns, cfg)
			got := idSet(all)
			for _, id := range e.Findings {
				if !slices.Contains(got, id) {
					t.Errorf("manifest finding %s not reported; got %v", id, got)
				}
			}
			// And nowhere else: a finding the scenario was not recorded
			// for is a false positive. Whether a client offers an old
			// version is read off tshark's dissection instead, since
			// OpenSSL's clients offer TLS 1.0/1.1 unasked.
			offers := offersDeprecated(oracle.Hellos(t, filepath.Join(dir, e.Pcap)))
			if reported := slices.Contains(got, "deprecated-version-offered"); reported != offers {
				t.Errorf("deprecated-version-offered: reported %v, tshark shows old versions offered %v", reported, offers)
			}
			for _, id := range got {
				if id != "deprecated-version-offered" && !slices.Contains(e.Findings, id) {
					t.Errorf("%s reported, not in the manifest's %v", id, e.Findings)
				}
			}
			if len(e.Findings) == 0 && e.Version != "" {
				for _, f := range all {
					if f.Severity > facts.Info {
						t.Errorf("clean %s scenario: %s %v: %s [%s]", e.Version, f.ID, f.Severity, f.Message, f.Evidence)
					}
				}
			}
		})
	}
}

// corpusRoots is a trust store that none of the corpus servers chain to
// (the repository's test CA), so "untrusted" does not depend on the
// machine's store.
func corpusRoots(t *testing.T) *rules.Config {
	cfg := &rules.Config{CAFiles: []string{filepath.Join(testutil.Pcaps(t), "ca.pem")}}
	if err := cfg.Load(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestZeekExpiredCert: zeek's notice.log baseline for this trace names
// the certificate expired at capture time (SSL::Certificate_Expired) and
// the one expiring soon (SSL::Certificate_Expires_Soon), by responder.
func TestZeekExpiredCert(t *testing.T) {
	corpus := testutil.Corpus(t)
	notice, err := os.ReadFile(filepath.Join(corpus, "zeek/testing/btest/Baseline/scripts.policy.protocols.ssl.expiring-certs/notice.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // responder -> finding id
	for _, line := range strings.Split(string(notice), "\n") {
		col := strings.Split(line, "\t")
		if len(col) < 11 || strings.HasPrefix(line, "#") {
			continue
		}
		switch col[10] {
		case "SSL::Certificate_Expired":
			want[col[4]] = "cert-expired"
		case "SSL::Certificate_Expires_Soon":
			want[col[4]] = "cert-expiring-soon"
		}
	}
	if len(want) != 2 {
		t.Fatalf("notice.log: %v", want)
	}
	byServer, _ := evaluate(analyze(t, filepath.Join(corpus, "zeek/testing/btest/Traces/tls/tls-expired-cert.pcap")), corpusRoots(t))
	for server, id := range want {
		fs := byServer[server]
		if !has(fs, id, "") {
			t.Errorf("%s: zeek says %s; got %v", server, id, idSet(fs))
		}
		other := map[string]string{"cert-expired": "cert-expiring-soon", "cert-expiring-soon": "cert-expired"}[id]
		if has(fs, other, "") {
			t.Errorf("%s: %s reported too", server, other)
		}
		// TLS 1.0 in both (tshark oracle: negotiated TLS1.0x2).
		if !has(fs, "deprecated-version", "TLS 1.0") {
			t.Errorf("%s: no deprecated-version TLS 1.0: %v", server, idSet(fs))
		}
	}
}

// TestNDPIRDNExtractExpired: nDPI's Risk for this flow is "Obsolete TLS
// (v1.1 or older)" and "TLS Cert Expired". The capture's packets all
// carry the placeholder time 1999-12-31T23:00:00Z (tshark's
// frame.time_epoch 946681200), before the certificate's notBefore, so
// nDPI judged against its own clock: at capture time the certificate is
// not yet valid, at any time after 2013-10-20 it has expired.
func TestNDPIRDNExtractExpired(t *testing.T) {
	corpus := testutil.Corpus(t)
	out, err := os.ReadFile(filepath.Join(corpus, "nDPI/tests/cfgs/default/result/tls-rdn-extract.pcap.out"))
	if err != nil {
		t.Fatal(err)
	}
	risk := regexp.MustCompile(`\[Risk: ([^\]]*)\]`).FindStringSubmatch(string(out))
	if risk == nil || !strings.Contains(risk[1], "TLS Cert Expired") || !strings.Contains(risk[1], "Obsolete TLS") {
		t.Fatalf("nDPI risk: %v", risk)
	}
	conns := analyze(t, filepath.Join(corpus, "nDPI/tests/cfgs/default/pcap/tls-rdn-extract.pcap"))
	_, all := evaluate(conns, corpusRoots(t))
	if !has(all, "cert-not-yet-valid", "2011-10-21") || has(all, "cert-expired", "") || !has(all, "deprecated-version", "TLS 1.0") {
		t.Errorf("at capture time: got %v", idSet(all))
	}
	cfg := corpusRoots(t)
	if err := cfg.SetCheckTime("2026-11-29T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	_, all = evaluate(conns, cfg)
	if !has(all, "cert-expired", "2013-10-20") || has(all, "cert-not-yet-valid", "") {
		t.Errorf("at a fixed time after notAfter: got %v", idSet(all))
	}
}

// TestNDPICertNameMismatch: the .out shows SNI wrong.host.badssl.com and
// ServerNames *.badssl.com,badssl.com (nDPI's default config prints no
// risk for it here); RFC 6125, 6.4.3: a wildcard matches one label only,
// so neither name matches.
func TestNDPICertNameMismatch(t *testing.T) {
	corpus := testutil.Corpus(t)
	out, err := os.ReadFile(filepath.Join(corpus, "nDPI/tests/cfgs/default/result/ssl-cert-name-mismatch.pcap.out"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "[Hostname/SNI: wrong.host.badssl.com]") || !strings.Contains(string(out), "[ServerNames: *.badssl.com,badssl.com]") {
		t.Fatal("nDPI .out does not show the SNI and names this test relies on")
	}
	_, all := evaluate(analyze(t, filepath.Join(corpus, "nDPI/tests/cfgs/default/pcap/ssl-cert-name-mismatch.pcap")), corpusRoots(t))
	if !has(all, "cert-hostname-mismatch", "wrong.host.badssl.com") {
		t.Errorf("got %v", idSet(all))
	}
}

// TestZeekSSLv3Trace: the three connections negotiate TLS 1.0 with
// TLS_RSA_WITH_RC4_128_MD5 (zeek ssl-all.log and the tshark oracle).
func TestZeekSSLv3Trace(t *testing.T) {
	corpus := testutil.Corpus(t)
	conns := analyze(t, filepath.Join(corpus, "zeek/testing/btest/Traces/tls/ssl.v3.pcap"))
	n := 0
	for _, c := range conns {
		if c.TLS == nil || c.TLS.ServerHello == nil {
			continue
		}
		n++
		fs := rules.Evaluate(c, corpusRoots(t))
		if !has(fs, "deprecated-version", "TLS 1.0") || !has(fs, "weak-cipher", "TLS_RSA_WITH_RC4_128_MD5 (0x0004)") || !has(fs, "no-forward-secrecy", "static RSA") {
			t.Errorf("%s: %v", c.Server, idSet(fs))
		}
		for _, f := range fs {
			if f.ID == "weak-cipher" && (f.Severity != facts.High || !strings.Contains(f.Reference, "rfc7465")) {
				t.Errorf("RC4: %v %s", f.Severity, f.Reference)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d TLS connections, want 3", n)
	}
}

// TestZeekHandshakeFailure: the server answers the ClientHello with a
// fatal alert 40 (the .tshark.alerts.tsv oracle), handshake_failure in
// the IANA registry.
func TestZeekHandshakeFailure(t *testing.T) {
	corpus := testutil.Corpus(t)
	pcap := filepath.Join(corpus, "zeek/testing/btest/Traces/tls/tls-1.2-handshake-failure.pcap")
	alerts, err := os.ReadFile(pcap + ".tshark.alerts.tsv")
	if err != nil || !strings.Contains(string(alerts), "\t2\t40\n") {
		t.Fatalf("alert oracle: %v %q", err, alerts)
	}
	_, all := evaluate(analyze(t, pcap), corpusRoots(t))
	if !has(all, "handshake-failed", "handshake_failure") {
		t.Errorf("got %v", idSet(all))
	}
}

// TestSuricataSELKSSelfSigned: the certificate's subject equals its
// issuer (CN=SELKS, suricata-verify tls-cert-issuer expectations and the
// tshark certs oracle).
func TestSuricataSELKSSelfSigned(t *testing.T) {
	corpus := testutil.Corpus(t)
	pcap := filepath.Join(corpus, "suricata-verify/tests/tls/tls-cert-issuer/tls.pcap")
	_, all := evaluate(analyze(t, pcap), corpusRoots(t))
	if !has(all, "cert-self-signed", "CN=SELKS") || !has(all, "cert-untrusted", "self-signed") {
		t.Errorf("got %v", idSet(all))
	}
}

// TestCurveBallUntrusted: CVE-2020-0601's spoofed chain; its fake root
// uses explicit curve parameters crypto/x509 refuses (cert-explicit-curve;
// tshark's .tshark.certs.tsv lists it, CN=INFIGO, and so must we), so the
// leaf's issuer is unknown: untrusted. The client then sends a fatal
// certificate_unknown (46, .tshark.alerts.tsv).
func TestCurveBallUntrusted(t *testing.T) {
	corpus := testutil.Corpus(t)
	pcap := filepath.Join(corpus, "ja4/pcap/badcurveball.pcap")
	alerts, err := os.ReadFile(pcap + ".tshark.alerts.tsv")
	if err != nil || !strings.Contains(string(alerts), "\t2\t46\n") {
		t.Fatalf("alert oracle: %v %q", err, alerts)
	}
	_, all := evaluate(analyze(t, pcap), corpusRoots(t))
	if !has(all, "cert-untrusted", "CN=INFIGO") || !has(all, "handshake-failed", "certificate_unknown") ||
		!has(all, "cert-explicit-curve", "CN=INFIGO") {
		t.Errorf("got %v", idSet(all))
	}
}

// offersDeprecated: some ClientHello offers SSL 3.0, TLS 1.0 or 1.1, in
// supported_versions or, without it, as its legacy version.
func offersDeprecated(hs []oracle.Hello) bool {
	for _, h := range hs {
		if h.Type != 1 || h.UDP {
			continue
		}
		vs := h.SupportedVersions
		if len(vs) == 0 {
			vs = []uint16{h.Version}
		}
		for _, v := range vs {
			if v >= 0x0200 && v < 0x0303 {
				return true
			}
		}
	}
	return false
}
