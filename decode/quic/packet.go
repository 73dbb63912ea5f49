package quic

import (
	"errors"
	"github.com/tlsscope/tlsscope/decode/tls"

	"golang.org/x/crypto/cryptobyte"
)

// maxCIDLen is the longest connection ID of QUIC versions 1 and 2 (RFC
// 9000, 17.2: a longer one makes the packet invalid; RFC 8999 allows 255
// in other versions).
const maxCIDLen = 20

// retryTagLen is the Retry Integrity Tag (RFC 9000, 17.2.5; RFC 9001, 5.8).
const retryTagLen = 16

var (
	errTruncated = errors.New("long header truncated")
	errCIDLen    = errors.New("connection ID longer than 20 bytes")
	errFixedBit  = errors.New("fixed bit not set")
	errLength    = errors.New("Length past the end of the datagram")
	errVNList    = errors.New("Version Negotiation list not a multiple of 4 bytes")
	errRetry     = errors.New("Retry shorter than its integrity tag")
)

// Header is one long-header packet (RFC 9000, 17.2; RFC 8999, 5.1). Its
// slices point into the datagram it was read from.
type Header struct {
	First   byte // the first byte as on the wire (header protection not removed)
	Version uint32
	Type    PacketType // meaningful when Known
	// Known: the version is one whose packet types and Length field this
	// package reads (1, 2 and the drafts); for others only the invariant
	// fields (Version, DCID, SCID) are read and the packet is taken to
	// run to the end of the datagram.
	Known      bool
	DCID, SCID []byte
	Token      []byte   // Initial: the token; Retry: the Retry Token
	Versions   []uint32 // Version Negotiation: the versions offered
	// PNOffset is where the packet number starts in Packet, for Initial,
	// 0-RTT and Handshake packets; Packet runs to the end of the Length
	// field's span (RFC 9000, 17.2: Length covers packet number and
	// payload).
	PNOffset int
	Packet   []byte
}

// readVarint reads a variable-length integer (RFC 9000, 16), as the
// ClientHello's transport parameters do.
func readVarint(s *cryptobyte.String, out *uint64) bool { return tls.ReadQUICVarint(s, out) }

// IsLong says whether a packet starts with a long header (RFC 8999, 5.1).
func IsLong(b []byte) bool { return len(b) > 0 && b[0]&0x80 != 0 }

// ParseLong reads the long-header packet at the start of b and returns it
// and what follows it in the datagram (the next coalesced packet, RFC
// 9000, 12.2). A packet whose version is not Known, a Retry and a Version
// Negotiation packet take the rest of the datagram.
func ParseLong(b []byte) (Header, []byte, error) {
	var h Header
	s := cryptobyte.String(b)
	var dcid, scid []byte
	if !s.ReadUint8(&h.First) || !s.ReadUint32(&h.Version) ||
		!readUint8Bytes(&s, &dcid) || !readUint8Bytes(&s, &scid) {
		return h, nil, errTruncated
	}
	h.DCID, h.SCID = dcid, scid
	if h.Version == VersionNegotiation {
		// RFC 9000, 17.2.1
		h.Type, h.Known = TypeVersionNegotiation, true
		if len(s)%4 != 0 {
			return h, nil, errVNList
		}
		for !s.Empty() {
			var v uint32
			s.ReadUint32(&v)
			h.Versions = append(h.Versions, v)
		}
		h.Packet = b
		return h, nil, nil
	}
	k := VersionKind(h.Version)
	if k != KindV1 && k != KindV2 && k != KindDraft {
		h.Packet = b
		return h, nil, nil
	}
	h.Known = true
	if len(dcid) > maxCIDLen || len(scid) > maxCIDLen {
		return h, nil, errCIDLen
	}
	if h.First&0x40 == 0 {
		return h, nil, errFixedBit
	}
	h.Type = packetType(h.Version, h.First>>4)
	if h.Type == TypeRetry {
		// RFC 9000, 17.2.5: Retry Token then the 16-byte integrity tag.
		if len(s) < retryTagLen {
			return h, nil, errRetry
		}
		h.Token = s[:len(s)-retryTagLen]
		h.Packet = b
		return h, nil, nil
	}
	if h.Type == TypeInitial {
		var tok cryptobyte.String
		var n uint64
		if !readVarint(&s, &n) || n > uint64(len(s)) || !s.ReadBytes((*[]byte)(&tok), int(n)) {
			return h, nil, errTruncated
		}
		h.Token = tok
	}
	var length uint64
	if !readVarint(&s, &length) {
		return h, nil, errTruncated
	}
	if length > uint64(len(s)) {
		return h, nil, errLength
	}
	h.PNOffset = len(b) - len(s)
	end := h.PNOffset + int(length)
	h.Packet = b[:end]
	return h, b[end:], nil
}

func readUint8Bytes(s *cryptobyte.String, out *[]byte) bool {
	var v cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&v) {
		return false
	}
	*out = v
	return true
}
