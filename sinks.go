package tlsscope

import (
	"sync"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// LinesSink is a Sink that writes each connection's NDJSON group (its
// connection line, then its http lines, then its finding lines, most
// severe first) when it closes, and each anomaly as it is seen, to a
// report.Stream of format ndjson (or ecs, or zeek: Stream.Render). The
// lines are rendered on the worker that decoded the connection, except
// zeek's, which depend on what was written before.
type LinesSink struct {
	Out     *report.Stream
	Options report.Options
}

// linesPool holds the buffers connections are rendered into: a worker
// takes one, Prepared returns it, so in steady state rendering grows no
// new buffers. A buffer grown past maxPooledLines (a connection with
// thousands of HTTP requests) is left to the collector.
var linesPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledLines = 256 << 10

type rendered struct {
	lines  *[]byte // from linesPool
	err    error
	direct bool // the format renders in order: Prepared writes through Connection
}

// Connection writes c's group (Run calls Prepare and Prepared instead).
func (s *LinesSink) Connection(c *facts.Connection, fs []facts.Finding) error {
	return s.Prepared(c, fs, s.Prepare(c, fs))
}

// Prepare renders c's group.
func (s *LinesSink) Prepare(c *facts.Connection, fs []facts.Finding) any {
	b := linesPool.Get().(*[]byte)
	var err error
	var ok bool
	*b, ok, err = s.Out.Render((*b)[:0], c, fs, s.Options)
	return rendered{lines: b, err: err, direct: !ok}
}

// Prepared writes what Prepare rendered.
func (s *LinesSink) Prepared(c *facts.Connection, fs []facts.Finding, v any) error {
	r := v.(rendered)
	err := r.err
	if r.direct {
		err = s.Out.Connection(c, fs)
	} else if err == nil {
		err = s.Out.Lines(*r.lines)
	}
	if cap(*r.lines) <= maxPooledLines {
		linesPool.Put(r.lines)
	}
	return err
}

// Anomaly writes an anomaly line.
func (s *LinesSink) Anomaly(a facts.Anomaly) error { return s.Out.Anomaly(a) }

// LiveSink is a Sink that prints as things happen, to a report.Stream
// (ndjson lines or table rows): a connection once its handshake is known
// (or, for a connection without one, when it closes), then each finding
// of it not printed yet as it becomes known, each once; the set of
// findings a later read of the capture reports. When Keep is set it also
// collects everything, for outputs written at the end.
type LiveSink struct {
	Out  *report.Stream // nil: print nothing
	Keep *Collector     // nil: keep nothing

	printed map[uint64]bool            // connection lines printed
	shown   map[uint64]map[string]bool // finding fingerprints printed, per connection
}

// Handshake prints c, or its findings not printed yet.
func (s *LiveSink) Handshake(c *facts.Connection, fs []facts.Finding) error {
	if s.Out == nil {
		return nil
	}
	if s.printed == nil {
		s.printed, s.shown = map[uint64]bool{}, map[uint64]map[string]bool{}
	}
	seen := s.shown[c.ID]
	if seen == nil {
		seen = map[string]bool{}
		s.shown[c.ID] = seen
	}
	var fresh []facts.Finding
	for _, f := range fs {
		if fp := f.Fingerprint(); !seen[fp] {
			seen[fp] = true
			fresh = append(fresh, f)
		}
	}
	if !s.printed[c.ID] {
		s.printed[c.ID] = true
		return s.Out.Connection(c, fresh)
	}
	for _, f := range fresh {
		if err := s.Out.Finding(f); err != nil {
			return err
		}
	}
	return nil
}

// Connection prints what the final facts add and forgets c.
func (s *LiveSink) Connection(c *facts.Connection, fs []facts.Finding) error {
	err := s.Handshake(c, fs)
	delete(s.printed, c.ID)
	delete(s.shown, c.ID)
	if s.Keep != nil {
		s.Keep.Connection(c, fs)
	}
	return err
}

// Anomaly is kept when Keep is set; the stream does not print anomalies
// (the summary counts them).
func (s *LiveSink) Anomaly(a facts.Anomaly) error {
	if s.Keep != nil {
		s.Keep.Anomaly(a)
	}
	return nil
}
