package main

import (
	"cmp"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/capture/filter"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// engine is the one analysis path, shared by files, live capture and
// baseline: packets -> filter -> decode.Analyzer -> rules.
type engine struct {
	cfg    *config
	filter *filter.Filter
	rules  *ruleSet
}

func newEngine(cfg *config, now time.Time) (*engine, error) {
	f, err := parseFilter(cfg.filter)
	if err != nil {
		return nil, err
	}
	rs, err := newRuleSet(cfg, now)
	if err != nil {
		return nil, err
	}
	return &engine{cfg: cfg, filter: f, rules: rs}, nil
}

// parseFilter reads -f; a bad expression is a usage error carrying the
// filter's own message.
func parseFilter(expr string) (*filter.Filter, error) {
	if expr == "" {
		return nil, nil
	}
	f, err := filter.Parse(expr)
	if err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) {
			ue := usagef("bad filter %q: %s (column %d)", expr, fe.Msg, fe.Column)
			ue.hint = fe.Hint
			return nil, ue
		}
		return nil, usagef("bad filter %q: %v", expr, err)
	}
	return f, nil
}

func (e *engine) decodeConfig() decode.Config {
	return decode.Config{
		MaxFlows:         e.cfg.maxFlows,
		MaxBufferedBytes: int(e.cfg.maxBuffer),
		IdleTimeout:      e.cfg.idleTimeout,
		ShowSecrets:      e.cfg.showSecrets,
	}
}

// analyzer is a decode.Analyzer or a decode.Parallel.
type analyzer interface {
	SetCapture(name string)
	Packet(p capture.Packet)
	Note(an facts.Anomaly)
	Flush()
	Stats() facts.Stats
	Close()
}

type single struct{ *decode.Analyzer }

func (single) Close() {}

// newAnalyzer spreads flows over --workers Analyzers (decode.Parallel gives
// the same facts, ids and order as one), or uses one when workers is 1.
func (e *engine) newAnalyzer(h decode.Handler) analyzer {
	n := e.cfg.workers
	if n <= 0 {
		n = min(runtime.GOMAXPROCS(0), maxWorkers)
	}
	if n == 1 {
		return single{decode.New(e.decodeConfig(), h)}
	}
	return decode.NewParallel(e.decodeConfig(), h, n)
}

// maxWorkers caps the default worker count: past it, reading the file is
// the bottleneck.
const maxWorkers = 8

// collector gathers one input's facts.
type collector struct {
	conns     []*facts.Connection
	anomalies []facts.Anomaly
}

func (c *collector) handler() decode.Handler {
	return decode.Handler{
		// The Analyzer's Connection is valid only during the call: keep a
		// copy (what it points to is not reused).
		Connection: func(conn *facts.Connection) { cc := *conn; c.conns = append(c.conns, &cc) },
		Anomaly:    func(a facts.Anomaly) { c.anomalies = append(c.anomalies, a) },
	}
}

// progressEvery is how many packets pass between progress updates.
const progressEvery = 4096

// file analyses one capture file, keeping its whole facts.
func (e *engine) file(path string, prog *progress) (*report.Capture, error) {
	col := &collector{}
	h := col.handler()
	st, err := e.read(path, prog, h, func() int { return len(col.conns) })
	if err != nil {
		return nil, err
	}
	col.sort()
	c := &report.Capture{Name: path, Stats: st, Connections: col.conns, Anomalies: col.anomalies}
	for _, conn := range col.conns {
		c.Findings = append(c.Findings, e.rules.evaluate(conn)...)
	}
	return c, nil
}

// read runs one capture file through the filter and the analyzer, which
// calls h (the file reader's anomalies included, through Note); closed
// counts connections for the progress line. It returns the capture's
// counters.
func (e *engine) read(path string, prog *progress, h decode.Handler, closed func() int) (facts.Stats, error) {
	f, err := capture.Open(path)
	if err != nil {
		return facts.Stats{}, captureError(path, err)
	}
	defer f.Close()
	an := e.newAnalyzer(h)
	defer an.Close()
	an.SetCapture(path)
	// The reader's anomalies go through the analyzer, which counts them and
	// hands them on in order with its own, for any number of workers.
	f.OnAnomaly = func(a capture.Anomaly) {
		an.Note(facts.Anomaly{Kind: a.Kind, Offset: a.Offset, Detail: a.Detail, Capture: path})
	}
	prog.begin(path, f.Size())
	var filtered uint64
	for n := 1; ; n++ {
		p, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			prog.end()
			return facts.Stats{}, captureError(path, err)
		}
		if n%progressEvery == 0 {
			prog.update(f.Offset(), closed())
		}
		if e.filter != nil && !e.filter.MatchLength(p.LinkType, p.Data, p.Info.Length) {
			filtered++
			continue
		}
		an.Packet(p)
	}
	an.Flush()
	prog.end()
	st := an.Stats()
	st.Filtered += filtered
	return st, nil
}

// sort puts connections in id order (the order of their first packet)
// and anomalies in time order, so the report does not depend on when
// flows happened to close or on how many workers decoded them.
func (c *collector) sort() {
	slices.SortStableFunc(c.conns, func(a, b *facts.Connection) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortStableFunc(c.anomalies, func(a, b facts.Anomaly) int {
		if x := a.Time.Compare(b.Time); x != 0 {
			return x
		}
		if x := cmp.Compare(a.ConnID, b.ConnID); x != 0 {
			return x
		}
		if x := cmp.Compare(a.Offset, b.Offset); x != 0 {
			return x
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
}

// captureError words a capture error as "reading FILE: what is wrong".
func captureError(path string, err error) error {
	var ce *capture.Error
	if errors.As(err, &ce) {
		return usagef("reading %s: %s", ce.Path, strings.TrimPrefix(ce.Msg, "is "))
	}
	return usagef("reading %s: %v", path, err)
}
