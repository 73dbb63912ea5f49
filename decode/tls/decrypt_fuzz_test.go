package tls

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	stdtls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/keylog"
)

// session13 is one TLS 1.3 connection made by crypto/tls on loopback:
// what each side wrote, the key log the client wrote, the server's leaf.
type session13 struct {
	client, server []byte
	keys           *keylog.Log
	leaf           []byte
}

var (
	goSessionOnce sync.Once
	goSession     session13
	goSessionErr  error
)

type tap struct {
	net.Conn
	mu  *sync.Mutex
	out *bytes.Buffer
}

func (c tap) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(b)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// goSession13 makes (once per test binary) a TLS 1.3 connection with ALPN
// h2, a request and an answer each way, and a close_notify from both.
func goSession13(t testing.TB) session13 {
	t.Helper()
	goSessionOnce.Do(func() { goSession, goSessionErr = makeSession13() })
	if goSessionErr != nil {
		t.Skip("no loopback TLS session:", goSessionErr)
	}
	return goSession
}

func makeSession13() (session13, error) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "fuzz.test"}, DNSNames: []string{"fuzz.test"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1900000000, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return session13{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return session13{}, err
	}
	defer ln.Close()
	var mu sync.Mutex
	var cw, sw, kl bytes.Buffer
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		srv := stdtls.Server(tap{c, &mu, &sw}, &stdtls.Config{Certificates: []stdtls.Certificate{{Certificate: [][]byte{der}, PrivateKey: k}},
			MinVersion: stdtls.VersionTLS13, NextProtos: []string{"h2"}})
		buf := make([]byte, 64)
		n, err := srv.Read(buf)
		if err == nil {
			_, err = srv.Write(buf[:n])
		}
		srv.Close()
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return session13{}, err
	}
	cli := stdtls.Client(tap{c, &mu, &cw}, &stdtls.Config{InsecureSkipVerify: true, ServerName: "fuzz.test", NextProtos: []string{"h2"}, KeyLogWriter: &kl})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cli.HandshakeContext(ctx); err != nil {
		return session13{}, err
	}
	cli.Write([]byte("ping"))
	io.ReadAll(cli)
	cli.Close()
	if err := <-done; err != nil {
		return session13{}, err
	}
	l := keylog.New()
	l.Add(kl.Bytes(), "go")
	mu.Lock()
	defer mu.Unlock()
	return session13{client: bytes.Clone(cw.Bytes()), server: bytes.Clone(sw.Bytes()), keys: l, leaf: der}, nil
}

// feed13 runs the two sides through a decrypting Conn, the client's
// first (its first flight is all the server answers), each cut at split.
func feed13(s session13, client, server []byte, split int) *Conn {
	c := NewConn(Limits{}, nil)
	c.SetKeys(s.keys)
	ts := time.Unix(1800000000, 0)
	// The client's hello, the server's flight, then the rest of each.
	hello := min(len(client), 5+int(uint16(client[3])<<8|uint16(client[4])))
	c.Feed(ClientToServer, client[:hello], ts)
	split = min(max(split, 0), len(server))
	c.Feed(ServerToClient, server[:split], ts)
	c.Feed(ServerToClient, server[split:], ts)
	c.Feed(ClientToServer, client[hello:], ts)
	return c
}

func TestGoSession13Decrypted(t *testing.T) {
	s := goSession13(t)
	for _, split := range []int{0, 1, 7, 100, len(s.server) / 2, len(s.server)} {
		ss := feed13(s, s.client, s.server, split).Session()
		if ss.Decryption.Status != DecryptOK || len(ss.Certificates) != 1 || !bytes.Equal(ss.Certificates[0].Raw, s.leaf) || ss.ALPN != "h2" || !ss.Established || len(ss.Alerts) != 2 || ss.Alerts[0].Encrypted {
			t.Errorf("split %d: %+v, %d certificates, ALPN %q, alerts %+v", split, ss.Decryption, len(ss.Certificates), ss.ALPN, ss.Alerts)
		}
	}
}

// FuzzDecryptingConn: a TLS 1.3 stream with one byte changed, cut
// anywhere, never gives a certificate, an ALPN or an alert that was not
// sent: whatever a record whose tag did not verify held is never read.
// Unchanged, it decrypts whole.
func FuzzDecryptingConn(f *testing.F) {
	f.Add(uint32(0), byte(0), false, uint16(0))
	f.Add(uint32(200), byte(1), false, uint16(120))
	f.Add(uint32(600), byte(0x80), false, uint16(9))
	f.Add(uint32(40), byte(4), true, uint16(3000))
	f.Fuzz(func(t *testing.T, pos uint32, xor byte, clientSide bool, split uint16) {
		s := goSession13(t)
		client, server := bytes.Clone(s.client), bytes.Clone(s.server)
		b := server
		if clientSide {
			b = client
		}
		b[int(pos)%len(b)] ^= xor
		ss := feed13(s, client, server, int(split)).Session()
		for _, c := range append(ss.Certificates, ss.ClientCertificates...) {
			if !bytes.Equal(c.Raw, s.leaf) {
				t.Fatalf("a certificate that was not sent: %s", c.Subject)
			}
		}
		if ss.ALPN != "" && ss.ALPN != "h2" {
			t.Fatalf("ALPN %q", ss.ALPN)
		}
		for _, a := range ss.Alerts {
			if a.Decrypted && (a.Level != AlertLevelWarning || a.Description != 0) {
				t.Fatalf("an alert that was not sent: %+v", a)
			}
		}
		d := ss.Decryption
		if d.Status == DecryptOK && d.Failed != [2]uint64{} {
			t.Fatalf("ok with failed records: %+v", d)
		}
		if xor == 0 && (d.Status != DecryptOK || len(ss.Certificates) != 1) {
			t.Fatalf("unchanged stream: %+v", d)
		}
	})
}

func FuzzParseEncryptedExtensions(f *testing.F) {
	f.Add(unhex(f, "0000"))
	f.Add(unhex(f, "0010"+"0010000500030268 32"+"0000 0000"))
	f.Add(unhex(f, "0014"+"000a000400020017"+"002a0000"+"001c00024001"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ee, err := ParseEncryptedExtensions(body)
		checkParseError(t, err, len(body))
		if err == nil && ee == nil {
			t.Fatal("nil EncryptedExtensions without error")
		}
		if ee != nil && ee.ALPNProtocol != "" && !containsU16(ee.Extensions, extALPN) {
			t.Fatal("ALPN without its extension")
		}
	})
}

func containsU16(l []uint16, v uint16) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// certificate13Body is a TLS 1.3 Certificate body: an empty request
// context and each DER with no extensions.
func certificate13Body(ders ...[]byte) []byte {
	var list []byte
	for _, d := range ders {
		list = append(list, byte(len(d)>>16), byte(len(d)>>8), byte(len(d)))
		list = append(list, d...)
		list = append(list, 0, 0)
	}
	return append([]byte{0, byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...)
}

func FuzzParseCertificate13(f *testing.F) {
	shortMinimize()
	f.Add(certificate13Body(testCertificate(f, 1), testCertificate(f, 2)))
	f.Add(certificate13Body())
	f.Fuzz(func(t *testing.T, body []byte) {
		chain, err := ParseCertificate13(body, Limits{MaxChain: 4})
		checkParseError(t, err, len(body))
		if chain != nil && (len(chain.Certificates)+chain.Errors > 4 || len(chain.EntryExtensions) != len(chain.Certificates)) {
			t.Fatalf("%d certificates, %d errors, %d extension lists", len(chain.Certificates), chain.Errors, len(chain.EntryExtensions))
		}
	})
}

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// compressedCertificate is a CompressedCertificate body (RFC 8879, 4).
func compressedCertificate(alg uint16, n int, data []byte) []byte {
	b := []byte{byte(alg >> 8), byte(alg), byte(n >> 16), byte(n >> 8), byte(n), byte(len(data) >> 16), byte(len(data) >> 8), byte(len(data))}
	return append(b, data...)
}

func TestDecompressCertificate(t *testing.T) {
	cert := certificate13Body(testCertificate(t, 3))
	_, got, err := DecompressCertificate(compressedCertificate(CertCompressionZlib, len(cert), zlibBytes(cert)), 1<<20)
	if err != nil || !bytes.Equal(got, cert) {
		t.Fatalf("zlib: %v", err)
	}
	if _, _, err := DecompressCertificate(compressedCertificate(CertCompressionZlib, len(cert)-1, zlibBytes(cert)), 1<<20); err == nil {
		t.Error("a stream longer than announced was taken")
	}
	if _, _, err := DecompressCertificate(compressedCertificate(CertCompressionZlib, len(cert)+1, zlibBytes(cert)), 1<<20); err == nil {
		t.Error("a stream shorter than announced was taken")
	}
	if _, _, err := DecompressCertificate(compressedCertificate(CertCompressionZlib, len(cert), zlibBytes(cert)), len(cert)-1); err == nil {
		t.Error("over the limit was taken")
	}
	if _, _, err := DecompressCertificate(compressedCertificate(CertCompressionZstd, 10, []byte{1}), 1<<20); !errors.Is(err, ErrCompression) {
		t.Errorf("zstd: %v", err)
	}
}

func FuzzDecompressCertificate(f *testing.F) {
	cert := certificate13Body(testCertificate(f, 4))
	f.Add(compressedCertificate(CertCompressionZlib, len(cert), zlibBytes(cert)))
	f.Add(compressedCertificate(CertCompressionBrotli, 100, []byte{0x0b, 0x02, 0x80}))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, got, err := DecompressCertificate(body, 64<<10)
		if errors.Is(err, ErrCompression) {
			return
		}
		checkParseError(t, err, len(body))
		if err == nil && (len(got) == 0 || len(got) > 64<<10) {
			t.Fatalf("%d bytes decompressed", len(got))
		}
		if err == nil {
			ParseCertificate13(got, Limits{})
		}
	})
}

func FuzzParseTLS13Messages(f *testing.F) {
	f.Add(uint8(TypeCertificateVerify), unhex(f, "0403000401020304"))
	f.Add(uint8(TypeKeyUpdate), []byte{1})
	f.Add(uint8(TypeNewSessionTicket), unhex(f, "00001c20 01020304 0100 0003aabbcc 0008 002a0004 00004000"))
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		var err error
		switch typ % 3 {
		case 0:
			_, err = ParseCertificateVerify(body)
		case 1:
			_, err = ParseKeyUpdate(body)
		case 2:
			_, err = ParseNewSessionTicket13(body)
		}
		checkParseError(t, err, len(body))
	})
}
