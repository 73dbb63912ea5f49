package decode_test

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/keylog"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/oracle"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// decryptable is a capture with the key log that decrypts it ("" when
// the capture carries its own, a pcapng Decryption Secrets Block).
type decryptable struct{ pcap, keylog string }

// decryptables lists every capture of the repository recorded with a key
// log (testdata/pcaps/NAME.keys), and the corpus's: ssldump's samples with
// samples/log.txt, Zeek's tls12-decryption.pcap with its .keylog, FoxIO's
// chrome-cloudflare-quic-with-secrets.pcapng with its own.
func decryptables(t *testing.T, corpus bool) []decryptable {
	keys, _ := filepath.Glob(filepath.Join(testutil.Pcaps(t), "*.keys"))
	var out []decryptable
	for _, k := range keys {
		p := strings.TrimSuffix(k, ".keys") + ".pcap"
		if _, err := os.Stat(p); err == nil {
			out = append(out, decryptable{p, k})
		}
	}
	if !corpus {
		return out
	}
	dir := testutil.Corpus(t)
	samples, _ := filepath.Glob(filepath.Join(dir, "ssldump/samples/*.pcap"))
	for _, p := range samples {
		out = append(out, decryptable{p, filepath.Join(dir, "ssldump/samples/log.txt")})
	}
	z := filepath.Join(dir, "zeek/testing/btest/Traces/tls/tls12-decryption.pcap")
	out = append(out, decryptable{z, z + ".keylog"},
		decryptable{filepath.Join(dir, "ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng"), ""})
	return out
}

// readDecrypting reads a capture through an Analyzer decrypting with the
// key log file (if any) and the capture's own secrets blocks, as the
// pipeline does, and returns its connections.
func readDecrypting(t *testing.T, pcap, keyFile string, workers int) []*facts.Connection {
	t.Helper()
	logs := keylog.Logs{keylog.New()}
	if keyFile != "" {
		l := keylog.New()
		if err := l.ReadFile(keyFile); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, l)
	}
	f, err := capture.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var conns []*facts.Connection
	h := decode.Handler{Connection: func(c *facts.Connection) {
		cp := *c
		conns = append(conns, &cp)
	}}
	var e decode.Engine = decode.New(decode.Config{Keys: logs}, h)
	if workers > 1 {
		e = decode.NewParallel(decode.Config{Keys: logs}, h, workers)
	}
	defer e.Close()
	e.SetCapture(filepath.Base(pcap))
	opt := decode.ReadOptions{Name: pcap, Secrets: func(s capture.Secrets) {
		if s.Type == capture.SecretsTLSKeyLog {
			logs[0].Add(s.Data, pcap+" DSB")
		}
	}}
	if _, err := decode.Read(context.Background(), f, e, opt); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(conns, func(a, b *facts.Connection) int { return int(a.ID) - int(b.ID) })
	return conns
}

// certLine is what is compared of a certificate: subject, issuer,
// validity and SHA-1, from crypto/x509 on the DER tshark extracted.
func certLine(der []byte) string {
	sum := sha1.Sum(der)
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "unparsed " + hex.EncodeToString(sum[:])
	}
	return fmt.Sprintf("%s | %s | %s | %s | %x", rfc4514(c.RawSubject), rfc4514(c.RawIssuer), c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), sum)
}

// rfc4514 writes a DER Name as RFC 4514 does (the last RDN first), as
// OpenSSL and python-cryptography print it.
func rfc4514(raw []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &seq); err != nil {
		return "unparsed name"
	}
	return seq.String()
}

func ourCertLine(c facts.Certificate) string {
	return fmt.Sprintf("%s | %s | %s | %s | %s", c.Subject, c.Issuer, c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), c.SHA1)
}

// TestDecryptionMatchesTshark: on every capture recorded with a key log,
// in the repository and the corpus, the certificates of both sides
// (subject, issuer, validity, SHA-1), the ALPN the server chose and, for
// TLS 1.3, the alerts are what tshark reads decrypting with the same key
// log; a TLS 1.3 connection tshark decrypts has decryption status ok, and
// its handshake messages are tshark's. Never tlsscope's own output as the
// expected value.
func TestDecryptionMatchesTshark(t *testing.T) {
	testutil.Tool(t, "tshark")
	caps := decryptables(t, true)
	compared := testutil.MinCompared(t, 70, "connections")
	decrypted13 := testutil.MinCompared(t, 29, "decrypted TLS 1.3 connections")
	decrypted12 := testutil.MinCompared(t, 41, "decrypted TLS 1.0-1.2 connections")
	for _, d := range caps {
		name := strings.TrimPrefix(d.pcap, testutil.RepoRoot(t)+"/")
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			want := oracle.Decrypted(t, d.pcap, d.keylog)
			for _, c := range readDecrypting(t, d.pcap, d.keylog, 1) {
				s := c.TLS
				if s == nil || s.ClientHello == nil {
					continue
				}
				key := c.Client.String() + " " + c.Server.String()
				w := want[key]
				if w == nil {
					t.Errorf("%s: tshark has no TLS connection", key)
					continue
				}
				compared.Add(1)
				var gotCerts, wantCerts []string
				for _, x := range c.Certificates {
					gotCerts = append(gotCerts, "server "+ourCertLine(x))
				}
				for _, x := range c.ClientCertificates {
					gotCerts = append(gotCerts, "client "+ourCertLine(x))
				}
				for _, der := range w.ServerCerts {
					wantCerts = append(wantCerts, "server "+certLine(der))
				}
				for _, der := range w.ClientCerts {
					wantCerts = append(wantCerts, "client "+certLine(der))
				}
				if !slices.Equal(gotCerts, wantCerts) {
					t.Errorf("%s: certificates\n got %q\nwant %q (tshark)", key, gotCerts, wantCerts)
				}
				if s.ALPN != w.ALPN {
					t.Errorf("%s: ALPN %q, tshark %q", key, s.ALPN, w.ALPN)
				}
				var gotAlerts, wantAlerts []string
				for _, a := range s.Alerts {
					if !a.Encrypted {
						gotAlerts = append(gotAlerts, fmt.Sprintf("%s %d/%d", a.From, a.Level, a.Description))
					}
				}
				for _, a := range w.Alerts {
					wantAlerts = append(wantAlerts, fmt.Sprintf("%s %d/%d", tls.Direction(a.From), a.Level, a.Description))
				}
				if !slices.Equal(gotAlerts, wantAlerts) {
					t.Errorf("%s: alerts %q, tshark %q", key, gotAlerts, wantAlerts)
				}
				// tshark decrypted the server's flight when it read an
				// EncryptedExtensions (TLS 1.3), the server's Finished (TLS
				// 1.2 and older); then so must we, all of it.
				mark := int(tls.TypeEncryptedExtensions)
				if !tls.Version13(s.Version) {
					mark = int(tls.TypeFinished)
				}
				if slices.Contains(w.Handshake[1], mark) {
					if tls.Version13(s.Version) {
						decrypted13.Add(1)
					} else {
						decrypted12.Add(1)
					}
					if s.Decryption.Status != tls.DecryptOK {
						t.Errorf("%s: decryption %+v, tshark decrypted it", key, s.Decryption)
					}
					var got [2][]int
					for _, e := range s.Events {
						if e.Content == tls.ContentHandshake && !e.Encrypted {
							got[e.From] = append(got[e.From], int(e.Handshake))
						}
					}
					for dir := range 2 {
						if !slices.Equal(got[dir], w.Handshake[dir]) {
							t.Errorf("%s: %s handshake messages %v, tshark %v", key, tls.Direction(dir), got[dir], w.Handshake[dir])
						}
					}
				} else if s.Decryption.Status == tls.DecryptOK && s.Decryption.Opened[1] > 0 {
					t.Errorf("%s: decrypted (%+v) where tshark could not", key, s.Decryption)
				}
			}
		})
	}
}

// TestDecryptionParallel: decrypting with several workers gives what one
// gives, connection by connection (the key log is shared by the workers).
func TestDecryptionParallel(t *testing.T) {
	for _, d := range decryptables(t, false) {
		one := readDecrypting(t, d.pcap, d.keylog, 1)
		three := readDecrypting(t, d.pcap, d.keylog, 3)
		if len(one) != len(three) {
			t.Fatalf("%s: %d connections with one worker, %d with three", d.pcap, len(one), len(three))
		}
		for i := range one {
			a, b := one[i].TLS, three[i].TLS
			if (a == nil) != (b == nil) || a != nil && (a.Decryption != b.Decryption || len(one[i].Certificates) != len(three[i].Certificates)) {
				t.Errorf("%s #%d: one worker %+v, three %+v", d.pcap, one[i].ID, a.Decryption, b.Decryption)
			}
		}
	}
}

// keyLogWith writes the lines of a key log that keep() keeps, each
// through edit, to a temporary file.
func keyLogWith(t *testing.T, from string, keep func(label string) bool, edit func(line string) string) string {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 || !keep(f[0]) {
			continue
		}
		if edit != nil {
			l = edit(l)
		}
		out = append(out, l)
	}
	p := filepath.Join(t.TempDir(), "keys.log")
	if err := os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func tls13Conns(t *testing.T, conns []*facts.Connection) []*facts.Connection {
	t.Helper()
	var out []*facts.Connection
	for _, c := range conns {
		if c.TLS != nil && tls.Version13(c.TLS.Version) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		t.Fatal("no TLS 1.3 connection")
	}
	return out
}

func all(string) bool { return true }

// The negative control: a key log of other connections decrypts nothing
// and says no-key; the certificate stays unseen.
func TestDecryptNegativeControl(t *testing.T) {
	pcaps := testutil.Pcaps(t)
	for _, c := range tls13Conns(t, readDecrypting(t, filepath.Join(pcaps, "tls13-openssl.pcap"), filepath.Join(pcaps, "tls13-go.keys"), 1)) {
		d := c.TLS.Decryption
		if d.Status != tls.DecryptNoKey || d.Opened != [2]uint64{} || len(c.Certificates) > 0 || c.TLS.EncryptedExtensions != nil {
			t.Errorf("#%d: %+v, %d certificates", c.ID, d, len(c.Certificates))
		}
	}
	// Without any key log there is no status at all.
	for _, c := range tls13Conns(t, readDecrypting(t, filepath.Join(pcaps, "tls13-openssl.pcap"), "", 1)) {
		if c.TLS.Decryption != (tls.Decryption{}) {
			t.Errorf("#%d without a key log: %+v", c.ID, c.TLS.Decryption)
		}
	}
}

// Secrets that are not the connection's (one hex digit changed) open
// nothing: every record fails its tag and none is read.
func TestDecryptWrongSecrets(t *testing.T) {
	pcaps := testutil.Pcaps(t)
	keys := keyLogWith(t, filepath.Join(pcaps, "tls13-openssl.keys"), all, func(l string) string {
		last := l[len(l)-1]
		return l[:len(l)-1] + map[bool]string{true: "0", false: "1"}[last != '0']
	})
	for _, c := range tls13Conns(t, readDecrypting(t, filepath.Join(pcaps, "tls13-openssl.pcap"), keys, 1)) {
		d := c.TLS.Decryption
		if d.Status != tls.DecryptFailed || d.Opened != [2]uint64{} || d.Failed[0] == 0 || d.Failed[1] == 0 || len(c.Certificates) > 0 || c.TLS.EncryptedExtensions != nil {
			t.Errorf("#%d: %+v, %d certificates", c.ID, d, len(c.Certificates))
		}
	}
}

// 0-RTT data without CLIENT_EARLY_TRAFFIC_SECRET is passed over (the
// client's records before the first that opens under its handshake
// secret: the early data and EndOfEarlyData), and the rest is read.
func TestDecryptEarlyDataWithoutItsKey(t *testing.T) {
	pcaps := testutil.Pcaps(t)
	keys := keyLogWith(t, filepath.Join(pcaps, "tls13-early-data-openssl.keys"), func(l string) bool { return l != "CLIENT_EARLY_TRAFFIC_SECRET" }, nil)
	early := 0
	for _, c := range tls13Conns(t, readDecrypting(t, filepath.Join(pcaps, "tls13-early-data-openssl.pcap"), keys, 1)) {
		s := c.TLS
		d := s.Decryption
		if !s.ClientHello.EarlyData {
			if d.Status != tls.DecryptOK {
				t.Errorf("#%d (no 0-RTT): %+v", c.ID, d)
			}
			continue
		}
		early++
		if d.Status != tls.DecryptPartial || d.Unread != [2]uint64{2, 0} || !strings.Contains(d.Detail, "CLIENT_EARLY_TRAFFIC_SECRET") || d.Failed != [2]uint64{} || !s.Finished[0] || !s.Finished[1] || s.EncryptedExtensions == nil || !s.EncryptedExtensions.EarlyData {
			t.Errorf("#%d: %+v finished %v", c.ID, d, s.Finished)
		}
	}
	if early == 0 {
		t.Fatal("no connection with 0-RTT data")
	}
}

// With handshake secrets and no application ones, the handshake is read
// (the certificate judged) and the application data is unread: partial.
// With application secrets alone, the handshake stays unread and the
// application records open once the trial reaches them.
func TestDecryptMissingSecrets(t *testing.T) {
	pcaps := testutil.Pcaps(t)
	p := filepath.Join(pcaps, "tls13-openssl.pcap")
	hsOnly := keyLogWith(t, filepath.Join(pcaps, "tls13-openssl.keys"), func(l string) bool { return strings.Contains(l, "HANDSHAKE") }, nil)
	for _, c := range tls13Conns(t, readDecrypting(t, p, hsOnly, 1)) {
		d := c.TLS.Decryption
		if d.Status != tls.DecryptPartial || len(c.Certificates) == 0 || d.Unread[0]+d.Unread[1] == 0 || d.Failed != [2]uint64{} || !strings.Contains(d.Detail, "SERVER_TRAFFIC_SECRET_0") {
			t.Errorf("#%d handshake secrets only: %+v, %d certificates", c.ID, d, len(c.Certificates))
		}
	}
	appOnly := keyLogWith(t, filepath.Join(pcaps, "tls13-openssl.keys"), func(l string) bool { return strings.HasSuffix(l, "TRAFFIC_SECRET_0") }, nil)
	for _, c := range tls13Conns(t, readDecrypting(t, p, appOnly, 1)) {
		d := c.TLS.Decryption
		if d.Status != tls.DecryptPartial || len(c.Certificates) != 0 || d.Opened[0] == 0 || d.Opened[1] == 0 || d.Failed != [2]uint64{} {
			t.Errorf("#%d application secrets only: %+v, %d certificates", c.ID, d, len(c.Certificates))
		}
	}
}

// KeyUpdate both ways, more than once each: every record after each
// update opens (tshark's reading of the same capture is held to ours in
// TestDecryptionMatchesTshark, KeyUpdates included).
func TestDecryptKeyUpdates(t *testing.T) {
	pcaps := testutil.Pcaps(t)
	cs := tls13Conns(t, readDecrypting(t, filepath.Join(pcaps, "tls13-keyupdate-openssl.pcap"), filepath.Join(pcaps, "tls13-keyupdate-openssl.keys"), 1))
	s := cs[0].TLS
	if s.KeyUpdates[0] < 2 || s.KeyUpdates[1] < 2 || s.Decryption.Status != tls.DecryptOK || len(s.Alerts) != 2 || s.Alerts[0].Encrypted {
		t.Errorf("KeyUpdates %v, %+v, alerts %+v", s.KeyUpdates, s.Decryption, s.Alerts)
	}
}
