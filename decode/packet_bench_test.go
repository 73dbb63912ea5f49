package decode

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// benchPackets reads $TLSSCOPE_BENCH_PCAP (e.g. one made by
// scripts/benchcapture) or the corpus's 1 MB browsing capture into memory,
// once for every benchmark of the run.
func benchPackets(b *testing.B) []capture.Packet {
	if benchPkts == nil {
		benchPkts = readPackets(b)
	}
	return benchPkts
}

var benchPkts []capture.Packet

func readPackets(b *testing.B) []capture.Packet {
	path := os.Getenv("TLSSCOPE_BENCH_PCAP")
	if path == "" {
		path = filepath.Join(testutil.Corpus(b), "ja4/pcap/tls3.pcapng")
	}
	return readCapture(b, path)
}

// BenchmarkPacket measures the per-packet path of one Analyzer (headers,
// the connection table, reassembly, the stream parsers) in steady state:
// one op is one packet. Every pass over the capture uses a fresh Analyzer,
// its Flush included. "worker" runs the Analyzer as a Parallel worker does
// (events held and collected), "worker-file" as one told by deliverFor
// that the caller takes only connections and anomalies (cmd/tlsscope
// reading files), "handler" delivers them to a Handler.
// allocs/packet and B/packet are exact (allocs/op rounds down);
// cpu-ns/packet is the process's CPU time, GC included.
func BenchmarkPacket(b *testing.B) {
	pkts := benchPackets(b)
	for _, mode := range []string{"handler", "worker", "worker-file"} {
		b.Run(mode, func(b *testing.B) {
			var n int
			mk := func() *Analyzer {
				a := New(Config{}, Handler{Connection: func(*facts.Connection) { n++ }})
				if mode != "handler" {
					a.collect = func(evs []event) { n += len(evs) }
				}
				if mode == "worker-file" {
					// The Handler of cmd/tlsscope reading files: no
					// handshake, secret or HTTP calls.
					a.deliverFor(&Handler{Anomaly: func(facts.Anomaly) {}, Prepare: func(*facts.Connection) any { return nil }, Prepared: func(*facts.Connection, any) {}})
				}
				return a
			}
			a := mk()
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime()
			b.ResetTimer()
			for i, j := 0, 0; i < b.N; i, j = i+1, j+1 {
				if j == len(pkts) {
					a.Flush()
					a, j = mk(), 0
				}
				if mode != "handler" {
					if a.tick(pkts[j].Info.Timestamp) {
						a.flushIdle()
					}
					a.seq++
					a.holding = true
					a.packet(pkts[j])
					a.release()
				} else {
					a.Packet(pkts[j])
				}
			}
			a.Flush()
			b.StopTimer()
			cpu1 := cpuTime()
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/packet")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "allocs/packet")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N), "B/packet")
		})
	}
}
