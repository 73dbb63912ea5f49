package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	// Silent when standard error is not a terminal (a buffer is not).
	p := NewProgress(&buf, false)
	p.Show("x.pcap", 1000, 0, 0, false)
	p.last = time.Time{}
	p.Show("x.pcap", 1000, 500, 3, false)
	p.Show("", 0, 0, 3, true)
	if buf.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", buf.String())
	}
	p = &Progress{w: &buf, on: true}
	p.Show("x.pcap", 4<<20, 0, 0, false)
	p.last = time.Time{}
	p.Show("x.pcap", 4<<20, 1<<20, 7, false)
	p.Show("", 0, 0, 7, true)
	out := buf.String()
	for _, want := range []string{"reading x.pcap: 1.0 MiB  25%", "7 connections", "\r\033[K"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress %q lacks %q", out, want)
		}
	}
	if !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("progress line not cleared at the end: %q", out)
	}
}
