// Package tls reads TLS (SSL 2.0 hellos, SSL 3.0, TLS 1.0 to 1.3) as a
// passive observer: one parser per handshake message, the IANA registries
// as tables, a handshake state machine fed by messages, and a record
// framer that feeds it from TCP.
//
// # Layers
//
// Three layers, each knowing nothing of the one below:
//
//   - Conn (record.go) is the TCP record framer: the in-order bytes of
//     both directions, record headers, resync after gaps and garbage,
//     SSLv2-compatible hellos, handshake messages rebuilt across records.
//   - Protection (protection.go) sits between a record's header and its
//     body, per direction: opaque (the records are counted and timed,
//     never opened) or NULL-cipher MAC stripping. The machine picks one
//     at each key change it reads; records get sequence numbers per
//     direction from it on. With a key log (Conn.SetKeys, decrypt.go)
//     a decrypting one: TLS 1.3 (protect13) and TLS 1.0-1.2 (protect12),
//     the keys from decode/tls/keys.
//   - Handshake (machine.go) is the state machine: it takes handshake
//     messages, and from a record framer what it saw of the other records
//     (ChangeCipherSpec, alerts, protected records), and fills a Session.
//     It is the one writer of the Session and the one place a guess about
//     what cannot be read is made (Event.Hidden13, Session.ClientFinished13).
//
// # Feeding the machine
//
// Any carrier of handshake messages feeds the machine the same way, and
// gets the same facts: it removes its own framing, rebuilds messages
// split across its units, and calls
//
//	h := tls.NewHandshake(tls.Limits{}, onAnomaly)
//	h.Message(tls.Message{Type: typ, Body: body, Dir: tls.ClientToServer, Time: ts, Offset: off})
//
// once per message, in the order the messages were sent (the two
// directions interleaved as they arrived); h.Session() is the result.
// Body is the message after its 4-byte header and is valid only during
// the call. Conn does this for TLS over TCP, decode/dtls after its
// 12-byte handshake header and fragment reassembly, and decode/quic from
// its CRYPTO-frame reassembler.
//
// Without a key log it decrypts nothing. In TLS 1.3 everything after
// ServerHello is encrypted: Session.Hidden is set, and each record is
// marked with what it is taken to carry (Hidden13: the server's flight,
// the client's Finished flight, an alert-sized record) from its place and
// its length; nothing else is guessed. In TLS 1.2 and older the handshake
// is readable up to ChangeCipherSpec; the next handshake record of each
// side is its encrypted Finished.
//
// With a key log whose secrets are the connection's, the protected
// records are opened and read as if sent in the clear: TLS 1.3's
// EncryptedExtensions, Certificate (compressed too), CertificateVerify,
// Finished, NewSessionTicket and KeyUpdate, and the alerts, of both
// sides; in TLS 1.2 and older the Finished and the alerts. A record whose
// tag or MAC does not verify is never read. Session.Decryption says how
// it went (ok, no-key, partial, unsupported-suite, failed) and counts the
// records opened, failed and unread. Decrypted application data is
// counted, not handed on (OnPlaintext gets only a NULL suite's).
//
// # Anomalies
//
// Parsers read through golang.org/x/crypto/cryptobyte and return a
// *ParseError naming the message, the field and the offset. Neither Conn
// nor Handshake panics on input, logs, or reads the clock (timestamps come
// from Feed and Message); malformed input and every cap that drops data
// are reported through the onAnomaly callback and decoding goes on.
// Anomaly kinds, stable snake_case names (constants in limits.go):
//
//	tls_bad_record          a record header with an unknown content type or version; the framer resyncs
//	tls_record_too_long     a record length over Limits.MaxRecord; the framer resyncs
//	tls_buffer_limit        a record that needs buffering is longer than Limits.MaxBuffered; skipped
//	tls_handshake_too_long  a handshake message over Limits.MaxHandshake; skipped
//	tls_bad_handshake       a handshake message that does not parse
//	tls_bad_extension       a hello extension that does not parse; the rest of the hello is kept
//	tls_bad_certificate     a certificate neither crypto/x509 nor decode/certs/lenient can parse (counted in Session.CertificateErrors)
//	tls_chain_too_long      certificates past Limits.MaxChain (per message or per side) or over Limits.MaxCertificate, not parsed
//	tls_unexpected_message  a hello sent by the wrong side
//	tls_events_limit        Session.Events reached MaxEvents; later records are not kept as events (once per connection)
//	tls_alerts_limit        Session.Alerts reached MaxAlerts; later alerts are not kept (once per connection)
//
// Lookups in the tables (LookupCipherSuite, VersionName, AlertName, ...)
// are by number; the cipher suite table is generated from the IANA
// registry by internal/gen and checked against tshark and openssl.
package tls
