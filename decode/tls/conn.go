package tls

import (
	"bytes"
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
	from Direction
	off  int64 // stream offset of the next byte

	hdr  [5]byte
	hdrN int

	// The record being read.
	inRecord bool
	typ      uint8
	length   int
	need     int   // body bytes still to come
	recOff   int64 // stream offset of the record header
	keep     bool  // the body is wanted (handshake, alert, ...)
	body     []byte

	resync  bool // scanning for a plausible record header
	started bool // a first record header was read (SSLv2 is only looked for before)

	encrypted bool // after ChangeCipherSpec (TLS <= 1.2), after ServerHello (TLS 1.3)

	hs     []byte // a handshake message spanning records
	hsSkip int    // bytes of an over-long handshake message still to skip

	appEvent       bool // an application_data event was recorded
	plainHandshake bool // a plaintext handshake message was read
}

// Conn follows one TLS connection from the in-order bytes of both
// directions and fills a Session. It copies what it keeps; it never logs,
// panics on input or reads the clock: malformed input is reported through
// onAnomaly and decoding goes on.
type Conn struct {
	// OnPlaintext, when set, receives the application data of a session
	// whose suite encrypts nothing (NULL ciphers), record by record,
	// without the record MAC. data is valid only during the call.
	OnPlaintext func(dir Direction, data []byte, ts time.Time)

	lim       Limits
	onAnomaly func(kind string, dir Direction, offset int64, detail string)
	s         Session
	d         [2]direction

	tls13      bool // TLS 1.3 negotiated: the rest is hidden
	nullCipher bool
	macLen     int  // NULL-cipher suites: record MAC length
	failed     bool // a fatal alert was read
	sslv2      bool // an SSLv2 SERVER-HELLO: the rest is SSLv2, not followed
	serverCert bool // the server sent a Certificate
}

// NewConn returns a Conn with the given limits (zero fields take the
// defaults). onAnomaly may be nil.
func NewConn(lim Limits, onAnomaly func(kind string, dir Direction, offset int64, detail string)) *Conn {
	c := &Conn{lim: lim.withDefaults(), onAnomaly: onAnomaly}
	c.d[ClientToServer].from = ClientToServer
	c.d[ServerToClient].from = ServerToClient
	return c
}

// Session returns the facts gathered so far. The Conn keeps updating it.
func (c *Conn) Session() *Session { return &c.s }

// Done reports that the handshake is over (established, failed with a
// fatal alert, or an SSLv2 session), so nothing more is to be learnt from
// the bytes except their count. A NULL-cipher session is never done while
// OnPlaintext is set, since its application data is readable.
func (c *Conn) Done() bool {
	if c.failed || c.sslv2 {
		return true
	}
	if c.nullCipher && c.OnPlaintext != nil {
		return false
	}
	return c.s.Established
}

func (c *Conn) anomaly(kind string, d *direction, off int64, format string, args ...any) {
	if c.onAnomaly != nil {
		c.onAnomaly(kind, d.from, off, fmt.Sprintf(format, args...))
	}
}

func (c *Conn) event(e Event) {
	if len(c.s.Events) < MaxEvents {
		if c.s.Events == nil {
			// A handshake takes about a dozen: grow once, not five times.
			c.s.Events = make([]Event, 0, 16)
		}
		c.s.Events = append(c.s.Events, e)
	}
}

// Gap says bytes of one direction were lost: the framer drops what it
// buffered and looks for the next plausible record header.
func (c *Conn) Gap(dir Direction) {
	d := &c.d[dir&1]
	d.inRecord, d.hdrN, d.resync = false, 0, true
	d.body, d.hs, d.hsSkip = d.body[:0], d.hs[:0], 0
}

// Feed takes the next in-order bytes of one direction. It keeps (copies)
// only the bytes of incomplete records and handshake messages.
func (c *Conn) Feed(dir Direction, data []byte, ts time.Time) {
	d := &c.d[dir&1]
	if c.s.Start.IsZero() && len(data) > 0 {
		c.s.Start = ts
	}
	if c.sslv2 {
		d.off += int64(len(data))
		return
	}
	for len(data) > 0 {
		if c.sslv2 { // an SSLv2 SERVER-HELLO ended the readable part
			d.off += int64(len(data))
			return
		}
		if d.resync {
			n := c.scan(d, data, ts)
			data = data[n:]
			continue
		}
		if !d.inRecord {
			n := copy(d.hdr[d.hdrN:], data)
			d.hdrN += n
			d.off += int64(n)
			data = data[n:]
			if d.hdrN == 5 {
				c.header(d, ts)
			}
			continue
		}
		n := min(d.need, len(data))
		c.bodyBytes(d, data[:n], ts)
		d.need -= n
		d.off += int64(n)
		data = data[n:]
		if d.need == 0 {
			c.endRecord(d, ts)
		}
	}
}

// plausible says whether 5 bytes look like a TLS record header, for
// resynchronising: a known content type, version 3.0 to 3.4, a length
// that is neither zero nor over the limit.
func (c *Conn) plausible(h *[5]byte) bool {
	n := int(h[3])<<8 | int(h[4])
	return h[0] >= ContentChangeCipherSpec && h[0] <= ContentHeartbeat &&
		h[1] == 3 && h[2] <= 4 && n > 0 && n <= c.lim.MaxRecord
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
	case h[0] < ContentChangeCipherSpec || h[0] > ContentHeartbeat || h[1] != 3 || h[2] > 4:
		c.anomaly("tls_bad_record", d, d.recOff, "record header %x", h[:])
		c.startResync(d)
		return
	case n > c.lim.MaxRecord: // Limits.MaxRecord is enforced here
		c.anomaly("tls_record_too_long", d, d.recOff, "record length %d over %d", n, c.lim.MaxRecord)
		c.startResync(d)
		return
	}
	d.inRecord, d.typ, d.length, d.need = true, h[0], n, n
	d.keep = h[0] != ContentApplicationData && !(h[0] == ContentHandshake && d.encrypted)
	d.body = d.body[:0]
	if d.keep && n > c.lim.MaxBuffered {
		c.anomaly("tls_buffer_limit", d, d.recOff, "record of %d bytes over the %d-byte buffer", n, c.lim.MaxBuffered)
		d.keep = false
	}
	if n == 0 {
		c.endRecord(d, ts)
	}
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

// bodyBytes takes the next piece of the current record's body.
func (c *Conn) bodyBytes(d *direction, p []byte, ts time.Time) {
	if d.keep {
		// Limits.MaxBuffered bounds d.body: header() clears keep for a
		// record longer than the buffer.
		d.body = append(d.body, p...)
		return
	}
	if d.typ == ContentApplicationData && c.nullCipher && c.OnPlaintext != nil && !c.tls13 {
		// Deliver the plaintext without the trailing MAC.
		pos := d.length - d.need // offset of p in the record
		end := d.length - c.macLen
		if pos < end {
			q := p
			if pos+len(q) > end {
				q = q[:end-pos]
			}
			if len(q) > 0 {
				c.OnPlaintext(d.from, q, ts)
			}
		}
	}
}

// endRecord handles a complete record.
func (c *Conn) endRecord(d *direction, ts time.Time) {
	d.inRecord, d.hdrN = false, 0
	body := d.body
	d.body = d.body[:0]
	switch d.typ {
	case contentSSLv2:
		c.sslv2Record(d, body, ts)
	case ContentChangeCipherSpec:
		c.event(Event{Time: ts, From: d.from, Content: ContentChangeCipherSpec, Length: d.length})
		c.changeCipherSpec(d)
	case ContentAlert:
		c.alert(d, body, ts)
	case ContentHandshake:
		if d.encrypted {
			c.encryptedHandshake(d, ts)
			return
		}
		if !d.keep {
			d.hs, d.hsSkip = d.hs[:0], 0
			return
		}
		c.handshakeBytes(d, body, ts)
	case ContentApplicationData:
		c.applicationData(d, ts)
	case ContentHeartbeat:
		c.event(Event{Time: ts, From: d.from, Content: ContentHeartbeat, Encrypted: d.encrypted, Length: d.length})
	}
}

func (c *Conn) changeCipherSpec(d *direction) {
	c.s.ChangeCipherSpec[d.from] = true
	d.hs, d.hsSkip = d.hs[:0], 0
	if c.tls13 {
		return // RFC 8446, D.4: middlebox compatibility, nothing changes
	}
	if c.s.ServerHello == nil && c.s.HelloRetry != nil {
		return // compatibility CCS after a HelloRetryRequest
	}
	d.encrypted = true
	if d.from == ServerToClient && c.s.ServerHello != nil && !c.serverCert {
		// RFC 5077, 3.1: the server accepted a ticket and goes straight
		// to ChangeCipherSpec after its ServerHello.
		if ch := c.s.ClientHello; ch != nil && ch.SessionTicketLen > 0 {
			c.s.Resumed, c.s.Resumption = true, "ticket"
		}
	}
}

func (c *Conn) alert(d *direction, body []byte, ts time.Time) {
	// An alert is readable when it is exactly two bytes (no cipher, MAC
	// or AEAD tag fits in none), or before encryption starts on a stream
	// whose handshake was seen (a stream joined in the middle may be
	// encrypted already) and every level is warning or fatal.
	if d.keep && len(body) == 2 || d.keep && !d.encrypted && d.plainHandshake && plainAlerts(body) {
		for i := 0; i+1 < len(body); i += 2 {
			a := Alert{From: d.from, Level: body[i], Description: body[i+1], Time: ts}
			if len(c.s.Alerts) < MaxEvents {
				c.s.Alerts = append(c.s.Alerts, a)
			}
			c.event(Event{Time: ts, From: d.from, Content: ContentAlert, Length: 2})
			if a.Level == AlertLevelFatal {
				c.failed = true
			}
		}
		return
	}
	if len(c.s.Alerts) < MaxEvents {
		c.s.Alerts = append(c.s.Alerts, Alert{From: d.from, Encrypted: true, Time: ts})
	}
	c.event(Event{Time: ts, From: d.from, Content: ContentAlert, Encrypted: true, Length: d.length})
}

// plainAlerts says whether a record body reads as a list of alerts.
func plainAlerts(body []byte) bool {
	if len(body) == 0 || len(body)%2 != 0 {
		return false
	}
	for i := 0; i < len(body); i += 2 {
		if body[i] != AlertLevelWarning && body[i] != AlertLevelFatal {
			return false
		}
	}
	return true
}

// encryptedHandshake: TLS <= 1.2, the first handshake record after
// ChangeCipherSpec is that side's Finished (RFC 5246, 7.4.9).
func (c *Conn) encryptedHandshake(d *direction, ts time.Time) {
	c.event(Event{Time: ts, From: d.from, Content: ContentHandshake, Encrypted: true, Length: d.length})
	if c.tls13 || c.s.Finished[d.from] {
		return
	}
	c.s.Finished[d.from] = true
	if c.s.Finished[ClientToServer] && c.s.Finished[ServerToClient] && !c.s.Established {
		c.s.Established, c.s.EstablishedAt = true, ts
	}
}

// tls13AlertSize is the length of an encrypted TLS 1.3 alert with a
// 16-byte AEAD tag and no padding: 2 + 1 (inner content type) + 16.
const tls13AlertSize = 19

func (c *Conn) applicationData(d *direction, ts time.Time) {
	if c.tls13 {
		// RFC 8446, 5.2: every record after ServerHello is
		// application_data on the outside. The server's first ones carry
		// its handshake flight; the client's first that is not
		// alert-sized its Finished flight; what follows is application
		// data. This is the one place the guess is made (Hidden13).
		if !c.s.ClientFinished13 {
			g := Hidden13Handshake
			if d.from == ClientToServer {
				g = Hidden13Alert
				if d.length != tls13AlertSize {
					g, c.s.ClientFinished13 = Hidden13ClientFinished, true
				}
			}
			c.event(Event{Time: ts, From: d.from, Content: ContentApplicationData, Encrypted: true, Length: d.length, Hidden13: g})
			return
		}
		if !c.s.Established && d.length != tls13AlertSize {
			c.s.Established, c.s.EstablishedAt = true, ts
		}
	}
	c.s.AppData[d.from] += uint64(d.length)
	if c.s.FirstAppDataAt.IsZero() {
		c.s.FirstAppDataAt = ts
	}
	if !d.appEvent {
		d.appEvent = true
		c.event(Event{Time: ts, From: d.from, Content: ContentApplicationData, Encrypted: !c.nullCipher, Length: d.length})
	}
}

// handshakeBytes reassembles handshake messages (RFC 8446, 5.1: several
// per record, or one across records) and hands each to message.
func (c *Conn) handshakeBytes(d *direction, data []byte, ts time.Time) {
	for len(data) > 0 && !d.encrypted && !c.sslv2 {
		if d.hsSkip > 0 {
			n := min(d.hsSkip, len(data))
			d.hsSkip -= n
			data = data[n:]
			continue
		}
		if len(d.hs) == 0 && len(data) >= 4 {
			n := int(data[1])<<16 | int(data[2])<<8 | int(data[3])
			if len(data) >= 4+n && n <= c.lim.MaxHandshake {
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
			if n > c.lim.MaxHandshake { // Limits.MaxHandshake is enforced here
				c.anomaly("tls_handshake_too_long", d, d.recOff, "%s of %d bytes over %d", HandshakeTypeName(d.hs[0]), n, c.lim.MaxHandshake)
				c.event(Event{Time: ts, From: d.from, Content: ContentHandshake, Handshake: d.hs[0], Length: n})
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

// message handles one complete handshake message.
func (c *Conn) message(d *direction, typ uint8, body []byte, ts time.Time) {
	c.event(Event{Time: ts, From: d.from, Content: ContentHandshake, Handshake: typ, Length: len(body)})
	d.plainHandshake = true
	s := &c.s
	switch typ {
	case TypeClientHello:
		if d.from != ClientToServer {
			c.anomaly("tls_unexpected_message", d, d.recOff, "ClientHello from the server")
			return
		}
		ch, err := ParseClientHello(body)
		if ch == nil {
			c.anomaly("tls_bad_handshake", d, d.recOff, "%v", err)
			return
		}
		if err != nil {
			c.anomaly("tls_bad_extension", d, d.recOff, "%v", err)
		}
		if s.HelloRetry != nil && s.ClientHello != nil && s.FirstClientHello == nil {
			s.FirstClientHello = s.ClientHello
		}
		s.ClientHello = ch
	case TypeServerHello:
		if d.from != ServerToClient {
			c.anomaly("tls_unexpected_message", d, d.recOff, "ServerHello from the client")
			return
		}
		sh, err := ParseServerHello(body)
		if sh == nil {
			c.anomaly("tls_bad_handshake", d, d.recOff, "%v", err)
			return
		}
		if err != nil {
			c.anomaly("tls_bad_extension", d, d.recOff, "%v", err)
		}
		if sh.HelloRetryRequest {
			s.HelloRetry = sh
			return
		}
		c.serverHello(sh, ts)
	case TypeCertificate:
		if c.tls13 {
			return
		}
		chain, err := ParseCertificate(body, c.lim)
		if chain == nil {
			c.anomaly("tls_bad_handshake", d, d.recOff, "%v", err)
			return
		}
		if err != nil {
			c.anomaly("tls_bad_handshake", d, d.recOff, "%v", err)
		}
		if chain.Errors > 0 {
			c.anomaly("tls_bad_certificate", d, d.recOff, "%d certificate(s) crypto/x509 could not parse", chain.Errors)
		}
		if chain.Dropped > 0 {
			c.anomaly("tls_chain_too_long", d, d.recOff, "%d certificate(s) over the limits not parsed", chain.Dropped)
		}
		if d.from == ServerToClient {
			c.serverCert = true
			s.Certificates = append(s.Certificates, chain.Certificates...)
			s.CertificateErrors += chain.Errors
		} else {
			s.ClientCertificates = append(s.ClientCertificates, chain.Certificates...)
			s.ClientCertSent = s.ClientCertSent || len(chain.Certificates)+chain.Errors+chain.Dropped > 0
		}
	case TypeServerKeyExchange:
		suite, ok := LookupCipherSuite(s.CipherSuite)
		if !ok {
			c.anomaly("tls_bad_handshake", d, d.recOff, "ServerKeyExchange for unknown suite %s", CipherSuiteName(s.CipherSuite))
			return
		}
		kx, err := ParseServerKeyExchange(body, suite, s.Version)
		if err != nil {
			c.anomaly("tls_bad_handshake", d, d.recOff, "%v", err)
		}
		if kx != nil && kx.Kind != "" {
			s.KeyExchange = kx
		}
	case TypeCertificateRequest:
		s.CertificateRequested = true
	case TypeServerHelloDone:
		s.ServerHelloDone = true
	case TypeClientKeyExchange:
		s.ClientKeyExchange = true
	case TypeNewSessionTicket:
		s.NewSessionTicket = true
	case TypeFinished:
		// Readable only with TLS_NULL_WITH_NULL_NULL.
		s.Finished[d.from] = true
		if s.Finished[ClientToServer] && s.Finished[ServerToClient] && !s.Established {
			s.Established, s.EstablishedAt = true, ts
		}
	}
}

func (c *Conn) serverHello(sh *ServerHello, ts time.Time) {
	s := &c.s
	s.ServerHello = sh
	s.Version = sh.Version()
	s.CipherSuite = sh.CipherSuite
	s.ALPN = sh.ALPNProtocol
	s.ServerHelloAt = ts
	if Version13(s.Version) {
		// RFC 8446, 2: everything after ServerHello is encrypted.
		c.tls13, s.Hidden = true, true
		for i := range c.d {
			c.d[i].encrypted = true
			c.d[i].hs, c.d[i].hsSkip = c.d[i].hs[:0], 0
		}
		if sh.PreSharedKey {
			s.Resumed, s.Resumption = true, "psk"
		}
		return
	}
	if ch := s.ClientHello; ch != nil && len(sh.SessionID) > 0 && bytes.Equal(sh.SessionID, ch.SessionID) {
		// RFC 5246, 7.4.1.3: the server echoes the session ID it resumes;
		// RFC 5077, 3.4: it echoes it too when it accepts a ticket.
		s.Resumed, s.Resumption = true, "session_id"
		if ch.SessionTicketLen > 0 {
			s.Resumption = "ticket"
		}
	}
	if suite, ok := LookupCipherSuite(sh.CipherSuite); ok && suite.Cipher == "NULL" && !suite.Scsv {
		c.nullCipher = true
		c.macLen = map[string]int{"MD5": 16, "SHA": 20, "SHA256": 32, "SHA384": 48}[suite.MAC]
	}
}

func (c *Conn) sslv2Record(d *direction, body []byte, ts time.Time) {
	s := &c.s
	d.plainHandshake = true
	if d.from == ClientToServer {
		c.event(Event{Time: ts, From: d.from, Content: ContentHandshake, Handshake: TypeClientHello, Length: len(body)})
		ch, err := ParseSSLv2ClientHello(body)
		if ch == nil {
			c.anomaly("tls_bad_handshake", d, d.recOff, "%v", err)
			return
		}
		if err != nil {
			c.anomaly("tls_bad_handshake", d, d.recOff, "%v", err)
		}
		s.ClientHello = ch
		return
	}
	c.event(Event{Time: ts, From: d.from, Content: ContentHandshake, Handshake: TypeServerHello, Length: len(body)})
	sh, der, err := parseSSLv2ServerHello(body, c.lim)
	if err != nil {
		c.anomaly("tls_bad_handshake", d, d.recOff, "%v", err)
	}
	if sh == nil {
		return
	}
	s.ServerHello, s.Version, s.ServerHelloAt = sh, VersionSSL20, ts
	c.sslv2 = true
	if len(der) > 0 && len(der) <= c.lim.MaxCertificate {
		if cert, err := c.lim.Certificates.parse(der); err == nil {
			s.Certificates = append(s.Certificates, cert)
		} else {
			s.CertificateErrors++
			c.anomaly("tls_bad_certificate", d, d.recOff, "SSLv2 server certificate: %v", err)
		}
	}
}
