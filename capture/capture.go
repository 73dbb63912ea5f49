// Package capture reads packets from capture files: pcap (either byte
// order, micro- or nanosecond timestamps), pcapng (several sections and
// interfaces, per-interface link types and timestamp resolution), and
// either of them gzip-compressed. The format is recognised by its magic
// bytes, never by the file name. pcapgo reads the file headers, pcapng
// and gzip'd files; the records of an uncompressed pcap are read in place
// into blocks (see Block), so a packet's bytes need never be copied.
//
// Damage that leaves the rest of a file readable (a file cut mid-packet, a
// pcapng block with a bad length, timestamps going backwards) is reported
// through File.OnAnomaly and reading goes on or ends cleanly with io.EOF;
// only a file that cannot be read at all is an error.
//
// It does not decode packets (package decode does) and does not filter them
// (package capture/filter does). Live capture is in capture/live.
package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Packet is one captured frame. Data is valid until the next call to Next
// on the source it came from; to keep it longer, copy it or, when Block is
// set, retain the Block.
type Packet struct {
	Data     []byte
	Info     gopacket.CaptureInfo
	LinkType layers.LinkType
	// Block, when not nil, holds Data: Data stays valid while the Block
	// is retained (see Block.Retain).
	Block *Block
}

// Anomaly is damage in a capture file that reading survived. Offset is the
// byte offset, in the capture stream (the decompressed stream for a gzip
// file), of the record or block concerned.
type Anomaly struct {
	Kind   string
	Offset int64
	Detail string
}

// Anomaly kinds reported by File.
const (
	// AnomalyTruncated: the file ends inside a packet record or block.
	AnomalyTruncated = "capture_truncated"
	// AnomalyBadBlock: a pcapng block has an impossible length or content;
	// reading stops there.
	AnomalyBadBlock = "capture_bad_block"
	// AnomalyTimeBackwards: a packet's timestamp is before the previous
	// packet's.
	AnomalyTimeBackwards = "capture_time_backwards"
	// AnomalyCaplenTooLarge: a record's captured length exceeds the file's
	// snap length or the packet's original length (the packet is still
	// delivered when it fits MaxCaptureLength), or exceeds
	// MaxCaptureLength (reading stops: the rest is likely garbage).
	AnomalyCaplenTooLarge = "capture_caplen_too_large"
	// AnomalyUnsupportedLinkType: a pcapng interface has a link type
	// decode cannot read; its packets are skipped. Reported once per
	// link type per file.
	AnomalyUnsupportedLinkType = "capture_unsupported_linktype"
)

// MaxCaptureLength is the largest packet record read: libpcap's
// MAXIMUM_SNAPLEN (256 KiB), as tcpdump and Wireshark use it.
const MaxCaptureLength = 262144

// readBufferSize is the read buffer in front of the file (and of the gzip
// stream): pcapgo's 4 KiB default halves the read rate.
const readBufferSize = 1 << 20

type format int

const (
	formatPcap format = iota + 1
	formatPcapng
)

// File is a capture file open for reading. It is not safe for concurrent
// use.
type File struct {
	// OnAnomaly, when set, receives non-fatal damage found while reading.
	OnAnomaly func(Anomaly)
	// OnSecrets, when set, receives each pcapng Decryption Secrets Block
	// as reading reaches it, before the packets that follow it (blocks
	// read while it was unset are kept and handed to it at the next call
	// to Next).
	OnSecrets   func(Secrets)
	heldSecrets []Secrets

	name   string
	closer io.Closer
	size   int64

	file   countingReader // bytes read from the file
	fileBr *bufio.Reader  // read buffer over file
	gz     *gzip.Reader   // nil unless compressed
	gzOut  countingReader // decompressed bytes (gzip only)
	src    *bufio.Reader  // what pcapgo reads: fileBr, or a buffer over gz
	srcN   *countingReader

	format     format
	pcap       *pcapgo.Reader
	blocks     *blockReader     // an uncompressed pcap's records, read in place; pcap is then used only for the file header
	order      binary.ByteOrder // of a pcap file's records
	nanoFactor uint32           // pcap record fraction to nanoseconds
	ng         *pcapgo.NgReader
	ngBig      bool // byte order of the current pcapng section
	linkType   layers.LinkType
	snaplen    uint32 // a pcap file's, as its header says (0: none)

	ifaces    []ngIface // interfaces of the current pcapng section, as checkBlocks saw them
	unchecked bool      // checkBlocks could not see the blocks pcapgo is about to read
	rescueBuf []byte    // pcap records pcapgo refuses (caplen > original length)
	binTS     time.Time // timestamp of the packet block checkBlocks stopped at, when its interface counts in powers of 2
	binTSSet  bool

	recStart    int64 // stream offset of the record being read
	packets     uint64
	last        time.Time
	reportedLTs map[layers.LinkType]bool
	done        bool
	err         error // sticky error after the end
}

// countingReader counts the bytes read through it and keeps the first
// error other than io.EOF (for a gzip stream: a cut or a bad checksum,
// which pcapgo may take for the end of the file).
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// Open opens a capture file: pcap, pcapng, or a gzip of either. Errors name
// the file and say what is wrong; they are *Error values that wrap one of
// the Err* sentinels and, for I/O failures, the os error (so
// errors.Is(err, os.ErrNotExist) works).
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, openError(path, err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, &Error{Path: path, Kind: ErrRead, Err: err, Msg: "cannot stat: " + describeOSError(err)}
	}
	if st.IsDir() {
		fh.Close()
		return nil, &Error{Path: path, Kind: ErrDirectory, Msg: "is a directory, not a capture file"}
	}
	f, err := newFile(path, fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// NewReader reads a capture from r (for standard input, or tests); name is
// used in errors. Size is unknown (0) unless r is an *os.File of a regular
// file. Close does not close r.
func NewReader(r io.Reader, name string) (*File, error) {
	var size int64
	switch r := r.(type) {
	case *os.File:
		if st, err := r.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
	case interface{ Size() int64 }: // bytes.Reader, strings.Reader
		size = r.Size()
	}
	return newFile(name, r, size)
}

// minReadBuffer is the smallest read buffer: pcapgo wraps a smaller
// bufio.Reader in one of its own, which would read ahead of File.
const minReadBuffer = 4096

func newFile(name string, r io.Reader, size int64) (*File, error) {
	f := &File{name: name, size: size}
	f.file.r = r
	// A small file needs no more buffer than its size (many small files
	// are read one after the other, and fuzzing reads thousands).
	bufSize := readBufferSize
	if size > 0 && size < readBufferSize {
		bufSize = max(int(size), minReadBuffer)
	}
	f.fileBr = bufio.NewReaderSize(&f.file, bufSize)
	f.src, f.srcN = f.fileBr, &f.file

	head, err := f.fileBr.Peek(16)
	if len(head) == 0 {
		if err != nil && err != io.EOF {
			return nil, readError(name, err)
		}
		return nil, &Error{Path: name, Kind: ErrEmpty, Msg: "is empty (0 bytes), not a capture file"}
	}
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(f.fileBr)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, &Error{Path: name, Kind: ErrTruncated, Err: err, Msg: "is a truncated gzip file (the gzip header is incomplete)"}
			}
			return nil, &Error{Path: name, Kind: ErrNotCapture, Err: err, Msg: "looks like gzip but its header is damaged: " + err.Error()}
		}
		gz.Multistream(true)
		f.gz = gz
		f.gzOut.r = gz
		f.src = bufio.NewReaderSize(&f.gzOut, readBufferSize)
		f.srcN = &f.gzOut
		head, err = f.src.Peek(16)
		if len(head) == 0 {
			if err != nil && err != io.EOF {
				return nil, gzipError(name, err)
			}
			return nil, &Error{Path: name, Kind: ErrEmpty, Msg: "is a gzip of an empty file"}
		}
	}
	if err := f.openFormat(head); err != nil {
		return nil, err
	}
	return f, nil
}

// openFormat recognises the magic and reads the file header.
func (f *File) openFormat(head []byte) error {
	what := ""
	if f.gz != nil {
		what = "a gzip of "
	}
	switch {
	case len(head) < 4:
		if isPrefixOfMagic(head) {
			return &Error{Path: f.name, Kind: ErrTruncated, Msg: fmt.Sprintf("is %sa truncated capture: it ends after %d bytes, inside the file header", what, len(head))}
		}
		return notCapture(f.name, f.gz != nil, head)
	case isPcapMagic(head):
		f.format = formatPcap
		return f.openPcap()
	case string(head[:4]) == "\x0a\x0d\x0d\x0a":
		f.format = formatPcapng
		return f.openPcapng()
	case string(head[:4]) == "\xa1\xb2\xcd\x34" || string(head[:4]) == "\x34\xcd\xb2\xa1":
		return &Error{Path: f.name, Kind: ErrNotCapture, Msg: "is " + what + "a modified (Kuznetzov) pcap file, which is not supported; convert it with: editcap -F pcap IN OUT"}
	}
	return notCapture(f.name, f.gz != nil, head)
}

func isPcapMagic(b []byte) bool {
	switch string(b[:4]) {
	case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", // microseconds, LE and BE
		"\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d": // nanoseconds, LE and BE
		return true
	}
	return false
}

func isPrefixOfMagic(b []byte) bool {
	for _, m := range []string{"\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x0a\x0d\x0d\x0a"} {
		if len(b) <= len(m) && string(b) == m[:len(b)] {
			return true
		}
	}
	return false
}

const pcapHeaderLen = 24

func (f *File) openPcap() error {
	hdr, err := f.src.Peek(pcapHeaderLen)
	if len(hdr) < pcapHeaderLen {
		if err != nil && err != io.EOF {
			return f.streamError(err)
		}
		return &Error{Path: f.name, Kind: ErrTruncated, Msg: fmt.Sprintf("is a truncated pcap file: it ends after %d bytes, inside the 24-byte file header", len(hdr))}
	}
	// The header is checked here so errors speak to the user; pcapgo then
	// reads it again.
	var order binary.ByteOrder = binary.LittleEndian
	if hdr[0] == 0xa1 {
		order = binary.BigEndian
	}
	// pcap-savefile(5): magic, version_major, version_minor, thiszone,
	// sigfigs, snaplen, linktype; the 24 bytes are there.
	h := wire{b: hdr, order: order}
	var magic, zone, sigfigs, snaplen, linkType uint32
	var major, minor uint16
	read := h.u32(&magic) && h.u16(&major) && h.u16(&minor) && h.u32(&zone) && h.u32(&sigfigs) && h.u32(&snaplen) && h.u32(&linkType)
	if !read || major != 2 || minor != 4 {
		return &Error{Path: f.name, Kind: ErrNotCapture, Msg: fmt.Sprintf("is a pcap file of version %d.%d; only version 2.4 is supported", major, minor)}
	}
	// The link type is the low 16 bits; the upper bits may carry FCS
	// information (pcap-linktype(7), LINKTYPE_FCS).
	lt := layers.LinkType(linkType & 0xffff)
	if !SupportedLinkType(lt) {
		return &Error{Path: f.name, Kind: ErrUnsupportedLinkType, Msg: fmt.Sprintf("has link type %s, which tlsscope cannot decode (%s)", LinkTypeName(lt), supportedList)}
	}
	r, err := pcapgo.NewReader(f.src)
	if err != nil {
		return f.streamError(err)
	}
	f.pcap = r
	f.linkType = lt
	f.order = order
	f.snaplen = snaplen
	if r.Snaplen() > MaxCaptureLength {
		// pcapgo takes records up to the snap length; a bogus one must not
		// make it read (and hold) megabytes of garbage as one packet.
		r.SetSnaplen(MaxCaptureLength)
	}
	if f.gz == nil && !pcapgoRecords {
		f.openBlocks()
	}
	return nil
}

// pcapgoRecords makes an uncompressed pcap file read its records through
// pcapgo, as a gzip'd one does, rather than in place (for tests that hold
// the two readers to the same packets and anomalies).
var pcapgoRecords = false

func (f *File) openPcapng() error {
	// The section header is validated here, where errors can name what is
	// wrong; pcapgo then reads it again.
	if err := f.checkBlocks(true); err != nil {
		return err
	}
	r, err := pcapgo.NewNgReader(f.src, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return &Error{Path: f.name, Kind: ErrTruncated, Err: err, Msg: "is a truncated pcapng file: it ends inside the section header"}
		}
		if errors.Is(err, pcapgo.ErrNgVersionMismatch) {
			return &Error{Path: f.name, Kind: ErrNotCapture, Err: err, Msg: "is a pcapng file of an unsupported version"}
		}
		return &Error{Path: f.name, Kind: ErrNotCapture, Err: err, Msg: "has a damaged pcapng section header: " + err.Error()}
	}
	f.ng = r
	return nil
}

// Name is the file name given to Open.
func (f *File) Name() string { return f.name }

// Size is the file's size in bytes (0 when unknown), for progress.
func (f *File) Size() int64 { return f.size }

// Offset is how many bytes of the file have been consumed (compressed bytes
// for a gzip file), for progress against Size.
func (f *File) Offset() int64 {
	if f.blocks != nil {
		return f.file.n - int64(f.blocks.buffered())
	}
	return f.file.n - int64(f.fileBr.Buffered())
}

// streamPos is the offset in the capture stream (decompressed for gzip) of
// the next byte pcapgo will read.
func (f *File) streamPos() int64 {
	if f.blocks != nil {
		return f.file.n - int64(f.blocks.buffered())
	}
	return f.srcN.n - int64(f.src.Buffered())
}

// Close closes the file. It is safe to call more than once.
func (f *File) Close() error {
	f.done = true
	var err error
	if f.closer != nil {
		err = f.closer.Close()
		f.closer = nil
	}
	return err
}

func (f *File) anomaly(kind string, off int64, detail string) {
	if f.OnAnomaly != nil {
		f.OnAnomaly(Anomaly{Kind: kind, Offset: off, Detail: detail})
	}
}

// Next returns the next packet. It returns io.EOF at the end of the file,
// also when damage ended reading early (reported through OnAnomaly). An
// error other than io.EOF means the file could not be read at all (no
// packet was readable) or an I/O error. Packet.Data is valid until the next
// call to Next.
func (f *File) Next() (Packet, error) {
	if f.done {
		if f.err != nil {
			return Packet{}, f.err
		}
		return Packet{}, io.EOF
	}
	f.flushSecrets()
	var p Packet
	var err error
	switch {
	case f.blocks != nil:
		p, err = f.nextBlock()
	case f.format == formatPcap:
		p, err = f.nextPcap()
	default:
		p, err = f.nextPcapng()
	}
	if err != nil {
		f.done = true
		if err != io.EOF {
			f.err = err
		}
		return Packet{}, err
	}
	f.packets++
	// pcapng Simple Packet Blocks carry no timestamp (zero time).
	if ts := p.Info.Timestamp; !ts.IsZero() {
		if !f.last.IsZero() && ts.Before(f.last) {
			f.anomaly(AnomalyTimeBackwards, f.recStart, fmt.Sprintf("packet %d: timestamp %s is %s before the previous packet's", f.packets, ts.Format(time.RFC3339Nano), f.last.Sub(ts)))
		}
		f.last = ts
	}
	return p, nil
}

// eof is the end of the file at a record boundary: clean, unless the gzip
// stream under it was cut or damaged.
func (f *File) eof() error {
	if f.gz != nil && f.gzOut.err != nil {
		err := f.gzOut.err
		if err == io.ErrUnexpectedEOF {
			return f.end(AnomalyTruncated, f.streamPos(), fmt.Sprintf("the gzip stream is cut short after packet %d", f.packets), err)
		}
		return f.end(AnomalyTruncated, f.streamPos(), fmt.Sprintf("the gzip stream is damaged after packet %d: %v", f.packets, err), err)
	}
	return io.EOF
}

// end turns a read error into the end of the file: truncation and damage
// become anomalies and io.EOF; an I/O error, or damage before any packet
// (a bad block, or a first record longer than any capture may hold), is
// returned as an error.
func (f *File) end(kind string, off int64, detail string, cause error) error {
	if (kind == AnomalyBadBlock || kind == AnomalyCaplenTooLarge) && f.packets == 0 {
		return &Error{Path: f.name, Kind: ErrNotCapture, Err: cause, Msg: "has no readable packets: " + detail}
	}
	f.anomaly(kind, off, detail)
	return io.EOF
}
