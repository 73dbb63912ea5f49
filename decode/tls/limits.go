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
	// parsed, and how many one side's chain keeps in all (several
	// Certificate messages); MaxCertificate the largest DER parsed. More
	// is the anomaly tls_chain_too_long. Enforced in ParseCertificate and
	// (*Handshake).certificate (and, for an SSLv2 SERVER-HELLO's
	// certificate, (*Handshake).sslv2Hello).
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

// Caps on what a Session keeps, fixed: the ladder and the reports are
// drawn for these. Past one, the rest is dropped and the anomaly named
// beside it is reported once per connection.
const (
	MaxEvents = 64 // Session.Events; tls_events_limit; enforced in (*Handshake).event
	MaxAlerts = 64 // Session.Alerts; tls_alerts_limit; enforced in (*Handshake).addAlert
)

// Anomaly kinds reported by decode/tls, stable snake_case names (the
// catalogue with their meaning is in doc.go). Every cap that drops data
// reports one of the *_limit, *_too_long kinds when it is hit; none drops
// silently.
const (
	AnomalyBadRecord         = "tls_bad_record"
	AnomalyRecordTooLong     = "tls_record_too_long"
	AnomalyBufferLimit       = "tls_buffer_limit"
	AnomalyHandshakeTooLong  = "tls_handshake_too_long"
	AnomalyBadHandshake      = "tls_bad_handshake"
	AnomalyBadExtension      = "tls_bad_extension"
	AnomalyBadCertificate    = "tls_bad_certificate"
	AnomalyChainTooLong      = "tls_chain_too_long"
	AnomalyUnexpectedMessage = "tls_unexpected_message"
	AnomalyEventsLimit       = "tls_events_limit"
	AnomalyAlertsLimit       = "tls_alerts_limit"
)

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
