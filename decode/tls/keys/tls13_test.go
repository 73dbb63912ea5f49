package keys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// RFC 8448, 3: the server's handshake write key and IV from its handshake
// traffic secret (TLS_AES_128_GCM_SHA256).
func TestExpandLabelRFC8448Vector(t *testing.T) {
	secret := unhex(t, "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
	key, _ := ExpandLabel(sha256.New, secret, "key", nil, 16)
	iv, _ := ExpandLabel(sha256.New, secret, "iv", nil, 12)
	if hex.EncodeToString(key) != "3fce516009c21727d0f2e4e86ee403bc" || hex.EncodeToString(iv) != "5d313eb2671276ee13000b30" {
		t.Errorf("key %x iv %x", key, iv)
	}
}

// recorded is one side's bytes as it wrote them.
type recorded struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

type tapConn struct {
	net.Conn
	out *recorded
}

func (c tapConn) Write(b []byte) (int, error) {
	c.out.mu.Lock()
	c.out.buf.Write(b)
	c.out.mu.Unlock()
	return c.Conn.Write(b)
}

func testCert(t testing.TB) tls.Certificate {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// session runs one TLS 1.3 connection through crypto/tls on loopback:
// the client sends each of msgs, the server echoes. It returns what each
// side wrote and the key log.
func session(t *testing.T, msgs []string) (client, server []byte, keylog string) {
	t.Helper()
	var kl bytes.Buffer
	var klMu sync.Mutex
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip("no loopback:", err)
	}
	defer ln.Close()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c2, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	var cw, sw recorded
	srv := tls.Server(tapConn{c2, &sw}, &tls.Config{Certificates: []tls.Certificate{testCert(t)}, MinVersion: tls.VersionTLS13})
	cli := tls.Client(tapConn{c1, &cw}, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost",
		KeyLogWriter: writerFunc(func(b []byte) (int, error) { klMu.Lock(); defer klMu.Unlock(); return kl.Write(b) })})
	done := make(chan error, 1)
	go func() {
		defer srv.Close()
		buf := make([]byte, 4096)
		for range msgs {
			n, err := srv.Read(buf)
			if err != nil {
				done <- err
				return
			}
			if _, err := srv.Write(buf[:n]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cli.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for _, m := range msgs {
		if _, err := cli.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(cli, buf[:len(m)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cli.Close()
	return cw.buf.Bytes(), sw.buf.Bytes(), kl.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

type record struct {
	typ     uint8
	version uint16
	body    []byte
}

func records(b []byte) []record {
	var out []record
	for len(b) >= 5 {
		n := int(b[3])<<8 | int(b[4])
		out = append(out, record{b[0], uint16(b[1])<<8 | uint16(b[2]), b[5 : 5+n]})
		b = b[5+n:]
	}
	return out
}

func secretOf(t *testing.T, keylog, label string) []byte {
	t.Helper()
	for _, l := range strings.Split(keylog, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == label {
			return unhex(t, f[2])
		}
	}
	t.Fatalf("no %s in the key log", label)
	return nil
}

// Every protected record crypto/tls wrote opens under the secrets it
// logged: the server's flight (EncryptedExtensions first), the client's
// Finished, then the echoed data both ways; a KeyUpdate's next secret
// from NextSecret opens what follows it.
func TestTLS13OpensCryptoTLS(t *testing.T) {
	msgs := []string{"hello", "second message", "third"}
	cb, sb, kl := session(t, msgs)
	srec, crec := records(sb), records(cb)
	// The ServerHello is the first server record; its suite follows the
	// random and the echoed session id.
	sh := srec[0].body
	sidLen := int(sh[4+2+32])
	suite := uint16(sh[4+2+32+1+sidLen])<<8 | uint16(sh[4+2+32+1+sidLen+1])
	open := func(secret []byte, recs []record, want func(i int, typ uint8, plain []byte) bool) int {
		o, err := TLS13(suite, secret)
		if err != nil {
			t.Fatal(err)
		}
		seq, n := uint64(0), 0
		for i, r := range recs {
			if r.typ != 23 {
				continue
			}
			typ, plain, err := o.Open(nil, seq, r.typ, r.version, r.body)
			if err != nil {
				continue
			}
			seq++
			n++
			if !want(i, typ, plain) {
				t.Errorf("record %d: type %d %x", i, typ, plain)
			}
		}
		return n
	}
	first := true
	if n := open(secretOf(t, kl, "SERVER_HANDSHAKE_TRAFFIC_SECRET"), srec, func(i int, typ uint8, p []byte) bool {
		ok := typ == 22 && (!first || p[0] == 8) // EncryptedExtensions first
		first = false
		return ok
	}); n == 0 {
		t.Error("no server handshake record opened")
	}
	if n := open(secretOf(t, kl, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"), crec, func(i int, typ uint8, p []byte) bool {
		return typ == 22 && p[0] == 20 // Finished
	}); n != 1 {
		t.Errorf("%d client handshake records opened, want 1", n)
	}
	var got []string
	open(secretOf(t, kl, "CLIENT_TRAFFIC_SECRET_0"), crec, func(i int, typ uint8, p []byte) bool {
		if typ == 23 {
			got = append(got, string(p))
		}
		return typ == 23 || typ == 21
	})
	if strings.Join(got, "|") != strings.Join(msgs, "|") {
		t.Errorf("client data %q", got)
	}
	got = nil
	open(secretOf(t, kl, "SERVER_TRAFFIC_SECRET_0"), srec, func(i int, typ uint8, p []byte) bool {
		if typ == 23 {
			got = append(got, string(p))
		}
		return typ == 23 || typ == 21 || typ == 22 && p[0] == 4 // NewSessionTicket, close_notify
	})
	if strings.Join(got, "|") != strings.Join(msgs, "|") {
		t.Errorf("server data %q", got)
	}
}

func TestTLS13Tampering(t *testing.T) {
	_, sb, kl := session(t, []string{"x"})
	srec := records(sb)
	secret := secretOf(t, kl, "SERVER_HANDSHAKE_TRAFFIC_SECRET")
	suite := TLS_AES_128_GCM_SHA256
	if len(secret) == 48 {
		suite = TLS_AES_256_GCM_SHA384
	}
	var o Opener
	var r record
	for _, s := range []uint16{suite, TLS_CHACHA20_POLY1305_SHA256} {
		o, _ = TLS13(s, secret)
		for _, x := range srec[1:] {
			if x.typ == 23 {
				r = x
				break
			}
		}
		if _, _, err := o.Open(nil, 0, r.typ, r.version, r.body); err == nil {
			break
		}
	}
	if _, _, err := o.Open(nil, 0, r.typ, r.version, r.body); err != nil {
		t.Fatalf("the first record does not open: %v", err)
	}
	for i := 0; i < len(r.body)*8; i += 7 {
		b := bytes.Clone(r.body)
		b[i/8] ^= 1 << (i % 8)
		if _, p, err := o.Open(nil, 0, r.typ, r.version, b); !errors.Is(err, ErrAuth) || p != nil {
			t.Fatalf("bit %d flipped: %v", i, err)
		}
	}
	if _, _, err := o.Open(nil, 1, r.typ, r.version, r.body); !errors.Is(err, ErrAuth) {
		t.Errorf("wrong sequence number: %v", err)
	}
	if _, _, err := o.Open(nil, 0, r.typ, 0x0301, r.body); !errors.Is(err, ErrAuth) {
		t.Errorf("wrong header (additional data): %v", err)
	}
	if _, _, err := o.Open(nil, 0, r.typ, r.version, r.body[:10]); !errors.Is(err, ErrMalformed) {
		t.Errorf("short record: %v", err)
	}
}

// Padding is stripped and the last non-zero byte is the type; a
// plaintext of zeros alone is malformed (RFC 8446, 5.4).
func TestTLS13Padding(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	for _, suite := range []uint16{TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_CCM_SHA256, TLS_AES_128_CCM_8_SHA256} {
		o, err := TLS13(suite, secret)
		if err != nil {
			t.Fatal(err)
		}
		a := o.(*opener13).aead
		seal := func(seq uint64, inner []byte) []byte {
			var nonce [12]byte
			nonce = o.(*opener13).iv
			for i := 0; i < 8; i++ {
				nonce[4+i] ^= byte(seq >> (56 - 8*i))
			}
			n := len(inner) + a.Overhead()
			return a.Seal(nil, nonce[:], inner, []byte{23, 3, 3, byte(n >> 8), byte(n)})
		}
		typ, p, err := o.Open([]byte("keep"), 5, 23, 0x0303, seal(5, []byte("data\x17\x00\x00\x00")))
		if err != nil || typ != 23 || string(p) != "keepdata" {
			t.Errorf("%#x: %d %q %v", suite, typ, p, err)
		}
		if _, _, err := o.Open(nil, 0, 23, 0x0303, seal(0, []byte{0, 0, 0})); !errors.Is(err, ErrMalformed) {
			t.Errorf("%#x: only padding: %v", suite, err)
		}
	}
}

func TestTLS13Errors(t *testing.T) {
	if _, err := TLS13(TLS_AES_128_GCM_SHA256, make([]byte, 48)); !errors.Is(err, ErrSecret) {
		t.Errorf("48-byte secret for a SHA-256 suite: %v", err)
	}
	if _, err := TLS13(TLS_AES_256_GCM_SHA384, make([]byte, 32)); !errors.Is(err, ErrSecret) {
		t.Errorf("32-byte secret for a SHA-384 suite: %v", err)
	}
	for _, s := range []uint16{TLS_AES_128_CCM_SHA256, TLS_AES_128_CCM_8_SHA256} {
		if _, err := TLS13(s, make([]byte, 32)); err != nil {
			t.Errorf("%#x: %v", s, err)
		}
	}
	if _, err := TLS13(0xc02f, make([]byte, 32)); err == nil || errors.Is(err, ErrUnsupported) {
		t.Errorf("a TLS 1.2 suite: %v", err)
	}
	if HashLen13(TLS_AES_256_GCM_SHA384) != 48 || HashLen13(TLS_CHACHA20_POLY1305_SHA256) != 32 || HashLen13(0x002f) != 0 {
		t.Error("HashLen13")
	}
}

// NextSecret is RFC 8446, 7.2's derivation; decode/tls's tests open
// records after real KeyUpdates with it (ssldump's keyupdates sample).
func TestNextSecretDerivation(t *testing.T) {
	s := bytes.Repeat([]byte{1}, 32)
	n1, err := NextSecret(TLS_AES_128_GCM_SHA256, s)
	if err != nil || len(n1) != 32 || bytes.Equal(n1, s) {
		t.Fatalf("%x %v", n1, err)
	}
	want, _ := ExpandLabel(sha256.New, s, "traffic upd", nil, 32)
	if !bytes.Equal(n1, want) {
		t.Error("NextSecret is not HKDF-Expand-Label(secret, \"traffic upd\", \"\", 32)")
	}
	if _, err := NextSecret(TLS_AES_256_GCM_SHA384, s); !errors.Is(err, ErrSecret) {
		t.Errorf("%v", err)
	}
}
