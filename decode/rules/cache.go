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

// verdictCache is a bounded two-generation map: lookups hit the current
// generation or promote from the previous one; when the current one is
// full it becomes the previous and the oldest is dropped. That keeps the
// recently used entries at O(1) cost without LRU bookkeeping.
type verdictCache struct {
	mu        sync.Mutex
	cur, prev map[cacheKey]*cacheEntry
	verified  int // verifications done (tests and benchmarks read it)
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
	if e, ok := c.cur[k]; ok && e.reusable(t) {
		c.mu.Unlock()
		return e.v, e.self
	}
	if e, ok := c.prev[k]; ok && e.reusable(t) {
		c.put(k, e)
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
	c.put(k, e)
	c.mu.Unlock()
	return v, e.self
}

func (c *verdictCache) put(k cacheKey, e *cacheEntry) {
	if c.cur == nil {
		c.cur = make(map[cacheKey]*cacheEntry)
	}
	if len(c.cur) >= cacheEntries {
		c.prev, c.cur = c.cur, make(map[cacheKey]*cacheEntry)
	}
	c.cur[k] = e
}

// hostKey: whether a certificate matches a host name depends on nothing
// else, and a capture asks the same question of the same certificate on
// every connection to a server.
type hostKey struct {
	cert *x509.Certificate
	host string
}

// hostCache remembers x509.Certificate.VerifyHostname's verdicts, bounded
// in two generations like verdictCache.
type hostCache struct {
	mu        sync.Mutex
	cur, prev map[hostKey]bool
}

// matches is leaf.VerifyHostname(host) == nil.
func (c *hostCache) matches(leaf *x509.Certificate, host string) bool {
	k := hostKey{leaf, host}
	c.mu.Lock()
	ok, hit := c.cur[k]
	if !hit {
		if ok, hit = c.prev[k]; hit {
			c.put(k, ok)
		}
	}
	c.mu.Unlock()
	if hit {
		return ok
	}
	ok = leaf.VerifyHostname(host) == nil
	c.mu.Lock()
	c.put(k, ok)
	c.mu.Unlock()
	return ok
}

func (c *hostCache) put(k hostKey, ok bool) {
	if c.cur == nil {
		c.cur = make(map[hostKey]bool)
	}
	if len(c.cur) >= cacheEntries {
		c.prev, c.cur = c.cur, make(map[hostKey]bool)
	}
	c.cur[k] = ok
}
