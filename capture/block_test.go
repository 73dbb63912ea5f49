package capture_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// readEverything reads a capture from r and records all of it: each
// packet's bytes and capture info, the anomalies, and how reading ended.
func readEverything(r io.Reader) string {
	f, err := capture.NewReader(r, "x.pcap")
	if err != nil {
		return "open: " + err.Error()
	}
	var b strings.Builder
	f.OnAnomaly = func(a capture.Anomaly) { fmt.Fprintf(&b, "anomaly %+v\n", a) }
	for {
		p, err := f.Next()
		if err != nil {
			fmt.Fprintf(&b, "end %v at %d\n", err, f.Offset())
			return b.String()
		}
		fmt.Fprintf(&b, "packet %s %d %d %d %x\n", p.Info.Timestamp.Format("2006-01-02T15:04:05.999999999"), p.Info.CaptureLength, p.Info.Length, p.LinkType, p.Data)
	}
}

// pcapFiles lists the uncompressed pcap files (not pcapng) of the
// repository's captures and of the corpus.
func pcapFiles(t *testing.T) []string {
	var files []string
	add := func(path string) {
		head := make([]byte, 4)
		fh, err := os.Open(path)
		if err != nil {
			return
		}
		defer fh.Close()
		if _, err := io.ReadFull(fh, head); err == nil && isPcapMagic(head) {
			files = append(files, path)
		}
	}
	pcaps, _ := filepath.Glob(filepath.Join(testutil.Pcaps(t), "*"))
	for _, p := range pcaps {
		add(p)
	}
	for _, p := range corpusCaptures(t) {
		add(p)
	}
	return files
}

func isPcapMagic(b []byte) bool {
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return true
	}
	return false
}

// TestBlocksMatchPcapgo holds the in-place record reader to pcapgo's: on
// every pcap file of the repository and the corpus, whole, cut, with
// damaged record headers and with garbage appended, read whole or a few
// bytes at a time, both give the same packets, anomalies and end.
func TestBlocksMatchPcapgo(t *testing.T) {
	files := pcapFiles(t)
	if len(files) < 20 {
		t.Fatalf("only %d pcap files found", len(files))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, path := range files {
		raw := mustRead(t, path)
		variants := map[string][]byte{"whole": raw}
		ends := recordEnds(raw)
		for _, cut := range []int{len(raw) - 1, len(raw) - 17, 24 + 7, 24 + 16 + 3} {
			if cut > 24 && cut < len(raw) {
				variants[fmt.Sprint("cut at ", cut)] = raw[:cut]
			}
		}
		if len(ends) > 3 {
			rec := ends[len(ends)/2] // start of a record in the middle
			for name, edit := range map[string]func(b []byte, le binary.ByteOrder){
				"caplen > origlen": func(b []byte, o binary.ByteOrder) { o.PutUint32(b[rec+12:], o.Uint32(b[rec+8:])-1) },
				"caplen 300000":    func(b []byte, o binary.ByteOrder) { o.PutUint32(b[rec+8:], 300000) },
				"caplen +1000":     func(b []byte, o binary.ByteOrder) { o.PutUint32(b[rec+8:], o.Uint32(b[rec+8:])+1000) },
				"usec overflow":    func(b []byte, o binary.ByteOrder) { o.PutUint32(b[rec+4:], 0xfffffff0) },
			} {
				b := bytes.Clone(raw)
				edit(b, byteOrder(raw))
				variants[name] = b
			}
		}
		garbage := make([]byte, 200)
		for i := range garbage {
			garbage[i] = byte(rng.Uint32())
		}
		variants["garbage appended"] = append(bytes.Clone(raw), garbage...)
		for name, b := range variants {
			for _, mode := range []struct {
				name string
				wrap func(io.Reader) io.Reader
			}{
				{"whole", func(r io.Reader) io.Reader { return r }},
				{"half reads", iotest.HalfReader},
				{"one byte reads", iotest.OneByteReader},
				{"empty reads between", func(r io.Reader) io.Reader { return &stutter{r: r} }},
			} {
				if mode.name == "one byte reads" && len(b) > 64<<10 {
					continue
				}
				blocks := readEverything(mode.wrap(bytes.NewReader(b)))
				restore := capture.PcapgoRecords()
				want := readEverything(mode.wrap(bytes.NewReader(b)))
				restore()
				if blocks != want {
					t.Errorf("%s, %s, %s: in place and pcapgo differ\n%s", filepath.Base(path), name, mode.name, firstDiff(blocks, want))
				}
			}
		}
	}
}

// TestBlockRetain: a retained packet's bytes survive later reads; with
// no reference left, blocks are reused rather than allocated anew.
func TestBlockRetain(t *testing.T) {
	raw := mustRead(t, filepath.Join(testutil.Pcaps(t), "http-form-login.pcap"))
	// Many copies of the records, so the file spans many blocks.
	ends := recordEnds(raw)
	big := bytes.Clone(raw)
	for len(big) < 4<<20 {
		big = append(big, raw[24:ends[len(ends)-1]]...)
	}
	f, err := capture.NewReader(iotest.HalfReader(bytes.NewReader(big)), "big.pcap")
	if err != nil {
		t.Fatal(err)
	}
	type kept struct {
		p    capture.Packet
		data []byte
	}
	var held []kept
	blocks := map[*capture.Block]bool{}
	for n := 0; ; n++ {
		p, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Block == nil {
			t.Fatal("packet of an uncompressed pcap without a Block")
		}
		blocks[p.Block] = true
		if n%97 == 0 {
			p.Block.Retain()
			held = append(held, kept{p, bytes.Clone(p.Data)})
		}
	}
	for _, k := range held {
		if !bytes.Equal(k.p.Data, k.data) {
			t.Fatalf("a retained packet's bytes changed")
		}
		k.p.Block.Release()
	}
	if want := len(big) / (256 << 10); len(blocks) < want {
		t.Errorf("%d blocks for %d bytes: blocks are shared by retained packets", len(blocks), len(big))
	}
	// Without retaining, the reader cycles through two blocks, after the
	// first, which takes what the read buffer held at Open (up to 1 MiB).
	f, _ = capture.NewReader(bytes.NewReader(big), "big.pcap")
	clear(blocks)
	for {
		p, err := f.Next()
		if err != nil {
			break
		}
		blocks[p.Block] = true
	}
	if len(blocks) > 3 {
		t.Errorf("%d blocks used without retaining: released blocks are not reused", len(blocks))
	}
}

// stutter returns nothing, without an error, on every other read (which
// io.Reader allows, if it discourages it).
type stutter struct {
	r    io.Reader
	skip bool
}

func (s *stutter) Read(p []byte) (int, error) {
	if s.skip = !s.skip; s.skip {
		return 0, nil
	}
	return s.r.Read(p)
}

func byteOrder(raw []byte) binary.ByteOrder {
	if raw[0] == 0xa1 {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// recordEnds walks a well-formed pcap's records: the offset where each
// ends (and the next begins), the first being the file header's end.
func recordEnds(raw []byte) []int {
	o := byteOrder(raw)
	ends := []int{24}
	for off := 24; off+16 <= len(raw); {
		n := 16 + int(o.Uint32(raw[off+8:]))
		if off+n > len(raw) {
			break
		}
		off += n
		ends = append(ends, off)
	}
	return ends
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n in place: %.300s\n pcapgo:   %.300s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines against %d", len(al), len(bl))
}
