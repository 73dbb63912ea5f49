package decode_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
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

// TestParallelBigFramesBounded: frames of 200 KiB (a hostile capture's,
// up to the 256 KiB a record may hold) are dealt out in batches bounded by
// bytes as well as by count, so the blocks the workers' batches hold stay
// a few MiB, not the 2048 frames between merges (400 MiB of such frames).
func TestParallelBigFramesBounded(t *testing.T) {
	const frames, size = 400, 200 << 10
	path := filepath.Join(t.TempDir(), "big-frames.pcap")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	hdr := le.AppendUint32(nil, 0xa1b2c3d4)
	hdr = le.AppendUint16(hdr, 2)
	hdr = le.AppendUint16(hdr, 4)
	hdr = append(hdr, make([]byte, 8)...)
	hdr = le.AppendUint32(hdr, 262144)
	hdr = le.AppendUint32(hdr, 1) // Ethernet
	out.Write(hdr)
	frame := make([]byte, size)
	copy(frame[12:], []byte{0x08, 0x00, 0x45, 0, 0xff, 0xff, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2})
	for i := range frames {
		frame[14+12+3] = byte(i % 50) // 50 connections
		binary.BigEndian.PutUint16(frame[34:], 40000)
		binary.BigEndian.PutUint16(frame[36:], 443)
		binary.BigEndian.PutUint32(frame[38:], uint32(i*size))
		frame[46], frame[47] = 0x50, 0x18 // data offset 5, PSH ACK
		rec := le.AppendUint32(nil, uint32(1000+i))
		rec = le.AppendUint32(rec, 0)
		rec = le.AppendUint32(rec, size)
		rec = le.AppendUint32(rec, size)
		out.Write(rec)
		out.Write(frame)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var base, peak uint64
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base = ms.HeapInuse
	next := filePackets(f)
	var n int
	packetCalls(func() (capture.Packet, bool) {
		if n++; n%10 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse-min(base, ms.HeapInuse))
		}
		return next()
	}, func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, 3) }, nil, 0)
	if n < frames {
		t.Fatalf("%d frames read, want %d", n, frames)
	}
	t.Logf("peak heap in use over the start: %.1f MiB for %d MiB of frames", float64(peak)/(1<<20), frames*size>>20)
	if peak > 48<<20 {
		t.Errorf("heap in use rose by %.1f MiB: batches hold the frames' blocks far beyond their bound", float64(peak)/(1<<20))
	}
}

// TestHeapFlatOverRepeats: the same captures over and over, timestamps
// going back at each repeat (as `mergecap -a` of one file writes them),
// leave nothing of their closed connections behind: the live heap after
// 1000 repeats (6,000 connections) is within a few MiB of that after 100,
// for one Analyzer and for workers.
func TestHeapFlatOverRepeats(t *testing.T) {
	var round []byte
	for _, name := range []string{"tls13-go.pcap", "http-form-login.pcap", "tls12-chacha20-openssl.pcap"} {
		raw, err := os.ReadFile(filepath.Join(testutil.Pcaps(t), name))
		if err != nil {
			t.Fatal(err)
		}
		round = appendShifted(round, raw, 0)
	}
	const rounds = 1000
	big := slices.Clone(round)
	for range rounds - 1 {
		big = append(big, round[24:]...)
	}
	liveHeap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	for _, n := range []int{1, 3} {
		f, err := capture.NewReader(bytes.NewReader(big), "repeats.pcap")
		if err != nil {
			t.Fatal(err)
		}
		next := filePackets(f)
		perRound := len(readPacketsBytes(t, round))
		var at100, end uint64
		var i int
		newEngine := func(h decode.Handler) decode.Engine { return decode.New(decode.Config{}, h) }
		if n > 1 {
			newEngine = func(h decode.Handler) decode.Engine { return decode.NewParallel(decode.Config{}, h, n) }
		}
		calls := packetCalls(func() (capture.Packet, bool) {
			switch i++; i {
			case 100 * perRound:
				at100 = liveHeap()
			case rounds * perRound:
				end = liveHeap()
			}
			return next()
		}, newEngine, nil, 0)
		if len(calls) == 0 || end == 0 {
			t.Fatalf("%d workers: %d calls, %d frames of %d", n, len(calls), i, rounds*perRound)
		}
		grew := int64(end) - int64(at100)
		t.Logf("%d workers: live heap %.1f MiB after 100 repeats, %.1f MiB after %d", n, float64(at100)/(1<<20), float64(end)/(1<<20), rounds)
		if grew > 4<<20 {
			t.Errorf("%d workers: the live heap grew by %.1f MiB from 100 to %d repeats of the same connections", n, float64(grew)/(1<<20), rounds)
		}
	}
}

// readPacketsBytes reads the packets of a capture held in memory.
func readPacketsBytes(t *testing.T, b []byte) []capture.Packet {
	f, err := capture.NewReader(bytes.NewReader(b), "round.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var out []capture.Packet
	next := filePackets(f)
	for p, ok := next(); ok; p, ok = next() {
		out = append(out, p)
	}
	return out
}
