package capture_test

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestCorpusMatchesCapinfos reads every capture of the corpus, plain and
// gzip-compressed, and pcap files also rewritten in the other byte order
// and with nanosecond timestamps: each must give capinfos's packet count,
// first and last timestamps (to the nanosecond) and link type, with no
// anomaly, and end with Offset() == Size().
func TestCorpusMatchesCapinfos(t *testing.T) {
	corpus := testutil.Corpus(t)
	paths := corpusCaptures(t)
	infos := capinfosAll(t, paths)
	for _, path := range paths {
		name, _ := filepath.Rel(corpus, path)
		want, ok := infos[path]
		if !ok {
			t.Fatalf("capinfos said nothing of %s", name)
		}
		t.Run(name, func(t *testing.T) {
			check := func(t *testing.T, p string) {
				got, err := readFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if got.err != nil {
					t.Fatal(got.err)
				}
				if len(got.anomalies) > 0 {
					t.Errorf("anomalies: %v", got.anomalies)
				}
				if len(got.frames) != want.packets {
					t.Fatalf("%d packets, capinfos counts %d", len(got.frames), want.packets)
				}
				if first, last := got.frames[0].ts, got.frames[len(got.frames)-1].ts; first != want.first || last != want.last {
					t.Errorf("first and last timestamps %s %s, capinfos %s %s", first, last, want.first, want.last)
				}
				for i, lt := range got.links {
					if !linkIn(capinfosLink[want.encap], lt) {
						t.Fatalf("packet %d: link type %d, capinfos says %s", i+1, lt, want.encap)
					}
				}
				if off, size := got.file.Offset(), got.file.Size(); off != size {
					t.Errorf("Offset() = %d at the end, Size() = %d", off, size)
				}
			}
			t.Run("plain", func(t *testing.T) { check(t, path) })
			raw := mustRead(t, path)
			t.Run("gzip", func(t *testing.T) {
				check(t, writeTemp(t, "capture.gz", gzipBytes(t, raw)))
			})
			if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
				return
			}
			p := parsePcap(t, raw)
			for _, v := range []struct {
				name  string
				order binary.AppendByteOrder
				nano  bool
			}{
				{"big-endian", binary.BigEndian, p.nano},
				{"little-endian", binary.LittleEndian, p.nano},
				{"nanosecond-le", binary.LittleEndian, true},
				{"nanosecond-be", binary.BigEndian, true},
			} {
				t.Run(v.name, func(t *testing.T) {
					check(t, writeTemp(t, "capture", p.encode(v.order, v.nano)))
				})
			}
		})
	}
}

// TestFramesMatchTshark compares every frame (timestamp, captured and
// original length, link layer) with tshark's reading, on captures chosen
// for their variety: pcap and pcapng, micro- and nanosecond pcapng
// resolution, Null, raw IP, raw IPv4, PPP, and a pcapng named .pcap.
func TestFramesMatchTshark(t *testing.T) {
	corpus := testutil.Corpus(t)
	for _, name := range []string{
		"zeek/testing/btest/Traces/tls/tls1.2.pcap",
		"ja4/pcap/tls3.pcapng",
		"ja4/pcap/tls-alpn-h2.pcap",
		"nDPI/tests/cfgs/default/pcap/tls_ech.pcapng",
		"nDPI/tests/cfgs/default/pcap/pop3.pcap",
		"suricata-verify/tests/tls/tls-pre-1970/input.pcap",
		"zeek/testing/btest/Traces/http/basic-auth-with-colon.pcap",
		"zeek/testing/btest/Traces/quic/interop/quic-go_quic-go/retry.pcap",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(corpus, name)
			got, err := readFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.err != nil {
				t.Fatal(got.err)
			}
			compareFrames(t, got, tsharkFrames(t, path))
		})
	}
}
