package tls

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"sync"
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
		return x509.ParseCertificate(bytes.Clone(der))
	}
	sum := sha256.Sum256(der)
	key := string(sum[:])
	cc.mu.Lock()
	c, ok := cc.m[key]
	cc.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := x509.ParseCertificate(bytes.Clone(der))
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
