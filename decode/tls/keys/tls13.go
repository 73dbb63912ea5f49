package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// The TLS 1.3 cipher suites (RFC 8446, B.4).
const (
	TLS_AES_128_GCM_SHA256       uint16 = 0x1301
	TLS_AES_256_GCM_SHA384       uint16 = 0x1302
	TLS_CHACHA20_POLY1305_SHA256 uint16 = 0x1303
	TLS_AES_128_CCM_SHA256       uint16 = 0x1304
	TLS_AES_128_CCM_8_SHA256     uint16 = 0x1305
)

// suite13 is what a TLS 1.3 suite takes to protect records: its hash (the
// length of its secrets) and its AEAD.
type suite13 struct {
	hash   func() hash.Hash
	keyLen int
	aead   func(key []byte) (cipher.AEAD, error) // nil: not supported here
}

func aesGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func aesCCM(tagLen int) func(key []byte) (cipher.AEAD, error) {
	return func(key []byte) (cipher.AEAD, error) {
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return newCCM(b, tagLen, 12)
	}
}

// lookupSuite13 returns a TLS 1.3 suite; known is false for a number that
// is not one.
func lookupSuite13(suite uint16) (s suite13, known bool) {
	switch suite {
	case TLS_AES_128_GCM_SHA256:
		return suite13{sha256.New, 16, aesGCM}, true
	case TLS_AES_256_GCM_SHA384:
		return suite13{sha512.New384, 32, aesGCM}, true
	case TLS_CHACHA20_POLY1305_SHA256:
		return suite13{sha256.New, chacha20poly1305.KeySize, chacha20poly1305.New}, true
	case TLS_AES_128_CCM_SHA256:
		// RFC 8446, B.4: AES-CCM (RFC 3610, this package's ccm) with a
		// 16-byte tag and the 12-byte record nonce.
		return suite13{sha256.New, 16, aesCCM(16)}, true
	case TLS_AES_128_CCM_8_SHA256:
		// The same with an 8-byte tag.
		return suite13{sha256.New, 16, aesCCM(8)}, true
	}
	return suite13{}, false
}

// HashLen13 is the length of a TLS 1.3 suite's secrets (its hash's
// output), 0 for a number that is not a TLS 1.3 suite.
func HashLen13(suite uint16) int {
	s, ok := lookupSuite13(suite)
	if !ok {
		return 0
	}
	return s.hash().Size()
}

// ErrSecret says a secret does not fit its suite: a TLS 1.3 traffic
// secret is as long as the suite's hash (32 bytes for SHA-256, 48 for
// SHA-384). A key log line for another connection, or a damaged one.
var ErrSecret = errors.New("secret does not fit the cipher suite")

// TLS13 returns the Opener of one direction's records protected with a
// TLS 1.3 traffic secret (RFC 8446, 7.3: [sender]_write_key and
// [sender]_write_iv derived with HKDF-Expand-Label "key" and "iv"): an
// early, handshake or application traffic secret of a key log. Records
// are numbered from 0 for each secret (RFC 8446, 5.3). A suite this
// package cannot open is ErrUnsupported (none of the five of RFC 8446,
// B.4, today), one that is not a TLS 1.3 suite an error, a secret of the
// wrong length ErrSecret.
func TLS13(suite uint16, secret []byte) (Opener, error) {
	s, ok := lookupSuite13(suite)
	if !ok {
		return nil, fmt.Errorf("%#04x is not a TLS 1.3 cipher suite", suite)
	}
	if len(secret) != s.hash().Size() {
		return nil, fmt.Errorf("%w: %d bytes, the suite's hash gives %d", ErrSecret, len(secret), s.hash().Size())
	}
	if s.aead == nil {
		return nil, ErrUnsupported
	}
	key, err := ExpandLabel(s.hash, secret, "key", nil, s.keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := ExpandLabel(s.hash, secret, "iv", nil, 12)
	if err != nil {
		return nil, err
	}
	a, err := s.aead(key)
	if err != nil {
		return nil, err
	}
	o := &opener13{aead: a}
	copy(o.iv[:], iv)
	return o, nil
}

// NextSecret is the application traffic secret that follows secret after
// a KeyUpdate (RFC 8446, 7.2): HKDF-Expand-Label(secret, "traffic upd",
// "", Hash.length).
func NextSecret(suite uint16, secret []byte) ([]byte, error) {
	s, ok := lookupSuite13(suite)
	if !ok {
		return nil, fmt.Errorf("%#04x is not a TLS 1.3 cipher suite", suite)
	}
	n := s.hash().Size()
	if len(secret) != n {
		return nil, fmt.Errorf("%w: %d bytes, the suite's hash gives %d", ErrSecret, len(secret), n)
	}
	return ExpandLabel(s.hash, secret, "traffic upd", nil, n)
}

// opener13 opens TLS 1.3 records (RFC 8446, 5.2-5.4).
type opener13 struct {
	aead  cipher.AEAD
	iv    [12]byte
	nonce [12]byte
	ad    [5]byte
}

// maxCiphertext13 is the longest TLSCiphertext.encrypted_record: 2^14 +
// 256 (RFC 8446, 5.2).
const maxCiphertext13 = 1<<14 + 256

// ErrMalformed says a record cannot be a protected record of its
// protocol: too short for its tag, too long, or (TLS 1.3) a plaintext of
// nothing but padding, which RFC 8446, 5.4 makes an unexpected_message.
var ErrMalformed = errors.New("malformed protected record")

func (o *opener13) Open(dst []byte, seq uint64, typ uint8, version uint16, body []byte) (uint8, []byte, error) {
	if len(body) < o.aead.Overhead() || len(body) > maxCiphertext13 {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(body))
	}
	// RFC 8446, 5.3: the 64-bit sequence number, big-endian and
	// left-padded to the IV's length, XORed with the IV.
	o.nonce = o.iv
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	for i := range s {
		o.nonce[4+i] ^= s[i]
	}
	// RFC 8446, 5.2: additional_data is the record header.
	o.ad = [5]byte{typ, byte(version >> 8), byte(version), byte(len(body) >> 8), byte(len(body))}
	start := len(dst)
	out, err := o.aead.Open(dst, o.nonce[:], body, o.ad[:])
	if err != nil {
		return 0, nil, ErrAuth
	}
	// RFC 8446, 5.4: TLSInnerPlaintext is the content, its type, then
	// zeros; the type is the last byte that is not zero.
	plain := out[start:]
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, fmt.Errorf("%w: no content type, only padding", ErrMalformed)
	}
	return plain[i], out[:start+i], nil
}
