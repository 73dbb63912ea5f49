package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// liveDeadline bounds every wait for a line from the sniffer: a hang
// detector, not a timing assertion.
const liveDeadline = 30 * time.Second

// TestLiveEndToEnd runs the built binary on lo as a user would
// (tlsscope -i lo -f ... --format ndjson -w FILE --fail-on high), drives
// real handshakes through it (OpenSSL s_server/s_client, Go crypto/tls
// TLS 1.3 and 1.2, and a plain-HTTP login) and checks, against what each
// client itself negotiated: that every connection's NDJSON line and the
// plaintext-credentials finding are printed while the capture is still
// running, that SIGINT ends it with a summary and exit status 1 (0 in a
// run without findings), and that reading back the -w file reports the
// same connections. Needs root (CAP_NET_RAW) and openssl.
func TestLiveEndToEnd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CAP_NET_RAW)")
	}
	openssl := testutil.Tool(t, "openssl")
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	pki := newTestPKI(t, dir)

	// Servers: OpenSSL on p1, Go crypto/tls on p2, plain HTTP on p3.
	p1 := startOpenSSLServer(t, openssl, pki)
	p2 := startGoTLSServer(t, pki)
	httpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "welcome")
	}))
	defer httpSrv.Close()
	p3 := port(t, httpSrv.Listener.Addr())

	pcapng := filepath.Join(dir, "live.pcapng")
	expr := fmt.Sprintf("tcp port %d or tcp port %d or tcp port %d", p1, p2, p3)
	sn := startSniffer(t, bin, "-i", "lo", "-f", expr, "--format", "ndjson", "-w", pcapng,
		"--fail-on", "high", "--ca-file", pki.caFile)
	sn.awaitCapturing(t, pki, p2)

	type want struct {
		name             string
		client           string // "" when the client's port is not known (s_client)
		server, sni      string
		version          string
		versionID        uint16
		cipher           string
		cipherID         uint16
		matchByServerSNI bool
	}
	var wants []want

	// OpenSSL: what s_client says it negotiated is the expected value.
	{
		out, err := exec.Command(openssl, "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", p1),
			"-servername", "openssl.test", "-CAfile", pki.caFile, "-verify_return_error",
			"-tls1_3", "-brief").CombinedOutput()
		if err != nil {
			t.Fatalf("s_client: %v\n%s", err, out)
		}
		proto := field(string(out), "Protocol version:")
		suite := field(string(out), "Ciphersuite:")
		if proto != "TLSv1.3" || suite == "" {
			t.Fatalf("s_client output without protocol and suite:\n%s", out)
		}
		wants = append(wants, want{name: "openssl", server: fmt.Sprintf("127.0.0.1:%d", p1), sni: "openssl.test",
			version: "TLS 1.3", cipher: suite, matchByServerSNI: true})
	}
	// Go crypto/tls, TLS 1.3 and TLS 1.2: the client's ConnectionState.
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		sni := "go13.test"
		if v == tls.VersionTLS12 {
			sni = "go12.test"
		}
		local, st := goTLSExchange(t, p2, pki, sni, v)
		wants = append(wants, want{name: "go " + tls.VersionName(v), client: local, server: fmt.Sprintf("127.0.0.1:%d", p2), sni: sni,
			version: tls.VersionName(st.Version), versionID: st.Version, cipher: tls.CipherSuiteName(st.CipherSuite), cipherID: st.CipherSuite})
	}
	// A plain-HTTP login: a form password and Basic auth.
	httpLocal := httpLogin(t, httpSrv.URL)

	// Every connection is printed while the capture runs.
	live := map[string]map[string]any{}
	for _, w := range wants {
		r := sn.await(t, "the connection line of "+w.name, func(r map[string]any) bool {
			if r["type"] != "connection" || r["server"] != w.server || r["sni"] != w.sni {
				return false
			}
			return w.client == "" || r["client"] == w.client
		})
		if r["version"] != w.version || r["cipher"] != w.cipher {
			t.Errorf("%s: streamed %v %v, the client negotiated %s %s", w.name, r["version"], r["cipher"], w.version, w.cipher)
		}
		if w.versionID != 0 && (r["version_id"] != float64(w.versionID) || r["cipher_id"] != float64(w.cipherID)) {
			t.Errorf("%s: streamed ids %v %v, the client negotiated %#04x %#04x", w.name, r["version_id"], r["cipher_id"], w.versionID, w.cipherID)
		}
		if r["established"] != true {
			t.Errorf("%s: streamed a handshake that is not established: %v", w.name, r)
		}
		live[w.name] = r
	}
	httpLine := sn.await(t, "the connection line of the HTTP login", func(r map[string]any) bool {
		return r["type"] == "connection" && r["client"] == httpLocal
	})
	if httpLine["protocol"] != "http" || httpLine["server"] != fmt.Sprintf("127.0.0.1:%d", p3) {
		t.Errorf("the HTTP login streamed as %v %v", httpLine["protocol"], httpLine["server"])
	}
	live["http"] = httpLine
	cred := sn.await(t, "the plaintext-credentials finding", func(r map[string]any) bool {
		return r["type"] == "finding" && r["id"] == "plaintext-credentials" && r["client"] == httpLocal
	})
	if cred["severity"] != "high" && cred["severity"] != "critical" {
		t.Errorf("plaintext-credentials streamed as %v", cred["severity"])
	}
	for _, k := range []string{"hunter2", base64Basic("alice", "hunter2")} {
		if strings.Contains(sn.stdout(), k) {
			t.Errorf("the secret %q was printed unmasked", k)
		}
	}

	// SIGINT: a summary, then exit 1 (a high finding and --fail-on high).
	code, recs := sn.interrupt(t)
	if code != exitFindings {
		t.Errorf("exit status %d after SIGINT with a high finding and --fail-on high, want %d\nstderr: %s", code, exitFindings, sn.stderr.String())
	}
	sum := checkSummary(t, recs)
	if n := sum["connections"].(float64); n < float64(len(wants)+1) {
		t.Errorf("summary counts %v connections, %d were driven", n, len(wants)+1)
	}

	// The -w file read back reports the same connections.
	out, err := exec.Command(bin, "-r", pcapng, "--format", "ndjson", "-q", "--ca-file", pki.caFile).Output()
	if err != nil {
		t.Fatalf("tlsscope -r %s: %v", pcapng, err)
	}
	back := records(t, string(out))
	for name, lr := range live {
		var br map[string]any
		for _, r := range back {
			if r["type"] == "connection" && r["client"] == lr["client"] && r["server"] == lr["server"] {
				br = r
			}
		}
		if br == nil {
			t.Errorf("%s (%v -> %v) streamed live but not in the -w file", name, lr["client"], lr["server"])
			continue
		}
		for _, k := range []string{"protocol", "sni", "version", "version_id", "cipher", "cipher_id", "ja3", "ja4", "ja3s"} {
			if fmt.Sprint(br[k]) != fmt.Sprint(lr[k]) {
				t.Errorf("%s: %s is %v live, %v read back", name, k, lr[k], br[k])
			}
		}
		// Live, a finding is printed once, when it becomes known: with the
		// connection's line or later on its own; the file has them all.
		client := lr["client"].(string)
		if l, b := findingsOf(recs, client), findingsOf(back, client); !slices.Equal(l, b) {
			t.Errorf("%s: findings %v live, %v read back", name, l, b)
		}
	}
	if ids := findingsOf(back, httpLocal); !slices.Contains(ids, "plaintext-credentials") {
		t.Errorf("the HTTP login read back with findings %v", ids)
	}

	// A second short run with a clean TLS 1.3 connection only: exit 0.
	sn2 := startSniffer(t, bin, "-i", "lo", "-f", fmt.Sprintf("tcp port %d", p2), "--format", "ndjson",
		"--fail-on", "high", "--ca-file", pki.caFile)
	probe := sn2.awaitCapturing(t, pki, p2)
	for _, f := range stringList(probe["findings"]) {
		t.Logf("finding on the clean connection: %s", f)
	}
	code, recs = sn2.interrupt(t)
	if code != exitOK {
		t.Errorf("exit status %d of a run without high findings, want 0\nstderr: %s\nstdout: %s", code, sn2.stderr.String(), sn2.stdout())
	}
	checkSummary(t, recs)
}

// buildBinary builds cmd/tlsscope (the test's directory) into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "tlsscope")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// testPKI is a CA and a server certificate for 127.0.0.1 and *.test.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	cert                      tls.Certificate
}

func newTestPKI(t *testing.T, dir string) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsscope live test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "go13.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		DNSNames:    []string{"openssl.test", "go13.test", "go12.test", "probe.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	p := &testPKI{caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(p.caFile, "CERTIFICATE", caDER)
	write(p.certFile, "CERTIFICATE", der)
	write(p.keyFile, "EC PRIVATE KEY", keyDER)
	p.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return p
}

func port(t *testing.T, a net.Addr) int {
	t.Helper()
	_, p, err := net.SplitHostPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// startOpenSSLServer runs openssl s_server on a free port of 127.0.0.1
// until the test ends, and waits until it accepts.
func startOpenSSLServer(t *testing.T, openssl string, pki *testPKI) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := port(t, l.Addr())
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, openssl, "s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", p),
		"-cert", pki.certFile, "-key", pki.keyFile)
	// s_server quits at the end of its standard input: keep it open.
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cancel(); cmd.Wait() })
	accepting := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ACCEPT") {
				accepting <- true
			}
		}
		close(accepting)
	}()
	select {
	case ok := <-accepting:
		if !ok {
			t.Fatal("openssl s_server exited before accepting")
		}
	case <-time.After(liveDeadline):
		t.Fatal("openssl s_server did not start")
	}
	return p
}

// startGoTLSServer serves crypto/tls on 127.0.0.1: each connection reads a
// line and answers "pong".
func startGoTLSServer(t *testing.T, pki *testPKI) int {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pki.cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(liveDeadline))
				if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
					io.WriteString(c, "pong\n")
				}
			}()
		}
	}()
	return port(t, l.Addr())
}

// goTLSExchange makes one TLS connection (version v exactly) with a
// ping/pong and returns the client's address and what it negotiated.
func goTLSExchange(t *testing.T, p int, pki *testPKI, sni string, v uint16) (string, tls.ConnectionState) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: liveDeadline}, "tcp", fmt.Sprintf("127.0.0.1:%d", p),
		&tls.Config{RootCAs: pki.pool, ServerName: sni, MinVersion: v, MaxVersion: v})
	if err != nil {
		t.Fatalf("TLS to %s: %v", sni, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(liveDeadline))
	io.WriteString(c, "ping\n")
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		t.Fatalf("TLS to %s: %v", sni, err)
	}
	return c.LocalAddr().String(), c.ConnectionState()
}

// httpLogin POSTs a form password with Basic auth over plain HTTP and
// returns the client's address.
func httpLogin(t *testing.T, base string) string {
	t.Helper()
	var local string
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			local = c.LocalAddr().String()
		}
		return c, err
	}}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"username": {"alice"}, "password": {"hunter2"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("alice", "hunter2")
	resp, err := (&http.Client{Transport: tr, Timeout: liveDeadline}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return local
}

func base64Basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// field is the value after prefix on a line of s_client -brief output.
func field(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func stringList(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	slices.Sort(out)
	return out
}

// findingsOf lists the ids of the finding records of one client, sorted.
func findingsOf(recs []map[string]any, client string) []string {
	var ids []string
	for _, r := range recs {
		if r["type"] == "finding" && r["client"] == client {
			ids = append(ids, r["id"].(string))
		}
	}
	slices.Sort(ids)
	return ids
}

// checkSummary: the last record is the run's summary, with the kernel's
// counters filled in.
func checkSummary(t *testing.T, recs []map[string]any) map[string]any {
	t.Helper()
	if len(recs) == 0 {
		t.Fatal("no output")
	}
	s := recs[len(recs)-1]
	if s["type"] != "summary" || s["scope"] != "total" {
		t.Fatalf("last line is not the summary: %v", s)
	}
	if s["kernel_received"] == nil || s["kernel_received"].(float64) == 0 {
		t.Errorf("summary without the kernel's received count: %v", s)
	}
	if s["packets"].(float64) == 0 {
		t.Errorf("summary counts no packets: %v", s)
	}
	return s
}

// sniffer is a running tlsscope whose NDJSON lines are read as they come.
type sniffer struct {
	cmd    *exec.Cmd
	lines  chan map[string]any
	seen   []map[string]any // read so far, in order
	stderr syncBuffer
}

// syncBuffer is a strings.Builder the process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func startSniffer(t *testing.T, bin string, args ...string) *sniffer {
	t.Helper()
	s := &sniffer{cmd: exec.Command(bin, args...), lines: make(chan map[string]any, 1024)}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"type": "bad line", "line": sc.Text()}
			}
			s.lines <- m
		}
	}()
	return s
}

func (s *sniffer) stdout() string {
	var b strings.Builder
	for _, r := range s.seen {
		j, _ := json.Marshal(r)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// next returns the next line, or nil at the deadline or end of output.
func (s *sniffer) next(t *testing.T, deadline <-chan time.Time) map[string]any {
	select {
	case r, ok := <-s.lines:
		if !ok {
			return nil
		}
		if r["type"] == "bad line" {
			t.Errorf("bad NDJSON line %q", r["line"])
		}
		s.seen = append(s.seen, r)
		return r
	case <-deadline:
		return nil
	}
}

// await returns the first record (already read or to come) that matches.
func (s *sniffer) await(t *testing.T, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	for _, r := range s.seen {
		if match(r) {
			return r
		}
	}
	deadline := time.After(liveDeadline)
	for {
		r := s.next(t, deadline)
		if r == nil {
			t.Fatalf("%s was not printed within %s while capturing; output so far:\n%s\nstderr: %s", what, liveDeadline, s.stdout(), s.stderr.String())
		}
		if match(r) {
			return r
		}
	}
}

// awaitCapturing makes probe TLS connections (SNI probe.test) to the Go
// server until one is printed: the capture is then running. It returns
// the probe's record.
func (s *sniffer) awaitCapturing(t *testing.T, pki *testPKI, p int) map[string]any {
	t.Helper()
	give := time.After(liveDeadline)
	for {
		local, _ := goTLSExchange(t, p, pki, "probe.test", tls.VersionTLS13)
		wait := time.After(300 * time.Millisecond)
		for {
			r := s.next(t, wait)
			if r == nil {
				break
			}
			if r["type"] == "connection" && r["client"] == local {
				return r
			}
		}
		select {
		case <-give:
			t.Fatalf("no probe connection printed within %s; stderr: %s", liveDeadline, s.stderr.String())
		default:
		}
	}
}

// interrupt sends SIGINT, reads the rest of the output and returns the
// exit status and every record printed.
func (s *sniffer) interrupt(t *testing.T) (int, []map[string]any) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(liveDeadline)
	for {
		select {
		case r, ok := <-s.lines:
			if !ok {
				err := s.cmd.Wait()
				code := s.cmd.ProcessState.ExitCode()
				if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
					t.Fatal(err)
				}
				if strings.Contains(s.stderr.String(), "error") {
					t.Errorf("stderr after SIGINT: %s", s.stderr.String())
				}
				return code, s.seen
			}
			s.seen = append(s.seen, r)
		case <-deadline:
			s.cmd.Process.Kill()
			t.Fatalf("tlsscope did not exit within %s of SIGINT; stderr: %s", liveDeadline, s.stderr.String())
		}
	}
}
