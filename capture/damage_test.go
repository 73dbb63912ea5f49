package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

func corpusFile(t testing.TB, name string) string {
	return filepath.Join(testutil.Corpus(t), name)
}

const (
	pcapSample   = "zeek/testing/btest/Traces/tls/tls1.2.pcap"   // 22 packets, Ethernet
	pcapngSample = "nDPI/tests/cfgs/default/pcap/tls_ech.pcapng" // 10 packets, nanosecond
	pcapNull     = "ja4/pcap/tls-alpn-h2.pcap"                   // 9 packets, BSD Null
	pcapngSmall  = "ja4/pcap/tls-non-ascii-alpn.pcapng"          // 2 packets
)

// cutOffsets are the places a file is cut in the truncation tests: every
// byte of the first 64, and around and inside each record or block.
func cutOffsets(ends []int, size int) []int {
	set := map[int]bool{}
	for i := 0; i <= 64; i++ {
		set[i] = true
	}
	prev := 0
	for _, e := range ends {
		for _, d := range []int{-1, 1, 4, 8, 12, 15, 16, 17, 20, 28, 29, 33} {
			set[e+d] = true
		}
		set[e] = true
		set[(prev+e)/2] = true
		prev = e
	}
	var out []int
	for o := range set {
		if o >= 0 && o <= size {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}

// TestTruncatedPcap cuts a pcap at many offsets: in the file header it is
// an error at Open; elsewhere the packets wholly before the cut are read,
// and a capture_truncated anomaly says the file was cut unless the cut
// falls between records.
func TestTruncatedPcap(t *testing.T) {
	raw := mustRead(t, corpusFile(t, pcapSample))
	p := parsePcap(t, raw)
	full, err := readFile(corpusFile(t, pcapSample))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, cut := range cutOffsets(p.ends, len(raw)) {
		path := filepath.Join(dir, "cut.pcap")
		os.WriteFile(path, raw[:cut], 0o644)
		got, err := readFile(path)
		switch {
		case cut == 0:
			if !errors.Is(err, capture.ErrEmpty) {
				t.Errorf("cut at 0: got %v, want ErrEmpty", err)
			}
			continue
		case cut < 24:
			if !errors.Is(err, capture.ErrTruncated) || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), path) {
				t.Errorf("cut at %d: got %v, want a truncated-header error naming the file", cut, err)
			}
			continue
		case err != nil:
			t.Errorf("cut at %d: %v", cut, err)
			continue
		}
		want := 0
		for _, e := range p.ends {
			if e <= cut {
				want++
			}
		}
		atBoundary := cut == 24 || slices.Contains(p.ends, cut)
		if got.err != nil || len(got.frames) != want || !slices.Equal(got.frames, full.frames[:want]) {
			t.Errorf("cut at %d: %d packets (err %v), want the first %d", cut, len(got.frames), got.err, want)
		}
		if got.has(capture.AnomalyTruncated) == atBoundary || len(got.anomalies) > 1 {
			t.Errorf("cut at %d (between records: %v): anomalies %v", cut, atBoundary, got.anomalies)
		}
	}
}

// TestTruncatedPcapng does the same for pcapng: a cut in the section
// header is an error at Open, a cut elsewhere keeps the packets before it.
func TestTruncatedPcapng(t *testing.T) {
	raw := mustRead(t, corpusFile(t, pcapngSample))
	blocks := parsePcapng(t, raw)
	full, err := readFile(corpusFile(t, pcapngSample))
	if err != nil {
		t.Fatal(err)
	}
	var ends []int
	for _, b := range blocks {
		ends = append(ends, b.end)
	}
	shbEnd := blocks[0].end
	dir := t.TempDir()
	for _, cut := range cutOffsets(ends, len(raw)) {
		path := filepath.Join(dir, "cut.pcapng")
		os.WriteFile(path, raw[:cut], 0o644)
		got, err := readFile(path)
		switch {
		case cut == 0:
			if !errors.Is(err, capture.ErrEmpty) {
				t.Errorf("cut at 0: got %v, want ErrEmpty", err)
			}
			continue
		case cut < shbEnd:
			if !errors.Is(err, capture.ErrTruncated) || !strings.Contains(err.Error(), path) {
				t.Errorf("cut at %d: got %v, want a truncated-header error naming the file", cut, err)
			}
			continue
		case err != nil:
			t.Errorf("cut at %d: %v", cut, err)
			continue
		}
		want := 0
		for _, b := range blocks {
			if b.typ == 6 && b.end <= cut {
				want++
			}
		}
		atBoundary := slices.Contains(ends, cut)
		if got.err != nil || len(got.frames) != want || !slices.Equal(got.frames, full.frames[:want]) {
			t.Errorf("cut at %d: %d packets (err %v), want the first %d", cut, len(got.frames), got.err, want)
		}
		if got.has(capture.AnomalyTruncated) == atBoundary || len(got.anomalies) > 1 {
			t.Errorf("cut at %d (between blocks: %v): anomalies %v", cut, atBoundary, got.anomalies)
		}
	}
}

// TestTruncatedGzip cuts the compressed stream itself: the packets read
// are a prefix of the file's, and a cut that loses packets is reported.
func TestTruncatedGzip(t *testing.T) {
	for _, name := range []string{pcapSample, pcapngSample} {
		raw := mustRead(t, corpusFile(t, name))
		full, _ := readFile(corpusFile(t, name))
		gz := gzipBytes(t, raw)
		dir := t.TempDir()
		for cut := 1; cut < len(gz); cut += 1 + cut/16 {
			path := filepath.Join(dir, "cut.gz")
			os.WriteFile(path, gz[:cut], 0o644)
			got, err := readFile(path)
			if err != nil {
				if !errors.Is(err, capture.ErrTruncated) && !errors.Is(err, capture.ErrNotCapture) && !errors.Is(err, capture.ErrEmpty) {
					t.Errorf("%s gzip cut at %d: unexpected error kind: %v", name, cut, err)
				}
				continue
			}
			n := len(got.frames)
			if got.err != nil || n > len(full.frames) || !slices.Equal(got.frames, full.frames[:n]) {
				t.Errorf("%s gzip cut at %d: %d packets (err %v), not a prefix of the file's", name, cut, n, got.err)
			}
			if !got.has(capture.AnomalyTruncated) {
				t.Errorf("%s gzip cut at %d: no capture_truncated (anomalies %v)", name, cut, got.anomalies)
			}
		}
	}
}

// epbs are the enhanced packet blocks of a pcapng file.
func epbs(t *testing.T, raw []byte) []ngBlock {
	var out []ngBlock
	for _, b := range parsePcapng(t, raw) {
		if b.typ == 6 {
			out = append(out, b)
		}
	}
	return out
}

// TestBadPcapngBlocks damages one packet block at a time: the packets
// before it are read, then reading ends with capture_bad_block (or, for a
// length that runs past the end of the file, capture_truncated). Damage to
// the first packet that ends reading is an error: nothing was readable.
func TestBadPcapngBlocks(t *testing.T) {
	raw := mustRead(t, corpusFile(t, pcapngSample))
	full, _ := readFile(corpusFile(t, pcapngSample))
	pk := epbs(t, raw)
	le := binary.LittleEndian
	for _, tc := range []struct {
		name   string
		damage func(b []byte, blk ngBlock)
		kinds  []string
	}{
		{"trailing length differs", func(b []byte, k ngBlock) { le.PutUint32(b[k.end-4:], uint32(k.end-k.start+4)) }, []string{capture.AnomalyBadBlock}},
		{"length not a multiple of 4", func(b []byte, k ngBlock) { le.PutUint32(b[k.start+4:], uint32(k.end-k.start+2)) }, []string{capture.AnomalyBadBlock}},
		{"length below 12", func(b []byte, k ngBlock) { le.PutUint32(b[k.start+4:], 8) }, []string{capture.AnomalyBadBlock}},
		{"length shorter than the packet", func(b []byte, k ngBlock) { le.PutUint32(b[k.start+4:], 36) }, []string{capture.AnomalyBadBlock}},
		{"length past the end of the file", func(b []byte, k ngBlock) { le.PutUint32(b[k.start+4:], 0x7ffffff0) }, []string{capture.AnomalyBadBlock, capture.AnomalyTruncated, capture.AnomalyCaplenTooLarge}},
		{"caplen larger than the block", func(b []byte, k ngBlock) { le.PutUint32(b[k.start+20:], uint32(k.end-k.start)) }, []string{capture.AnomalyBadBlock}},
		{"caplen huge", func(b []byte, k ngBlock) { le.PutUint32(b[k.start+20:], 0xfffffff0) }, []string{capture.AnomalyCaplenTooLarge}},
		{"interface that does not exist", func(b []byte, k ngBlock) { le.PutUint32(b[k.start+8:], 7) }, []string{capture.AnomalyBadBlock}},
	} {
		for _, at := range []int{0, 4} {
			b := bytes.Clone(raw)
			tc.damage(b, pk[at])
			path := writeTemp(t, "bad.pcapng", b)
			got, err := readFile(path)
			if err != nil {
				t.Fatalf("%s at packet %d: Open: %v", tc.name, at+1, err)
			}
			// Damage that ends reading (a bad block, a length no capture
			// may hold) at the first packet leaves nothing readable.
			fatal := len(tc.kinds) == 1 && (tc.kinds[0] == capture.AnomalyBadBlock || tc.kinds[0] == capture.AnomalyCaplenTooLarge)
			if at == 0 && (fatal || got.err != nil) {
				if !errors.Is(got.err, capture.ErrNotCapture) || !strings.Contains(got.err.Error(), path) {
					t.Errorf("%s at the first packet: Next error %v, want ErrNotCapture naming the file", tc.name, got.err)
				}
				continue
			}
			if got.err != nil {
				t.Errorf("%s at packet %d: error %v, want io.EOF", tc.name, at+1, got.err)
			}
			if !slices.Equal(got.frames, full.frames[:at]) {
				t.Errorf("%s at packet %d: %d packets, want the %d before", tc.name, at+1, len(got.frames), at)
			}
			if len(got.anomalies) != 1 || !slices.Contains(tc.kinds, got.anomalies[0].Kind) {
				t.Errorf("%s at packet %d: anomalies %v, want one of %v", tc.name, at+1, got.anomalies, tc.kinds)
			} else if off := got.anomalies[0].Offset; off != int64(pk[at].start) {
				t.Errorf("%s at packet %d: anomaly offset %d, block at %d", tc.name, at+1, off, pk[at].start)
			}
		}
	}
}

// customBlock is a pcapng Custom Block (type 0x00000BAD) of n bytes.
func customBlock(n int) []byte {
	b := make([]byte, n)
	binary.LittleEndian.PutUint32(b, 0x00000bad)
	binary.LittleEndian.PutUint32(b[4:], uint32(n))
	binary.LittleEndian.PutUint32(b[n-4:], uint32(n))
	return b
}

// TestPcapngOtherBlocks: blocks that are not packets, small or larger
// than the read buffer, before or after an interface description, are
// skipped without an anomaly.
func TestPcapngOtherBlocks(t *testing.T) {
	raw := mustRead(t, corpusFile(t, pcapngSample))
	full, _ := readFile(corpusFile(t, pcapngSample))
	blocks := parsePcapng(t, raw)
	pk := epbs(t, raw)
	for _, tc := range []struct {
		name string
		at   int // insert before this offset
		size int
	}{
		{"small before the first packet", pk[0].start, 16},
		{"small after the section header", blocks[0].end, 16},
		{"3 MiB after the section header", blocks[0].end, 3 << 20},
		{"3 MiB between packets", pk[3].start, 3 << 20},
		{"1 MiB less 8 after the interface", blocks[1].end, 1<<20 - 8},
		{"3 MiB after the interface", blocks[1].end, 3 << 20},
	} {
		b := slices.Concat(raw[:tc.at], customBlock(tc.size), raw[tc.at:])
		got, err := readFile(writeTemp(t, "x.pcapng", b))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.err != nil || len(got.anomalies) > 0 || !slices.Equal(got.frames, full.frames) {
			t.Errorf("%s: %d packets, err %v, anomalies %v", tc.name, len(got.frames), got.err, got.anomalies)
		}
	}
}

// editcapPcapng converts a capture to pcapng with editcap, a writer
// independent of ours.
func editcapPcapng(t *testing.T, in string) []byte {
	editcap := testutil.Tool(t, "editcap")
	out := filepath.Join(t.TempDir(), "out.pcapng")
	if b, err := exec.Command(editcap, "-F", "pcapng", in, out).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, b)
	}
	return mustRead(t, out)
}

// TestMultiSectionPcapng reads three pcapng files concatenated (three
// sections, Ethernet, BSD Null and Ethernet with nanosecond timestamps) as
// tshark does, frame by frame with link types.
func TestMultiSectionPcapng(t *testing.T) {
	b := slices.Concat(
		mustRead(t, corpusFile(t, pcapngSmall)),
		editcapPcapng(t, corpusFile(t, pcapNull)),
		mustRead(t, corpusFile(t, pcapngSample)),
	)
	path := writeTemp(t, "multi.pcapng", b)
	got, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The second section is three years older than the first.
	s1, s2 := int64(len(mustRead(t, corpusFile(t, pcapngSmall)))), int64(len(b)-len(mustRead(t, corpusFile(t, pcapngSample))))
	if got.err != nil || !slices.Equal(got.kinds(), []string{capture.AnomalyTimeBackwards}) || got.anomalies[0].Offset <= s1 || got.anomalies[0].Offset >= s2 {
		t.Fatalf("err %v, anomalies %v, want one capture_time_backwards at the second section", got.err, got.anomalies)
	}
	want := tsharkFrames(t, path)
	compareFrames(t, got, want)
	if n := len(want); n != 2+9+10 {
		t.Errorf("tshark reads %d frames, want 21", n)
	}
	if got.links[2] != layers.LinkTypeNull || got.links[11] != layers.LinkTypeEthernet {
		t.Errorf("link types %v", got.links)
	}
}

// TestMultiInterfacePcapng reads a one-section pcapng with two interfaces
// of different link types, merged in time order by mergecap.
func TestMultiInterfacePcapng(t *testing.T) {
	mergecap := testutil.Tool(t, "mergecap")
	path := filepath.Join(t.TempDir(), "merged.pcapng")
	if b, err := exec.Command(mergecap, "-F", "pcapng", "-w", path, corpusFile(t, pcapSample), corpusFile(t, pcapNull)).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v\n%s", err, b)
	}
	got, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.err != nil || len(got.anomalies) > 0 {
		t.Fatalf("err %v, anomalies %v", got.err, got.anomalies)
	}
	compareFrames(t, got, tsharkFrames(t, path))
	if !slices.Contains(got.links, layers.LinkTypeNull) || !slices.Contains(got.links, layers.LinkTypeEthernet) {
		t.Errorf("link types %v, want both Null and Ethernet", got.links)
	}
}

// pcapngTimestamps rewrites a little-endian pcapng with one interface so
// that the interface has if_tsresol res and if_tsoffset offset seconds,
// and every packet's timestamp is re-expressed in them.
func pcapngTimestamps(t *testing.T, raw []byte, res byte, offset uint64) []byte {
	le := binary.LittleEndian
	var out []byte
	var unitsPerSec, unitsIn uint64 = 1, 1
	for i := byte(0); i < res&0x7f; i++ {
		if res&0x80 != 0 {
			unitsPerSec *= 2
		} else {
			unitsPerSec *= 10
		}
	}
	for _, b := range parsePcapng(t, raw) {
		blk := raw[b.start:b.end]
		switch b.typ {
		case 1: // IDB: fixed part and our two options only
			opts := []byte{9, 0, 1, 0, res, 0, 0, 0, 14, 0, 8, 0}
			opts = le.AppendUint64(opts, offset)
			opts = append(opts, 0, 0, 0, 0)
			n := 8 + 8 + len(opts) + 4
			nb := le.AppendUint32(nil, 1)
			nb = le.AppendUint32(nb, uint32(n))
			nb = append(nb, blk[8:16]...)
			nb = append(nb, opts...)
			nb = le.AppendUint32(nb, uint32(n))
			out = append(out, nb...)
			// The source's own resolution, to read its timestamps.
			unitsIn = 1e6
			if bytes.Contains(blk, []byte{9, 0, 1, 0, 9}) {
				unitsIn = 1e9
			}
		case 6:
			nb := bytes.Clone(blk)
			ts := uint64(le.Uint32(blk[12:]))<<32 | uint64(le.Uint32(blk[16:]))
			sec, frac := ts/unitsIn, ts%unitsIn
			nts := (sec-offset)*unitsPerSec + frac*unitsPerSec/unitsIn
			le.PutUint32(nb[12:], uint32(nts>>32))
			le.PutUint32(nb[16:], uint32(nts))
			out = append(out, nb...)
		default:
			out = append(out, blk...)
		}
	}
	return out
}

// TestPcapngTimestampResolution: if_tsresol (decimal and binary) and
// if_tsoffset are applied as tshark applies them.
func TestPcapngTimestampResolution(t *testing.T) {
	raw := mustRead(t, corpusFile(t, pcapngSample))
	for _, tc := range []struct {
		name   string
		res    byte
		offset uint64
	}{
		{"milliseconds", 3, 0},
		{"nanoseconds with offset", 9, 1600000000},
		{"2^-20 with offset", 0x80 | 20, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "ts.pcapng", pcapngTimestamps(t, raw, tc.res, tc.offset))
			got, err := readFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.err != nil {
				t.Fatal(got.err)
			}
			compareFrames(t, got, tsharkFrames(t, path))
		})
	}
}

// TestUnsupportedLinkType: a pcap of an unsupported link type is an error
// at Open naming the link type; a pcapng section of one is skipped with an
// anomaly, the other sections read.
func TestUnsupportedLinkType(t *testing.T) {
	raw := mustRead(t, corpusFile(t, pcapNull))
	p := parsePcap(t, raw)
	p.linkType = 163 // IEEE802_11_AVS: 802.11 under a header decode does not read
	wifi := writeTemp(t, "wifi.pcap", p.encode(binary.LittleEndian, false))
	_, err := capture.Open(wifi)
	if !errors.Is(err, capture.ErrUnsupportedLinkType) || !strings.Contains(err.Error(), "163") || !strings.Contains(err.Error(), "802_11") || !strings.Contains(err.Error(), wifi) {
		t.Errorf("got %v, want an unsupported link type error naming 163 and 802.11 and the file", err)
	}

	b := slices.Concat(mustRead(t, corpusFile(t, pcapngSmall)), editcapPcapng(t, wifi), mustRead(t, corpusFile(t, pcapngSmall)))
	got, err := readFile(writeTemp(t, "mixed.pcapng", b))
	if err != nil {
		t.Fatal(err)
	}
	if got.err != nil || len(got.frames) != 4 {
		t.Errorf("%d packets (err %v), want the 4 Ethernet ones", len(got.frames), got.err)
	}
	// The third section repeats the first, so time goes backwards there.
	if !slices.Equal(got.kinds(), []string{capture.AnomalyUnsupportedLinkType, capture.AnomalyTimeBackwards}) || !strings.Contains(got.anomalies[0].Detail, "163") {
		t.Errorf("anomalies %v, want one capture_unsupported_linktype naming 163 (and time going backwards)", got.anomalies)
	}
}

// TestRecordAnomalies: timestamps going backwards, caplen above the snap
// length, above the original length, and beyond any capture.
func TestRecordAnomalies(t *testing.T) {
	raw := mustRead(t, corpusFile(t, pcapSample))
	base := parsePcap(t, raw)
	full, _ := readFile(corpusFile(t, pcapSample))
	read := func(p pcapFile) result {
		t.Helper()
		got, err := readFile(writeTemp(t, "x.pcap", p.encode(binary.LittleEndian, p.nano)))
		if err != nil {
			t.Fatal(err)
		}
		if got.err != nil {
			t.Fatal(got.err)
		}
		return got
	}

	p := base
	p.recs = slices.Clone(base.recs)
	p.recs[2], p.recs[3] = p.recs[3], p.recs[2]
	got := read(p)
	if len(got.frames) != len(full.frames) || !slices.Equal(got.kinds(), []string{capture.AnomalyTimeBackwards}) {
		t.Errorf("swapped records: %d packets, anomalies %v", len(got.frames), got.anomalies)
	}

	p = base
	p.snaplen = 100
	over := 0
	for _, r := range p.recs {
		if r.caplen > 100 {
			over++
		}
	}
	got = read(p)
	if len(got.frames) != len(full.frames) || len(got.anomalies) != over || !got.has(capture.AnomalyCaplenTooLarge) {
		t.Errorf("snaplen 100: %d packets, anomalies %v, want %d capture_caplen_too_large", len(got.frames), got.anomalies, over)
	}

	p = base
	p.recs = slices.Clone(base.recs)
	p.recs[5].origlen = p.recs[5].caplen - 1
	got = read(p)
	if len(got.frames) != len(full.frames) || !slices.Equal(got.kinds(), []string{capture.AnomalyCaplenTooLarge}) || got.frames[6] != full.frames[6] {
		t.Errorf("caplen > original length: %d packets, anomalies %v", len(got.frames), got.anomalies)
	}

	p = base
	p.recs = slices.Clone(base.recs)
	p.recs[5].caplen = 300000
	got = read(p)
	if len(got.frames) != 5 || !slices.Equal(got.kinds(), []string{capture.AnomalyCaplenTooLarge}) {
		t.Errorf("caplen 300000: %d packets, anomalies %v, want 5 and capture_caplen_too_large", len(got.frames), got.anomalies)
	}
}

// TestOpenErrors: errors name the file, say what is wrong, and wrap a
// sentinel (and the os error where there is one).
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	pcapHdr := parsePcap(t, mustRead(t, corpusFile(t, pcapSample)))
	pcapHdr.recs = nil
	v23 := pcapHdr.encode(binary.LittleEndian, false)
	binary.LittleEndian.PutUint16(v23[6:], 3)
	for _, tc := range []struct {
		name, path string
		kind       error
		says       string
	}{
		{"missing", filepath.Join(dir, "nope.pcap"), os.ErrNotExist, "no such file"},
		{"directory", dir, capture.ErrDirectory, "directory"},
		{"empty", file("empty.pcap", nil), capture.ErrEmpty, "empty"},
		{"text", file("notes.pcap", []byte("hello, this is not a capture\n")), capture.ErrNotCapture, `looks like text (starts "hello, this is n")`},
		{"html", file("page.pcap", []byte("<!DOCTYPE html><html>")), capture.ErrNotCapture, "HTML"},
		{"elf", file("bin.pcap", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00")), capture.ErrNotCapture, "ELF"},
		{"bzip2", file("x.pcap.bz2", []byte("BZh91AY&SY")), capture.ErrNotCapture, "bzip2"},
		{"binary", file("x.bin", []byte{0, 1, 2, 3, 4, 5, 6, 7}), capture.ErrNotCapture, "00 01 02 03"},
		{"gzip of text", file("x.gz", gzipBytes(t, []byte("just some words"))), capture.ErrNotCapture, "gzip of something other than a capture file: it looks like text"},
		{"gzip of nothing", file("e.gz", gzipBytes(t, nil)), capture.ErrEmpty, "gzip of an empty file"},
		{"damaged gzip header", file("d.gz", []byte{0x1f, 0x8b, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0}), capture.ErrNotCapture, "gzip"},
		{"pcap version 2.3", file("old.pcap", v23), capture.ErrNotCapture, "version 2.3"},
		{"pcapng byte-order magic", file("bom.pcapng", []byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x01\x02\x03\x04\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00")), capture.ErrNotCapture, "byte-order"},
	} {
		_, err := capture.Open(tc.path)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		var ce *capture.Error
		if !errors.Is(err, tc.kind) || !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.path+": ") || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: got %q, want %v saying %q after the file name", tc.name, err, tc.kind, tc.says)
		}
	}
	if os.Geteuid() != 0 {
		p := file("secret.pcap", mustRead(t, corpusFile(t, pcapSample)))
		os.Chmod(p, 0)
		if _, err := capture.Open(p); !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("unreadable file: got %v", err)
		}
	}
}

// TestPcapngWriter writes a capture through NewPcapngWriter and has tshark
// read it back: the same frames as the original.
func TestPcapngWriter(t *testing.T) {
	src := corpusFile(t, pcapNull)
	f, err := capture.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := filepath.Join(t.TempDir(), "w.pcapng")
	fh, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.NewPcapngWriter(fh, layers.LinkTypeNull, 65535)
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := f.Next()
		if err != nil {
			break
		}
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	want := tsharkFrames(t, src)
	got := tsharkFrames(t, out)
	if !slices.Equal(got, want) {
		t.Errorf("tshark reads the written file as\n%v\nand the original as\n%v", got, want)
	}
	back, err := readFile(out)
	if err != nil {
		t.Fatal(err)
	}
	compareFrames(t, back, want)
}

// TestSimplePacketBlocks reads a pcapng whose packets are Simple Packet
// Blocks (no timestamp, no interface id): tshark's lengths, zero
// timestamps, and no time-going-backwards anomaly for them.
func TestSimplePacketBlocks(t *testing.T) {
	raw := mustRead(t, corpusFile(t, pcapngSample))
	le := binary.LittleEndian
	var b []byte
	for _, blk := range parsePcapng(t, raw) {
		x := raw[blk.start:blk.end]
		if blk.typ != 6 {
			b = append(b, x...)
			continue
		}
		caplen, orig := le.Uint32(x[20:]), le.Uint32(x[24:])
		pad := (4 - caplen%4) % 4
		n := 16 + caplen + pad
		b = le.AppendUint32(b, 3)
		b = le.AppendUint32(b, n)
		b = le.AppendUint32(b, orig)
		b = append(b, x[28:28+caplen]...)
		b = append(b, make([]byte, pad)...)
		b = le.AppendUint32(b, n)
	}
	path := writeTemp(t, "spb.pcapng", b)
	got, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := tsharkFrames(t, path)
	if got.err != nil || len(got.anomalies) > 0 || len(got.frames) != len(want) {
		t.Fatalf("%d packets (tshark %d), err %v, anomalies %v", len(got.frames), len(want), got.err, got.anomalies)
	}
	for i := range want {
		if got.frames[i].caplen != want[i].caplen || got.frames[i].length != want[i].length || want[i].ts != "" {
			t.Errorf("frame %d: %v, tshark %v", i+1, got.frames[i], want[i])
		}
	}
}
