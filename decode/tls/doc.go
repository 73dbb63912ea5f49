// Package tls reads TLS (SSL 2.0 hellos, SSL 3.0, TLS 1.0 to 1.3) as a
// passive observer: a record framer per direction, one parser per
// handshake message, the IANA registries as tables, and Conn, the
// per-connection tracker that turns the in-order bytes of both directions
// into a Session.
//
// It decrypts nothing. In TLS 1.3 everything after ServerHello is
// encrypted: Session.Hidden is set and nothing is guessed. In TLS 1.2 and
// older the handshake is readable up to ChangeCipherSpec; the next
// handshake record of each side is its encrypted Finished.
//
// Parsers read through golang.org/x/crypto/cryptobyte and return a
// *ParseError naming the message, the field and the offset. Conn never
// panics on input, logs, or reads the clock (timestamps come from Feed);
// malformed input is reported through its onAnomaly callback and decoding
// goes on. Anomaly kinds, stable snake_case names:
//
//	tls_bad_record          a record header with an unknown content type or version; the framer resyncs
//	tls_record_too_long     a record length over Limits.MaxRecord; the framer resyncs
//	tls_buffer_limit        a record that needs buffering is longer than Limits.MaxBuffered; skipped
//	tls_handshake_too_long  a handshake message over Limits.MaxHandshake; skipped
//	tls_bad_handshake       a handshake message that does not parse
//	tls_bad_extension       a hello extension that does not parse; the rest of the hello is kept
//	tls_bad_certificate     a certificate crypto/x509 cannot parse (counted in Session.CertificateErrors)
//	tls_chain_too_long      certificates past Limits.MaxChain or over Limits.MaxCertificate, not parsed
//	tls_unexpected_message  a hello sent by the wrong side
//
// Lookups in the tables (LookupCipherSuite, VersionName, AlertName, ...)
// are by number; the cipher suite table is generated from the IANA
// registry by internal/gen and checked against tshark and openssl.
package tls
