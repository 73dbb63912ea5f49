package facts

import "github.com/tlsscope/tlsscope/decode/tls"

// Outcome is how a connection's TLS handshake ended: one word each, with
// one meaning, the same in every format (the table's and HTML's status,
// NDJSON's and CSV's outcome, the summary's counts, the handshake-failed
// finding). Only OutcomeAlert and OutcomeClosed are failures: a capture
// that ends, a flow cut by -c, evicted or idle, and a stream joined after
// its handshake prove nothing about the handshake.
type Outcome uint8

const (
	OutcomeNone       Outcome = iota // not TLS (cleartext or unknown)
	OutcomeOK                        // "ok": the handshake completed
	OutcomeResumed                   // "resumed": it completed by resuming a session
	OutcomeAlert                     // "alert": a fatal alert ended it before it completed (failed)
	OutcomeClosed                    // "closed": FIN or RST before it completed (failed)
	OutcomeNoReply                   // "no reply": a ClientHello and nothing from the server, and the capture or flow ended
	OutcomeIncomplete                // "incomplete": the capture or flow ended mid-handshake, or bytes were lost
	OutcomeMidStream                 // "mid-stream": the capture joined after the handshake; records flowed
)

var outcomeNames = [...]string{"", "ok", "resumed", "alert", "closed", "no reply", "incomplete", "mid-stream"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Failed reports whether the outcome is a failed handshake.
func (o Outcome) Failed() bool { return o == OutcomeAlert || o == OutcomeClosed }

// Complete reports whether the handshake completed.
func (o Outcome) Complete() bool { return o == OutcomeOK || o == OutcomeResumed }

// HandshakeOutcome judges c's handshake; FatalAlert is the alert that
// ended it when the outcome is OutcomeAlert. Gaps or a parser stopped by
// a limit make a closed connection's handshake incomplete, not failed.
func (c *Connection) HandshakeOutcome() Outcome {
	s := c.TLS
	if s == nil {
		return OutcomeNone
	}
	if s.Established || s.Hidden && s.ClientFinished13 {
		if s.Resumed {
			return OutcomeResumed
		}
		return OutcomeOK
	}
	if _, ok := c.FatalAlert(); ok {
		return OutcomeAlert
	}
	if s.ClientHello == nil && s.ServerHello == nil {
		if c.StartSeen {
			return OutcomeIncomplete
		}
		return OutcomeMidStream
	}
	if s.Version != tls.VersionSSL20 && (c.Closed == "fin" || c.Closed == "rst") && c.Gaps == 0 && !c.Truncated && s.ClientHello != nil {
		return OutcomeClosed
	}
	if s.ServerHello == nil && s.ClientHello != nil && c.Gaps == 0 {
		return OutcomeNoReply
	}
	return OutcomeIncomplete
}

// FatalAlert is the alert that ended c's handshake before it completed:
// the first readable fatal one, or, in a handshake whose ClientHello was
// seen, the first encrypted one (before the handshake completes only an
// abort sends one: TLS 1.3 encrypts the alert a client sends when it
// rejects the server's certificate).
func (c *Connection) FatalAlert() (tls.Alert, bool) {
	s := c.TLS
	if s == nil || s.Established || s.Hidden && s.ClientFinished13 {
		return tls.Alert{}, false
	}
	for _, a := range s.Alerts {
		if a.Encrypted {
			if s.ClientHello != nil {
				return a, true
			}
			continue
		}
		if a.Level == tls.AlertLevelFatal {
			return a, true
		}
	}
	return tls.Alert{}, false
}
