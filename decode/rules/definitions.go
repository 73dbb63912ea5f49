package rules

import "github.com/tlsscope/tlsscope/decode/facts"

// Definition describes one finding id: the table report formats (SARIF
// rules, JUnit cases, the table legend) read, the default severity a rule
// starts from and the message the ladder draws its findings on.
type Definition struct {
	ID        string
	Severity  facts.Severity // default; a rule may raise or lower it per finding (weak-cipher), cfg.Severity overrides it
	Title     string         // a short line
	Help      string         // what it means and what to do
	Reference string         // URL of the RFC section, NIST publication or guideline
	// Step is the message a finding of this id is tied to (a rule may
	// name another: insecure-renegotiation's server half); StepNone for
	// secrets, tied to the message of the protocol that carried them.
	Step facts.Step
	// Policy: reported by a policy file's checks (decode/policy), so
	// only when a policy is loaded.
	Policy bool
}

// References used by more than one definition or rule.
const (
	refRFC5280Validity = "https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5"
	refRFC5280Path     = "https://www.rfc-editor.org/rfc/rfc5280#section-6.1"
	refRFC6125         = "https://www.rfc-editor.org/rfc/rfc6125#section-6.4"
	refNIST131A        = "https://csrc.nist.gov/pubs/sp/800/131/a/r2/final"
	refCurveBall       = "https://www.rfc-editor.org/rfc/rfc5480#section-2.1.1"
	refNIST52          = "https://csrc.nist.gov/pubs/sp/800/52/r2/final"
	refBRValidity      = "https://cabforum.org/working-groups/server/baseline-requirements/documents/ (Baseline Requirements 6.3.2: 398 days)"
	refRFC5246Chain    = "https://www.rfc-editor.org/rfc/rfc5246#section-7.4.2"
	refRFC8996         = "https://www.rfc-editor.org/rfc/rfc8996"
	refRFC7568         = "https://www.rfc-editor.org/rfc/rfc7568"
	refRFC6176         = "https://www.rfc-editor.org/rfc/rfc6176"
	refRFC7465         = "https://www.rfc-editor.org/rfc/rfc7465"
	refRFC7457         = "https://www.rfc-editor.org/rfc/rfc7457"
	refRFC7457CBC      = "https://www.rfc-editor.org/rfc/rfc7457#section-2.4"
	refRFC7457CRIME    = "https://www.rfc-editor.org/rfc/rfc7457#section-2.6"
	refRFC9325FS       = "https://www.rfc-editor.org/rfc/rfc9325#section-4.1"
	refRFC5746         = "https://www.rfc-editor.org/rfc/rfc5746"
	refRFC6520         = "https://www.rfc-editor.org/rfc/rfc6520"
	refRFC6066SNI      = "https://www.rfc-editor.org/rfc/rfc6066#section-3"
	refRFC8446Alert    = "https://www.rfc-editor.org/rfc/rfc8446#section-6.2"
	refRFC7919         = "https://www.rfc-editor.org/rfc/rfc7919"
	refMozilla         = "https://wiki.mozilla.org/Security/Server_Side_TLS"
)

// definitions is the one table of finding ids, the rules' and the policy
// checks', in no particular order (Definitions sorts). README.md's
// finding table is checked against it (TestREADMEFindingTable).
var definitions = []Definition{
	// Certificates (TLS 1.2 and older: the chain is in the clear).
	{ID: "cert-expired", Severity: facts.High, Title: "Certificate expired",
		Help: "A certificate the server sent had expired at the check time (notAfter before it). Clients reject it; renew the certificate.", Reference: refRFC5280Validity, Step: facts.StepCertificate},
	{ID: "cert-not-yet-valid", Severity: facts.High, Title: "Certificate not yet valid",
		Help: "A certificate the server sent was not yet valid at the check time (notBefore after it), often a wrong clock on the issuing side or the client. Clients reject it.", Reference: refRFC5280Validity, Step: facts.StepCertificate},
	{ID: "cert-expiring-soon", Severity: facts.Low, Title: "Certificate expiring soon",
		Help: "The server's certificate expires within the warning window (30 days by default) after the check time. Renew it before it does.", Reference: refRFC5280Validity, Step: facts.StepCertificate},
	{ID: "cert-self-signed", Severity: facts.Medium, Title: "Self-signed certificate",
		Help: "The server's own certificate is signed by its own key and is not a trusted root: nothing vouches for it, so a client cannot tell it from an attacker's. Use a certificate from a CA the clients trust, or pin it with --ca-file.", Reference: refRFC5280Path, Step: facts.StepCertificate},
	{ID: "cert-untrusted", Severity: facts.High, Title: "Certificate chain not trusted",
		Help: "The chain the server sent does not lead to a trusted root (the system store and --ca-file), so clients that check reject it. The message says why.", Reference: refRFC5280Path, Step: facts.StepCertificate},
	{ID: "cert-hostname-mismatch", Severity: facts.High, Title: "Certificate does not match the server name",
		Help: "The server name the client asked for (SNI) is not among the certificate's subjectAltName entries (wildcards match one left-most label). Clients that check reject it; without SNI nothing is checked.", Reference: refRFC6125, Step: facts.StepCertificate},
	{ID: "cert-weak-key", Severity: facts.High, Title: "Weak certificate key",
		Help: "A certificate's public key is too small: RSA or DSA below 2048 bits, or an elliptic curve below 224 bits (NIST SP 800-131A).", Reference: refNIST131A, Step: facts.StepCertificate},
	{ID: "cert-explicit-curve", Severity: facts.High, Title: "Certificate key with explicit curve parameters",
		Help: "A certificate the server sent has an elliptic-curve key whose curve is spelled out (specifiedCurve) rather than named. No public CA issues such keys; they are how CVE-2020-0601 (CurveBall) forged a trusted root, and crypto/x509, like modern clients, refuses the certificate. Its names, dates and fingerprints are still reported.", Reference: refCurveBall, Step: facts.StepCertificate},
	{ID: "cert-weak-signature", Severity: facts.Medium, Title: "Weak certificate signature",
		Help: "A certificate (other than a self-signed root, whose signature no one checks) is signed with MD5 or SHA-1, for which collisions are practical. Reissue it with SHA-256 or better.", Reference: refNIST131A, Step: facts.StepCertificate},
	{ID: "cert-validity-too-long", Severity: facts.Low, Title: "Certificate validity too long",
		Help: "The server's certificate, issued on or after 2020-09-01, is valid for more than 398 days, the CA/Browser Forum limit clients enforce for public certificates.", Reference: refBRValidity, Step: facts.StepCertificate},
	{ID: "cert-chain-order", Severity: facts.Low, Title: "Certificate chain sent out of order or incomplete",
		Help: "The server's certificate list is not leaf first with each certificate followed by its issuer, or it leaves out an intermediate that only a trusted bundle supplied. Some clients fail; send the full chain in order.", Reference: refRFC5246Chain, Step: facts.StepCertificate},

	// Versions, suites and extensions.
	{ID: "deprecated-version", Severity: facts.Medium, Title: "Deprecated protocol version",
		Help: "The connection negotiated SSL 2.0 or 3.0 (high) or TLS 1.0 or 1.1 (medium), all deprecated. Allow TLS 1.2 and 1.3 only.", Reference: refRFC8996, Step: facts.StepServerHello},
	{ID: "deprecated-version-offered", Severity: facts.Info, Title: "Client offers deprecated versions",
		Help: "The client still offers SSL 3.0, TLS 1.0 or TLS 1.1 (in legacy_version or supported_versions), so a server or attacker can push it down to them.", Reference: refRFC8996, Step: facts.StepClientHello},
	{ID: "weak-cipher", Severity: facts.High, Title: "Weak cipher suite",
		Help: "The negotiated suite has no encryption or no authentication (critical), uses EXPORT, DES, RC4 or RC2 (high), or 3DES, IDEA or an MD5 MAC (medium).", Reference: refRFC7457, Step: facts.StepServerHello},
	{ID: "no-forward-secrecy", Severity: facts.Medium, Title: "No forward secrecy",
		Help: "The key exchange is static RSA or static (EC)DH: whoever gets the server's private key later can decrypt this recorded traffic. Prefer ECDHE or DHE suites, or TLS 1.3.", Reference: refRFC9325FS, Step: facts.StepServerHello},
	{ID: "cbc-mode-cipher", Severity: facts.Low, Title: "CBC-mode cipher",
		Help: "The suite uses CBC with MAC-then-encrypt (TLS 1.2 and older), the construction behind BEAST, Lucky Thirteen and POODLE-style padding oracles. Prefer AEAD suites (GCM, ChaCha20-Poly1305).", Reference: refRFC7457CBC, Step: facts.StepServerHello},
	{ID: "insecure-renegotiation", Severity: facts.Medium, Title: "Secure renegotiation not supported",
		Help: "The client did not send renegotiation_info or the SCSV, or the server did not answer with renegotiation_info: renegotiation is open to the prefix-injection attack of CVE-2009-3555.", Reference: refRFC5746, Step: facts.StepClientHello},
	{ID: "tls-compression", Severity: facts.High, Title: "TLS compression enabled",
		Help: "A compression method other than null was negotiated, which lets an attacker who can inject data recover secrets (CRIME).", Reference: refRFC7457CRIME, Step: facts.StepServerHello},
	{ID: "heartbeat-enabled", Severity: facts.Low, Title: "Heartbeat extension negotiated",
		Help: "Both sides negotiated the heartbeat extension, rarely needed and the vector of Heartbleed (CVE-2014-0160) on unpatched OpenSSL.", Reference: refRFC6520, Step: facts.StepServerHello},
	{ID: "missing-sni", Severity: facts.Low, Title: "ClientHello without SNI",
		Help: "The client did not send server_name, so a server hosting several names may present the wrong certificate and the client's name check has nothing to check against.", Reference: refRFC6066SNI, Step: facts.StepClientHello},
	{ID: "handshake-failed", Severity: facts.Medium, Title: "TLS handshake failed",
		Help: "The handshake did not complete: a fatal alert (named in the message), or the connection closed before it finished.", Reference: refRFC8446Alert, Step: facts.StepAlert},
	{ID: "weak-dh-group", Severity: facts.Medium, Title: "Weak key-exchange group",
		Help: "The server's ServerKeyExchange uses a finite-field DH group below 2048 bits (below 1024: high, Logjam) or an elliptic curve below 224 bits or with explicit parameters.", Reference: refRFC7919, Step: facts.StepServerKeyExchange},

	// Cleartext secrets (facts.Secret.Kind).
	{ID: "plaintext-credentials", Severity: facts.High, Title: "Credentials in cleartext",
		Help: "A password, token or API key crossed the network unencrypted (HTTP, FTP, SMTP, POP3, IMAP, telnet, or a NULL-cipher TLS session). Anyone on the path can read it; use TLS and rotate the secret.", Reference: "https://www.rfc-editor.org/rfc/rfc7617#section-4", Step: facts.StepNone},
	{ID: "plaintext-session-cookie", Severity: facts.Medium, Title: "Session cookie in cleartext",
		Help: "A session cookie crossed the network unencrypted; whoever sees it can take over the session. Serve the site over HTTPS only and mark the cookie Secure.", Reference: "https://www.rfc-editor.org/rfc/rfc6265#section-8.3", Step: facts.StepNone},
	{ID: "plaintext-card-number", Severity: facts.Critical, Title: "Payment card number in cleartext",
		Help: "A number that passes the Luhn check and a card-issuer prefix crossed the network unencrypted, which PCI DSS forbids over open networks.", Reference: "https://www.pcisecuritystandards.org/document_library/ (PCI DSS v4.0, requirement 4.2.1)", Step: facts.StepNone},
	{ID: "plaintext-pii", Severity: facts.Low, Title: "Personal data in cleartext",
		Help: "Personal data (e-mail address, national identifier, phone number) crossed the network unencrypted.", Reference: "https://csrc.nist.gov/pubs/sp/800/122/final", Step: facts.StepNone},
	{ID: "plaintext-login-page", Severity: facts.Medium, Title: "Login form served over cleartext",
		Help: "A page with a password field was served without TLS, so the form, and what the user types into it, can be read or changed on the way.", Reference: "https://infosec.mozilla.org/guidelines/web_security#https", Step: facts.StepNone},

	// A policy file's checks (decode/policy); their findings' reference
	// is "policy".
	{ID: "policy-min-version", Severity: facts.High, Title: "Version below the policy minimum",
		Help: "The connection negotiated a protocol version older than the policy's min_version.", Step: facts.StepServerHello, Policy: true},
	{ID: "policy-denied-suite", Severity: facts.High, Title: "Cipher suite denied by policy",
		Help: "The server chose a cipher suite listed in the policy's denied_suites.", Step: facts.StepServerHello, Policy: true},
	{ID: "policy-suite-not-allowed", Severity: facts.Medium, Title: "Cipher suite not allowed by policy",
		Help: "The server chose a cipher suite missing from the policy's allowed_suites.", Step: facts.StepServerHello, Policy: true},
	{ID: "policy-unexpected-sni", Severity: facts.Medium, Title: "Unexpected server name",
		Help: "The client asked for a server name that matches none of the policy's expected_snis.", Step: facts.StepClientHello, Policy: true},
	{ID: "policy-cert-pin-mismatch", Severity: facts.Critical, Title: "Certificate does not match its pin",
		Help: "The server's certificate chain contains none of the SHA-256 fingerprints pinned for it in the policy.", Step: facts.StepCertificate, Policy: true},
}

var byID = func() map[string]Definition {
	m := make(map[string]Definition, len(definitions))
	for _, d := range definitions {
		m[d.ID] = d
	}
	return m
}()

// Definitions returns every finding definition, the policy checks'
// included, sorted by id.
func Definitions() []Definition {
	out := make([]Definition, len(definitions))
	copy(out, definitions)
	sortDefinitions(out)
	return out
}

// Lookup returns the definition of a finding id.
func Lookup(id string) (Definition, bool) {
	d, ok := byID[id]
	return d, ok
}
