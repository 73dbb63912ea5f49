package robust

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// captureInputs lists the repository's captures and the corpus captures
// up to maxSize bytes (-short: a third of each, smaller ones).
func captureInputs(t *testing.T) []string {
	maxSize := int64(300 << 10)
	if testing.Short() {
		maxSize = 32 << 10
	}
	paths, err := filepath.Glob(filepath.Join(testutil.Pcaps(t), "*.pcap*"))
	if err != nil {
		t.Fatal(err)
	}
	corpus := testutil.Corpus(t)
	err = filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if !(strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".cap") || strings.HasSuffix(name, ".pcap.gz")) {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() <= maxSize {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	if testing.Short() {
		var some []string
		for i, p := range paths {
			if i%3 == 0 {
				some = append(some, p)
			}
		}
		paths = some
	}
	return paths
}

// mutation is one damaged copy of a capture.
type mutation struct {
	name string
	data []byte
}

// recordSpans returns the [start, end) of every packet record (pcap) or
// block (pcapng) of b, or nil when b is neither (gzip, or unreadable).
func recordSpans(b []byte) [][2]int {
	if len(b) < 24 {
		return nil
	}
	var spans [][2]int
	switch string(b[:4]) {
	case "\xd4\xc3\xb2\xa1", "\x4d\x3c\xb2\xa1", "\xa1\xb2\xc3\xd4", "\xa1\xb2\x3c\x4d":
		var order binary.ByteOrder = binary.LittleEndian
		if b[0] == 0xa1 {
			order = binary.BigEndian
		}
		for off := 24; off+16 <= len(b); {
			end := off + 16 + int(order.Uint32(b[off+8:]))
			if end > len(b) || end <= off {
				break
			}
			spans = append(spans, [2]int{off, end})
			off = end
		}
	case "\x0a\x0d\x0d\x0a":
		var order binary.ByteOrder = binary.LittleEndian
		if string(b[8:12]) == "\x1a\x2b\x3c\x4d" {
			order = binary.BigEndian
		}
		for off := 0; off+12 <= len(b); {
			n := int(order.Uint32(b[off+4:]))
			if n < 12 || off+n > len(b) {
				break
			}
			if order.Uint32(b[off:]) == 6 {
				spans = append(spans, [2]int{off, off + n})
			}
			off += n
		}
	}
	return spans
}

// mutate makes the damaged copies of one capture, deterministically (the
// seed is the file's name).
func mutate(name string, b []byte) []mutation {
	h := fnv.New64a()
	h.Write([]byte(name))
	rng := rand.New(rand.NewPCG(h.Sum64(), 1))
	var ms []mutation
	add := func(n string, d []byte) { ms = append(ms, mutation{n, d}) }
	for _, off := range []int{10, 30, len(b) / 3, len(b) / 2, len(b) - 7} {
		if off > 0 && off < len(b) {
			add("cut-"+itoa(off), slices.Clone(b[:off]))
		}
	}
	flip := func(from, to, n int) []byte {
		d := slices.Clone(b)
		if to > len(d) {
			to = len(d)
		}
		if from >= to {
			return d
		}
		for range n {
			i := from + rng.IntN(to-from)
			d[i] ^= 1 << rng.IntN(8)
		}
		return d
	}
	for i := range 4 { // packet data
		add("flip-data-"+itoa(i), flip(24, len(b), 1+i*8))
	}
	for i := range 2 { // the file header / section header and first blocks
		add("flip-header-"+itoa(i), flip(0, 64, 1))
	}
	spans := recordSpans(b)
	for i := range 2 { // record headers: lengths and timestamps
		d := slices.Clone(b)
		for range 1 + 3*i {
			if len(spans) == 0 {
				break
			}
			s := spans[rng.IntN(len(spans))]
			j := s[0] + rng.IntN(min(16, s[1]-s[0]))
			d[j] ^= 1 << rng.IntN(8)
		}
		add("flip-record-header-"+itoa(i), d)
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	add("garbage-appended", append(slices.Clone(b), garbage...))
	if len(spans) > 0 {
		d := slices.Clone(b[:spans[0][0]])
		for i, s := range spans {
			d = append(d, b[s[0]:s[1]]...)
			if i%3 == 0 {
				d = append(d, b[s[0]:s[1]]...)
			}
		}
		d = append(d, b[spans[len(spans)-1][1]:]...)
		add("records-duplicated", d)
		r := slices.Clone(b[:spans[0][0]])
		for i := len(spans) - 1; i >= 0; i-- {
			r = append(r, b[spans[i][0]:spans[i][1]]...)
		}
		add("records-reversed", r)
	}
	return ms
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestMutatedCaptures: damaged copies of every repository capture and of
// the corpus captures run through the whole pipeline to the end: no panic,
// no hang, every report format written; a capture that cannot be read is a
// *capture.Error naming the file.
func TestMutatedCaptures(t *testing.T) {
	dir := t.TempDir()
	anomalies := map[string]uint64{}
	runs, refused := 0, 0
	for _, src := range captureInputs(t) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(src)
		for _, m := range mutate(base, b) {
			path := filepath.Join(dir, base+"."+m.name)
			if err := os.WriteFile(path, m.data, 0o644); err != nil {
				t.Fatal(err)
			}
			o := finishes(t, path, func() *outcome { return runFile(path, options{}) })
			runs++
			if o.writeErr != nil {
				t.Errorf("%s: %v", path, o.writeErr)
			}
			for _, err := range []error{o.openErr, o.readErr} {
				if err == nil {
					continue
				}
				refused++
				var ce *capture.Error
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), path) {
					t.Errorf("%s: error %q is not a *capture.Error naming the file", path, err)
				}
			}
			for k, n := range o.anomalies() {
				anomalies[k] += n
			}
			os.Remove(path)
		}
	}
	t.Logf("%d mutated captures, %d refused with an error; anomalies: %v", runs, refused, anomalies)
	if runs > 0 && len(anomalies) == 0 {
		t.Error("no anomaly counted over all mutated captures")
	}
}
