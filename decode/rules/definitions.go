package rules

import "github.com/tlsscope/tlsscope/decode/facts"

// Definition describes one finding id: the table report formats (SARIF
// rules, JUnit cases, the table legend) read, and the default severity a
// rule starts from.
type Definition struct {
	ID        string
	Severity  facts.Severity // default; a rule may raise or lower it per finding (weak-cipher), cfg.Severity overrides it
	Title     string         // a short line
	Help      string         // what it means and what to do
	Reference string         // URL of the RFC section, NIST publication or guideline
}

// References used by more than one definition or rule.
const (
	refRFC5280Validity = "https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5"
	refRFC5280Path     = "https://www.rfc-editor.org/rfc/rfc5280#section-6.1"
	refRFC6125         = "https://www.rfc-editor.org/rfc/rfc6125#section-6.4"
	refNIST131A        = "https://csrc.nist.gov/pubs/sp/800/131/a/r2/final"
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

// definitions is the one table of finding ids, in no particular order
// (Definitions sorts).
var definitions = []Definition{
	// Certificates (TLS 1.2 and older: the chain is in the clear).
	{"cert-expired", facts.High, "Certificate expired",
		"A certificate the server sent had expired at the check time (notAfter before it). Clients reject it; renew the certificate.", refRFC5280Validity},
	{"cert-not-yet-valid", facts.High, "Certificate not yet valid",
		"A certificate the server sent was not yet valid at the check time (notBefore after it), often a wrong clock on the issuing side or the client. Clients reject it.", refRFC5280Validity},
	{"cert-expiring-soon", facts.Low, "Certificate expiring soon",
		"The server's certificate expires within the warning window (30 days by default) after the check time. Renew it before it does.", refRFC5280Validity},
	{"cert-self-signed", facts.Medium, "Self-signed certificate",
		"The server's own certificate is signed by its own key and is not a trusted root: nothing vouches for it, so a client cannot tell it from an attacker's. Use a certificate from a CA the clients trust, or pin it with --ca-file.", refRFC5280Path},
	{"cert-untrusted", facts.High, "Certificate chain not trusted",
		"The chain the server sent does not lead to a trusted root (the system store and --ca-file), so clients that check reject it. The message says why.", refRFC5280Path},
	{"cert-hostname-mismatch", facts.High, "Certificate does not match the server name",
		"The server name the client asked for (SNI) is not among the certificate's subjectAltName entries (wildcards match one left-most label). Clients that check reject it; without SNI nothing is checked.", refRFC6125},
	{"cert-weak-key", facts.High, "Weak certificate key",
		"A certificate's public key is too small: RSA or DSA below 2048 bits, or an elliptic curve below 224 bits (NIST SP 800-131A).", refNIST131A},
	{"cert-weak-signature", facts.Medium, "Weak certificate signature",
		"A certificate (other than a self-signed root, whose signature no one checks) is signed with MD5 or SHA-1, for which collisions are practical. Reissue it with SHA-256 or better.", refNIST131A},
	{"cert-validity-too-long", facts.Low, "Certificate validity too long",
		"The server's certificate, issued on or after 2020-09-01, is valid for more than 398 days, the CA/Browser Forum limit clients enforce for public certificates.", refBRValidity},
	{"cert-chain-order", facts.Low, "Certificate chain sent out of order or incomplete",
		"The server's certificate list is not leaf first with each certificate followed by its issuer, or it leaves out an intermediate that only a trusted bundle supplied. Some clients fail; send the full chain in order.", refRFC5246Chain},

	// Versions, suites and extensions.
	{"deprecated-version", facts.Medium, "Deprecated protocol version",
		"The connection negotiated SSL 2.0 or 3.0 (high) or TLS 1.0 or 1.1 (medium), all deprecated. Allow TLS 1.2 and 1.3 only.", refRFC8996},
	{"deprecated-version-offered", facts.Info, "Client offers deprecated versions",
		"The client still offers SSL 3.0, TLS 1.0 or TLS 1.1 (in legacy_version or supported_versions), so a server or attacker can push it down to them.", refRFC8996},
	{"weak-cipher", facts.High, "Weak cipher suite",
		"The negotiated suite has no encryption or no authentication (critical), uses EXPORT, DES, RC4 or RC2 (high), or 3DES, IDEA or an MD5 MAC (medium).", refRFC7457},
	{"no-forward-secrecy", facts.Medium, "No forward secrecy",
		"The key exchange is static RSA or static (EC)DH: whoever gets the server's private key later can decrypt this recorded traffic. Prefer ECDHE or DHE suites, or TLS 1.3.", refRFC9325FS},
	{"cbc-mode-cipher", facts.Low, "CBC-mode cipher",
		"The suite uses CBC with MAC-then-encrypt (TLS 1.2 and older), the construction behind BEAST, Lucky Thirteen and POODLE-style padding oracles. Prefer AEAD suites (GCM, ChaCha20-Poly1305).", refRFC7457CBC},
	{"insecure-renegotiation", facts.Medium, "Secure renegotiation not supported",
		"The client did not send renegotiation_info or the SCSV, or the server did not answer with renegotiation_info: renegotiation is open to the prefix-injection attack of CVE-2009-3555.", refRFC5746},
	{"tls-compression", facts.High, "TLS compression enabled",
		"A compression method other than null was negotiated, which lets an attacker who can inject data recover secrets (CRIME).", refRFC7457CRIME},
	{"heartbeat-enabled", facts.Low, "Heartbeat extension negotiated",
		"Both sides negotiated the heartbeat extension, rarely needed and the vector of Heartbleed (CVE-2014-0160) on unpatched OpenSSL.", refRFC6520},
	{"missing-sni", facts.Low, "ClientHello without SNI",
		"The client did not send server_name, so a server hosting several names may present the wrong certificate and the client's name check has nothing to check against.", refRFC6066SNI},
	{"handshake-failed", facts.Medium, "TLS handshake failed",
		"The handshake did not complete: a fatal alert (named in the message), or the connection closed before it finished.", refRFC8446Alert},
	{"weak-dh-group", facts.Medium, "Weak key-exchange group",
		"The server's ServerKeyExchange uses a finite-field DH group below 2048 bits (below 1024: high, Logjam) or an elliptic curve below 224 bits or with explicit parameters.", refRFC7919},

	// Cleartext secrets (facts.Secret.Kind).
	{"plaintext-credentials", facts.High, "Credentials in cleartext",
		"A password, token or API key crossed the network unencrypted (HTTP, FTP, SMTP, POP3, IMAP, telnet, or a NULL-cipher TLS session). Anyone on the path can read it; use TLS and rotate the secret.", "https://www.rfc-editor.org/rfc/rfc7617#section-4"},
	{"plaintext-session-cookie", facts.Medium, "Session cookie in cleartext",
		"A session cookie crossed the network unencrypted; whoever sees it can take over the session. Serve the site over HTTPS only and mark the cookie Secure.", "https://www.rfc-editor.org/rfc/rfc6265#section-8.3"},
	{"plaintext-card-number", facts.Critical, "Payment card number in cleartext",
		"A number that passes the Luhn check and a card-issuer prefix crossed the network unencrypted, which PCI DSS forbids over open networks.", "https://www.pcisecuritystandards.org/document_library/ (PCI DSS v4.0, requirement 4.2.1)"},
	{"plaintext-pii", facts.Low, "Personal data in cleartext",
		"Personal data (e-mail address, national identifier, phone number) crossed the network unencrypted.", "https://csrc.nist.gov/pubs/sp/800/122/final"},
	{"plaintext-login-page", facts.Medium, "Login form served over cleartext",
		"A page with a password field was served without TLS, so the form, and what the user types into it, can be read or changed on the way.", "https://infosec.mozilla.org/guidelines/web_security#https"},
}

var byID = func() map[string]Definition {
	m := make(map[string]Definition, len(definitions))
	for _, d := range definitions {
		m[d.ID] = d
	}
	return m
}()

// Definitions returns every finding definition, sorted by id.
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
