package certs

import (
	"crypto/sha1" //nolint:gosec
	"crypto/x509"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs/lenient"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// tsharkOptions are the special options the corpus INDEX lists for
// captures whose certificates are only readable decrypted or on a port
// tshark does not take for TLS.
func tsharkOptions(corpus, pcap string) []string {
	rel, _ := filepath.Rel(corpus, pcap)
	switch {
	case strings.HasPrefix(rel, "ssldump/"):
		return []string{"-o", "tls.keylog_file:" + filepath.Join(corpus, "ssldump", "samples", "log.txt")}
	case strings.HasSuffix(rel, "tls12-decryption.pcap"):
		return []string{"-o", "tls.keylog_file:" + pcap + ".keylog"}
	case strings.HasSuffix(rel, "tls_port_80.pcapng"):
		return []string{"-d", "tcp.port==80,tls"}
	}
	return nil
}

// wireCertificates extracts every certificate of a capture's Certificate
// messages with tshark (independent of our TLS parser), keyed by SHA-1.
func wireCertificates(t *testing.T, tshark, corpus, pcap string) map[string][]byte {
	args := []string{"-r", pcap, "-o", "tcp.reassemble_out_of_order:TRUE"}
	args = append(args, tsharkOptions(corpus, pcap)...)
	args = append(args, "-Y", "tls.handshake.certificate", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "tls.handshake.certificate")
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	m := map[string][]byte{}
	for _, line := range strings.Split(string(out), "\n") {
		for _, h := range strings.Split(strings.TrimSpace(line), ",") {
			if h == "" {
				continue
			}
			der, err := hex.DecodeString(strings.ReplaceAll(h, ":", ""))
			if err != nil {
				t.Fatalf("tshark certificate hex: %v", err)
			}
			sum := sha1.Sum(der) //nolint:gosec
			m[hex.EncodeToString(sum[:])] = der
		}
	}
	return m
}

// TestDescribeMatchesTsharkCertsOracle compares Describe with every row of
// every `.tshark.certs.tsv` in the corpus (python-cryptography's RFC 4514
// names, dates, serial, SHA-1), on certificates tshark extracts itself.
func TestDescribeMatchesTsharkCertsOracle(t *testing.T) {
	corpus := testutil.Corpus(t)
	tshark := testutil.Tool(t, "tshark")
	var files []string
	err := filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tshark.certs.tsv") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("only %d .tshark.certs.tsv files in the corpus", len(files))
	}
	var compared, unparsable atomic.Int64
	t.Run("files", func(t *testing.T) {
		for _, f := range files {
			pcap := strings.TrimSuffix(f, ".tshark.certs.tsv")
			rel, _ := filepath.Rel(corpus, pcap)
			t.Run(rel, func(t *testing.T) {
				t.Parallel()
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				wire := wireCertificates(t, tshark, corpus, pcap)
				for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
					col := strings.Split(line, "\t")
					if len(col) >= 3 && strings.HasPrefix(col[2], "PARSE_ERROR") {
						t.Logf("frame %s: python-cryptography could not parse it either: skipped", col[0])
						continue
					}
					if len(col) != 8 {
						t.Fatalf("bad oracle row %q", line)
					}
					subject, issuer, nb, na, serial, sum := col[2], col[3], col[4], col[5], col[6], col[7]
					der, ok := wire[sum]
					if !ok {
						t.Errorf("frame %s: certificate %s not extracted by tshark", col[0], sum)
						continue
					}
					c, err := x509.ParseCertificate(der)
					if err != nil {
						// What decode/tls does: read it leniently.
						lc, lerr := lenient.Parse(der)
						if lerr != nil {
							t.Errorf("frame %s: neither crypto/x509 (%v) nor lenient.Parse (%v) reads %s (%s)", col[0], err, lerr, sum, subject)
							continue
						}
						unparsable.Add(1)
						c = lc
					}
					in := Describe(c)
					compared.Add(1)
					if in.Subject != subject {
						t.Errorf("frame %s subject\n got %q\nwant %q", col[0], in.Subject, subject)
					}
					if in.Issuer != issuer {
						t.Errorf("frame %s issuer\n got %q\nwant %q", col[0], in.Issuer, issuer)
					}
					if in.Serial != serial {
						t.Errorf("frame %s serial got %s want %s", col[0], in.Serial, serial)
					}
					if in.SHA1 != sum {
						t.Errorf("frame %s sha1 got %s want %s", col[0], in.SHA1, sum)
					}
					for _, d := range []struct {
						got  time.Time
						want string
					}{{in.NotBefore, nb}, {in.NotAfter, na}} {
						w, err := time.Parse(time.RFC3339, d.want)
						if err != nil {
							t.Fatalf("oracle date %q: %v", d.want, err)
						}
						if !d.got.Equal(w) || d.got.Location() != time.UTC {
							t.Errorf("frame %s date got %v want %v", col[0], d.got, w)
						}
					}
				}
			})
		}
	})
	t.Logf("%d certificates compared, %d of them read by lenient.Parse (crypto/x509 refuses them)", compared.Load(), unparsable.Load())
	if unparsable.Load() < 1 {
		t.Errorf("no certificate read by lenient.Parse: badcurveball.pcap's CN=INFIGO root should be")
	}
	if compared.Load() < 90 {
		t.Errorf("only %d certificates compared, want at least 90", compared.Load())
	}
}
