package rules

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs"
)

// Verifying a chain costs several signature checks and path building;
// a capture with thousands of connections to one server sends the same
// chain each time. Verdicts are cached by the chain's SHA-256 and the
// check time's hour; an entry is reused within the hour only when no
// certificate on the chain (sent or anchor) becomes valid or expires
// between the time it was computed for and the time asked, so the cache
// never changes a verdict.
const (
	cacheEntries = 4096 // per generation; two generations are kept
	cacheBucket  = time.Hour
)

type cacheKey struct {
	chain  [sha256.Size]byte
	bucket int64
}

type cacheEntry struct {
	at     time.Time
	v      certs.Verdict
	self   bool        // the leaf is self-signed (a signature check, so kept)
	bounds []time.Time // NotBefore/NotAfter of every certificate involved
}

// generations is a bounded two-generation map: lookups hit the current
// generation or promote from the previous one; when the current one is
// full (cacheEntries) it becomes the previous and the oldest is dropped.
// That keeps the recently used entries at O(1) cost without LRU
// bookkeeping. It is not safe for concurrent use.
type generations[K comparable, V any] struct {
	cur, prev map[K]V
}

// get returns k's value when keep (nil: any) accepts it.
func (g *generations[K, V]) get(k K, keep func(V) bool) (V, bool) {
	if v, ok := g.cur[k]; ok && (keep == nil || keep(v)) {
		return v, true
	}
	if v, ok := g.prev[k]; ok && (keep == nil || keep(v)) {
		g.put(k, v)
		return v, true
	}
	var zero V
	return zero, false
}

func (g *generations[K, V]) put(k K, v V) {
	if g.cur == nil {
		g.cur = make(map[K]V)
	}
	if len(g.cur) >= cacheEntries {
		g.prev, g.cur = g.cur, make(map[K]V)
	}
	g.cur[k] = v
}

// len is how many entries the two generations hold.
func (g *generations[K, V]) len() int { return len(g.cur) + len(g.prev) }

// verdictCache holds chain verdicts.
type verdictCache struct {
	mu       sync.Mutex
	entries  generations[cacheKey, *cacheEntry]
	verified int // verifications done (tests and benchmarks read it)
}

// chainKey hashes the certificates' own SHA-256 digests (remembered per
// certificate by decode/certs) in order: as unique as hashing their DER,
// without hashing every certificate again on every connection.
func chainKey(chain []*x509.Certificate, t time.Time) cacheKey {
	var buf [4 * sha256.Size]byte // chains longer than 4 spill to the heap
	b := buf[:0]
	for _, c := range chain {
		d := certs.Fingerprint(c)
		b = append(b, d[:]...)
	}
	k := cacheKey{chain: sha256.Sum256(b)}
	k.bucket = t.Unix() / int64(cacheBucket/time.Second)
	return k
}

// reusable: no validity boundary lies between the two times.
func (e *cacheEntry) reusable(t time.Time) bool {
	lo, hi := e.at, t
	if hi.Before(lo) {
		lo, hi = hi, lo
	}
	if lo.Equal(hi) {
		return true
	}
	for _, b := range e.bounds {
		if !b.Before(lo) && !b.After(hi) {
			return false
		}
	}
	return true
}

// verify returns certs.Verify's verdict for chain at t (host not
// checked: the caller does that, it is cheap and varies per connection),
// and whether the leaf is self-signed.
func (c *verdictCache) verify(chain []*x509.Certificate, pool *x509.CertPool, t time.Time) (certs.Verdict, bool) {
	k := chainKey(chain, t)
	c.mu.Lock()
	if e, ok := c.entries.get(k, func(e *cacheEntry) bool { return e.reusable(t) }); ok {
		c.mu.Unlock()
		return e.v, e.self
	}
	c.verified++
	c.mu.Unlock()

	v := certs.Verify(chain, "", certs.VerifyOptions{Roots: pool, Time: t})
	e := &cacheEntry{at: t, v: v, self: certs.SelfSigned(chain[0])}
	for _, list := range [][]*x509.Certificate{chain, v.Chain} {
		for _, x := range list {
			e.bounds = append(e.bounds, x.NotBefore, x.NotAfter)
		}
	}
	c.mu.Lock()
	c.entries.put(k, e)
	c.mu.Unlock()
	return v, e.self
}

// hostKey: whether a certificate matches a host name depends on nothing
// else, and a capture asks the same question of the same certificate on
// every connection to a server.
type hostKey struct {
	cert *x509.Certificate
	host string
}

// hostCache remembers x509.Certificate.VerifyHostname's verdicts.
type hostCache struct {
	mu      sync.Mutex
	entries generations[hostKey, bool]
}

// matches is leaf.VerifyHostname(host) == nil.
func (c *hostCache) matches(leaf *x509.Certificate, host string) bool {
	k := hostKey{leaf, host}
	c.mu.Lock()
	ok, hit := c.entries.get(k, nil)
	c.mu.Unlock()
	if hit {
		return ok
	}
	ok = leaf.VerifyHostname(host) == nil
	c.mu.Lock()
	c.entries.put(k, ok)
	c.mu.Unlock()
	return ok
}
