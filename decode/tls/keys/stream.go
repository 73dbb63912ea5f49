package keys

import "crypto/rc4"

// streamOpener opens the records of a stream cipher suite (RC4) or of a
// NULL suite (rc4 nil): GenericStreamCipher, RFC 5246, 6.2.3.1, the
// content followed by its MAC, the whole encrypted with the cipher's state
// carried from one record to the next.
type streamOpener struct {
	mac *recordMAC
	rc4 *rc4.Cipher
}

func (o *streamOpener) Open(dst []byte, seq uint64, typ uint8, version uint16, body []byte) (uint8, []byte, error) {
	if len(body) > maxCiphertext12 {
		return 0, nil, malformed("%d bytes, over 2^14+2048", len(body))
	}
	start := len(dst)
	dst = append(dst, body...)
	pt := dst[start:]
	if o.rc4 != nil {
		// The key stream moves on even when the MAC then fails: the
		// sender's did.
		o.rc4.XORKeyStream(pt, pt)
	}
	n := len(pt) - o.mac.size()
	if n < 0 {
		clear(pt)
		return 0, nil, malformed("%d bytes, shorter than the MAC", len(body))
	}
	if !o.mac.verify(seq, typ, version, pt[n:], pt[:n]) {
		clear(pt)
		return 0, nil, ErrAuth
	}
	return typ, dst[:start+n], nil
}
