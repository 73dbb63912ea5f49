package fingerprint

import (
	"testing"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// benchHello is the ClientHello the benchmarks fingerprint: the JA4.md
// example (Chrome's lists) with Chrome's groups and point formats.
func benchHello(b *testing.B) *tls.ClientHello {
	ch := specHello()
	ch.SupportedGroups = []uint16{0x0a0a, 0x001d, 0x0017, 0x0018}
	ch.ECPointFormats = []uint8{0}
	return ch
}

var sink1, sink2 string

func BenchmarkJA3(b *testing.B) {
	ch := benchHello(b)
	b.ReportAllocs()
	for b.Loop() {
		sink1, sink2 = JA3(ch)
	}
}

func BenchmarkJA4(b *testing.B) {
	ch := benchHello(b)
	b.ReportAllocs()
	for b.Loop() {
		sink1, sink2 = JA4(ch, 't')
	}
}

// BenchmarkJA4Naive is the baseline: the same fingerprint built with fmt,
// strings.Join and fresh slices.
func BenchmarkJA4Naive(b *testing.B) {
	ch := benchHello(b)
	b.ReportAllocs()
	for b.Loop() {
		sink1, sink2 = naiveJA4(ch, 't')
	}
}

func BenchmarkJA3S(b *testing.B) {
	sh := &tls.ServerHello{LegacyVersion: 0x0303, CipherSuite: 0xc02f, Extensions: []uint16{0xff01, 0, 11, 16, 23}}
	b.ReportAllocs()
	for b.Loop() {
		sink1, sink2 = JA3S(sh)
	}
}
