package certs

import (
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// attributeNames are the short names RFC 4514, 3 lists (plus DC and UID,
// RFC 4519), exactly the set python-cryptography's rfc4514_string uses,
// so our strings equal the corpus oracle's. Other types print as dotted
// OIDs.
var attributeNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.6":                    "C",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

// Name formats a DER Name (a certificate's RawSubject or RawIssuer) as an
// RFC 4514 string: RDNs from the last to the first, attributes of a
// multi-valued RDN joined by "+" in wire order, values escaped as RFC
// 4514, 2.4 says. It reads the DER itself rather than going through
// pkix.Name.String, which reorders attributes and prints string values of
// unnamed types as hex. A Name it cannot read prints as "#" and its hex.
func Name(der []byte) string {
	var rdns []string
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return "#" + hex.EncodeToString(der)
	}
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) {
			return "#" + hex.EncodeToString(der)
		}
		var atvs []string
		for !set.Empty() {
			var atv cryptobyte.String
			var oid asn1.ObjectIdentifier
			var val cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) ||
				!atv.ReadASN1ObjectIdentifier(&oid) ||
				!atv.ReadAnyASN1Element(&val, &tag) || !atv.Empty() {
				return "#" + hex.EncodeToString(der)
			}
			typ := oid.String()
			if n, ok := attributeNames[typ]; ok {
				typ = n
			}
			atvs = append(atvs, typ+"="+attributeValue(val, tag))
		}
		rdns = append(rdns, strings.Join(atvs, "+"))
	}
	for i, j := 0, len(rdns)-1; i < j; i, j = i+1, j-1 {
		rdns[i], rdns[j] = rdns[j], rdns[i]
	}
	return strings.Join(rdns, ",")
}

// attributeValue decodes a directory string and escapes it; other types
// print as "#" and the hex of their DER (RFC 4514, 2.4).
func attributeValue(elem cryptobyte.String, tag cbasn1.Tag) string {
	full := []byte(elem)
	var body cryptobyte.String
	if !elem.ReadAnyASN1(&body, &tag) {
		return "#" + hex.EncodeToString(full)
	}
	var s string
	switch tag {
	case cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String,
		cbasn1.Tag(18), // NumericString
		cbasn1.Tag(26): // VisibleString
		s = string(body)
	case cbasn1.T61String:
		// Read as Latin-1, as python-cryptography and OpenSSL do in
		// practice; T.61's own repertoire is never what CAs meant.
		if utf8.Valid(body) {
			s = string(body)
		} else {
			r := make([]rune, len(body))
			for i, b := range body {
				r[i] = rune(b)
			}
			s = string(r)
		}
	case cbasn1.Tag(30): // BMPString, UCS-2 big-endian
		if len(body)%2 != 0 {
			return "#" + hex.EncodeToString(full)
		}
		u := make([]uint16, len(body)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(body[2*i:])
		}
		s = string(utf16.Decode(u))
	case cbasn1.Tag(28): // UniversalString, UCS-4 big-endian
		if len(body)%4 != 0 {
			return "#" + hex.EncodeToString(full)
		}
		r := make([]rune, len(body)/4)
		for i := range r {
			r[i] = rune(binary.BigEndian.Uint32(body[4*i:]))
		}
		s = string(r)
	case cbasn1.BIT_STRING:
		// x500UniqueIdentifier: python-cryptography prints the bits'
		// bytes after the unused-bits octet.
		if len(body) > 0 {
			return "#" + hex.EncodeToString(body[1:])
		}
		return "#" + hex.EncodeToString(full)
	default:
		return "#" + hex.EncodeToString(full)
	}
	return escapeValue(s)
}

// escapeValue applies RFC 4514, 2.4 in the form python-cryptography uses.
func escapeValue(v string) string {
	if v == "" {
		return ""
	}
	var b strings.Builder
	for _, r := range v {
		switch r {
		case '\\', '"', '+', ',', ';', '<', '>':
			b.WriteByte('\\')
			b.WriteRune(r)
		case 0:
			b.WriteString(`\00`)
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s[0] == '#' || s[0] == ' ' {
		s = `\` + s
	}
	if s[len(s)-1] == ' ' {
		s = s[:len(s)-1] + `\ `
	}
	return s
}
