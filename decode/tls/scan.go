package tls

import "golang.org/x/crypto/cryptobyte"

// helloPrefix is how many bytes of a candidate ClientHello FindClientHello
// needs to judge it: the record header (5), the handshake header (4),
// client_version (2), random (32), the session id (1+32) and the
// cipher_suites length (2); an SSLv2 CLIENT-HELLO needs its 11-byte header.
const helloPrefix = 5 + 4 + 2 + 32 + 1 + 32 + 2

// FindClientHello looks for the first place in b where a TLS handshake
// record holding a plausible ClientHello, or an SSLv2 CLIENT-HELLO, begins:
// the start of TLS after a cleartext preamble (a STARTTLS exchange, a
// proxy's handshake, a protocol's own negotiation). Not every 0x16 byte
// counts: the record header must carry version 3.0-3.4 and a sane length,
// and the handshake inside must be a ClientHello whose length fits the
// record (or continues past it), with a 3.x client_version, a session id of
// at most 32 bytes and a non-empty, even cipher_suites vector; an SSLv2
// hello must have its lengths add up (RFC 5246, E.2).
//
// It returns the offset and Yes; or the offset of a candidate that runs
// past the end of b and NeedMore (the caller keeps b[off:] and asks again
// with more bytes); or No when b holds none.
func FindClientHello(b []byte) (int, Verdict) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != ContentHandshake && c&0x80 == 0 {
			continue
		}
		var v Verdict
		if c == ContentHandshake {
			v = plausibleHello(b[i:])
		} else {
			v = plausibleSSLv2Hello(b[i:])
		}
		if v != No {
			return i, v
		}
	}
	return len(b), No
}

// plausibleHello judges a TLS record that starts at b[0] (0x16).
func plausibleHello(b []byte) Verdict {
	in := cryptobyte.String(b)
	var ct, major, minor, typ uint8
	var recLen uint16
	var hsLen uint32
	if !in.ReadUint8(&ct) || !in.ReadUint8(&major) {
		return NeedMore
	}
	if major != 3 {
		return No
	}
	if !in.ReadUint8(&minor) {
		return NeedMore
	}
	if minor > 4 {
		return No
	}
	if !in.ReadUint16(&recLen) {
		return NeedMore
	}
	if recLen < 4+2+32+1+2+2 || int(recLen) > DefaultMaxRecord {
		return No
	}
	if !in.ReadUint8(&typ) {
		return NeedMore
	}
	if typ != 1 { // client_hello
		return No
	}
	if !in.ReadUint24(&hsLen) {
		return NeedMore
	}
	// The hello fills the record or continues in the next ones; it cannot
	// be shorter than its fixed fields.
	if hsLen < 2+32+1+2+2 || hsLen+4 < uint32(recLen) || hsLen > DefaultMaxHandshake {
		return No
	}
	var cvMajor, cvMinor, sidLen uint8
	var suitesLen uint16
	if !in.ReadUint8(&cvMajor) || !in.ReadUint8(&cvMinor) {
		return NeedMore
	}
	if cvMajor != 3 || cvMinor > 4 {
		return No
	}
	if !in.Skip(32) || !in.ReadUint8(&sidLen) {
		return NeedMore
	}
	if sidLen > 32 || 2+32+1+uint32(sidLen)+2+2 > hsLen {
		return No
	}
	if !in.Skip(int(sidLen)) || !in.ReadUint16(&suitesLen) {
		return NeedMore
	}
	if suitesLen == 0 || suitesLen%2 != 0 || 2+32+1+uint32(sidLen)+2+uint32(suitesLen)+1 > hsLen {
		return No
	}
	return Yes
}

// plausibleSSLv2Hello judges an SSLv2 record that starts at b[0] (high
// bit set): a 2-byte header, CLIENT-HELLO (1), a version, and cipher
// spec, session id and challenge lengths that add up to the record's
// (RFC 6101, E; draft-hickman SSL 2.0).
func plausibleSSLv2Hello(b []byte) Verdict {
	in := cryptobyte.String(b)
	var hdr uint16
	var typ uint8
	var version, specLen, sidLen, chalLen uint16
	if !in.ReadUint16(&hdr) {
		return NeedMore
	}
	n := hdr & 0x7fff
	if !in.ReadUint8(&typ) {
		return NeedMore
	}
	if typ != 1 {
		return No
	}
	if !in.ReadUint16(&version) || !in.ReadUint16(&specLen) || !in.ReadUint16(&sidLen) || !in.ReadUint16(&chalLen) {
		return NeedMore
	}
	if version != VersionSSL20 && (version>>8 != 3 || version&0xff > 4) {
		return No
	}
	if specLen == 0 || specLen%3 != 0 || sidLen != 0 && sidLen != 16 || chalLen < 16 || chalLen > 32 {
		return No
	}
	if uint32(n) != 9+uint32(specLen)+uint32(sidLen)+uint32(chalLen) {
		return No
	}
	return Yes
}
