package tlsscope

import (
	"cmp"
	"context"
	"os"
	"slices"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/capture/live"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/keylog"
	"github.com/tlsscope/tlsscope/report"
)

// Source is where packets come from: a capture file (OpenFile), a live
// interface (capture/live's Handle), or anything else with these
// methods. Next returns io.EOF at the end.
//
// A Source that also has Offset() and Size() (a file) reports how far it
// has got through Config.Progress; one that has Stats() (a live Handle)
// gives the kernel's counters to the capture's Stats.
type Source interface {
	Name() string
	Next() (capture.Packet, error)
	Close() error
}

// OpenFile opens a capture file (pcap or pcapng, gzip'd or not,
// recognised by its first bytes), or standard input for "-" (tcpdump -w -
// | tlsscope -r -). A file that cannot be used is a *capture.Error naming
// it and what is wrong.
func OpenFile(path string) (*capture.File, error) {
	if path == "-" {
		return capture.NewReader(os.Stdin, "-")
	}
	return capture.Open(path)
}

// Sink takes what Run finds. Connection is called with each connection
// when it closes (FIN, RST, idle, evicted, or the end of the input), in
// the order connections close, with the findings judged on it; the
// connection is valid only during the call (copy the struct to keep it;
// what it points to is not reused). A Sink's error stops the run, which
// returns it.
//
// A Sink may also be an AnomalySink, a HandshakeSink or a Preparer.
type Sink interface {
	Connection(c *facts.Connection, fs []facts.Finding) error
}

// AnomalySink is a Sink that takes anomalies (damage in the input,
// limits hit), as they are found. With Config.JA4 or Config.SNI set, a
// connection's anomalies come after the connection, and only when it is
// kept.
type AnomalySink interface {
	Anomaly(facts.Anomaly) error
}

// HandshakeSink is a Sink that takes a connection as soon as its TLS
// handshake is known (completed or failed) and each time a cleartext
// secret is seen on it, with the findings judged so far; live capture
// prints them as they happen. The connection is still being filled.
type HandshakeSink interface {
	Handshake(c *facts.Connection, fs []facts.Finding) error
}

// Preparer is a Sink whose work per connection (rendering it, say) can be
// spread over the decoding workers: Prepare is called on the worker that
// decoded the connection, concurrently with other calls, and Prepared then
// takes its result on Run's goroutine in the place of Connection.
type Preparer interface {
	Prepare(c *facts.Connection, fs []facts.Finding) any
	Prepared(c *facts.Connection, fs []facts.Finding, v any) error
}

// Run reads src to its end, or until ctx is done (then src is closed to
// stop it and Run returns what it has, without error: that is how a live
// capture stops), and hands every connection the Config selects, judged,
// to sink. It keeps nothing of a connection once the sink has taken it,
// so memory does not grow with the input. The Capture it returns carries
// the counters and the Tally of what sink was given, no connections.
func (a *Analyzer) Run(ctx context.Context, src Source, sink Sink) (*Capture, error) {
	r := &runner{a: a, sink: sink, tally: report.NewTally(), selecting: a.cfg.JA4 != "" || a.cfg.SNI != ""}
	if r.selecting {
		r.pending = map[uint64][]facts.Anomaly{}
		r.decided = map[uint64]bool{}
	}
	r.anomalies, _ = sink.(AnomalySink)
	r.preparer, _ = sink.(Preparer)
	name := src.Name()
	var dsb *keylog.Log
	if !a.cfg.NoCaptureKeys {
		dsb = keylog.New() // the capture's own secrets, if it has any
	}
	eng := a.engine(r.handler(), a.keyLogs(dsb))
	defer eng.Close()
	eng.SetCapture(name)
	stop := context.AfterFunc(ctx, func() { src.Close() }) // unblocks Next
	defer stop()
	pos, _ := src.(interface {
		Offset() int64
		Size() int64
	})
	progress := func(done bool) {
		if a.cfg.Progress == nil {
			return
		}
		p := Progress{Name: name, Connections: r.closed, Done: done}
		if pos != nil {
			p.Offset, p.Size = pos.Offset(), pos.Size()
		}
		a.cfg.Progress(p)
	}
	progress(false)
	opt := decode.ReadOptions{Filter: a.filter, MaxPackets: a.cfg.MaxPackets, Name: name,
		Abort: func() error { return r.err }}
	if dsb != nil {
		opt.Secrets = func(s capture.Secrets) {
			if s.Type == capture.SecretsTLSKeyLog {
				dsb.Add(s.Data, name+" (Decryption Secrets Block)")
			}
		}
	}
	if a.cfg.Write != nil {
		opt.Write = func(p capture.Packet) error {
			err := a.cfg.Write(p)
			r.fail(err)
			return r.err
		}
	}
	if a.cfg.Progress != nil {
		opt.Progress = func(int) { progress(false) }
	}
	st, err := decode.Read(ctx, src, eng, opt)
	progress(true)
	if r.err != nil {
		return nil, r.err
	}
	if err != nil {
		return nil, err
	}
	if k, ok := src.(interface {
		Stats() (live.Stats, error)
	}); ok {
		if ks, err := k.Stats(); err == nil {
			st.KernelReceived, st.KernelDropped = ks.Received, ks.Dropped
		}
	}
	return &Capture{Name: name, Stats: st, Tally: r.tally}, nil
}

// engine is one decode.Analyzer, or a decode.Parallel of Config.Workers.
func (a *Analyzer) engine(h decode.Handler, keys keylog.Logs) decode.Engine {
	if n := a.workers(); n > 1 {
		return decode.NewParallel(a.decodeConfig(keys), h, n)
	}
	return decode.New(a.decodeConfig(keys), h)
}

// runner is one Run's state between decode's Handler and the sink.
type runner struct {
	a         *Analyzer
	sink      Sink
	anomalies AnomalySink
	preparer  Preparer
	tally     *report.Tally
	closed    int
	err       error // the sink's first error

	// With a selection, a connection's anomalies wait for its close
	// (pending), when it is known whether it is kept; decided remembers
	// that for anomalies that come after the close, for the last
	// maxDecided connections.
	selecting bool
	pending   map[uint64][]facts.Anomaly
	decided   map[uint64]bool
	order     []uint64 // of decided, oldest first
}

// maxDecided bounds how many closed connections' selection is remembered
// for anomalies that arrive after the close (a late alert, a trailing
// segment); older ones' late anomalies are dropped.
const maxDecided = 1 << 16

// judged is what a worker made of a closed connection.
type judged struct {
	keep bool
	fs   []facts.Finding
	v    any // the Preparer's
}

func (r *runner) fail(err error) {
	if err != nil && r.err == nil {
		r.err = &SinkError{Err: err}
	}
}

// SinkError is a Sink's error, as Run returns it.
type SinkError struct{ Err error }

func (e *SinkError) Error() string { return e.Err.Error() }
func (e *SinkError) Unwrap() error { return e.Err }

func (r *runner) handler() decode.Handler {
	a := r.a
	h := decode.Handler{
		// Judged (and prepared) on the worker that decoded the connection.
		Prepare: func(c *facts.Connection) any {
			if !a.selected(c) {
				return judged{}
			}
			j := judged{keep: true, fs: a.Judge(c)}
			if r.preparer != nil {
				j.v = r.preparer.Prepare(c, j.fs)
			}
			return j
		},
		Prepared: r.prepared,
	}
	if r.anomalies != nil {
		h.Anomaly = r.anomaly
	}
	if hs, ok := r.sink.(HandshakeSink); ok {
		h.Handshake = func(c *facts.Connection) {
			if a.selected(c) {
				r.fail(hs.Handshake(c, a.Judge(c)))
			}
		}
		h.Secret = func(c *facts.Connection, _ facts.Secret) { h.Handshake(c) }
	}
	return h
}

func (r *runner) prepared(c *facts.Connection, v any) {
	r.closed++
	j := v.(judged)
	var late []facts.Anomaly
	if r.selecting {
		late = r.pending[c.ID]
		delete(r.pending, c.ID)
		r.decide(c.ID, j.keep)
	}
	if !j.keep {
		return
	}
	r.tally.AddConnection(c)
	r.tally.AddFindings(j.fs)
	if r.preparer != nil {
		r.fail(r.preparer.Prepared(c, j.fs, j.v))
	} else {
		r.fail(r.sink.Connection(c, j.fs))
	}
	for _, an := range late {
		r.fail(r.anomalies.Anomaly(an))
	}
}

func (r *runner) anomaly(an facts.Anomaly) {
	if r.selecting && an.ConnID != 0 {
		keep, ok := r.decided[an.ConnID]
		if !ok {
			r.pending[an.ConnID] = append(r.pending[an.ConnID], an)
			return
		}
		if !keep {
			return
		}
	}
	r.fail(r.anomalies.Anomaly(an))
}

func (r *runner) decide(id uint64, keep bool) {
	if len(r.order) == maxDecided {
		delete(r.decided, r.order[0])
		r.order = r.order[1:]
	}
	r.decided[id] = keep
	r.order = append(r.order, id)
}

// Collector is a Sink that keeps everything: the connections (copies),
// their findings and the anomalies. AnalyzeFile collects with one.
type Collector struct {
	conns     []*facts.Connection
	findings  []facts.Finding
	anomalies []facts.Anomaly
}

// Connection keeps a copy of c and its findings.
func (k *Collector) Connection(c *facts.Connection, fs []facts.Finding) error {
	cc := *c // valid only during the call; what it points to is not reused
	k.conns = append(k.conns, &cc)
	k.findings = append(k.findings, fs...)
	return nil
}

// Anomaly keeps an.
func (k *Collector) Anomaly(an facts.Anomaly) error {
	k.anomalies = append(k.anomalies, an)
	return nil
}

// Fill gives c what was collected, in the order the formats list it:
// connections by id (the order of their first packet), anomalies by time,
// findings most severe first; so the report depends neither on when flows
// happened to close nor on how many workers decoded them. c's Tally is
// dropped: the summary counts the connections themselves.
func (k *Collector) Fill(c *Capture) {
	slices.SortStableFunc(k.conns, func(a, b *facts.Connection) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortStableFunc(k.anomalies, func(a, b facts.Anomaly) int {
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
	report.SortFindings(k.findings)
	c.Connections, c.Findings, c.Anomalies, c.Tally = k.conns, k.findings, k.anomalies, nil
	*k = Collector{}
}

// AnalyzeFile reads one capture file whole and returns its Result (one
// Capture). A file that cannot be used is a *capture.Error; a cancelled
// ctx returns ctx's error.
func (a *Analyzer) AnalyzeFile(ctx context.Context, path string) (*Result, error) {
	return a.AnalyzeFiles(ctx, path)
}

// AnalyzeFiles reads capture files one after the other into one Result,
// a Capture each.
func (a *Analyzer) AnalyzeFiles(ctx context.Context, paths ...string) (*Result, error) {
	res := a.newResult()
	for _, p := range paths {
		c, err := a.analyzeFile(ctx, p)
		if err != nil {
			return nil, err
		}
		res.Captures = append(res.Captures, c)
	}
	return res, nil
}

func (a *Analyzer) analyzeFile(ctx context.Context, path string) (*Capture, error) {
	var k Collector
	c, err := a.runFile(ctx, path, &k)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	k.Fill(c)
	return c, nil
}

// NewResult returns an empty Result naming the tool, its version and the
// rules, for a caller that adds the Captures of its own Runs.
func (a *Analyzer) NewResult() *Result { return a.newResult() }
