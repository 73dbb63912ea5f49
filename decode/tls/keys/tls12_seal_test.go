package keys

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rc4"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
)

// This file seals records the way RFC 5246, 6.2.3 describes, for the
// round-trip tests and the benchmarks. It is this package's reading of the
// RFC on both sides, so it proves no interoperability: the tshark tests on
// real captures do that. It covers what real peers rarely send: empty
// records, long CBC padding, records of exactly 2^14 bytes.

type mode12 struct {
	name    string
	version uint16
	suite   string
	etm     bool
}

var modes12 = []mode12{
	{"AES128-GCM", versionTLS12, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false},
	{"AES256-GCM", versionTLS12, "TLS_RSA_WITH_AES_256_GCM_SHA384", false},
	{"AES128-CCM", versionTLS12, "TLS_RSA_WITH_AES_128_CCM", false},
	{"AES128-CCM8", versionTLS12, "TLS_RSA_WITH_AES_128_CCM_8", false},
	{"CHACHA20-POLY1305", versionTLS12, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false},
	{"AES128-CBC-SHA", versionTLS12, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", false},
	{"AES128-CBC-SHA-EtM", versionTLS12, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", true},
	{"AES256-CBC-SHA384", versionTLS12, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false},
	{"TLS10-AES256-CBC-SHA", versionTLS10, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", false},
	{"TLS10-AES256-CBC-SHA-EtM", versionTLS10, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", true},
	{"TLS11-3DES-CBC-SHA", versionTLS11, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", false},
	{"RC4-SHA", versionTLS12, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", false},
	{"NULL-SHA256", versionTLS12, "TLS_RSA_WITH_NULL_SHA256", false},
	{"NULL-MD5", versionTLS10, "TLS_RSA_WITH_NULL_MD5", false},
}

func (m mode12) params() Params12 {
	seq := func(n int, from byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = from + byte(i)
		}
		return b
	}
	return Params12{Version: m.version, Suite: m.suite, Master: seq(48, 0x40),
		ClientRandom: seq(32, 0x00), ServerRandom: seq(32, 0x80), EncryptThenMAC: m.etm}
}

// sealer12 protects the records of one direction.
type sealer12 struct {
	p   Params12
	s   suite12
	k   dirKeys
	rc4 *rc4.Cipher
	iv  []byte // TLS 1.0 CBC: the chained IV
	pad int    // extra CBC padding blocks
}

func newSealer12(t testing.TB, m mode12) *sealer12 {
	p := m.params()
	s, err := p.check()
	if err != nil {
		t.Fatal(err)
	}
	k, err := p.keyBlock(s)
	if err != nil {
		t.Fatal(err)
	}
	z := &sealer12{p: p, s: s, k: k[0], iv: bytes.Clone(k[0].iv)}
	if s.cipher.mode == modeStream {
		z.rc4, _ = rc4.NewCipher(k[0].key)
	}
	return z
}

func (z *sealer12) mac(seq uint64, typ uint8, content ...[]byte) []byte {
	h := hmac.New(z.s.mac, z.k.mac)
	var ad [13]byte
	n := 0
	for _, c := range content {
		n += len(c)
	}
	additionalData(&ad, seq, typ, z.p.Version, n)
	h.Write(ad[:])
	for _, c := range content {
		h.Write(c)
	}
	return h.Sum(nil)
}

func (z *sealer12) seal(seq uint64, typ uint8, pt []byte) []byte {
	switch z.s.cipher.mode {
	case modeNULL:
		return append(bytes.Clone(pt), z.mac(seq, typ, pt)...)
	case modeStream:
		b := append(bytes.Clone(pt), z.mac(seq, typ, pt)...)
		z.rc4.XORKeyStream(b, b)
		return b
	case modeCBC:
		blk, _ := z.s.cipher.newBlock(z.k.key)
		bs := blk.BlockSize()
		var iv []byte
		if z.p.Version >= versionTLS11 {
			iv = bytes.Repeat([]byte{byte(seq) ^ 0x5a}, bs) // explicit: any value
		} else {
			iv = z.iv
		}
		data := bytes.Clone(pt)
		if !z.p.EncryptThenMAC {
			data = append(data, z.mac(seq, typ, pt)...)
		}
		padLen := bs - (len(data)+1)%bs + z.pad*bs
		if padLen >= bs && z.pad == 0 {
			padLen -= bs
		}
		for range padLen + 1 {
			data = append(data, byte(padLen))
		}
		ct := make([]byte, len(data))
		cipher.NewCBCEncrypter(blk, iv).CryptBlocks(ct, data)
		if z.p.Version < versionTLS11 {
			z.iv = bytes.Clone(ct[len(ct)-bs:])
		} else {
			ct = append(bytes.Clone(iv), ct...)
		}
		if z.p.EncryptThenMAC {
			ct = append(ct, z.mac(seq, typ, ct)...)
		}
		return ct
	}
	o, err := newOpener12(z.p, z.s, z.k)
	if err != nil {
		panic(err)
	}
	a := o.(*aeadOpener)
	var nonce [12]byte
	var explicit []byte
	if a.explicit {
		explicit = make([]byte, 8)
		binary.BigEndian.PutUint64(explicit, seq^0x1122334455667788)
		copy(nonce[:4], a.iv[:4])
		copy(nonce[4:], explicit)
	} else {
		nonce = a.iv
		for i := range 8 {
			nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
	}
	var ad [13]byte
	additionalData(&ad, seq, typ, z.p.Version, len(pt))
	return a.aead.Seal(explicit, nonce[:], pt, ad[:])
}

func TestTLS12SealOpenRoundTrip(t *testing.T) {
	lengths := []int{0, 1, 15, 16, 17, 255, 1000, 1 << 14}
	for _, m := range modes12 {
		t.Run(m.name, func(t *testing.T) {
			for _, pad := range []int{0, 7} {
				z := newSealer12(t, m)
				z.pad = pad
				client, _, err := TLS12(m.params())
				if err != nil {
					t.Fatal(err)
				}
				for i, n := range lengths {
					pt := bytes.Repeat([]byte{byte(n)}, n)
					body := z.seal(uint64(i), 23, pt)
					typ, got, err := client.Open([]byte("x"), uint64(i), 23, m.version, body)
					if err != nil || typ != 23 || !bytes.Equal(got, append([]byte("x"), pt...)) {
						t.Fatalf("pad %d record %d (%d bytes): type %d, %d bytes, %v", pad, i, n, typ, len(got), err)
					}
				}
			}
		})
	}
}

// A record changed anywhere (body, sequence number, type, version) fails
// with ErrAuth; a body that cannot be a record is a malformed error, never
// a panic.
func TestTLS12TamperedRecordsFail(t *testing.T) {
	for _, m := range modes12 {
		t.Run(m.name, func(t *testing.T) {
			z := newSealer12(t, m)
			body := z.seal(0, 23, []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
			for i := range body {
				b := bytes.Clone(body)
				b[i] ^= 0x04
				client, _, _ := TLS12(m.params())
				if _, pt, err := client.Open(nil, 0, 23, m.version, b); !errors.Is(err, ErrAuth) || pt != nil {
					t.Fatalf("byte %d changed: %d bytes, %v", i, len(pt), err)
				}
			}
			for _, c := range []struct {
				seq     uint64
				typ     uint8
				version uint16
			}{{1, 23, m.version}, {0, 22, m.version}, {0, 23, m.version ^ 1}} {
				client, _, _ := TLS12(m.params())
				if _, pt, err := client.Open(nil, c.seq, c.typ, c.version, body); !errors.Is(err, ErrAuth) || pt != nil {
					t.Errorf("header %+v: %d bytes, %v", c, len(pt), err)
				}
			}
			for n := range min(len(body), 40) {
				client, _, _ := TLS12(m.params())
				if _, pt, err := client.Open(nil, 0, 23, m.version, body[:n]); err == nil || pt != nil {
					t.Errorf("%d-byte prefix opened", n)
				}
			}
			client, _, _ := TLS12(m.params())
			if _, _, err := client.Open(nil, 0, 23, m.version, make([]byte, maxCiphertext12+1)); err == nil {
				t.Error("a body over 2^14+2048 bytes was not refused")
			}
		})
	}
}

// Suites whose cipher, version or name this package cannot open are
// refused with ErrUnsupported; unusual names of ciphers it has are opened.
// (TestTLS12EverySuite, in keys_test, goes through decode/tls's table.)
func TestTLS12Unsupported(t *testing.T) {
	for _, c := range []struct {
		version uint16
		suite   string
	}{
		{versionTLS12, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"},
		{versionTLS12, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256"},
		{versionTLS12, "TLS_RSA_WITH_SEED_CBC_SHA"},
		{versionTLS12, "TLS_RSA_WITH_IDEA_CBC_SHA"},
		{versionTLS12, "TLS_RSA_WITH_DES_CBC_SHA"},
		{versionTLS10, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"},
		{versionTLS12, "TLS_AES_128_GCM_SHA256"},
		{versionTLS12, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
		{versionTLS12, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC"},
		{versionTLS11, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
		{versionSSL30, "TLS_RSA_WITH_AES_128_CBC_SHA"},
		{0x0304, "TLS_RSA_WITH_AES_128_CBC_SHA"},
	} {
		p := modes12[0].params()
		p.Version, p.Suite = c.version, c.suite
		if _, _, err := TLS12(p); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s at %04x: %v, want ErrUnsupported", c.suite, c.version, err)
		}
	}
	for _, s := range []string{"TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256", "TLS_PSK_WITH_AES_256_CCM",
		"TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "TLS_RSA_WITH_NULL_MD5", "TLS_RSA_PSK_WITH_NULL_SHA384",
		"TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA", "TLS_DH_anon_WITH_RC4_128_MD5"} {
		p := modes12[0].params()
		p.Suite = s
		if _, _, err := TLS12(p); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// BenchmarkOpen opens 16 KiB records of each mode into a reused buffer:
// 0 allocs/op in steady state.
func BenchmarkOpen(b *testing.B) {
	for _, m := range modes12 {
		b.Run(m.name, func(b *testing.B) {
			z := newSealer12(b, m)
			pt := bytes.Repeat([]byte("tlsscope"), 1<<14/8)
			body := z.seal(0, 23, pt)
			client, _, err := TLS12(m.params())
			if err != nil {
				b.Fatal(err)
			}
			// Stateful modes are put back to their state before the
			// record each time: RC4's key stream, TLS 1.0's chained IV.
			reset := func() {}
			switch o := client.(type) {
			case *streamOpener:
				if o.rc4 != nil {
					c0 := *o.rc4
					reset = func() { *o.rc4 = c0 }
				}
			case *cbcOpener:
				iv0 := o.iv
				reset = func() { o.iv = iv0 }
			}
			dst := make([]byte, 0, len(body))
			b.SetBytes(int64(len(pt)))
			b.ReportAllocs()
			for b.Loop() {
				reset()
				_, out, err := client.Open(dst[:0], 0, 23, m.version, body)
				if err != nil {
					b.Fatal(err)
				}
				dst = out
			}
		})
	}
}

// RFC 8439, 2.8.2's AEAD vector, its nonce built the RFC 7905 way: the
// vector's nonce 07000000 40414243 44454647 is a TLS IV for sequence number
// 0, and sequence number 0x0102 changes its last two bytes only.
func TestChaCha20Poly1305RFC8439Vector(t *testing.T) {
	key := unhex(t, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
	iv := unhex(t, "070000004041424344454647")
	aad := unhex(t, "50515253c0c1c2c3c4c5c6c7")
	ct := unhex(t, "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"+
		"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"+
		"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"+
		"3ff4def08e4b7a9de576d26586cec64b6116"+"1ae10b594f09e26a7e902ecbd0600691")
	want := "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
	o, err := newOpener12(Params12{Version: versionTLS12}, suite12{cipher: bulkCiphers["CHACHA20_POLY1305"]},
		dirKeys{key: key, iv: iv})
	if err != nil {
		t.Fatal(err)
	}
	a := o.(*aeadOpener)
	a.setNonce(0, ct)
	if !bytes.Equal(a.nonce[:], iv) {
		t.Fatalf("nonce for seq 0 = %x, want %x", a.nonce, iv)
	}
	pt, err := a.aead.Open(nil, a.nonce[:], ct, aad)
	if err != nil || string(pt) != want {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	a.setNonce(0x0102, ct)
	if got := hex.EncodeToString(a.nonce[:]); got != "070000004041424344454745" {
		t.Errorf("nonce for seq 0x0102 = %s", got)
	}
}
