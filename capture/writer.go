package capture

import (
	"fmt"
	"io"
	"runtime"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// PcapngWriter writes packets of one link type to a pcapng stream (for
// live capture's -w). Timestamps are written in nanoseconds. Call Flush
// before closing the underlying writer.
type PcapngWriter struct {
	w *pcapgo.NgWriter
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
	return &PcapngWriter{w: nw}, nil
}

// Write appends one packet. Its interface is the writer's only one,
// whatever p.Info.InterfaceIndex says.
func (pw *PcapngWriter) Write(p Packet) error {
	ci := p.Info
	ci.InterfaceIndex = 0
	ci.AncillaryData = nil
	ci.CaptureLength = len(p.Data)
	if ci.Length < ci.CaptureLength {
		ci.Length = ci.CaptureLength
	}
	return pw.w.WritePacket(ci, p.Data)
}

// Flush writes out buffered packets.
func (pw *PcapngWriter) Flush() error { return pw.w.Flush() }
