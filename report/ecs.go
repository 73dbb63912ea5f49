package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// ECS is the ecs format: NDJSON in the Elastic Common Schema, so that
// Filebeat, Elastic Agent or Vector ship it to Elasticsearch as it is.
// Each connection is one event (event.kind "event", event.dataset
// "tlsscope.connection") with its facts in ECS's own fields (source.*,
// destination.*, network.*, tls.*); each finding is its own event
// (event.kind "alert", dataset "tlsscope.finding") carrying rule.* and
// the connection's endpoints; each anomaly is an event of dataset
// "tlsscope.anomaly". What ECS has no field for is under tlsscope.*.
// Fields ECS defines are checked against elastic/ecs's ecs_flat.yml (see
// ecs_test.go); a field is added, never renamed or repurposed.
const ecsVersion = "8.11.0"

// ecsSeverity is event.severity for each finding severity: Elastic
// Security's risk scores for its own severities (low 21, medium 47, high
// 73, critical 99), info below them all.
var ecsSeverity = [...]int{facts.Info: 1, facts.Low: 21, facts.Medium: 47, facts.High: 73, facts.Critical: 99}

type ecsEvent struct {
	// Timestamp is left out only for an anomaly the capture file's reader
	// found between packets, which has no time: ECS then has the
	// pipeline fill it with the time it received the event.
	Timestamp   string       `json:"@timestamp,omitempty"`
	ECS         ecsECS       `json:"ecs"`
	Event       ecsEventSet  `json:"event"`
	Message     string       `json:"message,omitempty"`
	Source      *ecsEndpoint `json:"source,omitempty"`
	Destination *ecsEndpoint `json:"destination,omitempty"`
	Network     *ecsNetwork  `json:"network,omitempty"`
	TLS         *ecsTLS      `json:"tls,omitempty"`
	Rule        *ecsRule     `json:"rule,omitempty"`
	TLSScope    *ecsOwn      `json:"tlsscope,omitempty"`
}

type ecsECS struct {
	Version string `json:"version"`
}

type ecsEventSet struct {
	Kind     string   `json:"kind"`
	Category []string `json:"category"`
	Type     []string `json:"type"`
	Dataset  string   `json:"dataset"`
	Module   string   `json:"module"`
	Start    string   `json:"start,omitempty"`
	End      string   `json:"end,omitempty"`
	Duration int64    `json:"duration,omitempty"` // nanoseconds
	Severity int      `json:"severity,omitempty"`
	Reason   string   `json:"reason,omitempty"`
}

type ecsEndpoint struct {
	IP      string `json:"ip,omitempty"`
	Port    uint16 `json:"port,omitempty"`
	Address string `json:"address,omitempty"`
	Bytes   uint64 `json:"bytes,omitempty"`
	Packets uint64 `json:"packets,omitempty"`
	Domain  string `json:"domain,omitempty"`
}

type ecsNetwork struct {
	Transport string `json:"transport"`
	Protocol  string `json:"protocol,omitempty"`
	Type      string `json:"type,omitempty"`
	Direction string `json:"direction,omitempty"`
	Bytes     uint64 `json:"bytes,omitempty"`
	Packets   uint64 `json:"packets,omitempty"`
}

type ecsTLS struct {
	Version         string      `json:"version,omitempty"`
	VersionProtocol string      `json:"version_protocol,omitempty"`
	Cipher          string      `json:"cipher,omitempty"`
	Curve           string      `json:"curve,omitempty"`
	Resumed         bool        `json:"resumed"`
	Established     bool        `json:"established"`
	NextProtocol    string      `json:"next_protocol,omitempty"`
	Client          *ecsTLSSide `json:"client,omitempty"`
	Server          *ecsTLSSide `json:"server,omitempty"`
}

type ecsTLSSide struct {
	JA3              string   `json:"ja3,omitempty"`
	JA3S             string   `json:"ja3s,omitempty"`
	ServerName       string   `json:"server_name,omitempty"`
	SupportedCiphers []string `json:"supported_ciphers,omitempty"`
	Subject          string   `json:"subject,omitempty"`
	Issuer           string   `json:"issuer,omitempty"`
	NotBefore        string   `json:"not_before,omitempty"`
	NotAfter         string   `json:"not_after,omitempty"`
	Hash             *ecsHash `json:"hash,omitempty"`
	X509             *ecsX509 `json:"x509,omitempty"`
}

type ecsHash struct {
	SHA1   string `json:"sha1,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

type ecsX509 struct {
	Subject            ecsDN    `json:"subject"`
	Issuer             ecsDN    `json:"issuer"`
	NotBefore          string   `json:"not_before"`
	NotAfter           string   `json:"not_after"`
	SerialNumber       string   `json:"serial_number,omitempty"`
	VersionNumber      string   `json:"version_number,omitempty"`
	PublicKeyAlgorithm string   `json:"public_key_algorithm,omitempty"`
	PublicKeySize      int      `json:"public_key_size,omitempty"`
	PublicKeyExponent  int      `json:"public_key_exponent,omitempty"`
	PublicKeyCurve     string   `json:"public_key_curve,omitempty"`
	SignatureAlgorithm string   `json:"signature_algorithm,omitempty"`
	AlternativeNames   []string `json:"alternative_names,omitempty"`
}

type ecsDN struct {
	DistinguishedName string   `json:"distinguished_name"`
	CommonName        []string `json:"common_name,omitempty"`
}

type ecsRule struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Reference   string `json:"reference,omitempty"`
	Ruleset     string `json:"ruleset"`
	Category    string `json:"category,omitempty"`
}

// ecsOwn is tlsscope.*: what ECS has no field for.
type ecsOwn struct {
	Capture      string            `json:"capture,omitempty"`
	Connection   uint64            `json:"connection,omitempty"`
	Protocol     string            `json:"protocol,omitempty"`
	StartTLS     string            `json:"starttls,omitempty"`
	JA4          string            `json:"ja4,omitempty"`
	JA4R         string            `json:"ja4_r,omitempty"`
	JA4Retry     string            `json:"ja4_retry,omitempty"`
	KnownClient  string            `json:"known_client,omitempty"`
	HelloRetry   bool              `json:"hello_retry,omitempty"`
	Resumption   string            `json:"resumption,omitempty"`
	Hidden       bool              `json:"hidden,omitempty"`
	Alerts       []AlertRecord     `json:"alerts,omitempty"`
	Chain        []CertRecord      `json:"certificates,omitempty"`
	ClientChain  []CertRecord      `json:"client_certificates,omitempty"`
	CertErrors   int               `json:"certificate_errors,omitempty"`
	Findings     []string          `json:"findings,omitempty"`
	KeyExchange  *KXRecord         `json:"key_exchange,omitempty"`
	Closed       string            `json:"closed,omitempty"`
	Gaps         int               `json:"gaps,omitempty"`
	Truncated    bool              `json:"truncated,omitempty"`
	HandshakeMS  float64           `json:"handshake_ms,omitempty"`
	Finding      *ecsFindingDetail `json:"finding,omitempty"`
	Anomaly      *ecsAnomaly       `json:"anomaly,omitempty"`
	SecretsFound int               `json:"secrets,omitempty"`
}

type ecsFindingDetail struct {
	Severity string `json:"severity"`
	Evidence string `json:"evidence,omitempty"`
	Step     string `json:"step,omitempty"`
	SNI      string `json:"sni,omitempty"`
}

type ecsAnomaly struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail,omitempty"`
	Offset int64  `json:"offset"`
}

// WriteECS writes the ecs format: per capture, each connection's event
// followed by its findings' alert events, then the findings not tied to
// a connection and the anomalies.
func WriteECS(w io.Writer, r *Result, opt Options) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, c := range r.Captures {
		idx := byConn(c.Findings)
		ids := connIDs(c)
		for _, conn := range c.Connections {
			for _, e := range ECSEvents(r, conn, idx[conn.ID], opt) {
				if err := enc.Encode(e); err != nil {
					return err
				}
			}
		}
		for _, f := range c.Findings {
			if !ids[f.ConnID] {
				if err := enc.Encode(ecsFinding(r, f, nil)); err != nil {
					return err
				}
			}
		}
		for _, a := range c.Anomalies {
			if err := enc.Encode(ecsAnomalyEvent(a)); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// ECSEvents are one connection's events: the connection, then one alert
// per finding. r supplies rule descriptions (nil: decode/rules' table).
func ECSEvents(r *Result, c *facts.Connection, fs []facts.Finding, opt Options) []any {
	if r == nil {
		r = &Result{}
	}
	out := []any{ecsConnection(c, fs, opt)}
	for _, f := range fs {
		out = append(out, ecsFinding(r, f, c))
	}
	return out
}

func ecsTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func ecsConnection(c *facts.Connection, fs []facts.Finding, opt Options) ecsEvent {
	rec := NewConnectionRecord(c, fs, opt)
	e := ecsEvent{
		Timestamp: ecsTime(c.First),
		ECS:       ecsECS{Version: ecsVersion},
		Event: ecsEventSet{
			Kind: "event", Category: []string{"network"}, Type: []string{"connection", "protocol"},
			Dataset: "tlsscope.connection", Module: "tlsscope",
			Start: ecsTime(c.First), End: ecsTime(c.Last),
		},
		Source:      ecsSide(c.Client, c.Bytes[tls.ClientToServer], c.Packets[tls.ClientToServer]),
		Destination: ecsSide(c.Server, c.Bytes[tls.ServerToClient], c.Packets[tls.ServerToClient]),
		Network: &ecsNetwork{
			Transport: c.Transport.String(),
			Protocol:  c.Protocol,
			Type:      ipType(c),
			Bytes:     c.Bytes[0] + c.Bytes[1],
			Packets:   c.Packets[0] + c.Packets[1],
		},
		TLSScope: &ecsOwn{
			Capture: c.Capture, Connection: c.ID, Protocol: c.Protocol, StartTLS: c.StartTLS,
			JA4: rec.JA4, JA4R: rec.JA4R, JA4Retry: rec.JA4Retry, KnownClient: rec.KnownClient,
			HelloRetry: rec.HelloRetry, Resumption: rec.Resumption, Hidden: rec.Hidden,
			Alerts: rec.Alerts, CertErrors: rec.CertErrors, Findings: rec.Findings,
			KeyExchange: rec.KeyExchange, Closed: c.Closed, Gaps: c.Gaps, Truncated: c.Truncated,
			HandshakeMS: rec.HandshakeMillis, SecretsFound: len(c.Secrets),
		},
	}
	if c.Protocol == "" {
		e.Network.Protocol = "" // unknown: ECS wants the lower-case name or nothing
	}
	if d := c.Last.Sub(c.First); d > 0 {
		e.Event.Duration = d.Nanoseconds()
	}
	if len(c.Certificates) > 1 {
		e.TLSScope.Chain = rec.Certificates
	}
	if len(c.ClientCertificates) > 1 {
		e.TLSScope.ClientChain = rec.ClientCerts
	}
	s := c.TLS
	if s == nil {
		return e
	}
	t := &ecsTLS{Resumed: s.Resumed, Established: s.Established, NextProtocol: s.ALPN}
	if s.Version != 0 {
		t.VersionProtocol, t.Version = ecsVersionOf(s.Version)
	}
	t.Cipher = rec.Cipher
	t.Curve = negotiatedGroup(s)
	cl := &ecsTLSSide{JA3: c.Fingerprints.JA3, ServerName: rec.SNI}
	if s.ClientHello != nil {
		cl.SupportedCiphers = rec.SuitesOffered
	}
	ecsCertSide(cl, c.ClientCertificates)
	sv := &ecsTLSSide{JA3S: c.Fingerprints.JA3S}
	ecsCertSide(sv, c.Certificates)
	if cl.JA3 != "" || cl.ServerName != "" || cl.SupportedCiphers != nil || cl.X509 != nil {
		t.Client = cl
	}
	if sv.JA3S != "" || sv.X509 != nil {
		t.Server = sv
	}
	if rec.SNI != "" {
		e.Destination.Domain = rec.SNI
	}
	e.TLS = t
	return e
}

// negotiatedGroup is the key exchange group the server chose: TLS 1.3's
// key_share, else a TLS 1.2 ServerKeyExchange's named curve.
func negotiatedGroup(s *tls.Session) string {
	if s.ServerHello != nil && s.ServerHello.KeyShareGroup != 0 {
		return groupName(s.ServerHello.KeyShareGroup)
	}
	if s.KeyExchange != nil && s.KeyExchange.NamedGroup != 0 {
		return groupName(s.KeyExchange.NamedGroup)
	}
	return ""
}

// ecsVersionOf splits a version as ECS wants it: "tls" and "1.2", "ssl"
// and "3.0", "dtls" and "1.2"; a draft or unknown version is its
// registry name under version_protocol "tls".
func ecsVersionOf(v uint16) (protocol, version string) {
	name := versionName(v)
	for _, p := range []string{"DTLS ", "TLS ", "SSL "} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return strings.ToLower(strings.TrimSpace(p)), rest
		}
	}
	return "tls", name
}

func ipType(c *facts.Connection) string {
	switch a := c.Server.Addr(); {
	case !a.IsValid():
		return ""
	case a.Is4() || a.Is4In6():
		return "ipv4"
	}
	return "ipv6"
}

func ecsSide(ap netip.AddrPort, bytes, packets uint64) *ecsEndpoint {
	if !ap.IsValid() {
		return nil
	}
	ip := ap.Addr().Unmap().String()
	return &ecsEndpoint{IP: ip, Port: ap.Port(), Address: ip, Bytes: bytes, Packets: packets}
}

// ecsCertSide fills a side's certificate fields from the first
// certificate of its chain (the leaf); the whole chain is under
// tlsscope.certificates.
func ecsCertSide(side *ecsTLSSide, chain []facts.Certificate) {
	if len(chain) == 0 {
		return
	}
	leaf := chain[0]
	side.Subject, side.Issuer = leaf.Subject, leaf.Issuer
	side.NotBefore, side.NotAfter = ecsTime(leaf.NotBefore), ecsTime(leaf.NotAfter)
	// Elastic's own pipelines (Packetbeat, the Zeek and Suricata
	// modules) write certificate hashes in upper-case hex without colons.
	side.Hash = &ecsHash{SHA1: strings.ToUpper(leaf.SHA1), SHA256: strings.ToUpper(leaf.SHA256)}
	side.X509 = ecsCert(leaf)
}

func ecsCert(ci facts.Certificate) *ecsX509 {
	x := &ecsX509{
		Subject:            ecsDN{DistinguishedName: ci.Subject},
		Issuer:             ecsDN{DistinguishedName: ci.Issuer},
		NotBefore:          ecsTime(ci.NotBefore),
		NotAfter:           ecsTime(ci.NotAfter),
		SerialNumber:       ci.Serial,
		PublicKeyAlgorithm: ci.KeyType,
		PublicKeySize:      ci.KeyBits,
		PublicKeyExponent:  ci.Exponent,
		PublicKeyCurve:     curveNames[ci.Curve].tls,
		SignatureAlgorithm: ci.Signature,
	}
	if ci.Version > 0 {
		x.VersionNumber = strconv.Itoa(ci.Version)
	}
	if ci.SubjectCN != "" {
		x.Subject.CommonName = []string{ci.SubjectCN}
	}
	if ci.IssuerCN != "" {
		x.Issuer.CommonName = []string{ci.IssuerCN}
	}
	x.AlternativeNames = slices.Clone(ci.DNSNames)
	for _, ip := range ci.IPs {
		x.AlternativeNames = append(x.AlternativeNames, ip.String())
	}
	return x
}

// curveNames names crypto/elliptic's curves as TLS's group registry
// (ECS) and OpenSSL (Zeek's x509.log) do.
var curveNames = map[string]struct{ tls, openssl string }{
	"P-224": {"secp224r1", "secp224r1"},
	"P-256": {"secp256r1", "prime256v1"},
	"P-384": {"secp384r1", "secp384r1"},
	"P-521": {"secp521r1", "secp521r1"},
}

// ecsFinding is a finding's alert event; c, when known, is its
// connection.
func ecsFinding(r *Result, f facts.Finding, c *facts.Connection) ecsEvent {
	d := r.rule(f.ID, &f)
	e := ecsEvent{
		Timestamp: ecsTime(f.Time),
		ECS:       ecsECS{Version: ecsVersion},
		Event: ecsEventSet{
			Kind: "alert", Category: []string{"network"}, Type: []string{"info"},
			Dataset: "tlsscope.finding", Module: "tlsscope",
			Severity: ecsSeverity[min(int(f.Severity), len(ecsSeverity)-1)],
			Reason:   f.Message,
		},
		Message:     f.Message,
		Source:      ecsSide(f.Client, 0, 0),
		Destination: ecsSide(f.Server, 0, 0),
		Rule: &ecsRule{
			ID: f.ID, Name: cmp.Or(d.Title, f.ID), Description: d.Help,
			Reference: cmp.Or(f.Reference, d.Reference), Ruleset: "tlsscope",
		},
		TLSScope: &ecsOwn{
			Capture: f.Capture, Connection: f.ConnID,
			Finding: &ecsFindingDetail{Severity: f.Severity.String(), Evidence: f.Evidence, Step: f.Step.String(), SNI: f.SNI},
		},
	}
	if e.Timestamp == "" && c != nil {
		e.Timestamp = ecsTime(c.First)
	}
	if c != nil {
		e.Network = &ecsNetwork{Transport: c.Transport.String(), Protocol: c.Protocol, Type: ipType(c)}
		if e.Source == nil {
			e.Source = ecsSide(c.Client, 0, 0)
		}
		if e.Destination == nil {
			e.Destination = ecsSide(c.Server, 0, 0)
		}
	}
	if f.SNI != "" && e.Destination != nil {
		e.Destination.Domain = f.SNI
	}
	return e
}

func ecsAnomalyEvent(a facts.Anomaly) ecsEvent {
	return ecsEvent{
		Timestamp: ecsTime(a.Time),
		ECS:       ecsECS{Version: ecsVersion},
		Event: ecsEventSet{
			Kind: "event", Category: []string{"network"}, Type: []string{"info"},
			Dataset: "tlsscope.anomaly", Module: "tlsscope",
		},
		Source:      ecsSide(a.Client, 0, 0),
		Destination: ecsSide(a.Server, 0, 0),
		TLSScope: &ecsOwn{
			Capture: a.Capture, Connection: a.ConnID,
			Anomaly: &ecsAnomaly{Kind: a.Kind, Detail: a.Detail, Offset: a.Offset},
		},
	}
}
