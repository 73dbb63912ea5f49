package decode_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestParallelInPlace: workers fed straight from the file reader, which
// hands out pcap packets in place (the Parallel retains their blocks
// instead of copying), make the same Handler calls as one Analyzer fed
// copies, on every capture.
func TestParallelInPlace(t *testing.T) {
	var inPlace int
	for _, path := range captures(t) {
		want := packetCalls(slicePackets(readPackets(t, path)), func(h decode.Handler) decode.Engine { return decode.New(decode.Config{}, h) }, nil, 0)
		for _, n := range []int{2, 3} {
			f, err := capture.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			next := filePackets(f)
			first := true
			got := packetCalls(func() (capture.Packet, bool) {
				p, ok := next()
				if ok && first {
					first = false
					if p.Block != nil {
						inPlace++
					}
				}
				return p, ok
			}, func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, n) }, nil, 0)
			f.Close()
			if !slices.Equal(got, want) {
				t.Errorf("%s, %d workers fed in place: %d Handler calls differ from one Analyzer's %d", filepath.Base(path), n, len(got), len(want))
			}
		}
	}
	if inPlace < 20 {
		t.Errorf("only %d runs read packets in place", inPlace)
	}

	// A capture of many blocks, so blocks are reused while workers still
	// read the packets of earlier ones: several captures, each repeated
	// an hour after the last, read in place and from copies.
	var big []byte
	for round := range 200 {
		for _, name := range []string{"tls13-go.pcap", "http-form-login.pcap", "tls12-chacha20-openssl.pcap"} {
			raw, err := os.ReadFile(filepath.Join(testutil.Pcaps(t), name))
			if err != nil {
				t.Fatal(err)
			}
			big = appendShifted(big, raw, uint32(round*3600))
		}
	}
	read := func() *capture.File {
		f, err := capture.NewReader(bytes.NewReader(big), "big.pcap")
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	var copies []capture.Packet
	next := filePackets(read())
	for p, ok := next(); ok; p, ok = next() {
		p.Data, p.Block = bytes.Clone(p.Data), nil
		copies = append(copies, p)
	}
	want := packetCalls(slicePackets(copies), func(h decode.Handler) decode.Engine { return decode.New(decode.Config{}, h) }, nil, 0)
	for _, n := range []int{2, 3} {
		got := packetCalls(filePackets(read()), func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, n) }, nil, 0)
		if !slices.Equal(got, want) {
			t.Errorf("%d MB capture, %d workers fed in place: %d Handler calls differ from one Analyzer's %d", len(big)>>20, n, len(got), len(want))
		}
	}
}

// appendShifted appends a little-endian pcap's records to dst (the file
// header too when dst is empty), each timestamp moved on by sec seconds.
func appendShifted(dst, raw []byte, sec uint32) []byte {
	if len(dst) == 0 {
		dst = append(dst, raw[:24]...)
	}
	for off := 24; off+16 <= len(raw); {
		n := 16 + int(binary.LittleEndian.Uint32(raw[off+8:]))
		if off+n > len(raw) {
			break
		}
		rec := bytes.Clone(raw[off : off+n])
		binary.LittleEndian.PutUint32(rec, binary.LittleEndian.Uint32(rec)+sec)
		dst = append(dst, rec...)
		off += n
	}
	return dst
}

// FuzzParallel: whatever the capture bytes, three workers fed in place
// make the same Handler calls, in the same order, as one Analyzer.
func FuzzParallel(f *testing.F) {
	for _, name := range []string{"tls13-go.pcap", "http-form-login.pcap", "tls12-chacha20-openssl.pcap", "smtp-auth-plain.pcap"} {
		raw, err := os.ReadFile(filepath.Join(testutil.Pcaps(f), name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw[:min(len(raw), 16<<10)]) // cut: the fuzzer works on small inputs
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := func(newEngine func(decode.Handler) decode.Engine) []string {
			cf, err := capture.NewReader(bytes.NewReader(data), "fuzz")
			if err != nil {
				return nil
			}
			defer cf.Close()
			return packetCalls(filePackets(cf), newEngine, nil, 0)
		}
		want := calls(func(h decode.Handler) decode.Engine { return decode.New(decode.Config{}, h) })
		got := calls(func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, 3) })
		if !slices.Equal(got, want) {
			t.Fatalf("3 workers:\n%q\none Analyzer:\n%q", got, want)
		}
	})
}
