package tlsscopetest_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/tlsscopetest"
)

// goodServer is a TLS 1.2 server with a certificate for serverName from
// ca, and the client config that trusts ca and sends serverName.
func goodServer(t testing.TB, ca *issuer) (*tls.Config, *tls.Config) {
	now := time.Now()
	_, c := newCert(t, leafTemplate(serverName, now.Add(-time.Hour), now.Add(90*24*time.Hour)), ca, false)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	return &tls.Config{Certificates: []tls.Certificate{c}, MaxVersion: tls.VersionTLS12},
		&tls.Config{ServerName: serverName, RootCAs: roots}
}

// TestClientSide records through the client's DialContext, the server
// unwrapped, with the client's key log: the same facts as from the
// server's side.
func TestClientSide(t *testing.T) {
	ca := newCA(t)
	rec := tlsscopetest.NewRecorder()
	rec.Trust(ca.cert)
	scfg, ccfg := goodServer(t, ca)
	srv := serve(t, nil, scfg)
	ccfg.KeyLogWriter = rec.KeyLogWriter()
	get(t, srv, ccfg, rec.DialContext)

	c := rec.Analyze(t)
	if len(c.Connections) != 1 {
		t.Fatalf("%d connections, want 1", len(c.Connections))
	}
	conn := c.Connections[0]
	if want := srv.Listener.Addr().(*net.TCPAddr).AddrPort(); conn.Server != want {
		t.Errorf("server %s, want %s", conn.Server, want)
	}
	if conn.Closed != "fin" || !conn.TLS.Established || conn.TLS.ClientHello.ServerName != serverName {
		t.Errorf("closed %q, established %v, SNI %q", conn.Closed, conn.TLS.Established, conn.TLS.ClientHello.ServerName)
	}
	tlsscopetest.NoFindings(t, rec) // not even info or low
	tsharkAgrees(t, rec, []string{serverName}, 1)
}

// TestBothSidesOnce wraps the listener and the dialer of the same test:
// each TCP connection is recorded once.
func TestBothSidesOnce(t *testing.T) {
	ca := newCA(t)
	rec := tlsscopetest.NewRecorder()
	scfg, ccfg := goodServer(t, ca)
	scfg.KeyLogWriter = rec.KeyLogWriter()
	srv := serve(t, rec, scfg)
	get(t, srv, ccfg, rec.DialContext)
	get(t, srv, ccfg, rec.DialContext)
	srv.Close()
	if n := len(rec.Analyze(t).Connections); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	tsharkAgrees(t, rec, []string{serverName, serverName}, 2)
}

// TestConcurrentConnections: connections from several goroutines at once
// (run it with -race) are each recorded whole.
func TestConcurrentConnections(t *testing.T) {
	const clients, each = 6, 4
	ca := newCA(t)
	rec := tlsscopetest.NewRecorder()
	rec.Trust(ca.cert)
	scfg, ccfg := goodServer(t, ca)
	scfg.KeyLogWriter = rec.KeyLogWriter()
	srv := serve(t, rec, scfg)
	var wg sync.WaitGroup
	errs := make(chan error, clients*each)
	for range clients {
		wg.Go(func() {
			tr := &http.Transport{TLSClientConfig: ccfg, DisableKeepAlives: true}
			cl := &http.Client{Transport: tr}
			for range each {
				resp, err := cl.Get(srv.URL + "/hello")
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != body {
					errs <- fmt.Errorf("response %q, %v", b, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	srv.Close()
	c := rec.Analyze(t)
	if len(c.Connections) != clients*each {
		t.Fatalf("%d connections, want %d", len(c.Connections), clients*each)
	}
	for _, conn := range c.Connections {
		if !conn.TLS.Established || conn.Gaps != 0 || conn.Closed != "fin" {
			t.Errorf("%s: established %v, gaps %d, closed %q", conn.Client, conn.TLS.Established, conn.Gaps, conn.Closed)
		}
	}
	if len(c.Anomalies) != 0 {
		t.Errorf("anomalies: %v", c.Anomalies)
	}
	tlsscopetest.NoFindings(t, rec, tlsscopetest.AtLeast("medium"))
	snis := make([]string, clients*each)
	for i := range snis {
		snis[i] = serverName
	}
	tsharkAgrees(t, rec, snis, clients*each)
}

// TestIPv6 records a server on [::1]: the pcapng carries IPv6 headers.
func TestIPv6(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ca := newCA(t)
	rec := tlsscopetest.NewRecorder()
	scfg, ccfg := goodServer(t, ca)
	scfg.KeyLogWriter = rec.KeyLogWriter()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
	srv.Listener.Close()
	srv.Listener = rec.Listener(l)
	srv.TLS = scfg
	srv.StartTLS()
	defer srv.Close()
	get(t, srv, ccfg, nil)
	srv.Close()
	c := rec.Analyze(t)
	if len(c.Connections) != 1 || !c.Connections[0].Server.Addr().Is6() || c.Connections[0].Server != l.Addr().(*net.TCPAddr).AddrPort() {
		t.Fatalf("connections %v, want one to %s", c.Connections, l.Addr())
	}
	tsharkAgrees(t, rec, []string{serverName}, 1)
}

// TestTruncatedAtMaxBytes: a response larger than MaxBytes is cut, the
// cut is reported (a *TruncatedError counting the lost bytes, a failed
// test through Analyze), and what was kept is still analysed.
func TestTruncatedAtMaxBytes(t *testing.T) {
	const big, maxBytes = 1 << 20, 32 << 10
	ca := newCA(t)
	rec := tlsscopetest.NewRecorder()
	rec.MaxBytes = maxBytes
	scfg, ccfg := goodServer(t, ca)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, big))
	}))
	srv.Listener = rec.Listener(srv.Listener)
	srv.TLS = scfg
	srv.StartTLS()
	defer srv.Close()
	tr := &http.Transport{TLSClientConfig: ccfg}
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	tr.CloseIdleConnections()
	srv.Close()
	if n != big {
		t.Fatalf("read %d bytes, want %d", n, big)
	}
	res, err := rec.Result()
	var te *tlsscopetest.TruncatedError
	if !errors.As(err, &te) {
		t.Fatalf("Result: %v, want a *TruncatedError", err)
	}
	// Records of at most 16 KiB plus their headers: at least the body
	// less what the cap let in was lost.
	if te.Bytes < big-maxBytes || te.Max != maxBytes || !strings.Contains(err.Error(), "raise Recorder.MaxBytes") {
		t.Errorf("%v: lost %d bytes, want at least %d", err, te.Bytes, big-maxBytes)
	}
	c := res.Captures[0]
	if len(c.Connections) != 1 || c.Connections[0].TLS.ClientHello.ServerName != serverName {
		t.Fatalf("the handshake before the cut is not analysed: %v", c.Connections)
	}
	if got := c.Connections[0].Bytes[1]; got > maxBytes {
		t.Errorf("%d bytes server to client in the pcapng, more than MaxBytes %d", got, maxBytes)
	}

	ft := &fakeT{T: t}
	rec.Analyze(ft)
	if len(ft.errs) != 1 || !strings.Contains(ft.errs[0], "truncated") {
		t.Errorf("Analyze reported %q, want the truncation", ft.errs)
	}
}

// fakeT is a test that keeps what would fail it.
type fakeT struct {
	*testing.T
	errs  []string
	fatal bool
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Error(args ...any)                 { f.errs = append(f.errs, fmt.Sprint(args...)) }
func (f *fakeT) Fatal(args ...any)                 { f.Error(args...); f.fatal = true }
func (f *fakeT) Fatalf(format string, args ...any) { f.Errorf(format, args...); f.fatal = true }

// TestAssertionMessages: the assertions fail with messages that list the
// findings, and pass when they should.
func TestAssertionMessages(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	rec := tlsscopetest.NewRecorder()
	rec.Trust(ca.cert)
	_, cert := newCert(t, leafTemplate(serverName, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), ca, false)
	srv := serve(t, rec, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12})
	get(t, srv, &tls.Config{ServerName: serverName, InsecureSkipVerify: true}, nil)

	cases := []struct {
		name   string
		assert func(testing.TB) bool
		ok     bool
		msg    []string // in the failure message
	}{
		{"no findings", func(t testing.TB) bool { return tlsscopetest.NoFindings(t, rec) }, false,
			[]string{"1 findings in 1 connections", "high", "cert-expired", serverName, "expired on"}},
		{"none at critical", func(t testing.TB) bool { return tlsscopetest.NoFindings(t, rec, tlsscopetest.AtLeast("critical")) }, true, nil},
		{"except the planted one", func(t testing.TB) bool {
			return tlsscopetest.NoFindings(t, rec, tlsscopetest.Except("cert-expired"))
		}, true, nil},
		{"has it", func(t testing.TB) bool {
			return tlsscopetest.HasFinding(t, rec, "cert-expired", tlsscopetest.SNI(serverName))
		}, true, nil},
		{"not for another name", func(t testing.TB) bool {
			return tlsscopetest.HasFinding(t, rec, "cert-expired", tlsscopetest.SNI("other.test"))
		}, false,
			[]string{"no cert-expired finding in 1 connections", "the findings were:", "cert-expired " + serverName}},
		{"has not", func(t testing.TB) bool { return tlsscopetest.HasFinding(t, rec, "weak-cipher") }, false,
			[]string{"no weak-cipher finding", "cert-expired"}},
		{"bad severity", func(t testing.TB) bool { return tlsscopetest.NoFindings(t, rec, tlsscopetest.AtLeast("mediun")) }, false,
			[]string{`AtLeast("mediun")`, "not a severity"}},
		{"nothing recorded", func(t testing.TB) bool { return tlsscopetest.NoFindings(t, tlsscopetest.NewRecorder()) }, false,
			[]string{"no connections recorded"}},
	}
	for _, tc := range cases {
		ft := &fakeT{T: t}
		ok := tc.assert(ft)
		if ok != tc.ok || ok != (len(ft.errs) == 0) {
			t.Errorf("%s: returned %v with failures %q, want %v", tc.name, ok, ft.errs, tc.ok)
			continue
		}
		for _, m := range tc.msg {
			if !strings.Contains(strings.Join(ft.errs, "\n"), m) {
				t.Errorf("%s: failure %q does not say %q", tc.name, ft.errs, m)
			}
		}
	}
}

// TestHalfClose: a client that half-closes (CloseWrite) and then reads
// the answer; not TLS, so the facts are only TCP's.
func TestHalfClose(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c) // to the client's FIN
		c.Write(append([]byte("pong:"), b...))
	}()
	rec := tlsscopetest.NewRecorder()
	c, err := rec.DialContext(t.Context(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("ping"))
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(b) != "pong:ping" {
		t.Fatalf("read %q, %v", b, err)
	}
	cs := rec.Analyze(t).Connections
	if len(cs) != 1 || cs[0].Closed != "fin" || cs[0].Bytes != [2]uint64{4, 9} || cs[0].Gaps != 0 {
		t.Fatalf("connections %+v, want one closed by FIN with 4 and 9 bytes", cs)
	}
}

// TestKeptUnderDirEnv: with TLSSCOPETEST_DIR set, a test's recording is
// written when it ends, and tlsscope reading those files (the pcapng with
// roots.pem as a CA file, as tlsscope --ca-file roots.pem -r would) finds
// what the test found.
func TestKeptUnderDirEnv(t *testing.T) {
	root := t.TempDir()
	t.Setenv(tlsscopetest.DirEnv, root)
	ca := newCA(t)
	rec := tlsscopetest.NewRecorder()
	var want []facts.Finding
	t.Run("recorded", func(t *testing.T) {
		now := time.Now()
		rec.Trust(ca.cert)
		_, cert := newCert(t, leafTemplate(serverName, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), ca, false)
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12, KeyLogWriter: rec.KeyLogWriter()}
		srv := serve(t, rec, cfg)
		get(t, srv, &tls.Config{ServerName: serverName, InsecureSkipVerify: true}, nil)
		srv.Close()
		tlsscopetest.HasFinding(t, rec, "cert-expired")
		want = rec.Analyze(t).Findings
	})
	dirs, err := filepath.Glob(filepath.Join(root, "TestKeptUnderDirEnv_recorded-*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("kept %v, %v; want one directory", dirs, err)
	}
	for _, name := range []string{tlsscopetest.PcapngFile, tlsscopetest.KeyLogFile, tlsscopetest.RootsFile} {
		if _, err := os.Stat(filepath.Join(dirs[0], name)); err != nil {
			t.Error(err)
		}
	}
	a, err := tlsscope.New(tlsscope.Config{CAFiles: []string{filepath.Join(dirs[0], tlsscopetest.RootsFile)}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.AnalyzeFile(t.Context(), filepath.Join(dirs[0], tlsscopetest.PcapngFile))
	if err != nil {
		t.Fatal(err)
	}
	got := res.Captures[0].Findings
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("tlsscope -r finds %d findings, the test %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Message != want[i].Message || got[i].Server != want[i].Server {
			t.Errorf("finding %d: %s %q, the test's %s %q", i, got[i].ID, got[i].Message, want[i].ID, want[i].Message)
		}
	}
}
