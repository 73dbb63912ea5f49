package report

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// The record types below are the NDJSON contract (and the pieces of the
// json document). Fields may be added; a field's name and meaning never
// change. Lists are always arrays, never null.

// ConnectionRecord is {"type":"connection"}.
type ConnectionRecord struct {
	Type             string         `json:"type"`
	TS               string         `json:"ts"`
	Capture          string         `json:"capture"`
	ID               uint64         `json:"id"`
	Client           string         `json:"client"`
	Server           string         `json:"server"`
	Transport        string         `json:"transport"`
	Protocol         string         `json:"protocol"`
	StartTLS         string         `json:"starttls"`
	SNI              string         `json:"sni"`
	Version          string         `json:"version"`
	VersionID        uint16         `json:"version_id"`
	Cipher           string         `json:"cipher"`
	CipherID         uint32         `json:"cipher_id"` // SSL 2.0: the 3-byte cipher kind
	ALPNOffered      []string       `json:"alpn_offered"`
	ALPN             string         `json:"alpn"`
	Resumed          bool           `json:"resumed"`
	Resumption       string         `json:"resumption"`
	HelloRetry       bool           `json:"hello_retry"`
	Established      bool           `json:"established"`
	Outcome          string         `json:"outcome"` // facts.Outcome: ok, resumed, alert, closed, no reply, incomplete, mid-stream; "" for cleartext
	Alerts           []AlertRecord  `json:"alerts"`
	Certificates     []CertRecord   `json:"certificates"`
	ClientCerts      []CertRecord   `json:"client_certificates"`
	CertErrors       int            `json:"certificate_errors"`
	JA3              string         `json:"ja3"`
	JA3Full          string         `json:"ja3_full"`
	JA3S             string         `json:"ja3s"`
	JA3SFull         string         `json:"ja3s_full"`
	JA4              string         `json:"ja4"`
	JA4R             string         `json:"ja4_r"`
	JA4Retry         string         `json:"ja4_retry,omitempty"`   // after a HelloRetryRequest: the second ClientHello's
	JA4RetryR        string         `json:"ja4_retry_r,omitempty"` // (FoxIO's JA4.2)
	KnownClient      string         `json:"known_client"`
	Findings         []string       `json:"findings"`
	PacketsClient    uint64         `json:"packets_client"`
	PacketsServer    uint64         `json:"packets_server"`
	BytesClient      uint64         `json:"bytes_client"`
	BytesServer      uint64         `json:"bytes_server"`
	VersionsOffered  []string       `json:"versions_offered"`
	SuitesOffered    []string       `json:"suites_offered"`
	Groups           []string       `json:"groups"`
	KeyShare         []string       `json:"key_share"`
	KeyShareSelected string         `json:"key_share_selected"`
	KeyExchange      *KXRecord      `json:"key_exchange"`
	QUIC             *QUICRecord    `json:"quic"`
	DTLS             *DTLSRecord    `json:"dtls"`
	CertRequested    bool           `json:"client_cert_requested"`
	ClientCertSent   bool           `json:"client_cert_sent"`
	Hidden           bool           `json:"hidden"`
	Closed           string         `json:"closed"`
	StartSeen        bool           `json:"start_seen"`
	Gaps             int            `json:"gaps"`
	Truncated        bool           `json:"truncated"`
	AppDataClient    uint64         `json:"app_data_client"`
	AppDataServer    uint64         `json:"app_data_server"`
	End              string         `json:"end"`
	HandshakeMillis  float64        `json:"handshake_ms"`
	Secrets          []SecretRecord `json:"secrets"`
	// Decryption is what key-log decryption made of the connection. It
	// is there only when a key log was given (--keylog, or the capture's
	// own Decryption Secrets Blocks), so a run without one writes what it
	// always wrote.
	Decryption *DecryptionRecord `json:"decryption,omitempty"`
	// Outer is what the connection's packets were wrapped in
	// (facts.Connection.Outer: "vxlan vni=42 192.0.2.1-192.0.2.2"); there
	// only for tunnelled connections.
	Outer string `json:"outer,omitempty"`
	// Proxy is the "host:port" a SOCKS or HTTP CONNECT proxy opened a
	// tunnel to (the TLS facts are the target's; server is the proxy);
	// TLSOffset the client bytes before the first TLS record when TLS
	// began after a cleartext preamble (starttls names it when known).
	// Both are there only when set.
	Proxy     string `json:"proxy,omitempty"`
	TLSOffset int64  `json:"tls_offset,omitempty"`
	// LaterTLS lists the TLS sessions that followed the first on the same
	// stream (facts.Connection.LaterTLS), there only when some did.
	LaterTLS []LaterTLSRecord `json:"later_tls,omitempty"`
}

// LaterTLSRecord is a TLS session after the first on one stream: its
// hellos' SNI, version, suite and JA4 (FoxIO: the first ClientHello is the
// connection's ja4; these are the later ones).
type LaterTLSRecord struct {
	SNI     string `json:"sni"`
	Version string `json:"version"`
	Cipher  string `json:"cipher"`
	JA4     string `json:"ja4"`
}

// DecryptionRecord is a connection's key-log decryption: status "ok",
// "no-key", "partial", "unsupported-suite" or "failed" (tls.Decrypt*),
// and the records opened, failed (tag or MAC did not verify) and left
// unread (no secret for them), per direction.
type DecryptionRecord struct {
	Status       string `json:"status"`
	OpenedClient uint64 `json:"records_decrypted_client"`
	OpenedServer uint64 `json:"records_decrypted_server"`
	FailedClient uint64 `json:"records_failed_client"`
	FailedServer uint64 `json:"records_failed_server"`
	UnreadClient uint64 `json:"records_unread_client"`
	UnreadServer uint64 `json:"records_unread_server"`
	Detail       string `json:"detail"`
}

// AlertRecord is one alert; encrypted alerts have level and description "".
type AlertRecord struct {
	From        string `json:"from"`
	Level       string `json:"level"`
	Description string `json:"description"`
	Code        int    `json:"code"`
	Encrypted   bool   `json:"encrypted"`
	TS          string `json:"ts"`
	Decrypted   bool   `json:"decrypted,omitempty"` // sent encrypted, read with the key log
}

// CertRecord describes one certificate of a chain, in wire order.
type CertRecord struct {
	Subject    string   `json:"subject"`
	Issuer     string   `json:"issuer"`
	Serial     string   `json:"serial"`
	NotBefore  string   `json:"not_before"`
	NotAfter   string   `json:"not_after"`
	DNSNames   []string `json:"dns_names"`
	Key        string   `json:"key"`
	Signature  string   `json:"signature"`
	SHA256     string   `json:"sha256"`
	SHA1       string   `json:"sha1"`
	IPs        []string `json:"ip_addresses"`
	SelfSigned bool     `json:"self_signed"`
	IsCA       bool     `json:"is_ca"`
}

// QUICRecord is what a QUIC connection's long headers and Initial
// packets showed (facts.QUICInfo); connection IDs in lower-case hex.
type QUICRecord struct {
	Version             string   `json:"version"`
	VersionID           uint32   `json:"version_id"`
	ServerVersion       string   `json:"server_version"`
	OriginalDCID        string   `json:"original_dcid"`
	ClientSCID          string   `json:"client_scid"`
	ServerSCID          string   `json:"server_scid"`
	Retry               bool     `json:"retry"`
	RetrySCID           string   `json:"retry_scid"`
	VersionNegotiation  []string `json:"version_negotiation"`
	InitialClient       uint64   `json:"initial_client"`
	InitialServer       uint64   `json:"initial_server"`
	HandshakeClient     uint64   `json:"handshake_client"`
	HandshakeServer     uint64   `json:"handshake_server"`
	ZeroRTTClient       uint64   `json:"zero_rtt_client"`
	OneRTTClient        uint64   `json:"one_rtt_client"`
	OneRTTServer        uint64   `json:"one_rtt_server"`
	DecryptedClient     uint64   `json:"decrypted_client"`
	DecryptedServer     uint64   `json:"decrypted_server"`
	TransportParameters []string `json:"transport_parameters"`
	CloseFrom           string   `json:"close_from"`
	CloseCode           uint64   `json:"close_code"`
	CloseReason         string   `json:"close_reason"`
}

// DTLSRecord is what a DTLS association's records showed
// (facts.DTLSInfo).
type DTLSRecord struct {
	HelloVerifyRequest bool   `json:"hello_verify_request"`
	ClientHellos       int    `json:"client_hellos"`
	RecordsClient      uint64 `json:"records_client"`
	RecordsServer      uint64 `json:"records_server"`
	ProtectedClient    uint64 `json:"protected_client"`
	ProtectedServer    uint64 `json:"protected_server"`
	DTLS13Client       uint64 `json:"dtls13_client"`
	DTLS13Server       uint64 `json:"dtls13_server"`
}

// newQUICRecord builds the quic object of a QUIC connection's record.
func newQUICRecord(q *facts.QUICInfo) *QUICRecord {
	r := &QUICRecord{
		Version: q.VersionName, VersionID: q.Version,
		OriginalDCID: hex.EncodeToString(q.OriginalDCID),
		ClientSCID:   hex.EncodeToString(q.ClientSCID), ServerSCID: hex.EncodeToString(q.ServerSCID),
		Retry: q.Retry, RetrySCID: hex.EncodeToString(q.RetrySCID),
		VersionNegotiation: make([]string, 0, len(q.VersionNegotiation)),
		InitialClient:      q.Initial[tls.ClientToServer], InitialServer: q.Initial[tls.ServerToClient],
		HandshakeClient: q.Handshake[tls.ClientToServer], HandshakeServer: q.Handshake[tls.ServerToClient],
		ZeroRTTClient: q.ZeroRTT[tls.ClientToServer],
		OneRTTClient:  q.OneRTT[tls.ClientToServer], OneRTTServer: q.OneRTT[tls.ServerToClient],
		DecryptedClient: q.Decrypted[tls.ClientToServer], DecryptedServer: q.Decrypted[tls.ServerToClient],
		TransportParameters: nonNil(slices.Clone(q.TransportParameters)),
	}
	if q.ServerVersion != 0 {
		r.ServerVersion = fmt.Sprintf("%#08x", q.ServerVersion)
	}
	for _, v := range q.VersionNegotiation {
		r.VersionNegotiation = append(r.VersionNegotiation, fmt.Sprintf("%#08x", v))
	}
	if cl := q.Close; cl != nil {
		r.CloseFrom = tls.Direction(cl.From).String()
		r.CloseCode, r.CloseReason = cl.Code, cl.Reason
	}
	return r
}

// KXRecord is what a TLS 1.2 ServerKeyExchange showed.
type KXRecord struct {
	Kind          string `json:"kind"`
	Group         string `json:"group"`
	DHPrimeBits   int    `json:"dh_prime_bits"`
	PublicKeyBits int    `json:"public_key_bits"`
}

// SecretRecord is a cleartext secret: Value is the masked form unless the
// run shows secrets.
type SecretRecord struct {
	Kind     string `json:"kind"`
	Protocol string `json:"protocol"`
	Type     string `json:"secret_type"`
	Field    string `json:"field"`
	User     string `json:"user"`
	Value    string `json:"value"`
	Masked   bool   `json:"masked"`
	Detail   string `json:"detail"`
	From     string `json:"from"`
	TS       string `json:"ts"`
	Method   string `json:"method"`
	Host     string `json:"host"`
	Path     string `json:"path"`
}

// FindingRecord is {"type":"finding"}.
type FindingRecord struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Severity   string `json:"severity"`
	Client     string `json:"client"`
	Server     string `json:"server"`
	SNI        string `json:"sni"`
	Message    string `json:"message"`
	Evidence   string `json:"evidence"`
	Reference  string `json:"reference"`
	Capture    string `json:"capture"`
	Connection uint64 `json:"connection"`
	TS         string `json:"ts"`
	Step       string `json:"step"`
}

// HTTPRecord is {"type":"http"}: one cleartext HTTP request.
type HTTPRecord struct {
	Type          string `json:"type"`
	TS            string `json:"ts"`
	Capture       string `json:"capture"`
	Connection    uint64 `json:"connection"`
	Client        string `json:"client"`
	Server        string `json:"server"`
	Method        string `json:"method"`
	Host          string `json:"host"`
	Path          string `json:"path"`
	Version       string `json:"version"`
	Status        int    `json:"status"`
	ContentType   string `json:"content_type"`
	RequestBytes  int64  `json:"request_bytes"`
	ResponseBytes int64  `json:"response_bytes"`
	UserAgent     string `json:"user_agent"`
}

// AnomalyRecord is {"type":"anomaly"}.
type AnomalyRecord struct {
	Type       string `json:"type"`
	Kind       string `json:"kind"`
	Connection uint64 `json:"connection"`
	Offset     int64  `json:"offset"`
	TS         string `json:"ts"`
	Client     string `json:"client"`
	Server     string `json:"server"`
	Detail     string `json:"detail"`
	Capture    string `json:"capture"`
}

// SummaryRecord is {"type":"summary"}: one per capture (scope "capture")
// and a last one for the whole run (scope "total").
type SummaryRecord struct {
	Type               string            `json:"type"`
	Scope              string            `json:"scope"`
	Capture            string            `json:"capture"`
	Files              int               `json:"files"`
	Packets            uint64            `json:"packets"`
	Bytes              uint64            `json:"bytes"`
	Connections        int               `json:"connections"`
	TLSConnections     int               `json:"tls_connections"`
	HandshakesComplete int               `json:"handshakes_complete"`
	HandshakesFailed   int               `json:"handshakes_failed"`
	Versions           map[string]int    `json:"versions"`
	Suites             map[string]int    `json:"suites"`
	Protocols          map[string]int    `json:"protocols"`
	Findings           map[string]int    `json:"findings"`
	First              string            `json:"first"`
	Last               string            `json:"last"`
	DurationSeconds    float64           `json:"duration_seconds"`
	Gaps               uint64            `json:"gaps"`
	TruncatedPackets   uint64            `json:"truncated_packets"`
	Evicted            uint64            `json:"evicted"`
	Filtered           uint64            `json:"filtered"`
	NonIP              uint64            `json:"non_ip"`
	NonTCP             uint64            `json:"non_tcp"`
	KernelReceived     uint64            `json:"kernel_received"`
	KernelDropped      uint64            `json:"kernel_dropped"`
	Anomalies          map[string]uint64 `json:"anomalies"`
	// Shard is "K/N" in a --shard run (absent otherwise); OtherShard
	// counts the frames of other shards' flows.
	Shard      string `json:"shard,omitempty"`
	OtherShard uint64 `json:"other_shard,omitempty"`
	// Decryption counts TLS connections by decryption status; absent
	// when no key log was given.
	Decryption map[string]int `json:"decryption,omitempty"`
	// Suppressed counts, by finding id, the findings the policy
	// suppressed; absent when none were.
	Suppressed map[string]int `json:"suppressed,omitempty"`
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func secretValue(s facts.Secret, opt Options) (string, bool) {
	if opt.ShowSecrets && s.Value != "" {
		return s.Value, false
	}
	return s.Masked, true
}

// NewConnectionRecord builds the connection record; findings are the
// connection's (after suppression).
func NewConnectionRecord(c *facts.Connection, findings []facts.Finding, opt Options) ConnectionRecord {
	r := ConnectionRecord{
		Type:            "connection",
		TS:              ts(c.First),
		End:             ts(c.Last),
		Capture:         c.Capture,
		ID:              c.ID,
		Client:          facts.Endpoint(c.Client),
		Server:          facts.Endpoint(c.Server),
		Transport:       c.Transport.String(),
		Protocol:        c.Protocol,
		StartTLS:        c.StartTLS,
		Outer:           c.Outer,
		Proxy:           c.Proxy,
		TLSOffset:       c.TLSOffset,
		LaterTLS:        laterTLS(c),
		SNI:             c.SNI(),
		ALPNOffered:     []string{},
		Alerts:          []AlertRecord{},
		Certificates:    []CertRecord{},
		ClientCerts:     []CertRecord{},
		JA3:             c.Fingerprints.JA3,
		JA3Full:         c.Fingerprints.JA3Full,
		JA3S:            c.Fingerprints.JA3S,
		JA3SFull:        c.Fingerprints.JA3SFull,
		JA4:             c.Fingerprints.JA4,
		JA4R:            c.Fingerprints.JA4R,
		JA4Retry:        c.Fingerprints.JA4Retry,
		JA4RetryR:       c.Fingerprints.JA4RetryR,
		KnownClient:     knownClient(c.Fingerprints.JA4),
		Findings:        []string{},
		PacketsClient:   c.Packets[tls.ClientToServer],
		PacketsServer:   c.Packets[tls.ServerToClient],
		BytesClient:     c.Bytes[tls.ClientToServer],
		BytesServer:     c.Bytes[tls.ServerToClient],
		VersionsOffered: []string{},
		SuitesOffered:   []string{},
		Groups:          []string{},
		KeyShare:        []string{},
		Closed:          c.Closed,
		StartSeen:       c.StartSeen,
		Gaps:            c.Gaps,
		Truncated:       c.Truncated,
		Secrets:         []SecretRecord{},
	}
	if c.QUIC != nil {
		r.QUIC = newQUICRecord(c.QUIC)
	}
	if d := c.DTLS; d != nil {
		r.DTLS = &DTLSRecord{HelloVerifyRequest: d.HelloVerifyRequest, ClientHellos: d.ClientHellos,
			RecordsClient: d.Records[tls.ClientToServer], RecordsServer: d.Records[tls.ServerToClient],
			ProtectedClient: d.Protected[tls.ClientToServer], ProtectedServer: d.Protected[tls.ServerToClient],
			DTLS13Client: d.DTLS13[tls.ClientToServer], DTLS13Server: d.DTLS13[tls.ServerToClient]}
	}
	if len(findings) > 0 {
		r.Findings = make([]string, 0, len(findings))
	}
	for _, f := range findings {
		if !slices.Contains(r.Findings, f.ID) {
			r.Findings = append(r.Findings, f.ID)
		}
	}
	if len(c.Secrets) > 0 {
		r.Secrets = make([]SecretRecord, 0, len(c.Secrets))
	}
	for _, s := range c.Secrets {
		v, masked := secretValue(s, opt)
		r.Secrets = append(r.Secrets, SecretRecord{
			Kind: s.Kind, Protocol: s.Protocol, Type: s.Type, Field: s.Field,
			User: s.User, Value: v, Masked: masked, Detail: s.Detail,
			From: tls.Direction(s.From).String(), TS: ts(s.Time),
			Method: s.Method, Host: s.Host, Path: s.Path,
		})
	}
	s := c.TLS
	if s == nil {
		return r
	}
	if s.Version != 0 {
		r.Version = versionName(s.Version)
		r.VersionID = s.Version
	}
	if s.ServerHello != nil {
		r.Cipher, r.CipherID = s.Cipher()
		r.KeyShareSelected = groupNameOr(s.ServerHello.KeyShareGroup)
	}
	r.ALPN = s.ALPN
	r.Resumed = s.Resumed
	r.Resumption = s.Resumption
	r.HelloRetry = s.HelloRetry != nil
	r.Established = s.Established
	r.Outcome = c.HandshakeOutcome().String()
	r.CertErrors = s.CertificateErrors
	r.CertRequested = s.CertificateRequested
	r.ClientCertSent = s.ClientCertSent
	r.Hidden = s.Hidden
	r.AppDataClient = s.AppData[tls.ClientToServer]
	r.AppDataServer = s.AppData[tls.ServerToClient]
	if !s.Start.IsZero() && !s.EstablishedAt.IsZero() {
		r.HandshakeMillis = float64(s.EstablishedAt.Sub(s.Start).Microseconds()) / 1000
	}
	if len(s.Alerts) > 0 {
		r.Alerts = make([]AlertRecord, 0, len(s.Alerts))
	}
	for _, a := range s.Alerts {
		ar := AlertRecord{From: a.From.String(), Encrypted: a.Encrypted, TS: ts(a.Time), Code: -1, Decrypted: a.Decrypted}
		if !a.Encrypted {
			ar.Level = alertLevel(a.Level)
			ar.Description = alertName(a.Description)
			ar.Code = int(a.Description)
		}
		r.Alerts = append(r.Alerts, ar)
	}
	if len(c.Certificates) > 0 {
		r.Certificates = make([]CertRecord, 0, len(c.Certificates))
	}
	for _, x := range c.Certificates {
		r.Certificates = append(r.Certificates, certRecord(x))
	}
	if len(c.ClientCertificates) > 0 {
		r.ClientCerts = make([]CertRecord, 0, len(c.ClientCertificates))
	}
	for _, x := range c.ClientCertificates {
		r.ClientCerts = append(r.ClientCerts, certRecord(x))
	}
	if ch := s.ClientHello; ch != nil {
		r.ALPNOffered = nonNil(slices.Clone(ch.ALPNProtocols))
		if len(ch.SupportedVersions) > 0 {
			r.VersionsOffered = make([]string, 0, len(ch.SupportedVersions))
			for _, v := range ch.SupportedVersions {
				if !isGREASE(v) {
					r.VersionsOffered = append(r.VersionsOffered, versionName(v))
				}
			}
		} else if ch.LegacyVersion != 0 {
			r.VersionsOffered = append(r.VersionsOffered, versionName(ch.LegacyVersion))
		}
		r.SuitesOffered = ch.OfferedSuites()
		r.Groups = make([]string, 0, len(ch.SupportedGroups))
		for _, v := range ch.SupportedGroups {
			if !isGREASE(v) {
				r.Groups = append(r.Groups, groupName(v))
			}
		}
		r.KeyShare = make([]string, 0, len(ch.KeyShareGroups))
		for _, v := range ch.KeyShareGroups {
			if !isGREASE(v) {
				r.KeyShare = append(r.KeyShare, groupName(v))
			}
		}
	}
	if kx := s.KeyExchange; kx != nil {
		r.KeyExchange = &KXRecord{Kind: kx.Kind, Group: groupNameOr(kx.NamedGroup), DHPrimeBits: kx.DHPrimeBits, PublicKeyBits: kx.PublicKeyBits}
	}
	if d := &s.Decryption; d.Status != "" {
		r.Decryption = &DecryptionRecord{
			Status:       d.Status,
			OpenedClient: d.Opened[tls.ClientToServer], OpenedServer: d.Opened[tls.ServerToClient],
			FailedClient: d.Failed[tls.ClientToServer], FailedServer: d.Failed[tls.ServerToClient],
			UnreadClient: d.Unread[tls.ClientToServer], UnreadServer: d.Unread[tls.ServerToClient],
			Detail: d.Detail,
		}
	}
	return r
}

func groupNameOr(g uint16) string {
	if g == 0 {
		return ""
	}
	return groupName(g)
}

func alertLevel(l uint8) string {
	switch l {
	case 1:
		return "warning"
	case 2:
		return "fatal"
	}
	return "unknown"
}

// NewFindingRecord builds the finding record.
func NewFindingRecord(f facts.Finding) FindingRecord {
	var fm formatted
	return newFindingRecord(f, &fm)
}

func newFindingRecord(f facts.Finding, fm *formatted) FindingRecord {
	return FindingRecord{
		Type: "finding", ID: f.ID, Severity: f.Severity.String(),
		Client: fm.endpoint(f.Client), Server: fm.endpoint(f.Server), SNI: f.SNI,
		Message: f.Message, Evidence: f.Evidence, Reference: f.Reference,
		Capture: f.Capture, Connection: f.ConnID, TS: fm.ts(f.Time), Step: f.Step.String(),
	}
}

// NewHTTPRecord builds the record of one cleartext HTTP request.
func NewHTTPRecord(c *facts.Connection, m facts.HTTPMessage) HTTPRecord {
	var fm formatted
	return newHTTPRecord(c, m, &fm)
}

func newHTTPRecord(c *facts.Connection, m facts.HTTPMessage, fm *formatted) HTTPRecord {
	return HTTPRecord{
		Type: "http", TS: fm.ts(m.Time), Capture: c.Capture, Connection: c.ID,
		Client: fm.endpoint(c.Client), Server: fm.endpoint(c.Server),
		Method: m.Method, Host: m.Host, Path: m.Path, Version: m.Version,
		Status: m.Status, ContentType: m.ContentType,
		RequestBytes: m.RequestBytes, ResponseBytes: m.ResponseBytes, UserAgent: m.UserAgent,
	}
}

// formatted remembers the endpoints and the last time formatted for one
// connection's group of records: its HTTP and finding records repeat the
// connection's two endpoints, and its findings often one time. The
// strings are those of Endpoint and ts.
type formatted struct {
	ep    [2]netip.AddrPort
	epStr [2]string
	n     int // endpoints remembered
	t     time.Time
	tStr  string
	tSet  bool
}

func (fm *formatted) endpoint(ap netip.AddrPort) string {
	for i := range fm.n {
		if fm.ep[i] == ap {
			return fm.epStr[i]
		}
	}
	s := facts.Endpoint(ap)
	if fm.n < len(fm.ep) {
		fm.ep[fm.n], fm.epStr[fm.n] = ap, s
		fm.n++
	}
	return s
}

// ts is ts(t): equal instants print the same in UTC.
func (fm *formatted) ts(t time.Time) string {
	if fm.tSet && fm.t.Equal(t) {
		return fm.tStr
	}
	fm.t, fm.tStr, fm.tSet = t, ts(t), true
	return fm.tStr
}

// NewAnomalyRecord builds the anomaly record.
func NewAnomalyRecord(a facts.Anomaly) AnomalyRecord {
	return AnomalyRecord{
		Type: "anomaly", Kind: a.Kind, Connection: a.ConnID, Offset: a.Offset,
		TS: ts(a.Time), Client: facts.Endpoint(a.Client), Server: facts.Endpoint(a.Server),
		Detail: a.Detail, Capture: a.Capture,
	}
}

// NewSummaryRecord summarises connections, findings and counters; capture
// is "" for the whole run. It equals NewTallySummary of TallyOf(conns,
// findings).
func NewSummaryRecord(scope, capture string, st facts.Stats, conns []*facts.Connection, findings []facts.Finding) SummaryRecord {
	return NewTallySummary(scope, capture, st, TallyOf(conns, findings))
}

// Handshakes counts TLS handshakes by outcome, version and suite.
type Handshakes struct {
	TLS, Complete, Failed int
	Versions, Suites      map[string]int
	// Decryption counts TLS connections by key-log decryption status
	// (nil when no key log was given).
	Decryption map[string]int
}

// CountHandshakes counts handshakes by facts.Outcome: complete (ok,
// resumed), failed (a fatal alert, or closed before completing); the
// rest (no reply, incomplete, mid-stream) are not judged.
func CountHandshakes(conns []*facts.Connection) Handshakes {
	h := Handshakes{Versions: map[string]int{}, Suites: map[string]int{}}
	for _, c := range conns {
		h.add(c)
	}
	return h
}

// add counts one connection's handshake (nothing for cleartext).
func (h *Handshakes) add(c *facts.Connection) {
	s := c.TLS
	if s == nil {
		return
	}
	h.TLS++
	switch o := c.HandshakeOutcome(); {
	case o.Complete():
		h.Complete++
	case o.Failed():
		h.Failed++
	}
	if s.Version != 0 {
		h.Versions[versionName(s.Version)]++
	}
	if s.ServerHello != nil {
		name, _ := s.Cipher()
		h.Suites[name]++
	}
	if st := s.Decryption.Status; st != "" {
		if h.Decryption == nil {
			h.Decryption = map[string]int{}
		}
		h.Decryption[st]++
	}
}

// laterTLS describes a connection's later TLS sessions; nil when none.
func laterTLS(c *facts.Connection) []LaterTLSRecord {
	var out []LaterTLSRecord
	for _, l := range c.LaterTLS {
		sess := l.TLS
		r := LaterTLSRecord{JA4: l.Fingerprints.JA4}
		if ch := sess.ClientHello; ch != nil {
			r.SNI = ch.ServerName
		}
		if sess.ServerHello != nil {
			r.Version = tls.VersionName(sess.Version)
			r.Cipher = tls.CipherSuiteName(sess.CipherSuite)
		}
		out = append(out, r)
	}
	return out
}
