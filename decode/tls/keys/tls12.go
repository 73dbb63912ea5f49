// TLS 1.0-1.2 record protection: what TLS12 opens, by the part of the
// suite name after _WITH_ (the suite table itself is decode/tls's):
//
//	AES_128_GCM, AES_256_GCM          RFC 5288: 4-byte salt + 8-byte explicit nonce, 16-byte tag
//	AES_128_CCM(_8), AES_256_CCM(_8)  RFC 6655: as GCM, CCM (RFC 3610) with a 16- or 8-byte tag
//	CHACHA20_POLY1305                 RFC 7905: 12-byte IV XOR sequence number
//	AES_128_CBC, AES_256_CBC,         RFC 5246 6.2.3.2 (explicit IV), RFC 2246 (chained IV),
//	  3DES_EDE_CBC                      MAC-then-encrypt, or encrypt_then_mac (RFC 7366)
//	RC4_128                           RFC 5246 6.2.3.1, with HMAC
//	NULL                              HMAC only
//
// with HMAC-MD5, -SHA-1, -SHA-256 or -SHA-384 as the name's last part
// says. Everything else (CAMELLIA, ARIA, SEED, IDEA, DES, EXPORT, SM4,
// GOST; SSL 3.0, whose MAC and key derivation differ) is ErrUnsupported.

package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// TLS versions this file knows (RFC 2246, RFC 4346, RFC 5246; SSL 3.0 is
// RFC 6101).
const (
	versionSSL30 = 0x0300
	versionTLS10 = 0x0301
	versionTLS11 = 0x0302
	versionTLS12 = 0x0303
)

// Sizes from RFC 5246.
const (
	masterSecretLen = 48 // 8.1
	randomLen       = 32 // 7.4.1.2
	// maxCiphertext12 is the largest TLSCiphertext.length allowed (RFC
	// 5246, 6.2.3: 2^14 + 2048); a longer body is refused before any
	// work.
	maxCiphertext12 = 1<<14 + 2048
	seqLen          = 8 // 6.1: seq_num is a uint64
	aeadExplicitLen = 8 // RFC 5288, 3 and RFC 6655, 3: nonce_explicit
)

// Params12 is what TLS 1.2 and older key derivation needs.
type Params12 struct {
	Version uint16 // negotiated: 0x0301, 0x0302, 0x0303 (0x0300, SSL 3.0, is unsupported)
	// Suite is the IANA name of the negotiated suite, e.g.
	// "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" (decode/tls's table gives
	// it: tls.LookupCipherSuite).
	Suite                              string
	Master, ClientRandom, ServerRandom []byte
	EncryptThenMAC                     bool // RFC 7366 negotiated
}

// cipherMode is how a suite protects records.
type cipherMode uint8

const (
	modeNULL   cipherMode = iota // HMAC only (RFC 5246, 6.2.3.1)
	modeStream                   // RC4 and HMAC (RFC 5246, 6.2.3.1)
	modeCBC                      // block cipher and HMAC (RFC 5246, 6.2.3.2; RFC 7366)
	modeGCM                      // RFC 5288
	modeCCM                      // RFC 6655 (16-byte tag)
	modeCCM8                     // RFC 6655 (8-byte tag)
	modeChaCha                   // RFC 7905
)

// bulkCipher describes one bulk cipher as named in IANA suite names (the
// part after _WITH_, before the hash): RFC 5246, 6.2.3 and Appendix C.
type bulkCipher struct {
	mode   cipherMode
	keyLen int
	// ivLen is the key block's IV: the block size for CBC (used only in
	// TLS 1.0), the implicit nonce part for AEADs (RFC 5288, 3: salt;
	// RFC 7905, 2: the whole 12-byte nonce mask).
	ivLen    int
	newBlock func(key []byte) (cipher.Block, error)
}

// bulkCiphers are the ciphers this package opens, by their name in suite
// names. Any other cipher (CAMELLIA, ARIA, SEED, IDEA, DES, the EXPORT
// ones, SM4, GOST) is ErrUnsupported.
var bulkCiphers = map[string]bulkCipher{
	"NULL":              {mode: modeNULL},
	"RC4_128":           {mode: modeStream, keyLen: 16},
	"3DES_EDE_CBC":      {mode: modeCBC, keyLen: 24, ivLen: des.BlockSize, newBlock: des.NewTripleDESCipher},
	"AES_128_CBC":       {mode: modeCBC, keyLen: 16, ivLen: aes.BlockSize, newBlock: aes.NewCipher},
	"AES_256_CBC":       {mode: modeCBC, keyLen: 32, ivLen: aes.BlockSize, newBlock: aes.NewCipher},
	"AES_128_GCM":       {mode: modeGCM, keyLen: 16, ivLen: 4, newBlock: aes.NewCipher},
	"AES_256_GCM":       {mode: modeGCM, keyLen: 32, ivLen: 4, newBlock: aes.NewCipher},
	"AES_128_CCM":       {mode: modeCCM, keyLen: 16, ivLen: 4, newBlock: aes.NewCipher},
	"AES_256_CCM":       {mode: modeCCM, keyLen: 32, ivLen: 4, newBlock: aes.NewCipher},
	"AES_128_CCM_8":     {mode: modeCCM8, keyLen: 16, ivLen: 4, newBlock: aes.NewCipher},
	"AES_256_CCM_8":     {mode: modeCCM8, keyLen: 32, ivLen: 4, newBlock: aes.NewCipher},
	"CHACHA20_POLY1305": {mode: modeChaCha, keyLen: chacha20poly1305.KeySize, ivLen: chacha20poly1305.NonceSize},
}

// macHash is the hash a suite name ends with: the HMAC of NULL, stream
// and CBC suites and, in TLS 1.2, the PRF's hash when it is SHA-384
// (RFC 5246, 5; RFC 5289, 3.2).
type macHash struct {
	name string
	new  func() hash.Hash
}

var macHashes = []macHash{
	{"SHA384", sha512.New384},
	{"SHA256", sha256.New},
	{"SHA", sha1.New},
	{"MD5", md5.New},
}

// suite12 is a suite name taken apart.
type suite12 struct {
	cipher bulkCipher
	mac    func() hash.Hash // nil for the AEADs with no hash in the name (CCM)
	prf    func() hash.Hash // TLS 1.2's PRF hash
}

// parseSuite12 reads a suite's cipher and hash from its IANA name
// (TLS_<kx>_WITH_<cipher>_<hash>), so that every suite of decode/tls's
// table is covered without a second table of suites.
func parseSuite12(name string) (suite12, error) {
	_, rest, ok := strings.Cut(name, "_WITH_")
	if !ok || !strings.HasPrefix(name, "TLS_") || strings.Contains(name, "_EXPORT") {
		return suite12{}, fmt.Errorf("suite %q: %w", name, ErrUnsupported)
	}
	var s suite12
	s.prf = sha256.New
	for _, m := range macHashes {
		if c, ok := strings.CutSuffix(rest, "_"+m.name); ok {
			rest, s.mac = c, m.new
			if m.name == "SHA384" {
				s.prf = sha512.New384
			}
			break
		}
	}
	c, ok := bulkCiphers[rest]
	if !ok {
		return suite12{}, fmt.Errorf("suite %q: cipher %s: %w", name, rest, ErrUnsupported)
	}
	if c.mode <= modeCBC && s.mac == nil {
		return suite12{}, fmt.Errorf("suite %q: no MAC in the name: %w", name, ErrUnsupported)
	}
	s.cipher = c
	if c.mode > modeCBC {
		s.mac = nil // the hash of an AEAD suite names its PRF only
	}
	return s, nil
}

// prf is the PRF of the version: TLS 1.2's with the suite's hash, or TLS
// 1.0's MD5 and SHA-1 for TLS 1.0 and 1.1.
func (p Params12) prf(s suite12, secret []byte, label string, seed []byte, n int) []byte {
	if p.Version >= versionTLS12 {
		return prf12(s.prf, secret, label, seed, n)
	}
	return prf10(secret, label, seed, n)
}

func (p Params12) check() (suite12, error) {
	switch p.Version {
	case versionTLS10, versionTLS11, versionTLS12:
	case versionSSL30:
		return suite12{}, fmt.Errorf("SSL 3.0 (its MAC and key derivation are not TLS's): %w", ErrUnsupported)
	default:
		return suite12{}, fmt.Errorf("version 0x%04x is not TLS 1.0 to 1.2: %w", p.Version, ErrUnsupported)
	}
	s, err := parseSuite12(p.Suite)
	if err != nil {
		return s, err
	}
	if s.cipher.mode > modeCBC && p.Version < versionTLS12 {
		return s, fmt.Errorf("suite %q is an AEAD suite, which needs TLS 1.2, not version 0x%04x: %w", p.Suite, p.Version, ErrUnsupported)
	}
	if len(p.ClientRandom) != randomLen || len(p.ServerRandom) != randomLen {
		return s, fmt.Errorf("randoms of %d and %d bytes, want %d each", len(p.ClientRandom), len(p.ServerRandom), randomLen)
	}
	return s, nil
}

// MasterSecret is the master secret from the pre-master secret (RFC 5246,
// 8.1), or the extended master secret from the session hash when the
// extended_master_secret extension was negotiated (RFC 7627, 4). It is
// nil when the version or suite is one TLS12 does not support.
func MasterSecret(p Params12, preMaster []byte, extendedMaster bool, sessionHash []byte) []byte {
	s, err := p.check()
	if err != nil {
		return nil
	}
	if extendedMaster {
		return p.prf(s, preMaster, labelExtendedMasterSecret, sessionHash, masterSecretLen)
	}
	seed := append(append(make([]byte, 0, 2*randomLen), p.ClientRandom...), p.ServerRandom...)
	return p.prf(s, preMaster, labelMasterSecret, seed, masterSecretLen)
}

// TLS12 derives the key block of a TLS 1.0-1.2 connection (RFC 5246, 6.3)
// and returns the Openers of its two directions: client opens what the
// client sent, server what the server sent. err wraps ErrUnsupported for a
// suite or version it cannot open.
func TLS12(p Params12) (client, server Opener, err error) {
	s, err := p.check()
	if err != nil {
		return nil, nil, err
	}
	k, err := p.keyBlock(s)
	if err != nil {
		return nil, nil, err
	}
	var o [2]Opener
	for i := range k {
		if o[i], err = newOpener12(p, s, k[i]); err != nil {
			return nil, nil, fmt.Errorf("suite %s: %w", p.Suite, err)
		}
	}
	return o[0], o[1], nil
}

// dirKeys are one direction's share of the key block.
type dirKeys struct{ mac, key, iv []byte }

// keyBlock cuts the key block (RFC 5246, 6.3) into the client's keys
// (k[0]) and the server's (k[1]).
func (p Params12) keyBlock(s suite12) (k [2]dirKeys, err error) {
	if len(p.Master) != masterSecretLen {
		return k, fmt.Errorf("master secret of %d bytes, want %d", len(p.Master), masterSecretLen)
	}
	macLen := 0
	if s.mac != nil {
		macLen = s.mac().Size()
	}
	ivLen := s.cipher.ivLen
	if s.cipher.mode == modeCBC && p.Version >= versionTLS11 {
		ivLen = 0 // RFC 4346, 6.3: explicit IVs; none in the key block
	}
	// key_block = PRF(master_secret, "key expansion", server_random +
	// client_random): MAC keys, keys, IVs, client's first each time.
	seed := append(append(make([]byte, 0, 2*randomLen), p.ServerRandom...), p.ClientRandom...)
	kb := p.prf(s, p.Master, labelKeyExpansion, seed, 2*(macLen+s.cipher.keyLen+ivLen))
	take := func(n int) []byte {
		b := kb[:n:n]
		kb = kb[n:]
		return b
	}
	k[0].mac, k[1].mac = take(macLen), take(macLen)
	k[0].key, k[1].key = take(s.cipher.keyLen), take(s.cipher.keyLen)
	k[0].iv, k[1].iv = take(ivLen), take(ivLen)
	return k, nil
}

func newOpener12(p Params12, s suite12, k dirKeys) (Opener, error) {
	switch s.cipher.mode {
	case modeNULL:
		return &streamOpener{mac: newRecordMAC(s.mac, k.mac)}, nil
	case modeStream:
		c, err := rc4.NewCipher(k.key)
		if err != nil {
			return nil, err
		}
		return &streamOpener{mac: newRecordMAC(s.mac, k.mac), rc4: c}, nil
	case modeCBC:
		return newCBCOpener(p, s, k)
	}
	var a cipher.AEAD
	var err error
	switch s.cipher.mode {
	case modeChaCha:
		a, err = chacha20poly1305.New(k.key)
	default:
		var b cipher.Block
		if b, err = s.cipher.newBlock(k.key); err != nil {
			return nil, err
		}
		switch s.cipher.mode {
		case modeGCM:
			a, err = cipher.NewGCM(b)
		case modeCCM:
			a, err = newCCM(b, 16, 12)
		case modeCCM8:
			a, err = newCCM(b, 8, 12)
		}
	}
	if err != nil {
		return nil, err
	}
	o := &aeadOpener{aead: a, explicit: s.cipher.mode != modeChaCha}
	copy(o.iv[:], k.iv)
	return o, nil
}

// errMalformed12 is a record body that cannot be a protected record of the
// suite whatever the key (too short, not whole blocks, too long).
var errMalformed12 = errors.New("malformed protected record")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed12, fmt.Sprintf(format, args...))
}

// additionalData fills the 13 bytes that the MAC and the AEADs
// authenticate before the content: seq_num + type + version + length
// (RFC 5246, 6.2.3.1 and 6.2.3.3).
func additionalData(ad *[13]byte, seq uint64, typ uint8, version uint16, n int) {
	binary.BigEndian.PutUint64(ad[0:8], seq)
	ad[8] = typ
	binary.BigEndian.PutUint16(ad[9:11], version)
	binary.BigEndian.PutUint16(ad[11:13], uint16(n))
}

// aeadOpener opens GCM (RFC 5288), CCM (RFC 6655) and ChaCha20-Poly1305
// (RFC 7905) records.
type aeadOpener struct {
	aead cipher.AEAD
	// explicit: the record starts with the 8-byte nonce_explicit that
	// follows the 4-byte salt from the key block (GCM, CCM); otherwise the
	// nonce is the key block's 12-byte IV XOR the sequence number (ChaCha).
	explicit bool
	iv       [12]byte
	nonce    [12]byte
	ad       [13]byte
}

// setNonce builds the record's nonce: the 4-byte salt and the record's
// 8-byte nonce_explicit (RFC 5288, 3; RFC 6655, 3), or the 12-byte IV XOR
// the sequence number padded on the left to 12 bytes (RFC 7905, 2).
func (o *aeadOpener) setNonce(seq uint64, body []byte) {
	if o.explicit {
		copy(o.nonce[:4], o.iv[:4])
		copy(o.nonce[4:], body[:aeadExplicitLen])
		return
	}
	o.nonce = o.iv
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	for i := range s {
		o.nonce[4+i] ^= s[i]
	}
}

func (o *aeadOpener) Open(dst []byte, seq uint64, typ uint8, version uint16, body []byte) (uint8, []byte, error) {
	if len(body) > maxCiphertext12 {
		return 0, nil, malformed("%d bytes, over 2^14+2048", len(body))
	}
	ct := body
	if o.explicit {
		if len(body) < aeadExplicitLen {
			return 0, nil, malformed("%d bytes, shorter than the explicit nonce", len(body))
		}
		ct = body[aeadExplicitLen:]
	}
	o.setNonce(seq, body)
	n := len(ct) - o.aead.Overhead()
	if n < 0 {
		return 0, nil, malformed("%d bytes, shorter than the tag", len(body))
	}
	additionalData(&o.ad, seq, typ, version, n)
	out, err := o.aead.Open(dst, o.nonce[:], ct, o.ad[:])
	if err != nil {
		return 0, nil, ErrAuth
	}
	return typ, out, nil
}
