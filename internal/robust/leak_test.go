package robust

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestNoGoroutineLeak: a run over a plain, a gzip and a damaged capture
// leaves no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	src := filepath.Join(testutil.Pcaps(t), "tls13-openssl.pcap")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	gz := filepath.Join(dir, "t.pcap.gz")
	cut := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(gz, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	before := settledGoroutines(-1)
	for _, p := range []string{src, gz, cut} {
		o := finishes(t, p, func() *outcome { return runFile(p, options{}) })
		if o.conns == 0 {
			t.Errorf("%s: no connection decoded", p)
		}
	}
	runBytes(b, options{formats: []string{"ndjson"}})
	if after := settledGoroutines(before); after != before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before the runs, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// settledGoroutines waits (up to 2 s) for the goroutine count to reach
// want (or, with want < 0, to stop changing) and returns it.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for range 40 {
		if n == want {
			return n
		}
		time.Sleep(50 * time.Millisecond)
		m := runtime.NumGoroutine()
		if want < 0 && m == n {
			return n
		}
		n = m
	}
	return n
}
