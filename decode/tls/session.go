package tls

import (
	"crypto/x509"
	"time"
)

// Direction says which endpoint sent a byte stream. The client is the
// endpoint that sent the first ClientHello (or, for a flow whose start was
// not captured, the one the flow layer decided opened the connection).
type Direction uint8

const (
	ClientToServer Direction = 0
	ServerToClient Direction = 1
)

func (d Direction) String() string {
	if d == ServerToClient {
		return "server"
	}
	return "client"
}

// ClientHello is what a ClientHello carried on the wire (RFC 8446, 4.1.2;
// RFC 5246, 7.4.1.2), lists in wire order with GREASE values kept, since
// fingerprints need both.
type ClientHello struct {
	SSLv2              bool   // sent in the SSLv2-compatible format (RFC 5246, E.2)
	LegacyVersion      uint16 // client_version / legacy_version
	Random             []byte
	SessionID          []byte
	CipherSuites       []uint16
	CompressionMethods []uint8
	Extensions         []uint16 // extension types in wire order

	ServerName          string   // server_name (0), host_name entry
	ALPNProtocols       []string // application_layer_protocol_negotiation (16)
	SupportedVersions   []uint16 // supported_versions (43)
	SupportedGroups     []uint16 // supported_groups (10)
	ECPointFormats      []uint8  // ec_point_formats (11)
	SignatureAlgorithms []uint16 // signature_algorithms (13), wire order
	KeyShareGroups      []uint16 // key_share (51), groups of the offered shares
	PSKModes            []uint8  // psk_key_exchange_modes (45)
	PreSharedKey        bool     // pre_shared_key (41)
	EarlyData           bool     // early_data (42)
	RenegotiationInfo   bool     // renegotiation_info (65281)
	SessionTicket       bool     // session_ticket (35) present
	SessionTicketLen    int      // length of the ticket offered (0: asks for one)
	StatusRequest       bool     // status_request (5)
	EncryptedHello      bool     // encrypted_client_hello (0xfe0d)
	Heartbeat           bool     // heartbeat (15)
	ExtendedMaster      bool     // extended_master_secret (23)

	// QUICTransportParameters are quic_transport_parameters (57; RFC
	// 9001, 8.2; RFC 9000, 18.2), in wire order; nil when absent.
	QUICTransportParameters []QUICTransportParameter

	// SSLv2-format hellos only: every 3-byte cipher kind in wire order, and
	// how many of them are SSLv2-only (first byte not zero, so not in
	// CipherSuites).
	SSLv2CipherKinds []uint32
	SSLv2OnlyKinds   int
}

// QUICTransportParameter is one transport parameter (RFC 9000, 18):
// its id and value (a copy).
type QUICTransportParameter struct {
	ID    uint64
	Value []byte
}

// ServerHello is what a ServerHello (or HelloRetryRequest) carried.
type ServerHello struct {
	LegacyVersion     uint16
	Random            []byte
	SessionID         []byte
	CipherSuite       uint16
	CompressionMethod uint8
	Extensions        []uint16 // wire order

	SupportedVersion  uint16 // supported_versions (43), 0 when absent
	ALPNProtocol      string
	KeyShareGroup     uint16 // key_share (51): group chosen (HRR: group asked for)
	PreSharedKey      bool   // pre_shared_key (41): server accepted a PSK
	RenegotiationInfo bool
	SessionTicket     bool // session_ticket (35) acknowledged
	Heartbeat         bool
	ExtendedMaster    bool
	HelloRetryRequest bool // RFC 8446, 4.1.3: random equals SHA-256("HelloRetryRequest")

	// SSLv2 (LegacyVersion 0x0002): the session's cipher kind, the
	// client's choice in its CLIENT-MASTER-KEY, or until that is read the
	// first the SERVER-HELLO offers; and whether the server found the
	// client's session (SESSION-ID-HIT), which resumes it.
	SSLv2CipherKind uint32
	SSLv2SessionHit bool
}

// Version is the version the server chose: supported_versions when present
// (TLS 1.3), legacy_version otherwise.
func (s *ServerHello) Version() uint16 {
	if s.SupportedVersion != 0 {
		return s.SupportedVersion
	}
	return s.LegacyVersion
}

// KeyExchange holds what a ServerKeyExchange (TLS 1.2 and older) revealed.
type KeyExchange struct {
	Kind               string // "ECDHE", "DHE", "RSA" (export), or "" when unparsed
	NamedGroup         uint16 // ECDHE: the named curve
	DHPrimeBits        int    // DHE: size of p in bits
	PublicKeyBits      int    // size of the server's ephemeral public value in bits
	SignatureAlgorithm uint16 // TLS 1.2 signature scheme, 0 when not sent
}

// Alert is one alert record (RFC 8446, 6). Encrypted alerts (after
// ChangeCipherSpec, or any in TLS 1.3 after ServerHello) have no readable
// level or description: Encrypted is set and both are zero.
type Alert struct {
	From        Direction
	Level       uint8
	Description uint8
	Encrypted   bool
	Decrypted   bool // sent encrypted, read with the key log
	Time        time.Time
}

// Event is one step of the handshake as seen on the wire, kept for the
// ladder view. Content is the record content type; Handshake the handshake
// message type when Content is 22 and the message was readable.
type Event struct {
	Time      time.Time
	From      Direction
	Content   uint8
	Handshake uint8
	Encrypted bool
	Length    int
	Hidden13  Hidden13 // TLS 1.3: what a hidden record is taken to carry
	Decrypted bool     // the record was opened with the key log
}

// Hidden13 is what decode/tls takes a TLS 1.3 record it cannot decrypt to
// carry (RFC 8446, 5.2: after the ServerHello every record is
// application_data on the outside), from its place in the connection and
// its length. It is the one guess made about such records, made here as
// the records are read: rules and the ladder read it and guess nothing.
type Hidden13 uint8

const (
	// NotHidden13: a readable record, TLS 1.2 or older, or application
	// data after the client's Finished flight.
	NotHidden13 Hidden13 = iota
	// Hidden13Handshake: a record of the server's encrypted flight
	// (EncryptedExtensions to Finished, RFC 8446, 2), sent before the
	// client's Finished flight.
	Hidden13Handshake
	// Hidden13Alert: a client record before its Finished flight, of the
	// length of an encrypted alert (tls13AlertSize): taken as an alert,
	// not as the Finished.
	Hidden13Alert
	// Hidden13ClientFinished: the client's Finished flight (RFC 8446,
	// 4.4.4), its first record after the ServerHello that is not
	// alert-sized. It ends the hidden handshake and sets
	// Session.ClientFinished13.
	Hidden13ClientFinished
)

func (h Hidden13) String() string {
	switch h {
	case Hidden13Handshake:
		return "handshake"
	case Hidden13Alert:
		return "alert"
	case Hidden13ClientFinished:
		return "client_finished"
	}
	return "none"
}

// Session is everything visible about one TLS connection. Fields stay at
// their zero value when the message that carries them was not seen; in TLS
// 1.3 everything after ServerHello is encrypted and is marked Hidden, never
// guessed.
type Session struct {
	ClientHello      *ClientHello // the last ClientHello (after an HRR, the second)
	FirstClientHello *ClientHello // set only when there was a second one (after an HRR)
	ServerHello      *ServerHello // the real ServerHello, never the HRR
	HelloRetry       *ServerHello // the HelloRetryRequest, if any

	Version     uint16 // negotiated version (0: no ServerHello seen)
	CipherSuite uint16
	ALPN        string
	Resumed     bool
	Resumption  string // "session_id", "ticket", "psk" or ""

	Certificates         []*x509.Certificate // server chain in wire order (TLS 1.3: when decrypted)
	CertificateErrors    int                 // certificates that crypto/x509 could not parse
	CertificateRequested bool
	ClientCertificates   []*x509.Certificate
	ClientCertSent       bool // client sent a non-empty Certificate
	KeyExchange          *KeyExchange
	ClientKeyExchange    bool
	ServerHelloDone      bool
	NewSessionTicket     bool
	ChangeCipherSpec     [2]bool   // indexed by Direction
	Finished             [2]bool   // Finished seen (TLS <= 1.2: the encrypted record after CCS)
	Alerts               []Alert   // capped at MaxAlerts (anomaly tls_alerts_limit)
	AppData              [2]uint64 // application_data bytes per direction
	Hidden               bool      // TLS 1.3: the rest of the handshake is encrypted
	// ClientFinished13 (TLS 1.3) says the client's Finished flight was
	// seen, as far as a passive observer can tell: the record marked
	// Hidden13ClientFinished in Events, or the client's Finished
	// decrypted.
	ClientFinished13 bool

	// What only decryption shows of TLS 1.3 (a key log, Conn.SetKeys):
	// the server's EncryptedExtensions (its ALPN is ALPN too), the
	// signature scheme of each side's CertificateVerify (0: none read),
	// the KeyUpdates each side sent, the tickets the server issued and
	// the first of them. Certificates and alerts go where TLS 1.2's do.
	EncryptedExtensions *EncryptedExtensions
	CertificateVerify   [2]uint16
	KeyUpdates          [2]int
	Tickets13           int
	Ticket13            NewSessionTicket13
	// Decryption is what key-log decryption made of the connection; its
	// Status is "" when no key log was given.
	Decryption Decryption

	Established    bool // both Finished seen, or (TLS 1.3) application data both ways
	Start          time.Time
	ServerHelloAt  time.Time
	EstablishedAt  time.Time
	FirstAppDataAt time.Time

	Events []Event // capped at MaxEvents (anomaly tls_events_limit)
}

// Cipher names the session's cipher and gives its code: the cipher
// suite's two bytes, or for SSL 2.0 the cipher kind's three
// (SSLv2CipherKindName). Before a ServerHello it is the zero suite.
func (s *Session) Cipher() (name string, id uint32) {
	if sh := s.ServerHello; sh != nil && s.Version == VersionSSL20 {
		return SSLv2CipherKindName(sh.SSLv2CipherKind), sh.SSLv2CipherKind
	}
	return CipherSuiteName(s.CipherSuite), uint32(s.CipherSuite)
}

// OfferedSuites names the cipher suites a ClientHello offers, in its
// order, GREASE values left out; an SSLv2-format one's are its cipher
// kinds, SSL 2.0 and TLS alike.
func (ch *ClientHello) OfferedSuites() []string {
	if ch.SSLv2 {
		names := make([]string, 0, len(ch.SSLv2CipherKinds))
		for _, k := range ch.SSLv2CipherKinds {
			names = append(names, SSLv2CipherKindName(k))
		}
		return names
	}
	names := make([]string, 0, len(ch.CipherSuites))
	for _, v := range ch.CipherSuites {
		if !IsGREASE(v) {
			names = append(names, CipherSuiteName(v))
		}
	}
	return names
}
