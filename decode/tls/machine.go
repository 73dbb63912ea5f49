package tls

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// Message is one handshake message (RFC 8446, 4; RFC 5246, 7.4), whatever
// carried it: a TLS record framer (Conn), and later a DTLS framer or a
// QUIC CRYPTO-frame reassembler. The carrier has removed its own framing
// and rebuilt a message split across its units.
type Message struct {
	Type uint8 // HandshakeType; an SSLv2 hello is TypeClientHello or TypeServerHello
	// Body is the message after its 4-byte header; for an SSLv2 hello,
	// the SSLv2 message from its msg_type on. Valid only during the call:
	// the machine copies what it keeps.
	Body []byte
	Dir  Direction
	Time time.Time
	// Offset is where the carrier's unit that completed the message
	// starts in its stream (Conn: the record header), for anomalies.
	Offset int64
	SSLv2  bool // an SSLv2-format CLIENT-HELLO or SERVER-HELLO (RFC 5246, E.2)
	// Decrypted: the carrier opened the record (or packet) that carried
	// the message with keys from a key log; the ladder marks it.
	Decrypted bool
}

// AnomalyFunc receives a named anomaly (kinds in limits.go): the
// direction, the stream offset it was seen at, and a detail line.
type AnomalyFunc func(kind string, dir Direction, offset int64, detail string)

// recordLayer is what the machine asks of a record framer below it: to
// read one direction's records through p from the next record on (a key
// change). A carrier whose units say their own protection (QUIC) needs
// none; the machine then has no layer.
type recordLayer interface {
	protect(dir Direction, p Protection)
}

// Handshake is the handshake state machine of one connection: it turns
// handshake messages, and what a record framer saw of the records around
// them (ChangeCipherSpec, alerts, protected records), into a Session. It
// is the one writer of the Session and of every guess made about what
// cannot be read (Hidden13). It copies what it keeps; it never logs,
// panics on input or reads the clock.
type Handshake struct {
	lim       Limits
	onAnomaly AnomalyFunc
	layer     recordLayer // nil when fed messages directly
	s         Session
	off       int64 // offset of the input being handled, for anomalies

	keys Keys   // the key log, nil when none was given (decrypt.go)
	dec  *dec13 // key-log decryption state, made once a key log is consulted (decState)

	plainHandshake [2]bool // a plaintext handshake message was read from this side
	appEvent       [2]bool // an application_data event was recorded for this side
	protected      [2]bool // this side's records are protected (after CCS; TLS 1.3 after ServerHello)

	tls13      bool // TLS 1.3 negotiated: the rest is hidden
	nullCipher bool
	macLen     int      // NULL-cipher suites: record MAC length
	failed     bool     // a fatal alert was read
	sslv2      bool     // an SSLv2 SERVER-HELLO: the rest is SSLv2 (sslv2Record)
	sslv2Enc   [2]uint8 // SSLv2 encrypted records per side, counted to 2
	sslv2Key   bool     // the SSLv2 CLIENT-MASTER-KEY was read
	serverCert bool     // the server sent a Certificate

	eventsFull, alertsFull bool // MaxEvents, MaxAlerts reached (reported once)
}

// NewHandshake returns a machine with the given limits (zero fields take
// the defaults). onAnomaly may be nil. Feed it with Message.
func NewHandshake(lim Limits, onAnomaly AnomalyFunc) *Handshake {
	return &Handshake{lim: lim.withDefaults(), onAnomaly: onAnomaly}
}

// Session returns the facts gathered so far. The machine keeps updating it.
func (h *Handshake) Session() *Session { return &h.s }

// Done reports that the handshake is over: established, failed with a
// fatal alert, or an SSLv2 session, whose rest is not followed.
func (h *Handshake) Done() bool { return h.failed || h.sslv2 || h.s.Established }

func (h *Handshake) anomaly(kind string, dir Direction, format string, args ...any) {
	if h.onAnomaly != nil {
		h.onAnomaly(kind, dir, h.off, fmt.Sprintf(format, args...))
	}
}

// event records one step for the ladder, up to MaxEvents (anomaly
// tls_events_limit once past it).
func (h *Handshake) event(e Event) {
	if len(h.s.Events) >= MaxEvents { // MaxEvents is enforced here
		if !h.eventsFull {
			h.eventsFull = true
			h.anomaly(AnomalyEventsLimit, e.From, "records past the first %d not kept as events", MaxEvents)
		}
		return
	}
	if h.s.Events == nil {
		// A handshake takes about a dozen: grow once, not five times.
		h.s.Events = make([]Event, 0, 16)
	}
	h.s.Events = append(h.s.Events, e)
}

// addAlert keeps an alert, up to MaxAlerts (anomaly tls_alerts_limit
// once past it).
func (h *Handshake) addAlert(a Alert) {
	if len(h.s.Alerts) >= MaxAlerts { // MaxAlerts is enforced here
		if !h.alertsFull {
			h.alertsFull = true
			h.anomaly(AnomalyAlertsLimit, a.From, "alerts past the first %d not kept", MaxAlerts)
		}
		return
	}
	h.s.Alerts = append(h.s.Alerts, a)
}

// setProtection makes a direction's records protected from the next one
// on, through the protection its keys allow.
func (h *Handshake) setProtection(dir Direction) {
	h.protected[dir] = true
	if h.layer != nil {
		h.layer.protect(dir, h.protectionFor(dir))
	}
}

// protectionFor is where a direction's record protection is chosen:
// NULL-cipher MAC stripping, or opaque. With a key log, the decrypting
// protections are chosen before it (serverHello13, changeCipherSpec12),
// which fall back on it when they have no secrets.
func (h *Handshake) protectionFor(Direction) Protection {
	if h.nullCipher && !h.tls13 {
		return nullMAC{macLen: h.macLen}
	}
	return opaque{}
}

// Message handles one complete handshake message.
func (h *Handshake) Message(m Message) {
	h.off = m.Offset
	if h.s.Start.IsZero() {
		h.s.Start = m.Time
	}
	if m.SSLv2 {
		h.sslv2Hello(m)
		return
	}
	dir, body, ts := m.Dir&1, m.Body, m.Time
	h.event(Event{Time: ts, From: dir, Content: ContentHandshake, Handshake: m.Type, Length: len(body), Decrypted: m.Decrypted})
	if m.Decrypted && !h.tls13 && m.Type != TypeFinished && m.Type != TypeNewSessionTicket {
		// TLS 1.2 and older: after the Finished, a handshake under the
		// session's keys is a renegotiation (RFC 5746). It is not
		// followed: its messages are not the session's.
		if m.Type == TypeClientHello || m.Type == TypeServerHello || m.Type == TypeHelloRequest {
			h.decState().renegotiated = true
		}
		return
	}
	h.plainHandshake[dir] = true
	s := &h.s
	switch m.Type {
	case TypeClientHello:
		if dir != ClientToServer {
			h.anomaly(AnomalyUnexpectedMessage, dir, "ClientHello from the server")
			return
		}
		ch, err := ParseClientHello(body)
		if ch == nil {
			h.anomaly(AnomalyBadHandshake, dir, "%v", err)
			return
		}
		if err != nil {
			h.anomaly(AnomalyBadExtension, dir, "%v", err)
		}
		// A second ClientHello answers a HelloRetryRequest, captured or
		// not (RFC 8446, 4.1.2).
		if s.ClientHello != nil && s.FirstClientHello == nil && s.ServerHello == nil {
			s.FirstClientHello = s.ClientHello
		}
		s.ClientHello = ch
		if h.keys != nil && s.ServerHello == nil {
			h.earlyData13(ch)
		}
	case TypeServerHello:
		if dir != ServerToClient {
			h.anomaly(AnomalyUnexpectedMessage, dir, "ServerHello from the client")
			return
		}
		sh, err := ParseServerHello(body)
		if sh == nil {
			h.anomaly(AnomalyBadHandshake, dir, "%v", err)
			return
		}
		if err != nil {
			h.anomaly(AnomalyBadExtension, dir, "%v", err)
		}
		if sh.HelloRetryRequest {
			s.HelloRetry = sh
			return
		}
		h.serverHello(sh, ts)
	case TypeCertificate:
		if h.tls13 {
			// RFC 8446, 4.4.2: read only when decrypted (or fed by a
			// carrier that decrypts, QUIC).
			h.certificate13(dir, body)
			return
		}
		h.certificate(dir, body)
	case TypeCompressedCert:
		// RFC 8879, 4: a Certificate, compressed (Chrome and Cloudflare
		// use brotli).
		alg, cert, err := DecompressCertificate(body, h.lim.MaxHandshake)
		if err != nil {
			kind := AnomalyBadHandshake
			if errors.Is(err, ErrCompression) {
				kind = AnomalyBadCertificate
			}
			h.anomaly(kind, dir, "compressed certificate (algorithm %d): %v", alg, err)
			return
		}
		h.certificate13(dir, cert)
	case TypeEncryptedExtensions:
		ee, err := ParseEncryptedExtensions(body)
		if err != nil {
			kind := AnomalyBadExtension
			if ee == nil {
				kind = AnomalyBadHandshake
			}
			h.anomaly(kind, dir, "%v", err)
		}
		if ee != nil {
			s.EncryptedExtensions = ee
			if ee.ALPNProtocol != "" {
				s.ALPN = ee.ALPNProtocol
			}
		}
	case TypeCertificateVerify:
		scheme, err := ParseCertificateVerify(body)
		if err != nil {
			h.anomaly(AnomalyBadHandshake, dir, "%v", err)
		}
		s.CertificateVerify[dir] = scheme
	case TypeKeyUpdate:
		if _, err := ParseKeyUpdate(body); err != nil {
			h.anomaly(AnomalyBadHandshake, dir, "%v", err)
		}
		s.KeyUpdates[dir]++
		h.changed13(dir, TypeKeyUpdate)
	case TypeEndOfEarlyData:
		h.changed13(dir, TypeEndOfEarlyData)
	case TypeServerKeyExchange:
		suite, ok := LookupCipherSuite(s.CipherSuite)
		if !ok {
			h.anomaly(AnomalyBadHandshake, dir, "ServerKeyExchange for unknown suite %s", CipherSuiteName(s.CipherSuite))
			return
		}
		kx, err := ParseServerKeyExchange(body, suite, s.Version)
		if err != nil {
			h.anomaly(AnomalyBadHandshake, dir, "%v", err)
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
		if h.tls13 {
			t, err := ParseNewSessionTicket13(body)
			if err != nil {
				h.anomaly(AnomalyBadHandshake, dir, "%v", err)
			}
			if t != nil {
				if s.Tickets13 == 0 {
					s.Ticket13 = *t
				}
				s.Tickets13++
			}
		}
	case TypeFinished:
		// Readable only with TLS_NULL_WITH_NULL_NULL, or decrypted.
		h.finished(dir, ts)
		if h.tls13 {
			if dir == ClientToServer {
				s.ClientFinished13 = true
			}
			h.changed13(dir, TypeFinished)
		}
	}
}

// certificate13 keeps a TLS 1.3 chain (RFC 8446, 4.4.2) as certificate
// keeps a TLS 1.2 one.
func (h *Handshake) certificate13(dir Direction, body []byte) {
	chain, err := ParseCertificate13(body, h.lim)
	h.keepChain(dir, chain, err)
}

// certificate keeps a TLS 1.2-style chain: at most Limits.MaxChain
// certificates per side in all, whatever the number of messages.
func (h *Handshake) certificate(dir Direction, body []byte) {
	chain, err := ParseCertificate(body, h.lim)
	h.keepChain(dir, chain, err)
}

func (h *Handshake) keepChain(dir Direction, chain *CertificateChain, err error) {
	s := &h.s
	if chain == nil {
		h.anomaly(AnomalyBadHandshake, dir, "%v", err)
		return
	}
	if err != nil {
		h.anomaly(AnomalyBadHandshake, dir, "%v", err)
	}
	if chain.Errors > 0 {
		h.anomaly(AnomalyBadCertificate, dir, "%d certificate(s) crypto/x509 could not parse", chain.Errors)
	}
	kept := &s.Certificates
	if dir == ClientToServer {
		kept = &s.ClientCertificates
	}
	certs := chain.Certificates
	if room := max(h.lim.MaxChain-len(*kept), 0); len(certs) > room { // Limits.MaxChain, across messages
		chain.Dropped += len(certs) - room
		certs = certs[:room]
	}
	if chain.Dropped > 0 {
		h.anomaly(AnomalyChainTooLong, dir, "%d certificate(s) over the limits not parsed", chain.Dropped)
	}
	*kept = append(*kept, certs...)
	if dir == ServerToClient {
		h.serverCert = true
		s.CertificateErrors += chain.Errors
	} else {
		s.ClientCertSent = s.ClientCertSent || len(chain.Certificates)+chain.Errors+chain.Dropped > 0
	}
}

func (h *Handshake) finished(dir Direction, ts time.Time) {
	s := &h.s
	s.Finished[dir] = true
	if s.Finished[ClientToServer] && s.Finished[ServerToClient] && !s.Established {
		s.Established, s.EstablishedAt = true, ts
	}
}

func (h *Handshake) serverHello(sh *ServerHello, ts time.Time) {
	s := &h.s
	s.ServerHello = sh
	s.Version = sh.Version()
	s.CipherSuite = sh.CipherSuite
	s.ALPN = sh.ALPNProtocol
	s.ServerHelloAt = ts
	if Version13(s.Version) {
		// RFC 8446, 2: everything after ServerHello is encrypted.
		h.tls13, s.Hidden = true, true
		h.serverHello13()
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
		h.nullCipher = true
		h.macLen = macLength(suite.MAC)
	}
}

// sslv2Hello handles an SSLv2-format CLIENT-HELLO or SERVER-HELLO.
func (h *Handshake) sslv2Hello(m Message) {
	s := &h.s
	dir, body, ts := m.Dir&1, m.Body, m.Time
	h.plainHandshake[dir] = true
	if dir == ClientToServer {
		h.event(Event{Time: ts, From: dir, Content: ContentHandshake, Handshake: TypeClientHello, Length: len(body)})
		ch, err := ParseSSLv2ClientHello(body)
		if ch == nil {
			h.anomaly(AnomalyBadHandshake, dir, "%v", err)
			return
		}
		if err != nil {
			h.anomaly(AnomalyBadHandshake, dir, "%v", err)
		}
		s.ClientHello = ch
		return
	}
	h.event(Event{Time: ts, From: dir, Content: ContentHandshake, Handshake: TypeServerHello, Length: len(body)})
	sh, der, err := parseSSLv2ServerHello(body, h.lim)
	if err != nil {
		h.anomaly(AnomalyBadHandshake, dir, "%v", err)
	}
	if sh == nil {
		return
	}
	s.ServerHello, s.Version, s.ServerHelloAt = sh, VersionSSL20, ts
	h.sslv2 = true
	if sh.SSLv2SessionHit {
		s.Resumed, s.Resumption = true, "session_id"
	}
	switch {
	case len(der) == 0:
	case len(der) > h.lim.MaxCertificate: // Limits.MaxCertificate, for SSLv2
		h.anomaly(AnomalyChainTooLong, dir, "SSLv2 server certificate of %d bytes over %d not parsed", len(der), h.lim.MaxCertificate)
	default:
		if cert, err := h.lim.Certificates.parse(der); err == nil {
			s.Certificates = append(s.Certificates, cert)
		} else {
			s.CertificateErrors++
			h.anomaly(AnomalyBadCertificate, dir, "SSLv2 server certificate: %v", err)
		}
	}
}

// sslv2Record: an SSLv2 record after the hellos (its first bytes in head,
// length in all). The client's first is a CLIENT-MASTER-KEY in the clear
// unless the server found the session (session_id_hit): its cipher kind
// is the one the session uses. Every other record is encrypted: the
// handshake ends with the client's CLIENT-FINISHED and the server's
// SERVER-VERIFY and SERVER-FINISHED, so the session is established once
// the client has sent one encrypted record and the server two; what
// follows is application data.
func (h *Handshake) sslv2Record(dir Direction, head []byte, length int, off int64, ts time.Time) {
	h.off = off
	s := &h.s
	if dir == ClientToServer && !h.sslv2Key && h.sslv2Enc[dir] == 0 && !s.Resumed && len(head) >= 4 && head[0] == 2 {
		h.sslv2Key = true
		if sh := s.ServerHello; sh != nil {
			sh.SSLv2CipherKind = uint32(head[1])<<16 | uint32(head[2])<<8 | uint32(head[3])
		}
		h.event(Event{Time: ts, From: dir, Content: ContentHandshake, Handshake: TypeClientKeyExchange, Length: length})
		return
	}
	if s.Established {
		h.applicationData(dir, length, false, off, ts)
		return
	}
	h.event(Event{Time: ts, From: dir, Content: ContentHandshake, Encrypted: true, Length: length})
	if h.sslv2Enc[dir] < 2 {
		h.sslv2Enc[dir]++
	}
	if h.sslv2Enc[ClientToServer] >= 1 && h.sslv2Enc[ServerToClient] >= 2 {
		s.Established, s.EstablishedAt = true, ts
	}
}

// The record-level inputs below come from a record framer (Conn; a DTLS
// framer later): what it saw of the records that are not handshake
// messages in the clear. off is the record header's stream offset.

// messageTooLong: a handshake message over Limits.MaxHandshake that the
// framer skips; it still counts as a step.
func (h *Handshake) messageTooLong(dir Direction, typ uint8, n int, off int64, ts time.Time) {
	h.off = off
	h.anomaly(AnomalyHandshakeTooLong, dir, "%s of %d bytes over %d", HandshakeTypeName(typ), n, h.lim.MaxHandshake)
	h.event(Event{Time: ts, From: dir, Content: ContentHandshake, Handshake: typ, Length: n})
}

// changeCipherSpec: from the next record on, this side is protected
// (TLS 1.2 and older).
func (h *Handshake) changeCipherSpec(dir Direction, length int, off int64, ts time.Time) {
	h.off = off
	s := &h.s
	h.event(Event{Time: ts, From: dir, Content: ContentChangeCipherSpec, Length: length})
	s.ChangeCipherSpec[dir] = true
	if h.tls13 {
		return // RFC 8446, D.4: middlebox compatibility, nothing changes
	}
	if s.ServerHello == nil && (s.HelloRetry != nil || earlyData13(s.ClientHello) || dir == ClientToServer && s.ClientHello != nil) {
		// RFC 8446, D.4: a compatibility CCS after a HelloRetryRequest
		// (captured or not: nothing is protected before a ServerHello
		// chose a suite), or the client's right after a ClientHello with
		// 0-RTT data (its early data follows, before any ServerHello).
		return
	}
	if h.keys != nil && s.ServerHello != nil {
		h.changeCipherSpec12(dir)
	} else {
		h.setProtection(dir)
	}
	if dir == ServerToClient && s.ServerHello != nil && !h.serverCert {
		// RFC 5077, 3.1: the server accepted a ticket and goes straight
		// to ChangeCipherSpec after its ServerHello.
		if ch := s.ClientHello; ch != nil && ch.SessionTicketLen > 0 {
			s.Resumed, s.Resumption = true, "ticket"
		}
	}
}

// earlyData13 reports whether a ClientHello offers TLS 1.3 with 0-RTT
// data.
func earlyData13(ch *ClientHello) bool {
	if ch == nil || !ch.EarlyData {
		return false
	}
	for _, v := range ch.SupportedVersions {
		if Version13(v) {
			return true
		}
	}
	return false
}

// alert: an alert record's body (nil when it was too long to keep),
// whether it was protected, and whether it was decrypted (then it is
// read as plaintext).
func (h *Handshake) alert(dir Direction, body []byte, protected, decrypted bool, length int, off int64, ts time.Time) {
	h.off = off
	// An alert is readable when it is exactly two bytes (no cipher, MAC
	// or AEAD tag fits in none), or before encryption starts on a stream
	// whose handshake was seen (a stream joined in the middle may be
	// encrypted already) and every level is warning or fatal.
	if len(body) == 2 || !protected && (h.plainHandshake[dir] || decrypted) && plainAlerts(body) {
		for i := 0; i+1 < len(body); i += 2 {
			a := Alert{From: dir, Level: body[i], Description: body[i+1], Time: ts, Decrypted: decrypted}
			h.addAlert(a)
			h.event(Event{Time: ts, From: dir, Content: ContentAlert, Length: 2, Decrypted: decrypted})
			if a.Level == AlertLevelFatal {
				h.failed = true
			}
		}
		return
	}
	h.addAlert(Alert{From: dir, Encrypted: true, Time: ts})
	h.event(Event{Time: ts, From: dir, Content: ContentAlert, Encrypted: true, Length: length})
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

// protectedHandshake: a handshake record that could not be opened. In
// TLS 1.2 and older the first after ChangeCipherSpec is that side's
// Finished (RFC 5246, 7.4.9).
func (h *Handshake) protectedHandshake(dir Direction, length int, off int64, ts time.Time) {
	h.off = off
	h.event(Event{Time: ts, From: dir, Content: ContentHandshake, Encrypted: true, Length: length})
	if h.tls13 || h.s.Finished[dir] {
		return
	}
	h.s.Finished[dir] = true
	if h.s.Finished[ClientToServer] && h.s.Finished[ServerToClient] && !h.s.Established {
		h.s.Established, h.s.EstablishedAt = true, ts
	}
}

// tls13AlertSize is the length of an encrypted TLS 1.3 alert with a
// 16-byte AEAD tag and no padding: 2 + 1 (inner content type) + 16.
const tls13AlertSize = 19

// applicationData: an application_data record of length bytes (in TLS
// 1.3, any record after the ServerHello that was not opened); decrypted:
// a TLS 1.3 record opened with the key log whose inner type is
// application data, so nothing about it is guessed.
func (h *Handshake) applicationData(dir Direction, length int, decrypted bool, off int64, ts time.Time) {
	h.off = off
	s := &h.s
	if h.tls13 && !decrypted {
		// RFC 8446, 5.2: every record after ServerHello is
		// application_data on the outside. The server's first ones carry
		// its handshake flight; the client's first that is not
		// alert-sized its Finished flight; what follows is application
		// data. This is the one place the guess is made (Hidden13).
		if !s.ClientFinished13 {
			g := Hidden13Handshake
			if dir == ClientToServer {
				g = Hidden13Alert
				if length != tls13AlertSize {
					g, s.ClientFinished13 = Hidden13ClientFinished, true
				}
			}
			h.event(Event{Time: ts, From: dir, Content: ContentApplicationData, Encrypted: true, Length: length, Hidden13: g})
			return
		}
		if !s.Established && length != tls13AlertSize {
			s.Established, s.EstablishedAt = true, ts
		}
	}
	s.AppData[dir] += uint64(length)
	if s.FirstAppDataAt.IsZero() {
		s.FirstAppDataAt = ts
	}
	if !h.appEvent[dir] {
		h.appEvent[dir] = true
		h.event(Event{Time: ts, From: dir, Content: ContentApplicationData, Encrypted: !h.nullCipher, Length: length, Decrypted: decrypted})
	}
}

// heartbeat: a heartbeat record (RFC 6520), never read.
func (h *Handshake) heartbeat(dir Direction, length int, off int64, ts time.Time) {
	h.off = off
	h.event(Event{Time: ts, From: dir, Content: ContentHeartbeat, Encrypted: h.protected[dir], Length: length})
}
