package keys

import (
	"crypto/cipher"
)

// cbcMode is a CBC decrypter whose IV can be reset per record, as
// crypto/cipher's are (crypto/tls relies on the same).
type cbcMode interface {
	cipher.BlockMode
	SetIV([]byte)
}

// cbcOpener opens GenericBlockCipher records (RFC 5246, 6.2.3.2): in TLS
// 1.1 and 1.2 an explicit IV, then the content, its MAC and the padding,
// all encrypted; in TLS 1.0 (RFC 2246, 6.2.3.2) no explicit IV, the IV
// being the previous record's last ciphertext block (the key block's IV
// for the first). With encrypt_then_mac (RFC 7366, 3) the MAC follows the
// ciphertext instead, over the IV and the ciphertext, and is checked
// before anything is decrypted.
type cbcOpener struct {
	mac     *recordMAC
	dec     cbcMode
	bs      int
	etm     bool
	chained bool     // TLS 1.0: iv carries from record to record
	iv      [16]byte // the chained IV (TLS 1.0)
	prev    [16]byte // the IV of the record being opened (TLS 1.0)
}

func newCBCOpener(p Params12, s suite12, k dirKeys) (Opener, error) {
	b, err := s.cipher.newBlock(k.key)
	if err != nil {
		return nil, err
	}
	o := &cbcOpener{
		mac:     newRecordMAC(s.mac, k.mac),
		bs:      b.BlockSize(),
		etm:     p.EncryptThenMAC,
		chained: p.Version < versionTLS11,
	}
	copy(o.iv[:], k.iv)
	dec, ok := cipher.NewCBCDecrypter(b, o.iv[:o.bs]).(cbcMode)
	if !ok {
		return nil, ErrUnsupported
	}
	o.dec = dec
	return o, nil
}

func (o *cbcOpener) Open(dst []byte, seq uint64, typ uint8, version uint16, body []byte) (uint8, []byte, error) {
	if len(body) > maxCiphertext12 {
		return 0, nil, malformed("%d bytes, over 2^14+2048", len(body))
	}
	macLen := o.mac.size()
	ivLen := o.bs
	if o.chained {
		ivLen = 0
	}
	ct := body
	var tag []byte
	if o.etm {
		n := len(body) - macLen
		if n < ivLen+o.bs {
			return 0, nil, malformed("%d bytes, too short for IV, a block and the MAC", len(body))
		}
		ct, tag = body[:n], body[n:]
	}
	if len(ct) < ivLen+o.bs || (len(ct)-ivLen)%o.bs != 0 {
		return 0, nil, malformed("%d bytes of ciphertext, not an IV and whole %d-byte blocks", len(ct), o.bs)
	}
	if !o.etm && len(ct)-ivLen < macLen+1 {
		return 0, nil, malformed("%d bytes, too short for the MAC", len(body))
	}
	if o.chained {
		// Kept before the MAC is checked: the next record's IV is this
		// record's last block, whatever this one holds.
		o.prev = o.iv
		copy(o.iv[:o.bs], ct[len(ct)-o.bs:])
		o.dec.SetIV(o.prev[:o.bs])
	} else {
		o.dec.SetIV(ct[:ivLen])
	}
	if o.etm && !o.mac.verify(seq, typ, version, tag, ct) {
		return 0, nil, ErrAuth
	}
	ct = ct[ivLen:]
	start := len(dst)
	dst = append(dst, ct...)
	pt := dst[start:]
	o.dec.CryptBlocks(pt, pt)
	// Padding: padding_length bytes, each of value padding_length, then
	// padding_length itself (RFC 5246, 6.2.3.2).
	padLen := int(pt[len(pt)-1])
	end := len(pt) - 1 - padLen
	if !o.etm {
		end -= macLen
	}
	if end < 0 {
		clear(pt)
		return 0, nil, ErrAuth
	}
	bad := byte(0)
	for _, b := range pt[len(pt)-1-padLen : len(pt)-1] {
		bad |= b ^ byte(padLen)
	}
	if bad != 0 {
		clear(pt)
		if o.etm {
			return 0, nil, malformed("padding bytes differ from padding_length (%d) under a MAC that verified", padLen)
		}
		return 0, nil, ErrAuth
	}
	if !o.etm && !o.mac.verify(seq, typ, version, pt[end:end+macLen], pt[:end]) {
		clear(pt)
		return 0, nil, ErrAuth
	}
	return typ, dst[:start+end], nil
}
