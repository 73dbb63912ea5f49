package tlsscopetest_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dtls "github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/tlsscopetest"
)

// Record a server's traffic and print what tlsscope makes of it: a
// server that only offers static RSA key exchange with a CBC suite, and a
// client (httptest's, which dials 127.0.0.1 and so sends no SNI) that
// accepts it. httptest's certificate is trusted, so no certificate
// finding.
func Example() {
	rec := tlsscopetest.NewRecorder()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello\n")
	}))
	srv.Listener = rec.Listener(srv.Listener)
	srv.TLS = &tls.Config{
		MaxVersion:   tls.VersionTLS12, // TLS 1.3 encrypts the certificate
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA},
		KeyLogWriter: rec.KeyLogWriter(),
	}
	srv.StartTLS()
	rec.Trust(srv.Certificate())
	client := srv.Client()
	client.Transport.(*http.Transport).TLSClientConfig.CipherSuites = srv.TLS.CipherSuites
	resp, err := client.Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	srv.Close()

	res, err := rec.Result()
	if err != nil {
		log.Fatal(err)
	}
	c := res.Captures[0]
	for _, conn := range c.Connections {
		fmt.Println(dtls.VersionName(conn.TLS.Version), dtls.CipherSuiteName(conn.TLS.CipherSuite), conn.Closed)
	}
	for _, f := range c.Findings {
		fmt.Println(f.Severity, f.ID)
	}
	// Output:
	// TLS 1.2 TLS_RSA_WITH_AES_128_CBC_SHA fin
	// medium no-forward-secrecy
	// low missing-sni
	// low cbc-mode-cipher
}

// TestReadmeExample is the README's "In Go tests" example, run.
func TestReadmeExample(t *testing.T) {
	rec := tlsscopetest.NewRecorder()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello\n")
	}))
	srv.Listener = rec.Listener(srv.Listener) // record the server's side
	srv.TLS = &tls.Config{
		MaxVersion:   tls.VersionTLS12, // TLS 1.3 encrypts the certificate
		KeyLogWriter: rec.KeyLogWriter(),
	}
	srv.StartTLS()
	defer srv.Close()
	rec.Trust(srv.Certificate())

	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	tlsscopetest.NoFindings(t, rec, tlsscopetest.AtLeast("medium"))
	for _, c := range rec.Analyze(t).Connections {
		t.Logf("%s -> %s %s", c.Client, c.Server, c.Fingerprints.JA4)
	}
	// rec.WriteFiles(dir) keeps traffic.pcapng, keys.log and roots.pem
	// for tlsscope -r; with TLSSCOPETEST_DIR set, every test does.
}

// TestReadmeHasExample: the README shows TestReadmeExample's body as it
// is here.
func TestReadmeHasExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### In Go tests")
	_, block, ok2 := strings.Cut(section, "```go\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal(`README.md has no "### In Go tests" section with a go block`)
	}
	_, body, _ := strings.Cut(string(src), "func TestReadmeExample(t *testing.T) {\n")
	body, _, _ = strings.Cut(body, "\n}\n")
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.Contains(block, strings.TrimPrefix(line, "\t")+"\n") {
			t.Errorf("README's example lacks the line %q of TestReadmeExample", strings.TrimSpace(line))
		}
	}
}
