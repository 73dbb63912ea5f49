package fingerprint

import (
	"testing"

	"github.com/tlsscope/tlsscope/decode/tls"
)

var sink1, sink2 string

func BenchmarkJA3(b *testing.B) {
	ch := chromeHello(b)
	b.ReportAllocs()
	for b.Loop() {
		sink1, sink2 = JA3(ch)
	}
}

func BenchmarkJA4(b *testing.B) {
	ch := chromeHello(b)
	b.ReportAllocs()
	for b.Loop() {
		sink1, sink2 = JA4(ch, 't')
	}
}

// BenchmarkJA4Naive is the baseline: the same fingerprint built with fmt,
// strings.Join and fresh slices.
func BenchmarkJA4Naive(b *testing.B) {
	ch := chromeHello(b)
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
