// Package keys turns the secrets of a key log into record protection. It
// derives traffic keys for TLS 1.3 (RFC 8446, 7.1-7.3) and QUIC (RFC 9001,
// 5), and key blocks for TLS 1.2 and older (RFC 5246, 6.3; RFC 4346 and
// RFC 2246, 6.3), and opens protected records with them.
//
// It knows nothing of key logs, flows or handshakes: decode/tls asks it for
// an Opener per direction when that direction's keys change, and feeds it
// the records in order. An Opener never returns plaintext whose tag or MAC
// did not verify.
package keys

import (
	"crypto/hkdf"
	"errors"
	"hash"

	"golang.org/x/crypto/cryptobyte"
)

// Opener opens the protected records of one direction, in order.
type Opener interface {
	// Open authenticates and decrypts one record. typ and version are the
	// record header's content type and legacy_record_version, body the
	// fragment as on the wire, seq the record's sequence number in its
	// direction (RFC 8446, 5.3; RFC 5246, 6.1). It returns the content
	// type (in TLS 1.3 the inner one, padding removed: RFC 8446, 5.4) and
	// the plaintext appended to dst. err is ErrAuth when the tag or MAC
	// does not verify, or another error when the body is malformed; the
	// plaintext is then nil.
	Open(dst []byte, seq uint64, typ uint8, version uint16, body []byte) (uint8, []byte, error)
}

// ErrAuth is an authentication failure: the record's tag or MAC does not
// verify under the keys given (a wrong key, a lost record, or tampering).
var ErrAuth = errors.New("record authentication failed")

// ErrUnsupported says a suite's cipher or MAC is one this package cannot
// open: the connection's decryption status is then unsupported-suite.
var ErrUnsupported = errors.New("cipher suite not supported for decryption")

// ExpandLabel is HKDF-Expand-Label (RFC 8446, 7.1): HKDF-Expand with the
// label prefixed by "tls13 " and the context, as TLS 1.3 and QUIC (RFC
// 9001, 5.1) derive every key from a secret.
func ExpandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint16(uint16(length))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddBytes([]byte("tls13 "))
		b.AddBytes([]byte(label))
	})
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddBytes(context)
	})
	info, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return hkdf.Expand(h, secret, string(info), length)
}
