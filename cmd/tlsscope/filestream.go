package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// streamsFiles: every output is NDJSON and nothing needs the whole result
// at the end (no --ladder), so files are analysed with each connection's
// lines written as it closes and nothing of it kept afterwards; memory
// stays flat however large the capture.
func streamsFiles(cfg *config) bool {
	if cfg.keepAll || cfg.ladder != "" || len(cfg.outputs) == 0 {
		return false
	}
	for _, o := range cfg.outputs {
		if o.format != "ndjson" {
			return false
		}
	}
	return true
}

// prepared is what a worker made of a closed connection: its NDJSON lines
// and its findings (keep false when --ja4/--sni leave it out).
type prepared struct {
	keep  bool
	lines *[]byte // from linesPool; back to it once written
	err   error
	fs    []facts.Finding // the connection's findings, for the tally
}

// linesPool holds the buffers connections are rendered into: a worker
// takes one, the writer returns it, so in steady state rendering does not
// grow new buffers. A buffer grown past maxPooledLines (a connection with
// thousands of HTTP requests) is left to the collector.
var linesPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledLines = 256 << 10

// streamFiles analyses files writing NDJSON as it goes. Per capture: each
// connection's group (connection, HTTP, findings) in the order the
// connections close, anomalies as they are seen, then the capture's
// summary; the run's summary last. Files are written beside and renamed
// when the run succeeds, as writeFile does.
func (s *session) streamFiles(files []string, stdout io.Writer) (*report.Result, error) {
	opt := report.Options{ShowSecrets: s.cfg.showSecrets, Width: tableWidth(s.cfg), FailOn: junitFailOn(s.cfg)}
	var outs []*outFile
	defer func() {
		for _, o := range outs {
			o.abort()
		}
	}()
	var ws []io.Writer
	var bufs []*bufio.Writer
	for _, o := range s.cfg.outputs {
		var w io.Writer = stdout
		if o.path != "" {
			of, err := createOutput(o.path)
			if err != nil {
				return nil, err
			}
			outs = append(outs, of)
			w = of.f
		}
		bw := bufio.NewWriterSize(w, 64<<10)
		bufs = append(bufs, bw)
		ws = append(ws, bw)
	}
	out, err := report.NewStream(io.MultiWriter(ws...), "ndjson", opt)
	if err != nil {
		return nil, err
	}
	r := &report.Result{Tool: "tlsscope", Version: versionString(), Rules: s.eng.rules.definitions()}
	for _, f := range files {
		c, err := s.streamCapture(f, out, opt)
		if err != nil {
			return nil, err
		}
		r.Captures = append(r.Captures, c)
	}
	s.warnExpired()
	if err := out.Summary(r); err != nil {
		return nil, s.writeError(err)
	}
	for _, bw := range bufs {
		if err := bw.Flush(); err != nil {
			return nil, s.writeError(err)
		}
	}
	for _, o := range outs {
		if err := o.commit(); err != nil {
			return nil, err
		}
	}
	outs = nil
	return r, nil
}

func (s *session) writeError(err error) error {
	return usagef("writing ndjson: %v", err)
}

// streamCapture analyses one file into out; the capture returned carries
// only its counters and tally.
func (s *session) streamCapture(path string, out *report.Stream, opt report.Options) (*report.Capture, error) {
	e := s.eng
	tally := report.NewTally()
	closed := 0
	var werr error
	write := func(err error) {
		if werr == nil {
			werr = err
		}
	}
	selecting := s.cfg.ja4 != "" || s.cfg.sni != ""
	// With --ja4/--sni a connection's anomalies wait for its close, when
	// it is known whether it is kept (pending holds open connections'
	// only).
	pending := map[uint64][]facts.Anomaly{}
	anomaly := func(a facts.Anomaly) {
		if selecting && a.ConnID != 0 {
			pending[a.ConnID] = append(pending[a.ConnID], a)
			return
		}
		write(out.Anomaly(a))
	}
	h := decode.Handler{
		Anomaly: anomaly,
		// Judged and rendered on the worker that decoded the connection.
		Prepare: func(c *facts.Connection) any {
			if !s.keep(c) {
				return prepared{}
			}
			fs := s.findings(c)
			b := linesPool.Get().(*[]byte)
			var err error
			*b, err = report.AppendConnectionLines((*b)[:0], c, fs, opt)
			return prepared{keep: true, lines: b, err: err, fs: fs}
		},
		Prepared: func(c *facts.Connection, v any) {
			closed++
			p := v.(prepared)
			as := pending[c.ID]
			delete(pending, c.ID)
			if !p.keep {
				return
			}
			tally.AddConnection(c)
			tally.AddFindings(p.fs)
			write(p.err)
			write(out.Lines(*p.lines))
			if cap(*p.lines) <= maxPooledLines {
				linesPool.Put(p.lines)
			}
			for _, a := range as {
				write(out.Anomaly(a))
			}
		},
	}
	st, err := e.read(path, s.prog, h, func() int { return closed })
	if err != nil {
		return nil, err
	}
	if werr != nil {
		return nil, s.writeError(werr)
	}
	c := &report.Capture{Name: path, Stats: st, Tally: tally}
	if err := out.CaptureSummary(c); err != nil {
		return nil, s.writeError(err)
	}
	return c, nil
}

// findings judges one connection: the rules, then the policy's checks,
// overrides and suppressions, most severe first (the order the whole
// result lists them in).
func (s *session) findings(c *facts.Connection) []facts.Finding {
	fs := s.eng.rules.evaluate(c)
	if s.pol != nil {
		fs = s.pol.Apply(append(fs, s.pol.Check(c)...), s.now).Kept
	}
	report.SortFindings(fs)
	return fs
}

// warnExpired names the policy's expired suppressions (judge does the same
// for a whole result).
func (s *session) warnExpired() {
	if s.pol == nil || s.cfg.quiet {
		return
	}
	for _, e := range s.pol.Apply(nil, s.now).Expired {
		warnf(s.stderr, "%s: suppression of %s expired on %s (reason: %s)", s.cfg.policy, describeSuppression(e), e.Expires, e.Reason)
	}
}

// outFile is an output being written: a temporary file beside the named
// one, renamed over it by commit, or a device or pipe written in place.
type outFile struct {
	name string
	f    *os.File
	tmp  bool
}

func createOutput(name string) (*outFile, error) {
	// A device or a pipe (-o /dev/stdout, a FIFO) is written in place.
	if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return nil, usagef("writing %s: %v", name, unwrapPathError(err))
		}
		return &outFile{name: name, f: f}, nil
	}
	if dir := filepath.Dir(name); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, usagef("writing %s: %v", name, unwrapPathError(err))
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return nil, usagef("writing %s: %v", name, unwrapPathError(err))
	}
	return &outFile{name: name, f: tmp, tmp: true}, nil
}

// commit closes the output and, for a temporary file, renames it over the
// named one.
func (o *outFile) commit() error {
	f := o.f
	o.f = nil
	if err := f.Close(); err != nil {
		if o.tmp {
			os.Remove(f.Name())
		}
		return usagef("writing %s: %v", o.name, err)
	}
	if !o.tmp {
		return nil
	}
	defer os.Remove(f.Name()) // gone once renamed
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return usagef("writing %s: %v", o.name, err)
	}
	if err := os.Rename(f.Name(), o.name); err != nil {
		return usagef("writing %s: %v", o.name, unwrapPathError(err))
	}
	return nil
}

// abort closes an output not committed and removes its temporary file.
func (o *outFile) abort() {
	if o.f == nil {
		return
	}
	o.f.Close()
	if o.tmp {
		os.Remove(o.f.Name())
	}
	o.f = nil
}
