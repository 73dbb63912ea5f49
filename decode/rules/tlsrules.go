package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// scsvRenegotiation is TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746, 3.3).
const scsvRenegotiation uint16 = 0x00ff

// stepTime is when a handshake message of a type was first seen from a
// side, or a nearby time when the event list does not have it.
func (e *eval) stepTime(htype uint8, from tls.Direction) time.Time {
	s := e.c.TLS
	for _, ev := range s.Events {
		if ev.Content == tls.ContentHandshake && !ev.Encrypted && ev.Handshake == htype && ev.From == from {
			return ev.Time
		}
	}
	if htype == tls.TypeClientHello && !s.Start.IsZero() {
		return s.Start
	}
	if !s.ServerHelloAt.IsZero() {
		return s.ServerHelloAt
	}
	if !s.Start.IsZero() {
		return s.Start
	}
	return e.c.First
}

func versionList(vs []uint16) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = tls.VersionName(v)
	}
	return strings.Join(names, ", ")
}

func suiteEvidence(id uint16) string {
	return fmt.Sprintf("suite %s (0x%04x)", tls.CipherSuiteName(id), id)
}

// deprecatedVersion: RFC 6176 (SSL 2.0), RFC 7568 (SSL 3.0), RFC 8996
// (TLS 1.0, 1.1, DTLS 1.0).
func deprecatedVersion(v uint16) (facts.Severity, string, bool) {
	switch v {
	case tls.VersionSSL20:
		return facts.High, refRFC6176, true
	case tls.VersionSSL30:
		return facts.High, refRFC7568, true
	case tls.VersionTLS10, tls.VersionTLS11, tls.VersionDTLS10:
		return facts.Medium, refRFC8996, true
	}
	return 0, "", false
}

func (e *eval) tlsRules() {
	s := e.c.TLS
	ch, sh := s.ClientHello, s.ServerHello
	chAt := e.stepTime(tls.TypeClientHello, tls.ClientToServer)
	shAt := e.stepTime(tls.TypeServerHello, tls.ServerToClient)

	if ch != nil {
		e.offeredVersions(ch, chAt)
		if ch.ServerName == "" {
			e.add("missing-sni", nil, chAt, "",
				"ClientHello without a server name (SNI)",
				fmt.Sprintf("no server_name extension; server %s", e.c.Server))
		}
	}
	if sh != nil && s.Version != 0 {
		if sev, ref, ok := deprecatedVersion(s.Version); ok {
			e.add("deprecated-version", sevp(sev), shAt, ref,
				fmt.Sprintf("%s negotiated (deprecated)", tls.VersionName(s.Version)),
				fmt.Sprintf("negotiated version %s (0x%04x), %s", tls.VersionName(s.Version), s.Version, suiteEvidence(s.CipherSuite)))
		}
		if s.Version == tls.VersionSSL20 {
			e.sslv2Cipher(sh, shAt)
		} else {
			e.suiteRules(s, shAt)
			e.renegotiation(s, chAt, shAt)
			if sh.CompressionMethod != 0 {
				e.add("tls-compression", nil, shAt, "",
					fmt.Sprintf("TLS compression negotiated (%s): secrets can be recovered (CRIME)", compressionName(sh.CompressionMethod)),
					fmt.Sprintf("compression_method %d (%s)", sh.CompressionMethod, compressionName(sh.CompressionMethod)))
			}
			if ch != nil && ch.Heartbeat && sh.Heartbeat {
				e.add("heartbeat-enabled", nil, shAt, "",
					"heartbeat extension negotiated by both sides",
					"heartbeat (15) in ClientHello and ServerHello")
			}
			e.keyExchange(s)
		}
	}
	e.handshakeFailed(s)
}

// offeredVersions: deprecated-version-offered.
func (e *eval) offeredVersions(ch *tls.ClientHello, at time.Time) {
	var old []uint16
	var evidence string
	if len(ch.SupportedVersions) > 0 {
		for _, v := range ch.SupportedVersions {
			if _, _, ok := deprecatedVersion(v); ok && !slices.Contains(old, v) {
				old = append(old, v)
			}
		}
		evidence = "supported_versions " + versionList(ch.SupportedVersions)
	} else if ch.LegacyVersion != 0 && ch.LegacyVersion < tls.VersionTLS12 {
		// Without supported_versions, legacy_version is the highest
		// version offered and every one below is acceptable too.
		for _, v := range []uint16{tls.VersionTLS11, tls.VersionTLS10, tls.VersionSSL30} {
			if v <= ch.LegacyVersion {
				old = append(old, v)
			}
		}
		evidence = fmt.Sprintf("legacy_version %s (0x%04x), no supported_versions", tls.VersionName(ch.LegacyVersion), ch.LegacyVersion)
	}
	if ch.SSLv2 && ch.SSLv2OnlyKinds > 0 {
		old = append(old, tls.VersionSSL20)
		evidence = joinNonEmpty("; ", evidence, fmt.Sprintf("SSLv2-format ClientHello with %d SSL 2.0 cipher kinds", ch.SSLv2OnlyKinds))
	}
	if len(old) > 0 {
		e.add("deprecated-version-offered", nil, at, "",
			"client offers deprecated versions: "+versionList(old), evidence)
	}
}

// suiteWeakness says what breaks in a suite, by its parts (never its
// name): NULL encryption or no authentication is critical; EXPORT, DES,
// RC4 (RFC 7465) and RC2 high; 3DES and IDEA (64-bit blocks, Sweet32)
// and an MD5 MAC medium.
func suiteWeakness(cs tls.CipherSuite) (facts.Severity, []string, string) {
	var sev facts.Severity
	var why []string
	ref := ""
	flag := func(s facts.Severity, reason string) {
		if s > sev {
			sev = s
		}
		why = append(why, reason)
	}
	if cs.Cipher == "NULL" {
		flag(facts.Critical, "no encryption (NULL cipher)")
	}
	if cs.Auth == "anon" || cs.KeyExchange == "NULL" {
		flag(facts.Critical, "no authentication (anonymous key exchange)")
	}
	if cs.Export {
		flag(facts.High, "EXPORT-grade")
	}
	switch cs.Cipher {
	case "DES", "DES40":
		flag(facts.High, "DES")
	case "RC4_128", "RC4_40", "RC4_56", "RC4_64":
		flag(facts.High, "RC4")
		ref = refRFC7465
	case "RC2_40", "RC2_56", "RC2_128":
		flag(facts.High, "RC2")
	case "3DES_EDE":
		flag(facts.Medium, "3DES (64-bit block, Sweet32)")
	case "IDEA":
		flag(facts.Medium, "IDEA (64-bit block)")
	}
	if cs.MAC == "MD5" {
		flag(facts.Medium, "MD5 MAC")
	}
	return sev, why, ref
}

// forwardSecret: the key exchange is ephemeral. Static RSA (and RSA_PSK),
// static (EC)DH with a certified key, plain PSK and Kerberos are not;
// anonymous (EC)DH is ephemeral (it fails for lack of authentication,
// which weak-cipher reports).
func forwardSecret(cs tls.CipherSuite) bool {
	switch cs.KeyExchange {
	case "RSA", "RSA_PSK", "PSK", "KRB5":
		return false
	case "DH", "ECDH":
		return cs.Auth == "anon"
	}
	return true
}

func (e *eval) suiteRules(s *tls.Session, at time.Time) {
	cs, ok := tls.LookupCipherSuite(s.CipherSuite)
	if !ok || cs.Scsv {
		return
	}
	if sev, why, ref := suiteWeakness(cs); len(why) > 0 {
		e.add("weak-cipher", sevp(sev), at, ref,
			"weak cipher suite negotiated: "+strings.Join(why, ", "),
			suiteEvidence(cs.ID)+": "+strings.Join(why, ", "))
	}
	if !cs.TLS13 && !tls.Version13(s.Version) && !forwardSecret(cs) {
		e.add("no-forward-secrecy", nil, at, "",
			fmt.Sprintf("no forward secrecy: %s key exchange", staticName(cs)),
			fmt.Sprintf("%s, key exchange %s", suiteEvidence(cs.ID), cs.KeyExchange))
	}
	if cs.Mode == "CBC" && !tls.Version13(s.Version) {
		e.add("cbc-mode-cipher", nil, at, "",
			"CBC-mode cipher suite negotiated",
			fmt.Sprintf("%s, %s", suiteEvidence(cs.ID), tls.VersionName(s.Version)))
	}
}

func staticName(cs tls.CipherSuite) string {
	switch cs.KeyExchange {
	case "RSA", "RSA_PSK":
		return "static RSA"
	case "DH":
		return "static DH"
	case "ECDH":
		return "static ECDH"
	}
	return cs.KeyExchange
}

// sslv2Kinds judges SSL 2.0 cipher kinds (RFC 6101 appendix; all use an
// MD5 MAC).
var sslv2Kinds = map[uint32]struct {
	sev facts.Severity
	why string
}{
	0x010080: {facts.High, "RC4, MD5 MAC"},
	0x020080: {facts.High, "EXPORT-grade, RC4, MD5 MAC"},
	0x030080: {facts.High, "RC2, MD5 MAC"},
	0x040080: {facts.High, "EXPORT-grade, RC2, MD5 MAC"},
	0x050080: {facts.Medium, "IDEA (64-bit block), MD5 MAC"},
	0x060040: {facts.High, "DES, MD5 MAC"},
	0x0700c0: {facts.Medium, "3DES (64-bit block, Sweet32), MD5 MAC"},
	0x080080: {facts.High, "RC4, MD5 MAC"},
}

func (e *eval) sslv2Cipher(sh *tls.ServerHello, at time.Time) {
	k, ok := sslv2Kinds[sh.SSLv2CipherKind]
	if !ok {
		return
	}
	e.add("weak-cipher", sevp(k.sev), at, "",
		"weak cipher negotiated: "+k.why,
		fmt.Sprintf("SSL 2.0 cipher kind %s (0x%06x)", tls.SSLv2CipherKindName(sh.SSLv2CipherKind), sh.SSLv2CipherKind))
}

// renegotiation: RFC 5746 for SSL 3.0 to TLS 1.2.
func (e *eval) renegotiation(s *tls.Session, chAt, shAt time.Time) {
	switch s.Version {
	case tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionDTLS10, tls.VersionDTLS12:
	default:
		return
	}
	ch, sh := s.ClientHello, s.ServerHello
	if ch != nil && !ch.RenegotiationInfo && !slices.Contains(ch.CipherSuites, scsvRenegotiation) {
		e.add("insecure-renegotiation", nil, chAt, "",
			"client does not support secure renegotiation",
			"ClientHello has neither renegotiation_info (65281) nor TLS_EMPTY_RENEGOTIATION_INFO_SCSV (0x00ff)")
		return
	}
	if ch != nil && !sh.RenegotiationInfo {
		e.addStep(facts.StepServerHello, "insecure-renegotiation", nil, shAt, "",
			"server does not support secure renegotiation",
			"client signalled support, ServerHello has no renegotiation_info (65281)")
	}
}

func compressionName(m uint8) string {
	switch m {
	case 1:
		return "DEFLATE"
	case 64:
		return "LZS"
	}
	return fmt.Sprintf("method %d", m)
}

// curveBits is the size of each elliptic-curve group of the IANA TLS
// Supported Groups registry (RFC 8422, 5.1.1; RFC 7027; RFC 8734).
var curveBits = map[uint16]int{
	1: 163, 2: 163, 3: 163, 4: 193, 5: 193, 6: 233, 7: 233, 8: 239,
	9: 283, 10: 283, 11: 409, 12: 409, 13: 571, 14: 571,
	15: 160, 16: 160, 17: 160, 18: 192, 19: 192, 20: 225, 21: 224,
	22: 256, 23: 256, 24: 384, 25: 521,
	26: 256, 27: 384, 28: 512, 29: 255, 30: 448, 31: 256, 32: 384, 33: 512,
}

// keyExchange: weak-dh-group from the ServerKeyExchange (RFC 7919;
// NIST SP 800-52r2, 3.3.1: 2048-bit groups, 224-bit curves at least).
func (e *eval) keyExchange(s *tls.Session) {
	kx := s.KeyExchange
	if kx == nil {
		return
	}
	at := e.stepTime(tls.TypeServerKeyExchange, tls.ServerToClient)
	switch kx.Kind {
	case "DHE":
		if kx.DHPrimeBits > 0 && kx.DHPrimeBits < 2048 {
			sev := facts.Medium
			if kx.DHPrimeBits < 1024 {
				sev = facts.High
			}
			e.add("weak-dh-group", sevp(sev), at, "",
				fmt.Sprintf("weak Diffie-Hellman group: %d-bit prime", kx.DHPrimeBits),
				fmt.Sprintf("ServerKeyExchange dh_p %d bits (minimum 2048), %s", kx.DHPrimeBits, suiteEvidence(s.CipherSuite)))
		}
	case "ECDHE":
		switch {
		case kx.NamedGroup == 0xff01 || kx.NamedGroup == 0xff02:
			e.add("weak-dh-group", nil, at, "",
				"elliptic curve given by explicit parameters (deprecated)",
				fmt.Sprintf("ServerKeyExchange curve_type %d (explicit), %s", kx.NamedGroup&0xff, suiteEvidence(s.CipherSuite)))
		case curveBits[kx.NamedGroup] > 0 && curveBits[kx.NamedGroup] < minECBits:
			e.add("weak-dh-group", sevp(facts.High), at, "",
				fmt.Sprintf("weak elliptic curve %s (%d bits)", tls.GroupName(kx.NamedGroup), curveBits[kx.NamedGroup]),
				fmt.Sprintf("ServerKeyExchange named_curve %s (%d), minimum %d bits", tls.GroupName(kx.NamedGroup), kx.NamedGroup, minECBits))
		}
	}
}

// handshakeFailed: the handshake's outcome (facts.Connection.HandshakeOutcome,
// the same word the table and summary print) is a failure: a fatal alert
// before the handshake completed, or a connection closed (FIN or RST)
// before it completed. A capture that ends, a flow evicted or idle, gaps
// in reassembly and a stream joined after its ClientHello prove nothing
// and are not judged.
func (e *eval) handshakeFailed(s *tls.Session) {
	switch e.c.HandshakeOutcome() {
	case facts.OutcomeAlert:
		a, _ := e.c.FatalAlert()
		if a.Encrypted {
			e.add("handshake-failed", nil, a.Time, "",
				fmt.Sprintf("handshake failed: encrypted alert from the %s before the handshake completed", a.From),
				fmt.Sprintf("alert record encrypted by the %s, its description unreadable without the key log (--keylog)", a.From))
			return
		}
		e.add("handshake-failed", nil, a.Time, "",
			fmt.Sprintf("handshake failed: fatal alert %s from the %s", tls.AlertName(a.Description), a.From),
			fmt.Sprintf("alert level fatal (2), description %s (%d), sent by the %s", tls.AlertName(a.Description), a.Description, a.From))
	case facts.OutcomeClosed:
		last := "ClientHello"
		if s.ServerHello != nil {
			last = "ServerHello"
		}
		for _, ev := range s.Events {
			if ev.Content == tls.ContentHandshake && !ev.Encrypted {
				last = tls.HandshakeTypeName(ev.Handshake) + " from the " + ev.From.String()
			}
		}
		e.add("handshake-failed", nil, e.c.ClosedAt, "",
			fmt.Sprintf("handshake failed: connection closed (%s) before the handshake completed", strings.ToUpper(e.c.Closed)),
			fmt.Sprintf("closed by %s after %s; no Finished from both sides", strings.ToUpper(e.c.Closed), last))
	}
}
