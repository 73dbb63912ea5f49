package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// frame is what tshark and capture.File both say about one packet.
type frame struct {
	ts             string // seconds.nanoseconds since the epoch, as tshark prints frame.time_epoch
	caplen, length int
	link           string // tshark's first protocol in frame.protocols
}

func (f frame) String() string {
	return fmt.Sprintf("%s caplen=%d len=%d %s", f.ts, f.caplen, f.length, f.link)
}

// corpusCaptures lists the pcap and pcapng files of the corpus.
func corpusCaptures(t testing.TB) []string {
	dir := testutil.Corpus(t)
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".pcap" || ext == ".pcapng") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 55 {
		t.Fatalf("only %d captures in the corpus at %s, want at least 55", len(out), dir)
	}
	return out
}

var (
	tsharkMu    sync.Mutex
	tsharkCache = map[string][]frame{}
)

// tsharkFrames is tshark's reading of a capture: every frame's timestamp,
// lengths and link layer.
func tsharkFrames(t testing.TB, path string) []frame {
	t.Helper()
	tsharkMu.Lock()
	fr, ok := tsharkCache[path]
	tsharkMu.Unlock()
	if ok {
		return fr
	}
	tshark := testutil.Tool(t, "tshark")
	cmd := exec.Command(tshark, "-n", "-r", path, "-T", "fields",
		"-e", "frame.time_epoch", "-e", "frame.cap_len", "-e", "frame.len", "-e", "frame.protocols")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", path, err, stderr.String())
	}
	fr = []frame{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("tshark line %q", line)
		}
		caplen, _ := strconv.Atoi(f[1])
		length, _ := strconv.Atoi(f[2])
		link, _, _ := strings.Cut(f[3], ":")
		fr = append(fr, frame{ts: f[0], caplen: caplen, length: length, link: link})
	}
	tsharkMu.Lock()
	tsharkCache[path] = fr
	tsharkMu.Unlock()
	return fr
}

// tsharkLink maps tshark's first protocol of a frame to the link types
// that show it.
var tsharkLink = map[string][]layers.LinkType{
	"eth":  {layers.LinkTypeEthernet},
	"null": {layers.LinkTypeNull},
	"loop": {layers.LinkTypeLoop},
	"raw":  {layers.LinkTypeRaw, 12, 14},
	"ip":   {layers.LinkTypeIPv4},
	"ipv6": {layers.LinkTypeIPv6},
	"sll":  {layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2},
	"ppp":  {layers.LinkTypePPP},
}

// capinfosLink maps capinfos -E encapsulation names to link types.
var capinfosLink = map[string][]layers.LinkType{
	"ether":  {layers.LinkTypeEthernet},
	"null":   {layers.LinkTypeNull},
	"loop":   {layers.LinkTypeLoop},
	"rawip":  {layers.LinkTypeRaw, 12, 14},
	"rawip4": {layers.LinkTypeIPv4},
	"rawip6": {layers.LinkTypeIPv6},
	"sll":    {layers.LinkTypeLinuxSLL},
	"sll2":   {layers.LinkTypeLinuxSLL2},
	"ppp":    {layers.LinkTypePPP},
}

// capinfo is capinfos's summary of one capture.
type capinfo struct {
	encap       string
	packets     int
	first, last string // seconds.nanoseconds
}

// capinfosAll runs capinfos once over many captures.
func capinfosAll(t testing.TB, paths []string) map[string]capinfo {
	t.Helper()
	bin := testutil.Tool(t, "capinfos")
	args := append([]string{"-T", "-r", "-c", "-E", "-S", "-a", "-e", "-M"}, paths...)
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("capinfos: %v", err)
	}
	m := map[string]capinfo{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("capinfos line %q", line)
		}
		n, _ := strconv.Atoi(f[2])
		m[f[0]] = capinfo{encap: f[1], packets: n, first: nanoDecimal(f[3]), last: nanoDecimal(f[4])}
	}
	return m
}

// nanoDecimal pads "123.456789" to nine decimals.
func nanoDecimal(s string) string {
	sec, frac, _ := strings.Cut(s, ".")
	return sec + "." + (frac + "000000000")[:9]
}

func linkMatches(tsharkName string, lt layers.LinkType) bool {
	return linkIn(tsharkLink[tsharkName], lt)
}

func linkIn(set []layers.LinkType, lt layers.LinkType) bool {
	for _, l := range set {
		if l == lt {
			return true
		}
	}
	return false
}

// result is everything read from a capture.
type result struct {
	frames    []frame
	links     []layers.LinkType
	anomalies []capture.Anomaly
	err       error // from Next, other than io.EOF
	file      *capture.File
}

func (r result) kinds() []string {
	var k []string
	for _, a := range r.anomalies {
		k = append(k, a.Kind)
	}
	return k
}

func (r result) has(kind string) bool {
	for _, a := range r.anomalies {
		if a.Kind == kind {
			return true
		}
	}
	return false
}

// readFile opens and reads a whole capture; an Open error is returned as is.
func readFile(path string) (result, error) {
	f, err := capture.Open(path)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	return readAll(f), nil
}

func readAll(f *capture.File) result {
	var r result
	r.file = f
	f.OnAnomaly = func(a capture.Anomaly) { r.anomalies = append(r.anomalies, a) }
	for {
		p, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = err
			break
		}
		ts := p.Info.Timestamp
		r.frames = append(r.frames, frame{
			ts:     fmt.Sprintf("%d.%09d", ts.Unix(), ts.Nanosecond()),
			caplen: p.Info.CaptureLength,
			length: p.Info.Length,
		})
		if len(p.Data) != p.Info.CaptureLength {
			r.err = fmt.Errorf("packet %d: %d bytes of data, caplen %d", len(r.frames), len(p.Data), p.Info.CaptureLength)
			break
		}
		r.links = append(r.links, p.LinkType)
	}
	return r
}

// compareFrames checks our reading against tshark's, frame by frame.
func compareFrames(t *testing.T, got result, want []frame) {
	t.Helper()
	if len(got.frames) != len(want) {
		t.Errorf("%d packets, tshark reads %d", len(got.frames), len(want))
	}
	bad := 0
	for i := 0; i < len(got.frames) && i < len(want); i++ {
		g, w := got.frames[i], want[i]
		g.link = w.link
		if g != w || !linkMatches(w.link, got.links[i]) {
			t.Errorf("frame %d: got %v link type %d, tshark %v", i+1, g, got.links[i], w)
			if bad++; bad > 5 {
				return
			}
		}
	}
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pcapFile is a pcap file taken apart by the tests' own parser, which
// knows nothing of capture or pcapgo.
type pcapFile struct {
	nano     bool
	snaplen  uint32
	linkType uint32
	recs     []pcapRec
	ends     []int // offset just after each record in the original bytes
}

type pcapRec struct {
	sec, frac, caplen, origlen uint32
	data                       []byte
}

func parsePcap(t testing.TB, b []byte) pcapFile {
	t.Helper()
	var order binary.ByteOrder
	var p pcapFile
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		order = binary.LittleEndian
	case 0xa1b23c4d:
		order, p.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		order = binary.BigEndian
	case 0x4d3cb2a1:
		order, p.nano = binary.BigEndian, true
	default:
		t.Fatalf("not a pcap: % x", b[:4])
	}
	p.snaplen = order.Uint32(b[16:])
	p.linkType = order.Uint32(b[20:])
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			t.Fatalf("pcap cut at %d", off)
		}
		r := pcapRec{sec: order.Uint32(b[off:]), frac: order.Uint32(b[off+4:]), caplen: order.Uint32(b[off+8:]), origlen: order.Uint32(b[off+12:])}
		r.data = b[off+16 : off+16+int(r.caplen)]
		off += 16 + int(r.caplen)
		p.recs = append(p.recs, r)
		p.ends = append(p.ends, off)
	}
	return p
}

// encode writes the pcap in the given byte order and resolution.
func (p pcapFile) encode(order binary.AppendByteOrder, nano bool) []byte {
	var b []byte
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, p.snaplen)
	b = order.AppendUint32(b, p.linkType)
	for _, r := range p.recs {
		frac := r.frac
		switch {
		case nano && !p.nano:
			frac *= 1000
		case !nano && p.nano:
			frac /= 1000
		}
		b = order.AppendUint32(b, r.sec)
		b = order.AppendUint32(b, frac)
		b = order.AppendUint32(b, r.caplen)
		b = order.AppendUint32(b, r.origlen)
		b = append(b, r.data...)
	}
	return b
}

// ngBlock is one pcapng block as the tests' own parser sees it
// (little-endian files only, which the corpus's are).
type ngBlock struct {
	typ        uint32
	start, end int
}

func parsePcapng(t testing.TB, b []byte) []ngBlock {
	t.Helper()
	var out []ngBlock
	for off := 0; off < len(b); {
		if binary.LittleEndian.Uint32(b[off+8:]) != 0x1a2b3c4d && binary.LittleEndian.Uint32(b[off:]) == 0x0a0d0d0a {
			t.Fatalf("big-endian section at %d", off)
		}
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		out = append(out, ngBlock{typ: binary.LittleEndian.Uint32(b[off:]), start: off, end: off + n})
		off += n
	}
	return out
}

func isKind(err, kind error) bool { return errors.Is(err, kind) }

func fmtSscanf(s string, sec, ns *int64) (int, error) { return fmt.Sscanf(s, "%d.%d", sec, ns) }
