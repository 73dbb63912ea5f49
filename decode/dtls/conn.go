// Package dtls reads DTLS 1.0 and 1.2 (RFC 4347, RFC 6347) as a passive
// observer: the records of each datagram (epochs and sequence numbers),
// handshake message fragments rebuilt by message_seq, fragment_offset and
// fragment_length (out of order, retransmitted, overlapping), and the
// rebuilt messages fed to decode/tls's handshake state machine as a TCP
// connection's are. A HelloVerifyRequest's cookie exchange leaves the
// second ClientHello as the one that counts. DTLS 1.3 (RFC 9147) records
// with the unified header are counted, not read; its ClientHello, in a
// DTLSPlaintext record, is.
//
// It knows nothing of flows: decode's UDP adapter gives a Conn each
// datagram. It never panics on input, logs or reads the clock.
//
// # Anomalies
//
//	dtls_bad_record          a record header or handshake fragment header that does not parse (the rest of the datagram is skipped)
//	dtls_handshake_too_long  a handshake message over MaxMessage: not rebuilt
//	dtls_reassembly_limit    more than maxPending messages waiting for fragments: the newest is dropped (once per direction)
package dtls

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// Record content types (RFC 6347, 4.1; RFC 5246, 6.2.1).
const (
	contentChangeCipherSpec = 20
	contentAlert            = 21
	contentHandshake        = 22
	contentApplicationData  = 23
	contentHeartbeat        = 24

	typeHelloVerifyRequest = 3 // RFC 6347, 4.3.2
)

// Caps on a direction's handshake reassembly, enforced in
// (*Conn).fragment.
const (
	// MaxMessage is the longest handshake message rebuilt (a certificate
	// chain fits); a longer one is dtls_handshake_too_long.
	MaxMessage = 64 << 10
	// maxPending is how many messages may wait for their fragments.
	maxPending = 16
)

// Anomaly kinds, stable snake_case names (meanings in the package comment).
const (
	AnomalyBadRecord        = "dtls_bad_record"
	AnomalyHandshakeTooLong = "dtls_handshake_too_long"
	AnomalyReassemblyLimit  = "dtls_reassembly_limit"
)

// AnomalyFunc receives a named anomaly, its direction and a detail line.
type AnomalyFunc func(kind string, dir tls.Direction, detail string)

// message is a handshake message being rebuilt from its fragments.
type message struct {
	seq    uint16
	typ    uint8
	body   []byte
	have   []span // received ranges of body: sorted, disjoint, not touching
	filled int
}

type span struct{ start, end int }

// side is one direction's handshake reassembly.
type side struct {
	next    uint16 // message_seq of the next message to hand on
	pending []*message
	full    bool // maxPending hit (reported once)
	started bool // a handshake fragment was seen: next is set
}

// Conn follows one DTLS association, both directions in capture order.
type Conn struct {
	h         *tls.Handshake
	onAnomaly AnomalyFunc
	sides     [2]side
	dir       tls.Direction
	ts        time.Time

	// Records seen, per direction (Records), and of them those in an
	// epoch above 0 (Protected): the association's traffic beyond the
	// handshake.
	Records, Protected [2]uint64
	// DTLS13 counts records with DTLS 1.3's unified header (RFC 9147,
	// 4), never opened.
	DTLS13 [2]uint64
	// HelloVerifyRequest: the server asked for a cookie (RFC 6347,
	// 4.2.1); CookieSent: a ClientHello carried one. ClientHellos counts
	// the ClientHellos read (the last is the Session's).
	HelloVerifyRequest, CookieSent bool
	ClientHellos                   int
}

// NewConn returns a Conn that feeds the handshake messages it rebuilds to
// a tls.Handshake made with lim. onAnomaly may be nil; it also receives
// the machine's anomalies.
func NewConn(lim tls.Limits, onAnomaly AnomalyFunc) *Conn {
	c := &Conn{onAnomaly: onAnomaly}
	c.h = tls.NewHandshake(lim, func(kind string, dir tls.Direction, _ int64, detail string) {
		c.anomaly(kind, dir, "%s", detail)
	})
	return c
}

// Session is the handshake's facts.
func (c *Conn) Session() *tls.Session { return c.h.Session() }

func (c *Conn) anomaly(kind string, dir tls.Direction, format string, args ...any) {
	if c.onAnomaly != nil {
		c.onAnomaly(kind, dir, fmt.Sprintf(format, args...))
	}
}

// knownVersion: DTLS 1.0 (0xfeff), 1.2 (0xfefd), 1.3's legacy 0xfefc,
// and OpenSSL's pre-standard 0x0100.
func knownVersion(v uint16) bool {
	return v == tls.VersionDTLS10 || v == tls.VersionDTLS12 || v == tls.VersionDTLS13 || v == 0x0100
}

// Recognise says whether a datagram starts with a DTLS handshake record
// in epoch 0 carrying a ClientHello fragment (RFC 6347, 4.1 and 4.2.2):
// how a flow is taken for DTLS, by content and not by port.
func Recognise(b []byte) bool {
	s := cryptobyte.String(b)
	var typ, msg uint8
	var version, epoch uint16
	var frag cryptobyte.String
	return s.ReadUint8(&typ) && typ == contentHandshake && s.ReadUint16(&version) && knownVersion(version) &&
		s.ReadUint16(&epoch) && epoch == 0 && s.Skip(6) && s.ReadUint16LengthPrefixed(&frag) &&
		frag.ReadUint8(&msg) && msg == tls.TypeClientHello
}

// Datagram takes one UDP datagram (valid only during the call).
func (c *Conn) Datagram(dir tls.Direction, ts time.Time, b []byte) {
	c.dir, c.ts = dir&1, ts
	dir = c.dir
	s := cryptobyte.String(b)
	for !s.Empty() {
		if s[0]&0xe0 == 0x20 {
			// RFC 9147, 4: a DTLS 1.3 ciphertext with the unified header;
			// its length field is optional, so it runs to the end.
			c.DTLS13[dir]++
			c.Records[dir]++
			return
		}
		var typ uint8
		var version, epoch uint16
		var seq []byte
		var frag cryptobyte.String
		if !s.ReadUint8(&typ) || !s.ReadUint16(&version) || !s.ReadUint16(&epoch) ||
			!s.ReadBytes(&seq, 6) || !s.ReadUint16LengthPrefixed(&frag) {
			c.anomaly(AnomalyBadRecord, dir, "record header cut at %d bytes into the datagram", len(b)-len(s))
			return
		}
		if !knownVersion(version) {
			c.anomaly(AnomalyBadRecord, dir, "record version %#04x", version)
			return
		}
		c.Records[dir]++
		if epoch > 0 {
			c.Protected[dir]++
		}
		c.record(dir, typ, epoch, frag)
	}
}

// record handles one record's fragment (RFC 6347, 4.1). The machine is
// fed the handshake messages; what it learns from the other records over
// TCP (ChangeCipherSpec, alerts, protected records) it cannot be told
// from outside decode/tls, so this Conn records those steps in the
// Session itself, by the rules the machine applies to TLS 1.2 records
// (RFC 5246, 7.4.9: the first protected handshake record of each side is
// its Finished; both Finished make the handshake established).
func (c *Conn) record(dir tls.Direction, typ uint8, epoch uint16, frag []byte) {
	s := c.h.Session()
	switch typ {
	case contentHandshake:
		if epoch > 0 {
			if !s.Finished[dir] {
				s.Finished[dir] = true
				if s.Finished[0] && s.Finished[1] && !s.Established {
					s.Established, s.EstablishedAt = true, c.ts
				}
			}
			return
		}
		c.handshake(dir, frag)
	case contentChangeCipherSpec:
		s.ChangeCipherSpec[dir] = true
	case contentAlert:
		if len(s.Alerts) >= tls.MaxAlerts { // as the machine caps them (tls_alerts_limit)
			return
		}
		if epoch == 0 && len(frag) == 2 {
			s.Alerts = append(s.Alerts, tls.Alert{From: dir, Level: frag[0], Description: frag[1], Time: c.ts})
		} else {
			s.Alerts = append(s.Alerts, tls.Alert{From: dir, Encrypted: true, Time: c.ts})
		}
	case contentApplicationData:
		s.AppData[dir] += uint64(len(frag))
		if s.FirstAppDataAt.IsZero() {
			s.FirstAppDataAt = c.ts
		}
	}
}

// handshake reads the handshake fragments of an epoch-0 record (RFC 6347,
// 4.2.2): msg_type, length, message_seq, fragment_offset,
// fragment_length, then the fragment.
func (c *Conn) handshake(dir tls.Direction, b []byte) {
	s := cryptobyte.String(b)
	for !s.Empty() {
		var typ uint8
		var length, off, n uint32
		var seq uint16
		var data []byte
		if !s.ReadUint8(&typ) || !s.ReadUint24(&length) || !s.ReadUint16(&seq) ||
			!s.ReadUint24(&off) || !s.ReadUint24(&n) || !s.ReadBytes(&data, int(n)) {
			c.anomaly(AnomalyBadRecord, dir, "handshake fragment header cut")
			return
		}
		if uint64(off)+uint64(n) > uint64(length) {
			c.anomaly(AnomalyBadRecord, dir, "%s fragment %d+%d past its length %d", tls.HandshakeTypeName(typ), off, n, length)
			return
		}
		c.fragment(dir, typ, seq, int(length), int(off), data)
	}
}

// fragment adds one fragment of message seq and hands on every message
// complete in message_seq order. Messages before the next expected are
// retransmissions and are dropped.
func (c *Conn) fragment(dir tls.Direction, typ uint8, seq uint16, length, off int, data []byte) {
	sd := &c.sides[dir]
	if !sd.started {
		// The first fragment seen sets the sequence (a capture may start
		// after a HelloVerifyRequest exchange).
		sd.started, sd.next = true, seq
	}
	if seqBefore(seq, sd.next) {
		return // a retransmission of a message already handed on
	}
	if length > MaxMessage {
		c.anomaly(AnomalyHandshakeTooLong, dir, "%s of %d bytes over %d", tls.HandshakeTypeName(typ), length, MaxMessage)
		if seq == sd.next {
			sd.next++
		}
		return
	}
	var m *message
	for _, p := range sd.pending {
		if p.seq == seq {
			m = p
		}
	}
	if m == nil {
		if len(sd.pending) >= maxPending {
			if !sd.full {
				sd.full = true
				c.anomaly(AnomalyReassemblyLimit, dir, "more than %d handshake messages waiting for fragments", maxPending)
			}
			return
		}
		m = &message{seq: seq, typ: typ, body: make([]byte, length)}
		sd.pending = append(sd.pending, m)
	}
	if length != len(m.body) || typ != m.typ {
		c.anomaly(AnomalyBadRecord, dir, "fragment of message %d says %s of %d bytes, earlier ones %s of %d",
			seq, tls.HandshakeTypeName(typ), length, tls.HandshakeTypeName(m.typ), len(m.body))
		return
	}
	m.add(off, data)
	for {
		i := -1
		for j, p := range sd.pending {
			if p.seq == sd.next && p.filled == len(p.body) {
				i = j
			}
		}
		if i < 0 {
			return
		}
		p := sd.pending[i]
		sd.pending = append(sd.pending[:i], sd.pending[i+1:]...)
		sd.next++
		c.message(dir, p.typ, p.body)
	}
}

// message hands one rebuilt message to the machine. A DTLS ClientHello
// carries a cookie after its session ID (RFC 6347, 4.2.1), which a TLS
// ClientHello has not: it is taken out, and the rest is the TLS hello the
// machine reads. A HelloVerifyRequest (server_version, cookie) is noted.
func (c *Conn) message(dir tls.Direction, typ uint8, body []byte) {
	switch typ {
	case tls.TypeClientHello:
		s := cryptobyte.String(body)
		var random []byte
		var sid, cookie cryptobyte.String
		if s.Skip(2) && s.ReadBytes(&random, 32) && s.ReadUint8LengthPrefixed(&sid) && s.ReadUint8LengthPrefixed(&cookie) {
			head := len(body) - len(s) - 1 - len(cookie) // up to the cookie's length byte
			hello := make([]byte, 0, len(body)-1-len(cookie))
			hello = append(append(hello, body[:head]...), s...)
			c.ClientHellos++
			if len(cookie) > 0 {
				c.CookieSent = true
			}
			body = hello
		}
	case typeHelloVerifyRequest:
		c.HelloVerifyRequest = true
	}
	c.h.Message(tls.Message{Type: typ, Body: body, Dir: dir, Time: c.ts})
}

// seqBefore compares message_seq values (16 bits; an association never
// wraps them in a handshake).
func seqBefore(a, b uint16) bool { return a < b }

// add copies a fragment into the holes of the message; bytes already
// received stay as first received.
func (m *message) add(off int, data []byte) {
	start, end := off, off+len(data)
	if start == end {
		return
	}
	pos := start
	i := 0
	for ; i < len(m.have) && m.have[i].end < start; i++ {
	}
	lo := i
	for ; i < len(m.have) && m.have[i].start <= end; i++ {
		h := m.have[i]
		if h.start > pos {
			copy(m.body[pos:h.start], data[pos-start:h.start-start])
		}
		pos = max(pos, h.end)
	}
	hi := i
	if pos < end {
		copy(m.body[pos:end], data[pos-start:])
	}
	ns := span{start, end}
	if lo < hi {
		ns.start = min(ns.start, m.have[lo].start)
		ns.end = max(ns.end, m.have[hi-1].end)
	}
	merged := append(append(append([]span(nil), m.have[:lo]...), ns), m.have[hi:]...)
	m.have = merged
	m.filled = 0
	for _, h := range m.have {
		m.filled += h.end - h.start
	}
}
