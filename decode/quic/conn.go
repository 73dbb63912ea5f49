// Package quic reads the Initial packets of QUIC connections (RFC 9000,
// RFC 9001; version 2, RFC 9369) as a passive observer, without keys:
// long headers, coalesced packets, Initial keys derived from the client's
// first Destination Connection ID, header protection removed, AES-128-GCM
// opened, the frames an Initial carries, and the CRYPTO stream rebuilt and
// split into the handshake messages that decode/tls's state machine reads
// as it reads those of a TCP connection. Retry and Version Negotiation
// packets are recorded; Handshake, 0-RTT and 1-RTT packets are counted,
// never opened (they need the key log). Draft versions, Google QUIC and
// mvfst are recognised by their version number and only counted.
//
// It knows nothing of flows: decode's UDP adapter gives a Conn each
// datagram of a flow and reads its facts (facts.QUICInfo, the tls
// Session). A Conn never panics on input, logs or reads the clock.
//
// # Anomalies
//
//	quic_bad_packet        a long header that does not parse (the rest of the datagram is skipped)
//	quic_decrypt_failed    an Initial packet that does not open with the Initial keys
//	quic_bad_frame         a frame that does not parse (the rest of the packet is skipped)
//	quic_unexpected_frame  a frame type not read in an Initial packet (the rest of the packet is skipped)
//	quic_crypto_limit      CRYPTO data past MaxCryptoStream or with too many holes was dropped (once per direction)
package quic

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// Anomaly kinds, stable snake_case names (meanings in the package comment).
const (
	AnomalyBadPacket       = "quic_bad_packet"
	AnomalyDecryptFailed   = "quic_decrypt_failed"
	AnomalyBadFrame        = "quic_bad_frame"
	AnomalyUnexpectedFrame = "quic_unexpected_frame"
	AnomalyCryptoLimit     = "quic_crypto_limit"
	maxVersionNegotiation  = 64 // versions kept from a Version Negotiation packet
	maxRetries             = 4  // Retry SCIDs kept until the client takes one
)

// AnomalyFunc receives a named anomaly, the direction it was seen in and
// a detail line.
type AnomalyFunc func(kind string, dir tls.Direction, detail string)

// Conn follows one QUIC connection's packets, both directions in capture
// order.
type Conn struct {
	info      *facts.QUICInfo
	h         *tls.Handshake
	onAnomaly AnomalyFunc

	keyDCID []byte // the Initial keys' input: the client's first DCID, or a Retry's SCID
	// retrySCIDs are the SCIDs of the Retry packets seen (a server may
	// answer each of a client's first Initials with one; the client takes
	// one, RFC 9000, 17.2.5.2): the client's Initial to one of them
	// switches the keys to it (retried), once.
	retrySCIDs [][]byte
	retried    bool
	keys       [2]struct {
		version uint32
		k       [2]*initialKeys
	}
	largest [2]int64 // largest Initial packet number opened per direction; -1 for none
	streams [2]cryptoStream
	scratch []byte

	seenLong      [2]bool
	sentHandshake [2]bool // a Handshake packet was sent from this side
	dir           tls.Direction
	ts            time.Time
}

// NewConn returns a Conn that fills info and feeds the handshake messages
// it rebuilds to a tls.Handshake made with lim. onAnomaly may be nil; it
// also receives the handshake machine's anomalies.
func NewConn(info *facts.QUICInfo, lim tls.Limits, onAnomaly AnomalyFunc) *Conn {
	c := &Conn{info: info, onAnomaly: onAnomaly, largest: [2]int64{-1, -1}}
	c.h = tls.NewHandshake(lim, func(kind string, dir tls.Direction, _ int64, detail string) {
		c.anomaly(kind, dir, "%s", detail)
	})
	return c
}

// Session is the TLS handshake's facts.
func (c *Conn) Session() *tls.Session { return c.h.Session() }

// HellosSeen says both hellos have been read: the Initial packets have
// given all they carry.
func (c *Conn) HellosSeen() bool {
	s := c.h.Session()
	return s.ClientHello != nil && s.ServerHello != nil
}

func (c *Conn) anomaly(kind string, dir tls.Direction, format string, args ...any) {
	if c.onAnomaly != nil {
		c.onAnomaly(kind, dir, fmt.Sprintf(format, args...))
	}
}

// Recognise says whether a datagram starts with a QUIC long header of a
// version this package knows (RFC 8999, 5.1), or is a Google QUIC
// (Q043 and older) public header: how a flow is taken for QUIC, by
// content and not by port.
func Recognise(b []byte) bool {
	if IsLong(b) {
		h, _, err := ParseLong(b)
		if h.Version == VersionNegotiation {
			return false // a reply: not how a connection starts
		}
		return VersionKind(h.Version) != KindUnknown && VersionKind(h.Version) != KindReserved &&
			(err == nil || !h.Known) && len(b) >= 7
	}
	// Google QUIC public header (Q043 and before): flags with
	// PUBLIC_FLAG_VERSION (0x01) and an 8-byte connection ID (0x08), then
	// the version.
	if len(b) >= 13 && b[0]&0x09 == 0x09 && b[0]&0x80 == 0 {
		v := uint32(b[9])<<24 | uint32(b[10])<<16 | uint32(b[11])<<8 | uint32(b[12])
		return VersionKind(v) == KindGoogle
	}
	return false
}

// Datagram takes one UDP datagram of the connection (valid only during
// the call: what is kept is copied).
func (c *Conn) Datagram(dir tls.Direction, ts time.Time, b []byte) {
	c.dir, c.ts = dir&1, ts
	dir = c.dir
	info := c.info
	if !IsLong(b) && !c.seenLong[dir] && len(b) >= 13 && b[0]&0x09 == 0x09 {
		// A Google QUIC public header with a version (Q043 and older).
		v := uint32(b[9])<<24 | uint32(b[10])<<16 | uint32(b[11])<<8 | uint32(b[12])
		if VersionKind(v) == KindGoogle {
			c.version(dir, v)
			info.Undecrypted[dir]++
			return
		}
	}
	for len(b) > 0 {
		if !IsLong(b) {
			if b[0]&0x40 != 0 && c.seenLong[dir] {
				info.OneRTT[dir]++ // RFC 9000, 17.3: the rest of the datagram
				c.oneRTT(dir)
			}
			// Otherwise zero padding after coalesced packets, or a
			// Google QUIC packet: nothing to read.
			return
		}
		hdr, rest, err := ParseLong(b)
		if err != nil {
			c.anomaly(AnomalyBadPacket, dir, "%v (version %s)", err, VersionName(hdr.Version))
			return
		}
		c.packet(dir, &hdr)
		b = rest
	}
}

// oneRTT takes a 1-RTT packet. The handshake's Finished messages travel
// in Handshake packets, which need the key log; what the packets show is
// this: a client sends 1-RTT packets only once it has the server's
// Finished and has sent its own (RFC 9001, 4.1.1 and 4.1.2; 0-RTT has its
// own packet type). A client 1-RTT packet after a client Handshake packet,
// with the ServerHello read, is taken as the handshake established, as a
// TCP TLS 1.3 client's first application record after its Finished
// flight is by the machine (Hidden13). This is the one place the guess
// is made for QUIC.
func (c *Conn) oneRTT(dir tls.Direction) {
	s := c.h.Session()
	if dir != tls.ClientToServer || !c.sentHandshake[dir] || s.Established || s.ServerHello == nil {
		return
	}
	s.Established, s.EstablishedAt = true, c.ts
	// The Initial level is over (RFC 9001, 4.9.1: both sides discard its
	// keys): later Initials are only counted, and what was kept to
	// rebuild its CRYPTO streams is let go.
	c.streams, c.scratch = [2]cryptoStream{}, nil
}

// Established says the handshake is taken as established (oneRTT).
func (c *Conn) Established() bool { return c.h.Session().Established }

// version records the version of a side's first long header.
func (c *Conn) version(dir tls.Direction, v uint32) {
	if c.seenLong[dir] {
		return
	}
	c.seenLong[dir] = true
	info := c.info
	switch {
	case dir == tls.ClientToServer && info.VersionName == "":
		info.Version, info.VersionName = v, VersionName(v)
	case dir == tls.ServerToClient && info.VersionName != "" && v != info.Version:
		info.ServerVersion = v
	case dir == tls.ServerToClient && info.VersionName == "":
		info.Version, info.VersionName = v, VersionName(v) // the client's first packet was not captured
	}
}

func (c *Conn) packet(dir tls.Direction, hdr *Header) {
	info := c.info
	if hdr.Type == TypeVersionNegotiation {
		// RFC 9000, 17.2.1: sent by a server, never decrypted.
		if dir == tls.ServerToClient && info.VersionNegotiation == nil {
			n := min(len(hdr.Versions), maxVersionNegotiation)
			info.VersionNegotiation = append(make([]uint32, 0, n), hdr.Versions[:n]...)
		}
		return
	}
	c.version(dir, hdr.Version)
	scid := &info.ClientSCID
	if dir == tls.ServerToClient {
		scid = &info.ServerSCID
	}
	if *scid == nil && hdr.Known && hdr.Type != TypeRetry { // a Retry's SCID is RetrySCID
		*scid = bytes.Clone(hdr.SCID)
		if *scid == nil {
			*scid = []byte{}
		}
	}
	if !hdr.Known {
		info.Undecrypted[dir]++
		return
	}
	switch hdr.Type {
	case TypeInitial:
		info.Initial[dir]++
		c.initial(dir, hdr)
	case Type0RTT:
		info.ZeroRTT[dir]++
	case TypeHandshake:
		info.Handshake[dir]++
		c.sentHandshake[dir] = true
	case TypeRetry:
		// RFC 9000, 17.2.5: the client starts again with the Retry's SCID
		// as its DCID, and the Initial keys come from it (RFC 9001, 5.2).
		if dir == tls.ServerToClient && !c.retried && len(c.retrySCIDs) < maxRetries {
			info.Retry = true
			c.retrySCIDs = append(c.retrySCIDs, bytes.Clone(hdr.SCID))
			if info.RetrySCID == nil {
				info.RetrySCID = c.retrySCIDs[0] // until the client shows which it took
			}
		}
	}
}

func (c *Conn) initial(dir tls.Direction, hdr *Header) {
	info := c.info
	if dir == tls.ClientToServer {
		switch {
		case c.keyDCID == nil:
			c.keyDCID = bytes.Clone(hdr.DCID)
			info.OriginalDCID = c.keyDCID
		case !c.retried && c.retrySCIDs != nil:
			for _, scid := range c.retrySCIDs {
				if bytes.Equal(hdr.DCID, scid) {
					c.keyDCID, c.retried, c.retrySCIDs = scid, true, nil
					info.RetrySCID = scid
					c.keys[0].k, c.keys[1].k = [2]*initialKeys{}, [2]*initialKeys{}
					break
				}
			}
		}
	}
	if c.h.Session().Established {
		return // the Initial level is over (oneRTT)
	}
	if c.keyDCID == nil || !Decryptable(hdr.Version) {
		info.Undecrypted[dir]++ // no client Initial yet, or a draft version
		return
	}
	k, err := c.keysFor(hdr.Version)
	if err != nil {
		info.Undecrypted[dir]++
		c.anomaly(AnomalyDecryptFailed, dir, "deriving Initial keys: %v", err)
		return
	}
	c.scratch = append(c.scratch[:0], hdr.Packet...)
	pn, plain, err := k[dir].open(c.scratch, hdr.PNOffset, c.largest[dir])
	if err != nil {
		info.Undecrypted[dir]++
		c.anomaly(AnomalyDecryptFailed, dir, "Initial packet of %d bytes, version %s: %v", len(hdr.Packet), VersionName(hdr.Version), err)
		return
	}
	info.Decrypted[dir]++
	c.largest[dir] = max(c.largest[dir], pn)
	if err := parseFrames(plain, (*frames)(c)); err != nil {
		kind := AnomalyBadFrame
		var unexpected errUnexpectedFrame
		if errors.As(err, &unexpected) {
			kind = AnomalyUnexpectedFrame
		}
		c.anomaly(kind, dir, "Initial packet %d: %v", pn, err)
	}
}

// keysFor returns the Initial keys of a version from the current key
// DCID, derived at its first use.
func (c *Conn) keysFor(v uint32) ([2]*initialKeys, error) {
	for i := range c.keys {
		if c.keys[i].k[0] != nil && c.keys[i].version == v {
			return c.keys[i].k, nil
		}
	}
	k, err := deriveInitial(v, c.keyDCID)
	if err != nil {
		return k, err
	}
	slot := 0
	if c.keys[0].k[0] != nil {
		slot = 1
	}
	c.keys[slot].version, c.keys[slot].k = v, k
	return k, nil
}

// frames is the Conn as the frame parser's handler.
type frames Conn

func (f *frames) crypto(off uint64, data []byte) {
	c := (*Conn)(f)
	st := &c.streams[c.dir]
	if st.add(off, data) && !st.full {
		st.full = true
		c.anomaly(AnomalyCryptoLimit, c.dir, "CRYPTO data at offset %d (%d bytes) past %d bytes or %d ranges dropped", off, len(data), MaxCryptoStream, maxCryptoRanges)
	}
	for {
		typ, body, moff, ok, tooLong := st.next()
		if tooLong {
			if !st.full {
				st.full = true
				c.anomaly(AnomalyCryptoLimit, c.dir, "%s at CRYPTO offset %d longer than %d bytes: not rebuilt", tls.HandshakeTypeName(typ), moff, MaxCryptoStream)
			}
			return
		}
		if !ok {
			return
		}
		c.h.Message(tls.Message{Type: typ, Body: body, Dir: c.dir, Time: c.ts, Offset: int64(moff)})
	}
}

func (f *frames) close(cl Close) {
	c := (*Conn)(f)
	if c.info.Close == nil {
		c.info.Close = &facts.QUICClose{From: uint8(c.dir), Application: cl.Application, Code: cl.Code, Reason: cl.Reason}
	}
}
