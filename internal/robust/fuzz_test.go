package robust

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// FuzzPipeline feeds raw capture bytes through capture.NewReader, decode,
// rules and the ndjson report. Invariants: no panic; a refused input is a
// *capture.Error; no more packets than the input has record headers for;
// no more connections than packets; the report is written.
func FuzzPipeline(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(testutil.Pcaps(f), "*.pcap"))
	corpus := os.Getenv("TLSSCOPE_CORPUS")
	if corpus == "" {
		corpus = filepath.Join(testutil.RepoRoot(f), "..", "shared", "corpus")
	}
	filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			if info, err := d.Info(); err == nil && info.Size() <= 8<<10 {
				seeds = append(seeds, p)
			}
		}
		return nil
	})
	crashers, _ := filepath.Glob(filepath.Join(testutil.RepoRoot(f), "testdata", "crashers", "*"))
	for _, p := range append(seeds, crashers...) {
		if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, "README") {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o := runBytes(data, options{formats: []string{"ndjson"}})
		for _, err := range []error{o.openErr, o.readErr} {
			var ce *capture.Error
			if err != nil && !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *capture.Error", err)
			}
		}
		if o.openErr != nil {
			return
		}
		// Every packet needs a record header of 16 bytes (pcap) or more
		// (pcapng), unless gzip inflated the input.
		if len(data) >= 2 && !(data[0] == 0x1f && data[1] == 0x8b) && o.packets > len(data)/16 {
			t.Fatalf("%d packets from %d bytes", o.packets, len(data))
		}
		if uint64(o.conns) > uint64(o.packets) || o.stats.Connections != uint64(o.conns) {
			t.Fatalf("%d connections reported, %d counted, from %d packets", o.conns, o.stats.Connections, o.packets)
		}
		if o.writeErr != nil {
			t.Fatal(o.writeErr)
		}
	})
}
