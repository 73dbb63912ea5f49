package tlsscopetest_test

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	dtls "github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/report"
	"github.com/tlsscope/tlsscope/tlsscopetest"
)

// record13 records one TLS 1.3 GET /hello to a server with leaf (the
// client checks nothing: the handshake must complete whatever the
// certificate), its key log written by the client's KeyLogWriter.
func record13(t *testing.T, ca *issuer, leaf tls.Certificate) *tlsscopetest.Recorder {
	t.Helper()
	rec := tlsscopetest.NewRecorder()
	srv := serve(t, rec, &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS13})
	rec.Trust(ca.cert)
	get(t, srv, &tls.Config{ServerName: serverName, InsecureSkipVerify: true, KeyLogWriter: rec.KeyLogWriter()}, nil)
	return rec
}

func ids(fs []facts.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func certIDs(fs []facts.Finding) []string {
	var out []string
	for _, id := range ids(fs) {
		if strings.HasPrefix(id, "cert-") {
			out = append(out, id)
		}
	}
	return out
}

// TLS 1.3 hides the certificate: an expired one, or one for another host,
// is judged only when the recording's key log is used. Without it
// (Config.NoCaptureKeys) nothing is said about the certificate; with a key
// log of another connection the connection says no-key and the table
// does not read a bare ok.
func TestTLS13CertificateSeenOnlyDecrypted(t *testing.T) {
	now := time.Now()
	ca := newCA(t)
	_, expired := newCert(t, leafTemplate(serverName, now.Add(-20*24*time.Hour), now.Add(-24*time.Hour)), ca, false)
	_, wrongHost := newCert(t, leafTemplate("www.example.com", now.Add(-time.Hour), now.Add(90*24*time.Hour)), ca, false)
	other := record13(t, ca, wrongHost) // its key log is the negative control's
	otherKeys := filepath.Join(t.TempDir(), "other.keys")
	if err := other.WriteFiles(filepath.Dir(otherKeys)); err != nil {
		t.Fatal(err)
	}
	otherKeys = filepath.Join(filepath.Dir(otherKeys), tlsscopetest.KeyLogFile)
	for _, tc := range []struct {
		name string
		leaf tls.Certificate
		want string
	}{
		{"expired", expired, "cert-expired"},
		{"wrong-host", wrongHost, "cert-hostname-mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := record13(t, ca, tc.leaf)
			c := rec.Analyze(t)
			if len(c.Connections) != 1 {
				t.Fatalf("%d connections", len(c.Connections))
			}
			s := c.Connections[0].TLS
			if s.Version != dtls.VersionTLS13 || s.Decryption.Status != dtls.DecryptOK || len(c.Connections[0].Certificates) == 0 {
				t.Fatalf("version %x, decryption %+v, %d certificates", s.Version, s.Decryption, len(c.Connections[0].Certificates))
			}
			if got := certIDs(c.Findings); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("certificate findings %v with the key log, want [%s]", got, tc.want)
			}

			rec.Config.NoCaptureKeys = true
			c = rec.Analyze(t)
			if got := certIDs(c.Findings); len(got) > 0 || len(c.Connections[0].Certificates) > 0 {
				t.Errorf("without the key log: certificate findings %v, %d certificates", got, len(c.Connections[0].Certificates))
			}
			if d := c.Connections[0].TLS.Decryption; d != (dtls.Decryption{}) {
				t.Errorf("without a key log the connection has a decryption status: %+v", d)
			}

			rec.Config.KeyLogFiles = []string{otherKeys}
			c = rec.Analyze(t)
			conn := c.Connections[0]
			if got := certIDs(c.Findings); len(got) > 0 || len(conn.Certificates) > 0 || conn.TLS.Decryption.Status != dtls.DecryptNoKey || conn.TLS.Decryption.Opened != [2]uint64{} {
				t.Errorf("with another connection's key log: findings %v, %d certificates, %+v", got, len(conn.Certificates), conn.TLS.Decryption)
			}
			res, _ := rec.Result()
			var b strings.Builder
			if err := report.WriteTable(&b, res, report.Options{Width: 200}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), "ok, no-key") || !strings.Contains(b.String(), "(no key)") {
				t.Errorf("the table does not say the certificate was not seen:\n%s", b.String())
			}

			// tshark, decrypting with the recording's own key log, reads
			// the same certificate.
			t.Run("tshark", func(t *testing.T) {
				testutil.Tool(t, "tshark")
				dir := t.TempDir()
				if err := rec.WriteFiles(dir); err != nil {
					t.Fatal(err)
				}
				w := oracle.Decrypted(t, filepath.Join(dir, tlsscopetest.PcapngFile), "", "-d", "tcp.port=="+strconv.Itoa(int(conn.Server.Port()))+",tls")
				if len(w) != 1 {
					t.Fatalf("tshark: %d TLS connections", len(w))
				}
				for _, o := range w {
					if len(o.ServerCerts) == 0 {
						t.Fatal("tshark decrypts no certificate")
					}
					x, err := x509.ParseCertificate(o.ServerCerts[0])
					if err != nil || x.NotAfter.Unix() != tc.leaf.Leaf.NotAfter.Unix() || x.Subject.CommonName != tc.leaf.Leaf.Subject.CommonName {
						t.Errorf("tshark's certificate: %v %v", x, err)
					}
				}
			})
		})
	}
}
