package decode

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// BenchmarkFingerprintShare runs the whole decode path over a capture with
// fingerprints and without, in the same run, so their cost reads as the
// ratio of the two (issue: under 10%). The capture is $TLSSCOPE_BENCH_PCAP
// or the corpus's browsing capture.
func BenchmarkFingerprintShare(b *testing.B) {
	path := os.Getenv("TLSSCOPE_BENCH_PCAP")
	if path == "" {
		path = filepath.Join(testutil.Corpus(b), "ja4/pcap/tls-handshake.pcapng")
	}
	f, err := capture.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	var pkts []capture.Packet
	for {
		p, err := f.Next()
		if err != nil {
			break
		}
		p.Data = append([]byte(nil), p.Data...)
		pkts = append(pkts, p)
	}
	f.Close()
	for _, off := range []bool{true, false} {
		name := "with"
		if off {
			name = "without" // the baseline
		}
		b.Run(name, func(b *testing.B) {
			noFingerprints = off
			defer func() { noFingerprints = false }()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				a := New(Config{}, Handler{Connection: func(*facts.Connection) {}})
				for _, p := range pkts {
					a.Packet(p)
				}
				a.Flush()
			}
		})
	}
}
