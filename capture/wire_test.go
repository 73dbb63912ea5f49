package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
)

// hugeCaplen is a captured length that an int of 32 bits holds as -8: the
// record header lengths are uint32 on the wire (pcap-savefile(5)).
const hugeCaplen = 0xFFFFFFF8

// tinyPcap is a 60-byte pcap file, built field by field: the 24-byte file
// header (Ethernet, snap length 65535), then one 16-byte record header
// claiming caplen captured bytes, then 20 bytes of the packet.
func tinyPcap(order binary.AppendByteOrder, caplen uint32) []byte {
	var b []byte
	b = order.AppendUint32(b, 0xa1b2c3d4) // magic: microseconds
	b = order.AppendUint16(b, 2)          // version_major
	b = order.AppendUint16(b, 4)          // version_minor
	b = order.AppendUint32(b, 0)          // thiszone
	b = order.AppendUint32(b, 0)          // sigfigs
	b = order.AppendUint32(b, 65535)      // snaplen
	b = order.AppendUint32(b, 1)          // linktype: LINKTYPE_ETHERNET
	b = order.AppendUint32(b, 1700000000) // ts_sec
	b = order.AppendUint32(b, 0)          // ts_usec
	b = order.AppendUint32(b, caplen)     // incl_len
	b = order.AppendUint32(b, 60)         // orig_len
	b = append(b, make([]byte, 20)...)    // 20 bytes of the packet
	return b
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// readAs reads b to the end as readToEnd does, its records read in place,
// through pcapgo, or gzip'd (through pcapgo too).
func readAs(t *testing.T, how string, b []byte) (int, error, []capture.Anomaly) {
	t.Helper()
	switch how {
	case "pcapgo":
		defer capture.PcapgoRecords()()
	case "gzip":
		b = gzipped(t, b)
	}
	return readToEnd(t, b)
}

// readToEnd opens b and reads it to the end, returning Next's last error
// and the anomalies.
func readToEnd(t *testing.T, b []byte) (int, error, []capture.Anomaly) {
	t.Helper()
	f, err := capture.NewReader(bytes.NewReader(b), "huge.pcap")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var an []capture.Anomaly
	f.OnAnomaly = func(a capture.Anomaly) { an = append(an, a) }
	n := 0
	for {
		if _, err := f.Next(); err != nil {
			return n, err, an
		}
		n++
	}
}

// TestHugeCaplenIsACaptureError: a 60-byte pcap whose only record claims
// 0xFFFFFFF8 captured bytes has no readable packet, and says so with a
// *capture.Error (not a panic, not an empty capture) on every platform:
// the length is range-checked as the uint32 it is before it becomes an
// int, which on 386 would be -8. Each way of reading records is tried: in
// place, through pcapgo, and gzip'd, in both byte orders.
func TestHugeCaplenIsACaptureError(t *testing.T) {
	checked := 0
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		raw := tinyPcap(order, hugeCaplen)
		if len(raw) != 60 {
			t.Fatalf("the pcap is %d bytes, not 60", len(raw))
		}
		for _, how := range []string{"in place", "pcapgo", "gzip"} {
			n, err, an := readAs(t, how, raw)
			var ce *capture.Error
			if n != 0 || !errors.As(err, &ce) || !errors.Is(err, capture.ErrNotCapture) || len(an) != 0 {
				t.Errorf("%v, %s: %d packets, error %v, anomalies %v; want a *capture.Error (ErrNotCapture) and nothing else", order, how, n, err, an)
				continue
			}
			// The message gives the length as the file has it, the same
			// on 32 and 64 bits.
			if !strings.Contains(ce.Error(), "huge.pcap: has no readable packets: packet record 1 claims "+strconv.FormatUint(hugeCaplen, 10)+" captured bytes") {
				t.Errorf("%v, %s: message %q", order, how, ce)
			}
			checked++
		}
	}
	if checked != 6 {
		t.Fatalf("%d of 6 readings checked", checked)
	}
}

// TestHugeCaplenAfterAPacket: the same record after a good one ends
// reading with capture_caplen_too_large after that packet, and the good
// packet is delivered.
func TestHugeCaplenAfterAPacket(t *testing.T) {
	good := tinyPcap(binary.LittleEndian, 20)
	// A second record: the first's header and data again, claiming more.
	second := bytes.Clone(good[24:])
	binary.LittleEndian.PutUint32(second[8:], hugeCaplen)
	b := append(bytes.Clone(good), second...)
	for _, how := range []string{"in place", "pcapgo", "gzip"} {
		n, err, an := readAs(t, how, b)
		if n != 1 || err != io.EOF || len(an) != 1 || an[0].Kind != capture.AnomalyCaplenTooLarge || an[0].Offset != 60 ||
			!strings.Contains(an[0].Detail, "packet record 2 claims 4294967288 captured bytes") {
			t.Errorf("%s: %d packets, end %v, anomalies %+v; want 1, io.EOF and capture_caplen_too_large at 60", how, n, err, an)
		}
	}
}

// TestHugeOrigLen: an original length of 2 GiB or more is reported as the
// file has it, and is a length no int turns negative.
func TestHugeOrigLen(t *testing.T) {
	b := tinyPcap(binary.LittleEndian, 20)
	binary.LittleEndian.PutUint32(b[36:], 0xFFFFFFF0)
	for _, how := range []string{"in place", "pcapgo"} {
		func() {
			if how == "pcapgo" {
				defer capture.PcapgoRecords()()
			}
			f, err := capture.NewReader(bytes.NewReader(b), "x.pcap")
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.Next()
			if err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			// MaxInt where int has 32 bits; the length itself on 64.
			want := uint64(0xFFFFFFF0)
			if strconv.IntSize == 32 {
				want = 1<<31 - 1
			}
			if p.Info.CaptureLength != 20 || uint64(p.Info.Length) != want {
				t.Errorf("%s: caplen %d, length %d, want 20 and %d", how, p.Info.CaptureLength, p.Info.Length, want)
			}
		}()
	}
}

// ngWithPacket is a little-endian pcapng file built field by field: a
// Section Header Block (length 28, byte-order magic, version 1.0, section
// length -1), an Interface Description Block (Ethernet, snap length
// 65535), and an Enhanced Packet Block (draft-ietf-opsawg-pcapng, 4.3) of
// 20 data bytes whose lengths say blockLen and caplen.
func ngWithPacket(blockLen, caplen uint32) []byte {
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint32(b, 0x0a0d0d0a)
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, 0x1a2b3c4d)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, 0xFFFFFFFFFFFFFFFF)
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 20)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, 65535)
	b = le.AppendUint32(b, 20)
	b = le.AppendUint32(b, 6)        // block type
	b = le.AppendUint32(b, blockLen) // block total length
	b = le.AppendUint32(b, 0)        // interface 0
	b = le.AppendUint32(b, 0)        // timestamp (upper)
	b = le.AppendUint32(b, 0)        // timestamp (lower)
	b = le.AppendUint32(b, caplen)   // captured packet length
	b = le.AppendUint32(b, 20)       // original packet length
	b = append(b, make([]byte, 20)...)
	b = le.AppendUint32(b, blockLen)
	return b
}

// TestHugePcapngCaplen: the pcapng counterpart, an Enhanced Packet Block
// claiming 0xFFFFFFF8 captured bytes as the first packet, is a
// *capture.Error too: in a whole block, and in a block that claims more
// than the file holds (which pcapgo reads unvetted; it used to take the
// length and read the rest of the file as the packet on amd64, and fail
// on 386).
func TestHugePcapngCaplen(t *testing.T) {
	for _, blockLen := range []uint32{52, 200000} {
		n, err, an := readToEnd(t, ngWithPacket(blockLen, hugeCaplen))
		var ce *capture.Error
		if n != 0 || !errors.As(err, &ce) || !errors.Is(err, capture.ErrNotCapture) || len(an) != 0 || !strings.Contains(err.Error(), "4294967288") {
			t.Errorf("block of %d: %d packets, error %v, anomalies %v; want a *capture.Error naming 4294967288", blockLen, n, err, an)
		}
	}
	// A block longer than the file with a captured length it can hold is
	// a file cut short.
	n, err, an := readToEnd(t, ngWithPacket(200000, 20))
	if n != 0 || err != io.EOF || len(an) != 1 || an[0].Kind != capture.AnomalyTruncated {
		t.Errorf("cut block: %d packets, end %v, anomalies %v; want capture_truncated", n, err, an)
	}
}
