package cleartext

import (
	"strconv"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"
)

type ntlmAuth struct {
	user     string
	detail   string
	response []byte
}

// parseNTLM reads an NTLM AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3): the
// user, domain and workstation names and the NT challenge response (whose
// length tells NTLMv1 from NTLMv2). Other message types return false.
func parseNTLM(b []byte) (ntlmAuth, bool) {
	s := cryptobyte.String(b)
	var sig []byte
	var typ uint32
	if !s.ReadBytes(&sig, 8) || string(sig) != "NTLMSSP\x00" || !readU32LE(&s, &typ) || typ != 3 {
		return ntlmAuth{}, false
	}
	// Six security buffers follow: LmChallengeResponse, NtChallengeResponse,
	// DomainName, UserName, Workstation, EncryptedRandomSessionKey. Each
	// is a length, a maximum length and an offset from the start of the
	// message ([MS-NLMP] 2.2.1.3); one that points outside the message is
	// read as empty.
	var fields [6][]byte
	for i := range fields {
		var l, maxl uint16
		var off uint32
		if !readU16LE(&s, &l) || !readU16LE(&s, &maxl) || !readU32LE(&s, &off) {
			return ntlmAuth{}, false
		}
		fields[i], _ = securityBuffer(b, off, l)
	}
	var flags uint32
	unicode := true
	if readU32LE(&s, &flags) {
		unicode = flags&1 != 0 // NTLMSSP_NEGOTIATE_UNICODE
	}
	str := func(p []byte) string {
		if !unicode {
			return string(p)
		}
		u := make([]uint16, len(p)/2)
		for i := range u {
			u[i] = uint16(p[2*i]) | uint16(p[2*i+1])<<8
		}
		return string(utf16.Decode(u))
	}
	n := ntlmAuth{response: fields[1]}
	n.user = str(fields[3])
	if d := str(fields[2]); d != "" {
		n.user = d + `\` + n.user
	}
	switch l := len(fields[1]); {
	case l == 0:
		n.detail = "anonymous"
	case l == 24:
		n.detail = "NTLMv1 response (crackable offline)"
	default:
		n.detail = "NTLMv2 response (" + strconv.Itoa(l) + " bytes, crackable offline)"
	}
	if w := str(fields[4]); w != "" {
		n.detail += ", workstation " + strconv.Quote(w)
	}
	return n, true
}

// securityBuffer is the l bytes at offset off of msg. The offset is a
// uint32 from the wire: it is compared with the message's length before
// it becomes an int, which it could overflow on a 32-bit platform.
func securityBuffer(msg []byte, off uint32, l uint16) ([]byte, bool) {
	if uint64(off)+uint64(l) > uint64(len(msg)) {
		return nil, false
	}
	s := cryptobyte.String(msg[off:])
	var v []byte
	if !s.ReadBytes(&v, int(l)) {
		return nil, false
	}
	return v, true
}

func readU16LE(s *cryptobyte.String, v *uint16) bool {
	var b []byte
	if !s.ReadBytes(&b, 2) {
		return false
	}
	*v = uint16(b[0]) | uint16(b[1])<<8
	return true
}

func readU32LE(s *cryptobyte.String, v *uint32) bool {
	var b []byte
	if !s.ReadBytes(&b, 4) {
		return false
	}
	*v = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	return true
}
