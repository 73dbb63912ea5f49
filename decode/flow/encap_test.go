package flow

import (
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsscope/tlsscope/capture"
)

func tunnelFrames(t testing.TB, name string) []frame {
	return readAll(t, filepath.Join("../../testdata/pcaps/tunnel", name+".pcap"))
}

// TestTunnelKeysApart: a TCP segment of the VXLAN capture and the same
// frame with another VNI (or, in the GRE capture, another key) are the
// same inner endpoints (Pair) but two flows (Key, and the reassembler's
// Net); both directions of one tunnel are one flow; a bare segment's Key
// is KeyOf's.
func TestTunnelKeysApart(t *testing.T) {
	for _, c := range []struct {
		capture string
		at      int // the offset of the identifier's low byte
		encap   EncapKind
	}{
		{"vxlan", 14 + 20 + 8 + 6, EncapVXLAN},
		{"gre-synthetic", 14 + 20 + 4 + 3, EncapGRE},
		{"pppoe-synthetic", 14 + 3, EncapPPPoE},
	} {
		d := NewDecoder()
		var seg Segment
		keys, pairs := map[Key]bool{}, map[Pair]bool{}
		var fwd, back Segment
		n := 0
		for _, fr := range tunnelFrames(t, c.capture) {
			if d.Decode(fr.lt, fr.data, fr.ci, &seg) != TCPSegment || seg.Defragmented {
				continue
			}
			if e := d.Encapsulation(); len(e) == 0 || e[len(e)-1].Kind != c.encap {
				t.Fatalf("%s: encapsulation %v", c.capture, e)
			}
			n++
			keys[seg.Key(TCP)], pairs[seg.Pair] = true, true
			if fwd.Tunnel == 0 {
				fwd = seg
			} else if seg.Pair == fwd.Pair && seg.Src != fwd.Src {
				back = seg
			}
			other := append([]byte(nil), fr.data...)
			other[c.at]++
			var seg2 Segment
			if v := d.Decode(fr.lt, other, gopacket.CaptureInfo{CaptureLength: len(other), Length: len(other)}, &seg2); v != TCPSegment {
				t.Fatalf("%s: the rewrapped frame: verdict %d", c.capture, v)
			}
			if seg2.Pair != seg.Pair || seg2.Key(TCP) == seg.Key(TCP) || seg2.Tunnel == 0 || seg2.Net == seg.Net && !d.Lazy {
				t.Fatalf("%s: another identifier: Pair %v/%v, Key equal %v", c.capture, seg.Pair, seg2.Pair, seg2.Key(TCP) == seg.Key(TCP))
			}
		}
		if n < 8 || back.Tunnel == 0 {
			t.Fatalf("%s: %d segments, a reply seen %v", c.capture, n, back.Tunnel != 0)
		}
		if back.Key(TCP) != fwd.Key(TCP) || back.Key(TCP).Tunnel() != fwd.Tunnel || back.Key(TCP).Transport() != TCP {
			t.Errorf("%s: the two directions are two flows", c.capture)
		}
		if len(keys) != len(pairs) || len(keys) < 2 { // one tunnel: a key per connection
			t.Errorf("%s: %d keys for %d connections", c.capture, len(keys), len(pairs))
		}
	}
	// Bare: the key is KeyOf's, no tunnel.
	d := NewDecoder()
	var seg Segment
	var inner []byte
	for _, fr := range tunnelFrames(t, "gretap-synthetic") {
		if d.Decode(fr.lt, fr.data, fr.ci, &seg) == TCPSegment {
			inner = fr.data[14+20+8:] // Ethernet, IPv4, GRE with a key
			break
		}
	}
	if d.Decode(layers.LinkTypeEthernet, inner, gopacket.CaptureInfo{CaptureLength: len(inner), Length: len(inner)}, &seg) != TCPSegment ||
		seg.Tunnel != 0 || seg.Key(TCP) != KeyOf(TCP, seg.Pair) || d.Outer() != "" {
		t.Errorf("bare inner frame: tunnel %x, outer %q", seg.Tunnel, d.Outer())
	}
}

// TestEncapsulationDepthCapped: a TCP segment in more IPv4-in-IPv4 headers
// than MaxEncapsulations is malformed and says why; one within it decodes.
func TestEncapsulationDepthCapped(t *testing.T) {
	var ip []byte
	for _, fr := range tunnelFrames(t, "ip-in-ip4-synthetic") {
		if ip = fr.data[14:]; ip[9] == 4 && ip[20+9] == 6 {
			break
		}
	}
	inner := ip[20:]
	if ip[9] != 4 || inner[9] != 6 {
		t.Fatal("no TCP in IPv4 in IPv4")
	}
	wrap := func(n int) []byte {
		p := append([]byte(nil), inner...)
		for range n {
			h := append([]byte(nil), ip[:20]...)
			total := 20 + len(p)
			h[2], h[3] = byte(total>>8), byte(total)
			p = append(h, p...)
		}
		return p
	}
	d := NewDecoder()
	var seg Segment
	for _, c := range []struct {
		n    int
		want Verdict
	}{{MaxEncapsulations, TCPSegment}, {MaxEncapsulations + 1, Malformed}} {
		p := wrap(c.n) // each added header wraps what follows
		if v := d.Decode(layers.LinkTypeRaw, p, gopacket.CaptureInfo{CaptureLength: len(p), Length: len(p)}, &seg); v != c.want || d.EncapsulationTooDeep() != (c.want == Malformed) {
			t.Errorf("%d encapsulations: verdict %d, too deep %v", c.n, v, d.EncapsulationTooDeep())
		}
	}
	// An MPLS label stack of maxMPLSLabels labels decodes, one more is
	// the same cap; an NFLOG frame with maxNFLOGTLVs TLVs before its
	// packet is cut off by its own.
	var mplsFrame, nflogFrame []byte
	for _, fr := range tunnelFrames(t, "mpls-synthetic") {
		if d.Decode(fr.lt, fr.data, fr.ci, &seg) == TCPSegment {
			mplsFrame = fr.data
			break
		}
	}
	for _, fr := range tunnelFrames(t, "nflog-synthetic") {
		if d.Decode(fr.lt, fr.data, fr.ci, &seg) == TCPSegment {
			nflogFrame = fr.data
			break
		}
	}
	labels := func(n int) []byte {
		b := append([]byte(nil), mplsFrame[:14]...)
		for i := range n {
			e := []byte{0, 0x01, 0x00, 64}
			if i == n-1 {
				e[2] |= 0x01 // bottom of stack
			}
			b = append(b, e...)
		}
		return append(b, mplsFrame[14+8:]...)
	}
	tlvs := func(n int) []byte {
		b := append([]byte(nil), nflogFrame[:4]...)
		for range n {
			b = append(b, 8, 0, 10, 0, 't', 'l', 's', 0) // NFULA_PREFIX
		}
		return append(b, nflogFrame[4+8+8:]...) // its PACKET_HDR and PREFIX replaced
	}
	for _, c := range []struct {
		name   string
		lt     layers.LinkType
		frame  []byte
		want   Verdict
		capped string
	}{
		{"MPLS at the cap", layers.LinkTypeEthernet, labels(maxMPLSLabels), TCPSegment, ""},
		{"MPLS past it", layers.LinkTypeEthernet, labels(maxMPLSLabels + 1), Malformed, AnomalyEncapsulationDepth},
		{"NFLOG at the cap", linkTypeNFLOG, tlvs(maxNFLOGTLVs - 1), TCPSegment, ""},
		{"NFLOG past it", linkTypeNFLOG, tlvs(maxNFLOGTLVs), Malformed, AnomalyNFLOGTLVs},
	} {
		if v := d.Decode(c.lt, c.frame, gopacket.CaptureInfo{CaptureLength: len(c.frame), Length: len(c.frame)}, &seg); v != c.want || d.Capped() != c.capped {
			t.Errorf("%s: verdict %d, capped %q", c.name, v, d.Capped())
		}
	}
}

// TestDot11OnlyDataFrames: of 802.11 frames under radiotap, a data frame
// with LLC/SNAP is its packet; the same frame protected (encrypted), as a
// management frame or as a null data frame carries none (NotIP, not an
// error), nor does one whose LLC header is not SNAP.
func TestDot11OnlyDataFrames(t *testing.T) {
	var frame []byte
	d := NewDecoder()
	var seg Segment
	for _, fr := range tunnelFrames(t, "radiotap-synthetic") {
		if d.Decode(fr.lt, fr.data, fr.ci, &seg) == TCPSegment {
			frame = fr.data
			break
		}
	}
	if frame == nil {
		t.Fatal("no TCP segment in the radiotap capture")
	}
	const rt = 12 // the capture's radiotap header length
	for _, c := range []struct {
		name string
		edit func(b []byte)
		want Verdict
	}{
		{"data", func([]byte) {}, TCPSegment},
		{"protected", func(b []byte) { b[rt+1] |= 0x40 }, NotIP},
		{"beacon", func(b []byte) { b[rt] = 0x80 }, NotIP},
		{"QoS null", func(b []byte) { b[rt] = 0xc8 }, NotIP},
		{"not SNAP", func(b []byte) { b[rt+26] = 0x42 }, NotIP},
	} {
		b := append([]byte(nil), frame...)
		c.edit(b)
		if v := d.Decode(linkTypeRadiotap, b, gopacket.CaptureInfo{CaptureLength: len(b), Length: len(b)}, &seg); v != c.want {
			t.Errorf("%s: verdict %d, want %d", c.name, v, c.want)
		}
	}
}

// TestLinkTypesAgree: capture opens the files of exactly the link types
// the Decoder decodes (capture cannot import decode: it keeps its own
// list).
func TestLinkTypesAgree(t *testing.T) {
	d := NewDecoder()
	n := 0
	for lt := range layers.LinkType(300) {
		if d.Supported(lt) != capture.SupportedLinkType(lt) {
			t.Errorf("link type %d: decode %v, capture %v", lt, d.Supported(lt), capture.SupportedLinkType(lt))
		}
		if d.Supported(lt) {
			n++
		}
	}
	if n < 15 {
		t.Errorf("%d link types supported", n)
	}
}
