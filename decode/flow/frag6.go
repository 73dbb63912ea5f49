package flow

// IPv6 fragment reassembly (RFC 8200, 4.5): gopacket has none, and its
// IPv6ExtensionSkipper would read a fragment's bytes as the header that
// follows (a first fragment's TCP header with a part of its payload, a
// later fragment's data as a TCP header).

import (
	"errors"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/crypto/cryptobyte"
)

var errBadFragment = errors.New("bad IPv6 fragment")

// Limits of IPv6 reassembly.
const (
	// maxIPv6FragmentDatagrams caps the datagrams held incomplete; past
	// it the oldest is dropped (AnomalyIPv6FragmentsDropped).
	maxIPv6FragmentDatagrams = 1024
	// ipv6FragmentTimeout is RFC 8200's reassembly time (4.5: 60
	// seconds), in capture time; a datagram still incomplete then is
	// dropped (AnomalyIPv6FragmentsDropped).
	ipv6FragmentTimeout = 60 * time.Second
	// maxIPv6Datagram is the largest fragmentable part a datagram may
	// have (the payload length field's range).
	maxIPv6Datagram = 65535
)

// AnomalyIPv6FragmentsDropped names an incomplete IPv6 datagram whose
// fragments were dropped, at the cap or the timeout.
const AnomalyIPv6FragmentsDropped = "ipv6_fragments_dropped"

type frag6Key struct {
	src, dst [16]byte
	id       uint32
}

type frag6Part struct {
	off  int
	data []byte // a copy: the frame's bytes are reused
}

type frag6Datagram struct {
	parts []frag6Part
	first time.Time
	total int   // the fragmentable part's length, -1 until the last fragment is in
	next  uint8 // the first fragment's next header
}

type defrag6 struct {
	held  map[frag6Key]*frag6Datagram
	order []frag6Key // oldest first; may name datagrams already done
}

// fragment6 takes an IPv6 Fragment header and what follows it, of the IPv6
// packet d.ip6. It returns the next header and the datagram's fragmentable
// part when this fragment completes it (or is an atomic fragment, RFC
// 6946), held true when it is kept until the datagram is whole.
func (d *Decoder) fragment6(b []byte) (next gopacket.LayerType, payload []byte, held bool, err error) {
	s := cryptobyte.String(b)
	var nh, reserved uint8
	var offFlags uint16
	var id uint32
	if !s.ReadUint8(&nh) || !s.ReadUint8(&reserved) || !s.ReadUint16(&offFlags) || !s.ReadUint32(&id) {
		d.SetTruncated()
		return 0, nil, false, errShort
	}
	off, more := int(offFlags>>3)*8, offFlags&1 != 0
	d.ip6ext.NextHeader = layers.IPProtocol(nh)
	d.decoded = append(d.decoded, layers.LayerTypeIPv6Fragment)
	if off == 0 && !more { // atomic
		return d.ip6ext.NextHeader.LayerType(), []byte(s), false, nil
	}
	data := []byte(s)
	if more && len(data)%8 != 0 || off+len(data) > maxIPv6Datagram {
		return 0, nil, false, errBadFragment // RFC 8200, 4.5: a parameter problem
	}
	f := &d.frag6
	if f.held == nil {
		f.held = map[frag6Key]*frag6Datagram{}
	}
	d.expire6()
	var k frag6Key
	copy(k.src[:], d.ip6.SrcIP)
	copy(k.dst[:], d.ip6.DstIP)
	k.id = id
	d.frag, d.fragSet = FragmentKey{Src: k.src, Dst: k.dst, ID: id, Proto: 44}, true
	dg := f.held[k]
	if dg == nil {
		if len(f.held) >= maxIPv6FragmentDatagrams {
			d.dropOldest6()
		}
		if len(f.order) > 2*maxIPv6FragmentDatagrams { // done ones behind a slow one
			f.order = slices.DeleteFunc(f.order, func(k frag6Key) bool { return f.held[k] == nil })
		}
		dg = &frag6Datagram{first: d.now, total: -1}
		f.held[k] = dg
		f.order = append(f.order, k)
	}
	dg.parts = append(dg.parts, frag6Part{off: off, data: append([]byte(nil), data...)})
	if off == 0 {
		dg.next = nh
	}
	if !more {
		dg.total = off + len(data)
	}
	whole, ok, bad := dg.assemble()
	if bad { // overlapping fragments: RFC 8200, 4.5 (RFC 5722) discards the datagram
		delete(f.held, k)
		return 0, nil, false, errBadFragment
	}
	if !ok {
		return 0, nil, true, nil
	}
	delete(f.held, k)
	d.ip6ext.NextHeader = layers.IPProtocol(dg.next)
	d.defragmented6 = true
	return d.ip6ext.NextHeader.LayerType(), whole, false, nil
}

// assemble returns the datagram's fragmentable part once every byte of it
// is in; bad says fragments overlap.
func (dg *frag6Datagram) assemble() (whole []byte, ok, bad bool) {
	if dg.total < 0 {
		return nil, false, false
	}
	slices.SortFunc(dg.parts, func(a, b frag6Part) int { return a.off - b.off })
	at := 0
	for _, p := range dg.parts {
		if p.off < at {
			return nil, false, true
		}
		if p.off > at {
			return nil, false, false
		}
		at = p.off + len(p.data)
	}
	if at != dg.total {
		return nil, false, at > dg.total
	}
	whole = make([]byte, 0, dg.total)
	for _, p := range dg.parts {
		whole = append(whole, p.data...)
	}
	return whole, true, false
}

// expire6 drops the datagrams held past the reassembly time.
func (d *Decoder) expire6() {
	f := &d.frag6
	for len(f.order) > 0 {
		dg := f.held[f.order[0]]
		if dg != nil && d.now.Sub(dg.first) < ipv6FragmentTimeout {
			return
		}
		if dg != nil {
			delete(f.held, f.order[0])
			d.capped = AnomalyIPv6FragmentsDropped
		}
		f.order = f.order[1:]
	}
}

// dropOldest6 drops the oldest datagram held, at the cap.
func (d *Decoder) dropOldest6() {
	f := &d.frag6
	for len(f.order) > 0 {
		k := f.order[0]
		f.order = f.order[1:]
		if f.held[k] != nil {
			delete(f.held, k)
			d.capped = AnomalyIPv6FragmentsDropped
			return
		}
	}
}
