package rules

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

const (
	// CA/Browser Forum Baseline Requirements 6.3.2: certificates issued
	// on or after 2020-09-01 are valid for at most 398 days, the period
	// counted inclusively (notAfter - notBefore + 1 second).
	maxValidity   = 398 * 24 * time.Hour
	validityStart = "2020-09-01T00:00:00Z"

	// NIST SP 800-131A Rev. 2, table 2: 112-bit security at least.
	minRSABits = 2048
	minECBits  = 224
)

var validityFrom, _ = time.Parse(time.RFC3339, validityStart)

// certRules judge the server's chain, where it was in the clear.
func (e *eval) certRules() {
	s := e.c.TLS
	if len(s.Certificates) == 0 || s.Certificates[0] == nil {
		return
	}
	chain := s.Certificates
	leaf := chain[0]
	// When a certificate failed to parse the list has a hole; a CA
	// certificate in first place then is probably not the leaf, and the
	// leaf-only rules stay quiet rather than judge the wrong one.
	leafKnown := s.CertificateErrors == 0 || !(leaf.BasicConstraintsValid && leaf.IsCA)
	t, tname := e.cfg.checkTime(e.c)
	// when is the check time in a sentence: "the capture time", "now
	// (--check-time now)" (not "the now"), "the check time (--check-time)".
	when := map[string]string{"now": "now (--check-time now)", "check time": "the check time (--check-time)"}[tname]
	if when == "" {
		when = "the " + tname
	}
	at := e.stepTime(tls.TypeCertificate, tls.ServerToClient)
	subj := func(i int) string {
		if i == 0 {
			return "server certificate " + certs.SubjectName(chain[0])
		}
		return fmt.Sprintf("certificate %d of %d (%s)", i+1, len(chain), certs.SubjectName(chain[i]))
	}

	// Dates (RFC 5280, 4.1.2.5), every certificate sent.
	for i, c := range chain {
		if t.After(c.NotAfter) {
			e.add("cert-expired", nil, at, "",
				fmt.Sprintf("%s expired on %s, %s before %s", subj(i), day(c.NotAfter), ago(t.Sub(c.NotAfter)), when),
				fmt.Sprintf("notAfter %s, %s %s", stamp(c.NotAfter), tname, stamp(t)))
			break
		}
	}
	for i, c := range chain {
		if t.Before(c.NotBefore) {
			e.add("cert-not-yet-valid", nil, at, "",
				fmt.Sprintf("%s is not valid until %s, %s after %s", subj(i), day(c.NotBefore), ago(c.NotBefore.Sub(t)), when),
				fmt.Sprintf("notBefore %s, %s %s", stamp(c.NotBefore), tname, stamp(t)))
			break
		}
	}
	warn := e.cfg.ExpiryWarn
	if warn == 0 {
		warn = DefaultExpiryWarn
	}
	if leafKnown && warn > 0 && !t.After(leaf.NotAfter) && !t.Before(leaf.NotBefore) && leaf.NotAfter.Sub(t) <= warn {
		e.add("cert-expiring-soon", nil, at, "",
			fmt.Sprintf("%s expires on %s, %s after the %s", subj(0), day(leaf.NotAfter), ago(leaf.NotAfter.Sub(t)), tname),
			fmt.Sprintf("notAfter %s, %s %s, warning window %s", stamp(leaf.NotAfter), tname, stamp(t), ago(warn)))
	}

	// Trust (RFC 5280, 6.1), through the verdict cache.
	v, selfSigned := e.cfg.cache.verify(chain, e.cfg.pool, t)
	if leafKnown && selfSigned && !v.Trusted && !v.DatesOnly {
		e.add("cert-self-signed", nil, at, "",
			fmt.Sprintf("%s is self-signed and not a trusted root", subj(0)),
			fmt.Sprintf("subject = issuer = %s, signature verifies with its own %s key", certs.SubjectName(leaf), keyName(leaf)))
	}
	if e.cfg.pool != nil && !v.Trusted && !v.DatesOnly {
		e.add("cert-untrusted", nil, at, "",
			"certificate chain not trusted: "+v.Reason,
			fmt.Sprintf("%d certificate(s) sent, issuer of the first: %s; %v", len(chain), certs.IssuerName(leaf), v.Err))
	}

	// Host name (RFC 6125, 6.4): the SNI; without one there is nothing
	// the client asked for, so nothing to mismatch.
	if ch := s.ClientHello; ch != nil && ch.ServerName != "" && leafKnown {
		if !e.cfg.hosts.matches(leaf, ch.ServerName) {
			e.add("cert-hostname-mismatch", nil, at, "",
				fmt.Sprintf("certificate does not match server name %q", ch.ServerName),
				fmt.Sprintf("SNI %s; certificate names: %s", ch.ServerName, sanList(leaf)))
		}
	}

	// Keys and signatures, every certificate sent.
	for i, c := range chain {
		typ, bits := certs.KeyInfo(c)
		weak := false
		switch typ {
		case "RSA", "DSA":
			weak = bits > 0 && bits < minRSABits
		case "ECDSA":
			weak = bits > 0 && bits < minECBits
		}
		if weak {
			e.add("cert-weak-key", nil, at, "",
				fmt.Sprintf("%s has a weak %s key", subj(i), keyName(c)),
				fmt.Sprintf("%s %d bits; minimum %d (RSA, DSA) or %d (EC)", typ, bits, minRSABits, minECBits))
			break
		}
	}
	// RFC 5480, 2.1.1: specifiedCurve MUST NOT be used in PKIX.
	for i, c := range chain {
		if certs.ExplicitCurve(c) {
			typ, bits := certs.KeyInfo(c)
			e.add("cert-explicit-curve", nil, at, "",
				fmt.Sprintf("%s has an %s key with explicit curve parameters (the CVE-2020-0601 CurveBall vector)", subj(i), typ),
				fmt.Sprintf("SubjectPublicKeyInfo specifiedCurve, %d-bit field; subject %s, issuer %s", bits, certs.SubjectName(c), certs.IssuerName(c)))
			break
		}
	}
	for i, c := range chain {
		var sev facts.Severity
		switch c.SignatureAlgorithm {
		case x509.MD2WithRSA, x509.MD5WithRSA:
			sev = facts.High
		case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
			sev = facts.Medium
		default:
			continue
		}
		if certs.SelfSigned(c) { // a root: its own signature is never relied on
			continue
		}
		e.add("cert-weak-signature", sevp(sev), at, "",
			fmt.Sprintf("%s is signed with %s", subj(i), c.SignatureAlgorithm),
			fmt.Sprintf("signature algorithm %s, issuer %s", c.SignatureAlgorithm, certs.IssuerName(c)))
		break
	}

	// Validity period (CA/B Forum BR 6.3.2).
	if leafKnown && !leaf.NotBefore.Before(validityFrom) {
		if d := leaf.NotAfter.Sub(leaf.NotBefore) + time.Second; d > maxValidity {
			e.add("cert-validity-too-long", nil, at, "",
				fmt.Sprintf("%s is valid for %d days, more than 398", subj(0), int(d/(24*time.Hour))),
				fmt.Sprintf("notBefore %s, notAfter %s", stamp(leaf.NotBefore), stamp(leaf.NotAfter)))
		}
	}

	// Order (RFC 5246, 7.4.2) and intermediates only a bundle supplied.
	if v.Order != "" {
		e.add("cert-chain-order", nil, at, "",
			"certificate chain sent out of order", v.Order+"; sent: "+chainSubjects(chain))
	} else if len(v.Supplied) > 0 {
		var names []string
		for _, c := range v.Supplied {
			names = append(names, certs.SubjectName(c))
		}
		e.add("cert-chain-order", nil, at, "",
			"certificate chain incomplete: the server does not send its intermediate",
			"supplied by the trusted bundle: "+strings.Join(names, "; ")+"; sent: "+chainSubjects(chain))
	}
}

func keyName(c *x509.Certificate) string {
	typ, bits := certs.KeyInfo(c)
	if bits > 0 && typ != "Ed25519" {
		return fmt.Sprintf("%s %d", typ, bits)
	}
	return typ
}

func sanList(c *x509.Certificate) string {
	var parts []string
	parts = append(parts, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		parts = append(parts, ip.String())
	}
	if len(parts) == 0 {
		return "no subjectAltName (CN " + c.Subject.CommonName + " is not used for matching)"
	}
	const max = 8
	if len(parts) > max {
		return strings.Join(parts[:max], ", ") + fmt.Sprintf(" and %d more", len(parts)-max)
	}
	return strings.Join(parts, ", ")
}

func chainSubjects(chain []*x509.Certificate) string {
	parts := make([]string, len(chain))
	for i, c := range chain {
		parts[i] = fmt.Sprintf("%d. %s", i+1, certs.SubjectName(c))
	}
	return strings.Join(parts, " | ")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
func day(t time.Time) string   { return t.UTC().Format("2006-01-02") }

// ago prints a duration in days (or hours when under two days).
func ago(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d < 48*time.Hour {
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}
