package tlsscope

import (
	"context"
	"fmt"
	"io"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/capture/live"
	"github.com/tlsscope/tlsscope/report"
)

// StreamFiles analyses capture files one after the other, writing NDJSON
// to w as it goes: per capture, each connection's group (connection, http
// and finding lines) in the order the connections close and anomalies as
// they are seen, then the capture's summary; the run's summary last. It
// keeps nothing of a connection once written, so memory stays flat
// however large the captures. The Result holds each capture's counters
// and tally, no connections. An error writing to w is a *SinkError; a
// capture that cannot be read is a *capture.Error, or an error naming it.
func (a *Analyzer) StreamFiles(ctx context.Context, w io.Writer, opt report.Options, paths ...string) (*Result, error) {
	return a.StreamFilesAs(ctx, w, "ndjson", opt, paths...)
}

// StreamFilesAs is StreamFiles in another incremental format
// (report.Format.Incremental: ndjson, ecs or zeek; the last two write no
// summaries).
func (a *Analyzer) StreamFilesAs(ctx context.Context, w io.Writer, format string, opt report.Options, paths ...string) (*Result, error) {
	out, err := report.NewStream(w, format, opt)
	if err != nil {
		return nil, err
	}
	sink := &LinesSink{Out: out, Options: opt}
	res := a.newResult()
	for _, path := range paths {
		c, err := a.runFile(ctx, path, sink)
		if err != nil {
			return nil, err
		}
		if err := out.CaptureSummary(c); err != nil {
			return nil, &SinkError{Err: err}
		}
		res.Captures = append(res.Captures, c)
	}
	if err := out.Summary(res); err != nil {
		return nil, &SinkError{Err: err}
	}
	return res, ctx.Err()
}

// runFile runs one capture file into sink.
func (a *Analyzer) runFile(ctx context.Context, path string, sink Sink) (*Capture, error) {
	f, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := a.Run(ctx, f, sink)
	if err != nil {
		if _, ok := err.(*SinkError); !ok {
			if _, ok := err.(*capture.Error); !ok {
				err = fmt.Errorf("reading %s: %w", path, err)
			}
		}
		return nil, err
	}
	return c, nil
}

// StreamLive reads src until it ends or ctx is done (a live interface,
// stopped by a signal or a timer), printing to out, when it is not nil,
// each connection once its handshake is known and each finding once as it
// becomes known (LiveSink). With keep the Result holds every
// connection's facts, for outputs written at the end; without, only the
// counters and tally, and nothing of a closed connection is kept however
// long the capture runs.
func (a *Analyzer) StreamLive(ctx context.Context, src Source, out *report.Stream, keep bool) (*Result, error) {
	sink := &LiveSink{Out: out}
	if keep {
		sink.Keep = &Collector{}
	}
	c, err := a.Run(ctx, src, sink)
	if err != nil {
		return nil, err
	}
	if keep {
		sink.Keep.Fill(c)
	}
	res := a.newResult()
	res.Captures = []*Capture{c}
	return res, nil
}

// OpenInterface opens a live capture on iface with the Analyzer's filter
// compiled to classic BPF for the interface's link type and run in the
// kernel. A filter the link type cannot take is a *ConfigError (Field
// "Filter"); other errors are capture/live's (live.ErrPermission,
// live.ErrNoInterface).
func (a *Analyzer) OpenInterface(iface string, opts live.Options) (*live.Handle, error) {
	lt, err := live.LinkType(iface)
	if err != nil {
		return nil, err
	}
	if a.filter != nil {
		prog, err := a.filter.Compile(lt, opts.Snaplen)
		if err != nil {
			return nil, &ConfigError{Field: "Filter", Err: fmt.Errorf("on %s: %w", iface, err)}
		}
		opts.Filter = prog
	}
	return live.Open(iface, opts)
}
