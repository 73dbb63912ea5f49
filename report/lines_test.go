package report

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// group is one closed connection of a real capture and its findings, as a
// streaming run renders them.
type group struct {
	conn *facts.Connection
	fs   []facts.Finding
}

// captured is what decoding a capture file gave: its connections (judged)
// and its anomalies.
type captured struct {
	groups    []group
	anomalies []facts.Anomaly
}

// decodeCapture runs a capture file through decode.Analyzer and the rules
// (trusting testdata/pcaps/ca.pem), keeping each closed connection (the
// struct copied: what it points to is never reused).
func decodeCapture(tb testing.TB, path string, rc *rules.Config) captured {
	tb.Helper()
	var out captured
	_, err := decode.ReadFile(path, path, decode.Config{}, decode.Handler{
		Connection: func(c *facts.Connection) {
			fs := rules.Evaluate(c, rc)
			SortFindings(fs)
			cc := *c
			out.groups = append(out.groups, group{&cc, fs})
		},
		Anomaly: func(a facts.Anomaly) { out.anomalies = append(out.anomalies, a) },
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// pcapsConfig trusts testdata/pcaps/ca.pem and nothing else, so findings
// do not depend on the machine's store.
func pcapsConfig(tb testing.TB) *rules.Config {
	tb.Helper()
	rc := &rules.Config{CAFiles: []string{filepath.Join(testutil.Pcaps(tb), "ca.pem")}}
	if err := rc.Load(); err != nil {
		tb.Fatal(err)
	}
	return rc
}

// captureFiles lists the capture files under dir, recursively, sorted.
func captureFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(d.Name(), ".gz")
		if !d.IsDir() && (strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".cap")) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// pcapsGroups is every connection of testdata/pcaps.
func pcapsGroups(tb testing.TB) []group {
	tb.Helper()
	rc := pcapsConfig(tb)
	var all []group
	for _, p := range captureFiles(tb, testutil.Pcaps(tb)) {
		all = append(all, decodeCapture(tb, p, rc).groups...)
	}
	if len(all) < 50 {
		tb.Fatalf("%d connections in testdata/pcaps", len(all))
	}
	return all
}

// referenceLines is ConnectionLines as encoding/json renders it: an
// Encoder without HTML escaping over the records, one per line. It is the
// independent side of the comparisons (and the baseline of the
// benchmarks).
func referenceLines(c *facts.Connection, fs []facts.Finding, opt Options) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(NewConnectionRecord(c, fs, opt)); err != nil {
		return nil, err
	}
	for _, m := range c.HTTP {
		if err := enc.Encode(NewHTTPRecord(c, m)); err != nil {
			return nil, err
		}
	}
	for _, f := range fs {
		if err := enc.Encode(NewFindingRecord(f)); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// BenchmarkConnectionLines renders every connection of testdata/pcaps
// (TLS 1.0 to 1.3 with certificates, cleartext protocols with secrets and
// HTTP requests) per op: "reference" with encoding/json over the records
// (how ConnectionLines rendered them before), "lines" with
// ConnectionLines, "append" with AppendConnectionLines into a reused
// buffer, as the streaming run does.
func BenchmarkConnectionLines(b *testing.B) {
	groups := pcapsGroups(b)
	opt := Options{}
	var size int64
	for _, g := range groups {
		l, _ := referenceLines(g.conn, g.fs, opt)
		size += int64(len(l))
	}
	b.Run("reference", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, g := range groups {
				if _, err := referenceLines(g.conn, g.fs, opt); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("lines", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, g := range groups {
				if _, err := ConnectionLines(g.conn, g.fs, opt); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			for _, g := range groups {
				var err error
				if buf, err = AppendConnectionLines(buf[:0], g.conn, g.fs, opt); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("records", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, g := range groups {
				_ = NewConnectionRecord(g.conn, g.fs, opt)
				for _, m := range g.conn.HTTP {
					_ = NewHTTPRecord(g.conn, m)
				}
				for _, f := range g.fs {
					_ = NewFindingRecord(f)
				}
			}
		}
	})
}

// TestConnectionLinesEqualEncodingJSON: on every connection of
// testdata/pcaps, with secrets masked and shown, ConnectionLines gives
// the bytes encoding/json gives for the same records.
func TestConnectionLinesEqualEncodingJSON(t *testing.T) {
	groups := pcapsGroups(t)
	compareGroups(t, "testdata/pcaps", groups)
}

func compareGroups(t *testing.T, name string, groups []group) {
	t.Helper()
	n := 0
	for _, opt := range []Options{{}, {ShowSecrets: true}} {
		for _, g := range groups {
			want, err := referenceLines(g.conn, g.fs, opt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ConnectionLines(g.conn, g.fs, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: connection %d (%s):\n got %s\nwant %s", name, g.conn.ID, g.conn.Capture, got, want)
				continue
			}
			n += strings.Count(string(want), "\n")
		}
	}
	if n == 0 {
		t.Errorf("%s: no lines compared", name)
	}
	t.Logf("%s: %d connections, %d lines equal", name, len(groups), n)
}
