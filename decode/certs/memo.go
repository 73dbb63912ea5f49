package certs

import (
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
)

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
