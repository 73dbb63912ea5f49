// Package captures_test proves testdata/pcaps/manifest.json true: for each
// capture it runs tshark (the independent dissector) and checks that the
// handshake really has the version, cipher suite, SNI, ALPN, alerts,
// certificates and resumption the manifest says, and that planted cleartext
// secrets are on the wire exactly where the manifest says they are.
package captures_test

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// entry is one capture's intent in manifest.json.
type entry struct {
	Pcap            string   `json:"pcap"`
	Scenario        string   `json:"scenario"`
	Protocol        string   `json:"protocol"`
	Address         string   `json:"address"`
	Port            int      `json:"port"`
	Version         string   `json:"version"`
	CipherSuite     string   `json:"cipher_suite"`
	CipherSuiteID   string   `json:"cipher_suite_id"`
	SNI             *string  `json:"sni"`
	ALPNOffered     []string `json:"alpn_offered"`
	ALPN            string   `json:"alpn"`
	VersionsOffered []string `json:"versions_offered"`
	Handshake       string   `json:"handshake"`
	Alert           string   `json:"alert"`
	Connections     int      `json:"connections"`
	TLSConnections  int      `json:"tls_connections"`
	Resumed         bool     `json:"resumed"`
	HRR             bool     `json:"hrr"`
	EarlyData       bool     `json:"early_data"`
	ClientCert      bool     `json:"client_cert"`
	// ClientCertRequested: the server asked, the client sent none.
	ClientCertRequested bool     `json:"client_cert_requested"`
	ChainLength         int      `json:"chain_length"`
	DHBits              int      `json:"dh_bits"`
	Cert                string   `json:"cert"`
	Findings            []string `json:"findings"`
	Secrets             []string `json:"secrets"`
	HiddenSecrets       []string `json:"hidden_secrets"`
	Encoding            string   `json:"encoding"`
	DecodeAs            []string `json:"decode_as"`
}

type manifest struct {
	CAFile   string  `json:"ca_file"`
	Captures []entry `json:"captures"`
}

// Finding ids the rules may report (the list the captures were planned with).
var knownFindings = []string{
	"cert-expired", "cert-not-yet-valid", "cert-expiring-soon", "cert-self-signed", "cert-untrusted",
	"cert-hostname-mismatch", "cert-weak-key", "cert-weak-signature", "cert-validity-too-long",
	"cert-chain-order", "deprecated-version", "deprecated-version-offered", "weak-cipher",
	"no-forward-secrecy", "cbc-mode-cipher", "insecure-renegotiation", "tls-compression",
	"heartbeat-enabled", "missing-sni", "handshake-failed", "weak-dh-group", "plaintext-credentials",
	"plaintext-session-cookie", "plaintext-card-number", "plaintext-pii", "plaintext-login-page",
}

var versionNames = map[string]uint16{
	"SSL 3.0": 0x0300, "TLS 1.0": 0x0301, "TLS 1.1": 0x0302, "TLS 1.2": 0x0303, "TLS 1.3": 0x0304,
}

// RFC 8446, Appendix B.2 and the IANA alert registry.
var alertCodes = map[string]int{"handshake_failure": 40, "bad_certificate": 42, "protocol_version": 70}

const (
	extPreSharedKey = 41 // RFC 8446, 4.2.11
	extEarlyData    = 42 // RFC 8446, 4.2.10
	maxFrame        = 1514
	maxPcapBytes    = 200 << 10
	maxTotalBytes   = 2 << 20
)

func load(t *testing.T) (string, manifest) {
	t.Helper()
	dir := testutil.Pcaps(t)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatalf("reading manifest: %v", err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return dir, m
}

func TestManifestCoversCaptures(t *testing.T) {
	dir, m := load(t)
	listed := map[string]bool{}
	total := int64(0)
	for _, e := range m.Captures {
		if listed[e.Pcap] {
			t.Errorf("%s listed twice", e.Pcap)
		}
		listed[e.Pcap] = true
		for _, f := range e.Findings {
			if !slices.Contains(knownFindings, f) {
				t.Errorf("%s: unknown finding id %q", e.Pcap, f)
			}
		}
		if e.Scenario == "" {
			t.Errorf("%s: no scenario", e.Pcap)
		}
	}
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	for _, p := range pcaps {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
		if !listed[filepath.Base(p)] {
			t.Errorf("%s is not in manifest.json", filepath.Base(p))
		}
		if st.Size() > maxPcapBytes {
			t.Errorf("%s is %d bytes, more than %d", filepath.Base(p), st.Size(), maxPcapBytes)
		}
	}
	if total > maxTotalBytes {
		t.Errorf("captures total %d bytes, more than %d", total, maxTotalBytes)
	}
	if _, err := os.Stat(filepath.Join(dir, m.CAFile)); err != nil {
		t.Errorf("ca_file: %v", err)
	}
}

// frame is one row of tshark's field output.
type frame struct {
	number, length   int
	srcPort, dstPort int
	types            []int // handshake types in the frame
	version          []uint16
	supported        []uint16
	suites           []uint16
	sni              string
	alpn             []string
	extensions       []int
	alerts           []int
	certs            int
	segments         int
	dhPrimeLen       int
	time             time.Time
	certificates     [][]byte // DER, in the order sent
	syn, ack, fin    bool
	dst              string // IPv4 or IPv6 destination address
}

var fields = []string{
	"frame.number", "frame.len", "tcp.srcport", "tcp.dstport", "tls.handshake.type", "tls.handshake.version",
	"tls.handshake.extensions.supported_version", "tls.handshake.ciphersuite",
	"tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str", "tls.handshake.extension.type",
	"tls.alert_message.desc", "tls.handshake.certificate_length", "tcp.segment.count", "tls.handshake.p_len",
	"frame.time_epoch", "tls.handshake.certificate", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin",
	"ip.dst", "ipv6.dst",
}

// dissect runs tshark on one capture and returns a row per frame.
// keylog, when set, is an NSS key log file tshark decrypts with.
func dissect(tshark, pcap string, decodeAs []string, keylog string) ([]frame, error) {
	args := []string{"-r", pcap, "-n", "-o", "tcp.reassemble_out_of_order:TRUE",
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"}
	if keylog != "" {
		args = append(args, "-o", "tls.keylog_file:"+keylog)
	}
	for _, d := range decodeAs {
		args = append(args, "-d", d)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if len(msg) > 400 {
			msg = msg[:400] + "..."
		}
		return nil, fmt.Errorf("tshark %s: %v: %s", pcap, err, msg)
	}
	var frames []frame
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		for len(f) < len(fields) {
			f = append(f, "")
		}
		var fr frame
		fr.number, _ = strconv.Atoi(f[0])
		fr.length, _ = strconv.Atoi(f[1])
		fr.srcPort, _ = strconv.Atoi(f[2])
		fr.dstPort, _ = strconv.Atoi(f[3])
		fr.types = ints(f[4])
		fr.version = hexes(f[5])
		fr.supported = hexes(f[6])
		fr.suites = hexes(f[7])
		fr.sni = f[8]
		if f[9] != "" {
			fr.alpn = strings.Split(f[9], ",")
		}
		fr.extensions = ints(f[10])
		fr.alerts = ints(f[11])
		fr.certs = len(ints(f[12]))
		if segs := ints(f[13]); len(segs) > 0 {
			fr.segments = segs[0]
		}
		if p := ints(f[14]); len(p) > 0 {
			fr.dhPrimeLen = p[0]
		}
		if sec, err := strconv.ParseFloat(f[15], 64); err == nil {
			fr.time = time.Unix(0, int64(sec*1e9)).UTC()
		}
		for _, h := range strings.Split(f[16], ",") {
			if der, err := hex.DecodeString(strings.ReplaceAll(h, ":", "")); err == nil && len(der) > 0 {
				fr.certificates = append(fr.certificates, der)
			}
		}
		fr.syn, fr.ack, fr.fin = f[17] == "1", f[18] == "1", f[19] == "1"
		fr.dst = f[20] + f[21]
		frames = append(frames, fr)
	}
	return frames, nil
}

func ints(s string) []int {
	var out []int
	for _, x := range strings.Split(s, ",") {
		if v, err := strconv.ParseInt(strings.TrimSpace(x), 0, 32); err == nil {
			out = append(out, int(v))
		}
	}
	return out
}

func hexes(s string) []uint16 {
	var out []uint16
	for _, x := range strings.Split(s, ",") {
		if v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(x), "0x"), 16, 16); err == nil {
			out = append(out, uint16(v))
		}
	}
	return out
}

func TestManifestMatchesTshark(t *testing.T) {
	dir, m := load(t)
	tshark := testutil.Tool(t, "tshark")
	mergecap := testutil.Tool(t, "mergecap")
	// tshark takes most of a second to start, so it reads all captures at
	// once, concatenated; every scenario has its own server port, which
	// sorts the frames back into captures.
	all := filepath.Join(t.TempDir(), "all.pcap")
	args := []string{"-a", "-F", "pcap", "-w", all}
	var decodeAs []string
	byPort := map[int]int{}
	for i, e := range m.Captures {
		if j, dup := byPort[e.Port]; dup || e.Port == 0 {
			t.Fatalf("%s: port %d not unique (also %s)", e.Pcap, e.Port, m.Captures[j].Pcap)
		}
		byPort[e.Port] = i
		args = append(args, filepath.Join(dir, e.Pcap))
		decodeAs = append(decodeAs, e.DecodeAs...)
	}
	if out, err := exec.Command(mergecap, args...).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v: %s", err, out)
	}
	// Once as an eavesdropper sees it, once decrypted with the clients' key
	// logs (NAME.keys), which shows what TLS 1.3 hides.
	var keys bytes.Buffer
	for _, e := range m.Captures {
		if k, err := os.ReadFile(keyFile(dir, e)); err == nil {
			keys.Write(k)
		}
	}
	keylog := filepath.Join(t.TempDir(), "all.keys")
	if err := os.WriteFile(keylog, keys.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	frames := split(t, m, byPort, tshark, all, decodeAs, "")
	decrypted := split(t, m, byPort, tshark, all, decodeAs, keylog)
	for i, e := range m.Captures {
		t.Run(strings.TrimSuffix(e.Pcap, ".pcap"), func(t *testing.T) {
			path := filepath.Join(dir, e.Pcap)
			frames := frames[i]
			if n := countFrames(t, path); n != len(frames) {
				t.Fatalf("%d frames in the file, %d to or from port %d", n, len(frames), e.Port)
			}
			if len(frames) == 0 {
				t.Fatal("no frames")
			}
			// Recording starts before the client connects and stops after
			// both sides closed: whole connections, from SYN to FIN.
			if first := frames[0]; !first.syn || first.ack || first.dstPort != e.Port || first.dst != e.Address {
				t.Errorf("first frame is not the client's SYN to %s port %d", e.Address, e.Port)
			}
			fins := map[int]bool{}
			for _, fr := range frames {
				if fr.fin {
					fins[fr.srcPort] = true
				}
			}
			if !fins[e.Port] || len(fins) < 2 {
				t.Errorf("FINs from ports %v: want both sides of each connection closed", fins)
			}
			for _, fr := range frames {
				if fr.length > maxFrame {
					t.Errorf("frame %d is %d bytes: recorded with offloads on or MTU above 1500", fr.number, fr.length)
				}
			}
			checkTLS(t, e, frames)
			checkCertificate(t, e, frames, filepath.Join(dir, m.CAFile))
			checkSecrets(t, e, path)
			if _, err := os.Stat(keyFile(dir, e)); err == nil && e.Handshake != "failed" {
				checkDecrypted(t, e, decrypted[i], filepath.Join(dir, m.CAFile))
			} else if e.Version != "" && e.Handshake != "failed" {
				t.Errorf("no key log %s", keyFile(dir, e))
			}
		})
	}
}

// split dissects the concatenated captures and sorts the frames back into
// captures by their server port.
func split(t *testing.T, m manifest, byPort map[int]int, tshark, all string, decodeAs []string, keylog string) [][]frame {
	rows, err := dissect(tshark, all, decodeAs, keylog)
	if err != nil {
		t.Fatal(err)
	}
	frames := make([][]frame, len(m.Captures))
	for _, fr := range rows {
		i, ok := byPort[fr.dstPort]
		if !ok {
			i, ok = byPort[fr.srcPort]
		}
		if !ok {
			t.Errorf("frame %d (ports %d, %d) belongs to no scenario's port", fr.number, fr.srcPort, fr.dstPort)
			continue
		}
		fr.number = len(frames[i]) + 1 // the frame's number in its own file
		frames[i] = append(frames[i], fr)
	}
	return frames
}

func keyFile(dir string, e entry) string {
	return filepath.Join(dir, strings.TrimSuffix(e.Pcap, ".pcap")+".keys")
}

// checkDecrypted looks at the capture decrypted with its key log: every
// connection's handshake reaches both Finished messages (so the key log
// belongs to it), and in TLS 1.3 the encrypted parts hold what the manifest
// says: the server's ALPN choice in EncryptedExtensions, its certificates,
// a client certificate for mTLS.
func checkDecrypted(t *testing.T, e entry, frames []frame, caFile string) {
	finished := map[int]int{} // client port -> Finished messages
	var alpn []string
	clientCert := false
	for _, fr := range frames {
		client := fr.srcPort
		if client == e.Port {
			client = fr.dstPort
		}
		for _, ty := range fr.types {
			if ty == 20 {
				finished[client]++
			}
		}
		if has(fr.types, 8) { // EncryptedExtensions, RFC 8446, 4.3.1
			alpn = fr.alpn
		}
		if has(fr.types, 11) && fr.srcPort != e.Port && len(fr.certificates) > 0 {
			clientCert = true
		}
	}
	want := max(e.Connections, e.TLSConnections, 1)
	if len(finished) != want {
		t.Errorf("decrypted: Finished on %d connections, want %d: the key log does not match", len(finished), want)
	}
	for port, n := range finished {
		if n < 2 {
			t.Errorf("decrypted: %d Finished on the connection from port %d, want both", n, port)
		}
	}
	if e.Version != "TLS 1.3" {
		return
	}
	if e.ALPN != "" && !slices.Equal(alpn, []string{e.ALPN}) {
		t.Errorf("decrypted: EncryptedExtensions ALPN %q, manifest says %q", alpn, e.ALPN)
	}
	if clientCert != e.ClientCert {
		t.Errorf("decrypted: client certificate %v, manifest says %v", clientCert, e.ClientCert)
	}
	checkCertificate(t, e, frames, caFile)
}

// countFrames counts the records of a classic pcap file (what tcpdump -w
// writes): a 24-byte file header, then 16-byte record headers, each
// followed by incl_len bytes.
func countFrames(t *testing.T, path string) int {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 24 {
		t.Fatalf("%s: %d bytes, shorter than a pcap header", path, len(raw))
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(raw) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		t.Fatalf("%s: not a classic pcap file", path)
	}
	n := 0
	for rest := raw[24:]; len(rest) > 0; n++ {
		if len(rest) < 16 {
			t.Fatalf("%s: truncated record header after %d records", path, n)
		}
		incl := order.Uint32(rest[8:12])
		if uint64(incl) > uint64(len(rest)-16) {
			t.Fatalf("%s: record %d runs past the end of the file", path, n+1)
		}
		rest = rest[16+int(incl):]
	}
	return n
}

func has(types []int, ty int) bool { return slices.Contains(types, ty) }

func checkTLS(t *testing.T, e entry, frames []frame) {
	var clientHellos, serverHellos, certFrames []frame
	var alerts []int
	for _, fr := range frames {
		if has(fr.types, 1) {
			clientHellos = append(clientHellos, fr)
		}
		if has(fr.types, 2) {
			serverHellos = append(serverHellos, fr)
		}
		if has(fr.types, 11) {
			certFrames = append(certFrames, fr)
		}
		alerts = append(alerts, fr.alerts...)
	}
	isTLS := e.Version != "" || e.Handshake == "failed"
	if !isTLS {
		if len(clientHellos) != 0 {
			t.Errorf("cleartext scenario has %d ClientHellos", len(clientHellos))
		}
		return
	}
	conns := map[int]int{} // client port -> ClientHellos on it
	earlyData := false
	for _, ch := range clientHellos {
		conns[ch.srcPort]++
		earlyData = earlyData || has(ch.extensions, extEarlyData)
		if e.SNI != nil && ch.sni != *e.SNI {
			t.Errorf("frame %d: SNI %q, manifest says %q", ch.number, ch.sni, *e.SNI)
		}
		if e.ALPNOffered != nil && !slices.Equal(ch.alpn, e.ALPNOffered) {
			t.Errorf("frame %d: ALPN offered %q, manifest says %q", ch.number, ch.alpn, e.ALPNOffered)
		}
		for _, v := range e.VersionsOffered {
			if !slices.Contains(ch.supported, versionNames[v]) {
				t.Errorf("frame %d: %s not in supported_versions %04x", ch.number, v, ch.supported)
			}
		}
	}
	want := max(e.Connections, e.TLSConnections, 1)
	if len(conns) != want {
		t.Errorf("%d TLS connections (ClientHellos from %d ports), manifest says %d", len(conns), len(conns), want)
	}
	hrr := false
	for _, n := range conns {
		hrr = hrr || n == 2
	}
	if earlyData != e.EarlyData {
		t.Errorf("early_data in a ClientHello: %v, manifest says %v", earlyData, e.EarlyData)
	}
	if hrr != e.HRR {
		t.Errorf("second ClientHello on one connection (HelloRetryRequest): %v, manifest says %v", hrr, e.HRR)
	}
	if e.Handshake == "failed" {
		if len(serverHellos) != 0 {
			t.Errorf("failed handshake has %d ServerHellos", len(serverHellos))
		}
		if code, ok := alertCodes[e.Alert]; !ok || !slices.Contains(alerts, code) {
			t.Errorf("alerts %v, manifest says %s", alerts, e.Alert)
		}
		return
	}
	if len(serverHellos) == 0 {
		t.Fatal("no ServerHello")
	}
	wantSuite := hexes(e.CipherSuiteID)
	if len(wantSuite) != 1 {
		t.Fatalf("cipher_suite_id %q", e.CipherSuiteID)
	}
	resumedPSK := false
	for _, sh := range serverHellos {
		v := sh.version
		if len(sh.supported) > 0 {
			v = sh.supported
		}
		if len(v) == 0 || v[0] != versionNames[e.Version] {
			t.Errorf("frame %d: ServerHello version %04x, manifest says %s", sh.number, v, e.Version)
		}
		if len(sh.suites) == 0 || sh.suites[0] != wantSuite[0] {
			t.Errorf("frame %d: cipher suite %04x, manifest says %s (%s)", sh.number, sh.suites, e.CipherSuite, e.CipherSuiteID)
		}
		if e.Version != "TLS 1.3" && e.ALPN != "" && !slices.Equal(sh.alpn, []string{e.ALPN}) {
			t.Errorf("frame %d: ALPN %q, manifest says %q", sh.number, sh.alpn, e.ALPN)
		}
		resumedPSK = resumedPSK || has(sh.extensions, extPreSharedKey)
	}
	if e.Version == "TLS 1.3" {
		if len(certFrames) != 0 {
			t.Errorf("TLS 1.3 with a cleartext Certificate message")
		}
		if resumedPSK != e.Resumed {
			t.Errorf("pre_shared_key in a ServerHello: %v, manifest says resumed=%v", resumedPSK, e.Resumed)
		}
		return
	}
	// TLS 1.2 and earlier: certificates and key exchange are in the clear.
	if e.DHBits > 0 {
		got := 0
		for _, fr := range frames {
			got = max(got, fr.dhPrimeLen*8)
		}
		if got != e.DHBits {
			t.Errorf("DH prime of %d bits, manifest says %d", got, e.DHBits)
		}
	}
	var serverCerts, clientCerts []frame
	requested := false
	for _, fr := range frames {
		requested = requested || has(fr.types, 13) // CertificateRequest
	}
	for _, fr := range certFrames {
		if fr.srcPort == e.Port {
			serverCerts = append(serverCerts, fr)
		} else {
			clientCerts = append(clientCerts, fr)
		}
	}
	wantServer := 0
	if e.Cert != "none" && e.Cert != "" {
		wantServer = 1 // one full handshake; a resumed one sends none
	}
	if len(serverCerts) != wantServer {
		t.Errorf("%d server Certificate messages, want %d (resumed=%v cert=%q)", len(serverCerts), wantServer, e.Resumed, e.Cert)
	}
	if requested != (e.ClientCert || e.ClientCertRequested) {
		t.Errorf("CertificateRequest sent: %v, manifest says client_cert=%v client_cert_requested=%v", requested, e.ClientCert, e.ClientCertRequested)
	}
	sent := len(clientCerts) > 0 && clientCerts[0].certs > 0
	if sent != e.ClientCert || (requested && len(clientCerts) != 1) {
		t.Errorf("client Certificate messages %d (with certificates: %v), manifest says client_cert=%v", len(clientCerts), sent, e.ClientCert)
	}
	certFrames = serverCerts
	if len(certFrames) > 0 && e.ChainLength > 0 {
		if certFrames[0].certs != e.ChainLength {
			t.Errorf("server sent %d certificates, manifest says %d", certFrames[0].certs, e.ChainLength)
		}
		if e.ChainLength > 1 && certFrames[0].segments < 2 {
			t.Errorf("certificate chain in %d TCP segment(s): should span several at MTU 1500", certFrames[0].segments)
		}
	}
}

// checkSecrets: planted cleartext secrets are in the capture's bytes (unless
// an encoding hides them, e.g. gzip) and secrets sent after STARTTLS are not.
func checkSecrets(t *testing.T, e entry, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body := raw
	if e.Encoding != "" {
		// Inside a gzip (or other) body: tshark decodes HTTP bodies.
		args := []string{"-r", path, "-Y", "http", "-T", "fields", "-e", "http.file_data"}
		for _, d := range e.DecodeAs {
			args = append(args, "-d", d)
		}
		out, err := exec.Command(testutil.Tool(t, "tshark"), args...).Output()
		if err != nil {
			t.Fatalf("tshark http.file_data: %v", err)
		}
		if bytes.Contains(raw, []byte(e.Secrets[0])) {
			t.Errorf("%q is in the raw bytes: the %s encoding does not hide it", e.Secrets[0], e.Encoding)
		}
		body = out
	}
	for _, s := range e.Secrets {
		if !bytes.Contains(body, []byte(s)) {
			t.Errorf("planted secret %q is not in the capture", s)
		}
	}
	for _, s := range e.HiddenSecrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("secret %q sent after the TLS upgrade is in the clear", s)
		}
	}
}

// checkCertificate parses the server's certificates as tshark extracted them
// from the wire and checks that they really have the defect the manifest's
// certificate case names, judged at the capture's own time.
func checkCertificate(t *testing.T, e entry, frames []frame, caFile string) {
	var chain []*x509.Certificate
	for _, fr := range frames {
		if len(fr.certificates) == 0 || fr.dstPort == e.Port {
			continue // no Certificate, or the client's
		}
		for _, der := range fr.certificates {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatalf("frame %d: certificate from the wire: %v", fr.number, err)
			}
			chain = append(chain, c)
		}
		break
	}
	if len(chain) == 0 {
		return // TLS 1.3 (encrypted), anonymous, failed or cleartext
	}
	when := frames[0].time
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	leaf := chain[0]
	_, verr := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "localhost", CurrentTime: when})
	validity := leaf.NotAfter.Sub(leaf.NotBefore)
	day := 24 * time.Hour
	switch e.Cert {
	case "good", "good-ecdsa", "chain-order":
		if verr != nil {
			t.Errorf("leaf does not verify for localhost against %s at %v: %v", caFile, when, verr)
		}
		if e.Cert == "chain-order" && len(chain) > 1 && chain[1].Subject.String() == leaf.Issuer.String() {
			t.Errorf("the certificate after the leaf is its issuer: the chain is in order")
		}
		if e.Cert == "good-ecdsa" && leaf.PublicKeyAlgorithm != x509.ECDSA {
			t.Errorf("leaf key is %v, not ECDSA", leaf.PublicKeyAlgorithm)
		}
	case "expired":
		if !leaf.NotAfter.Before(when) {
			t.Errorf("leaf valid until %v, after the capture (%v)", leaf.NotAfter, when)
		}
	case "not-yet-valid":
		if !leaf.NotBefore.After(when) {
			t.Errorf("leaf valid from %v, before the capture (%v)", leaf.NotBefore, when)
		}
	case "expiring-soon":
		if left := leaf.NotAfter.Sub(when); left <= 0 || left > 14*day {
			t.Errorf("leaf expires %v after the capture, want within 14 days", left)
		}
		if verr != nil {
			t.Errorf("leaf does not verify: %v", verr)
		}
	case "self-signed":
		if leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) != nil ||
			leaf.Subject.String() != leaf.Issuer.String() {
			t.Errorf("leaf is not self-signed")
		}
	case "untrusted":
		var ua x509.UnknownAuthorityError
		if !errors.As(verr, &ua) {
			t.Errorf("verification error %v, want an unknown authority", verr)
		}
	case "wrong-host":
		if leaf.VerifyHostname("localhost") == nil {
			t.Errorf("leaf is valid for localhost")
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: when}); err != nil {
			t.Errorf("leaf does not verify apart from its name: %v", err)
		}
	case "weak-key":
		if k, ok := leaf.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() > 1024 {
			t.Errorf("leaf key is not RSA of 1024 bits or fewer")
		}
	case "sha1":
		if leaf.SignatureAlgorithm != x509.SHA1WithRSA {
			t.Errorf("leaf signed with %v", leaf.SignatureAlgorithm)
		}
	case "validity-too-long":
		if validity <= 398*day {
			t.Errorf("leaf valid for %v, not more than 398 days", validity)
		}
		if verr != nil {
			t.Errorf("leaf does not verify: %v", verr)
		}
	default:
		t.Errorf("certificate case %q has no check", e.Cert)
	}
	if e.Cert != "validity-too-long" && validity > 398*day {
		t.Errorf("leaf valid for %v: would also be cert-validity-too-long", validity)
	}
}
