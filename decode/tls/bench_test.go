package tls

import (
	"testing"
)

// benchStream is a full TLS 1.2 handshake with a certificate chain and
// some application data (zeek tls1.2.pcap), as tshark reassembled it.
func benchStream(b *testing.B) *tcpStream {
	s := &streamsFor(b, "zeek/testing/btest/Traces/tls/tls1.2.pcap")[0]
	n := 0
	for _, g := range s.segs {
		n += len(g.data)
	}
	b.SetBytes(int64(n))
	return s
}

// BenchmarkConnFeed runs the whole connection through a new Conn: record
// framing, handshake reassembly, every parser and crypto/x509 on three
// certificates.
func BenchmarkConnFeed(b *testing.B) {
	s := benchStream(b)
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(Limits{}, nil)
		for _, g := range s.segs {
			c.Feed(g.from, g.data, t0)
		}
		if !c.Session().Established {
			b.Fatal("not established")
		}
	}
}

// BenchmarkConnFeedCachedCertificates is the same with a CertCache, as an
// Analyzer runs it: the chain is parsed once, then shared.
func BenchmarkConnFeedCachedCertificates(b *testing.B) {
	s := benchStream(b)
	lim := Limits{Certificates: &CertCache{}}
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(lim, nil)
		for _, g := range s.segs {
			c.Feed(g.from, g.data, t0)
		}
		if !c.Session().Established {
			b.Fatal("not established")
		}
	}
}

// BenchmarkConnFeedApplicationData is the steady state after the
// handshake: application data records only, which must not allocate.
func BenchmarkConnFeedApplicationData(b *testing.B) {
	c := NewConn(Limits{}, nil)
	s := benchStream(b)
	for _, g := range s.segs {
		c.Feed(g.from, g.data, t0)
	}
	rec := record(ContentApplicationData, 0x0303, make([]byte, 1400))
	chunk := append(append([]byte{}, rec...), rec...)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		c.Feed(ServerToClient, chunk[:700], t0) // records span chunks
		c.Feed(ServerToClient, chunk[700:], t0)
	}
}

// BenchmarkBaselineCopy copies the same bytes once: the floor any stream
// parser that looks at every byte pays.
func BenchmarkBaselineCopy(b *testing.B) {
	s := benchStream(b)
	buf := make([]byte, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, g := range s.segs {
			buf = append(buf, g.data...)
		}
	}
}

// BenchmarkParseClientHello parses the labelled fixture.
func BenchmarkParseClientHello(b *testing.B) {
	body := unhex(b, clientHelloFixture)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseClientHello(body); err != nil {
			b.Fatal(err)
		}
	}
}
