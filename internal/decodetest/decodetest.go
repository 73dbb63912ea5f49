// Package decodetest runs capture files through decode for the tests of
// the stages after it (rules, reports), so each does not write the read
// loop again.
package decodetest

import (
	"errors"
	"io"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
)

// Run reads the capture at path through one decode.Analyzer with cfg,
// which calls h and names the input name, and returns its counters. A
// capture cut short ends where it is cut (an anomaly, as the CLI reads
// it); one that cannot be opened or read fails the test.
func Run(tb testing.TB, path, name string, cfg decode.Config, h decode.Handler) facts.Stats {
	tb.Helper()
	f, err := capture.Open(path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	a := decode.New(cfg, h)
	a.SetCapture(name)
	for {
		p, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("read %s: %v", path, err)
		}
		a.Packet(p)
	}
	a.Flush()
	return a.Stats()
}

// Connections runs a capture (see Run) and returns copies of its
// connections in the order they closed.
func Connections(tb testing.TB, path, name string) []*facts.Connection {
	tb.Helper()
	var conns []*facts.Connection
	Run(tb, path, name, decode.Config{}, decode.Handler{Connection: func(c *facts.Connection) {
		cp := *c // valid only during the call; what it points to is not reused
		conns = append(conns, &cp)
	}})
	return conns
}
