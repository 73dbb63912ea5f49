package keys

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// ccm is Counter with CBC-MAC (RFC 3610; NIST SP 800-38C) over a 128-bit
// block cipher, as TLS uses it (RFC 6655: AES, a 12-byte nonce, so L = 3,
// and a 16- or 8-byte tag). The standard library has no CCM.
type ccm struct {
	b        cipher.Block
	tagLen   int // M: 4, 6, 8, 10, 12, 14 or 16
	nonceLen int // 15 - L: 7 to 13
	// Scratch blocks, so that Open allocates nothing.
	x, a, s [ccmBlock]byte
}

const ccmBlock = 16

var errCCMOpen = errors.New("ccm: message authentication failed")

func newCCM(b cipher.Block, tagLen, nonceLen int) (*ccm, error) {
	if b.BlockSize() != ccmBlock {
		return nil, errors.New("ccm: needs a 128-bit block cipher")
	}
	if tagLen < 4 || tagLen > 16 || tagLen%2 != 0 {
		return nil, errors.New("ccm: tag length must be 4, 6, ..., 16")
	}
	if nonceLen < 7 || nonceLen > 13 {
		return nil, errors.New("ccm: nonce length must be 7 to 13")
	}
	return &ccm{b: b, tagLen: tagLen, nonceLen: nonceLen}, nil
}

func (c *ccm) NonceSize() int { return c.nonceLen }
func (c *ccm) Overhead() int  { return c.tagLen }

// maxLen is the longest message the length field l(m) of L = 15 -
// nonceLen bytes can hold (RFC 3610, 2), capped to what an int holds.
func (c *ccm) maxLen() uint64 {
	l := 15 - c.nonceLen
	if l >= 8 {
		return 1<<63 - 1
	}
	return 1<<(8*l) - 1
}

// mac is the CBC-MAC T of RFC 3610, 2.2, left in c.x: B_0 (flags, nonce,
// l(m)), then l(a) and a, then m, each padded with zeros to whole blocks.
func (c *ccm) mac(nonce, plaintext, ad []byte) {
	l := 15 - c.nonceLen
	c.x = [ccmBlock]byte{}
	flags := byte((c.tagLen-2)/2)<<3 | byte(l-1)
	if len(ad) > 0 {
		flags |= 0x40 // Adata
	}
	c.x[0] = flags
	copy(c.x[1:], nonce)
	m := uint64(len(plaintext))
	for i := 15; i > c.nonceLen; i-- {
		c.x[i] = byte(m)
		m >>= 8
	}
	c.b.Encrypt(c.x[:], c.x[:])
	if len(ad) > 0 {
		// l(a) (RFC 3610, 2.2): 2 bytes below 2^16-2^8, else 0xfffe and
		// 4 bytes (0xffff and 8 bytes past 2^32 cannot reach here from
		// TLS, whose additional data is 13 bytes).
		var hdr [10]byte
		var n int
		if uint64(len(ad)) < 1<<16-1<<8 {
			binary.BigEndian.PutUint16(hdr[:], uint16(len(ad)))
			n = 2
		} else if uint64(len(ad)) <= 1<<32-1 {
			hdr[0], hdr[1] = 0xff, 0xfe
			binary.BigEndian.PutUint32(hdr[2:], uint32(len(ad)))
			n = 6
		} else {
			hdr[0], hdr[1] = 0xff, 0xff
			binary.BigEndian.PutUint64(hdr[2:], uint64(len(ad)))
			n = 10
		}
		c.cbcMAC(hdr[:n], ad)
	}
	c.cbcMAC(plaintext)
}

// cbcMAC XORs the concatenation of parts, zero-padded to whole blocks,
// into the CBC-MAC state c.x, encrypting after each block.
func (c *ccm) cbcMAC(parts ...[]byte) {
	i := 0
	for _, p := range parts {
		for len(p) > 0 {
			n := copy(c.a[i:], p)
			p = p[n:]
			i += n
			if i == ccmBlock {
				subtle.XORBytes(c.x[:], c.x[:], c.a[:])
				c.b.Encrypt(c.x[:], c.x[:])
				i = 0
			}
		}
	}
	if i > 0 {
		clear(c.a[i:])
		subtle.XORBytes(c.x[:], c.x[:], c.a[:])
		c.b.Encrypt(c.x[:], c.x[:])
	}
}

// ctr XORs src with the key stream S_1, S_2, ... into dst (RFC 3610,
// 2.3), and leaves S_0 in c.s for the tag.
func (c *ccm) ctr(dst, src, nonce []byte) {
	c.a = [ccmBlock]byte{}
	c.a[0] = byte(15 - c.nonceLen - 1)
	copy(c.a[1:], nonce)
	var ctr uint64 = 1
	for len(src) > 0 {
		c.setCounter(ctr)
		c.b.Encrypt(c.s[:], c.a[:])
		n := subtle.XORBytes(dst, src, c.s[:])
		dst, src = dst[n:], src[n:]
		ctr++
	}
	c.setCounter(0)
	c.b.Encrypt(c.s[:], c.a[:])
}

func (c *ccm) setCounter(v uint64) {
	for i := 15; i > c.nonceLen; i-- {
		c.a[i] = byte(v)
		v >>= 8
	}
}

func (c *ccm) Seal(dst, nonce, plaintext, ad []byte) []byte {
	if len(nonce) != c.nonceLen || uint64(len(plaintext)) > c.maxLen() {
		panic("ccm: bad nonce or message length") // as cipher.AEAD's Seal does
	}
	c.mac(nonce, plaintext, ad)
	start := len(dst)
	dst = append(dst, plaintext...)
	c.ctr(dst[start:], plaintext, nonce)
	var tag [ccmBlock]byte
	subtle.XORBytes(tag[:], c.x[:], c.s[:])
	return append(dst, tag[:c.tagLen]...)
}

func (c *ccm) Open(dst, nonce, ciphertext, ad []byte) ([]byte, error) {
	if len(nonce) != c.nonceLen || len(ciphertext) < c.tagLen {
		return nil, errCCMOpen
	}
	n := len(ciphertext) - c.tagLen
	if uint64(n) > c.maxLen() {
		return nil, errCCMOpen
	}
	tag := ciphertext[n:]
	start := len(dst)
	dst = append(dst, ciphertext[:n]...)
	pt := dst[start:]
	c.ctr(pt, pt, nonce)
	s0 := c.s
	c.mac(nonce, pt, ad)
	subtle.XORBytes(c.x[:], c.x[:], s0[:])
	if subtle.ConstantTimeCompare(c.x[:c.tagLen], tag) != 1 {
		clear(pt)
		return nil, errCCMOpen
	}
	return dst, nil
}
