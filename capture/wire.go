package capture

import (
	"encoding/binary"
	"math"
)

// wire reads the numbers of a pcap record header or a pcapng block the
// way cryptobyte.String reads TLS: every read is a method that returns
// false, consuming nothing, when too few bytes are left, so no number from
// the file can index past its buffer. The byte order is the file's (pcap)
// or the section's (pcapng). Lengths are compared with what is left as
// unsigned 64-bit numbers, before any conversion to int: on a 32-bit
// platform int(uint32) turns a length of 2 GiB or more negative.
type wire struct {
	b     []byte
	order binary.ByteOrder
}

// left is how many bytes are unread.
func (w *wire) left() int { return len(w.b) }

func (w *wire) empty() bool { return len(w.b) == 0 }

func (w *wire) u16(v *uint16) bool {
	if len(w.b) < 2 {
		return false
	}
	*v = w.order.Uint16(w.b)
	w.b = w.b[2:]
	return true
}

func (w *wire) u32(v *uint32) bool {
	if len(w.b) < 4 {
		return false
	}
	*v = w.order.Uint32(w.b)
	w.b = w.b[4:]
	return true
}

func (w *wire) u64(v *uint64) bool {
	if len(w.b) < 8 {
		return false
	}
	*v = w.order.Uint64(w.b)
	w.b = w.b[8:]
	return true
}

// bytes reads the next n bytes (capacity limited to them).
func (w *wire) bytes(v *[]byte, n uint64) bool {
	if n > uint64(len(w.b)) {
		return false
	}
	*v = w.b[:n:n]
	w.b = w.b[n:]
	return true
}

func (w *wire) skip(n uint64) bool {
	if n > uint64(len(w.b)) {
		return false
	}
	w.b = w.b[n:]
	return true
}

// pad4 rounds a pcapng length up to its 32-bit boundary, without
// overflow for any uint32.
func pad4(n uint32) uint64 { return (uint64(n) + 3) &^ 3 }

// recordHeader is a pcap record header (pcap-savefile(5)): ts_sec,
// ts_usec (or ts_nsec), incl_len and orig_len.
type recordHeader struct {
	sec, frac, caplen, origlen uint32
}

// readRecordHeader checks the length once, then reads the four numbers:
// it runs for every packet, so it does not go through wire's per-number
// checks.
func readRecordHeader(b []byte, order binary.ByteOrder) (h recordHeader, ok bool) {
	if len(b) < pcapRecordHeaderLen {
		return h, false
	}
	b = b[:pcapRecordHeaderLen]
	return recordHeader{order.Uint32(b[0:4]), order.Uint32(b[4:8]), order.Uint32(b[8:12]), order.Uint32(b[12:16])}, true
}

// lengthInt converts a length from the file that is not bounded by
// MaxCaptureLength (a packet's original length) to an int, saturating
// where int has 32 bits rather than turning negative.
func lengthInt(n uint32) int {
	if uint64(n) > math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}
