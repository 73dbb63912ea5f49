package main

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// packetSource is what live capture reads from (a capture.File has the same
// methods, which the tests use).
type packetSource interface {
	Next() (capture.Packet, error)
	Close() error
}

// streamOutput is the stdout format of a streaming run: the one --format
// without a file, if it can stream, else none.
func streamOutput(cfg *config) string {
	for _, o := range cfg.outputs {
		if o.path == "" {
			return o.format
		}
	}
	return ""
}

// stream runs the engine over a source that may never end (a live
// interface), printing each connection when its handshake completes or
// fails, and each secret as it is seen. It stops at end of input, on
// SIGINT/SIGTERM, after --duration or after --count packets; the caller
// then writes the summary and any files.
func (s *session) stream(name string, src packetSource, stdout io.Writer) (*report.Capture, error) {
	e := s.eng
	opt := report.Options{ShowSecrets: s.cfg.showSecrets, Width: tableWidth(s.cfg), FailOn: junitFailOn(s.cfg)}
	var out *report.Stream
	if f := streamOutput(s.cfg); f != "" {
		var err error
		if out, err = report.NewStream(stdout, f, opt); err != nil {
			return nil, usagef("%v", err)
		}
	}
	var mu sync.Mutex // guards stopped, set by the signal goroutine
	col := &collector{}
	printed := map[uint64]bool{}          // connection lines printed
	shown := map[uint64]map[string]bool{} // finding fingerprints printed, per connection
	// show prints the connection's line the first time, then any finding
	// of it not printed yet: findings as they become known, each once, the
	// same set a later read of the capture reports.
	judge := func(c *facts.Connection) []facts.Finding {
		fs := e.rules.evaluate(c)
		if s.pol != nil {
			fs = s.pol.Apply(append(fs, s.pol.Check(c)...), s.now).Kept
		}
		return fs
	}
	show := func(c *facts.Connection, fs []facts.Finding) {
		seen := shown[c.ID]
		if seen == nil {
			seen = map[string]bool{}
			shown[c.ID] = seen
		}
		var fresh []facts.Finding
		for _, f := range fs {
			if fp := report.FindingFingerprint(f); !seen[fp] {
				seen[fp] = true
				fresh = append(fresh, f)
			}
		}
		if !printed[c.ID] {
			printed[c.ID] = true
			out.Connection(c, fresh)
			return
		}
		for _, f := range fresh {
			out.Finding(f)
		}
	}
	h := col.handler()
	h.Handshake = func(c *facts.Connection) {
		if out != nil && s.keep(c) {
			show(c, judge(c))
		}
	}
	// A secret is judged as soon as it is seen.
	h.Secret = func(c *facts.Connection, _ facts.Secret) { h.Handshake(c) }
	// At close: the line of a connection without a handshake (cleartext,
	// or TLS cut short), and findings only the final facts show.
	//
	// A capture may run for days: unless a file output or --ladder needs
	// the whole facts at the end, a closed connection is judged now (the policy
	// too), counted in the tally, and nothing of it is kept. Anomaly
	// records are then not kept either: the stream does not print them
	// and the summary counts them from the analyzer's counters.
	keepFacts := h.Connection
	lean := !hasFileOutputs(s.cfg) && s.cfg.ladder == ""
	tally := report.NewTally()
	if lean {
		h.Anomaly = nil
	}
	h.Connection = func(c *facts.Connection) {
		kept := s.keep(c)
		var fs []facts.Finding
		if kept && (out != nil || lean) {
			fs = judge(c)
		}
		if !lean {
			keepFacts(c)
		} else if kept {
			tally.AddConnection(c)
			tally.AddFindings(fs)
		}
		if out != nil && kept {
			show(c, fs)
		}
		delete(printed, c.ID)
		delete(shown, c.ID)
	}
	an := decode.New(e.decodeConfig(), h)
	an.SetCapture(name)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	done := make(chan struct{})
	defer close(done)
	var stopped bool
	go func() {
		var timeout <-chan time.Time
		if s.cfg.duration > 0 {
			timeout = time.After(s.cfg.duration)
		}
		select {
		case <-stop:
		case <-timeout:
		case <-done:
			return
		}
		mu.Lock()
		stopped = true
		mu.Unlock()
		src.Close() // unblocks Next
	}()

	var filtered uint64
	for n := 1; s.cfg.count == 0 || n <= s.cfg.count; n++ {
		p, err := src.Next()
		if err != nil {
			mu.Lock()
			st := stopped
			mu.Unlock()
			if errors.Is(err, io.EOF) || st {
				break
			}
			return nil, captureError(name, err)
		}
		if e.filter != nil && !e.filter.MatchLength(p.LinkType, p.Data, p.Info.Length) {
			filtered++
			continue
		}
		an.Packet(p)
	}
	an.Flush()
	st := an.Stats()
	st.Filtered += filtered
	if lean {
		return &report.Capture{Name: name, Stats: st, Tally: tally}, nil
	}
	c := &report.Capture{Name: name, Stats: st, Connections: col.conns, Anomalies: col.anomalies}
	for _, conn := range col.conns {
		c.Findings = append(c.Findings, e.rules.evaluate(conn)...)
	}
	return c, nil
}

// hasFileOutputs: some --format writes a file, written at the end from the
// whole facts.
func hasFileOutputs(cfg *config) bool {
	for _, o := range cfg.outputs {
		if o.path != "" {
			return true
		}
	}
	return false
}

// streamFile streams a capture file as if it were live (tests, and a
// replay path for the same code).
func (s *session) streamFile(path string, stdout io.Writer) (*report.Result, error) {
	f, err := capture.Open(path)
	if err != nil {
		return nil, captureError(path, err)
	}
	defer f.Close()
	return s.finishStream(path, f, stdout, nil)
}

// finishStream runs stream, judges the result and prints the summary.
func (s *session) finishStream(name string, src packetSource, stdout io.Writer, fill func(*report.Capture)) (*report.Result, error) {
	c, err := s.stream(name, src, stdout)
	if err != nil {
		return nil, err
	}
	if fill != nil {
		fill(c)
	}
	r := &report.Result{Tool: "tlsscope", Version: versionString(), Rules: s.eng.rules.definitions(), Captures: []*report.Capture{c}}
	s.judge(r)
	if f := streamOutput(s.cfg); f != "" {
		out, _ := report.NewStream(stdout, f, report.Options{Width: tableWidth(s.cfg)})
		if err := out.Summary(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}
