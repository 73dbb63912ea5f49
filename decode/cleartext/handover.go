package cleartext

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// The binary and XML protocols whose streams turn into TLS (or a proxy's
// tunnel) by their own rules: each is followed message by message until
// the hand-over, a refusal (the stream stays cleartext), or something it
// does not understand (then it parses nothing more).
const (
	Postgres Protocol = "postgres" // PostgreSQL frontend/backend protocol 3.0: SSLRequest, GSSENCRequest
	MySQL    Protocol = "mysql"    // MySQL/MariaDB client/server protocol: an SSL request packet with CLIENT_SSL
	SOCKS4   Protocol = "socks4"   // SOCKS 4 and 4a: CONNECT, request granted
	SOCKS5   Protocol = "socks5"   // RFC 1928 (and RFC 1929 username/password)
	XMPP     Protocol = "xmpp"     // RFC 6120, 5: <starttls/>, <proceed/>
	RDP      Protocol = "rdp"      // MS-RDPBCGR 2.2.1.1-2: X.224 Connection Request/Confirm, RDP_NEG_RSP
)

// maxHandover bounds the bytes one direction of a hand-over protocol may
// hold unparsed (a message, or XML since the last element looked for):
// AnomalyHandoverTooLong, and the protocol is parsed no further.
const maxHandover = 16 << 10

const (
	AnomalyHandoverTooLong   = "handover_message_too_long" // a message over maxHandover: the stream is parsed no further
	AnomalyHandoverMalformed = "handover_malformed"        // a message that breaks its protocol's rules: the stream is parsed no further
)

// Protocol constants from the specifications.
const (
	pgSSLRequest    = 80877103 // PostgreSQL 55.7: SSLRequest's request code (1234 << 16 | 5679)
	pgGSSENCRequest = 80877104 // GSSENCRequest (1234 << 16 | 5680)
	pgCancelRequest = 80877102 // CancelRequest
	pgProtocol3     = 196608   // StartupMessage protocol version 3.0

	mysqlClientSSL = 0x0800 // CLIENT_SSL capability flag
	mysqlProtocol  = 10     // Protocol::HandshakeV10

	rdpNegRsp       = 0x02 // TYPE_RDP_NEG_RSP
	rdpNegFailure   = 0x03 // TYPE_RDP_NEG_FAILURE
	x224ConnConfirm = 0xd0 // X.224 CC TPDU
	x224ConnRequest = 0xe0 // X.224 CR TPDU
)

// handConn follows one hand-over protocol.
type handConn struct {
	s     *Stream
	proto Protocol
	buf   [2][]byte
	dead  bool

	// PostgreSQL
	pgAsked   uint32 // the request code awaiting the server's one-byte answer
	pgStarted bool   // a StartupMessage was sent: messages are typed from then on
	pgUser    string
	pgAuth    int32 // the server's last AuthenticationRequest code

	// MySQL
	mysqlGreeted bool

	// SOCKS
	socksStep [2]int
	socksCmd  byte
	target    string

	// XMPP
	xmppAsked bool
}

func newHandConn(s *Stream, p Protocol) *handConn { return &handConn{s: s, proto: p} }

// feed buffers one direction's bytes and parses whole messages; it
// returns true at the hand-over, with Stream.rest set to the bytes after it.
func (c *handConn) feed(dir tls.Direction, data []byte) bool {
	if c.dead {
		return false
	}
	i := dir & 1
	n := len(data)
	c.buf[i] = append(c.buf[i], data...)
	for len(c.buf[i]) > 0 && !c.dead {
		used, up, ok := c.message(dir, c.buf[i])
		if !ok {
			c.s.anomaly(AnomalyHandoverMalformed, dir, string(c.proto))
			c.dead, c.buf = true, [2][]byte{}
			return false
		}
		if used == 0 {
			break // need more
		}
		c.buf[i] = c.buf[i][used:]
		if up {
			c.s.rest = min(len(c.buf[i]), n)
			c.s.target = c.target
			c.buf = [2][]byte{}
			return true
		}
	}
	switch {
	case c.dead:
		c.buf = [2][]byte{}
	case len(c.buf[i]) > maxHandover: // maxHandover is enforced here
		c.s.truncated(AnomalyHandoverTooLong, dir, string(c.proto))
		c.dead, c.buf = true, [2][]byte{}
	case len(c.buf[i]) == 0:
		c.buf[i] = c.buf[i][:0:0]
	default:
		c.buf[i] = append([]byte(nil), c.buf[i]...) // the caller's data is reused
	}
	return false
}

func (c *handConn) gap(dir tls.Direction) { c.dead, c.buf = true, [2][]byte{} }

// message parses the message at the start of b: the bytes it used (0:
// need more), whether TLS (or the tunnel) follows it, and false when b
// breaks the protocol.
func (c *handConn) message(dir tls.Direction, b []byte) (used int, up, ok bool) {
	switch c.proto {
	case Postgres:
		return c.postgres(dir, b)
	case MySQL:
		return c.mysql(dir, b)
	case SOCKS4:
		return c.socks4(dir, b)
	case SOCKS5:
		return c.socks5(dir, b)
	case XMPP:
		return c.xmpp(dir, b)
	case RDP:
		return c.rdp(dir, b)
	}
	return len(b), false, true
}

// postgres follows PostgreSQL's startup (PostgreSQL docs, 55.2 "Message
// Flow" and 55.2.10 "SSL Session Encryption"): before the StartupMessage,
// client packets are untyped (Int32 length, Int32 code); an SSLRequest is
// answered by one byte, 'S' (TLS follows) or 'N' (refused: the client may
// go on in cleartext), a GSSENCRequest by 'G' (GSSAPI encryption, not TLS)
// or 'N'. A cleartext password (AuthenticationCleartextPassword, code 3,
// or the MD5 exchange, code 5) is a PasswordMessage ('p') from the client.
func (c *handConn) postgres(dir tls.Direction, b []byte) (int, bool, bool) {
	in := cryptobyte.String(b)
	if dir == tls.ServerToClient && c.pgAsked != 0 {
		asked := c.pgAsked
		c.pgAsked = 0
		switch {
		case b[0] == 'S' && asked == pgSSLRequest:
			return 1, true, true
		case b[0] == 'N':
			return 1, false, true
		case b[0] == 'G' && asked == pgGSSENCRequest:
			c.dead = true // GSSAPI-encrypted from here on
			return 1, false, true
		}
		// 'E' (an old server's ErrorResponse) is a typed message: below.
	}
	if dir == tls.ClientToServer && !c.pgStarted {
		var length, code uint32
		if !in.ReadUint32(&length) || !in.ReadUint32(&code) {
			return 0, false, true
		}
		if length < 8 || length > maxHandover {
			return 0, false, false
		}
		if len(b) < int(length) {
			return 0, false, true
		}
		switch code {
		case pgSSLRequest, pgGSSENCRequest:
			if length != 8 {
				return 0, false, false
			}
			c.pgAsked = code
		case pgCancelRequest:
		case pgProtocol3:
			c.pgStarted = true
			params := strings.Split(string(b[8:length]), "\x00")
			for j := 0; j+1 < len(params); j += 2 {
				if params[j] == "user" {
					c.pgUser = params[j+1]
				}
			}
		default:
			if code>>16 != 3 {
				return 0, false, false
			}
			c.pgStarted = true // a 3.x minor version
		}
		return int(length), false, true
	}
	// A typed message: Byte1 type, Int32 length (itself included).
	var typ uint8
	var length uint32
	if !in.ReadUint8(&typ) || !in.ReadUint32(&length) {
		return 0, false, true
	}
	if length < 4 || length > maxHandover {
		if length > maxHandover && length < 1<<30 {
			c.dead = true // a big message (a query's rows): nothing more to learn
			return len(b), false, true
		}
		return 0, false, false
	}
	if len(b) < 1+int(length) {
		return 0, false, true
	}
	body := b[5 : 1+length]
	switch {
	case dir == tls.ServerToClient && typ == 'R' && len(body) >= 4:
		code := int32(uint32(body[0])<<24 | uint32(body[1])<<16 | uint32(body[2])<<8 | uint32(body[3]))
		c.pgAuth = code
		if code == 0 { // AuthenticationOk: nothing more to look for
			c.dead = true
		}
	case dir == tls.ClientToServer && typ == 'p':
		pw, _, _ := strings.Cut(string(body), "\x00")
		switch c.pgAuth {
		case 3:
			c.s.emit(newSecret(KindCredentials, "password", "PasswordMessage", c.pgUser, Mask(pw)), pw)
		case 5:
			c.s.emit(facts.Secret{Kind: KindCredentials, Type: "md5", Field: "PasswordMessage", User: c.pgUser,
				Masked: MaskToken("postgres-md5", pw), Detail: "MD5 of password and user, salted with 4 bytes: crackable offline",
				Severity: "info", From: uint8(tls.ClientToServer)}, pw)
		}
	}
	return 1 + int(length), false, true
}

// mysql follows the connection phase (MySQL client/server protocol,
// "Connection Phase"): packets are a 3-byte little-endian length and a
// sequence id. The server greets (Protocol::HandshakeV10); a client that
// wants TLS answers with a 32-byte Protocol::SSLRequest carrying
// CLIENT_SSL, and its TLS ClientHello follows at once; a longer
// HandshakeResponse means the session stays cleartext.
func (c *handConn) mysql(dir tls.Direction, b []byte) (int, bool, bool) {
	if len(b) < 4 {
		return 0, false, true
	}
	length := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	if length > maxHandover {
		c.dead = true // a large result set: the phase is over
		return len(b), false, true
	}
	if len(b) < 4+length {
		return 0, false, true
	}
	p := b[4 : 4+length]
	switch {
	case dir == tls.ServerToClient && !c.mysqlGreeted:
		if length < 1 || p[0] != mysqlProtocol && p[0] != 0xff {
			return 0, false, false
		}
		c.mysqlGreeted = true
	case dir == tls.ClientToServer && c.mysqlGreeted:
		if length < 4 {
			return 0, false, false
		}
		caps := uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
		if caps&mysqlClientSSL != 0 && length == 32 {
			return 4 + length, true, true
		}
		c.dead = true // HandshakeResponse in the clear: its auth data is a scramble, not a password
	}
	return 4 + length, false, true
}

// socks4 follows SOCKS 4 (and 4a, a host name after the user id when the
// address is 0.0.0.x): the client's request, the server's 8-byte reply,
// 90 "request granted" opening the tunnel.
func (c *handConn) socks4(dir tls.Direction, b []byte) (int, bool, bool) {
	if dir == tls.ClientToServer {
		if c.socksStep[0] > 0 {
			return len(b), false, true // early tunnel bytes: the reply decides
		}
		if len(b) < 9 {
			return 0, false, true
		}
		if b[0] != 4 {
			return 0, false, false
		}
		end := bytes.IndexByte(b[8:], 0)
		if end < 0 {
			return 0, false, true
		}
		used := 8 + end + 1
		port := uint16(b[2])<<8 | uint16(b[3])
		addr := netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]})
		host := addr.String()
		if b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0 { // SOCKS 4a
			h := bytes.IndexByte(b[used:], 0)
			if h < 0 {
				return 0, false, true
			}
			host = string(b[used : used+h])
			used += h + 1
		}
		c.socksCmd = b[1]
		c.target = hostPort(host, port)
		c.socksStep[0] = 1
		return used, false, true
	}
	if len(b) < 8 {
		return 0, false, true
	}
	if b[0] != 0 {
		return 0, false, false
	}
	if b[1] == 90 && c.socksCmd == 1 && c.target != "" {
		return 8, true, true
	}
	c.dead = true // refused, or BIND
	return 8, false, true
}

// socks5 follows RFC 1928: the client's method offer, the server's
// choice, RFC 1929's username/password exchange when chosen (the
// password crosses in the clear), the client's request and the server's
// reply; a CONNECT answered by "succeeded" opens the tunnel.
func (c *handConn) socks5(dir tls.Direction, b []byte) (int, bool, bool) {
	in := cryptobyte.String(b)
	var ver uint8
	if !in.ReadUint8(&ver) {
		return 0, false, true
	}
	if dir == tls.ClientToServer {
		switch {
		case c.socksStep[0] == 0: // VER NMETHODS METHODS
			var methods []byte
			if !in.ReadUint8LengthPrefixed((*cryptobyte.String)(&methods)) {
				return 0, false, true
			}
			if ver != 5 || len(methods) == 0 {
				return 0, false, false
			}
			c.socksStep[0] = 1
			return 2 + len(methods), false, true
		case ver == 1 && c.socksStep[0] == 1: // RFC 1929: VER ULEN UNAME PLEN PASSWD
			var user, pass []byte
			if !in.ReadUint8LengthPrefixed((*cryptobyte.String)(&user)) || !in.ReadUint8LengthPrefixed((*cryptobyte.String)(&pass)) {
				return 0, false, true
			}
			c.s.emit(newSecret(KindCredentials, "password", "SOCKS5 username/password", string(user), Mask(string(pass))), string(pass))
			return 3 + len(user) + len(pass), false, true
		case ver == 5 && c.socksStep[0] == 1: // VER CMD RSV ATYP DST.ADDR DST.PORT
			var cmd, rsv uint8
			if !in.ReadUint8(&cmd) || !in.ReadUint8(&rsv) {
				return 0, false, true
			}
			host, n, ok := socksAddr(&in)
			if n == 0 {
				return 0, false, ok
			}
			c.socksCmd = cmd
			c.target = host
			c.socksStep[0] = 2
			return 3 + n, false, true
		case c.socksStep[0] == 2:
			return len(b), false, true // early tunnel bytes: the reply decides
		}
		return 0, false, false
	}
	switch c.socksStep[1] {
	case 0: // VER METHOD
		var method uint8
		if !in.ReadUint8(&method) {
			return 0, false, true
		}
		if ver != 5 {
			return 0, false, false
		}
		if method == 0xff { // no acceptable methods
			c.dead = true
		}
		c.socksStep[1] = 1
		return 2, false, true
	case 1:
		if ver == 1 { // RFC 1929 status
			var status uint8
			if !in.ReadUint8(&status) {
				return 0, false, true
			}
			if status != 0 {
				c.dead = true
			}
			return 2, false, true
		}
		var rep, rsv uint8
		if !in.ReadUint8(&rep) || !in.ReadUint8(&rsv) {
			return 0, false, true
		}
		_, n, ok := socksAddr(&in)
		if n == 0 {
			return 0, false, ok
		}
		if ver != 5 {
			return 0, false, false
		}
		c.socksStep[1] = 2
		if rep == 0 && c.socksCmd == 1 && c.target != "" {
			return 3 + n, true, true
		}
		c.dead = true
		return 3 + n, false, true
	}
	return len(b), false, true
}

// socksAddr reads RFC 1928's ATYP, address and port: the address as
// host:port, the bytes read (0 when more are needed or it is malformed),
// and false when malformed.
func socksAddr(in *cryptobyte.String) (string, int, bool) {
	var atyp uint8
	var port uint16
	if !in.ReadUint8(&atyp) {
		return "", 0, true
	}
	var host string
	n := 1
	switch atyp {
	case 1:
		var a []byte
		if !in.ReadBytes(&a, 4) {
			return "", 0, true
		}
		host = netip.AddrFrom4([4]byte(a)).String()
		n += 4
	case 3:
		var name []byte
		if !in.ReadUint8LengthPrefixed((*cryptobyte.String)(&name)) {
			return "", 0, true
		}
		host = string(name)
		n += 1 + len(name)
	case 4:
		var a []byte
		if !in.ReadBytes(&a, 16) {
			return "", 0, true
		}
		host = netip.AddrFrom16([16]byte(a)).String()
		n += 16
	default:
		return "", 0, false
	}
	if !in.ReadUint16(&port) {
		return "", 0, true
	}
	return hostPort(host, port), n + 2, true
}

func hostPort(host string, port uint16) string {
	if strings.IndexByte(host, ':') >= 0 {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}

// xmpp follows RFC 6120, 5.4: the client's <starttls/> in the
// urn:ietf:params:xml:ns:xmpp-tls namespace, answered by <proceed/> (TLS
// follows the element at once) or <failure/> (the server closes the
// stream). It also reports SASL PLAIN (RFC 6120, 6.4.2; RFC 4616)
// credentials sent in the clear. XML is not parsed, only the elements
// looked for are found; bytes before the last '>' are consumed.
func (c *handConn) xmpp(dir tls.Direction, b []byte) (int, bool, bool) {
	end := bytes.LastIndexByte(b, '>')
	if end < 0 {
		return 0, false, true
	}
	chunk := b[:end+1]
	if dir == tls.ClientToServer {
		if bytes.Contains(chunk, []byte("<starttls")) {
			c.xmppAsked = true
		}
		if i := bytes.Index(chunk, []byte("<auth")); i >= 0 {
			c.xmppAuth(chunk[i:])
		}
		return end + 1, false, true
	}
	if c.xmppAsked {
		if i := bytes.Index(chunk, []byte("<proceed")); i >= 0 {
			j := bytes.IndexByte(chunk[i:], '>')
			used := i + j + 1
			if !bytes.HasSuffix(chunk[i:used], []byte("/>")) {
				k := bytes.Index(chunk[i:], []byte("</proceed>"))
				if k < 0 {
					return 0, false, true
				}
				used = i + k + len("</proceed>")
			}
			return used, true, true
		}
		if bytes.Contains(chunk, []byte("<failure")) {
			c.xmppAsked = false
		}
	}
	return end + 1, false, true
}

// xmppAuth reports <auth mechanism='PLAIN'>base64(authzid NUL authcid NUL
// passwd)</auth>.
func (c *handConn) xmppAuth(b []byte) {
	gt := bytes.IndexByte(b, '>')
	if gt < 0 {
		return
	}
	head := string(b[:gt])
	if !strings.Contains(head, "'PLAIN'") && !strings.Contains(head, `"PLAIN"`) {
		return
	}
	rest := b[gt+1:]
	lt := bytes.IndexByte(rest, '<')
	if lt < 0 {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(rest[:lt])))
	if err != nil {
		return
	}
	f := splitNUL(string(raw))
	if len(f) != 3 {
		return
	}
	c.s.emit(newSecret(KindCredentials, "password", "SASL PLAIN", f[1], Mask(f[2])), f[2])
}

// rdp follows the X.224 connection sequence of MS-RDPBCGR 1.3.1.1: the
// client's Connection Request in a TPKT (RFC 1006) offers protocols in an
// RDP_NEG_REQ; the server's Connection Confirm selects one in an
// RDP_NEG_RSP (2.2.1.2.1). Any selection but standard RDP security
// (PROTOCOL_SSL, PROTOCOL_HYBRID, PROTOCOL_RDSTLS, PROTOCOL_HYBRID_EX) is
// TLS from the next byte; RDP_NEG_FAILURE, or no RDP_NEG_RSP, leaves
// standard RDP security, which is not TLS.
func (c *handConn) rdp(dir tls.Direction, b []byte) (int, bool, bool) {
	in := cryptobyte.String(b)
	var ver, rsv, li, code uint8
	var length uint16
	if !in.ReadUint8(&ver) || !in.ReadUint8(&rsv) || !in.ReadUint16(&length) {
		return 0, false, true
	}
	if ver != 3 || length < 7 {
		return 0, false, false
	}
	if len(b) < int(length) {
		return 0, false, true
	}
	if !in.ReadUint8(&li) || !in.ReadUint8(&code) {
		return 0, false, false
	}
	if dir == tls.ClientToServer {
		if code&0xf0 != x224ConnRequest {
			c.dead = true
		}
		return int(length), false, true
	}
	if code&0xf0 != x224ConnConfirm {
		c.dead = true
		return int(length), false, true
	}
	// X.224 CC: LI, code, DST-REF, SRC-REF, class (7 bytes incl. TPKT's
	// 4 after the header), then the 8-byte RDP_NEG_RSP.
	var neg cryptobyte.String
	if int(length) < 11 || !in.Skip(5) || !in.ReadBytes((*[]byte)(&neg), int(length)-11) {
		c.dead = true
		return int(length), false, true
	}
	var typ, flags uint8
	var negLen uint16
	var selected uint32
	if !neg.ReadUint8(&typ) || !neg.ReadUint8(&flags) || !neg.ReadUint16(&negLen) || len(neg) < 4 {
		c.dead = true
		return int(length), false, true
	}
	selected = uint32(neg[0]) | uint32(neg[1])<<8 | uint32(neg[2])<<16 | uint32(neg[3])<<24
	if typ == rdpNegRsp && selected != 0 {
		return int(length), true, true
	}
	c.dead = true // standard RDP security, or RDP_NEG_FAILURE
	return int(length), false, true
}

// sniffHandover recognises a hand-over protocol by the first bytes of one
// direction and the server's port.
func sniffHandover(b []byte, dir tls.Direction, port uint16) Protocol {
	if dir == tls.ClientToServer {
		switch {
		case len(b) >= 8 && b[0] == 0 && b[1] == 0 && (pgCode(b) == pgSSLRequest && b[3] == 8 || pgCode(b) == pgGSSENCRequest && b[3] == 8 || pgCode(b) == pgProtocol3):
			return Postgres
		case len(b) >= 3 && b[0] == 5 && int(b[1]) >= 1 && int(b[1]) <= 16 && len(b) >= 2+int(b[1]) && (len(b) == 2+int(b[1]) || b[2+int(b[1])] == 1 || b[2+int(b[1])] == 5):
			return SOCKS5
		case len(b) >= 9 && b[0] == 4 && (b[1] == 1 || b[1] == 2) && bytes.IndexByte(b[8:], 0) >= 0 && len(b) < 300:
			return SOCKS4
		case len(b) >= 11 && b[0] == 3 && b[1] == 0 && int(b[2])<<8|int(b[3]) == len(b) && b[5]&0xf0 == x224ConnRequest:
			return RDP
		case xmppHeader(b, "jabber:client") || xmppHeader(b, "jabber:server"):
			return XMPP
		}
		return ""
	}
	switch {
	case len(b) >= 5 && b[3] == 0 && b[4] == mysqlProtocol && int(b[0])|int(b[1])<<8|int(b[2])<<16 >= 20 && mysqlVersion(b[5:]):
		return MySQL
	case xmppHeader(b, "jabber:client") || xmppHeader(b, "jabber:server"):
		return XMPP
	}
	return ""
}

func pgCode(b []byte) uint32 {
	return uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
}

// mysqlVersion says b starts with a NUL-terminated printable server
// version ("8.0.36", "5.5.5-10.11.6-MariaDB-0+deb12u1").
func mysqlVersion(b []byte) bool {
	end := bytes.IndexByte(b, 0)
	if end < 1 || end > 64 || b[0] < '0' || b[0] > '9' {
		return false
	}
	for _, ch := range b[:end] {
		if ch < 0x20 || ch > 0x7e {
			return false
		}
	}
	return true
}

// xmppHeader says b opens an XMPP stream (RFC 6120, 4.2): an XML
// declaration or <stream:stream, in the stream namespace ns.
func xmppHeader(b []byte, ns string) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(b, []byte("<?xml")) && !bytes.HasPrefix(b, []byte("<stream:stream")) {
		return false
	}
	if len(b) > 1024 {
		b = b[:1024]
	}
	return bytes.Contains(b, []byte(ns)) || bytes.Contains(b, []byte("http://etherx.jabber.org/streams"))
}
