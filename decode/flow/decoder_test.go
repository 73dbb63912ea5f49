package flow

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

type frame struct {
	data []byte
	ci   gopacket.CaptureInfo
	lt   layers.LinkType
}

// readAll reads a pcap or pcapng file with pcapgo directly, so this test
// does not depend on the capture package.
func readAll(t testing.TB, path string) []frame {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []frame
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			intf, _ := r.Interface(ci.InterfaceIndex)
			out = append(out, frame{data, ci, intf.LinkType})
		}
	}
	r, err := pcapgo.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, frame{data, ci, r.LinkType()})
	}
}

// TestTCPSegmentsMatchTshark: on captures of every link type in the corpus
// (Ethernet, BSD null, raw IPv4, PPP, IPv6, pcapng), the frames decoded as
// TCP segments, and their ports, are the ones tshark decodes as TCP; the
// frames decoded as UDP datagrams, their ports and payload lengths, the
// ones tshark decodes as UDP.
func TestTCPSegmentsMatchTshark(t *testing.T) {
	tshark := testutil.Tool(t, "tshark")
	corpus := testutil.Corpus(t)
	var pcaps []string
	var udp int
	filepath.Walk(corpus, func(p string, info os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			pcaps = append(pcaps, p)
		}
		return nil
	})
	if len(pcaps) < 20 {
		t.Fatalf("only %d captures found in %s", len(pcaps), corpus)
	}
	tunnels, _ := filepath.Glob("../../testdata/pcaps/tunnel/*.pcap")
	if len(tunnels) < 15 {
		t.Fatalf("only %d tunnel captures", len(tunnels))
	}
	pcaps = append(pcaps, tunnels...)
	compared := testutil.MinCompared(t, 2400, "TCP frames")
	for _, path := range pcaps {
		t.Run(filepath.Base(path), func(t *testing.T) {
			// Frames whose outermost transport is TCP (not TCP quoted in
			// ICMP errors), with their ports.
			out, err := exec.Command(tshark, "-r", path, "-Y", "(tcp || udp) && !icmp && !icmpv6",
				"-T", "fields", "-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.dstport",
				"-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.length").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			want := map[int]string{}
			// A tunnel capture's UDP datagrams are the tunnel's (what they
			// carry besides TCP is ARP and neighbour discovery): its TCP
			// segments are compared.
			tunnel := strings.Contains(path, "/tunnel/")
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				f := strings.Split(sc.Text(), "\t")
				if tunnel && f[1] == "" {
					continue
				}
				n, _ := strconv.Atoi(f[0])
				if f[1] != "" {
					want[n] = f[1] + ">" + f[2]
				} else {
					ulen, _ := strconv.Atoi(f[5])
					want[n] = "udp " + f[3] + ">" + f[4] + " " + strconv.Itoa(ulen-8)
					udp++
				}
			}
			d, general, lazy := NewDecoder(), NewDecoder(), NewDecoder()
			general.noFast = true
			lazy.Lazy = true
			d.UDP, general.UDP, lazy.UDP = true, true, true
			var seg, gseg, lseg Segment
			got := map[int]string{}
			for i, fr := range readAll(t, path) {
				v := d.Decode(fr.lt, fr.data, fr.ci, &seg)
				if gv := general.Decode(fr.lt, fr.data, fr.ci, &gseg); gv != v ||
					v == TCPSegment && (seg.Src != gseg.Src || seg.Dst != gseg.Dst || seg.Net != gseg.Net || seg.Pair != gseg.Pair ||
						seg.Tunnel != gseg.Tunnel || d.Outer() != general.Outer() ||
						!bytes.Equal(seg.TCP.Payload, gseg.TCP.Payload) || seg.TCP.Seq != gseg.TCP.Seq) {
					t.Fatalf("frame %d: fast path and general path disagree", i+1)
				}
				if lv := lazy.Decode(fr.lt, fr.data, fr.ci, &lseg); lv != v ||
					v == TCPSegment && (!lazy.TCP(&lseg) || lseg.Src != seg.Src || lseg.Dst != seg.Dst || lseg.Net != seg.Net || lseg.Pair != seg.Pair ||
						lseg.Flags != seg.Flags || lseg.Payload != len(seg.TCP.Payload) || lseg.TCP.Seq != seg.TCP.Seq) {
					t.Fatalf("frame %d: lazy and eager decoding disagree", i+1)
				}
				if v == TCPSegment && seg.Pair != PairOf(seg.Dst, seg.Src) {
					t.Fatalf("frame %d: Pair is not PairOf(Dst, Src)", i+1)
				}
				if v == TCPSegment {
					got[i+1] = strconv.Itoa(int(seg.Src.Port())) + ">" + strconv.Itoa(int(seg.Dst.Port()))
				}
				if v == UDPDatagram && !tunnel {
					if seg.Pair != PairOf(seg.Dst, seg.Src) || seg.Payload != len(seg.Data) || seg.TCP != nil {
						t.Fatalf("frame %d: datagram's Pair, Payload or TCP wrong", i+1)
					}
					got[i+1] = "udp " + strconv.Itoa(int(seg.Src.Port())) + ">" + strconv.Itoa(int(seg.Dst.Port())) + " " + strconv.Itoa(len(seg.Data))
				}
			}
			compared.Add(len(want))
			for n, w := range want {
				if got[n] != w {
					t.Errorf("frame %d: got %q, tshark %q", n, got[n], w)
				}
			}
			for n, g := range got {
				if _, ok := want[n]; !ok {
					t.Errorf("frame %d: decoded as %s, tshark disagrees", n, g)
				}
			}
		})
	}
	if udp < 1000 {
		t.Errorf("only %d UDP datagrams compared", udp)
	}
}

// TestDecodeHostile: frames cut at every length never panic and never
// claim a TCP segment or UDP datagram whose payload runs past the frame.
func TestDecodeHostile(t *testing.T) {
	var frames []frame
	for _, name := range []string{"zeek/testing/btest/Traces/tls/tls1.2.pcap", "zeek/testing/btest/Traces/tls/dtls1_2.pcap"} {
		frames = append(frames, readAll(t, filepath.Join(testutil.Corpus(t), name))...)
	}
	tunnels, _ := filepath.Glob("../../testdata/pcaps/tunnel/*.pcap")
	for _, p := range tunnels {
		frames = append(frames, readAll(t, p)[:12]...) // the handshake's first frames
	}
	d := NewDecoder()
	d.UDP = true
	var seg Segment
	for _, fr := range frames {
		for n := 0; n <= len(fr.data); n++ {
			for _, lt := range []layers.LinkType{fr.lt, layers.LinkTypeRaw, layers.LinkTypeNull, layers.LinkTypeLinuxSLL2, layers.LinkTypePPP, 127, 192, 239} {
				switch d.Decode(lt, fr.data[:n], fr.ci, &seg) {
				case TCPSegment:
					if len(seg.TCP.Payload) > n {
						t.Fatalf("payload longer than frame")
					}
				case UDPDatagram:
					if len(seg.Data) > n || seg.Payload != len(seg.Data) {
						t.Fatalf("datagram longer than frame")
					}
				}
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint8(1), []byte{})
	tunnels, _ := filepath.Glob("../../testdata/pcaps/tunnel/*.pcap")
	for _, p := range tunnels {
		for _, fr := range readAll(f, p)[:8] {
			f.Add(uint8(fr.lt), fr.data)
		}
	}
	f.Fuzz(func(t *testing.T, lt uint8, data []byte) {
		d := NewDecoder()
		d.UDP = true
		var seg Segment
		got := d.Decode(layers.LinkType(lt), data, gopacket.CaptureInfo{CaptureLength: len(data), Length: len(data)}, &seg)
		flowed := got == TCPSegment || got == UDPDatagram
		if flowed && seg.Pair != PairOf(seg.Src, seg.Dst) {
			t.Fatalf("Pair %v, PairOf(%v, %v) %v", seg.Pair, seg.Src, seg.Dst, PairOf(seg.Src, seg.Dst))
		}
		if got == UDPDatagram && (len(seg.Data) != seg.Payload || len(seg.Data) > len(data)) {
			t.Fatalf("datagram payload %d bytes (Payload %d) of a %d-byte frame", len(seg.Data), seg.Payload, len(data))
		}
		if h, ok := PairHash(layers.LinkType(lt), data); ok && flowed {
			if want := HashPair(seg.Src, seg.Dst); h != want {
				t.Fatalf("PairHash %x, HashPair(%v, %v) %x", h, seg.Src, seg.Dst, want)
			}
		}
	})
}

// TestPairHash: on every frame of the repository's captures and the
// corpus's that Decode takes as a TCP segment or a UDP datagram, PairHash,
// when it handles the frame, equals HashPair of the decoded endpoints, and
// both directions of a flow hash alike; so Parallel keeps a flow on one
// worker whichever of the two computes its hash. PairHash must handle the
// common frames (Ethernet and raw IP) for the shortcut to be worth it.
func TestPairHash(t *testing.T) {
	var files []string
	for _, pat := range []string{"../../testdata/pcaps/*.pcap*", "../../testdata/pcaps/tunnel/*.pcap", filepath.Join(testutil.Corpus(t), "ja4/pcap/*.pcap*"), filepath.Join(testutil.Corpus(t), "zeek/testing/btest/Traces/tls/*.pcap*")} {
		m, _ := filepath.Glob(pat)
		for _, f := range m {
			if strings.HasSuffix(f, ".pcap") || strings.HasSuffix(f, ".pcapng") {
				files = append(files, f)
			}
		}
	}
	if len(files) < 50 {
		t.Fatalf("only %d captures found", len(files))
	}
	d := NewDecoder()
	d.UDP = true
	var seg Segment
	var tcp, fast, udp, udpFast, tunnelled int
	for _, f := range files {
		for _, fr := range readAll(t, f) {
			v := d.Decode(fr.lt, fr.data, fr.ci, &seg)
			if v != TCPSegment && v != UDPDatagram {
				if _, ok := PairHash(fr.lt, fr.data); ok && v != Fragment {
					t.Fatalf("%s: PairHash hashes a frame Decode takes as %d", f, v)
				}
				continue
			}
			if seg.Tunnel != 0 {
				if _, ok := PairHash(fr.lt, fr.data); ok {
					t.Fatalf("%s: PairHash hashes a tunnelled frame by its outer endpoints", f)
				}
				tunnelled++
				continue
			}
			if v == UDPDatagram {
				udp++
			} else {
				tcp++
			}
			want := HashPair(seg.Src, seg.Dst)
			if rev := HashPair(seg.Dst, seg.Src); rev != want {
				t.Fatalf("%s: HashPair not symmetric for %v %v", f, seg.Src, seg.Dst)
			}
			h, ok := PairHash(fr.lt, fr.data)
			if !ok {
				continue
			}
			if v == UDPDatagram {
				udpFast++
			} else {
				fast++
			}
			if h != want {
				t.Fatalf("%s: PairHash %x, HashPair(%v, %v) %x", f, h, seg.Src, seg.Dst, want)
			}
		}
	}
	t.Logf("%d captures, %d TCP segments, %d hashed from the bytes; %d UDP datagrams, %d; %d tunnelled (decoded and hashed)", len(files), tcp, fast, udp, udpFast, tunnelled)
	if fast < tcp*9/10 {
		t.Errorf("PairHash handled %d of %d TCP segments", fast, tcp)
	}
	if udp < 500 || udpFast < udp*9/10 {
		t.Errorf("PairHash handled %d of %d UDP datagrams", udpFast, udp)
	}
}

// BenchmarkPairHash compares hashing a frame's endpoints from its bytes
// with decoding it (what Parallel did before).
func BenchmarkPairHash(b *testing.B) {
	frames := readAll(b, filepath.Join(testutil.Corpus(b), "ja4/pcap/tls3.pcapng"))
	b.Run("PairHash", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			fr := frames[i%len(frames)]
			PairHash(fr.lt, fr.data)
		}
	})
	b.Run("Decode+HashPair", func(b *testing.B) {
		d := NewDecoder()
		var seg Segment
		for i := 0; i < b.N; i++ {
			fr := frames[i%len(frames)]
			if d.Decode(fr.lt, fr.data, fr.ci, &seg) == TCPSegment {
				HashPair(seg.Src, seg.Dst)
			}
		}
	})
}

// BenchmarkDecode runs over $TLSSCOPE_BENCH_PCAP (e.g. one made by
// scripts/benchcapture) or the corpus's browsing capture.
func BenchmarkDecode(b *testing.B) {
	path := os.Getenv("TLSSCOPE_BENCH_PCAP")
	if path == "" {
		path = filepath.Join(testutil.Corpus(b), "ja4/pcap/tls3.pcapng")
	}
	frames := readAll(b, path)
	var size int64
	for _, fr := range frames {
		size += int64(len(fr.data))
	}
	for _, general := range []bool{false, true} {
		name := "fast"
		if general {
			name = "general" // the baseline: gopacket's DecodingLayerParser only
		}
		b.Run(name, func(b *testing.B) {
			d := NewDecoder()
			d.noFast = general
			var seg Segment
			b.SetBytes(size / int64(len(frames)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				fr := frames[i%len(frames)]
				d.Decode(fr.lt, fr.data, fr.ci, &seg)
			}
		})
	}
}

// TestFragmentedDatagram: a real UDP datagram (a QUIC Initial of the
// corpus) cut into IPv4 fragments, in order and reversed, decodes to the
// same datagram once the last fragment is in, marked Defragmented, and to
// Fragment before.
func TestFragmentedDatagram(t *testing.T) {
	path := filepath.Join(testutil.Corpus(t), "suricata-verify/tests/ja4-quic/input.pcap")
	d := NewDecoder()
	d.UDP = true
	var seg Segment
	var ip []byte
	var want []byte
	for _, fr := range readAll(t, path) {
		if d.Decode(fr.lt, fr.data, fr.ci, &seg) == UDPDatagram && len(seg.Data) > 1000 && fr.lt == layers.LinkTypeEthernet && fr.data[14]>>4 == 4 {
			ip = fr.data[14:]
			want = append([]byte(nil), seg.Data...)
			break
		}
	}
	if ip == nil {
		t.Fatal("no IPv4 UDP datagram over 1000 bytes")
	}
	ihl := int(ip[0]&0x0f) * 4
	body := ip[ihl:]
	var frags [][]byte
	for off := 0; off < len(body); off += 400 {
		end := min(off+400, len(body))
		f := append([]byte(nil), ip[:ihl]...)
		f = append(f, body[off:end]...)
		f[2], f[3] = byte(len(f)>>8), byte(len(f))
		fo := off / 8
		if end < len(body) {
			fo |= 0x2000 // more fragments
		}
		f[6], f[7] = byte(fo>>8), byte(fo)
		f[10], f[11] = 0, 0 // the checksum is not checked
		frags = append(frags, f)
	}
	for _, order := range []string{"in order", "reversed"} {
		if order == "reversed" {
			slices.Reverse(frags)
		}
		d := NewDecoder()
		d.UDP = true
		for i, f := range frags {
			v := d.Decode(layers.LinkTypeRaw, f, gopacket.CaptureInfo{CaptureLength: len(f), Length: len(f)}, &seg)
			if i < len(frags)-1 {
				if v != Fragment {
					t.Fatalf("%s: fragment %d: verdict %d", order, i, v)
				}
				continue
			}
			if v != UDPDatagram || !seg.Defragmented || !bytes.Equal(seg.Data, want) || seg.Payload != len(want) {
				t.Fatalf("%s: last fragment: verdict %d, defragmented %v, %d bytes (want %d)", order, v, seg.Defragmented, len(seg.Data), len(want))
			}
		}
	}
	// An unfragmented datagram after it is not marked.
	whole := append([]byte(nil), ip...)
	ci := gopacket.CaptureInfo{CaptureLength: len(whole), Length: len(whole)}
	if d.Decode(layers.LinkTypeRaw, whole, ci, &seg) != UDPDatagram || seg.Defragmented {
		t.Fatal("whole datagram")
	}
	// A decoder not asked for UDP takes datagrams, whole or in
	// fragments, as NotTCP.
	plain := NewDecoder()
	if v := plain.Decode(layers.LinkTypeRaw, whole, ci, &seg); v != NotTCP {
		t.Fatalf("whole datagram without UDP: verdict %d", v)
	}
	for i, f := range frags {
		v := plain.Decode(layers.LinkTypeRaw, f, gopacket.CaptureInfo{CaptureLength: len(f), Length: len(f)}, &seg)
		if want := map[bool]Verdict{true: NotTCP, false: Fragment}[i == len(frags)-1]; v != want {
			t.Fatalf("fragment %d without UDP: verdict %d", i, v)
		}
	}
}

// vxlanWrap wraps an Ethernet frame in Ethernet, IPv4 (10.200.0.1 to
// 10.200.0.2, or back for the other direction of its inner flow), UDP to
// 4789 and a VXLAN header with VNI vni (RFC 7348, 5), as a VTEP sends it.
func vxlanWrap(inner []byte, vni uint32, back bool) []byte {
	n := 20 + 8 + 8 + len(inner)
	b := make([]byte, 0, 14+n)
	b = append(b, 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00)
	src, dst := []byte{10, 200, 0, 1}, []byte{10, 200, 0, 2}
	if back {
		src, dst = dst, src
	}
	b = append(b, 0x45, 0, byte(n>>8), byte(n), 0, 0, 0, 0, 64, 17, 0, 0)
	b = append(b, src...)
	b = append(b, dst...)
	u := 8 + 8 + len(inner)
	b = append(b, 0xc0, 0x01, 0x12, 0xb5, byte(u>>8), byte(u), 0, 0)
	b = append(b, 0x08, 0, 0, 0, byte(vni>>16), byte(vni>>8), byte(vni), 0)
	return append(b, inner...)
}

// BenchmarkDecodeVXLAN decodes the frames of $TLSSCOPE_BENCH_PCAP (or the
// corpus's browsing capture) bare and each wrapped in VXLAN, in the same
// run: the ratio of the two is what a tunnel costs per packet (the
// issue's budget: 10%).
func BenchmarkDecodeVXLAN(b *testing.B) {
	path := os.Getenv("TLSSCOPE_BENCH_PCAP")
	if path == "" {
		path = filepath.Join(testutil.Corpus(b), "ja4/pcap/tls3.pcapng")
	}
	var plain, wrapped []frame
	for _, fr := range readAll(b, path) {
		if fr.lt != layers.LinkTypeEthernet {
			continue
		}
		plain = append(plain, fr)
		w := vxlanWrap(fr.data, 42, false)
		wrapped = append(wrapped, frame{w, gopacket.CaptureInfo{Timestamp: fr.ci.Timestamp, CaptureLength: len(w), Length: len(w)}, layers.LinkTypeEthernet})
	}
	if len(plain) == 0 {
		b.Skip("no Ethernet frames")
	}
	if n, err := strconv.Atoi(os.Getenv("TLSSCOPE_BENCH_FRAMES")); err == nil && n > 0 && n < len(plain) {
		plain, wrapped = plain[:n], wrapped[:n] // a set that stays in cache: the decoding's own cost
	}
	// Interleaved: blocks of each in turn, so the shared machine's noise
	// falls on both alike; reported per packet and as the ratio.
	b.Run("ratio", func(b *testing.B) {
		d, dw := NewDecoder(), NewDecoder()
		d.Lazy, dw.Lazy = true, true
		var seg Segment
		var tPlain, tVXLAN time.Duration
		const block = 512
		for i := 0; i < b.N; i += block {
			start := i % len(plain)
			t0 := time.Now()
			for j := start; j < start+block; j++ {
				fr := plain[j%len(plain)]
				d.Decode(fr.lt, fr.data, fr.ci, &seg)
			}
			t1 := time.Now()
			for j := start; j < start+block; j++ {
				fr := wrapped[j%len(wrapped)]
				dw.Decode(fr.lt, fr.data, fr.ci, &seg)
			}
			tVXLAN += time.Since(t1)
			tPlain += t1.Sub(t0)
		}
		n := float64((b.N + block - 1) / block * block)
		b.ReportMetric(float64(tPlain.Nanoseconds())/n, "plain-ns/pkt")
		b.ReportMetric(float64(tVXLAN.Nanoseconds())/n, "vxlan-ns/pkt")
		b.ReportMetric(float64(tVXLAN)/float64(tPlain), "vxlan/plain")
	})
	for _, run := range []struct {
		name   string
		frames []frame
	}{{"plain", plain}, {"vxlan", wrapped}} {
		b.Run(run.name, func(b *testing.B) {
			d := NewDecoder()
			d.Lazy = true // as the Analyzer decodes
			var seg Segment
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				fr := run.frames[i%len(run.frames)]
				d.Decode(fr.lt, fr.data, fr.ci, &seg)
			}
		})
	}
}
