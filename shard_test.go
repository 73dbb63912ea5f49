package tlsscope_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/report"
)

// ndjsonLines runs the analyzer over path and returns its NDJSON lines,
// the summaries apart.
func ndjsonLines(t *testing.T, path string, shard, shards, workers int) (lines, summaries []map[string]any, raw []string) {
	t.Helper()
	an, err := tlsscope.New(tlsscope.Config{NoSystemRoots: true, CAFiles: []string{"testdata/pcaps/ca.pem"}, Shard: shard, Shards: shards, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := an.StreamFiles(context.Background(), &b, report.Options{}, path); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%s: %v: %s", path, err, l)
		}
		if m["type"] == "summary" {
			summaries = append(summaries, m)
			continue
		}
		lines, raw = append(lines, m), append(raw, l)
	}
	return lines, summaries, raw
}

// TestShardsCoverEveryConnectionOnce: on every capture of testdata/pcaps,
// the NDJSON lines (connections, http, findings, anomalies) of --shard
// 0/3, 1/3 and 2/3 together are exactly an unsharded run's, as sets; no
// connection line is in two shards; every summary names its shard, and
// the shards' connection counts add up to the unsharded run's.
func TestShardsCoverEveryConnectionOnce(t *testing.T) {
	paths, err := filepath.Glob("testdata/pcaps/*.pcap*")
	if err != nil || len(paths) < 50 {
		t.Fatalf("%d captures in testdata/pcaps (%v)", len(paths), err)
	}
	// The corpus's captures too, when it is there (not required: the
	// repository's are enough to test the property).
	corpus := os.Getenv("TLSSCOPE_CORPUS")
	if corpus == "" {
		corpus = filepath.Join("..", "shared", "corpus")
	}
	filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			paths = append(paths, p)
		}
		return nil
	})
	const n = 3
	conns, nonEmpty := 0, [n]int{}
	for _, p := range paths {
		_, whole, want := ndjsonLines(t, p, 0, 0, 2)
		wantSet := map[string]bool{}
		for _, l := range want {
			wantSet[l] = true
		}
		got := map[string]int{}
		shardConns := 0
		for k := range n {
			lines, sums, raw := ndjsonLines(t, p, k, n, 1+k%2) // one and two workers
			for i, l := range raw {
				got[l]++
				if lines[i]["type"] == "connection" {
					shardConns++
					nonEmpty[k]++
					if got[l] > 1 {
						t.Errorf("%s: connection in two shards: %.120s", p, l)
					}
				}
			}
			for _, s := range sums {
				if s["shard"] != strings.Join([]string{string(rune('0' + k)), "3"}, "/") {
					t.Errorf("%s shard %d/3: summary shard %v", p, k, s["shard"])
				}
			}
		}
		for l := range wantSet {
			if got[l] == 0 {
				t.Errorf("%s: no shard has %.160s", p, l)
			}
		}
		for l := range got {
			if !wantSet[l] {
				t.Errorf("%s: a shard has a line the whole run has not: %.160s", p, l)
			}
		}
		wholeConns := int(whole[len(whole)-1]["connections"].(float64))
		if shardConns != wholeConns {
			t.Errorf("%s: shards report %d connections, the whole run %d", p, shardConns, wholeConns)
		}
		if _, ok := whole[0]["shard"]; ok {
			t.Errorf("%s: unsharded summary has a shard", p)
		}
		conns += wholeConns
	}
	t.Logf("%d captures, %d connections; per shard %v", len(paths), conns, nonEmpty)
	if conns < 80 {
		t.Errorf("only %d connections compared", conns)
	}
	for k, c := range nonEmpty {
		if c < conns/n/3 {
			t.Errorf("shard %d has %d of %d connections: the hash does not spread", k, c, conns)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, s := range []string{"0/1", "2/3", " 1 / 4 "} {
		if _, _, err := tlsscope.ParseShard(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "3/3", "-1/3", "1", "a/b", "0/0", "1/-2"} {
		if _, _, err := tlsscope.ParseShard(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if _, err := tlsscope.New(tlsscope.Config{Shard: 3, Shards: 3}); err == nil {
		t.Error("New accepted shard 3 of 3")
	}
}

// TestStreamedLogsMatchWhole: ecs and zeek written a connection at a time
// (StreamFilesAs, in close order) hold the lines WriteECS and WriteZeek
// write from the whole result, as sets (an x509 record's ts is the first
// written connection's that carried it, so it is left out for zeek).
func TestStreamedLogsMatchWhole(t *testing.T) {
	paths, _ := filepath.Glob("testdata/pcaps/*.pcap*")
	n := 0
	for _, format := range []string{"ecs", "zeek"} {
		for _, p := range paths {
			an, err := tlsscope.New(tlsscope.Config{NoSystemRoots: true, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			var streamed, whole bytes.Buffer
			if _, err := an.StreamFilesAs(context.Background(), &streamed, format, report.Options{}, p); err != nil {
				t.Fatal(err)
			}
			r, err := an.AnalyzeFiles(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if err := report.Write(&whole, format, r, report.Options{}); err != nil {
				t.Fatal(err)
			}
			set := func(b []byte) map[string]int {
				m := map[string]int{}
				for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
					if l == "" {
						continue
					}
					if format == "zeek" && strings.HasPrefix(l, `{"_path":"x509"`) {
						var v map[string]any
						json.Unmarshal([]byte(l), &v)
						delete(v, "ts")
						b, _ := json.Marshal(v)
						l = string(b)
					}
					m[l]++
				}
				return m
			}
			a, b := set(streamed.Bytes()), set(whole.Bytes())
			for l, k := range b {
				n++
				if a[l] != k {
					t.Errorf("%s %s: written whole %d times, streamed %d: %.200s", format, p, k, a[l], l)
				}
			}
			for l := range a {
				if b[l] == 0 {
					t.Errorf("%s %s: streamed only: %.200s", format, p, l)
				}
			}
		}
	}
	t.Logf("%d lines compared", n)
	if n < 250 {
		t.Errorf("only %d lines compared", n)
	}
}
