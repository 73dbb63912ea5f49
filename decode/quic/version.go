package quic

import "fmt"

// QUIC versions by number (IANA "QUIC Versions" registry and the drafts).
const (
	VersionNegotiation uint32 = 0x00000000 // RFC 9000, 17.2.1: a Version Negotiation packet
	Version1           uint32 = 0x00000001 // RFC 9000
	Version2           uint32 = 0x6b3343cf // RFC 9369, 3.1
)

// Kind is what a version number says about the packets that carry it.
type Kind uint8

const (
	KindUnknown  Kind = iota // not a version this package knows
	KindV1                   // RFC 9000
	KindV2                   // RFC 9369
	KindDraft                // draft-ietf-quic-transport-NN (0xff0000NN): recognised, not decrypted
	KindGoogle               // Google QUIC (Q0NN, T0NN): recognised, not decrypted
	KindMvfst                // Facebook mvfst (0xfaceb00N): recognised, not decrypted
	KindReserved             // RFC 9000, 15: 0x?a?a?a?a, sent to exercise version negotiation
)

// VersionKind classifies a version number.
func VersionKind(v uint32) Kind {
	switch {
	case v == Version1:
		return KindV1
	case v == Version2:
		return KindV2
	case v&0xffffff00 == 0xff000000 && v&0xff != 0:
		return KindDraft
	case v>>8 == 0x513030 || v>>8 == 0x543030, // "Q0" "T0" then two digits
		v>>16 == 0x5130 || v>>16 == 0x5430:
		return KindGoogle
	case v&0xfffffff0 == 0xfaceb000:
		return KindMvfst
	case v&0x0f0f0f0f == 0x0a0a0a0a:
		return KindReserved
	}
	return KindUnknown
}

// Decryptable says whether this package derives Initial keys for v.
func Decryptable(v uint32) bool {
	k := VersionKind(v)
	return k == KindV1 || k == KindV2
}

// VersionName names a version as reports print it: "1", "2",
// "draft-29", "Q050", "T051", "mvfst-1", "reserved-0x1a2a3a4a", or the
// number in hex.
func VersionName(v uint32) string {
	switch VersionKind(v) {
	case KindV1:
		return "1"
	case KindV2:
		return "2"
	case KindDraft:
		return fmt.Sprintf("draft-%d", v&0xff)
	case KindGoogle:
		b := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		for _, c := range b[2:] {
			if c < '0' || c > '9' {
				return fmt.Sprintf("gquic-%#08x", v)
			}
		}
		return string(b[:])
	case KindMvfst:
		return fmt.Sprintf("mvfst-%d", v&0xf)
	case KindReserved:
		return fmt.Sprintf("reserved-%#08x", v)
	}
	if v == VersionNegotiation {
		return "negotiation"
	}
	return fmt.Sprintf("%#08x", v)
}

// Packet types of a long header (RFC 9000, 17.2), independent of how a
// version encodes them.
type PacketType uint8

const (
	TypeInitial PacketType = iota
	Type0RTT
	TypeHandshake
	TypeRetry
	TypeVersionNegotiation
	TypeShort // a 1-RTT packet (short header, RFC 9000, 17.3)
)

var packetTypeNames = [...]string{"initial", "0rtt", "handshake", "retry", "version_negotiation", "1rtt"}

func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) {
		return packetTypeNames[t]
	}
	return "unknown"
}

// packetType reads the long header's two type bits for a version: RFC
// 9000, 17.2 (v1: Initial 0, 0-RTT 1, Handshake 2, Retry 3) and RFC 9369,
// 3.2 (v2: Initial 1, 0-RTT 2, Handshake 3, Retry 0).
func packetType(v uint32, bits uint8) PacketType {
	if v == Version2 {
		return [4]PacketType{TypeRetry, TypeInitial, Type0RTT, TypeHandshake}[bits&3]
	}
	return PacketType(bits & 3)
}

// versionParams are a decryptable version's Initial salt and HKDF labels.
type versionParams struct {
	salt        []byte
	key, iv, hp string
}

// RFC 9001, 5.2 and 5.1; RFC 9369, 3.3.1 and 3.3.2.
var (
	paramsV1 = versionParams{
		salt: []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
			0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
		key: "quic key", iv: "quic iv", hp: "quic hp",
	}
	paramsV2 = versionParams{
		salt: []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
			0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
		key: "quicv2 key", iv: "quicv2 iv", hp: "quicv2 hp",
	}
)

func paramsFor(v uint32) *versionParams {
	switch v {
	case Version1:
		return &paramsV1
	case Version2:
		return &paramsV2
	}
	return nil
}
