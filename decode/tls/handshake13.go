package tls

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"github.com/andybalholm/brotli"
	"golang.org/x/crypto/cryptobyte"
)

// Extensions read only in the messages TLS 1.3 encrypts.
const (
	extMaxFragmentLength uint16 = 1
	extRecordSizeLimit   uint16 = 28
)

// EncryptedExtensions is what a TLS 1.3 server's EncryptedExtensions
// carried (RFC 8446, 4.3.1): the extensions that are not needed to set up
// the keys. Only a decrypted handshake shows it.
type EncryptedExtensions struct {
	Extensions []uint16 // types in wire order

	ALPNProtocol      string   // application_layer_protocol_negotiation (RFC 7301, 3.1)
	ServerNameAck     bool     // server_name, empty: the server used the client's SNI (RFC 6066, 3)
	EarlyData         bool     // early_data: the server accepted 0-RTT data (RFC 8446, 4.2.10)
	SupportedGroups   []uint16 // supported_groups: the server's preference (RFC 8446, 4.2.7)
	MaxFragmentLength uint8    // max_fragment_length (RFC 6066, 4), 0 when absent
	RecordSizeLimit   uint16   // record_size_limit (RFC 8449), 0 when absent
}

// ParseEncryptedExtensions reads an EncryptedExtensions body. As with
// ParseServerHello, a malformed extension gives the message with every
// other field filled and a *ParseError naming it.
func ParseEncryptedExtensions(body []byte) (*EncryptedExtensions, error) {
	r := &reader{msg: "EncryptedExtensions", body: body, s: cryptobyte.String(body)}
	ee := &EncryptedExtensions{}
	if err := r.extensions(&ee.Extensions, ee.parseExtension); err != nil {
		if err.Field == "extensions" && err.Offset == 0 {
			return nil, err
		}
		return ee, err
	}
	return ee, nil
}

func (ee *EncryptedExtensions) parseExtension(typ uint16, data cryptobyte.String) bool {
	switch typ {
	case extALPN:
		p, ok := readChosenALPN(&data)
		if !ok {
			return false
		}
		ee.ALPNProtocol = p
	case extServerName:
		// RFC 6066, 3: empty in the server's answer
		ee.ServerNameAck = true
	case extEarlyData:
		// RFC 8446, 4.2.10: empty in EncryptedExtensions
		ee.EarlyData = true
	case extSupportedGroups:
		if !readUint16List(&data, &ee.SupportedGroups) {
			return false
		}
	case extMaxFragmentLength:
		if !data.ReadUint8(&ee.MaxFragmentLength) {
			return false
		}
	case extRecordSizeLimit:
		if !data.ReadUint16(&ee.RecordSizeLimit) {
			return false
		}
	default:
		return true
	}
	return data.Empty()
}

// ParseCertificate13 reads a TLS 1.3 Certificate body (RFC 8446, 4.4.2):
// the certificate_request_context, then a 24-bit length-prefixed list of
// CertificateEntry, each an X.509 certificate and its extensions
// (status_request's OCSP response, signed_certificate_timestamp). Entries
// are parsed and limited as ParseCertificate does; each entry's extension
// types are kept in EntryExtensions.
func ParseCertificate13(body []byte, lim Limits) (*CertificateChain, error) {
	lim = lim.withDefaults()
	r := &reader{msg: "Certificate", body: body, s: cryptobyte.String(body)}
	var ctx, list cryptobyte.String
	if !r.s.ReadUint8LengthPrefixed(&ctx) {
		return nil, r.fail("certificate_request_context")
	}
	if !r.s.ReadUint24LengthPrefixed(&list) {
		return nil, r.fail("certificate_list")
	}
	chain := &CertificateChain{RequestContext: bytes.Clone(ctx), TLS13: true}
	for !list.Empty() {
		var der, exts cryptobyte.String
		at := len(body) - len(r.s) - len(list)
		if !list.ReadUint24LengthPrefixed(&der) {
			return chain, &ParseError{Msg: r.msg, Field: "cert_data", Offset: at}
		}
		if !list.ReadUint16LengthPrefixed(&exts) {
			return chain, &ParseError{Msg: r.msg, Field: "extensions", Offset: at}
		}
		var types []uint16
		for !exts.Empty() {
			var typ uint16
			var data cryptobyte.String
			if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
				return chain, &ParseError{Msg: r.msg, Field: "extensions", Offset: at}
			}
			types = append(types, typ)
		}
		if chain.add(der, lim) {
			chain.EntryExtensions = append(chain.EntryExtensions, types)
		}
	}
	if !r.s.Empty() {
		return chain, r.fail("trailing data")
	}
	return chain, nil
}

// ParseCertificateVerify reads a TLS 1.3 CertificateVerify body (RFC 8446,
// 4.4.3): the signature scheme and the signature, which is not checked
// (the transcript it signs is not kept).
func ParseCertificateVerify(body []byte) (scheme uint16, err error) {
	r := &reader{msg: "CertificateVerify", body: body, s: cryptobyte.String(body)}
	var sig cryptobyte.String
	if !r.s.ReadUint16(&scheme) {
		return 0, r.fail("algorithm")
	}
	if !r.s.ReadUint16LengthPrefixed(&sig) {
		return scheme, r.fail("signature")
	}
	if !r.s.Empty() {
		return scheme, r.fail("trailing data")
	}
	return scheme, nil
}

// ParseKeyUpdate reads a KeyUpdate body (RFC 8446, 4.6.3): whether the
// sender asks its peer to update its keys too.
func ParseKeyUpdate(body []byte) (requested bool, err error) {
	r := &reader{msg: "KeyUpdate", body: body, s: cryptobyte.String(body)}
	var v uint8
	if !r.s.ReadUint8(&v) || v > 1 {
		return false, r.fail("request_update")
	}
	if !r.s.Empty() {
		return v == 1, r.fail("trailing data")
	}
	return v == 1, nil
}

// NewSessionTicket13 is what a TLS 1.3 NewSessionTicket carried (RFC 8446,
// 4.6.1); the ticket itself is opaque and not kept.
type NewSessionTicket13 struct {
	Lifetime     uint32 // ticket_lifetime, seconds
	TicketLen    int
	MaxEarlyData uint32 // early_data extension: max_early_data_size, 0 when absent
}

// ParseNewSessionTicket13 reads a TLS 1.3 NewSessionTicket body.
func ParseNewSessionTicket13(body []byte) (*NewSessionTicket13, error) {
	r := &reader{msg: "NewSessionTicket", body: body, s: cryptobyte.String(body)}
	t := &NewSessionTicket13{}
	var ageAdd uint32
	var nonce, ticket cryptobyte.String
	if !r.s.ReadUint32(&t.Lifetime) || !r.s.ReadUint32(&ageAdd) {
		return nil, r.fail("ticket_lifetime")
	}
	if !r.s.ReadUint8LengthPrefixed(&nonce) {
		return nil, r.fail("ticket_nonce")
	}
	if !r.s.ReadUint16LengthPrefixed(&ticket) || len(ticket) == 0 {
		return nil, r.fail("ticket")
	}
	t.TicketLen = len(ticket)
	var types []uint16
	err := r.extensions(&types, func(typ uint16, data cryptobyte.String) bool {
		if typ == extEarlyData {
			return data.ReadUint32(&t.MaxEarlyData) && data.Empty()
		}
		return true
	})
	if err != nil {
		return t, err
	}
	return t, nil
}

// Certificate compression algorithms (RFC 8879, 7.3).
const (
	CertCompressionZlib   uint16 = 1
	CertCompressionBrotli uint16 = 2
	CertCompressionZstd   uint16 = 3
)

// ErrCompression says a CompressedCertificate's algorithm is not one
// this package decompresses (zstd).
var ErrCompression = errors.New("certificate compression algorithm not supported")

// DecompressCertificate reads a CompressedCertificate body (RFC 8879, 4)
// and returns the Certificate message body it stands for, at most max
// bytes: zlib (RFC 1950) and brotli (RFC 7932); zstd is ErrCompression.
// A body whose uncompressed_length is over max, or that does not
// decompress to exactly uncompressed_length bytes, is a *ParseError.
func DecompressCertificate(body []byte, max int) (algorithm uint16, cert []byte, err error) {
	r := &reader{msg: "CompressedCertificate", body: body, s: cryptobyte.String(body)}
	var n uint32
	var data cryptobyte.String
	if !r.s.ReadUint16(&algorithm) {
		return 0, nil, r.fail("algorithm")
	}
	if !r.s.ReadUint24(&n) || n == 0 || int(n) > max {
		return algorithm, nil, r.fail("uncompressed_length")
	}
	if !r.s.ReadUint24LengthPrefixed(&data) || len(data) == 0 || !r.s.Empty() {
		return algorithm, nil, r.fail("compressed_certificate_message")
	}
	var zr io.Reader
	switch algorithm {
	case CertCompressionZlib:
		z, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return algorithm, nil, r.fail("compressed_certificate_message (zlib)")
		}
		defer z.Close()
		zr = z
	case CertCompressionBrotli:
		zr = brotli.NewReader(bytes.NewReader(data))
	default:
		return algorithm, nil, fmt.Errorf("%w: %d", ErrCompression, algorithm)
	}
	// One byte more than announced tells a longer stream from an exact one.
	out := make([]byte, n+1)
	got, err := io.ReadFull(zr, out)
	if got != int(n) || err != io.ErrUnexpectedEOF && err != io.EOF {
		return algorithm, nil, &ParseError{Msg: r.msg, Field: fmt.Sprintf("compressed_certificate_message (%d bytes decompressed, %d announced)", got, n), Offset: 5}
	}
	return algorithm, out[:n], nil
}
