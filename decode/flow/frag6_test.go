package flow

import (
	"bytes"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// cut6 cuts an IPv6 packet (without extension headers) into
// fragments of at most size bytes of fragmentable part each (RFC 8200,
// 4.5), identification id.
func cut6(ip []byte, size int, id uint32) [][]byte {
	body := ip[40:]
	var out [][]byte
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		f := append([]byte(nil), ip[:40]...)
		f[6] = 44 // Fragment
		plen := 8 + end - off
		f[4], f[5] = byte(plen>>8), byte(plen)
		of := uint16(off/8) << 3
		if end < len(body) {
			of |= 1 // more fragments
		}
		f = append(f, ip[6], 0, byte(of>>8), byte(of), byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
		out = append(out, append(f, body[off:end]...))
	}
	return out
}

// TestIPv6FragmentsReassembled: every IPv6 TCP segment with data of a
// tunnel capture (the VXLAN capture's frames in GRE), cut into fragments, in order and reversed, decodes to
// the same segment once the last fragment is in (Defragmented), and each
// fragment before it is held (Fragment) under one FragmentKey; an atomic
// fragment (offset 0, no more) is the segment at once; overlapping
// fragments are malformed.
func TestIPv6FragmentsReassembled(t *testing.T) {
	d := NewDecoder()
	var seg Segment
	var packets [][]byte
	for _, fr := range tunnelFrames(t, "gretap-synthetic") {
		if d.Decode(fr.lt, fr.data, fr.ci, &seg) == TCPSegment && seg.Src.Addr().Is6() && seg.Payload > 100 {
			inner := fr.data[14+20+8+14:] // Ethernet, IPv4, GRE with a key, Ethernet
			packets = append(packets, append([]byte(nil), inner[:40+int(inner[4])<<8|int(inner[5])]...))
		}
	}
	if len(packets) < 4 {
		t.Fatalf("%d IPv6 segments with data", len(packets))
	}
	ci := func(b []byte) gopacket.CaptureInfo {
		return gopacket.CaptureInfo{CaptureLength: len(b), Length: len(b)}
	}
	compared := 0
	for i, ip := range packets {
		want := NewDecoder()
		var wseg Segment
		if want.Decode(layers.LinkTypeRaw, ip, ci(ip), &wseg) != TCPSegment {
			t.Fatalf("packet %d: not a segment bare", i)
		}
		wantPayload := append([]byte(nil), wseg.TCP.Payload...)
		for _, reversed := range []bool{false, true} {
			frags := cut6(ip, 64, uint32(1000+i))
			if reversed {
				slices.Reverse(frags)
			}
			for j, f := range frags {
				v := d.Decode(layers.LinkTypeRaw, f, ci(f), &seg)
				k, isFrag := d.Fragment()
				if !isFrag || k.Proto != 44 || k.ID != uint32(1000+i) {
					t.Fatalf("packet %d fragment %d: key %v %v", i, j, k, isFrag)
				}
				if j < len(frags)-1 {
					if v != Fragment {
						t.Fatalf("packet %d fragment %d: verdict %d", i, j, v)
					}
					continue
				}
				if v != TCPSegment || !seg.Defragmented || seg.Src != wseg.Src || seg.Dst != wseg.Dst || seg.TCP.Seq != wseg.TCP.Seq ||
					!bytes.Equal(seg.TCP.Payload, wantPayload) {
					t.Fatalf("packet %d (reversed %v): last fragment: verdict %d, defragmented %v", i, reversed, v, seg.Defragmented)
				}
				compared++
			}
		}
	}
	// Atomic: offset 0, no more fragments.
	atomic := cut6(packets[0], 65535, 7)[0]
	if v := d.Decode(layers.LinkTypeRaw, atomic, ci(atomic), &seg); v != TCPSegment || seg.Defragmented {
		t.Errorf("atomic fragment: verdict %d", v)
	}
	// Overlapping: the second fragment again, moved back 8 bytes.
	frags := cut6(packets[0], 64, 8)
	over := append([]byte(nil), frags[1]...)
	over[42], over[43] = 0, 8<<3|1 // offset 8
	d.Decode(layers.LinkTypeRaw, frags[0], ci(frags[0]), &seg)
	if v := d.Decode(layers.LinkTypeRaw, over, ci(over), &seg); v != Fragment {
		t.Fatalf("overlap, first: %d", v)
	}
	for _, f := range frags[1:] {
		d.Decode(layers.LinkTypeRaw, f, ci(f), &seg)
	}
	if seg.Defragmented {
		t.Error("overlapping fragments reassembled")
	}
	if compared < 8 {
		t.Errorf("%d reassemblies compared", compared)
	}
}
