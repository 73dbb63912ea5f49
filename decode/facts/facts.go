// Package facts holds the plain records every stage shares: what decoding
// saw on one connection (Connection), what went wrong in the input
// (Anomaly), what the rules judged (Finding) and the run's counters (Stats).
// It has no behaviour beyond small accessors; producers fill it, later
// stages read it.
package facts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// Connection is one TCP connection, or one UDP flow a UDP parser followed,
// and everything decoded from it.
type Connection struct {
	ID      uint64 // unique within a run, in order of first packet
	Capture string // the file (or interface) it came from

	// Transport is what the connection ran over; the zero value is TCP,
	// which every connection was before UDP flows were followed.
	Transport Transport

	Client, Server netip.AddrPort
	First, Last    time.Time
	Packets        [2]uint64 // per tls.Direction
	Bytes          [2]uint64 // TCP (or UDP) payload bytes per tls.Direction

	// Protocol is what the stream was recognised as: "tls", "http", "ftp",
	// "smtp", "pop3", "imap", "telnet", "ldap", or "" when unknown.
	Protocol string
	StartTLS string // the cleartext protocol that upgraded to TLS, if any
	// TLSOffset is how many bytes the client sent before its first TLS
	// record when TLS did not begin the stream: a STARTTLS exchange, a
	// proxy's handshake, or a preamble of a protocol not recognised (then
	// StartTLS is "") found by the mid-stream scan. 0 otherwise.
	TLSOffset int64
	// Proxy is the target ("host:port") a SOCKS or HTTP CONNECT proxy was
	// asked to reach; the TLS facts that follow are the target's, Server
	// is the proxy. "" when no proxy tunnel was seen.
	Proxy string

	// Outer is what the connection's packets were wrapped in, as its
	// first packet showed: "vxlan vni=42 192.0.2.1-192.0.2.2", nested
	// encapsulations joined by " / " outermost first (flow.Encap); ""
	// when they came bare (VLAN tags are not named).
	Outer string

	TLS *tls.Session // nil when no TLS was seen
	// LaterTLS are the TLS sessions that followed TLS on the same stream
	// (a new handshake in the clear after the first session closed), in
	// order; TLS, the first, gives the fingerprints. nil when none.
	LaterTLS []LaterTLS

	// QUIC is what the long headers and Initial packets of a QUIC
	// connection showed (Transport QUIC); nil otherwise.
	QUIC *QUICInfo
	// DTLS is what the records of a DTLS association showed (Protocol
	// "dtls"); nil otherwise.
	DTLS *DTLSInfo

	// Certificates and ClientCertificates describe TLS.Certificates and
	// TLS.ClientCertificates, in wire order: decode fills them (with
	// decode/certs) so that rules' and reports' readers never parse DER.
	Certificates, ClientCertificates []Certificate

	Fingerprints Fingerprints

	Secrets []Secret      // cleartext secrets seen (masked unless configured)
	HTTP    []HTTPMessage // HTTP requests seen in the clear (capped)

	Gaps   int    // bytes lost in reassembly, counted as gap events
	Closed string // "fin", "rst", "idle", "evicted", "end" (capture ended)
	// ClosedAt is when the FIN (from the second side) or the RST that
	// closed it came; Last counts the packets after it too. Zero for
	// the other ends.
	ClosedAt   time.Time
	StartSeen  bool // the SYN was captured
	Truncated  bool // limits stopped the parser before the stream ended
	FindingIDs []string

	// Suppressed holds the id of each finding the policy suppressed on
	// this connection (once per finding; nil when none). Its one
	// producer is tlsscope's Analyzer.Judge, which sets it on every
	// call; the summaries count it so that a suppression stays visible.
	Suppressed []string
}

// LaterTLS is a TLS session that followed the first on the same stream,
// with its own fingerprints.
type LaterTLS struct {
	TLS          *tls.Session
	Fingerprints Fingerprints
}

// SNI is the server name the client asked for, "" when none.
func (c *Connection) SNI() string {
	if c.TLS != nil && c.TLS.ClientHello != nil {
		return c.TLS.ClientHello.ServerName
	}
	return ""
}

// Endpoint prints an address as ip:port, IPv6 as [addr]:port, "" when unset.
func Endpoint(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	return ap.String()
}

// Transport is the protocol a Connection runs over.
type Transport uint8

const (
	TCP  Transport = iota // the zero value
	UDP                   // a UDP flow a parser followed (DTLS, ...)
	QUIC                  // a UDP flow that carries QUIC (RFC 9000)
)

var transportNames = [...]string{TCP: "tcp", UDP: "udp", QUIC: "quic"}

func (t Transport) String() string {
	if int(t) < len(transportNames) {
		return transportNames[t]
	}
	return "tcp"
}

// OverUDP says whether the transport runs over UDP (UDP, QUIC).
func (t Transport) OverUDP() bool { return t == UDP || t == QUIC }

// QUICInfo is what a QUIC connection's long-header packets and its Initial
// packets, which anyone can decrypt (RFC 9001, 5.2), showed. The TLS
// handshake they carried is Connection.TLS.
type QUICInfo struct {
	Version     uint32 // of the client's first long header
	VersionName string // "1", "2", "draft-29", "Q050", ... (decode/quic.VersionName)
	// ServerVersion is the version of the server's first long header when
	// it differs from Version (compatible version negotiation, RFC 9368).
	ServerVersion uint32
	// OriginalDCID is the client's first Destination Connection ID, from
	// which the Initial keys are derived (RFC 9001, 5.2).
	OriginalDCID           []byte
	ClientSCID, ServerSCID []byte // the first Source Connection ID of each side
	// Retry: the server sent a Retry (RFC 9000, 17.2.5); RetrySCID is its
	// Source Connection ID, the Initial keys' input from then on.
	Retry     bool
	RetrySCID []byte
	// VersionNegotiation lists the versions a Version Negotiation packet
	// offered (RFC 9000, 17.2.1); nil when none was seen.
	VersionNegotiation []uint32
	// Packets per kind and tls.Direction: long-header Initial, 0-RTT and
	// Handshake packets, and short-header (1-RTT) packets.
	Initial, ZeroRTT, Handshake, OneRTT [2]uint64
	// Decrypted counts the Initial packets opened, per tls.Direction;
	// Undecrypted those of a version without Initial keys here (drafts,
	// Google QUIC) or whose tag did not verify.
	Decrypted, Undecrypted [2]uint64
	// Close is the first CONNECTION_CLOSE frame read in an Initial packet.
	Close *QUICClose
	// TransportParameters names the client's quic_transport_parameters
	// (RFC 9000, 18.2), in wire order ("initial_max_data", ...; an
	// unregistered one as "0x..." hex, GREASE as "grease").
	TransportParameters []string
}

// DTLSInfo is what a DTLS association's records showed (RFC 6347); the
// handshake they carried is Connection.TLS.
type DTLSInfo struct {
	// HelloVerifyRequest: the server asked for a cookie (RFC 6347,
	// 4.2.1); the Session's ClientHello is then the second, with it.
	HelloVerifyRequest bool
	ClientHellos       int       // ClientHellos read
	Records            [2]uint64 // records per tls.Direction
	Protected          [2]uint64 // of them, in an epoch above 0
	DTLS13             [2]uint64 // DTLS 1.3 unified-header records (RFC 9147, 4), not read
}

// QUICClose is a CONNECTION_CLOSE frame (RFC 9000, 19.19).
type QUICClose struct {
	From        uint8  // tls.Direction
	Application bool   // frame type 0x1d: an application error code
	Code        uint64 // RFC 9000, 20.1; 0x0100+alert is a TLS alert (RFC 9001, 4.8)
	Reason      string
}

// Certificate describes one X.509 certificate as reports print it.
type Certificate struct {
	Subject   string // RFC 4514, most specific RDN first: "CN=www.example.com,O=Example,C=US"
	Issuer    string
	SubjectCN string // the subject's commonName attribute, "" when it has none
	IssuerCN  string
	Serial    string // upper-case hex without leading zeros, as OpenSSL, Zeek and python-cryptography print it
	NotBefore time.Time
	NotAfter  time.Time
	DNSNames  []string
	IPs       []netip.Addr
	KeyType   string // "RSA", "ECDSA", "Ed25519", "DSA", or x509's name for others
	KeyBits   int    // modulus (RSA, DSA p) or curve size; 0 when unknown
	Key       string // "RSA 2048", "ECDSA P-256", "Ed25519", "DSA 1024"
	Signature string // x509.SignatureAlgorithm.String(): "SHA256-RSA", "ECDSA-SHA384", ...
	SHA256    string // lower-case hex of the DER
	SHA1      string
	// SelfSigned: subject equals issuer and the signature verifies with
	// the certificate's own key (MD5 and SHA-1 signatures included).
	SelfSigned bool
	IsCA       bool // basicConstraints cA

	// For logs that print them (Zeek's x509.log, ECS x509.*): the X.509
	// version (1 to 3), the RSA public exponent (0 for other keys), the
	// ECDSA key's curve as crypto/elliptic names it ("P-256", "" for
	// other keys), whether basicConstraints was present and its
	// pathLenConstraint (-1 when absent).
	Version          int
	Exponent         int
	Curve            string
	BasicConstraints bool
	MaxPathLen       int

	// ExplicitCurve: an EC key whose curve parameters are spelled out
	// rather than named (CVE-2020-0601's vector); crypto/x509 refuses
	// such certificates, and the fields above come from the raw
	// TBSCertificate (decode/certs/lenient).
	ExplicitCurve bool
}

// Fingerprints of the TLS handshake (empty when not computable).
type Fingerprints struct {
	JA3, JA3Full   string
	JA3S, JA3SFull string
	JA4, JA4R      string
	// After a HelloRetryRequest, JA4 and JA4R of the client's second
	// ClientHello (FoxIO's JA4.2); JA4 is the first's.
	JA4Retry, JA4RetryR string
}

// Secret is a credential, token, card number or other sensitive value seen
// in cleartext. Value is empty unless the user asked to see secrets; Masked
// is always safe to print.
type Secret struct {
	Kind     string // finding id: "plaintext-credentials", "plaintext-session-cookie", ...
	Protocol string // "http", "ftp", "smtp", ...
	Type     string // what it is: "basic-auth", "password-field", "aws-access-key", ...
	Field    string // header, form field or command that carried it
	User     string // user name where the protocol shows one (not a secret)
	Masked   string
	Value    string // only set with --show-secrets
	Detail   string // extra, non-secret context (JWT claims, digest algorithm)
	Severity string // suggested severity override ("" = the finding's default)
	From     uint8  // tls.Direction
	Time     time.Time

	// HTTP context, when the secret travelled in HTTP.
	Method, Host, Path string
}

// HTTPMessage is one HTTP/1.x request and its response, if seen.
type HTTPMessage struct {
	Time          time.Time
	Method        string
	Host          string
	Path          string // without the query string values (names kept)
	Version       string
	Status        int
	ContentType   string
	RequestBytes  int64
	ResponseBytes int64
	UserAgent     string
}

// Anomaly is malformed or unexpected input, counted and never fatal.
// Kinds are stable snake_case names (e.g. "tls_record_too_long").
type Anomaly struct {
	Kind    string
	Time    time.Time
	ConnID  uint64 // 0 when not tied to a connection
	Client  netip.AddrPort
	Server  netip.AddrPort
	Offset  int64 // byte offset in the stream, or in the file; -1 when unknown
	Detail  string
	Capture string
}

// Severity of a finding; the zero value is Info.
type Severity uint8

const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// ParseSeverity reads a severity name as the user writes it.
func ParseSeverity(name string) (Severity, bool) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), true
		}
	}
	return 0, false
}

// Finding is one judgement about a connection.
type Finding struct {
	ID        string // stable id, e.g. "cert-expired"
	Severity  Severity
	ConnID    uint64
	Capture   string
	Time      time.Time
	Client    netip.AddrPort
	Server    netip.AddrPort
	SNI       string
	Message   string
	Evidence  string // masked where it shows a secret
	Reference string // RFC, NIST or Mozilla guideline
	// Step ties the finding to the handshake message or cleartext message
	// that caused it, for the ladder (its definition's step, unless the
	// rule names another).
	Step Step
}

// Step is the message a finding is tied to: a handshake message, an alert,
// or the cleartext protocol whose message carried a secret. The ladder
// draws the finding on that message's arrow; records print its name.
type Step uint8

const (
	StepNone Step = iota
	StepClientHello
	StepServerHello
	StepHelloRetryRequest
	StepCertificate
	StepServerKeyExchange
	StepCertificateRequest
	StepClientKeyExchange
	StepNewSessionTicket
	StepAlert
	// Cleartext protocols (Secret.Protocol).
	StepHTTP
	StepFTP
	StepSMTP
	StepPOP3
	StepIMAP
	StepTelnet
	StepLDAP
	StepCleartext // a cleartext protocol without a name
)

// steps gives each Step its name (as NDJSON prints it) and, for a
// handshake message, its HandshakeType (RFC 8446, 4).
var steps = [...]struct {
	name      string
	handshake uint8
}{
	StepNone:               {"", 0},
	StepClientHello:        {"client_hello", tls.TypeClientHello},
	StepServerHello:        {"server_hello", tls.TypeServerHello},
	StepHelloRetryRequest:  {"hello_retry_request", 0},
	StepCertificate:        {"certificate", tls.TypeCertificate},
	StepServerKeyExchange:  {"server_key_exchange", tls.TypeServerKeyExchange},
	StepCertificateRequest: {"certificate_request", tls.TypeCertificateRequest},
	StepClientKeyExchange:  {"client_key_exchange", tls.TypeClientKeyExchange},
	StepNewSessionTicket:   {"new_session_ticket", tls.TypeNewSessionTicket},
	StepAlert:              {"alert", 0},
	StepHTTP:               {"http", 0},
	StepFTP:                {"ftp", 0},
	StepSMTP:               {"smtp", 0},
	StepPOP3:               {"pop3", 0},
	StepIMAP:               {"imap", 0},
	StepTelnet:             {"telnet", 0},
	StepLDAP:               {"ldap", 0},
	StepCleartext:          {"cleartext", 0},
}

func (s Step) String() string {
	if int(s) < len(steps) {
		return steps[s].name
	}
	return "unknown"
}

// Handshake is the handshake message type the step names, and false for
// a step that is not one handshake message (an alert, a
// HelloRetryRequest, which shares ServerHello's type, cleartext).
func (s Step) Handshake() (uint8, bool) {
	if int(s) < len(steps) && steps[s].handshake != 0 {
		return steps[s].handshake, true
	}
	return 0, false
}

// ProtocolStep is the step of a secret seen in a cleartext protocol
// (Secret.Protocol, as decode/cleartext names them; "" is StepCleartext).
func ProtocolStep(protocol string) Step {
	for s := StepHTTP; s < StepCleartext; s++ {
		if steps[s].name == protocol {
			return s
		}
	}
	return StepCleartext
}

// Fingerprint identifies a finding across runs and captures: the rule, the
// server, the SNI and the evidence, not the capture or time. SARIF's
// partialFingerprints and policy suppressions carry it.
func (f Finding) Fingerprint() string {
	h := sha256.Sum256([]byte(strings.Join([]string{f.ID, Endpoint(f.Server), f.SNI, f.Evidence}, "\x00")))
	return hex.EncodeToString(h[:16])
}

// Stats are the run's counters.
type Stats struct {
	Files          int
	Packets        uint64
	Bytes          uint64 // captured bytes
	NonIP          uint64 // packets that were not IPv4/IPv6
	NonTCP         uint64
	Truncated      uint64 // packets cut by snaplen or damaged headers
	Filtered       uint64 // packets dropped by the filter
	Connections    uint64 // TCP connections (and UDP flows) that carried payload: the ones reported
	Empty          uint64 // TCP connections (and UDP flows) without payload (not reported)
	Evicted        uint64 // flows evicted by the flow or memory caps
	Gaps           uint64
	KernelReceived uint64 // live capture only
	KernelDropped  uint64 // live capture only
	// Shard is the part of the flows analysed (--shard K/N; the zero
	// value: all); OtherShard counts the TCP segments and UDP datagrams
	// of other shards' flows, decoded as far as their endpoints only.
	Shard       Shard
	OtherShard  uint64
	First, Last time.Time
	Anomalies   map[string]uint64 // by kind
}

// Shard is shard K of N (0 <= K < N) of a capture's flows, for
// spreading one capture over N processes that each read all of it
// (decode.InShard says which flows are in it). The zero value, like
// any N below 2, is every flow.
type Shard struct{ K, N int }

// String is "K/N", "" for the whole.
func (s Shard) String() string {
	if s.N < 2 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// AddAnomaly counts one anomaly of a kind.
func (s *Stats) AddAnomaly(kind string) {
	if s.Anomalies == nil {
		s.Anomalies = make(map[string]uint64)
	}
	s.Anomalies[kind]++
}

// Add adds another run's counters to s (Files too; First and Last widen).
func (s *Stats) Add(o Stats) {
	s.Files += o.Files
	s.Packets += o.Packets
	s.Bytes += o.Bytes
	s.NonIP += o.NonIP
	s.NonTCP += o.NonTCP
	s.Truncated += o.Truncated
	s.Filtered += o.Filtered
	s.Connections += o.Connections
	s.Empty += o.Empty
	s.Evicted += o.Evicted
	s.Gaps += o.Gaps
	s.KernelReceived += o.KernelReceived
	s.KernelDropped += o.KernelDropped
	s.OtherShard += o.OtherShard
	if s.Shard == (Shard{}) {
		s.Shard = o.Shard
	}
	if !o.First.IsZero() && (s.First.IsZero() || o.First.Before(s.First)) {
		s.First = o.First
	}
	if o.Last.After(s.Last) {
		s.Last = o.Last
	}
	for k, n := range o.Anomalies {
		if s.Anomalies == nil {
			s.Anomalies = make(map[string]uint64)
		}
		s.Anomalies[k] += n
	}
}
