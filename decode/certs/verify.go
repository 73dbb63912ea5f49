package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrNoRoots is Verdict.Err when VerifyOptions.Roots is nil: with no trust
// anchors there is nothing to judge trust against.
var ErrNoRoots = errors.New("certs: no trust anchors configured")

// VerifyOptions say what to trust and when.
type VerifyOptions struct {
	// Roots are the trust anchors (every certificate in the pool is one,
	// as in crypto/x509). Nil means trust is not judged; pass
	// x509.SystemCertPool() to use the machine's store.
	Roots *x509.CertPool
	// Time is the moment the chain is judged at. It must be set: Verify
	// never reads the clock.
	Time time.Time
}

// Verdict is what Verify concluded about one chain.
type Verdict struct {
	// Trusted: a chain from the leaf to one of Roots exists at Time, for
	// TLS server authentication.
	Trusted bool
	// Chain is the path found, leaf first, trust anchor last: at Time
	// when Trusted, or, when DatesOnly, at a moment every certificate the
	// server sent was valid. Nil when no path exists.
	Chain []*x509.Certificate
	// Err says why the chain is not trusted at Time (nil when Trusted);
	// Reason says it in a few words for people.
	Err    error
	Reason string
	// DatesOnly: not trusted at Time, but the same chain verifies at a
	// moment all the certificates the server sent are valid. The only
	// problem is dates, which the caller reports on its own terms.
	DatesOnly bool

	// HostChecked: a host name was given; HostErr is nil when the leaf
	// matches it (RFC 6125 as crypto/x509 implements it: subjectAltName
	// only, a wildcard only as the whole left-most label).
	HostChecked bool
	HostErr     error

	// Order describes a chain sent out of order (RFC 5246, 7.4.2: each
	// certificate must be followed by the one that certifies it), or is
	// "" when the order is right.
	Order string
	// Supplied are certificates on Chain that the server did not send and
	// that are not self-signed roots: intermediates a trusted bundle had
	// to supply. A client without them in its store fails.
	Supplied []*x509.Certificate
}

// Verify judges a chain as a server sent it (leaf first) for host (the
// SNI; "" skips the name check) with crypto/x509, using the certificates
// after the leaf as intermediates.
func Verify(chain []*x509.Certificate, host string, opts VerifyOptions) Verdict {
	var v Verdict
	if len(chain) == 0 || chain[0] == nil {
		v.Err, v.Reason = errors.New("certs: no certificate"), "no certificate"
		return v
	}
	leaf := chain[0]
	v.Order = chainOrder(chain)
	if host != "" {
		v.HostChecked = true
		v.HostErr = leaf.VerifyHostname(host)
	}
	if opts.Roots == nil {
		v.Err, v.Reason = ErrNoRoots, "no trust anchors configured"
		return v
	}
	if opts.Time.IsZero() {
		v.Err, v.Reason = errors.New("certs: VerifyOptions.Time not set"), "no time to judge at"
		return v
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		if c != nil {
			inter.AddCert(c)
		}
	}
	vo := x509.VerifyOptions{
		Roots:         opts.Roots,
		Intermediates: inter,
		CurrentTime:   opts.Time,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	chains, err := leaf.Verify(vo)
	if err == nil {
		v.Trusted = true
		v.Chain, v.Supplied = best(chains, chain)
		return v
	}
	v.Err, v.Reason = err, reason(err, leaf)
	// crypto/x509 reports an expired intermediate as an unknown
	// authority; retrying at a moment every sent certificate is valid
	// tells date problems from trust problems.
	if t, ok := validMoment(chain, opts.Time); ok {
		vo.CurrentTime = t
		chains, err := leaf.Verify(vo)
		if err == nil {
			v.DatesOnly = true
			v.Chain, v.Supplied = best(chains, chain)
			v.Reason = "a certificate is outside its validity period"
		} else {
			// At a moment the dates are right the chain still fails:
			// that failure (an unknown issuer, a bad usage) is the real
			// cause, which the date error hid.
			v.Err, v.Reason = err, reason(err, leaf)
		}
	}
	return v
}

// validMoment picks the moment closest to t at which every certificate
// sent is valid; ok is false when t already is one (nothing to retry) or
// when no such moment exists.
func validMoment(chain []*x509.Certificate, t time.Time) (time.Time, bool) {
	var lo, hi time.Time
	for i, c := range chain {
		if c == nil {
			continue
		}
		if i == 0 || c.NotBefore.After(lo) {
			lo = c.NotBefore
		}
		if i == 0 || c.NotAfter.Before(hi) {
			hi = c.NotAfter
		}
	}
	if lo.After(hi) {
		return time.Time{}, false
	}
	switch {
	case t.Before(lo):
		return lo, true
	case t.After(hi):
		return hi, true
	}
	return time.Time{}, false
}

// best picks, among the chains crypto/x509 found, the one needing the
// fewest certificates the server did not send, then the shortest.
func best(chains [][]*x509.Certificate, sent []*x509.Certificate) ([]*x509.Certificate, []*x509.Certificate) {
	var bc, bs []*x509.Certificate
	for i, ch := range chains {
		var sup []*x509.Certificate
		for _, c := range ch[1:] {
			if !wasSent(c, sent) && !bytes.Equal(c.RawSubject, c.RawIssuer) {
				sup = append(sup, c)
			}
		}
		if i == 0 || len(sup) < len(bs) || len(sup) == len(bs) && len(ch) < len(bc) {
			bc, bs = ch, sup
		}
	}
	return bc, bs
}

func wasSent(c *x509.Certificate, sent []*x509.Certificate) bool {
	for _, s := range sent {
		if s != nil && bytes.Equal(s.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// issues reports whether parent's name (and key identifier, when both
// carry one) matches child's issuer. The signature is not checked: this
// is about the order the server sent, which crypto/x509 judges
// separately.
func issues(parent, child *x509.Certificate) bool {
	if parent == nil || child == nil || parent == child || !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	if len(child.AuthorityKeyId) > 0 && len(parent.SubjectKeyId) > 0 {
		return bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId)
	}
	return true
}

// chainOrder checks RFC 5246, 7.4.2 (and RFC 8446, 4.4.2, which keeps the
// leaf first): the server's certificate comes first and each certificate
// is followed by the one that certifies it. It reports a certificate
// whose issuer was sent, but later than right after it, and a first
// certificate that issued another one sent (the leaf is not first).
// Unrelated extra certificates are not an order problem.
func chainOrder(chain []*x509.Certificate) string {
	for j := 1; j < len(chain); j++ {
		if issues(chain[0], chain[j]) && !bytes.Equal(chain[j].RawSubject, chain[j].RawIssuer) {
			return fmt.Sprintf("the first certificate (%s) issued certificate %d (%s): the server's own certificate must come first",
				Name(chain[0].RawSubject), j+1, Name(chain[j].RawSubject))
		}
	}
	for i := 0; i+1 < len(chain); i++ {
		c := chain[i]
		if c == nil || bytes.Equal(c.RawSubject, c.RawIssuer) || issues(chain[i+1], c) {
			continue
		}
		for j := i + 2; j < len(chain); j++ {
			if issues(chain[j], c) {
				return fmt.Sprintf("certificate %d (%s) is followed by %s, but its issuer was sent as certificate %d",
					i+1, Name(c.RawSubject), Name(chain[i+1].RawSubject), j+1)
			}
		}
	}
	return ""
}

// reason says in a few words why crypto/x509 refused a chain.
func reason(err error, leaf *x509.Certificate) string {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var ia x509.InsecureAlgorithmError
	var hn x509.HostnameError
	var sr x509.SystemRootsError
	switch {
	case errors.As(err, &ua):
		if SelfSigned(leaf) {
			return "self-signed and not a trusted root"
		}
		// The insecure-algorithm cause is only in the error's text
		// (UnknownAuthorityError keeps it unexported).
		if _, alg, ok := strings.Cut(ua.Error(), "insecure algorithm "); ok {
			alg, _, _ = strings.Cut(alg, "\"")
			return "a certificate on the chain is signed with " + alg + ", which crypto/x509 no longer accepts"
		}
		return "issued by " + Name(leaf.RawIssuer) + ", which does not chain to a trusted root"
	case errors.As(err, &ci):
		switch ci.Reason {
		case x509.Expired:
			return "a certificate is outside its validity period"
		case x509.NotAuthorizedToSign:
			return "an issuer is not a CA"
		case x509.IncompatibleUsage:
			return "extended key usage does not allow TLS server authentication"
		case x509.CANotAuthorizedForThisName:
			return "an issuer's name constraints forbid the name"
		case x509.TooManyIntermediates:
			return "path longer than an issuer's path length constraint"
		}
		return ci.Error()
	case errors.As(err, &ia):
		return "signed with " + x509.SignatureAlgorithm(ia).String() + ", which crypto/x509 no longer accepts"
	case errors.As(err, &hn):
		return hn.Error()
	case errors.As(err, &sr):
		return "the system root store could not be loaded"
	}
	return err.Error()
}

// LoadCAFile reads every certificate of a PEM bundle. Errors name the
// file and say what is wrong with it.
func LoadCAFile(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	var out []*x509.Certificate
	for n := 1; ; n++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA file %s: PEM block %d: %w", path, n, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("CA file %s: no PEM CERTIFICATE block found (a CA file is PEM, like /etc/ssl/certs/ca-certificates.crt)", path)
	}
	return out, nil
}
