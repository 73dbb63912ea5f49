package capture

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// PcapngWriter writes packets of one link type to a pcapng stream (for
// live capture's -w). Timestamps are written in nanoseconds. Call Flush
// before closing the underlying writer.
type PcapngWriter struct {
	w       *pcapgo.NgWriter
	snaplen uint32
	ifaces  map[layers.LinkType]int // interface id by link type
}

// NewPcapngWriter writes a section header and one interface of link type
// lt and snap length snaplen (0: unlimited) to w.
func NewPcapngWriter(w io.Writer, lt layers.LinkType, snaplen int) (*PcapngWriter, error) {
	if snaplen < 0 {
		snaplen = 0
	}
	intf := pcapgo.NgInterface{
		Name:                "tlsscope0",
		OS:                  runtime.GOOS,
		LinkType:            lt,
		SnapLength:          uint32(snaplen),
		TimestampResolution: 9,
	}
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware:    runtime.GOARCH,
		OS:          runtime.GOOS,
		Application: "tlsscope",
	}}
	nw, err := pcapgo.NewNgWriterInterface(w, intf, opts)
	if err != nil {
		return nil, fmt.Errorf("writing pcapng header: %w", err)
	}
	return &PcapngWriter{w: nw, snaplen: uint32(snaplen), ifaces: map[layers.LinkType]int{lt: 0}}, nil
}

// Write appends one packet, on the interface of its link type (the first
// packet of another link type than the writer's adds an interface),
// whatever p.Info.InterfaceIndex says.
func (pw *PcapngWriter) Write(p Packet) error {
	id, ok := pw.ifaces[p.LinkType]
	if !ok {
		var err error
		id, err = pw.w.AddInterface(pcapgo.NgInterface{Name: fmt.Sprintf("tlsscope%d", len(pw.ifaces)), OS: runtime.GOOS,
			LinkType: p.LinkType, SnapLength: pw.snaplen, TimestampResolution: 9})
		if err != nil {
			return fmt.Errorf("writing a pcapng interface: %w", err)
		}
		pw.ifaces[p.LinkType] = id
	}
	ci := p.Info
	ci.InterfaceIndex = id
	ci.AncillaryData = nil
	ci.CaptureLength = len(p.Data)
	if ci.Length < ci.CaptureLength {
		ci.Length = ci.CaptureLength
	}
	return pw.w.WritePacket(ci, p.Data)
}

// WriteKeyLog writes an NSS key log (SSLKEYLOGFILE lines) as a
// Decryption Secrets Block, so Wireshark, tshark and a later tlsscope
// read the file's TLS with its keys.
func (pw *PcapngWriter) WriteKeyLog(keylog []byte) error {
	if err := pw.w.WriteDecryptionSecretsBlock(pcapgo.DSB_SECRETS_TYPE_TLS, keylog); err != nil {
		return fmt.Errorf("writing the key log block: %w", err)
	}
	return nil
}

// Flush writes out buffered packets.
func (pw *PcapngWriter) Flush() error { return pw.w.Flush() }

// PcapngFile is a pcapng file being written packet by packet (-w): its
// first interface takes the link type of the first packet, and each other
// link type gets one of its own, so packets of several inputs fit in one
// file.
type PcapngFile struct {
	f       *os.File
	w       *PcapngWriter
	snaplen int
}

// CreatePcapng creates (or truncates) the file name.
func CreatePcapng(name string, snaplen int) (*PcapngFile, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	return &PcapngFile{f: f, snaplen: snaplen}, nil
}

// Write appends one packet.
func (pf *PcapngFile) Write(p Packet) error {
	if pf.w == nil {
		w, err := NewPcapngWriter(pf.f, p.LinkType, pf.snaplen)
		if err != nil {
			return err
		}
		pf.w = w
	}
	return pf.w.Write(p)
}

// Close flushes and closes the file; one that got no packet holds an
// Ethernet interface and no packets. Closing twice does nothing.
func (pf *PcapngFile) Close() error {
	if pf.f == nil {
		return nil
	}
	f := pf.f
	pf.f = nil
	if pf.w == nil {
		w, err := NewPcapngWriter(f, layers.LinkTypeEthernet, pf.snaplen)
		if err != nil {
			f.Close()
			return err
		}
		pf.w = w
	}
	if err := pf.w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
