package report

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The hot NDJSON records (connection, HTTP, finding) are written by the
// appenders below instead of encoding/json's reflection: a streaming run
// renders every connection of the capture, and reflection cost more than
// judging it. Each appender writes exactly what an encoding/json Encoder
// with SetEscapeHTML(false) writes for the record (fields in declaration
// order, nil lists as null); TestRecordAppendersEqualEncodingJSON checks
// that on records filled field by field through reflection, so a field
// added to a record without its appender fails the test, and
// TestConnectionLinesEqualEncodingJSON on every connection of the
// recorded captures and of the corpus.

// appendConnectionJSON appends r as encoding/json would, without the
// newline. ok is false when r cannot be encoded that way (a NaN or
// infinite handshake_ms, which encoding/json refuses).
func appendConnectionJSON(b []byte, r *ConnectionRecord) (_ []byte, ok bool) {
	if !finite(r.HandshakeMillis) {
		return b, false
	}
	b = append(b, `{"type":`...)
	b = appendJSONString(b, r.Type)
	b = append(b, `,"ts":`...)
	b = appendJSONString(b, r.TS)
	b = append(b, `,"capture":`...)
	b = appendJSONString(b, r.Capture)
	b = append(b, `,"id":`...)
	b = strconv.AppendUint(b, r.ID, 10)
	b = append(b, `,"client":`...)
	b = appendJSONString(b, r.Client)
	b = append(b, `,"server":`...)
	b = appendJSONString(b, r.Server)
	b = append(b, `,"transport":`...)
	b = appendJSONString(b, r.Transport)
	b = append(b, `,"protocol":`...)
	b = appendJSONString(b, r.Protocol)
	b = append(b, `,"starttls":`...)
	b = appendJSONString(b, r.StartTLS)
	b = append(b, `,"sni":`...)
	b = appendJSONString(b, r.SNI)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, r.Version)
	b = append(b, `,"version_id":`...)
	b = strconv.AppendUint(b, uint64(r.VersionID), 10)
	b = append(b, `,"cipher":`...)
	b = appendJSONString(b, r.Cipher)
	b = append(b, `,"cipher_id":`...)
	b = strconv.AppendUint(b, uint64(r.CipherID), 10)
	b = append(b, `,"alpn_offered":`...)
	b = appendJSONStrings(b, r.ALPNOffered)
	b = append(b, `,"alpn":`...)
	b = appendJSONString(b, r.ALPN)
	b = append(b, `,"resumed":`...)
	b = strconv.AppendBool(b, r.Resumed)
	b = append(b, `,"resumption":`...)
	b = appendJSONString(b, r.Resumption)
	b = append(b, `,"hello_retry":`...)
	b = strconv.AppendBool(b, r.HelloRetry)
	b = append(b, `,"established":`...)
	b = strconv.AppendBool(b, r.Established)
	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, r.Outcome)
	b = append(b, `,"alerts":`...)
	if r.Alerts == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Alerts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAlertJSON(b, &r.Alerts[i])
		}
		b = append(b, ']')
	}
	b = append(b, `,"certificates":`...)
	b = appendCertsJSON(b, r.Certificates)
	b = append(b, `,"client_certificates":`...)
	b = appendCertsJSON(b, r.ClientCerts)
	b = append(b, `,"certificate_errors":`...)
	b = strconv.AppendInt(b, int64(r.CertErrors), 10)
	b = append(b, `,"ja3":`...)
	b = appendJSONString(b, r.JA3)
	b = append(b, `,"ja3_full":`...)
	b = appendJSONString(b, r.JA3Full)
	b = append(b, `,"ja3s":`...)
	b = appendJSONString(b, r.JA3S)
	b = append(b, `,"ja3s_full":`...)
	b = appendJSONString(b, r.JA3SFull)
	b = append(b, `,"ja4":`...)
	b = appendJSONString(b, r.JA4)
	b = append(b, `,"ja4_r":`...)
	b = appendJSONString(b, r.JA4R)
	if r.JA4Retry != "" {
		b = append(b, `,"ja4_retry":`...)
		b = appendJSONString(b, r.JA4Retry)
	}
	if r.JA4RetryR != "" {
		b = append(b, `,"ja4_retry_r":`...)
		b = appendJSONString(b, r.JA4RetryR)
	}
	b = append(b, `,"known_client":`...)
	b = appendJSONString(b, r.KnownClient)
	b = append(b, `,"findings":`...)
	b = appendJSONStrings(b, r.Findings)
	b = append(b, `,"packets_client":`...)
	b = strconv.AppendUint(b, r.PacketsClient, 10)
	b = append(b, `,"packets_server":`...)
	b = strconv.AppendUint(b, r.PacketsServer, 10)
	b = append(b, `,"bytes_client":`...)
	b = strconv.AppendUint(b, r.BytesClient, 10)
	b = append(b, `,"bytes_server":`...)
	b = strconv.AppendUint(b, r.BytesServer, 10)
	b = append(b, `,"versions_offered":`...)
	b = appendJSONStrings(b, r.VersionsOffered)
	b = append(b, `,"suites_offered":`...)
	b = appendJSONStrings(b, r.SuitesOffered)
	b = append(b, `,"groups":`...)
	b = appendJSONStrings(b, r.Groups)
	b = append(b, `,"key_share":`...)
	b = appendJSONStrings(b, r.KeyShare)
	b = append(b, `,"key_share_selected":`...)
	b = appendJSONString(b, r.KeyShareSelected)
	b = append(b, `,"key_exchange":`...)
	if kx := r.KeyExchange; kx == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"kind":`...)
		b = appendJSONString(b, kx.Kind)
		b = append(b, `,"group":`...)
		b = appendJSONString(b, kx.Group)
		b = append(b, `,"dh_prime_bits":`...)
		b = strconv.AppendInt(b, int64(kx.DHPrimeBits), 10)
		b = append(b, `,"public_key_bits":`...)
		b = strconv.AppendInt(b, int64(kx.PublicKeyBits), 10)
		b = append(b, '}')
	}
	b = append(b, `,"quic":`...)
	b = appendQUICJSON(b, r.QUIC)
	b = append(b, `,"dtls":`...)
	b = appendDTLSJSON(b, r.DTLS)
	b = append(b, `,"client_cert_requested":`...)
	b = strconv.AppendBool(b, r.CertRequested)
	b = append(b, `,"client_cert_sent":`...)
	b = strconv.AppendBool(b, r.ClientCertSent)
	b = append(b, `,"hidden":`...)
	b = strconv.AppendBool(b, r.Hidden)
	b = append(b, `,"closed":`...)
	b = appendJSONString(b, r.Closed)
	b = append(b, `,"start_seen":`...)
	b = strconv.AppendBool(b, r.StartSeen)
	b = append(b, `,"gaps":`...)
	b = strconv.AppendInt(b, int64(r.Gaps), 10)
	b = append(b, `,"truncated":`...)
	b = strconv.AppendBool(b, r.Truncated)
	b = append(b, `,"app_data_client":`...)
	b = strconv.AppendUint(b, r.AppDataClient, 10)
	b = append(b, `,"app_data_server":`...)
	b = strconv.AppendUint(b, r.AppDataServer, 10)
	b = append(b, `,"end":`...)
	b = appendJSONString(b, r.End)
	b = append(b, `,"handshake_ms":`...)
	b = appendJSONFloat(b, r.HandshakeMillis)
	b = append(b, `,"secrets":`...)
	if r.Secrets == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Secrets {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendSecretJSON(b, &r.Secrets[i])
		}
		b = append(b, ']')
	}
	if d := r.Decryption; d != nil {
		b = append(b, `,"decryption":{"status":`...)
		b = appendJSONString(b, d.Status)
		b = append(b, `,"records_decrypted_client":`...)
		b = strconv.AppendUint(b, d.OpenedClient, 10)
		b = append(b, `,"records_decrypted_server":`...)
		b = strconv.AppendUint(b, d.OpenedServer, 10)
		b = append(b, `,"records_failed_client":`...)
		b = strconv.AppendUint(b, d.FailedClient, 10)
		b = append(b, `,"records_failed_server":`...)
		b = strconv.AppendUint(b, d.FailedServer, 10)
		b = append(b, `,"records_unread_client":`...)
		b = strconv.AppendUint(b, d.UnreadClient, 10)
		b = append(b, `,"records_unread_server":`...)
		b = strconv.AppendUint(b, d.UnreadServer, 10)
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, d.Detail)
		b = append(b, '}')
	}
	if r.Outer != "" {
		b = append(b, `,"outer":`...)
		b = appendJSONString(b, r.Outer)
	}
	if r.Proxy != "" {
		b = append(b, `,"proxy":`...)
		b = appendJSONString(b, r.Proxy)
	}
	if r.TLSOffset != 0 {
		b = append(b, `,"tls_offset":`...)
		b = strconv.AppendInt(b, r.TLSOffset, 10)
	}
	if len(r.LaterTLS) > 0 {
		b = append(b, `,"later_tls":[`...)
		for i, l := range r.LaterTLS {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"sni":`...)
			b = appendJSONString(b, l.SNI)
			b = append(b, `,"version":`...)
			b = appendJSONString(b, l.Version)
			b = append(b, `,"cipher":`...)
			b = appendJSONString(b, l.Cipher)
			b = append(b, `,"ja4":`...)
			b = appendJSONString(b, l.JA4)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

func appendAlertJSON(b []byte, a *AlertRecord) []byte {
	b = append(b, `{"from":`...)
	b = appendJSONString(b, a.From)
	b = append(b, `,"level":`...)
	b = appendJSONString(b, a.Level)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, a.Description)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(a.Code), 10)
	b = append(b, `,"encrypted":`...)
	b = strconv.AppendBool(b, a.Encrypted)
	b = append(b, `,"ts":`...)
	b = appendJSONString(b, a.TS)
	if a.Decrypted {
		b = append(b, `,"decrypted":true`...)
	}
	return append(b, '}')
}

func appendCertsJSON(b []byte, cs []CertRecord) []byte {
	if cs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		c := &cs[i]
		b = append(b, `{"subject":`...)
		b = appendJSONString(b, c.Subject)
		b = append(b, `,"issuer":`...)
		b = appendJSONString(b, c.Issuer)
		b = append(b, `,"serial":`...)
		b = appendJSONString(b, c.Serial)
		b = append(b, `,"not_before":`...)
		b = appendJSONString(b, c.NotBefore)
		b = append(b, `,"not_after":`...)
		b = appendJSONString(b, c.NotAfter)
		b = append(b, `,"dns_names":`...)
		b = appendJSONStrings(b, c.DNSNames)
		b = append(b, `,"key":`...)
		b = appendJSONString(b, c.Key)
		b = append(b, `,"signature":`...)
		b = appendJSONString(b, c.Signature)
		b = append(b, `,"sha256":`...)
		b = appendJSONString(b, c.SHA256)
		b = append(b, `,"sha1":`...)
		b = appendJSONString(b, c.SHA1)
		b = append(b, `,"ip_addresses":`...)
		b = appendJSONStrings(b, c.IPs)
		b = append(b, `,"self_signed":`...)
		b = strconv.AppendBool(b, c.SelfSigned)
		b = append(b, `,"is_ca":`...)
		b = strconv.AppendBool(b, c.IsCA)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendSecretJSON(b []byte, s *SecretRecord) []byte {
	b = append(b, `{"kind":`...)
	b = appendJSONString(b, s.Kind)
	b = append(b, `,"protocol":`...)
	b = appendJSONString(b, s.Protocol)
	b = append(b, `,"secret_type":`...)
	b = appendJSONString(b, s.Type)
	b = append(b, `,"field":`...)
	b = appendJSONString(b, s.Field)
	b = append(b, `,"user":`...)
	b = appendJSONString(b, s.User)
	b = append(b, `,"value":`...)
	b = appendJSONString(b, s.Value)
	b = append(b, `,"masked":`...)
	b = strconv.AppendBool(b, s.Masked)
	b = append(b, `,"detail":`...)
	b = appendJSONString(b, s.Detail)
	b = append(b, `,"from":`...)
	b = appendJSONString(b, s.From)
	b = append(b, `,"ts":`...)
	b = appendJSONString(b, s.TS)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, s.Method)
	b = append(b, `,"host":`...)
	b = appendJSONString(b, s.Host)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, s.Path)
	return append(b, '}')
}

// appendFindingJSON appends r as encoding/json would, without the newline.
func appendFindingJSON(b []byte, r *FindingRecord) []byte {
	b = append(b, `{"type":`...)
	b = appendJSONString(b, r.Type)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"severity":`...)
	b = appendJSONString(b, r.Severity)
	b = append(b, `,"client":`...)
	b = appendJSONString(b, r.Client)
	b = append(b, `,"server":`...)
	b = appendJSONString(b, r.Server)
	b = append(b, `,"sni":`...)
	b = appendJSONString(b, r.SNI)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, r.Message)
	b = append(b, `,"evidence":`...)
	b = appendJSONString(b, r.Evidence)
	b = append(b, `,"reference":`...)
	b = appendJSONString(b, r.Reference)
	b = append(b, `,"capture":`...)
	b = appendJSONString(b, r.Capture)
	b = append(b, `,"connection":`...)
	b = strconv.AppendUint(b, r.Connection, 10)
	b = append(b, `,"ts":`...)
	b = appendJSONString(b, r.TS)
	b = append(b, `,"step":`...)
	b = appendJSONString(b, r.Step)
	return append(b, '}')
}

// appendHTTPJSON appends r as encoding/json would, without the newline.
func appendHTTPJSON(b []byte, r *HTTPRecord) []byte {
	b = append(b, `{"type":`...)
	b = appendJSONString(b, r.Type)
	b = append(b, `,"ts":`...)
	b = appendJSONString(b, r.TS)
	b = append(b, `,"capture":`...)
	b = appendJSONString(b, r.Capture)
	b = append(b, `,"connection":`...)
	b = strconv.AppendUint(b, r.Connection, 10)
	b = append(b, `,"client":`...)
	b = appendJSONString(b, r.Client)
	b = append(b, `,"server":`...)
	b = appendJSONString(b, r.Server)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"host":`...)
	b = appendJSONString(b, r.Host)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, r.Path)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, r.Version)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"content_type":`...)
	b = appendJSONString(b, r.ContentType)
	b = append(b, `,"request_bytes":`...)
	b = strconv.AppendInt(b, r.RequestBytes, 10)
	b = append(b, `,"response_bytes":`...)
	b = strconv.AppendInt(b, r.ResponseBytes, 10)
	b = append(b, `,"user_agent":`...)
	b = appendJSONString(b, r.UserAgent)
	return append(b, '}')
}

func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does without HTML escaping:
// '"' and '\\' escaped, control characters as \b \f \n \r \t or \u00XX,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028 and \u2029.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	// Most strings need no escaping: find the first byte that may.
	i := 0
	for i+8 <= len(s) {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if needsEscape(x) {
			break
		}
		i += 8
	}
	for i < len(s) && jsonPlain[s[i]] {
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonPlain marks the bytes encoding/json copies as they are without
// HTML escaping: ASCII from space up, except '"' and '\\'.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// needsEscape: one of the eight bytes of x is not plain (a control
// character, '"', '\\' or a byte of a multi-byte sequence). The tests
// are the usual word-at-a-time ones: a byte below n shows its high bit in
// x - n*0x01..01 & ^x, a zero byte (x^c for a byte equal to c) the same
// way with n = 1.
func needsEscape(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - 0x20*lo) & ^x
	quote := x ^ '"'*lo
	quote = (quote - lo) & ^quote
	bs := x ^ '\\'*lo
	bs = (bs - lo) & ^bs
	return (ctl|quote|bs|x)&hi != 0
}

// appendJSONFloat formats a finite float64 as encoding/json does (ES6
// number to string: %f between 1e-6 and 1e21, else %e with the exponent
// unpadded).
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

// appendQUICJSON appends a connection's quic object (null when absent).
func appendQUICJSON(b []byte, q *QUICRecord) []byte {
	if q == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"version":`...)
	b = appendJSONString(b, q.Version)
	b = append(b, `,"version_id":`...)
	b = strconv.AppendUint(b, uint64(q.VersionID), 10)
	b = append(b, `,"server_version":`...)
	b = appendJSONString(b, q.ServerVersion)
	b = append(b, `,"original_dcid":`...)
	b = appendJSONString(b, q.OriginalDCID)
	b = append(b, `,"client_scid":`...)
	b = appendJSONString(b, q.ClientSCID)
	b = append(b, `,"server_scid":`...)
	b = appendJSONString(b, q.ServerSCID)
	b = append(b, `,"retry":`...)
	b = strconv.AppendBool(b, q.Retry)
	b = append(b, `,"retry_scid":`...)
	b = appendJSONString(b, q.RetrySCID)
	b = append(b, `,"version_negotiation":`...)
	b = appendJSONStrings(b, q.VersionNegotiation)
	for _, f := range [...]struct {
		name string
		v    uint64
	}{
		{"initial_client", q.InitialClient}, {"initial_server", q.InitialServer},
		{"handshake_client", q.HandshakeClient}, {"handshake_server", q.HandshakeServer},
		{"zero_rtt_client", q.ZeroRTTClient},
		{"one_rtt_client", q.OneRTTClient}, {"one_rtt_server", q.OneRTTServer},
		{"decrypted_client", q.DecryptedClient}, {"decrypted_server", q.DecryptedServer},
	} {
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":`...)
		b = strconv.AppendUint(b, f.v, 10)
	}
	b = append(b, `,"transport_parameters":`...)
	b = appendJSONStrings(b, q.TransportParameters)
	b = append(b, `,"close_from":`...)
	b = appendJSONString(b, q.CloseFrom)
	b = append(b, `,"close_code":`...)
	b = strconv.AppendUint(b, q.CloseCode, 10)
	b = append(b, `,"close_reason":`...)
	b = appendJSONString(b, q.CloseReason)
	return append(b, '}')
}

// appendDTLSJSON appends a connection's dtls object (null when absent).
func appendDTLSJSON(b []byte, d *DTLSRecord) []byte {
	if d == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"hello_verify_request":`...)
	b = strconv.AppendBool(b, d.HelloVerifyRequest)
	b = append(b, `,"client_hellos":`...)
	b = strconv.AppendInt(b, int64(d.ClientHellos), 10)
	for _, f := range [...]struct {
		name string
		v    uint64
	}{
		{"records_client", d.RecordsClient}, {"records_server", d.RecordsServer},
		{"protected_client", d.ProtectedClient}, {"protected_server", d.ProtectedServer},
		{"dtls13_client", d.DTLS13Client}, {"dtls13_server", d.DTLS13Server},
	} {
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":`...)
		b = strconv.AppendUint(b, f.v, 10)
	}
	return append(b, '}')
}
