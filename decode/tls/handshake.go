package tls

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// ParseError says which field of which message could not be read, and at
// which byte offset of the message body. An analyzer, unlike an endpoint,
// keeps going after one: it names the problem and reads the rest.
type ParseError struct {
	Msg    string // "ClientHello", "ServerHello", "Certificate", ...
	Field  string // RFC field name: "cipher_suites", "extension server_name", ...
	Offset int    // byte offset in the message body where reading failed
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("tls: %s: bad %s at offset %d", e.Msg, e.Field, e.Offset)
}

// reader wraps a cryptobyte.String with the message name and the whole
// body, so that a failed read becomes a *ParseError with its offset.
type reader struct {
	msg  string
	body []byte
	s    cryptobyte.String
}

func (r *reader) fail(field string) *ParseError {
	return &ParseError{Msg: r.msg, Field: field, Offset: len(r.body) - len(r.s)}
}

// helloRetryRandom is SHA-256("HelloRetryRequest") (RFC 8446, 4.1.3).
var helloRetryRandom = sha256.Sum256([]byte("HelloRetryRequest"))

// ParseClientHello reads a ClientHello body (after the 4-byte handshake
// header; RFC 8446, 4.1.2; RFC 5246, 7.4.1.2). Every byte slice in the
// result is a copy, so body may be reused.
//
// When the fixed fields are unreadable it returns nil and a *ParseError.
// When only an extension is malformed (short, or with bytes left over
// inside it), it returns the ClientHello with every other field filled and
// a *ParseError naming the first such extension ("extension key_share"):
// callers that only need the hello may ignore that error.
func ParseClientHello(body []byte) (*ClientHello, error) {
	r := &reader{msg: "ClientHello", body: body, s: cryptobyte.String(body)}
	ch := &ClientHello{}
	if !r.s.ReadUint16(&ch.LegacyVersion) {
		return nil, r.fail("legacy_version")
	}
	var random, sid []byte
	if !r.s.ReadBytes(&random, 32) {
		return nil, r.fail("random")
	}
	ch.Random = bytes.Clone(random)
	if !readUint8Bytes(&r.s, &sid) || len(sid) > 32 {
		return nil, r.fail("legacy_session_id")
	}
	ch.SessionID = bytes.Clone(sid)
	var suites cryptobyte.String
	if !r.s.ReadUint16LengthPrefixed(&suites) || len(suites)%2 != 0 {
		return nil, r.fail("cipher_suites")
	}
	ch.CipherSuites = make([]uint16, 0, len(suites)/2)
	for !suites.Empty() {
		var v uint16
		suites.ReadUint16(&v)
		ch.CipherSuites = append(ch.CipherSuites, v)
	}
	var comp []byte
	if !readUint8Bytes(&r.s, &comp) {
		return nil, r.fail("legacy_compression_methods")
	}
	ch.CompressionMethods = bytes.Clone(comp)
	if r.s.Empty() {
		return ch, nil // no extensions (SSL 3.0, early TLS)
	}
	if err := r.extensions(&ch.Extensions, ch.parseExtension); err != nil {
		return ch, err
	}
	return ch, nil
}

// namesSignatureAlgorithm says whether a version's digitally-signed
// struct starts with the SignatureAndHashAlgorithm (RFC 5246, 4.7): TLS
// 1.2 and later, and DTLS 1.2 and later (RFC 6347, 4.2: DTLS 1.0 is TLS
// 1.1's, 0xfeff, whose number is above TLS 1.2's).
func namesSignatureAlgorithm(version uint16) bool {
	if version>>8 == 0xfe { // DTLS: 0xfeff 1.0, 0xfefd 1.2, 0xfefc 1.3
		return version <= VersionDTLS12
	}
	return version >= VersionTLS12
}

// quic_transport_parameters (RFC 9001, 8.2), and the code point QUIC
// drafts before version 1 used.
const (
	extQUICTransportParameters      uint16 = 57
	extQUICTransportParametersDraft uint16 = 0xffa5
)

// readChosenALPN reads a server's application_layer_protocol_negotiation
// (ServerHello, EncryptedExtensions): RFC 7301, 3.1, exactly one protocol.
func readChosenALPN(data *cryptobyte.String) (string, bool) {
	var list, proto cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !list.ReadUint8LengthPrefixed(&proto) || !list.Empty() {
		return "", false
	}
	return string(proto), true
}

// ReadQUICVarint reads a QUIC variable-length integer (RFC 9000, 16): the
// transport parameters of a ClientHello, and decode/quic's packets and
// frames.
func ReadQUICVarint(s *cryptobyte.String, out *uint64) bool {
	var b uint8
	if !s.ReadUint8(&b) {
		return false
	}
	v := uint64(b & 0x3f)
	for n := (1 << (b >> 6)) - 1; n > 0; n-- {
		if !s.ReadUint8(&b) {
			return false
		}
		v = v<<8 | uint64(b)
	}
	*out = v
	return true
}

// readUint8Bytes reads a vector with a one-byte length.
func readUint8Bytes(s *cryptobyte.String, out *[]byte) bool {
	var v cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&v) {
		return false
	}
	*out = v
	return true
}

func readUint16List(data *cryptobyte.String, out *[]uint16) bool {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || len(list)%2 != 0 {
		return false
	}
	*out = make([]uint16, 0, len(list)/2)
	for !list.Empty() {
		var v uint16
		list.ReadUint16(&v)
		*out = append(*out, v)
	}
	return true
}

// parseExtension fills the ClientHello field an extension carries. It
// reports false when the extension is short or has bytes left over.
func (ch *ClientHello) parseExtension(typ uint16, data cryptobyte.String) bool {
	switch typ {
	case extServerName:
		// RFC 6066, 3
		if data.Empty() {
			return true
		}
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return false
		}
		for !list.Empty() {
			var nameType uint8
			var name cryptobyte.String
			if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
				return false
			}
			if nameType == 0 && ch.ServerName == "" {
				ch.ServerName = string(name)
			}
		}
	case extStatusRequest:
		// RFC 6066, 8
		ch.StatusRequest = true
		return true // contents not needed
	case extSupportedGroups:
		// RFC 8422, 5.1.1; RFC 8446, 4.2.7
		if !readUint16List(&data, &ch.SupportedGroups) {
			return false
		}
	case extECPointFormats:
		// RFC 8422, 5.1.2
		var f []byte
		if !readUint8Bytes(&data, &f) {
			return false
		}
		ch.ECPointFormats = bytes.Clone(f)
	case extSignatureAlgorithms:
		// RFC 8446, 4.2.3; RFC 5246, 7.4.1.4.1
		if !readUint16List(&data, &ch.SignatureAlgorithms) {
			return false
		}
	case extHeartbeat:
		// RFC 6520, 2
		ch.Heartbeat = true
		var mode uint8
		if !data.ReadUint8(&mode) {
			return false
		}
	case extALPN:
		// RFC 7301, 3.1
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return false
		}
		for !list.Empty() {
			var proto cryptobyte.String
			if !list.ReadUint8LengthPrefixed(&proto) {
				return false
			}
			ch.ALPNProtocols = append(ch.ALPNProtocols, string(proto))
		}
	case extExtendedMasterSecret:
		// RFC 7627, 5.1: empty
		ch.ExtendedMaster = true
	case extSessionTicket:
		// RFC 5077, 3.2: the ticket, or empty to ask for one
		ch.SessionTicket = true
		ch.SessionTicketLen = len(data)
		return true
	case extPreSharedKey:
		// RFC 8446, 4.2.11
		ch.PreSharedKey = true
		var ids, binders cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&ids) || !data.ReadUint16LengthPrefixed(&binders) {
			return false
		}
	case extEarlyData:
		// RFC 8446, 4.2.10: empty in a ClientHello
		ch.EarlyData = true
	case extSupportedVersions:
		// RFC 8446, 4.2.1
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) || len(list)%2 != 0 {
			return false
		}
		ch.SupportedVersions = make([]uint16, 0, len(list)/2)
		for !list.Empty() {
			var v uint16
			list.ReadUint16(&v)
			ch.SupportedVersions = append(ch.SupportedVersions, v)
		}
	case extPSKModes:
		// RFC 8446, 4.2.9
		var m []byte
		if !readUint8Bytes(&data, &m) {
			return false
		}
		ch.PSKModes = bytes.Clone(m)
	case extKeyShare:
		// RFC 8446, 4.2.8: KeyShareClientHello
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return false
		}
		for !list.Empty() {
			var group uint16
			var key cryptobyte.String
			if !list.ReadUint16(&group) || !list.ReadUint16LengthPrefixed(&key) {
				return false
			}
			ch.KeyShareGroups = append(ch.KeyShareGroups, group)
		}
	case extEncryptedClientHello:
		// draft-ietf-tls-esni: the outer hello's payload is opaque here
		ch.EncryptedHello = true
		return true
	case extQUICTransportParameters, extQUICTransportParametersDraft:
		// RFC 9001, 8.2; RFC 9000, 18: a sequence of (id, length, value),
		// id and length variable-length integers (RFC 9000, 16).
		ch.QUICTransportParameters = make([]QUICTransportParameter, 0, 16)
		for !data.Empty() {
			var id, n uint64
			if !ReadQUICVarint(&data, &id) || !ReadQUICVarint(&data, &n) || n > uint64(len(data)) {
				return false
			}
			var v []byte
			data.ReadBytes(&v, int(n))
			ch.QUICTransportParameters = append(ch.QUICTransportParameters, QUICTransportParameter{ID: id, Value: bytes.Clone(v)})
		}
	case extRenegotiationInfo:
		// RFC 5746, 3.2
		ch.RenegotiationInfo = true
		var v []byte
		if !readUint8Bytes(&data, &v) {
			return false
		}
	default:
		return true
	}
	return data.Empty()
}

// ParseServerHello reads a ServerHello body (RFC 8446, 4.1.3; RFC 5246,
// 7.4.1.3). A HelloRetryRequest is a ServerHello with a fixed random and
// comes back with HelloRetryRequest set. As with ParseClientHello, a
// malformed extension gives the ServerHello and a *ParseError naming it.
func ParseServerHello(body []byte) (*ServerHello, error) {
	r := &reader{msg: "ServerHello", body: body, s: cryptobyte.String(body)}
	sh := &ServerHello{}
	if !r.s.ReadUint16(&sh.LegacyVersion) {
		return nil, r.fail("legacy_version")
	}
	var random, sid []byte
	if !r.s.ReadBytes(&random, 32) {
		return nil, r.fail("random")
	}
	sh.Random = bytes.Clone(random)
	sh.HelloRetryRequest = bytes.Equal(random, helloRetryRandom[:])
	if draftHello(sh.LegacyVersion) {
		// The draft chose its version in this field, as TLS 1.2 does.
		if !r.s.ReadUint16(&sh.CipherSuite) {
			return nil, r.fail("cipher_suite")
		}
		if err := r.extensions(&sh.Extensions, sh.parseExtension); err != nil {
			return sh, err
		}
		return sh, nil
	}
	if !readUint8Bytes(&r.s, &sid) || len(sid) > 32 {
		return nil, r.fail("legacy_session_id_echo")
	}
	sh.SessionID = bytes.Clone(sid)
	if !r.s.ReadUint16(&sh.CipherSuite) {
		return nil, r.fail("cipher_suite")
	}
	if !r.s.ReadUint8(&sh.CompressionMethod) {
		return nil, r.fail("legacy_compression_method")
	}
	if r.s.Empty() {
		return sh, nil
	}
	if err := r.extensions(&sh.Extensions, sh.parseExtension); err != nil {
		return sh, err
	}
	return sh, nil
}

func (sh *ServerHello) parseExtension(typ uint16, data cryptobyte.String) bool {
	switch typ {
	case extSupportedVersions:
		// RFC 8446, 4.2.1: selected_version
		if !data.ReadUint16(&sh.SupportedVersion) {
			return false
		}
	case extKeyShare, extKeyShareDraft:
		// RFC 8446, 4.2.8: KeyShareServerHello, or in a HelloRetryRequest
		// only the selected_group
		if !data.ReadUint16(&sh.KeyShareGroup) {
			return false
		}
		if !sh.HelloRetryRequest {
			var key cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&key) {
				return false
			}
		}
	case extPreSharedKey:
		// RFC 8446, 4.2.11: selected_identity
		sh.PreSharedKey = true
		var id uint16
		if !data.ReadUint16(&id) {
			return false
		}
	case extALPN:
		p, ok := readChosenALPN(&data)
		if !ok {
			return false
		}
		sh.ALPNProtocol = p
	case extRenegotiationInfo:
		// RFC 5746, 3.2
		sh.RenegotiationInfo = true
		var v []byte
		if !readUint8Bytes(&data, &v) {
			return false
		}
	case extSessionTicket:
		// RFC 5077, 3.2: empty
		sh.SessionTicket = true
	case extHeartbeat:
		sh.Heartbeat = true
		var mode uint8
		if !data.ReadUint8(&mode) {
			return false
		}
	case extExtendedMasterSecret:
		sh.ExtendedMaster = true
	default:
		return true
	}
	return data.Empty()
}

// CertificateChain is what a Certificate message (TLS 1.2 and older,
// RFC 5246, 7.4.2; TLS 1.3, RFC 8446, 4.4.2) carried.
type CertificateChain struct {
	Certificates []*x509.Certificate // parsed, in wire order
	Errors       int                 // entries crypto/x509 could not parse
	Dropped      int                 // entries over the limits, not parsed

	// TLS 1.3 only (ParseCertificate13): the message's
	// certificate_request_context (empty but for post-handshake client
	// authentication) and the extension types of each parsed
	// certificate's entry (status_request, signed_certificate_timestamp).
	TLS13           bool
	RequestContext  []byte
	EntryExtensions [][]uint16
}

// add parses one certificate of the chain (both Certificate formats),
// unless the chain is already at Limits.MaxChain or the certificate is over
// Limits.MaxCertificate (Dropped); one crypto/x509 cannot parse counts in
// Errors. It reports whether the certificate was added.
func (chain *CertificateChain) add(der []byte, lim Limits) bool {
	if len(chain.Certificates)+chain.Errors >= lim.MaxChain || len(der) > lim.MaxCertificate {
		chain.Dropped++
		return false
	}
	c, err := lim.Certificates.parse(der)
	if err != nil {
		chain.Errors++
		return false
	}
	chain.Certificates = append(chain.Certificates, c)
	return true
}

// ParseCertificate reads a TLS 1.2-style Certificate body: a 24-bit
// length-prefixed list of 24-bit length-prefixed DER certificates. Entries
// past lim.MaxChain or longer than lim.MaxCertificate are counted in
// Dropped and not parsed. The DER is copied before crypto/x509 keeps it;
// with lim.Certificates set, a certificate seen before is shared.
func ParseCertificate(body []byte, lim Limits) (*CertificateChain, error) {
	lim = lim.withDefaults()
	r := &reader{msg: "Certificate", body: body, s: cryptobyte.String(body)}
	var list cryptobyte.String
	if !r.s.ReadUint24LengthPrefixed(&list) {
		return nil, r.fail("certificate_list")
	}
	chain := &CertificateChain{}
	for !list.Empty() {
		var der cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) {
			return chain, &ParseError{Msg: r.msg, Field: "ASN.1Cert", Offset: len(body) - len(r.s) - len(list)}
		}
		chain.add(der, lim)
	}
	if !r.s.Empty() {
		return chain, r.fail("trailing data")
	}
	return chain, nil
}

// ParseServerKeyExchange reads a ServerKeyExchange body (RFC 5246, 7.4.3;
// RFC 8422, 5.4; RFC 4279, 2 and 3; RFC 5489). Its layout depends on the
// negotiated suite's key exchange, and, for the signature, on the
// version: TLS 1.2 names the signature algorithm first.
func ParseServerKeyExchange(body []byte, suite CipherSuite, version uint16) (*KeyExchange, error) {
	r := &reader{msg: "ServerKeyExchange", body: body, s: cryptobyte.String(body)}
	kx := &KeyExchange{}
	signed := suite.Auth != "anon" && suite.Auth != "PSK"
	switch suite.KeyExchange {
	case "ECDHE_PSK", "DHE_PSK", "PSK", "RSA_PSK":
		var hint cryptobyte.String
		if !r.s.ReadUint16LengthPrefixed(&hint) {
			return kx, r.fail("psk_identity_hint")
		}
		signed = false
	}
	switch suite.KeyExchange {
	case "ECDHE", "ECDH", "ECDHE_PSK":
		// ServerECDHParams: ECParameters, ECPoint
		kx.Kind = "ECDHE"
		var curveType uint8
		if !r.s.ReadUint8(&curveType) {
			return kx, r.fail("curve_type")
		}
		switch curveType {
		case 3: // named_curve
			if !r.s.ReadUint16(&kx.NamedGroup) {
				return kx, r.fail("namedcurve")
			}
		case 1, 2: // explicit_prime, explicit_char2 (deprecated by RFC 8422)
			kx.NamedGroup = 0xff00 | uint16(curveType)
			return kx, nil // explicit parameters: not read further
		default:
			return kx, r.fail("curve_type")
		}
		var point cryptobyte.String
		if !r.s.ReadUint8LengthPrefixed(&point) || len(point) == 0 {
			return kx, r.fail("public")
		}
		kx.PublicKeyBits = 8 * len(point)
	case "DHE", "DH", "DHE_PSK":
		// ServerDHParams: dh_p, dh_g, dh_Ys
		kx.Kind = "DHE"
		var p, g, ys cryptobyte.String
		if !r.s.ReadUint16LengthPrefixed(&p) || len(p) == 0 {
			return kx, r.fail("dh_p")
		}
		if !r.s.ReadUint16LengthPrefixed(&g) || len(g) == 0 {
			return kx, r.fail("dh_g")
		}
		if !r.s.ReadUint16LengthPrefixed(&ys) || len(ys) == 0 {
			return kx, r.fail("dh_Ys")
		}
		kx.DHPrimeBits, kx.PublicKeyBits = bitLen(p), bitLen(ys)
	case "RSA":
		// RFC 4346, 7.4.3: ServerRSAParams, sent only for export suites
		// (or a key longer than 512 bits with one).
		kx.Kind = "RSA"
		var mod, exp cryptobyte.String
		if !r.s.ReadUint16LengthPrefixed(&mod) || len(mod) == 0 {
			return kx, r.fail("rsa_modulus")
		}
		if !r.s.ReadUint16LengthPrefixed(&exp) || len(exp) == 0 {
			return kx, r.fail("rsa_exponent")
		}
		kx.PublicKeyBits = bitLen(mod)
	case "PSK", "RSA_PSK":
		kx.Kind = "PSK"
		signed = false
	default:
		return kx, r.fail("key exchange " + suite.KeyExchange)
	}
	if !signed {
		if !r.s.Empty() {
			return kx, r.fail("trailing data")
		}
		return kx, nil
	}
	// digitally-signed struct (RFC 5246, 4.7)
	if namesSignatureAlgorithm(version) {
		if !r.s.ReadUint16(&kx.SignatureAlgorithm) {
			return kx, r.fail("signature_algorithm")
		}
	}
	var sig cryptobyte.String
	if !r.s.ReadUint16LengthPrefixed(&sig) {
		return kx, r.fail("signature")
	}
	if !r.s.Empty() {
		return kx, r.fail("trailing data")
	}
	return kx, nil
}

// bitLen is the length in bits of a big-endian unsigned integer.
func bitLen(b []byte) int {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0
	}
	n := 8 * (len(b) - 1)
	for v := b[0]; v != 0; v >>= 1 {
		n++
	}
	return n
}

// ParseSSLv2ClientHello reads an SSLv2 CLIENT-HELLO message (the bytes
// after the 2-byte record header, starting with msg_type 1), the form
// RFC 5246, E.2 lets TLS clients send. Cipher kinds whose first byte is
// zero are TLS suites and go to CipherSuites, as tshark and JA3 do; the
// others are counted in SSLv2OnlyKinds.
func ParseSSLv2ClientHello(msg []byte) (*ClientHello, error) {
	r := &reader{msg: "SSLv2 ClientHello", body: msg, s: cryptobyte.String(msg)}
	var typ uint8
	if !r.s.ReadUint8(&typ) || typ != 1 {
		return nil, r.fail("msg_type")
	}
	ch := &ClientHello{SSLv2: true}
	var specLen, sidLen, chalLen uint16
	if !r.s.ReadUint16(&ch.LegacyVersion) {
		return nil, r.fail("version")
	}
	if !r.s.ReadUint16(&specLen) || specLen%3 != 0 {
		return nil, r.fail("cipher_spec_length")
	}
	if !r.s.ReadUint16(&sidLen) || sidLen > 32 {
		return nil, r.fail("session_id_length")
	}
	if !r.s.ReadUint16(&chalLen) || chalLen < 16 || chalLen > 32 {
		return nil, r.fail("challenge_length")
	}
	var specs, sid, chal []byte
	if !r.s.ReadBytes(&specs, int(specLen)) {
		return nil, r.fail("cipher_specs")
	}
	if !r.s.ReadBytes(&sid, int(sidLen)) {
		return nil, r.fail("session_id")
	}
	if !r.s.ReadBytes(&chal, int(chalLen)) {
		return nil, r.fail("challenge")
	}
	for i := 0; i+3 <= len(specs); i += 3 {
		k := uint32(specs[i])<<16 | uint32(specs[i+1])<<8 | uint32(specs[i+2])
		ch.SSLv2CipherKinds = append(ch.SSLv2CipherKinds, k)
		if specs[i] == 0 {
			ch.CipherSuites = append(ch.CipherSuites, uint16(k))
		} else {
			ch.SSLv2OnlyKinds++
		}
	}
	ch.SessionID = bytes.Clone(sid)
	// RFC 5246, E.2: the challenge is the ClientHello.random, right
	// aligned in 32 bytes.
	ch.Random = make([]byte, 32)
	copy(ch.Random[32-len(chal):], chal)
	ch.CompressionMethods = []uint8{0}
	if !r.s.Empty() {
		return ch, r.fail("trailing data")
	}
	return ch, nil
}

// parseSSLv2ServerHello reads an SSLv2 SERVER-HELLO (msg_type 4) far
// enough to recognise it, and returns the server's certificate if it
// parses.
func parseSSLv2ServerHello(msg []byte, lim Limits) (sh *ServerHello, cert []byte, err error) {
	r := &reader{msg: "SSLv2 ServerHello", body: msg, s: cryptobyte.String(msg)}
	var typ, hit, certType uint8
	var version, certLen, specLen, idLen uint16
	if !r.s.ReadUint8(&typ) || typ != 4 {
		return nil, nil, r.fail("msg_type")
	}
	if !r.s.ReadUint8(&hit) || !r.s.ReadUint8(&certType) {
		return nil, nil, r.fail("session_id_hit")
	}
	if !r.s.ReadUint16(&version) {
		return nil, nil, r.fail("server_version")
	}
	if !r.s.ReadUint16(&certLen) || !r.s.ReadUint16(&specLen) || !r.s.ReadUint16(&idLen) {
		return nil, nil, r.fail("lengths")
	}
	sh = &ServerHello{LegacyVersion: VersionSSL20, SSLv2SessionHit: hit != 0}
	var c []byte
	if !r.s.ReadBytes(&c, int(certLen)) {
		return sh, nil, r.fail("certificate")
	}
	var specs []byte
	if !r.s.ReadBytes(&specs, int(specLen)) {
		return sh, c, r.fail("cipher_specs")
	}
	if len(specs) >= 3 {
		sh.SSLv2CipherKind = uint32(specs[0])<<16 | uint32(specs[1])<<8 | uint32(specs[2])
	}
	return sh, c, nil
}

// extensions reads an extensions block (RFC 8446, 4.2), keeping every type
// in wire order and handing each body to parse. A malformed extension does
// not stop the others: the first problem is returned once all are read.
func (r *reader) extensions(types *[]uint16, parse func(typ uint16, data cryptobyte.String) bool) *ParseError {
	var exts cryptobyte.String
	if !r.s.ReadUint16LengthPrefixed(&exts) {
		return r.fail("extensions")
	}
	var first *ParseError
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		off := len(r.body) - len(r.s) - len(exts) // where this extension starts
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			if first == nil {
				first = &ParseError{Msg: r.msg, Field: "extensions", Offset: off}
			}
			break
		}
		*types = append(*types, typ)
		if !parse(typ, data) && first == nil {
			first = &ParseError{Msg: r.msg, Field: "extension " + ExtensionName(typ), Offset: off}
		}
	}
	if !r.s.Empty() && first == nil {
		first = r.fail("trailing data")
	}
	return first
}
