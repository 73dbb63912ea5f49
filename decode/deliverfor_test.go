package decode

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestDeliverForChangesNothing: Parallel workers told which kinds of
// events the caller's Handler takes (deliverFor) make the same Handler
// calls, in the same order, as workers that hold every event, for
// Handlers that take some kinds and not others; and they hold fewer.
// (NewParallel tells its workers; the reference run takes it back.)
func TestDeliverForChangesNothing(t *testing.T) {
	var files []string
	own, _ := filepath.Glob(filepath.Join(testutil.Pcaps(t), "*.pcap"))
	files = append(files, own...)
	filepath.Walk(testutil.Corpus(t), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".tshark.tsv") {
			files = append(files, strings.TrimSuffix(p, ".tshark.tsv"))
		}
		return nil
	})
	sort.Strings(files)
	var held, heldFor int
	for _, path := range files {
		pkts := readCapture(t, path)
		for _, kinds := range []string{"connection anomaly", "prepared anomaly", "handshake secret http", "connection"} {
			run := func(tell bool) (calls []string, events int) {
				rec := func(kind string, v ...any) {
					b, _ := json.Marshal(v)
					calls = append(calls, kind+" "+string(b))
				}
				var h Handler
				for _, k := range strings.Fields(kinds) {
					switch k {
					case "connection":
						h.Connection = func(c *facts.Connection) { rec("connection", c) }
					case "prepared":
						h.Prepare = func(c *facts.Connection) any { return c.ID }
						h.Prepared = func(c *facts.Connection, v any) { rec("prepared", c, v) }
					case "anomaly":
						h.Anomaly = func(an facts.Anomaly) { rec("anomaly", an) }
					case "handshake":
						h.Handshake = func(c *facts.Connection) { rec("handshake", c) }
					case "secret":
						h.Secret = func(c *facts.Connection, s facts.Secret) { rec("secret", c.ID, s) }
					case "http":
						h.HTTP = func(c *facts.Connection, m facts.HTTPMessage) { rec("http", c.ID, m) }
					}
				}
				p := NewParallel(Config{}, h, 2)
				defer p.Close()
				for _, w := range p.workers {
					if !tell { // NewParallel told them: undo it
						clear(w.a.unwanted[:])
					}
					collect := w.a.collect
					w.a.collect = func(evs []event) { events += len(evs); collect(evs) }
				}
				p.SetCapture("test")
				for _, pk := range pkts {
					p.Packet(pk)
				}
				p.Flush()
				return calls, events
			}
			want, n := run(false)
			got, nFor := run(true)
			held, heldFor = held+n, heldFor+nFor
			if !slices.Equal(got, want) {
				t.Fatalf("%s, Handler with %s: %d calls, %d from workers holding every event", filepath.Base(path), kinds, len(got), len(want))
			}
		}
	}
	t.Logf("events held: %d, %d with deliverFor", held, heldFor)
	if heldFor >= held {
		t.Error("deliverFor dropped no event")
	}
}

// readCapture reads a whole capture, each packet's bytes its own (the
// external tests use it as ReadCapture).
func readCapture(t testing.TB, path string) []capture.Packet {
	t.Helper()
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pkts []capture.Packet
	for {
		p, err := f.Next()
		if err == io.EOF {
			return pkts
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pkts = append(pkts, capture.Packet{Data: append([]byte(nil), p.Data...), Info: p.Info, LinkType: p.LinkType})
	}
}
