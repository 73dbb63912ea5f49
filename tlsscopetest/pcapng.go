package tlsscopetest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsscope/tlsscope/capture"
)

// MSS is the largest TCP payload of a synthetic segment: a recorded Read
// or Write is cut into segments of at most MSS bytes (and never joined
// with another), as an Ethernet-sized loopback would carry it.
const MSS = 1460

// windowScale is the window scale both ends announce (RFC 7323, 2.2), so
// that the 65535 window means 8 MiB and a large write does not look like
// a full window to tshark.
const windowScale = 7

// Names WriteFiles gives its files.
const (
	PcapngFile = "traffic.pcapng"
	KeyLogFile = "keys.log"
	RootsFile  = "roots.pem"
)

// WritePcapng writes what is recorded so far as a pcapng of raw IP
// packets (LINKTYPE_RAW), its key log first as a Decryption Secrets Block
// (Wireshark and tshark decrypt with it). Connections still open are
// written as far as they got, without a FIN.
func (r *Recorder) WritePcapng(w io.Writer) error {
	r.mu.Lock()
	evs := append([]event(nil), r.events...)
	keylog := r.keylog[:len(r.keylog):len(r.keylog)]
	r.mu.Unlock()

	pw, err := capture.NewPcapngWriter(w, layers.LinkTypeRaw, 0)
	if err != nil {
		return err
	}
	if len(keylog) > 0 {
		if err := pw.WriteKeyLog(keylog); err != nil {
			return err
		}
	}
	sy := synth{flows: map[*stream]*flow{}, buf: gopacket.NewSerializeBuffer()}
	sy.emit = func(t time.Time, pkt []byte) error {
		ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(pkt), Length: len(pkt)}
		return pw.Write(capture.Packet{Data: pkt, Info: ci, LinkType: layers.LinkTypeRaw})
	}
	for _, ev := range evs {
		if err := sy.event(ev); err != nil {
			return fmt.Errorf("writing pcapng: %w", err)
		}
	}
	if err := pw.Flush(); err != nil {
		return fmt.Errorf("writing pcapng: %w", err)
	}
	return nil
}

// WriteFiles writes the recording into dir (created if need be) as
// PcapngFile, the key log (when there is one) as KeyLogFile in the NSS
// key log format, and the certificates given to Trust (when there are
// any) as RootsFile: `tlsscope --ca-file dir/roots.pem -r
// dir/traffic.pcapng` judges as Result does, and `tshark -r
// dir/traffic.pcapng -o tls.keylog_file:dir/keys.log` decrypts (the
// pcapng's own copy of the key log is enough for Wireshark 3 and later).
func (r *Recorder) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, PcapngFile))
	if err != nil {
		return err
	}
	err = r.WritePcapng(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	r.mu.Lock()
	keylog := r.keylog[:len(r.keylog):len(r.keylog)]
	trusted := slices.Clone(r.trusted)
	r.mu.Unlock()
	if len(keylog) > 0 {
		if err := os.WriteFile(filepath.Join(dir, KeyLogFile), keylog, 0o600); err != nil {
			return err
		}
	}
	if len(trusted) > 0 {
		return os.WriteFile(filepath.Join(dir, RootsFile), rootsPEM(trusted), 0o644)
	}
	return nil
}

// synth turns events into packets.
type synth struct {
	flows map[*stream]*flow
	buf   gopacket.SerializeBuffer
	last  time.Time
	emit  func(time.Time, []byte) error
}

// flow is one stream's TCP state while it is written.
type flow struct {
	s    *stream
	next [2]uint32 // next sequence number, per direction
	ipID [2]uint16
}

func (sy *synth) event(ev event) error {
	t := ev.t
	if t.Before(sy.last) { // the wall clock stepped back
		t = sy.last
	}
	sy.last = t
	f := sy.flows[ev.s]
	if ev.kind == eventSYN {
		// Initial sequence numbers derived from the stream's number, so
		// the same recording gives the same file.
		isn := uint32(ev.s.id) * 0x9e3779b9
		f = &flow{s: ev.s, next: [2]uint32{isn, isn ^ 0x5bd1e995}}
		sy.flows[ev.s] = f
		if err := sy.packet(t, f, toServer, tcpSYN, nil); err != nil {
			return err
		}
		f.next[toServer]++
		if err := sy.packet(t, f, toClient, tcpSYN|tcpACK, nil); err != nil {
			return err
		}
		f.next[toClient]++
		return sy.packet(t, f, toServer, tcpACK, nil)
	}
	if f == nil {
		return fmt.Errorf("event for stream %d before its SYN", ev.s.id)
	}
	d := ev.dir
	f.next[d] += uint32(ev.skip) // bytes lost to the cap: a gap in the sequence space
	switch ev.kind {
	case eventData:
		for b := ev.data; len(b) > 0; {
			n := min(len(b), MSS)
			flags := tcpACK
			if n == len(b) {
				flags |= tcpPSH
			}
			if err := sy.packet(t, f, d, flags, b[:n]); err != nil {
				return err
			}
			f.next[d] += uint32(n)
			b = b[n:]
		}
		if len(ev.data) == 0 {
			return nil
		}
		return sy.packet(t, f, 1-d, tcpACK, nil)
	case eventFIN:
		if err := sy.packet(t, f, d, tcpFIN|tcpACK, nil); err != nil {
			return err
		}
		f.next[d]++
		return sy.packet(t, f, 1-d, tcpACK, nil)
	}
	return nil
}

type tcpFlags uint8

const (
	tcpFIN tcpFlags = 1 << iota
	tcpSYN
	tcpPSH
	tcpACK
)

// packet serialises one segment of f from direction d.
func (sy *synth) packet(t time.Time, f *flow, d uint8, flags tcpFlags, payload []byte) error {
	src, dst := f.s.client, f.s.server
	if d == toClient {
		src, dst = dst, src
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()),
		DstPort: layers.TCPPort(dst.Port()),
		Seq:     f.next[d],
		Window:  65535,
		FIN:     flags&tcpFIN != 0,
		SYN:     flags&tcpSYN != 0,
		PSH:     flags&tcpPSH != 0,
		ACK:     flags&tcpACK != 0,
	}
	if tcp.ACK {
		tcp.Ack = f.next[1-d]
	}
	if tcp.SYN {
		// RFC 9293, 3.7.1 (MSS) and RFC 7323, 2.2 (window scale).
		tcp.Options = []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{MSS >> 8, MSS & 0xff}},
			{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
			{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{windowScale}},
		}
	}
	var ip gopacket.SerializableLayer
	if src.Addr().Is4() && dst.Addr().Is4() {
		ip4 := &layers.IPv4{
			Version:  4,
			IHL:      5,
			TTL:      64,
			Flags:    layers.IPv4DontFragment,
			Id:       f.ipID[d],
			Protocol: layers.IPProtocolTCP,
			SrcIP:    src.Addr().AsSlice(),
			DstIP:    dst.Addr().AsSlice(),
		}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		s16, d16 := src.Addr().As16(), dst.Addr().As16()
		ip6 := &layers.IPv6{
			Version:    6,
			HopLimit:   64,
			NextHeader: layers.IPProtocolTCP,
			SrcIP:      s16[:],
			DstIP:      d16[:],
		}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	}
	f.ipID[d]++
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(sy.buf, opts, ip, tcp, gopacket.Payload(payload)); err != nil {
		return err
	}
	return sy.emit(t, sy.buf.Bytes())
}
