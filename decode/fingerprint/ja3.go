package fingerprint

import (
	"crypto/md5"
	"encoding/hex"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// isGREASE reports whether v is one of the sixteen GREASE values of RFC
// 8701, section 2 (0x0a0a, 0x1a1a, ... 0xfafa): both bytes equal and each
// ending in 0xa.
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// stackBuf is the size of the buffers fingerprints are built in. A typical
// browser ClientHello needs about 250 bytes; longer ones spill to the heap.
const stackBuf = 768

// JA3 returns the JA3 fingerprint of a ClientHello as salesforce/ja3 defines
// it: the MD5 (lowercase hex) of
//
//	SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
//
// with decimal values joined by '-', GREASE values (RFC 8701) dropped from
// every list, and SSLVersion the ClientHello's legacy_version. full is that
// string. For a ClientHello in the SSLv2-compatible format both are empty:
// tshark (the oracle this package is tested against) computes no JA3 for
// it, and neither does salesforce/ja3, which reads TLS records only.
func JA3(ch *tls.ClientHello) (hash, full string) {
	if ch == nil || ch.SSLv2 {
		return "", ""
	}
	var arr [stackBuf + md5.Size*2]byte
	b := arr[:0]
	b = appendUint16(b, ch.LegacyVersion)
	b = append(b, ',')
	b = appendDecimals(b, ch.CipherSuites)
	b = append(b, ',')
	b = appendDecimals(b, ch.Extensions)
	b = append(b, ',')
	b = appendDecimals(b, ch.SupportedGroups)
	b = append(b, ',')
	for i, f := range ch.ECPointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = appendUint16(b, uint16(f))
	}
	return md5Pair(b)
}

// JA3S returns the JA3S fingerprint of a ServerHello (salesforce/ja3,
// ja3s.py): the MD5 of "SSLVersion,Cipher,Extensions" with the legacy_version,
// the chosen suite and the extension types in wire order, decimal, GREASE
// dropped. full is the string itself.
//
// An SSLv2 SERVER-HELLO (LegacyVersion 0x0002) has none, as in tshark.
func JA3S(sh *tls.ServerHello) (hash, full string) {
	if sh == nil || sh.LegacyVersion == tls.VersionSSL20 {
		return "", ""
	}
	var arr [stackBuf + md5.Size*2]byte
	b := arr[:0]
	b = appendUint16(b, sh.LegacyVersion)
	b = append(b, ',')
	b = appendUint16(b, sh.CipherSuite)
	b = append(b, ',')
	b = appendDecimals(b, sh.Extensions)
	return md5Pair(b)
}

// appendDecimals appends the non-GREASE values of vs in decimal, joined by
// '-'.
func appendDecimals(b []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if isGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = appendUint16(b, v)
	}
	return b
}

// appendUint16 appends v in decimal; strconv.AppendUint's general path
// costs twice as much for these small values.
func appendUint16(b []byte, v uint16) []byte {
	var d [5]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// md5Pair appends the hex MD5 of s to s and returns both as substrings of
// one string, so the pair costs a single allocation.
func md5Pair(s []byte) (hash, full string) {
	n := len(s)
	sum := md5.Sum(s)
	s = append(s, make([]byte, md5.Size*2)...)
	hex.Encode(s[n:], sum[:])
	all := string(s)
	return all[n:], all[:n]
}
