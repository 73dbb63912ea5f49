package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket/layers"
)

const pcapRecordHeaderLen = 16

// nextPcap reads one pcap record through pcapgo and turns its errors into
// anomalies where the rest of the file can still be read. The record
// header is read here first, through readRecordHeader: pcapgo converts
// its lengths to int unchecked, which on a 32-bit platform makes a
// captured length of 2 GiB or more negative.
func (f *File) nextPcap() (Packet, error) {
	f.recStart = f.streamPos()
	hb, _ := f.src.Peek(pcapRecordHeaderLen)
	h, headerSeen := readRecordHeader(hb, f.order)
	if headerSeen && h.caplen > MaxCaptureLength {
		// Consumed as pcapgo would, which reads the header and refuses it.
		f.src.Discard(pcapRecordHeaderLen)
		return Packet{}, f.end(AnomalyCaplenTooLarge, f.recStart, caplenTooLarge(f.packets+1, h.caplen), nil)
	}
	data, ci, err := f.pcap.ZeroCopyReadPacketData()
	if err != nil {
		// pcapgo returns the record header it read along with the error.
		headerRead := !ci.Timestamp.IsZero()
		got := f.streamPos() - f.recStart
		switch {
		case err == io.EOF && !headerRead:
			return Packet{}, f.eof()
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			if !headerRead {
				return Packet{}, f.end(AnomalyTruncated, f.recStart, fmt.Sprintf("the file ends inside the header of packet record %d (%d of %d bytes)", f.packets+1, got, pcapRecordHeaderLen), err)
			}
			return Packet{}, f.end(AnomalyTruncated, f.recStart, fmt.Sprintf("the file ends inside packet %d (%d of %d captured bytes present)", f.packets+1, got-pcapRecordHeaderLen, ci.CaptureLength), err)
		case isIOError(err):
			return Packet{}, readError(f.name, err)
		case isGzipDamage(err):
			return Packet{}, f.end(AnomalyTruncated, f.recStart, "the gzip stream is damaged after packet "+fmt.Sprint(f.packets)+": "+err.Error(), err)
		case headerRead && headerSeen && ci.CaptureLength > ci.Length:
			// pcapgo refuses caplen > original length; Wireshark reads the
			// packet, and so do we, after saying so (recordAnomalies). On
			// a 32-bit platform pcapgo also refuses an original length
			// of 2 GiB or more, which its int(orig_len) turns negative.
			data, err = f.rescue(int(h.caplen))
			if err != nil {
				return Packet{}, f.end(AnomalyTruncated, f.recStart, fmt.Sprintf("the file ends inside packet %d", f.packets+1), err)
			}
		default:
			return Packet{}, f.end(AnomalyBadBlock, f.recStart, fmt.Sprintf("packet record %d: %v", f.packets+1, err), err)
		}
	}
	if headerSeen {
		// pcapgo's int(orig_len) may be negative on 32-bit platforms.
		ci.Length = lengthInt(h.origlen)
		f.recordAnomalies(h)
	}
	return Packet{Data: data, Info: ci, LinkType: f.linkType}, nil
}

// caplenTooLarge says why a record ends reading.
func caplenTooLarge(record uint64, caplen uint32) string {
	return fmt.Sprintf("packet record %d claims %d captured bytes, more than the %d a capture may hold: the rest of the file is not readable", record, caplen, MaxCaptureLength)
}

// recordAnomalies reports a pcap record that is read but is not as the
// file header says it may be; the lengths are compared as the uint32s
// they are on the wire.
func (f *File) recordAnomalies(h recordHeader) {
	if h.caplen > h.origlen {
		// Wireshark reads the packet, and so do we, after saying so.
		f.anomaly(AnomalyCaplenTooLarge, f.recStart, fmt.Sprintf("packet %d: %d captured bytes but an original length of %d", f.packets+1, h.caplen, h.origlen))
	}
	if f.snaplen > 0 && h.caplen > f.snaplen {
		f.anomaly(AnomalyCaplenTooLarge, f.recStart, fmt.Sprintf("packet %d: %d captured bytes, more than the file's snap length of %d", f.packets+1, h.caplen, f.snaplen))
	}
}

// rescue reads n packet bytes pcapgo left unread.
func (f *File) rescue(n int) ([]byte, error) {
	b, err := f.src.Peek(n)
	if len(b) < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	f.rescueBuf = append(f.rescueBuf[:0], b...)
	f.src.Discard(n)
	return f.rescueBuf, nil
}

// nextPcapng reads the next packet of a supported link type through
// pcapgo, after checkBlocks has vetted the blocks it is about to read.
func (f *File) nextPcapng() (Packet, error) {
	for {
		f.recStart = f.streamPos()
		if err := f.checkBlocks(false); err != nil {
			return Packet{}, err
		}
		data, ci, err := f.ng.ZeroCopyReadPacketData()
		if err != nil {
			return Packet{}, f.ngError(err)
		}
		if f.unchecked {
			f.resyncInterfaces()
		}
		lt, _ := ci.AncillaryData[0].(layers.LinkType)
		ci.AncillaryData = nil
		if f.binTSSet {
			ci.Timestamp = f.binTS
		}
		if !SupportedLinkType(lt) {
			if !f.reportedLTs[lt] {
				if f.reportedLTs == nil {
					f.reportedLTs = make(map[layers.LinkType]bool)
				}
				f.reportedLTs[lt] = true
				f.anomaly(AnomalyUnsupportedLinkType, f.recStart, fmt.Sprintf("interface %d has link type %s, which tlsscope cannot decode; its packets are skipped", ci.InterfaceIndex, LinkTypeName(lt)))
			}
			continue
		}
		// pcapgo converts orig_len to int unchecked: negative on 32-bit
		// platforms from 2 GiB on. As a uint32 again it is what the file
		// says on any platform.
		origlen := uint32(ci.Length)
		ci.Length = lengthInt(origlen)
		if uint64(ci.CaptureLength) > uint64(origlen) {
			f.anomaly(AnomalyCaplenTooLarge, f.recStart, fmt.Sprintf("packet %d: %d captured bytes but an original length of %d", f.packets+1, ci.CaptureLength, origlen))
		}
		if ci.InterfaceIndex < len(f.ifaces) {
			if snap := uint64(f.ifaces[ci.InterfaceIndex].snaplen); snap > 0 && uint64(ci.CaptureLength) > snap {
				f.anomaly(AnomalyCaplenTooLarge, f.recStart, fmt.Sprintf("packet %d: %d captured bytes, more than interface %d's snap length of %d", f.packets+1, ci.CaptureLength, ci.InterfaceIndex, snap))
			}
		}
		return Packet{Data: data, Info: ci, LinkType: lt}, nil
	}
}

func (f *File) ngError(err error) error {
	switch {
	case err == io.EOF:
		return f.eof()
	case err == io.ErrUnexpectedEOF:
		return f.end(AnomalyTruncated, f.recStart, fmt.Sprintf("the file ends inside a block after packet %d", f.packets), err)
	case isIOError(err):
		return readError(f.name, err)
	case isGzipDamage(err):
		return f.end(AnomalyTruncated, f.recStart, "the gzip stream is damaged after packet "+fmt.Sprint(f.packets)+": "+err.Error(), err)
	}
	return f.end(AnomalyBadBlock, f.recStart, fmt.Sprintf("after packet %d: %v", f.packets, err), err)
}

// resyncInterfaces copies pcapgo's interface list after it read blocks
// checkBlocks could not see (more than the read buffer of non-packet
// blocks in a row). A section header among those blocks that changed the
// byte order would go unseen: checkBlocks would then report the next block
// as bad and reading would stop, safely.
func (f *File) resyncInterfaces() {
	f.unchecked = false
	f.ifaces = f.ifaces[:0]
	for i := 0; i < f.ng.NInterfaces(); i++ {
		intf, err := f.ng.Interface(i)
		if err != nil {
			break
		}
		ni := ngIface{lt: intf.LinkType, snaplen: intf.SnapLength}
		if intf.TimestampResolution.Binary() {
			ni.binRes, ni.tsOffset = intf.TimestampResolution.Exponent(), intf.TimestampOffset
		}
		f.ifaces = append(f.ifaces, ni)
	}
}

// pcapng block types (draft-ietf-opsawg-pcapng, section 11.1).
const (
	blockSHB = 0x0a0d0d0a
	blockIDB = 0x00000001
	blockPB  = 0x00000002 // obsolete Packet Block
	blockSPB = 0x00000003
	blockISB = 0x00000005
	blockEPB = 0x00000006

	byteOrderMagic = 0x1a2b3c4d

	// maxControlBlock bounds section headers, interface descriptions and
	// statistics: theirs are a few options long.
	maxControlBlock = 64 << 10
)

type ngIface struct {
	lt       layers.LinkType
	snaplen  uint32
	binRes   uint8  // if_tsresol exponent when it is a power of 2, else 0
	tsOffset uint64 // if_tsoffset, seconds
}

// idbTimestampOptions reads if_tsresol and if_tsoffset from an interface
// description's options (already checked by optionsFit).
func idbTimestampOptions(w wire) (res uint8, offset uint64) {
	for {
		var code, n uint16
		var v []byte
		if !w.u16(&code) || !w.u16(&n) || code == 0 || !w.bytes(&v, uint64(n)) || !w.skip(pad4(uint32(n))-uint64(n)) {
			return res, offset
		}
		val := wire{b: v, order: w.order}
		switch code {
		case 9: // if_tsresol
			var r []byte
			if val.bytes(&r, 1) {
				res = r[0]
			}
		case 14: // if_tsoffset
			val.u64(&offset)
		}
	}
}

// binaryTimestamp converts a timestamp in units of 2^-e seconds. pcapgo
// scales these by an integer approximation of 1e9/2^e, which is off by up
// to a millisecond; Wireshark's conversion is exact, as this one is.
func binaryTimestamp(ts uint64, e uint8, offset uint64) time.Time {
	if e == 0 || e > 63 {
		return time.Unix(int64(ts+offset), 0).UTC()
	}
	sec := ts>>e + offset
	frac := ts & (1<<e - 1)
	hi, lo := bits.Mul64(frac, 1e9)
	ns := hi<<(64-e) | lo>>e
	return time.Unix(int64(sec), int64(ns)).UTC()
}

// checkBlocks vets the pcapng blocks ahead of pcapgo, up to and including
// the next packet block, in the read buffer without consuming them: block
// lengths (at least 12, a multiple of 4, the same at both ends), fixed
// fields that fit, options that fit, captured lengths that fit their
// block, interface ids that exist. pcapgo trusts all of these and, when
// one is wrong, reads the next block from the wrong place. A bad block
// ends reading with a capture_bad_block anomaly. At Open it checks the
// section header only.
//
// Blocks other than section headers, interfaces, statistics and packets
// (name resolution, decryption secrets, custom) are skipped here when they
// are first in line, so a big one never has to fit the buffer; a
// decryption secrets block is read first and handed to OnSecrets.
func (f *File) checkBlocks(atOpen bool) error {
	f.binTSSet = false
	off := 0
	big := f.ngBig
	for {
		hdr, err := f.src.Peek(off + 12)
		if len(hdr) < off+12 {
			if err == bufio.ErrBufferFull {
				f.unchecked = true
				return nil
			}
			if err != nil && err != io.EOF && isIOError(err) {
				return readError(f.name, err)
			}
			if atOpen {
				return &Error{Path: f.name, Kind: ErrTruncated, Msg: fmt.Sprintf("is a truncated pcapng file: it ends after %d bytes, inside the section header", len(hdr))}
			}
			return nil // the end, or a cut: pcapgo reports which
		}
		pos := f.streamPos() + int64(off)
		var order binary.ByteOrder = binary.LittleEndian
		if big {
			order = binary.BigEndian
		}
		// Block type, block total length and (in a section header) the
		// byte-order magic, which says how to read the length: the 12
		// bytes are there.
		var typ uint32
		var lenField, magic []byte
		h := wire{b: hdr[off:], order: order}
		if !h.u32(&typ) || !h.bytes(&lenField, 4) || !h.bytes(&magic, 4) {
			return f.badBlock(atOpen, pos, "block header cut short")
		}
		if typ == blockSHB {
			switch {
			case binary.BigEndian.Uint32(magic) == byteOrderMagic:
				big, order = true, binary.BigEndian
			case binary.LittleEndian.Uint32(magic) == byteOrderMagic:
				big, order = false, binary.LittleEndian
			default:
				return f.badBlock(atOpen, pos, fmt.Sprintf("section header with byte-order magic % x (want 1a2b3c4d in either order)", magic))
			}
		}
		// The length stays a uint64 until it is known to fit the read
		// buffer, and so an int on any platform.
		blen := uint64(order.Uint32(lenField))
		if blen < 12 || blen%4 != 0 {
			return f.badBlock(atOpen, pos, fmt.Sprintf("block of type %#x has length %d (not a multiple of 4 of at least 12)", typ, blen))
		}
		control := typ == blockSHB || typ == blockIDB || typ == blockISB
		packet := typ == blockEPB || typ == blockPB || typ == blockSPB
		if blen > maxControlBlock && control {
			return f.badBlock(atOpen, pos, fmt.Sprintf("block of type %#x has length %d, more than the %d such a block needs", typ, blen, maxControlBlock))
		}
		if !control && !packet && off == 0 && !atOpen {
			// Skipped here: pcapgo would discard it (or parse names we
			// do not use); decryption secrets are read first.
			var err error
			if typ == blockDSB {
				err = f.readSecretsBlock(blen, pos, order)
			} else {
				err = f.skipBlock(blen, pos, typ)
			}
			if err != nil {
				return err
			}
			continue
		}
		if packet && blen > MaxCaptureLength+64+maxControlBlock {
			return f.end(AnomalyCaplenTooLarge, pos, fmt.Sprintf("packet block of %d bytes, more than the %d a capture may hold: the rest of the file is not readable", blen, MaxCaptureLength), nil)
		}
		if uint64(off)+blen > uint64(f.src.Size()) {
			// More than the read buffer holds (as Peek would say).
			if err := f.checkPacketHead(typ, off, blen, pos, order); err != nil {
				return err
			}
			f.unchecked = true
			return nil
		}
		full, err := f.src.Peek(off + int(blen))
		if len(full) < off+int(blen) {
			if err == bufio.ErrBufferFull {
				f.unchecked = true
				return nil
			}
			if err != nil && err != io.EOF && isIOError(err) {
				return readError(f.name, err)
			}
			if atOpen {
				return &Error{Path: f.name, Kind: ErrTruncated, Msg: fmt.Sprintf("is a truncated pcapng file: it ends after %d bytes, inside the %d-byte section header", len(full), blen)}
			}
			if err := f.checkPacketHead(typ, off, blen, pos, order); err != nil {
				return err
			}
			return nil // a cut: pcapgo reports it
		}
		// The block's body, between its 8-byte head and its trailing
		// length, which must repeat the leading one.
		var body []byte
		var end uint32
		blk := wire{b: full[off : off+int(blen)], order: order}
		if !blk.skip(8) || !blk.bytes(&body, blen-12) || !blk.u32(&end) {
			return f.badBlock(atOpen, pos, fmt.Sprintf("block of type %#x cut short", typ))
		}
		if uint64(end) != blen {
			return f.badBlock(atOpen, pos, fmt.Sprintf("block of type %#x has length %d at its start but %d at its end", typ, blen, end))
		}
		bad := func(format string, args ...any) error {
			return f.badBlock(atOpen, pos, fmt.Sprintf(format, args...))
		}
		b := wire{b: body, order: order}
		switch typ {
		case blockSHB:
			// Byte-order magic, major and minor version, section length.
			var major, minor uint16
			if !b.skip(4) || !b.u16(&major) || !b.u16(&minor) || !b.skip(8) {
				return bad("section header of %d bytes is too short", blen)
			}
			if major != 1 || minor != 0 {
				return bad("pcapng version %d.%d is not supported (only 1.0)", major, minor)
			}
			if !optionsFit(b) {
				return bad("section header options overrun the block")
			}
			f.ifaces = f.ifaces[:0]
			f.ngBig = big
			if atOpen {
				return nil
			}
		case blockIDB:
			// LinkType, reserved, SnapLen.
			var lt, reserved uint16
			var snaplen uint32
			if !b.u16(&lt) || !b.u16(&reserved) || !b.u32(&snaplen) {
				return bad("interface description of %d bytes is too short", blen)
			}
			if !optionsFit(b) {
				return bad("interface description options overrun the block")
			}
			intf := ngIface{lt: layers.LinkType(lt), snaplen: snaplen}
			res, offset := idbTimestampOptions(b)
			if res&0x80 != 0 {
				intf.binRes = res & 0x7f
				intf.tsOffset = offset
			}
			f.ifaces = append(f.ifaces, intf)
		case blockISB:
			// Interface ID, timestamp (upper and lower 32 bits).
			var id uint32
			if !b.u32(&id) || !b.skip(8) {
				return bad("interface statistics of %d bytes is too short", blen)
			}
			if uint64(id) >= uint64(len(f.ifaces)) {
				return bad("interface statistics for interface %d, but the section has %d", id, len(f.ifaces))
			}
			if !optionsFit(b) {
				return bad("interface statistics options overrun the block")
			}
		case blockEPB, blockPB:
			// Interface ID (16 bits and a drops count in the obsolete
			// Packet Block), timestamp, captured and original length.
			var id, tsHigh, tsLow, caplen, origlen uint32
			ok := false
			if typ == blockEPB {
				ok = b.u32(&id)
			} else {
				var id16, drops uint16
				ok = b.u16(&id16) && b.u16(&drops)
				id = uint32(id16)
			}
			if !ok || !b.u32(&tsHigh) || !b.u32(&tsLow) || !b.u32(&caplen) || !b.u32(&origlen) {
				return bad("packet block of %d bytes is too short", blen)
			}
			if uint64(id) >= uint64(len(f.ifaces)) {
				return bad("packet for interface %d, but the section has %d", id, len(f.ifaces))
			}
			if room := uint64(b.left()); uint64(caplen) > room {
				if caplen > MaxCaptureLength {
					return f.end(AnomalyCaplenTooLarge, pos, fmt.Sprintf("packet block claims %d captured bytes, more than the %d a capture may hold: the rest of the file is not readable", caplen, MaxCaptureLength), nil)
				}
				return bad("packet block claims %d captured bytes but has room for %d", caplen, room)
			}
			if !b.skip(pad4(caplen)) || !optionsFit(b) {
				return bad("packet block options overrun the block")
			}
			if intf := f.ifaces[id]; intf.binRes != 0 {
				f.binTS = binaryTimestamp(uint64(tsHigh)<<32|uint64(tsLow), intf.binRes, intf.tsOffset)
				f.binTSSet = true
			}
			f.recStart = pos
			return nil
		case blockSPB:
			var origlen uint32
			if !b.u32(&origlen) {
				return bad("simple packet block of %d bytes is too short", blen)
			}
			if len(f.ifaces) == 0 {
				return bad("simple packet block before any interface description")
			}
			caplen := uint64(origlen)
			if snap := uint64(f.ifaces[0].snaplen); snap != 0 && caplen > snap {
				caplen = snap
			}
			if caplen > uint64(b.left()) {
				return bad("simple packet block claims %d captured bytes but has room for %d", caplen, b.left())
			}
			f.recStart = pos
			return nil
		case blockDSB:
			if atOpen {
				return bad("a pcapng file must start with a section header")
			}
			f.secretsBlock(body, order, pos)
		default:
			if atOpen {
				return bad("a pcapng file must start with a section header")
			}
		}
		off += int(blen)
	}
}

// checkPacketHead vets the captured length of a packet block that is not
// all in the read buffer (longer than it, or cut by the end of the file),
// from the block's fixed part: pcapgo reads the rest unchecked, and a
// length past the block would make it read, and hold, up to the rest of
// the file as one packet. The other fields are left to pcapgo, which
// checks them.
func (f *File) checkPacketHead(typ uint32, off int, blen uint64, pos int64, order binary.ByteOrder) error {
	if typ != blockEPB && typ != blockPB || blen < 32 {
		return nil
	}
	// Block type and length, then interface, timestamp (8 bytes) and the
	// captured length.
	head, _ := f.src.Peek(off + 24)
	var caplen uint32
	w := wire{b: head, order: order}
	if !w.skip(uint64(off)+20) || !w.u32(&caplen) {
		return nil // not there either: pcapgo reports the cut
	}
	if room := blen - 32; uint64(caplen) > room {
		if caplen > MaxCaptureLength {
			return f.end(AnomalyCaplenTooLarge, pos, fmt.Sprintf("packet block claims %d captured bytes, more than the %d a capture may hold: the rest of the file is not readable", caplen, MaxCaptureLength), nil)
		}
		return f.badBlock(false, pos, fmt.Sprintf("packet block claims %d captured bytes but has room for %d", caplen, room))
	}
	return nil
}

// discard skips n bytes of the stream, in steps an int holds on any
// platform.
func (f *File) discard(n uint64) (uint64, error) {
	var done uint64
	for done < n {
		step := min(n-done, 1<<30)
		m, err := f.src.Discard(int(step))
		done += uint64(m)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// optionsFit reports whether a pcapng option list stays inside its block:
// each option's header and padded value fit, and opt_endofopt (if present)
// has length 0, as pcapgo requires.
func optionsFit(w wire) bool {
	for !w.empty() {
		var code, n uint16
		if !w.u16(&code) || !w.u16(&n) {
			return false
		}
		if code == 0 {
			return n == 0
		}
		if !w.skip(pad4(uint32(n))) {
			return false
		}
	}
	return true
}

func (f *File) badBlock(atOpen bool, pos int64, detail string) error {
	if atOpen {
		return &Error{Path: f.name, Kind: ErrNotCapture, Msg: "has a damaged pcapng section header: " + detail}
	}
	return f.end(AnomalyBadBlock, pos, detail, errors.New(detail))
}
