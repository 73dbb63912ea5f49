package tls

// Limits bound what a Conn keeps per connection. The zero value of a field
// takes its default; each limit is enforced in one place, named beside it.
type Limits struct {
	// MaxRecord is the largest record length accepted (RFC 8446, 5.2
	// allows 2^14+256 for TLSCiphertext; RFC 5246, 6.2.3 2^14+2048). A
	// longer header is the anomaly tls_record_too_long and the framer
	// resyncs. Enforced in (*Conn).header.
	MaxRecord int
	// MaxHandshake is the largest handshake message reassembled; a longer
	// one is the anomaly tls_handshake_too_long and is skipped. Enforced
	// in (*Conn).handshakeBytes.
	MaxHandshake int
	// MaxChain is how many certificates of one Certificate message are
	// parsed; MaxCertificate the largest DER parsed. Enforced in
	// ParseCertificate.
	MaxChain       int
	MaxCertificate int
	// MaxBuffered is how many bytes of an incomplete record one direction
	// keeps between Feed calls; a record that cannot fit is skipped
	// (anomaly tls_buffer_limit). Enforced in (*Conn).header.
	MaxBuffered int
	// Certificates, when set, shares parsed certificates between the
	// connections that use it: most servers send the same chain to every
	// client, and parsing it each time costs more than the rest of the
	// handshake. Safe for concurrent use; an Analyzer keeps one.
	Certificates *CertCache
}

// Defaults of Limits.
const (
	DefaultMaxRecord      = 1<<14 + 2048 // packetbeat's maxTLSRecordLength; RFC 5246, 6.2.3
	DefaultMaxHandshake   = 256 << 10
	DefaultMaxChain       = 16
	DefaultMaxCertificate = 64 << 10
	DefaultMaxBuffered    = 1<<14 + 2048 + 5
)

// DefaultLimits are the limits a zero Limits stands for.
var DefaultLimits = Limits{
	MaxRecord:      DefaultMaxRecord,
	MaxHandshake:   DefaultMaxHandshake,
	MaxChain:       DefaultMaxChain,
	MaxCertificate: DefaultMaxCertificate,
	MaxBuffered:    DefaultMaxBuffered,
}

func (l Limits) withDefaults() Limits {
	if l.MaxRecord <= 0 {
		l.MaxRecord = DefaultMaxRecord
	}
	if l.MaxHandshake <= 0 {
		l.MaxHandshake = DefaultMaxHandshake
	}
	if l.MaxChain <= 0 {
		l.MaxChain = DefaultMaxChain
	}
	if l.MaxCertificate <= 0 {
		l.MaxCertificate = DefaultMaxCertificate
	}
	if l.MaxBuffered <= 0 {
		l.MaxBuffered = DefaultMaxBuffered
	}
	return l
}
