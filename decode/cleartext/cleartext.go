// Package cleartext finds secrets that cross the network unencrypted: it
// recognises HTTP/1.x, FTP, SMTP, POP3, IMAP, Telnet and LDAP streams by
// their first bytes (and common ports), follows each protocol far enough to
// see credentials, tokens, session cookies, card numbers and personal data,
// and reports them as facts.Secret values whose Masked field is always safe
// to print. It notices STARTTLS-style upgrades (SMTP STARTTLS, IMAP
// STARTTLS, POP3 STLS, FTP AUTH TLS) so the caller can hand the rest of the
// stream to the TLS tracker.
//
// It does not reassemble TCP, decrypt anything or decide severities beyond
// a suggested override; it never logs and never panics on hostile input.
// Everything it keeps from the bytes it is fed is copied and bounded; a
// bound that drops data is a named limit (see Limits) and, when hit, its
// named anomaly (the Anomaly constants), never a silent loss. It also
// follows the protocols whose streams hand over to TLS or to a proxy's
// tunnel by their own rules (handover.go: PostgreSQL, MySQL, SOCKS4/5,
// XMPP, RDP; IRC, NNTP and ManageSieve STARTTLS with the line protocols):
// Feed says where the switch came (Rest) and, for a tunnel, its target.
// Lengths and offsets from the wire (NTLM, BER, the hand-over protocols'
// headers) are read through cryptobyte and range-checked before they
// become an int.
package cleartext

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// Protocol names a cleartext application protocol; "" is unknown.
type Protocol string

// The protocols Sniff recognises.
const (
	HTTP   Protocol = "http"
	FTP    Protocol = "ftp"
	SMTP   Protocol = "smtp"
	POP3   Protocol = "pop3"
	IMAP   Protocol = "imap"
	Telnet Protocol = "telnet"
	LDAP   Protocol = "ldap"
	IRC    Protocol = "irc"   // RFC 1459 and IRCv3's tls extension: STARTTLS, 670 / 691
	NNTP   Protocol = "nntp"  // RFC 3977, RFC 4642 STARTTLS (382), RFC 4643 AUTHINFO
	Sieve  Protocol = "sieve" // ManageSieve, RFC 5804: STARTTLS, OK / NO
)

// Finding ids carried in facts.Secret.Kind.
const (
	KindCredentials   = "plaintext-credentials"
	KindSessionCookie = "plaintext-session-cookie"
	KindCardNumber    = "plaintext-card-number"
	KindPII           = "plaintext-pii"
	KindLoginPage     = "plaintext-login-page"
)

// Limits. Each is enforced in one place and, where hitting it drops data,
// is the anomaly named beside it, reported through Handler.Anomaly and
// counted in Stream.Truncated: nothing is dropped silently.
const (
	DefaultMaxBody = 1 << 20  // HTTP body bytes parsed per message (Config.MaxBody): AnomalyBodyOverLimit, AnomalyDecompressedOverLimit
	maxHeaderBytes = 64 << 10 // an HTTP header block: AnomalyHeaderTooLong
	maxHeaders     = 256      // header fields kept per HTTP message: AnomalyTooManyHeaders
	maxAuthParams  = 32       // auth-params read from one Authorization header: AnomalyTooManyAuthParams
	maxLine        = 8 << 10  // one FTP/SMTP/POP3/IMAP/Telnet line: AnomalyLineTooLong; an HTTP chunk-size or trailer line: AnomalyChunkLineTooLong; an IMAP literal: AnomalyLiteralTooLong
	maxPipelined   = 64       // HTTP requests awaiting their response: AnomalyTooManyPipelined
	maxSecrets     = 512      // distinct secrets reported (and remembered for de-duplication) per stream: AnomalyTooManySecrets
	maxLDAPMessage = 64 << 10 // one LDAP message parsed: AnomalyLDAPMessageTooLong
	maxFields      = 1000     // form, query, JSON or multipart fields looked at per message: AnomalyTooManyFields
	maxParts       = 100      // multipart parts read per message: AnomalyTooManyParts
	maxJSONDepth   = 64       // nesting of a JSON body walked for fields: AnomalyJSONTooDeep
	maxScan        = 1 << 20  // text one scan for tokens, cards and personal data looks at: AnomalyScanTruncated
	maxMatches     = 16       // matches taken per token rule, and e-mail addresses and SSNs, per scan: AnomalyTooManyMatches
	maxCards       = 32       // card number candidates per scan: AnomalyTooManyMatches
)

// Anomaly kinds, stable snake_case names, passed to Handler.Anomaly.
// Those of a limit (see Limits) also count in Stream.Truncated.
const (
	AnomalyHeaderTooLong         = "http_header_too_long"         // a header block over maxHeaderBytes: the direction is not parsed further
	AnomalyTooManyHeaders        = "http_too_many_headers"        // header fields past maxHeaders are not read
	AnomalyTooManyAuthParams     = "http_too_many_auth_params"    // auth-params past maxAuthParams are not read
	AnomalyBodyOverLimit         = "http_body_over_limit"         // body bytes past Config.MaxBody are framed, not kept
	AnomalyDecompressedOverLimit = "http_decompressed_over_limit" // decompressed bytes past Config.MaxBody are not kept
	AnomalyChunkLineTooLong      = "http_chunk_line_too_long"     // a chunk-size or trailer line over maxLine: the direction is not parsed further
	AnomalyTooManyPipelined      = "http_too_many_pipelined"      // the oldest request past maxPipelined is reported without its response
	AnomalyTooManyFields         = "http_too_many_fields"         // fields past maxFields are not looked at
	AnomalyTooManyParts          = "http_too_many_parts"          // multipart parts past maxParts are not read
	AnomalyJSONTooDeep           = "http_json_too_deep"           // JSON nested deeper than maxJSONDepth is not walked
	AnomalyLineTooLong           = "cleartext_line_too_long"      // a line over maxLine is dropped
	AnomalyLiteralTooLong        = "imap_literal_too_long"        // an IMAP literal over maxLine is skipped with its command
	AnomalyTooManySecrets        = "cleartext_too_many_secrets"   // distinct secrets past maxSecrets are not reported
	AnomalyScanTruncated         = "cleartext_scan_truncated"     // text past maxScan is not scanned
	AnomalyTooManyMatches        = "cleartext_too_many_matches"   // matches past maxMatches (maxCards) are not reported
	AnomalyLDAPMessageTooLong    = "ldap_message_too_long"        // an LDAP message over maxLDAPMessage is skipped

	AnomalyHTTPMalformed       = "http_malformed"            // an HTTP start line, chunk size or Content-Length that does not parse: the direction is not parsed further
	AnomalyBadEncoding         = "http_bad_encoding"         // a body whose Content-Encoding does not decode
	AnomalyUnsupportedEncoding = "http_unsupported_encoding" // a Content-Encoding other than gzip and deflate
	AnomalyLDAPMalformed       = "ldap_malformed"            // BER that does not parse as an LDAPMessage
)

// Config tunes a Stream. The zero value takes the defaults.
type Config struct {
	ShowSecrets bool // fill facts.Secret.Value with the cleartext value
	MaxBody     int  // bytes of one HTTP body parsed (default DefaultMaxBody); decompressed bodies too
}

// Handler receives what a Stream finds. Nil fields are skipped.
type Handler struct {
	Secret func(facts.Secret)
	HTTP   func(facts.HTTPMessage)
	// Anomaly is told about input the parsers gave up on or limits they
	// hit, with a stable snake_case kind (the Anomaly constants).
	Anomaly func(kind string, dir tls.Direction, detail string)
}

// Stream follows one cleartext TCP connection: the caller feeds the bytes
// of both directions in order.
type Stream struct {
	proto Protocol
	cfg   Config
	h     Handler
	ts    time.Time

	http *httpConn
	line *lineConn
	ldap *ldapConn
	hand *handConn

	upgraded bool   // STARTTLS accepted: nothing more is parsed
	rest     int    // bytes of the last Feed's data after the switch (Rest)
	target   string // a proxy tunnel's target (Target)
	closed   bool
	seen     map[[16]byte]struct{}

	// Counters of limits hit (also reported through Handler.Anomaly).
	Truncated int
}

// NewStream returns a Stream that parses protocol p.
func NewStream(p Protocol, cfg Config, h Handler) *Stream {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	s := &Stream{proto: p, cfg: cfg, h: h}
	switch p {
	case HTTP:
		s.http = newHTTPConn(s)
	case FTP, SMTP, POP3, IMAP, Telnet, IRC, NNTP, Sieve:
		s.line = newLineConn(s, p)
	case LDAP:
		s.ldap = &ldapConn{s: s}
	case Postgres, MySQL, SOCKS4, SOCKS5, XMPP, RDP:
		s.hand = newHandConn(s, p)
	}
	return s
}

// Protocol is what the stream parses. A stream sniffed as FTP from a bare
// "220" greeting becomes SMTP when the client answers EHLO (and the other
// way round); secrets carry the settled name.
func (s *Stream) Protocol() Protocol { return s.proto }

// Feed takes in-order bytes of one direction; data is only read during the
// call. It returns true once the protocol has negotiated TLS (the server
// accepted STARTTLS, STLS or AUTH TLS, or an HTTP CONNECT tunnel opened):
// the bytes that follow belong to TLS and the Stream parses nothing more.
func (s *Stream) Feed(dir tls.Direction, data []byte, ts time.Time) (startTLS bool) {
	if s.upgraded || s.closed || len(data) == 0 {
		return false
	}
	s.ts = ts
	s.rest = 0
	switch {
	case s.hand != nil:
		startTLS = s.hand.feed(dir, data)
	case s.http != nil:
		startTLS = s.http.feed(dir, data)
	case s.line != nil:
		startTLS = s.line.feed(dir, data)
	case s.ldap != nil:
		startTLS = s.ldap.feed(dir, data)
	}
	if startTLS {
		s.upgraded = true
	}
	return startTLS
}

// Rest is how many bytes at the end of the data of the Feed that returned
// true follow the switch: they belong to TLS (or the tunnel), not to the
// cleartext protocol, and are for the caller to pass on.
func (s *Stream) Rest() int { return s.rest }

// Target is the "host:port" a proxy (SOCKS, HTTP CONNECT) opened a tunnel
// to, once Feed returned true for it: the bytes that follow are the
// tunnel's, of any protocol (TLS to the target, most often). "" when the
// switch was a STARTTLS.
func (s *Stream) Target() string { return s.target }

// Done reports that nothing more on the connection can be parsed: an
// HTTP response's unread body answers the client's last request, or TLS
// took over (see Feed). The caller may stop feeding bytes; Close still
// reports what is pending.
func (s *Stream) Done() bool {
	return s.upgraded || s.http != nil && s.http.finished
}

// Gap says bytes were lost in one direction: partial messages are dropped
// and parsing resumes where it safely can.
func (s *Stream) Gap(dir tls.Direction) {
	if s.upgraded || s.closed {
		return
	}
	switch {
	case s.hand != nil:
		s.hand.gap(dir)
	case s.http != nil:
		s.http.gap(dir)
	case s.line != nil:
		s.line.gap(dir)
	case s.ldap != nil:
		s.ldap.gap(dir)
	}
}

// Close ends the stream: a response body read until the connection closed
// is analysed, and requests still waiting for a response are reported.
func (s *Stream) Close() {
	if s.closed {
		return
	}
	if s.http != nil && !s.upgraded {
		s.http.close()
	}
	s.closed = true
}

func (s *Stream) anomaly(kind string, dir tls.Direction, detail string) {
	if s.h.Anomaly != nil {
		s.h.Anomaly(kind, dir, detail)
	}
}

func (s *Stream) truncated(kind string, dir tls.Direction, detail string) {
	s.Truncated++
	s.anomaly(kind, dir, detail)
}

// emit reports one secret, once per stream: the same value in the same
// place (a cookie sent with every request) is reported the first time.
func (s *Stream) emit(sec facts.Secret, value string) { s.emitKeyed(sec, value, "") }

// emitKeyed is emit with more to tell two secrets apart (a login page on
// another path is another finding, though nothing secret differs).
func (s *Stream) emitKeyed(sec facts.Secret, value, extra string) {
	h := sha256.New()
	for _, p := range []string{sec.Kind, sec.Type, sec.Field, sec.User, value, sec.Masked, extra} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var key [16]byte
	copy(key[:], h.Sum(nil))
	if _, dup := s.seen[key]; dup {
		return
	}
	if len(s.seen) >= maxSecrets { // maxSecrets is enforced here
		s.truncated(AnomalyTooManySecrets, tls.Direction(sec.From), sec.Kind)
		return
	}
	if s.seen == nil {
		s.seen = make(map[[16]byte]struct{})
	}
	s.seen[key] = struct{}{}
	if sec.Protocol == "" {
		sec.Protocol = string(s.proto)
	}
	if sec.Time.IsZero() {
		sec.Time = s.ts
	}
	if s.cfg.ShowSecrets {
		sec.Value = value
	}
	if s.h.Secret != nil {
		s.h.Secret(sec)
	}
}

// Sniff says which protocol a TCP stream speaks from the first bytes seen
// in one direction (dir says whether they came from the client) and the
// server's port. It returns "" when nothing matches; TLS is recognised by
// tls.Sniff, not here.
func Sniff(data []byte, dir tls.Direction, serverPort uint16) Protocol {
	if len(data) == 0 {
		return ""
	}
	if p := sniffHandover(data, dir, serverPort); p != "" {
		return p
	}
	if dir == tls.ClientToServer {
		return sniffClient(data, serverPort)
	}
	return sniffServer(data, serverPort)
}

var httpMethods = []string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ",
	"TRACE ", "PROPFIND ", "PROPPATCH ", "MKCOL ", "COPY ", "MOVE ", "LOCK ", "UNLOCK ", "REPORT ", "SEARCH "}

func sniffClient(b []byte, port uint16) Protocol {
	for _, m := range httpMethods {
		if bytes.HasPrefix(b, []byte(m)) {
			return HTTP
		}
	}
	if b[0] == 0xff && len(b) >= 2 && b[1] >= 250 {
		return Telnet
	}
	if looksLDAP(b) {
		return LDAP
	}
	word := strings.ToUpper(firstWord(b, 0))
	switch word {
	case "EHLO", "HELO":
		return SMTP
	case "CAP", "NICK":
		return IRC
	case "STARTTLS":
		switch port {
		case 119, 433:
			return NNTP
		case 4190, 2000:
			return Sieve
		case 25, 587, 2525:
			return SMTP
		}
		return IRC
	case "AUTHINFO", "MODE", "ARTICLE", "GROUP", "LIST":
		if port == 119 || word == "AUTHINFO" {
			return NNTP
		}
	case "CAPA", "STLS", "APOP":
		return POP3
	case "USER", "PASS", "AUTH", "QUIT":
		switch port {
		case 110, 1110:
			return POP3
		case 25, 587, 2525:
			return SMTP
		}
		if word == "AUTH" {
			return byPort(port)
		}
		return FTP
	case "SYST", "FEAT", "OPTS":
		return FTP
	}
	// IMAP commands carry a tag first: "a001 LOGIN", ". CAPABILITY".
	switch strings.ToUpper(firstWord(b, 1)) {
	case "LOGIN", "CAPABILITY", "AUTHENTICATE", "STARTTLS", "ID", "NOOP", "SELECT", "LOGOUT":
		return IMAP
	}
	if p := byPort(port); p == Telnet || p == LDAP && looksLDAP(b) {
		return p
	}
	return ""
}

func sniffServer(b []byte, port uint16) Protocol {
	switch {
	case (bytes.HasPrefix(b, []byte("200 ")) || bytes.HasPrefix(b, []byte("201 "))) && port != 21:
		return NNTP // RFC 3977, 5.1: posting allowed / prohibited
	case bytes.HasPrefix(b, []byte(`"IMPLEMENTATION" `)) || bytes.HasPrefix(b, []byte(`"SIEVE" `)) || bytes.HasPrefix(b, []byte(`"SASL" `)):
		return Sieve // RFC 5804, 1.7: the capability response greets
	case len(b) > 1 && b[0] == ':' && ircReply(b):
		return IRC
	case bytes.HasPrefix(b, []byte("HTTP/1.")):
		return HTTP
	case bytes.HasPrefix(b, []byte("+OK")):
		return POP3
	case bytes.HasPrefix(b, []byte("* OK")) || bytes.HasPrefix(b, []byte("* PREAUTH")) || bytes.HasPrefix(b, []byte("* BYE")):
		return IMAP
	case b[0] == 0xff && len(b) >= 2 && b[1] >= 250:
		return Telnet
	case len(b) >= 4 && (bytes.HasPrefix(b, []byte("220")) || bytes.HasPrefix(b, []byte("421"))) && (b[3] == ' ' || b[3] == '-'):
		line := b
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		up := bytes.ToUpper(line)
		switch {
		case port == 21 || port == 990:
			return FTP
		case port == 25 || port == 587 || port == 2525 || port == 465:
			return SMTP
		case bytes.Contains(up, []byte("SMTP")) || bytes.Contains(up, []byte("MAIL")) || bytes.Contains(up, []byte("POSTFIX")) || bytes.Contains(up, []byte("EXIM")):
			return SMTP
		case bytes.Contains(up, []byte("FTP")):
			return FTP
		}
		return FTP
	}
	if p := byPort(port); p == Telnet {
		return p
	}
	return ""
}

func byPort(port uint16) Protocol {
	switch port {
	case 21:
		return FTP
	case 25, 587, 2525:
		return SMTP
	case 110:
		return POP3
	case 143:
		return IMAP
	case 23:
		return Telnet
	case 389:
		return LDAP
	}
	return ""
}

// ircReply says a line is an IRC message with a prefix: ":server NOTICE"
// or ":server 001" (RFC 1459, 2.3.1).
func ircReply(b []byte) bool {
	w := strings.ToUpper(firstWord(b, 1))
	if w == "NOTICE" || w == "CAP" || w == "PING" {
		return true
	}
	return len(w) == 3 && w[0] >= '0' && w[0] <= '9' && w[1] >= '0' && w[1] <= '9' && w[2] >= '0' && w[2] <= '9'
}

// firstWord returns the n-th space-separated word of the first line.
func firstWord(b []byte, n int) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if len(b) > 256 {
		b = b[:256]
	}
	f := strings.Fields(string(b))
	if n < len(f) {
		return f[n]
	}
	return ""
}

func newSecret(kind, typ, field, user, masked string) facts.Secret {
	return facts.Secret{Kind: kind, Type: typ, Field: field, User: user, Masked: masked, From: uint8(tls.ClientToServer)}
}

func splitNUL(s string) []string { return strings.SplitN(s, "\x00", 3) }
