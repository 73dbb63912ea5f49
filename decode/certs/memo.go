package certs

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// maxMemo bounds each memo; a full memo starts over empty. It matches
// decode/tls's certificate cache, which hands every connection that sends
// a certificate the same *x509.Certificate, so the pointer is the key.
const maxMemo = 4096

// memo remembers a value per parsed certificate. It is safe for
// concurrent use. Certificates are never modified once parsed, so a value
// computed from one stays true for as long as the pointer is held.
type memo[V any] struct {
	mu sync.Mutex
	m  map[*x509.Certificate]V
}

var (
	described  memo[Info]
	selfSigned memo[bool]
	named      memo[[2]string] // Name of the subject, of the issuer
	digests    memo[[sha256.Size]byte]
)

// Fingerprint is the SHA-256 of the certificate's DER, remembered per
// certificate (caches of verdicts key chains by it on every connection).
func Fingerprint(c *x509.Certificate) [sha256.Size]byte {
	if d, ok := digests.get(c); ok {
		return d
	}
	d := sha256.Sum256(c.Raw)
	digests.put(c, d)
	return d
}

// SubjectName is Name(c.RawSubject), remembered per certificate: rules
// name the subject and issuer in findings on every connection, and the
// same few certificates recur.
func SubjectName(c *x509.Certificate) string { return names(c)[0] }

// IssuerName is Name(c.RawIssuer), remembered per certificate.
func IssuerName(c *x509.Certificate) string { return names(c)[1] }

func names(c *x509.Certificate) [2]string {
	if n, ok := named.get(c); ok {
		return n
	}
	n := [2]string{Name(c.RawSubject), Name(c.RawIssuer)}
	named.put(c, n)
	return n
}

func (m *memo[V]) get(c *x509.Certificate) (V, bool) {
	m.mu.Lock()
	v, ok := m.m[c]
	m.mu.Unlock()
	return v, ok
}

func (m *memo[V]) put(c *x509.Certificate, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= maxMemo {
		m.m = make(map[*x509.Certificate]V)
	}
	m.m[c] = v
}
