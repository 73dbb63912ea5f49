package cleartext

import (
	"strconv"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// LDAP (RFC 4511): messages are BER. A BindRequest with simple
// authentication carries the password as is; a SASL PLAIN bind carries it
// base64-free. The StartTLS extended operation (RFC 4511, 4.14) is followed
// so that a bind after it is not expected in the clear.
//
// BER from real clients may use non-minimal long-form lengths (Active
// Directory sends 0x84 and four bytes), which DER parsers reject, so the
// tag and length are read here with the same bounds-checked discipline and
// the contents with cryptobyte.

const (
	classApplication = 0x40
	tagBindRequest   = classApplication | 0x20 | 0  // [APPLICATION 0] constructed
	tagExtendedReq   = classApplication | 0x20 | 23 // [APPLICATION 23]
	tagExtendedResp  = classApplication | 0x20 | 24 // [APPLICATION 24]
	tagAuthSimple    = 0x80 | 0                     // [0] primitive
	tagAuthSASL      = 0x80 | 0x20 | 3              // [3] constructed
	tagExtReqName    = 0x80 | 0                     // requestName [0]
	oidStartTLS      = "1.3.6.1.4.1.1466.20037"
)

type ldapConn struct {
	s      *Stream
	buf    [2][]byte
	skip   [2]int64
	tlsID  int64 // messageID of a StartTLS request awaiting its response; -1 none
	tlsReq bool
	broken [2]bool
}

// readBER reads one tag-length-value element, accepting any definite
// length form (up to four length bytes).
func readBER(s *cryptobyte.String, tag *uint8, body *cryptobyte.String) bool {
	var t, l8 uint8
	if !s.ReadUint8(&t) || t&0x1f == 0x1f || !s.ReadUint8(&l8) {
		return false
	}
	length := uint64(l8)
	if l8&0x80 != 0 {
		n := int(l8 & 0x7f)
		if n == 0 || n > 4 {
			return false // indefinite lengths are not allowed in LDAP
		}
		length = 0
		for i := 0; i < n; i++ {
			var b uint8
			if !s.ReadUint8(&b) {
				return false
			}
			length = length<<8 | uint64(b)
		}
	}
	// Four length bytes may say 4 GiB: compared with what is left before
	// it becomes an int, which has 32 bits on 386.
	var v []byte
	if length > uint64(len(*s)) || !s.ReadBytes(&v, int(length)) {
		return false
	}
	*tag, *body = t, cryptobyte.String(v)
	return true
}

// berHeader returns the total size of the element starting b, or need
// more (0, true) or malformed (0, false).
func berHeader(b []byte) (int64, bool) {
	if len(b) < 2 {
		return 0, true
	}
	if b[0]&0x1f == 0x1f {
		return 0, false
	}
	if b[1]&0x80 == 0 {
		return 2 + int64(b[1]), true
	}
	n := int(b[1] & 0x7f)
	if n == 0 || n > 4 {
		return 0, false
	}
	if len(b) < 2+n {
		return 0, true
	}
	var l int64
	for _, x := range b[2 : 2+n] {
		l = l<<8 | int64(x)
	}
	return int64(2+n) + l, true
}

func (c *ldapConn) feed(dir tls.Direction, data []byte) bool {
	i := dir & 1
	n := len(data)
	for len(data) > 0 && !c.broken[i] {
		if c.skip[i] > 0 {
			n := min(int64(len(data)), c.skip[i])
			c.skip[i] -= n
			data = data[n:]
			continue
		}
		// Gather at least the header, then the whole message.
		c.buf[i] = append(c.buf[i], data...)
		data = nil
		for len(c.buf[i]) > 0 {
			total, ok := berHeader(c.buf[i])
			if !ok || c.buf[i][0] != 0x30 {
				c.s.anomaly(AnomalyLDAPMalformed, dir, "not an LDAPMessage")
				c.broken[i], c.buf[i] = true, nil
				return false
			}
			if total == 0 {
				break // need more
			}
			if total > maxLDAPMessage { // maxLDAPMessage is enforced here
				// Too big to be a bind: skip it without keeping it.
				c.s.truncated(AnomalyLDAPMessageTooLong, dir, strconv.FormatInt(total, 10)+" bytes")
				have := int64(len(c.buf[i]))
				if have >= total {
					c.buf[i] = c.buf[i][total:]
					continue
				}
				c.skip[i] = total - have
				c.buf[i] = c.buf[i][:0]
				break
			}
			if int64(len(c.buf[i])) < total {
				break
			}
			msg := c.buf[i][:total]
			up := c.message(dir, msg)
			c.buf[i] = append(c.buf[i][:0], c.buf[i][total:]...)
			if up {
				c.s.rest = min(len(c.buf[i]), n) // what follows came with this data
				return true
			}
		}
		if len(c.buf[i]) == 0 {
			c.buf[i] = nil
		}
	}
	return false
}

func (c *ldapConn) gap(dir tls.Direction) {
	// Without framing the stream cannot be resynchronised.
	c.broken[dir&1] = true
	c.buf[dir&1] = nil
}

// message reads one LDAPMessage: SEQUENCE { messageID, protocolOp, ... }.
func (c *ldapConn) message(dir tls.Direction, msg []byte) bool {
	s := cryptobyte.String(msg)
	var tag uint8
	var body, idb, op cryptobyte.String
	if !readBER(&s, &tag, &body) || tag != uint8(asn1.SEQUENCE) {
		c.s.anomaly(AnomalyLDAPMalformed, dir, "LDAPMessage")
		return false
	}
	if !readBER(&body, &tag, &idb) || tag != uint8(asn1.INTEGER) || len(idb) == 0 || len(idb) > 4 {
		c.s.anomaly(AnomalyLDAPMalformed, dir, "messageID")
		return false
	}
	var id int64
	for _, b := range idb {
		id = id<<8 | int64(b)
	}
	if !readBER(&body, &tag, &op) {
		c.s.anomaly(AnomalyLDAPMalformed, dir, "protocolOp")
		return false
	}
	switch {
	case dir == tls.ClientToServer && tag == tagBindRequest:
		c.bind(op)
	case dir == tls.ClientToServer && tag == tagExtendedReq:
		var name cryptobyte.String
		if readBER(&op, &tag, &name) && tag == tagExtReqName && string(name) == oidStartTLS {
			c.tlsReq, c.tlsID = true, id
		}
	case dir == tls.ServerToClient && tag == tagExtendedResp && c.tlsReq && id == c.tlsID:
		c.tlsReq = false
		var rc cryptobyte.String
		// LDAPResult: resultCode ENUMERATED; success is 0.
		if readBER(&op, &tag, &rc) && tag == uint8(asn1.ENUM) && len(rc) == 1 && rc[0] == 0 {
			return true
		}
	}
	return false
}

// bind reads a BindRequest: version, name, authentication.
func (c *ldapConn) bind(op cryptobyte.String) {
	var tag uint8
	var version, name, auth cryptobyte.String
	if !readBER(&op, &tag, &version) || tag != uint8(asn1.INTEGER) ||
		!readBER(&op, &tag, &name) || tag != uint8(asn1.OCTET_STRING) ||
		!readBER(&op, &tag, &auth) {
		c.s.anomaly(AnomalyLDAPMalformed, tls.ClientToServer, "BindRequest")
		return
	}
	user := string(name)
	switch tag {
	case tagAuthSimple:
		if len(auth) == 0 {
			return // anonymous or unauthenticated bind (RFC 4513, 5.1.1-2)
		}
		pw := string(auth)
		c.s.emit(newSecret(KindCredentials, "ldap-simple-bind", "BindRequest simple", user, Mask(pw)), pw)
	case tagAuthSASL:
		var mech, cred cryptobyte.String
		if !readBER(&auth, &tag, &mech) || tag != uint8(asn1.OCTET_STRING) {
			return
		}
		if string(mech) != "PLAIN" || !readBER(&auth, &tag, &cred) {
			return
		}
		parts := splitNUL(string(cred))
		if len(parts) == 3 {
			c.s.emit(newSecret(KindCredentials, "sasl-plain", "BindRequest SASL PLAIN", parts[1], Mask(parts[2])), parts[2])
		}
	}
}

// looksLDAP: a SEQUENCE whose first element is a small INTEGER (the
// messageID) followed by an [APPLICATION n] protocolOp.
func looksLDAP(b []byte) bool {
	if len(b) < 7 || b[0] != 0x30 {
		return false
	}
	hl := 2
	if b[1]&0x80 != 0 {
		hl += int(b[1] & 0x7f)
		if b[1]&0x7f > 4 || b[1] == 0x80 {
			return false
		}
	}
	s := cryptobyte.String(b[hl:])
	var tag uint8
	var id cryptobyte.String
	if !readBER(&s, &tag, &id) || tag != uint8(asn1.INTEGER) || len(id) == 0 || len(id) > 4 {
		return false
	}
	var op uint8
	return s.ReadUint8(&op) && op&0xc0 == classApplication
}
