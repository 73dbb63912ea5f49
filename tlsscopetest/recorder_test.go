package tlsscopetest_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	dtls "github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/tlsscopetest"
)

// serverName is the name the test certificates are issued for and the
// clients send as SNI.
const serverName = "tlsscope.test"

// issuer is a certificate and its key, for signing others.
type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var serial int64

// newCert makes a certificate for tmpl's names, signed by parent (nil:
// self-signed), with a fresh key (RSA 2048 when rsaKey, else P-256).
func newCert(t testing.TB, tmpl *x509.Certificate, parent *issuer, rsaKey bool) (*issuer, tls.Certificate) {
	t.Helper()
	var key crypto.Signer
	var err error
	if rsaKey {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	chain := [][]byte{der}
	if parent != nil {
		chain = append(chain, parent.cert.Raw)
	}
	return &issuer{cert: cert, key: key}, tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: cert}
}

func newCA(t testing.TB) *issuer {
	now := time.Now()
	ca, _ := newCert(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "tlsscopetest CA"},
		NotBefore:             now.Add(-30 * 24 * time.Hour), // before the expired leaf
		NotAfter:              now.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil, false)
	return ca
}

// leafTemplate is a server certificate for name valid from notBefore to
// notAfter.
func leafTemplate(name string, notBefore, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		DNSNames:    []string{name},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

const body = "hello from the recorded server\n"

// serve starts an httptest TLS server with cfg whose Listener rec
// records; it is closed when the test ends.
func serve(t testing.TB, rec *tlsscopetest.Recorder, cfg *tls.Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	if rec != nil {
		srv.Listener = rec.Listener(srv.Listener)
	}
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// get makes one request to srv with a client of cfg (dialing through
// dial when not nil) and closes the connection.
func get(t testing.TB, srv *httptest.Server, cfg *tls.Config, dial func(context.Context, string, string) (net.Conn, error)) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: cfg, DialContext: dial, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != body {
		t.Fatalf("response %q, %v; want %q", b, err, body)
	}
}

// scenario is a server configuration and the findings it plants.
type scenario struct {
	name   string
	server func(t *testing.T, ca *issuer) *tls.Config
	client *tls.Config // ServerName is set to serverName
	// want: finding ids the certificate or configuration plants; none:
	// the scenario is clean (no findings at medium or above).
	want    []string
	version uint16
	suite   uint16 // 0: any
}

func scenarios() []scenario {
	now := time.Now()
	return []scenario{
		{
			name: "good",
			server: func(t *testing.T, ca *issuer) *tls.Config {
				_, c := newCert(t, leafTemplate(serverName, now.Add(-time.Hour), now.Add(90*24*time.Hour)), ca, false)
				return &tls.Config{Certificates: []tls.Certificate{c}, MaxVersion: tls.VersionTLS12}
			},
			version: tls.VersionTLS12,
		},
		{
			name: "good-tls13",
			server: func(t *testing.T, ca *issuer) *tls.Config {
				_, c := newCert(t, leafTemplate(serverName, now.Add(-time.Hour), now.Add(90*24*time.Hour)), ca, false)
				return &tls.Config{Certificates: []tls.Certificate{c}}
			},
			version: tls.VersionTLS13,
		},
		{
			name: "expired",
			server: func(t *testing.T, ca *issuer) *tls.Config {
				_, c := newCert(t, leafTemplate(serverName, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), ca, false)
				return &tls.Config{Certificates: []tls.Certificate{c}, MaxVersion: tls.VersionTLS12}
			},
			client:  &tls.Config{InsecureSkipVerify: true},
			want:    []string{"cert-expired"},
			version: tls.VersionTLS12,
		},
		{
			name: "self-signed",
			server: func(t *testing.T, _ *issuer) *tls.Config {
				_, c := newCert(t, leafTemplate(serverName, now.Add(-time.Hour), now.Add(90*24*time.Hour)), nil, false)
				return &tls.Config{Certificates: []tls.Certificate{c}, MaxVersion: tls.VersionTLS12}
			},
			client: &tls.Config{InsecureSkipVerify: true},
			// Self-signed and not among the roots: it chains to
			// nothing trusted either (decode/rules reports both).
			want:    []string{"cert-self-signed", "cert-untrusted"},
			version: tls.VersionTLS12,
		},
		{
			name: "hostname-mismatch",
			server: func(t *testing.T, ca *issuer) *tls.Config {
				_, c := newCert(t, leafTemplate("other.test", now.Add(-time.Hour), now.Add(90*24*time.Hour)), ca, false)
				return &tls.Config{Certificates: []tls.Certificate{c}, MaxVersion: tls.VersionTLS12}
			},
			client:  &tls.Config{InsecureSkipVerify: true},
			want:    []string{"cert-hostname-mismatch"},
			version: tls.VersionTLS12,
		},
		{
			// Go's server and client still speak TLS 1.0 when the
			// Config asks for it (MinVersion below the default).
			name: "tls10",
			server: func(t *testing.T, ca *issuer) *tls.Config {
				_, c := newCert(t, leafTemplate(serverName, now.Add(-time.Hour), now.Add(90*24*time.Hour)), ca, false)
				return &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}
			},
			client:  &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10},
			want:    []string{"deprecated-version"},
			version: tls.VersionTLS10,
		},
		{
			// Static RSA key exchange with a CBC suite: configured on
			// both ends, Go still negotiates it.
			name: "weak-suite",
			server: func(t *testing.T, ca *issuer) *tls.Config {
				_, c := newCert(t, leafTemplate(serverName, now.Add(-time.Hour), now.Add(90*24*time.Hour)), ca, true)
				return &tls.Config{Certificates: []tls.Certificate{c}, MaxVersion: tls.VersionTLS12,
					CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}}
			},
			client:  &tls.Config{CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}},
			want:    []string{"no-forward-secrecy", "cbc-mode-cipher"},
			version: tls.VersionTLS12,
			suite:   tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		},
	}
}

// TestPlantedFindings records one request to a server per scenario and
// checks the findings its certificate or configuration plants, and the
// facts against what the test itself knows (the addresses of the real
// sockets, the SNI it sent, the version and suite crypto/tls negotiated).
func TestPlantedFindings(t *testing.T) {
	ca := newCA(t)
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			rec := tlsscopetest.NewRecorder()
			rec.Trust(ca.cert)
			cfg := sc.server(t, ca)
			cfg.KeyLogWriter = rec.KeyLogWriter()
			srv := serve(t, rec, cfg)
			client := &tls.Config{}
			if sc.client != nil {
				client = sc.client.Clone()
			}
			client.ServerName = serverName
			if !client.InsecureSkipVerify {
				client.RootCAs = x509.NewCertPool()
				client.RootCAs.AddCert(ca.cert)
			}
			var state tls.ConnectionState
			client.VerifyConnection = func(cs tls.ConnectionState) error { state = cs; return nil }
			var local netip.AddrPort
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err == nil {
					local = c.LocalAddr().(*net.TCPAddr).AddrPort()
				}
				return c, err
			}
			get(t, srv, client, dial)
			srv.Close() // the server closes its connections: FINs recorded

			if state.Version != sc.version || (sc.suite != 0 && state.CipherSuite != sc.suite) {
				t.Fatalf("crypto/tls negotiated %s %s; the scenario wants %s", tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite), tls.VersionName(sc.version))
			}
			c := rec.Analyze(t)
			if len(c.Connections) != 1 {
				t.Fatalf("%d connections, want 1", len(c.Connections))
			}
			conn := c.Connections[0]
			server := srv.Listener.Addr().(*net.TCPAddr).AddrPort()
			if conn.Server != server || conn.Client != local {
				t.Errorf("connection %s -> %s, want %s -> %s (the real sockets)", conn.Client, conn.Server, local, server)
			}
			if conn.TLS == nil || conn.TLS.ClientHello == nil {
				t.Fatal("no ClientHello decoded")
			}
			if conn.TLS.ClientHello.ServerName != serverName {
				t.Errorf("SNI %q, want %q", conn.TLS.ClientHello.ServerName, serverName)
			}
			if conn.TLS.Version != state.Version || conn.TLS.CipherSuite != state.CipherSuite {
				t.Errorf("decoded %s %s, crypto/tls negotiated %s %s", dtls.VersionName(conn.TLS.Version), dtls.CipherSuiteName(conn.TLS.CipherSuite),
					tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite))
			}
			if !conn.TLS.Established || conn.Closed != "fin" || conn.Gaps != 0 {
				t.Errorf("established %v, closed %q, gaps %d; want true, fin, 0", conn.TLS.Established, conn.Closed, conn.Gaps)
			}
			if n := len(c.Anomalies); n != 0 {
				t.Errorf("%d anomalies: %v", n, c.Anomalies)
			}
			if sc.version < tls.VersionTLS13 {
				if len(conn.TLS.Certificates) == 0 || !conn.TLS.Certificates[0].Equal(state.PeerCertificates[0]) {
					t.Errorf("decoded certificate differs from the one crypto/tls received")
				}
			}
			if len(sc.want) == 0 {
				tlsscopetest.NoFindings(t, rec, tlsscopetest.AtLeast("medium"))
			}
			for _, id := range sc.want {
				tlsscopetest.HasFinding(t, rec, id)
			}
			// Nothing planted beyond what the scenario says, at medium or
			// above.
			for _, f := range c.Findings {
				if f.Severity >= facts.Medium && !slices.Contains(sc.want, f.ID) {
					t.Errorf("unplanted finding %s %s: %s", f.Severity, f.ID, f.Message)
				}
			}
			tsharkAgrees(t, rec, []string{serverName}, 1)
		})
	}
}

// tsharkAgrees writes rec out and has tshark read the pcapng: one
// ClientHello per connection with the SNIs given (in any order), each
// GET /hello decrypted with the key log the pcapng carries (so the
// recorded bytes are the real ones and the key log belongs to them), and
// no TCP analysis flag (sequence and acknowledgement numbers, checksums
// and the handshake are as a TCP stack would write them).
func tsharkAgrees(t *testing.T, rec *tlsscopetest.Recorder, snis []string, requests int) {
	t.Helper()
	tshark := testutil.Tool(t, "tshark")
	dir := t.TempDir()
	if err := rec.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(dir, tlsscopetest.PcapngFile)
	// tshark finds TLS by port; the servers' ports are random.
	ports := map[string]bool{}
	for _, c := range rec.Analyze(t).Connections {
		ports[strconv.Itoa(int(c.Server.Port()))] = true
	}
	args := []string{"-r", pcap, "-n", "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"}
	for p := range ports {
		args = append(args, "-d", "tcp.port=="+p+",tls")
	}
	args = append(args, "-Y", "tls.handshake.type == 1 || http.request || tcp.analysis.flags || _ws.expert.severity >= warning",
		"-T", "fields", "-E", "separator=|", "-e", "tls.handshake.type", "-e", "tls.handshake.extensions_server_name",
		"-e", "http.request.uri", "-e", "tcp.analysis.flags", "-e", "_ws.expert.message")
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var gotSNIs []string
	gets := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 5 {
			t.Fatalf("tshark line %q", line)
		}
		switch {
		case f[3] != "" || (f[0] == "" && f[2] == ""):
			t.Errorf("tshark flags a packet: %q", line)
		case slices.Contains(strings.Split(f[0], ","), "1"):
			gotSNIs = append(gotSNIs, f[1])
		case f[2] == "/hello":
			gets++
		}
	}
	slices.Sort(gotSNIs)
	want := slices.Sorted(slices.Values(snis))
	if !slices.Equal(gotSNIs, want) {
		t.Errorf("tshark sees ClientHellos with SNI %q, want %q", gotSNIs, want)
	}
	if gets != requests {
		t.Errorf("tshark decrypts %d GET /hello, want %d", gets, requests)
	}
}
