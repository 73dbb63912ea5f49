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
	p.Begin("x.pcap", 1000)
	p.last = time.Time{}
	p.Update(500, 3)
	p.End()
	if buf.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", buf.String())
	}
	p = &Progress{w: &buf, on: true}
	p.Begin("x.pcap", 4<<20)
	p.last = time.Time{}
	p.Update(1<<20, 7)
	p.End()
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
