package tls

import (
	"fmt"
	"time"
)

// Verdict is what Sniff says about the first bytes of a stream.
type Verdict uint8

const (
	NeedMore Verdict = iota // too few bytes to tell
	Yes                     // starts like a TLS record or an SSLv2-compatible hello
	No                      // cannot be TLS
)

func (v Verdict) String() string {
	switch v {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "need-more"
}

// Sniff tells whether a stream starts like TLS: a record header with a
// known content type, major version 3 and a sane length, or an SSLv2
// record holding a CLIENT-HELLO or SERVER-HELLO (RFC 5246, E.2).
func Sniff(data []byte) Verdict {
	if len(data) == 0 {
		return NeedMore
	}
	if data[0]&0x80 != 0 { // SSLv2 2-byte header
		if len(data) < 3 {
			return NeedMore
		}
		n := int(data[0]&0x7f)<<8 | int(data[1])
		if n < 3 || (data[2] != 1 && data[2] != 4) {
			return No
		}
		if len(data) < 5 {
			return NeedMore
		}
		v := uint16(data[3])<<8 | uint16(data[4])
		if data[2] == 1 && v != VersionSSL20 && (v>>8 != 3 || v&0xff > 4) {
			return No
		}
		if data[2] == 4 && len(data) >= 7 {
			v = uint16(data[5])<<8 | uint16(data[6])
			if v != VersionSSL20 {
				return No
			}
		}
		return Yes
	}
	if data[0] < ContentChangeCipherSpec || data[0] > ContentHeartbeat {
		return No
	}
	if len(data) < 2 {
		return NeedMore
	}
	if data[1] != 3 {
		return No
	}
	if len(data) < 3 {
		return NeedMore
	}
	if data[2] > 4 {
		return No
	}
	if len(data) < 5 {
		return NeedMore
	}
	if n := int(data[3])<<8 | int(data[4]); n == 0 || n > DefaultMaxRecord {
		return No
	}
	return Yes
}

// contentSSLv2 marks a record read with the SSLv2 2-byte header.
const contentSSLv2 uint8 = 0x80

// direction is the record framer and handshake reassembler of one side.
type direction struct {
	off int64 // stream offset of the next byte

	// The record being read.
	length int
	need   int   // body bytes still to come
	recOff int64 // stream offset of the record header
	body   []byte

	// The record protection (nil: plaintext), the sequence number of the
	// next record under it, and how many times it changed (a handshake
	// message never spans a key change, RFC 8446, 5.1).
	prot  Protection
	seq   uint64
	epoch uint32

	hdrN uint8   // bytes of hdr read (at most 5)
	hdr  [5]byte // the current record's header, kept until the next one

	from     Direction
	typ      uint8
	inRecord bool
	keep     bool // the body is wanted (handshake, alert, a record prot reads, ...)

	resync    bool // scanning for a plausible record header
	alerted   bool // this side sent an alert after the handshake (ended)
	over      bool // and then bytes that are no record: its TLS has ended
	started   bool // a first record header was read (SSLv2 is only looked for before)
	decrypted bool // the record being handled was opened with the key log

	hs     []byte // a handshake message spanning records
	hsSkip int    // bytes of an over-long handshake message still to skip
}

// Conn follows one TLS-over-TCP connection from the in-order bytes of
// both directions: it is the record framer (record headers, resync after
// gaps and garbage, SSLv2-compatible hellos, each direction's record
// protection, handshake messages rebuilt across records) feeding a
// Handshake, which fills the Session. It copies what it keeps; it never
// logs, panics on input or reads the clock: malformed input is reported
// through onAnomaly and decoding goes on.
type Conn struct {
	// OnPlaintext, when set, receives the application data of a session
	// whose suite encrypts nothing (NULL ciphers), record by record,
	// without the record MAC. data is valid only during the call.
	OnPlaintext func(dir Direction, data []byte, ts time.Time)

	h Handshake // its limits and onAnomaly serve the framer too
	d [2]direction
}

// NewConn returns a Conn with the given limits (zero fields take the
// defaults). onAnomaly may be nil.
func NewConn(lim Limits, onAnomaly func(kind string, dir Direction, offset int64, detail string)) *Conn {
	c := &Conn{}
	c.h = Handshake{lim: lim.withDefaults(), onAnomaly: onAnomaly, layer: c}
	c.d[ClientToServer].from = ClientToServer
	c.d[ServerToClient].from = ServerToClient
	return c
}

// Session returns the facts gathered so far. The Conn keeps updating it.
func (c *Conn) Session() *Session { return &c.h.s }

// Handshake returns the machine the framer feeds.
func (c *Conn) Handshake() *Handshake { return &c.h }

// SetKeys gives the Conn a key log to decrypt with (before the first
// Feed): a TLS 1.3 connection whose ClientHello.random has secrets in it
// is read through, its encrypted handshake (certificates included),
// alerts and KeyUpdates becoming facts as in the clear; Session.Decryption
// says how it went. Decrypted application data is counted, not handed
// to OnPlaintext. Without SetKeys (or with a key log that is not Given)
// nothing changes.
func (c *Conn) SetKeys(k Keys) { c.h.keys = k }

// Done reports that the handshake is over (established, failed with a
// fatal alert, or an SSLv2 session), so nothing more is to be learnt from
// the bytes except their count. A NULL-cipher session is never done while
// OnPlaintext is set, since its application data is readable.
func (c *Conn) Done() bool {
	if c.h.failed || c.h.sslv2 {
		return true
	}
	if c.h.nullCipher && c.OnPlaintext != nil {
		return false
	}
	if c.h.decrypting() {
		// KeyUpdates, tickets and alerts are still to be read.
		return false
	}
	return c.h.s.Established
}

func (c *Conn) anomaly(kind string, d *direction, off int64, format string, args ...any) {
	if c.h.onAnomaly != nil {
		c.h.onAnomaly(kind, d.from, off, fmt.Sprintf(format, args...))
	}
}

// ended: an alert from this side after the handshake may be its last
// TLS record (a close_notify, RFC 8446 6.1). If what it sends next is no
// record header, its TLS is over: a protocol may go back to cleartext
// (FTP's CCC, RFC 4217 12), and those bytes are not TLS records gone
// wrong (header); a warning alert followed by more records changes
// nothing.
func (c *Conn) ended(d *direction) {
	if c.h.s.Established {
		d.alerted = true
	}
}

// Release lets the framer's buffers go (records and handshake messages
// being rebuilt) once no more bytes will be fed; the Session stays.
func (c *Conn) Release() {
	for i := range c.d {
		d := &c.d[i]
		d.body, d.hs, d.inRecord, d.over = nil, nil, false, true
	}
}

// protect implements recordLayer: the machine read a key change.
func (c *Conn) protect(dir Direction, p Protection) {
	d := &c.d[dir&1]
	d.prot, d.seq = p, 0
	d.epoch++
	d.hs, d.hsSkip = d.hs[:0], 0
}

// Gap says bytes of one direction were lost: the framer drops what it
// buffered and looks for the next plausible record header.
func (c *Conn) Gap(dir Direction) {
	d := &c.d[dir&1]
	d.inRecord, d.hdrN, d.resync = false, 0, true
	d.body, d.hs, d.hsSkip = d.body[:0], d.hs[:0], 0
	if dp, ok := d.prot.(decrypter); ok {
		dp.lost()
	}
}

// decrypter is a Protection that decrypts with a key log (protect13): it
// reads every record it can, whoever takes the plaintext, since in TLS
// 1.3 application_data records carry the handshake, alerts and KeyUpdates.
type decrypter interface {
	Protection
	// plain says records of this header type are sent in the clear under
	// it (TLS 1.3: everything but application_data).
	plain(typ uint8) bool
	// lost says records may have been lost (Conn.Gap).
	lost()
}

// Feed takes the next in-order bytes of one direction. It keeps (copies)
// only the bytes of incomplete records and handshake messages.
func (c *Conn) Feed(dir Direction, data []byte, ts time.Time) {
	d := &c.d[dir&1]
	if c.h.s.Start.IsZero() && len(data) > 0 {
		c.h.s.Start = ts
	}
	for len(data) > 0 {
		if d.over {
			d.off += int64(len(data))
			return
		}
		if c.h.sslv2 { // an SSLv2 SERVER-HELLO: the rest are SSLv2 records
			c.feedSSLv2(d, data, ts)
			return
		}
		if d.resync {
			n := c.scan(d, data, ts)
			data = data[n:]
			continue
		}
		if !d.inRecord {
			n := copy(d.hdr[d.hdrN:], data)
			d.hdrN += uint8(n) // n <= 5
			d.off += int64(n)
			data = data[n:]
			if d.hdrN == 5 {
				c.header(d, ts)
			}
			continue
		}
		n := min(d.need, len(data))
		if d.keep {
			// Limits.MaxBuffered bounds d.body: header() clears keep for
			// a record longer than the buffer.
			d.body = append(d.body, data[:n]...)
		}
		d.need -= n
		d.off += int64(n)
		data = data[n:]
		if d.need == 0 {
			c.endRecord(d, ts)
		}
	}
}

// feedSSLv2 frames an SSLv2 session's records after the SERVER-HELLO
// (draft-hickman-netscape-ssl-00, "SSL Record Header Format": a 2-byte
// header with the high bit set, or a 3-byte one with a padding count).
// Of each body it keeps the first sslv2Kept bytes, enough for the
// CLIENT-MASTER-KEY's cipher kind; the machine reads the rest as
// encrypted records by their lengths.
func (c *Conn) feedSSLv2(d *direction, data []byte, ts time.Time) {
	for len(data) > 0 {
		if !d.inRecord {
			if d.hdrN >= 3 {
				// Part of a 5-byte header this side began before the
				// SERVER-HELLO switched the framing: not an SSLv2 one.
				d.hdrN = 0
			}
			d.hdr[d.hdrN] = data[0]
			d.hdrN++
			d.off++
			data = data[1:]
			var n int
			switch {
			case d.hdr[0]&0x80 != 0 && d.hdrN == 2:
				n = int(d.hdr[0]&0x7f)<<8 | int(d.hdr[1])
			case d.hdr[0]&0x80 == 0 && d.hdrN == 3:
				n = int(d.hdr[0]&0x3f)<<8 | int(d.hdr[1])
			default:
				continue
			}
			d.recOff = d.off - int64(d.hdrN)
			d.inRecord, d.typ, d.length, d.need = true, contentSSLv2, n, n
			d.body = d.body[:0]
		}
		n := min(d.need, len(data))
		if keep := min(n, sslv2Kept-len(d.body)); keep > 0 {
			d.body = append(d.body, data[:keep]...)
		}
		d.need -= n
		d.off += int64(n)
		data = data[n:]
		if d.need == 0 {
			d.inRecord, d.hdrN = false, 0
			c.h.sslv2Record(d.from, d.body, d.length, d.recOff, ts)
			d.body = d.body[:0]
		}
	}
}

// sslv2Kept is how much of an SSLv2 record after the hellos feedSSLv2
// keeps: a CLIENT-MASTER-KEY's msg_type and cipher kind.
const sslv2Kept = 4

// plausible says whether 5 bytes look like a TLS record header, for
// resynchronising: a known content type, version 3.0 to 3.4, a length
// that is neither zero nor over the limit.
func (c *Conn) plausible(h *[5]byte) bool {
	n := int(h[3])<<8 | int(h[4])
	return h[0] >= ContentChangeCipherSpec && h[0] <= ContentHeartbeat &&
		h[1] == 3 && h[2] <= 4 && n > 0 && n <= c.h.lim.MaxRecord
}

// scan slides a 5-byte window over data until it holds a plausible record
// header, and returns how many bytes it consumed.
func (c *Conn) scan(d *direction, data []byte, ts time.Time) int {
	for i, b := range data {
		if d.hdrN < 5 {
			d.hdr[d.hdrN] = b
			d.hdrN++
		} else {
			copy(d.hdr[:], d.hdr[1:])
			d.hdr[4] = b
		}
		if d.hdrN == 5 && c.plausible(&d.hdr) {
			d.off += int64(i + 1)
			d.resync = false
			c.header(d, ts)
			return i + 1
		}
	}
	d.off += int64(len(data))
	return len(data)
}

// header starts a record from the 5 bytes in d.hdr, or starts a resync.
func (c *Conn) header(d *direction, ts time.Time) {
	d.recOff = d.off - 5
	first := !d.started
	d.started = true
	h := &d.hdr
	if first && h[0]&0x80 != 0 {
		// SSLv2 2-byte header (RFC 5246, E.2): the message type is the
		// first byte of the body, already in h[2].
		n := int(h[0]&0x7f)<<8 | int(h[1])
		want := TypeClientHello
		if d.from == ServerToClient {
			want = 4 // SERVER-HELLO
		}
		if n >= 3 && h[2] == want {
			d.inRecord, d.typ, d.length, d.need = true, contentSSLv2, n, n-3
			d.keep = true
			d.body = append(d.body[:0], h[2:5]...)
			if d.need == 0 {
				c.endRecord(d, ts)
			}
			return
		}
	}
	n := int(h[3])<<8 | int(h[4])
	switch {
	case (h[0] < ContentChangeCipherSpec || h[0] > ContentHeartbeat || h[1] != 3 || h[2] > 4) && d.alerted:
		d.over, d.hdrN = true, 0 // after a close_notify: see ended
	case h[0] < ContentChangeCipherSpec || h[0] > ContentHeartbeat || h[1] != 3 || h[2] > 4:
		c.anomaly(AnomalyBadRecord, d, d.recOff, "record header %x", h[:])
		c.startResync(d)
		return
	case n > c.h.lim.MaxRecord: // Limits.MaxRecord is enforced here
		c.anomaly(AnomalyRecordTooLong, d, d.recOff, "record length %d over %d", n, c.h.lim.MaxRecord)
		c.startResync(d)
		return
	}
	d.inRecord, d.typ, d.length, d.need = true, h[0], n, n
	d.keep = c.wanted(d, h[0])
	d.body = d.body[:0]
	if d.keep && n > c.h.lim.MaxBuffered {
		c.anomaly(AnomalyBufferLimit, d, d.recOff, "record of %d bytes over the %d-byte buffer", n, c.h.lim.MaxBuffered)
		d.keep = false
	}
	if n == 0 {
		c.endRecord(d, ts)
	}
}

// wanted says whether a record's body is kept: a plaintext record other
// than application data; under protection, an alert (a two-byte one is
// readable whatever the cipher), a ChangeCipherSpec or a heartbeat, and
// what the protection reads (application data only when someone takes
// the plaintext).
func (c *Conn) wanted(d *direction, typ uint8) bool {
	if d.prot == nil {
		return typ != ContentApplicationData
	}
	if dp, ok := d.prot.(decrypter); ok {
		if dp.plain(typ) {
			return typ != ContentApplicationData
		}
		return dp.Reads(typ)
	}
	switch typ {
	case ContentAlert, ContentChangeCipherSpec, ContentHeartbeat:
		return true
	case ContentApplicationData:
		return c.OnPlaintext != nil && d.prot.Reads(typ)
	}
	return d.prot.Reads(typ)
}

// startResync keeps the last 4 header bytes: the next record may start
// inside the bad header.
func (c *Conn) startResync(d *direction) {
	copy(d.hdr[:], d.hdr[1:])
	d.hdrN = 4
	d.resync = true
	d.inRecord = false
	d.hs, d.hsSkip = d.hs[:0], 0
}

// endRecord handles a complete record: through its direction's
// protection, if any, then by content type.
func (c *Conn) endRecord(d *direction, ts time.Time) {
	d.inRecord, d.hdrN = false, 0
	body := d.body
	d.body = d.body[:0]
	switch {
	case d.typ == contentSSLv2:
		c.h.Message(Message{Type: body[0], Body: body, Dir: d.from, Time: ts, Offset: d.recOff, SSLv2: true})
	case d.prot != nil:
		c.protectedRecord(d, body, ts)
	default:
		c.clearRecord(d, d.typ, body, false, ts)
	}
}

// protectedRecord opens a record if its protection can, and hands the
// plaintext on; otherwise the machine learns what the header and the
// length say. Every record but ChangeCipherSpec takes a sequence number
// (RFC 8446, 5: CCS records are never protected in TLS 1.3; in TLS 1.2 a
// second CCS means an encrypted renegotiation, which no one follows).
func (c *Conn) protectedRecord(d *direction, body []byte, ts time.Time) {
	typ := d.typ
	dp, decrypts := d.prot.(decrypter)
	if decrypts && dp.plain(typ) {
		c.clearRecord(d, typ, body, false, ts)
		return
	}
	if typ != ContentChangeCipherSpec {
		seq := d.seq
		d.seq++
		if d.keep && d.prot.Reads(typ) {
			inner, plain, ok := d.prot.Open(Record{Type: typ, Version: uint16(d.hdr[1])<<8 | uint16(d.hdr[2]), Seq: seq, Body: body})
			if ok {
				d.decrypted = decrypts
				c.clearRecord(d, inner, plain, !decrypts, ts)
				d.decrypted = false
				return
			}
		}
	}
	switch typ {
	case ContentChangeCipherSpec:
		d.hs, d.hsSkip = d.hs[:0], 0
		c.h.changeCipherSpec(d.from, d.length, d.recOff, ts)
	case ContentAlert:
		c.h.alert(d.from, body, true, false, d.length, d.recOff, ts) // kept: a two-byte alert is readable
		c.ended(d)
	case ContentHandshake:
		c.h.protectedHandshake(d.from, d.length, d.recOff, ts)
	case ContentApplicationData:
		c.h.applicationData(d.from, d.length, false, d.recOff, ts)
	case ContentHeartbeat:
		c.h.heartbeat(d.from, d.length, d.recOff, ts)
	}
}

// clearRecord handles a record sent in the clear, or opened by its
// protection: nullOpened, a NULL cipher's (its application data goes to
// OnPlaintext), or decrypted with the key log (d.decrypted; counted, and
// handed to OnPlaintext only for a NULL suite, whose data was sent in the
// clear).
func (c *Conn) clearRecord(d *direction, typ uint8, body []byte, nullOpened bool, ts time.Time) {
	switch typ {
	case ContentChangeCipherSpec:
		d.hs, d.hsSkip = d.hs[:0], 0
		c.h.changeCipherSpec(d.from, d.length, d.recOff, ts)
	case ContentAlert:
		c.h.alert(d.from, body, false, d.decrypted, d.length, d.recOff, ts)
		c.ended(d)
	case ContentHandshake:
		if !d.keep {
			d.hs, d.hsSkip = d.hs[:0], 0
			return
		}
		c.handshakeBytes(d, body, ts)
	case ContentApplicationData:
		if (nullOpened || d.decrypted && c.h.nullCipher) && len(body) > 0 && c.OnPlaintext != nil {
			c.OnPlaintext(d.from, body, ts)
		}
		c.h.applicationData(d.from, d.length, d.decrypted, d.recOff, ts)
	case ContentHeartbeat:
		c.h.heartbeat(d.from, d.length, d.recOff, ts)
	}
}

// handshakeBytes reassembles handshake messages (RFC 8446, 5.1: several
// per record, or one across records) and hands each to the machine. The
// bytes after a message that changed this side's keys (a TLS 1.3
// ServerHello) are not of the old epoch: they are dropped.
func (c *Conn) handshakeBytes(d *direction, data []byte, ts time.Time) {
	epoch := d.epoch
	for len(data) > 0 && d.epoch == epoch && !c.h.sslv2 {
		if d.hsSkip > 0 {
			n := min(d.hsSkip, len(data))
			d.hsSkip -= n
			data = data[n:]
			continue
		}
		if len(d.hs) == 0 && len(data) >= 4 {
			n := int(data[1])<<16 | int(data[2])<<8 | int(data[3])
			if len(data) >= 4+n && n <= c.h.lim.MaxHandshake {
				c.message(d, data[0], data[4:4+n], ts) // whole in this record: no copy
				data = data[4+n:]
				continue
			}
		}
		if len(d.hs) < 4 {
			k := min(4-len(d.hs), len(data))
			d.hs = append(d.hs, data[:k]...)
			data = data[k:]
			if len(d.hs) < 4 {
				return
			}
			n := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
			if n > c.h.lim.MaxHandshake { // Limits.MaxHandshake is enforced here
				c.h.messageTooLong(d.from, d.hs[0], n, d.recOff, ts)
				d.hs, d.hsSkip = d.hs[:0], n
				continue
			}
		}
		n := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
		k := min(4+n-len(d.hs), len(data))
		d.hs = append(d.hs, data[:k]...)
		data = data[k:]
		if len(d.hs) == 4+n {
			c.message(d, d.hs[0], d.hs[4:], ts)
			d.hs = d.hs[:0]
		}
	}
}

func (c *Conn) message(d *direction, typ uint8, body []byte, ts time.Time) {
	c.h.Message(Message{Type: typ, Body: body, Dir: d.from, Time: ts, Offset: d.recOff, Decrypted: d.decrypted})
}
