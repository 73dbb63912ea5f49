package robust

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsscope/tlsscope/capture"
)

// writeConn writes one TLS connection: handshake, a ClientHello, a
// ServerHello, FIN both ways (8 packets). mid, when set, runs after the
// ClientHello.
func writeConn(g *pcapGen, n int, mid func()) {
	k := g.open(addrN(n), server)
	k.send(false, record(ctHandshake, handshake(1, -1, clientHelloBody(nil))))
	if mid != nil {
		mid()
	}
	k.send(true, record(ctHandshake, handshake(2, -1, serverHelloBody())))
	k.close()
}

// pcapRecords returns the offset of every record of a pcap file.
func pcapRecords(t *testing.T, b []byte) []int {
	t.Helper()
	var offs []int
	for off := 24; off+16 <= len(b); {
		offs = append(offs, off)
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	return offs
}

// ngBlocks returns the offset and type of every block of a little-endian
// pcapng file.
func ngBlocks(t *testing.T, b []byte) (offs []int, types []uint32) {
	t.Helper()
	for off := 0; off+12 <= len(b); {
		offs = append(offs, off)
		types = append(types, binary.LittleEndian.Uint32(b[off:]))
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if n < 12 {
			t.Fatalf("generated pcapng has a %d-byte block at %d", n, off)
		}
		off += n
	}
	return offs, types
}

// nthEPB is the offset of the n-th (from 0) Enhanced Packet Block.
func nthEPB(t *testing.T, b []byte, n int) int {
	t.Helper()
	offs, types := ngBlocks(t, b)
	for i, typ := range types {
		if typ == 6 {
			if n == 0 {
				return offs[i]
			}
			n--
		}
	}
	t.Fatalf("no EPB %d", n)
	return 0
}

// TestCaptureDamage: damaged capture files are read as far as they can be,
// the damage is a counted anomaly (or, when nothing is readable, an error
// naming the file and what is wrong), and decoding finishes.
func TestCaptureDamage(t *testing.T) {
	good := func(g *pcapGen) { writeConn(g, 1, nil); writeConn(g, 2, nil) }
	goodPcap := func(t *testing.T, path string) []byte {
		g := newPcap(t, path)
		good(g)
		g.close()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	goodNg := func(t *testing.T, path string) []byte {
		g := newPcapng(t, path)
		good(g)
		g.close()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(t *testing.T, path string, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	le32 := binary.LittleEndian.PutUint32

	cases := []struct {
		name  string
		build func(t *testing.T, path string)
		// want: anomaly kinds of which at least one must be counted
		// (each with at least min occurrences).
		want []string
		min  uint64
		// conns: connections reported at least; hellos: ClientHellos
		// with their SNI read at least.
		conns, hellos int
		// err: the sentinel the Open or Next error must wrap (then
		// nothing else is checked but the message).
		err error
	}{
		{name: "timestamps-backwards", want: []string{capture.AnomalyTimeBackwards}, min: 3, conns: 2, hellos: 2, build: func(t *testing.T, path string) {
			g := newPcap(t, path)
			writeConn(g, 1, func() { g.ts = g.ts.Add(-time.Hour) })            // 1 step back
			writeConn(g, 2, func() { g.ts = time.Unix(0, 0) })                 // to 1970
			g.ts = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)                 // far ahead
			writeConn(g, 3, func() { g.ts = g.ts.Add(-365 * 24 * time.Hour) }) // back a year
			g.close()
		}},
		{name: "snaplen-truncated", want: []string{"packet_truncated"}, min: 4, conns: 2, build: func(t *testing.T, path string) {
			g := newPcap(t, path)
			g.snap = 80 // headers and 26 payload bytes: every hello is cut
			good(g)
			g.close()
		}},
		{name: "cut-mid-ip-header", want: []string{"malformed_packet", "packet_truncated"}, min: 3, conns: 2, hellos: 2, build: func(t *testing.T, path string) {
			g := newPcap(t, path)
			writeConn(g, 1, func() {
				f := bytes.Clone(g.frame(addrN(9), server, flagACK, 1, 1, []byte("x")))
				g.raw(gopacket.CaptureInfo{CaptureLength: 24, Length: 24}, f[:24])     // 10 bytes of IPv4 header
				g.raw(gopacket.CaptureInfo{CaptureLength: 24, Length: len(f)}, f[:24]) // the same, cut by snaplen
				f[14] = 0x4f                                                           // IHL 15: 60-byte header in a 41-byte packet
				g.raw(gopacket.CaptureInfo{CaptureLength: len(f), Length: len(f)}, f)
			})
			writeConn(g, 2, nil)
			g.close()
		}},
		{name: "pcapng-unknown-linktypes", want: []string{capture.AnomalyUnsupportedLinkType}, min: 2, conns: 2, hellos: 2, build: func(t *testing.T, path string) {
			g := newPcapng(t, path, layers.LinkType(163), 147, layers.LinkType(163)) // 802.11 under AVS headers, a private link type
			writeConn(g, 1, func() {
				for i := 1; i <= 3; i++ {
					g.raw(gopacket.CaptureInfo{Timestamp: g.ts, CaptureLength: 40, Length: 40, InterfaceIndex: i}, make([]byte, 40))
				}
			})
			writeConn(g, 2, nil)
			g.close()
		}},
		{name: "pcapng-block-length-huge", want: []string{capture.AnomalyBadBlock, capture.AnomalyTruncated, capture.AnomalyCaplenTooLarge}, min: 1, conns: 1, hellos: 1, build: func(t *testing.T, path string) {
			b := goodNg(t, path)
			le32(b[nthEPB(t, b, 10)+4:], 0xfffffff0)
			write(t, path, b)
		}},
		{name: "pcapng-block-length-unaligned", want: []string{capture.AnomalyBadBlock}, min: 1, conns: 1, hellos: 1, build: func(t *testing.T, path string) {
			b := goodNg(t, path)
			le32(b[nthEPB(t, b, 10)+4:], 103)
			write(t, path, b)
		}},
		{name: "pcapng-block-length-too-small", want: []string{capture.AnomalyBadBlock}, min: 1, conns: 1, hellos: 1, build: func(t *testing.T, path string) {
			b := goodNg(t, path)
			le32(b[nthEPB(t, b, 10)+4:], 8)
			write(t, path, b)
		}},
		{name: "pcapng-trailing-length-mismatch", want: []string{capture.AnomalyBadBlock}, min: 1, conns: 1, hellos: 1, build: func(t *testing.T, path string) {
			b := goodNg(t, path)
			off := nthEPB(t, b, 10)
			n := int(binary.LittleEndian.Uint32(b[off+4:]))
			le32(b[off+n-4:], uint32(n+4))
			write(t, path, b)
		}},
		{name: "pcapng-captured-length-over-block", want: []string{capture.AnomalyBadBlock}, min: 1, conns: 1, hellos: 1, build: func(t *testing.T, path string) {
			b := goodNg(t, path)
			le32(b[nthEPB(t, b, 10)+20:], 60000) // EPB captured packet length
			write(t, path, b)
		}},
		{name: "pcapng-first-block-damaged", err: capture.ErrNotCapture, build: func(t *testing.T, path string) {
			b := goodNg(t, path)
			le32(b[nthEPB(t, b, 0)+4:], 7)
			write(t, path, b)
		}},
		{name: "pcapng-cut-mid-block", want: []string{capture.AnomalyTruncated}, min: 1, conns: 1, hellos: 1, build: func(t *testing.T, path string) {
			b := goodNg(t, path)
			write(t, path, b[:nthEPB(t, b, 10)+30])
		}},
		{name: "pcap-cut-mid-packet", want: []string{capture.AnomalyTruncated}, min: 1, conns: 2, hellos: 2, build: func(t *testing.T, path string) {
			b := goodPcap(t, path)
			write(t, path, b[:len(b)-10])
		}},
		{name: "pcap-cut-mid-record-header", want: []string{capture.AnomalyTruncated}, min: 1, conns: 2, hellos: 2, build: func(t *testing.T, path string) {
			b := goodPcap(t, path)
			offs := pcapRecords(t, b)
			write(t, path, b[:offs[len(offs)-1]+7])
		}},
		{name: "pcap-caplen-absurd", want: []string{capture.AnomalyCaplenTooLarge}, min: 1, conns: 1, hellos: 1, build: func(t *testing.T, path string) {
			b := goodPcap(t, path)
			le32(b[pcapRecords(t, b)[10]+8:], 0x7fffffff)
			write(t, path, b)
		}},
		{name: "pcap-cut-mid-file-header", err: capture.ErrTruncated, build: func(t *testing.T, path string) {
			b := goodPcap(t, path)
			write(t, path, b[:13])
		}},
		{name: "gzip-cut-mid-stream", want: []string{capture.AnomalyTruncated}, min: 1, conns: 1, build: func(t *testing.T, path string) {
			b := goodPcap(t, path)
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(b)
			zw.Close()
			write(t, path, z.Bytes()[:z.Len()*2/3])
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name+".cap")
			tc.build(t, path)
			o := finishes(t, tc.name, func() *outcome { return runFile(path, options{}) })
			if tc.err != nil {
				err := o.openErr
				if err == nil {
					err = o.readErr
				}
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want one wrapping %v", err, tc.err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				t.Logf("error: %v", err)
				return
			}
			if o.openErr != nil || o.readErr != nil || o.writeErr != nil {
				t.Fatalf("open %v, read %v, write %v", o.openErr, o.readErr, o.writeErr)
			}
			an := o.anomalies()
			t.Logf("%d packets, %d connections, anomalies %v", o.packets, o.conns, an)
			var n uint64
			for _, k := range tc.want {
				n += an[k]
			}
			if n < tc.min {
				t.Errorf("%d of %v counted, want at least %d", n, tc.want, tc.min)
			}
			if o.conns < tc.conns {
				t.Errorf("%d connections, want at least %d", o.conns, tc.conns)
			}
			hellos := 0
			for _, c := range o.result.Captures[0].Connections {
				if c.TLS != nil && c.TLS.ClientHello != nil && c.TLS.ClientHello.ServerName == "robust.example" {
					hellos++
				}
			}
			if hellos < tc.hellos {
				t.Errorf("%d ClientHellos read, want at least %d", hellos, tc.hellos)
			}
		})
	}
}
