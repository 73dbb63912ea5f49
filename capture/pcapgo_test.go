package capture_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// TestPcapgoBehaviour pins down what pcapgo does with damaged input, which
// is why File checks blocks itself and reads pcapgo's errors as it does.
// If one of these starts failing, pcapgo changed: revisit read.go.
func TestPcapgoBehaviour(t *testing.T) {
	le := binary.LittleEndian

	// A pcap cut just after a record header: pcapgo says io.EOF, as at a
	// clean end, but returns the header it read (nextPcap tells the two
	// apart by that header).
	raw := mustRead(t, corpusFile(t, pcapSample))
	p := parsePcap(t, raw)
	r, err := pcapgo.NewReader(bytes.NewReader(raw[:p.ends[0]+16]))
	if err != nil {
		t.Fatal(err)
	}
	r.ReadPacketData()
	_, ci, err := r.ZeroCopyReadPacketData()
	if err != io.EOF || ci.Timestamp.IsZero() || ci.CaptureLength != int(p.recs[1].caplen) {
		t.Errorf("pcap cut after a record header: %v, %+v", err, ci)
	}

	// A pcapng packet block whose trailing length disagrees with its
	// leading one: pcapgo never reads the trailer, and takes it.
	ng := mustRead(t, corpusFile(t, pcapngSample))
	k := epbs(t, ng)[0]
	bad := bytes.Clone(ng)
	le.PutUint32(bad[k.end-4:], 12345)
	nr, err := pcapgo.NewNgReader(bytes.NewReader(bad), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := nr.ZeroCopyReadPacketData(); err != nil {
		t.Errorf("pcapgo now checks trailing block lengths: %v", err)
	}

	// A caplen larger than its block: pcapgo reads the packet's bytes from
	// the following block, then underflows the block length and gives up
	// as if the file were cut, losing the rest of it.
	bad = bytes.Clone(ng)
	le.PutUint32(bad[k.start+20:], uint32(k.end-k.start)+64)
	le.PutUint32(bad[k.start+24:], uint32(k.end-k.start)+64)
	nr, _ = pcapgo.NewNgReader(bytes.NewReader(bad), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if data, _, err := nr.ZeroCopyReadPacketData(); err != io.ErrUnexpectedEOF || len(data) != k.end-k.start+64 {
		t.Errorf("pcapgo now bounds caplen by the block: %d bytes, %v", len(data), err)
	}

	// if_tsresol 2^-20: pcapgo scales by 1e9/2^20 rounded down to 953, and
	// is off by up to a millisecond; File converts these itself.
	shifted := pcapngTimestamps(t, ng, 0x80|20, 0)
	nr, _ = pcapgo.NewNgReader(bytes.NewReader(shifted), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	_, ci, _ = nr.ZeroCopyReadPacketData()
	got, _ := readFile(writeTemp(t, "res.pcapng", shifted))
	if ours := mustParseTS(t, got.frames[0].ts); ci.Timestamp.UnixNano() == ours {
		t.Errorf("pcapgo's 2^-20 timestamp %v is now exact", ci.Timestamp)
	}
}

func mustParseTS(t *testing.T, s string) int64 {
	var sec, ns int64
	if _, err := fmtSscanf(s, &sec, &ns); err != nil {
		t.Fatal(err)
	}
	return sec*1e9 + ns
}
