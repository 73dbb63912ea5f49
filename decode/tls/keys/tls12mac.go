package keys

import (
	"crypto/hmac"
	"hash"
)

// recordMAC is the HMAC of a TLS 1.0-1.2 record (RFC 5246, 6.2.3.1):
// HMAC(MAC_write_key, seq_num + type + version + length + content).
type recordMAC struct {
	h   hash.Hash
	ad  [13]byte
	sum [64]byte // room for SHA-384
}

func newRecordMAC(h func() hash.Hash, key []byte) *recordMAC {
	return &recordMAC{h: hmac.New(h, key)}
}

func (m *recordMAC) size() int { return m.h.Size() }

// verify says whether tag is the MAC of the record whose content is the
// concatenation of parts (RFC 7366 MACs the IV and the ciphertext, which
// the caller passes as they are on the wire).
func (m *recordMAC) verify(seq uint64, typ uint8, version uint16, tag []byte, parts ...[]byte) bool {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	additionalData(&m.ad, seq, typ, version, n)
	m.h.Reset()
	m.h.Write(m.ad[:])
	for _, p := range parts {
		m.h.Write(p)
	}
	return hmac.Equal(m.h.Sum(m.sum[:0]), tag)
}
