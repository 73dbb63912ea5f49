package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"

	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/decode/tls/keys"
)

// Initial packets are protected with keys anyone can derive from the
// client's first Destination Connection ID (RFC 9001, 5.2): this file
// derives them, removes header protection (5.4) and opens the AEAD (5.3).

const (
	sampleLen = 16 // RFC 9001, 5.4.2: AES-based header protection samples 16 bytes
	tagLen    = 16 // AEAD_AES_128_GCM
)

var (
	errShort   = errors.New("packet too short for the header protection sample")
	errOpen    = errors.New("AEAD tag does not verify")
	errNoParam = errors.New("no Initial keys for this version")
)

// initialKeys protect one direction's Initial packets.
type initialKeys struct {
	aead cipher.AEAD
	iv   [12]byte
	hp   cipher.Block
}

// keyMaterial is one direction's Initial key, IV and header protection
// key (RFC 9001, 5.1).
type keyMaterial struct{ key, iv, hp []byte }

// initialMaterial derives both directions' Initial key material of
// version v from the client's first Destination Connection ID (RFC 9001,
// 5.2; RFC 9369, 3.3); [tls.ClientToServer] protects the client's packets.
func initialMaterial(v uint32, dcid []byte) (m [2]keyMaterial, err error) {
	p := paramsFor(v)
	if p == nil {
		return m, errNoParam
	}
	initial, err := hkdf.Extract(sha256.New, dcid, p.salt)
	if err != nil {
		return m, err
	}
	for dir, label := range [2]string{tls.ClientToServer: "client in", tls.ServerToClient: "server in"} {
		secret, err := keys.ExpandLabel(sha256.New, initial, label, nil, sha256.Size)
		if err != nil {
			return m, err
		}
		km := &m[dir]
		if km.key, err = keys.ExpandLabel(sha256.New, secret, p.key, nil, 16); err != nil {
			return m, err
		}
		if km.iv, err = keys.ExpandLabel(sha256.New, secret, p.iv, nil, 12); err != nil {
			return m, err
		}
		if km.hp, err = keys.ExpandLabel(sha256.New, secret, p.hp, nil, 16); err != nil {
			return m, err
		}
	}
	return m, nil
}

// deriveInitial returns both directions' Initial keys, for
// AEAD_AES_128_GCM and AES header protection.
func deriveInitial(v uint32, dcid []byte) (k [2]*initialKeys, err error) {
	m, err := initialMaterial(v, dcid)
	if err != nil {
		return k, err
	}
	for dir := range m {
		block, err := aes.NewCipher(m[dir].key)
		if err != nil {
			return k, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return k, err
		}
		hp, err := aes.NewCipher(m[dir].hp)
		if err != nil {
			return k, err
		}
		k[dir] = &initialKeys{aead: aead, hp: hp}
		copy(k[dir].iv[:], m[dir].iv)
	}
	return k, nil
}

// open removes header protection from pkt (a long-header packet whose
// packet number starts at pnOff), reconstructs the packet number from the
// largest one seen in its space (RFC 9000, A.3; -1 for none), and opens
// the payload. pkt is modified in place: the caller passes a copy. It
// returns the packet number and the plaintext frames (in pkt's memory).
func (k *initialKeys) open(pkt []byte, pnOff int, largest int64) (int64, []byte, error) {
	if pnOff+4+sampleLen > len(pkt) {
		return 0, nil, errShort
	}
	var mask [16]byte
	k.hp.Encrypt(mask[:], pkt[pnOff+4:pnOff+4+sampleLen])
	pkt[0] ^= mask[0] & 0x0f // long header: the low four bits
	pnLen := int(pkt[0]&3) + 1
	var truncated uint64
	for i := 0; i < pnLen; i++ {
		pkt[pnOff+i] ^= mask[1+i]
		truncated = truncated<<8 | uint64(pkt[pnOff+i])
	}
	pn := decodePacketNumber(largest, truncated, uint(pnLen*8))
	var nonce [12]byte
	nonce = k.iv
	var pnb [8]byte
	binary.BigEndian.PutUint64(pnb[:], uint64(pn))
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= pnb[i]
	}
	hdr := pkt[:pnOff+pnLen]
	ct := pkt[pnOff+pnLen:]
	if len(ct) < tagLen {
		return pn, nil, errShort
	}
	plain, err := k.aead.Open(ct[:0], nonce[:], ct, hdr)
	if err != nil {
		return pn, nil, errOpen
	}
	return pn, plain, nil
}

// decodePacketNumber is RFC 9000, A.3.
func decodePacketNumber(largest int64, truncated uint64, bits uint) int64 {
	expected := largest + 1
	win := int64(1) << bits
	half := win / 2
	mask := win - 1
	candidate := (expected &^ mask) | int64(truncated)
	switch {
	case candidate <= expected-half && candidate < (1<<62)-win:
		return candidate + win
	case candidate > expected+half && candidate >= win:
		return candidate - win
	}
	return candidate
}
