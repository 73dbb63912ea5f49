package capture_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/tlsscope/tlsscope/capture"
)

const benchSize = 64 << 20

// benchFiles writes, once per run, a large pcap of the corpus's 1 MB
// browsing capture repeated (with timestamps moved on each round so they
// keep increasing), the same as pcapng, and the pcap gzip-compressed.
func benchFiles(b *testing.B) (pcap, pcapng, gz string) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "tlsscope-capture-bench")
	pcap, pcapng, gz = filepath.Join(dir, "big.pcap"), filepath.Join(dir, "big.pcapng"), filepath.Join(dir, "big.pcap.gz")
	if st, err := os.Stat(gz); err == nil && st.Size() > 0 {
		return
	}
	os.MkdirAll(dir, 0o755)
	src, err := capture.Open(corpusFile(b, "ja4/pcap/tls3.pcapng"))
	if err != nil {
		b.Fatal(err)
	}
	var pkts []capture.Packet
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		p.Data = append([]byte(nil), p.Data...)
		pkts = append(pkts, p)
	}
	src.Close()
	span := pkts[len(pkts)-1].Info.Timestamp.Sub(pkts[0].Info.Timestamp) + 1e6

	pf, _ := os.Create(pcap)
	nf, _ := os.Create(pcapng)
	pw := bufio.NewWriter(pf)
	hdr := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	hdr = binary.LittleEndian.AppendUint16(hdr, 2)
	hdr = binary.LittleEndian.AppendUint16(hdr, 4)
	hdr = append(hdr, make([]byte, 8)...)
	hdr = binary.LittleEndian.AppendUint32(hdr, 262144)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(layers.LinkTypeEthernet))
	pw.Write(hdr)
	nw, err := capture.NewPcapngWriter(nf, layers.LinkTypeEthernet, 262144)
	if err != nil {
		b.Fatal(err)
	}
	written := 0
	for round := 0; written < benchSize; round++ {
		for _, p := range pkts {
			p.Info.Timestamp = p.Info.Timestamp.Add(span * time.Duration(round))
			ts := p.Info.Timestamp
			var rec [16]byte
			binary.LittleEndian.PutUint32(rec[0:], uint32(ts.Unix()))
			binary.LittleEndian.PutUint32(rec[4:], uint32(ts.Nanosecond()/1000))
			binary.LittleEndian.PutUint32(rec[8:], uint32(len(p.Data)))
			binary.LittleEndian.PutUint32(rec[12:], uint32(p.Info.Length))
			pw.Write(rec[:])
			pw.Write(p.Data)
			nw.Write(p)
			written += 16 + len(p.Data)
		}
	}
	pw.Flush()
	nw.Flush()
	pf.Close()
	nf.Close()
	raw, _ := os.ReadFile(pcap)
	os.WriteFile(gz, gzipBytes(b, raw), 0o644)
	return
}

func benchRead(b *testing.B, path string) {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	var pkts int
	for i := 0; i < b.N; i++ {
		f, err := capture.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f.OnAnomaly = func(a capture.Anomaly) { b.Fatalf("anomaly %v", a) }
		pkts = 0
		for {
			_, err := f.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			pkts++
		}
		f.Close()
	}
	b.ReportMetric(float64(pkts), "packets/op")
}

// BenchmarkRead reads the large captures; allocs/op is per file (the read
// buffers), not per packet. BenchmarkRead/baseline is the same pcap
// copied through a 1 MiB buffer to io.Discard: the ratio of the two is
// what parsing costs. BenchmarkRead/pcap-through-pcapgo reads the pcap's
// records through pcapgo, as a gzip'd one is read.
func BenchmarkRead(b *testing.B) {
	pcap, pcapng, gz := benchFiles(b)
	b.Run("baseline", func(b *testing.B) {
		st, _ := os.Stat(pcap)
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			fh, _ := os.Open(pcap)
			io.Copy(io.Discard, bufio.NewReaderSize(fh, 1<<20))
			fh.Close()
		}
	})
	b.Run("pcap", func(b *testing.B) { benchRead(b, pcap) })
	b.Run("pcap-through-pcapgo", func(b *testing.B) {
		// The records read by pcapgo, as before the in-place reader:
		// the ratio to pcap is what reading in place saves.
		defer capture.PcapgoRecords()()
		benchRead(b, pcap)
	})
	b.Run("pcapng", func(b *testing.B) { benchRead(b, pcapng) })
	b.Run("pcap.gz", func(b *testing.B) { benchRead(b, gz) })
}

// TestNoAllocationPerPacket: reading a packet allocates nothing once the
// buffers exist, for pcap, pcapng and gzip input.
func TestNoAllocationPerPacket(t *testing.T) {
	pcapng := corpusFile(t, "ja4/pcap/tls3.pcapng")
	pcap := corpusFile(t, "zeek/testing/btest/Traces/tls/ssl.v3.pcap")
	gz := writeTemp(t, "x.pcapng.gz", gzipBytes(t, mustRead(t, pcapng)))
	for _, path := range []string{pcap, pcapng, gz} {
		f, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ { // grow the packet buffer to the largest early packet
			f.Next()
		}
		var err2 error
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := f.Next(); err != nil {
				err2 = err
			}
		})
		f.Close()
		if err2 != nil {
			t.Fatalf("%s: %v", path, err2)
		}
		if allocs != 0 {
			t.Errorf("%s: %.2f allocations per packet", filepath.Base(path), allocs)
		}
	}
}
