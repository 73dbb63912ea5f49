package rules

import (
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs/certtest"
	"github.com/tlsscope/tlsscope/decode/facts"
)

// TestVerdictCachedAcrossConnections: 20,000 connections to one server
// with the same chain verify once.
func TestVerdictCachedAcrossConnections(t *testing.T) {
	p := certtest.NewPKI(t)
	cfg := &Config{Roots: []*x509.Certificate{p.Root.Cert}}
	for i := 0; i < 20000; i++ {
		c := withChain("www.example.com", p.Leaf, p.Intermediate)
		c.ID = uint64(i)
		at := certtest.Base.Add(time.Duration(i) * 100 * time.Millisecond) // 2000 s: spans an hour boundary at most once
		c.TLS.ServerHelloAt = at
		if fs := Evaluate(c, cfg); len(fs) != 0 {
			t.Fatalf("connection %d: %v", i, ids(fs))
		}
	}
	if cfg.cache.verified > 2 {
		t.Errorf("%d verifications for one chain", cfg.cache.verified)
	}
}

// TestVerdictCacheNeverCrossesAValidityBoundary: within one cache bucket,
// a chain whose leaf expires between two connections is judged again.
func TestVerdictCacheNeverCrossesAValidityBoundary(t *testing.T) {
	p := certtest.NewPKI(t)
	end := certtest.Base.Add(30 * time.Minute)
	leaf := certtest.New(t, certtest.Options{CN: "edge.example.com", DNS: []string{"edge.example.com"}, NotAfter: end}, p.Intermediate)
	pool := certtest.Pool(p.Root)
	var c verdictCache
	chain := certtest.Chain(leaf, p.Intermediate)
	before, _ := c.verify(chain, pool, end.Add(-time.Minute))
	after, _ := c.verify(chain, pool, end.Add(time.Minute))
	if !before.Trusted || after.Trusted || !after.DatesOnly || c.verified != 2 {
		t.Errorf("before %v, after %v (dates only %v), %d verifications", before.Trusted, after.Trusted, after.DatesOnly, c.verified)
	}
	c.verify(chain, pool, end.Add(2*time.Minute))
	if c.verified != 2 {
		t.Errorf("same side of the boundary verified again: %d", c.verified)
	}
}

// TestVerdictCacheBounded: the cache holds at most two generations.
func TestVerdictCacheBounded(t *testing.T) {
	p := certtest.NewPKI(t)
	var c verdictCache
	chain := certtest.Chain(p.Leaf, p.Intermediate)
	for i := 0; i < 3*cacheEntries; i++ {
		c.verify(chain, nil, certtest.Base.Add(time.Duration(i)*cacheBucket))
	}
	if n := c.entries.len(); n > 2*cacheEntries {
		t.Errorf("%d entries", n)
	}
}

// BenchmarkEvaluate3CertChain: one TLS 1.2 connection with a three
// certificate chain (RSA 2048 root, intermediate and leaf), judged with a
// warm verdict cache (as for the 2nd..nth connection to a server) and
// with a new Config each time (every chain verified).
func BenchmarkEvaluate3CertChain(b *testing.B) {
	root := certtest.New(b, certtest.Options{CN: "Bench Root", CA: true, Key: "rsa2048", NotBefore: certtest.Base.AddDate(-1, 0, 0), NotAfter: certtest.Base.AddDate(5, 0, 0)}, nil)
	inter := certtest.New(b, certtest.Options{CN: "Bench Intermediate", CA: true, Key: "rsa2048"}, root)
	leaf := certtest.New(b, certtest.Options{CN: "bench.example.com", DNS: []string{"bench.example.com"}, Key: "rsa2048"}, inter)
	conn := withChain("bench.example.com", leaf, inter, root)
	var sink []facts.Finding
	b.Run("cached", func(b *testing.B) {
		cfg := &Config{Roots: []*x509.Certificate{root.Cert}}
		b.ReportAllocs()
		for b.Loop() {
			sink = Evaluate(conn, cfg)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink = Evaluate(conn, &Config{Roots: []*x509.Certificate{root.Cert}})
		}
	})
	if len(sink) != 0 {
		b.Fatalf("findings on a clean connection: %v", ids(sink))
	}
}

// TestEvaluateConcurrent: one Config shared by goroutines (run with -race).
func TestEvaluateConcurrent(t *testing.T) {
	p := certtest.NewPKI(t)
	cfg := &Config{Roots: []*x509.Certificate{p.Root.Cert}}
	done := make(chan []string)
	for g := 0; g < 4; g++ {
		go func(g int) {
			var last []string
			for i := 0; i < 200; i++ {
				c := withChain("other.example.com", p.Leaf, p.Intermediate)
				c.TLS.ServerHelloAt = certtest.Base.Add(time.Duration(g*1000+i) * time.Hour)
				last = ids(Evaluate(c, cfg))
			}
			done <- last
		}(g)
	}
	for g := 0; g < 4; g++ {
		if got := <-done; !slices.Contains(got, "cert-hostname-mismatch") {
			t.Errorf("goroutine result %v", got)
		}
	}
}

// TestHostCacheEqualsVerifyHostname: the remembered verdicts are
// crypto/x509's, asked twice (computed, then remembered), for names that
// match, names that do not, wildcards and IP addresses.
func TestHostCacheEqualsVerifyHostname(t *testing.T) {
	p := certtest.NewPKI(t)
	wild := certtest.New(t, certtest.Options{CN: "wild", DNS: []string{"*.example.org", "example.org"}, IPs: []string{"192.0.2.7"}}, p.Intermediate)
	hosts := []string{"www.example.com", "example.com", "WWW.EXAMPLE.COM", "a.example.org", "b.a.example.org", "example.org",
		"192.0.2.7", "192.0.2.8", "", "www.example.com.", "x"}
	var c hostCache
	for round := range 2 {
		for _, leaf := range []*x509.Certificate{p.Leaf.Cert, wild.Cert, p.Root.Cert} {
			for _, h := range hosts {
				if got, want := c.matches(leaf, h), leaf.VerifyHostname(h) == nil; got != want {
					t.Errorf("round %d: %s for %q: %v, VerifyHostname %v", round, leaf.Subject.CommonName, h, got, want)
				}
			}
		}
	}
	if n := c.entries.len(); n != 3*len(hosts) {
		t.Errorf("%d entries for %d questions", n, 3*len(hosts))
	}
}

// TestChainKeyOrderAndContent: chains differing in order or in one
// certificate have different keys; the same chain in the same hour the
// same key.
func TestChainKeyOrderAndContent(t *testing.T) {
	p := certtest.NewPKI(t)
	at := certtest.Base
	a := chainKey(certtest.Chain(p.Leaf, p.Intermediate), at)
	if b := chainKey(certtest.Chain(p.Leaf, p.Intermediate), at.Add(time.Minute)); a != b {
		t.Error("same chain, same hour: different keys")
	}
	for _, other := range [][]*x509.Certificate{
		certtest.Chain(p.Intermediate, p.Leaf),
		certtest.Chain(p.Leaf),
		certtest.Chain(p.Leaf, p.Intermediate, p.Root),
		certtest.Chain(p.Leaf, p.Root),
	} {
		if chainKey(other, at) == a {
			t.Errorf("chain of %d certificates has the key of leaf+intermediate", len(other))
		}
	}
	if chainKey(certtest.Chain(p.Leaf, p.Intermediate), at.Add(cacheBucket)) == a {
		t.Error("next hour: same key")
	}
}
