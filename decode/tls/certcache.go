package tls

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"sync"

	"github.com/tlsscope/tlsscope/decode/certs/lenient"
)

// MaxCachedCertificates bounds a CertCache; when it is full the cache
// starts over empty.
const MaxCachedCertificates = 4096

// CertCache parses each distinct DER certificate once and hands the same
// *x509.Certificate to every connection that sends it (a busy server
// sends its chain on every connection). Certificates from the cache are
// shared: callers must not modify them. The zero value is ready; a nil
// *CertCache parses every time. It is safe for concurrent use.
type CertCache struct {
	mu sync.Mutex
	m  map[string]*x509.Certificate // keyed by the DER's SHA-256
}

// parse returns the certificate for der, from the cache or freshly parsed
// (from a copy: crypto/x509 keeps references into its input). Parse
// failures are not cached.
func (cc *CertCache) parse(der []byte) (*x509.Certificate, error) {
	if cc == nil {
		return parseCertificate(der)
	}
	sum := sha256.Sum256(der)
	key := string(sum[:])
	cc.mu.Lock()
	c, ok := cc.m[key]
	cc.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := parseCertificate(der)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil || len(cc.m) >= MaxCachedCertificates { // MaxCachedCertificates is enforced here
		cc.m = make(map[string]*x509.Certificate)
	}
	cc.m[key] = c
	return c, nil
}

// parseCertificate parses a copy of der with crypto/x509, or, when
// crypto/x509 refuses it (an EC key with explicit curve parameters, a
// curve it does not implement), reads what it can of it with
// lenient.Parse: the certificate was sent, and rules and reports must see
// it (its PublicKey is nil, so nothing it signed verifies).
func parseCertificate(der []byte) (*x509.Certificate, error) {
	der = bytes.Clone(der)
	c, err := x509.ParseCertificate(der)
	if err == nil {
		return c, nil
	}
	if lc, lerr := lenient.Parse(der); lerr == nil {
		return lc, nil
	}
	return nil, err
}
