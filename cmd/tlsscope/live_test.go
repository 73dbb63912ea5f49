package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/capture"
)

// TestLiveCaptureOnLoopback captures a real TLS connection (Go's
// crypto/tls on both ends) on lo: the handshake is streamed as an NDJSON
// line with the version and suite the client saw, -w keeps the packets,
// and --duration ends the run. Needs CAP_NET_RAW; skipped without it.
func TestLiveCaptureOnLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CAP_NET_RAW)")
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	pcap := filepath.Join(t.TempDir(), "live.pcapng")

	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result)
	go func() {
		code, o, e := runCLI(t, "-i", "lo", "--duration", "3s", "-f", "tcp port "+port, "--format", "ndjson", "-w", pcap)
		done <- result{code, o, e}
	}()
	time.Sleep(time.Second) // the socket is open well before this
	client := srv.Client()
	client.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS12
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	state := resp.TLS
	res := <-done
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	found := false
	for _, r := range records(t, res.stdout) {
		if r["type"] == "connection" && strings.HasSuffix(r["server"].(string), ":"+port) {
			found = true
			if r["version"] != "TLS 1.2" || r["cipher_id"] != float64(state.CipherSuite) {
				t.Errorf("streamed %v %v, client saw %s %s", r["version"], r["cipher"], tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite))
			}
		}
	}
	if !found {
		t.Fatalf("no connection to port %s streamed:\n%s", port, res.stdout)
	}
	f, err := capture.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for {
		if _, err := f.Next(); err != nil {
			break
		}
		n++
	}
	if n < 6 {
		t.Errorf("-w kept %d packets", n)
	}
}
