package decode

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestSkipAckChangesNothing: the ACKs that skipAck keeps from the
// reassembler change nothing in what the Analyzer reports. The reassembler
// fed every segment is the oracle: each capture of testdata/pcaps and the
// corpus's TLS captures is run with and without skipAck, as recorded and
// mangled so that the reassembler's other paths run too (frames dropped:
// gaps and queued pages; frames swapped: out-of-order data; pauses of 11
// s and 3 min: idle flushes that push queued data and close connections
// by the time they were last active; a flow cap of 2 and a page or two of
// buffer: evictions and forced delivery), and every Handler call and the
// counters must be the same.
func TestSkipAckChangesNothing(t *testing.T) {
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
	if len(files) < 50 {
		t.Fatalf("only %d captures", len(files))
	}
	small := Config{MaxFlows: 2, MaxBufferedBytes: pageSize, MaxBufferedTotal: 3 * pageSize}
	var skipped int
	for _, path := range files {
		pkts := readFile(t, path)
		for variant := 0; variant < 16; variant++ {
			in := mangleFrames(pkts, int64(variant))
			for _, cfg := range []Config{{}, small} {
				want, _ := handlerCalls(in, cfg, true)
				got, n := handlerCalls(in, cfg, false)
				skipped += n
				if len(got) != len(want) {
					t.Fatalf("%s variant %d, %d flows: %d Handler calls, %d without skipAck", filepath.Base(path), variant, cfg.MaxFlows, len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s variant %d, %d flows: call %d\n%s\nwithout skipAck:\n%s", filepath.Base(path), variant, cfg.MaxFlows, i, got[i], want[i])
					}
				}
			}
		}
	}
	t.Logf("%d captures, %d ACKs skipped", len(files), skipped)
	if skipped == 0 {
		t.Error("no ACK skipped")
	}
}

// handlerCalls runs frames through one Analyzer and lists its Handler
// calls and final counters, as JSON; n is how many segments skipAck kept
// from the reassembler.
func handlerCalls(pkts []capture.Packet, cfg Config, noSkip bool) (calls []string, n int) {
	rec := func(kind string, v ...any) {
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte(err.Error())
		}
		calls = append(calls, kind+" "+string(b))
	}
	a := New(cfg, Handler{
		Handshake:  func(c *facts.Connection) { rec("handshake", c) },
		Connection: func(c *facts.Connection) { rec("connection", c) },
		Secret:     func(c *facts.Connection, s facts.Secret) { rec("secret", c.ID, s) },
		HTTP:       func(c *facts.Connection, m facts.HTTPMessage) { rec("http", c.ID, m) },
		Anomaly:    func(an facts.Anomaly) { rec("anomaly", an) },
	})
	a.noSkipAck = noSkip
	a.SetCapture("test")
	for _, p := range pkts {
		a.Packet(p)
	}
	a.Flush()
	rec("stats", a.Stats())
	return calls, a.skippedAcks
}

func readFile(t *testing.T, path string) []capture.Packet {
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

// mangleFrames returns the frames as recorded (seed 0) or, for other
// seeds, with some dropped, some swapped with their successor, and pauses
// of 11 s and 3 min put in before some.
func mangleFrames(pkts []capture.Packet, seed int64) []capture.Packet {
	if seed == 0 {
		return pkts
	}
	rng := rand.New(rand.NewSource(seed))
	var out []capture.Packet
	var shift time.Duration
	for _, p := range pkts {
		switch r := rng.Intn(100); {
		case r < 5:
			continue // dropped
		case r < 8:
			shift += 11 * time.Second
		case r < 10:
			shift += 3 * time.Minute
		}
		p.Info.Timestamp = p.Info.Timestamp.Add(shift)
		out = append(out, p)
		if n := len(out); n >= 2 && rng.Intn(100) < 8 {
			// Swapped, times kept in order.
			t0, t1 := out[n-2].Info.Timestamp, out[n-1].Info.Timestamp
			out[n-2], out[n-1] = out[n-1], out[n-2]
			out[n-2].Info.Timestamp, out[n-1].Info.Timestamp = t0, t1
		}
	}
	return out
}

// FuzzSkipAckChangesNothing: whatever the capture, with its frames as
// read and mangled, skipAck changes no Handler call.
func FuzzSkipAckChangesNothing(f *testing.F) {
	for _, name := range []string{"tls13-go.pcap", "http-form-login.pcap", "tls12-chacha20-openssl.pcap", "smtp-auth-plain.pcap"} {
		raw, err := os.ReadFile(filepath.Join(testutil.Pcaps(f), name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw[:min(len(raw), 16<<10)], int64(1)) // cut: the fuzzer works on small inputs
	}
	f.Fuzz(func(t *testing.T, data []byte, seed int64) {
		cf, err := capture.NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		var pkts []capture.Packet
		for {
			p, err := cf.Next()
			if err != nil {
				break
			}
			pkts = append(pkts, capture.Packet{Data: append([]byte(nil), p.Data...), Info: p.Info, LinkType: p.LinkType})
		}
		cf.Close()
		in := mangleFrames(pkts, seed)
		for _, cfg := range []Config{{}, {MaxFlows: 2, MaxBufferedBytes: pageSize, MaxBufferedTotal: 3 * pageSize}} {
			want, _ := handlerCalls(in, cfg, true)
			got, _ := handlerCalls(in, cfg, false)
			if !slices.Equal(got, want) {
				t.Fatalf("%d flows: with skipAck\n%q\nwithout:\n%q", cfg.MaxFlows, got, want)
			}
		}
	})
}
