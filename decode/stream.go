package decode

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsscope/tlsscope/decode/cleartext"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/fingerprint"
	"github.com/tlsscope/tlsscope/decode/flow"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// maxTries bounds the chunks a stream whose start was not captured may
// take to show a recognisable record boundary. It drops nothing a parser
// would have had: a stream that does not sniff in maxTries chunks is of an
// unknown protocol (Connection.Protocol ""), counted and not parsed, like
// one whose first bytes did not sniff.
const maxTries = 8

// Anomalies for decode's own caps (analyzer.go), each reported once per
// connection, the first time the cap is hit.
const (
	anomalySecretsLimit = "secrets_limit"      // maxSecrets: later secrets are not kept in Connection.Secrets
	anomalyHTTPLimit    = "http_limit"         // maxHTTP: later messages are not kept in Connection.HTTP
	anomalySniffLimit   = "sniff_limit"        // maxPending: bytes held without a TLS record boundary; TLS is given up
	anomalyLaterLimit   = "tls_sessions_limit" // maxLaterSessions: later TLS sessions on one stream are not parsed
	anomalyScanLimit    = "tls_scan_limit"     // maxLookAhead: an unknown protocol's stream showed no ClientHello in its first bytes; the rest is counted, not parsed
)

// maxLookAhead bounds the mid-stream scan (midScan): a ClientHello that
// begins after a cleartext preamble is looked for in the first
// maxLookAhead bytes of a direction. Past it, a stream of an unknown
// protocol is only counted (anomalyScanLimit, once per connection); a
// cleartext stream goes on being parsed by its protocol's parser, so
// nothing is lost there and nothing is reported.
const maxLookAhead = 16 << 10

// maxLaterSessions bounds the TLS sessions after the first kept for one
// stream (Connection.LaterTLS): anomalyLaterLimit.
const maxLaterSessions = 8

// limit is a bit for each cap of a connection, set once it has been hit.
type limit uint8

const (
	limitSecrets limit = 1 << iota
	limitHTTP
	limitSniff
	limitScan
	limitLater
)

// kind is what a stream was recognised as.
type kind uint8

const (
	undecided kind = iota
	kindTLS
	kindCleartext
	kindOther // neither: bytes are counted, not parsed
)

// stream is one TCP connection: the reassembler's Stream, and the state of
// the protocol parser fed by it.
type stream struct {
	a    *Analyzer
	conn facts.Connection
	ent  flow.Entry[tracked] // in the Analyzer's table; its key's Pair is the key of Analyzer.closed

	tls     *tls.Conn
	text    *cleartext.Stream
	scan    *midScan  // looking for TLS after a cleartext or unknown preamble; nil when not
	tunnel  string    // the proxy protocol whose tunnel the stream's bytes now travel ("" none)
	pending [2][]byte // bytes held until the protocol is known
	tries   int       // chunks of a mid-stream capture that did not sniff
	offset  [2]int64  // stream offsets, for anomalies

	// Per reassembler direction: the sender, and the sequence number after
	// the last byte (or SYN/FIN) it sent; closeStream ends a half there.
	sender [2]netip.AddrPort
	end    [2]uint32

	// Per client/server direction, once bypassed: the sequence number the
	// TLS record framer expects next, and segments that came ahead of it
	// (Analyzer.follow).
	next [2]uint32
	held [2][]heldSegment

	// The flags last, together: a stream is allocated per connection, and
	// scattered between wider fields each would take a word.

	// The client is decided from the SYN, or from the first bytes when the
	// handshake was not captured; flipped says the reassembler's first
	// direction is server to client.
	roleKnown bool
	flipped   bool // the first packet came from the server

	kind              kind
	done              bool // nothing more to parse: count bytes only
	handshakeReported bool
	fin, rst          bool
	finFrom           [2]bool // a FIN came from the client, the server (bypassed streams)
	bypassed          bool    // out of the reassembler: packets are counted, not reassembled
	evicted           bool
	finished          bool
	limits            limit // caps hit, each reported once
	endKnown          [2]bool
	follow            [2]bool // bypassed TLS: in-order payload still goes to the record framer (Analyzer.follow)
	closing           bool    // finished by FIN or RST, not reported yet (Analyzer.closing)
}

func newStream(a *Analyzer, id uint64, ts time.Time, tcp *layers.TCP) *stream {
	s := &stream{a: a}
	s.ent.Flow = s
	s.conn.ID = id
	s.conn.Capture = a.capture
	s.conn.First, s.conn.Last = ts, ts
	src, dst := a.seg.Src, a.seg.Dst
	switch {
	case tcp.SYN && !tcp.ACK: // the client opens
		s.roleKnown = true
		s.conn.StartSeen = true
	case tcp.SYN && tcp.ACK: // the server answers: the client's SYN was lost
		s.roleKnown, s.flipped = true, true
	}
	if s.flipped {
		src, dst = dst, src
	}
	s.conn.Client, s.conn.Server = src, dst
	return s
}

// setClient fixes the roles; swap says the endpoint taken as client so far
// is the server. It returns dir as seen after the swap.
func (s *stream) setClient(swap bool, dir tls.Direction) tls.Direction {
	s.roleKnown = true
	if !swap {
		return dir
	}
	s.flipped = !s.flipped
	c := &s.conn
	c.Client, c.Server = c.Server, c.Client
	c.Packets[0], c.Packets[1] = c.Packets[1], c.Packets[0]
	c.Bytes[0], c.Bytes[1] = c.Bytes[1], c.Bytes[0]
	s.pending[0], s.pending[1] = s.pending[1], s.pending[0]
	return 1 - dir
}

// faultHook lets tests inject a failure into a flow's parsing;
// noFingerprints lets a benchmark measure what fingerprints cost.
var (
	faultHook      func(data []byte)
	noFingerprints bool
)

// recoverParser contains a panic in one flow's parser (none should ever
// happen; should one slip through, it costs that flow, not the run): it
// becomes a counted anomaly naming the flow, and the flow is only counted
// from then on.
func (s *stream) recoverParser(dir tls.Direction, ts time.Time) {
	if r := recover(); r != nil {
		s.a.anomaly(s.anomalyAt(dir, "parser_panic", ts, fmt.Sprint(r)))
		s.stop()
		s.text = nil
		s.follow = [2]bool{}
	}
}

func (s *stream) anomalyAt(dir tls.Direction, kind string, ts time.Time, detail string) facts.Anomaly {
	return facts.Anomaly{Kind: kind, Time: ts, ConnID: s.conn.ID, Client: s.conn.Client,
		Server: s.conn.Server, Offset: s.offset[dir], Detail: detail}
}

func (s *stream) gap(dir tls.Direction) {
	switch s.kind {
	case kindTLS:
		s.tls.Gap(dir)
	case kindCleartext:
		s.text.Gap(dir)
	case undecided:
		s.pending[dir] = s.pending[dir][:0]
	}
	if s.scan != nil {
		s.scan.carry[dir] = s.scan.carry[dir][:0]
	}
}

// feed routes in-order bytes to the stream's parser, deciding the protocol
// from the first bytes when it is not known yet.
func (s *stream) feed(dir tls.Direction, data []byte, ts time.Time) {
	if s.kind == undecided {
		s.decide(dir, data, ts) // once it knows, it replays the held bytes and data
		return
	}
	switch s.kind {
	case kindTLS:
		s.feedTLS(dir, data, ts)
	case kindCleartext:
		if s.text.Feed(dir, data, ts) {
			rest := data[len(data)-s.text.Rest():]
			if dir == tls.ClientToServer {
				s.conn.TLSOffset = s.offset[dir] + int64(len(data)-len(rest))
			} else {
				s.conn.TLSOffset = s.offset[1-dir]
			}
			s.startTLS()
			if len(rest) > 0 {
				s.feed(dir, rest, ts) // bytes after the switch, in the same chunk
			}
		} else if s.text.Done() {
			s.stop() // e.g. an HTTP body nobody reads, then the close
		} else if s.scan != nil {
			s.scanFor(dir, data, ts)
		}
	case kindOther:
		if s.scan != nil {
			s.scanFor(dir, data, ts)
		}
	}
}

// decide sniffs the first bytes of the stream. It returns true once the
// protocol is known and every held byte has been fed.
func (s *stream) decide(dir tls.Direction, data []byte, ts time.Time) bool {
	buf := data
	if len(s.pending[dir]) > 0 {
		s.pending[dir] = append(s.pending[dir], data...)
		buf = s.pending[dir]
	}
	switch tls.Sniff(buf) {
	case tls.Yes:
		if !s.roleKnown {
			// A ClientHello comes from the client, a ServerHello from the
			// server; for anything else (a capture that starts mid-stream)
			// the endpoint on the lower port is taken as the server.
			switch helloType(buf) {
			case 1:
				dir = s.setClient(dir != tls.ClientToServer, dir)
			case 2, 4:
				dir = s.setClient(dir == tls.ClientToServer, dir)
			default:
				dir = s.setClient(s.conn.Client.Port() < s.conn.Server.Port(), dir)
			}
		}
		s.kind = kindTLS
		s.conn.Protocol = "tls"
		if s.tunnel != "" { // TLS through a proxy's tunnel (startTLS)
			s.conn.StartTLS = s.tunnel
		}
		s.tls = s.newTLS()
	case tls.NeedMore:
		if len(buf) < maxPending {
			if len(s.pending[dir]) == 0 {
				s.pending[dir] = append(s.pending[dir], data...)
			}
			return false
		}
		s.hit(limitSniff, anomalySniffLimit, dir, ts, "")
		fallthrough
	default:
		if !s.roleKnown {
			// Without a SYN, take the endpoint on the lower port as the
			// server: clients use ephemeral ports.
			dir = s.setClient(s.conn.Client.Port() < s.conn.Server.Port(), dir)
		}
		p := cleartext.Sniff(buf, dir, s.conn.Server.Port())
		if p == "" && !s.conn.StartSeen && s.tries < maxTries {
			// A capture that starts mid-stream may start mid-record: try
			// again at the next chunk.
			s.tries++
			s.pending[dir] = s.pending[dir][:0]
			return false
		}
		if p == "" {
			// Unknown: TLS may still begin after a preamble (midScan).
			s.kind = kindOther
			s.scan = &midScan{}
		} else {
			s.kind = kindCleartext
			s.conn.Protocol = string(p)
			s.text = s.newText(p)
			// HTTP's parser follows its one way into TLS (a CONNECT
			// tunnel) and stops at a 101; the scan would only cost an
			// allocation per HTTP stream, the commonest cleartext.
			if p != cleartext.HTTP {
				s.scan = &midScan{}
			}
		}
	}
	// Replay what was held, the other direction first (it arrived earlier).
	other := 1 - dir
	held := s.pending
	s.pending = [2][]byte{}
	if len(held[other]) > 0 {
		s.feed(other, held[other], ts)
	}
	if len(held[dir]) > 0 {
		s.feed(dir, held[dir], ts)
	} else {
		s.feed(dir, data, ts)
	}
	return true
}

// helloType is the handshake type that bytes sniffed as TLS start with:
// 1 ClientHello, 2 ServerHello (TLS record), 1 or 4 (SSLv2 CLIENT-HELLO,
// SERVER-HELLO), 0 for anything else.
func helloType(b []byte) uint8 {
	if len(b) >= 6 && b[0] == 22 {
		return b[5]
	}
	if len(b) >= 3 && b[0]&0x80 != 0 {
		return b[2]
	}
	return 0
}

func (s *stream) newTLS() *tls.Conn {
	c := s.newTLSConn()
	s.conn.TLS = c.Session()
	return c
}

func (s *stream) newTLSConn() *tls.Conn {
	c := tls.NewConn(tls.Limits{Certificates: &s.a.certs}, func(kind string, dir tls.Direction, off int64, detail string) {
		s.a.anomaly(s.anomalyAt(dir, kind, s.a.now, detail))
	})
	c.OnPlaintext = s.plaintext
	if s.a.cfg.Keys != nil {
		c.SetKeys(s.a.cfg.Keys)
	}
	return c
}

func (s *stream) newText(p cleartext.Protocol) *cleartext.Stream {
	return cleartext.NewStream(p, cleartext.Config{ShowSecrets: s.a.cfg.ShowSecrets}, cleartext.Handler{
		Secret: s.secret,
		HTTP:   s.http,
		Anomaly: func(kind string, dir tls.Direction, detail string) {
			s.a.anomaly(s.anomalyAt(dir, kind, s.a.now, detail))
		},
	})
}

func (s *stream) feedTLS(dir tls.Direction, data []byte, ts time.Time) {
	// A handshake record header first (0x16 0x03) before the full look:
	// this runs on every client segment after the handshake.
	if dir == tls.ClientToServer && len(data) > 5 && data[0] == tls.ContentHandshake && data[1] == 3 &&
		s.handshakeReported && s.tls.Session().Established {
		if off, v := tls.FindClientHello(data); off == 0 && v == tls.Yes {
			s.laterSession(ts)
		}
	}
	s.tls.Feed(dir, data, ts)
	if n := len(s.conn.LaterTLS); n > 0 {
		// The connection's handshake was reported with the first session;
		// a later one only gets its fingerprints.
		l := &s.conn.LaterTLS[n-1]
		tmp := facts.Connection{Transport: s.conn.Transport, TLS: l.TLS, Fingerprints: l.Fingerprints}
		fingerprintConn(&tmp)
		l.Fingerprints = tmp.Fingerprints
	}
	sess := s.conn.TLS
	if !s.handshakeReported && (sess.Established || failed(sess)) {
		s.handshakeReported = true
		s.fingerprint()
		describeCertificates(&s.conn)
		s.a.emit(event{kind: evHandshake, id: s.conn.ID}, &s.conn)
	}
	if s.tls.Done() && s.text == nil {
		s.stop()
	}
}

// laterSession starts a new TLS session on a stream whose first one was
// established: the client sent a ClientHello in a record of its own, in
// the clear, after the handshake (a second session after close_notify; an
// encrypted TLS 1.2 renegotiation does not look like one). Connection.TLS
// stays the first session, which gives the fingerprints (FoxIO: the first
// ClientHello is ja4); the later ones are listed in Connection.LaterTLS,
// at most maxLaterSessions (anomalyLaterLimit past it: not parsed).
//
// Past its first handshake a stream leaves the reassembler, for speed,
// but its in-order segments still reach the record framer
// (Analyzer.follow), so a later session in the clear is seen with or
// without a key log (tls-twice.pcap's second.localhost).
func (s *stream) laterSession(ts time.Time) {
	if len(s.conn.LaterTLS) >= maxLaterSessions { // maxLaterSessions is enforced here
		s.hit(limitLater, anomalyLaterLimit, tls.ClientToServer, ts, "")
		return
	}
	s.tls = s.newTLSConn()
	s.conn.LaterTLS = append(s.conn.LaterTLS, facts.LaterTLS{TLS: s.tls.Session()})
}

// stop ends parsing: from the next packet on, the stream is only counted,
// outside the reassembler (Analyzer.bypass).
func (s *stream) stop() {
	if !s.done && !s.finished {
		s.a.toBypass = append(s.a.toBypass, s)
	}
	s.done = true
}

// failed reports a fatal alert before the handshake completed.
func failed(sess *tls.Session) bool {
	for _, al := range sess.Alerts {
		if al.Level == 2 || al.Encrypted && !sess.Established {
			return true
		}
	}
	return false
}

// plaintext receives the application data of a NULL-cipher TLS session:
// it is cleartext like any other and goes to the cleartext detectors.
func (s *stream) plaintext(dir tls.Direction, data []byte, ts time.Time) {
	if s.text == nil {
		p := cleartext.Sniff(data, dir, s.conn.Server.Port())
		if p == "" {
			return
		}
		s.text = s.newText(p)
	}
	s.text.Feed(dir, data, ts)
}

// startTLS switches a cleartext stream that negotiated STARTTLS to TLS;
// a proxy's tunnel (SOCKS, HTTP CONNECT) instead starts the stream afresh,
// its protocol sniffed from the first bytes through the tunnel (TLS to the
// proxy's target, most often): Protocol stays the proxy's until then.
func (s *stream) startTLS() {
	name := string(s.text.Protocol())
	target := s.text.Target()
	s.text.Close()
	s.text = nil
	s.scan = nil
	if target != "" {
		s.conn.Proxy = target
		s.conn.Protocol = name
		s.tunnel = name
		s.kind = undecided
		s.pending = [2][]byte{}
		return
	}
	if s.conn.StartTLS == "" {
		s.conn.StartTLS = name
	}
	s.conn.Protocol = "tls"
	s.kind = kindTLS
	s.tls = s.newTLS()
}

// midScan looks for a ClientHello that begins after a cleartext preamble
// (tls.FindClientHello) in the first maxLookAhead bytes of a direction: a
// protocol that turns into TLS in a way no parser here follows.
type midScan struct {
	base  [2]int64  // stream offset of the next byte scanned (the carry's first)
	carry [2][]byte // a candidate cut at the end of a chunk, kept (copied) for the next
}

// scanFor scans one chunk; once a ClientHello is found the stream is TLS
// from there, the preamble's protocol (if one was recognised) is its
// StartTLS, and the client bytes before it are Connection.TLSOffset.
func (s *stream) scanFor(dir tls.Direction, data []byte, ts time.Time) {
	sc := s.scan
	if sc.base[dir] >= maxLookAhead {
		return
	}
	if dir != tls.ClientToServer && s.conn.StartSeen {
		// The SYN told the roles: only the client sends a ClientHello. A
		// server that sent maxLookAhead bytes first is past any preamble:
		// the scan ends there too, not to keep a bulk transfer of an
		// unknown protocol in the reassembler.
		sc.base[dir] += int64(len(data))
		if sc.base[dir] >= maxLookAhead {
			s.scanDone(dir, ts)
		}
		return
	}
	buf := data
	if len(sc.carry[dir]) > 0 {
		sc.carry[dir] = append(sc.carry[dir], data...)
		buf = sc.carry[dir]
	}
	lim := int(maxLookAhead - sc.base[dir])
	off, v := tls.FindClientHello(buf)
	switch {
	case off >= lim || v == tls.No:
		sc.base[dir] += int64(len(buf))
		sc.carry[dir] = sc.carry[dir][:0]
		if sc.base[dir] >= maxLookAhead {
			s.scanDone(dir, ts)
		}
	case v == tls.NeedMore:
		sc.base[dir] += int64(off)
		sc.carry[dir] = append(sc.carry[dir][:0], buf[off:]...)
	default:
		s.midStreamTLS(dir, buf[off:], sc.base[dir]+int64(off), ts)
	}
}

// scanDone ends the scan of a direction that reached maxLookAhead; an
// unknown protocol's stream with nothing left to scan is only counted
// from then on.
func (s *stream) scanDone(dir tls.Direction, ts time.Time) {
	if !s.conn.StartSeen && s.scan.base[1-dir] < maxLookAhead {
		return // the other direction may still show one
	}
	// With the SYN seen, either direction's reaching the cap ends it.
	s.scan = nil
	if s.kind == kindOther {
		s.hit(limitScan, anomalyScanLimit, dir, ts, "")
		s.stop()
	}
}

// midStreamTLS turns the stream into TLS at a ClientHello found by the
// scan, at stream offset off of direction dir.
func (s *stream) midStreamTLS(dir tls.Direction, hello []byte, off int64, ts time.Time) {
	if !s.conn.StartSeen && dir != tls.ClientToServer {
		dir = s.setClient(true, dir) // the roles were guessed from the ports, wrongly
	}
	hello = append([]byte(nil), hello...) // the carry, or the reassembler's bytes, is reused
	if s.text != nil {
		if s.conn.StartTLS == "" {
			s.conn.StartTLS = string(s.text.Protocol())
		}
		s.text.Close()
		s.text = nil
	}
	s.scan = nil
	s.conn.TLSOffset = off
	if s.tunnel != "" && s.conn.StartTLS == "" {
		s.conn.StartTLS = s.tunnel
	}
	s.conn.Protocol = "tls"
	s.kind = kindTLS
	s.tls = s.newTLS()
	s.feedTLS(dir, hello, ts)
}

// hit reports the first time the connection hits a cap.
func (s *stream) hit(l limit, kind string, dir tls.Direction, ts time.Time, detail string) {
	if s.limits&l != 0 {
		return
	}
	s.limits |= l
	s.a.anomaly(s.anomalyAt(dir, kind, ts, detail))
}

func (s *stream) secret(sec facts.Secret) {
	if len(s.conn.Secrets) < maxSecrets {
		s.conn.Secrets = append(s.conn.Secrets, sec)
	} else {
		s.hit(limitSecrets, anomalySecretsLimit, tls.Direction(sec.From&1), sec.Time, "")
	}
	s.a.emit(event{kind: evSecret, id: s.conn.ID, secret: sec}, &s.conn)
}

func (s *stream) http(m facts.HTTPMessage) {
	if len(s.conn.HTTP) < maxHTTP {
		s.conn.HTTP = append(s.conn.HTTP, m)
	} else {
		s.hit(limitHTTP, anomalyHTTPLimit, tls.ClientToServer, m.Time, "")
	}
	s.a.emit(event{kind: evHTTP, id: s.conn.ID, http: m}, &s.conn)
}

func (s *stream) fingerprint() {
	if s.conn.TLS != nil {
		fingerprintConn(&s.conn)
	}
}

// fingerprintConn computes a connection's fingerprints from its TLS
// session, once each; JA4's transport character comes from the
// connection's transport (ja4Transport).
func fingerprintConn(c *facts.Connection) {
	sess := c.TLS
	if sess == nil || noFingerprints {
		return
	}
	fp := &c.Fingerprints
	// After a HelloRetryRequest the client sends a second ClientHello; the
	// fingerprint is the first one's, as FoxIO's ja4 and tshark's first
	// hello give (the second differs only in its key share).
	ch := sess.FirstClientHello
	if ch == nil {
		ch = sess.ClientHello
	}
	if ch != nil && fp.JA4 == "" {
		fp.JA3, fp.JA3Full = fingerprint.JA3(ch)
		fp.JA4, fp.JA4R = fingerprint.JA4(ch, ja4Transport(c))
	}
	if second := sess.ClientHello; sess.FirstClientHello != nil && second != nil && second != ch && fp.JA4Retry == "" {
		fp.JA4Retry, fp.JA4RetryR = fingerprint.JA4(second, ja4Transport(c))
	}
	if sh := sess.ServerHello; sh != nil && fp.JA3S == "" {
		fp.JA3S, fp.JA3SFull = fingerprint.JA3S(sh)
	}
}

// ja4Transport is JA4's first character for a connection: TLS over TCP,
// QUIC, or DTLS (another UDP flow).
func ja4Transport(c *facts.Connection) byte {
	switch c.Transport {
	case facts.QUIC:
		return fingerprint.JA4QUIC
	case facts.UDP:
		return fingerprint.JA4DTLS
	}
	return fingerprint.JA4TCP
}
