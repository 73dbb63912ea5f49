package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tlsscope/tlsscope"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/capture/live"
	"github.com/tlsscope/tlsscope/report"
)

// captureLive captures on -i: the kernel runs the compiled -f filter,
// packets go through the same pipeline as files (stream), and -w keeps a
// copy.
func captureLive(an *tlsscope.Analyzer, cfg *config, stdout, stderr io.Writer) (*report.Result, error) {
	lt, err := live.LinkType(cfg.iface)
	if err != nil {
		return nil, liveError(cfg.iface, err)
	}
	opts := live.Options{Snaplen: cfg.snaplen, Promisc: !cfg.noPromisc}
	if f := an.Filter(); f != nil {
		prog, err := f.Compile(lt, cfg.snaplen)
		if err != nil {
			return nil, usagef("filter %q on %s: %v", cfg.filter, cfg.iface, err)
		}
		opts.Filter = prog
	}
	h, err := live.Open(cfg.iface, opts)
	if err != nil {
		return nil, liveError(cfg.iface, err)
	}
	defer h.Close()
	if cfg.user != "" {
		if err := live.DropPrivileges(cfg.user); err != nil {
			return nil, usagef("--user %s: %v", cfg.user, err)
		}
	}
	var src tlsscope.Source = h
	if cfg.writeFile != "" {
		f, err := os.Create(cfg.writeFile)
		if err != nil {
			return nil, usagef("-w %s: %v", cfg.writeFile, unwrapPathError(err))
		}
		defer f.Close()
		w, err := capture.NewPcapngWriter(f, lt, cfg.snaplen)
		if err != nil {
			return nil, usagef("-w %s: %v", cfg.writeFile, err)
		}
		defer w.Flush()
		src = &teeSource{Handle: h, w: w}
	}
	return stream(an, cfg, src, stdout, stderr)
}

// stream runs the pipeline over a source that may never end (a live
// interface; a file in the tests), printing each connection when its
// handshake completes or fails and each finding as it becomes known. It
// stops at the end of input, on SIGINT/SIGTERM, after --duration or after
// --count packets, then prints the summary. Unless a file output or
// --ladder needs the whole facts at the end, nothing of a closed
// connection is kept: the summary counts it.
func stream(an *tlsscope.Analyzer, cfg *config, src tlsscope.Source, stdout, stderr io.Writer) (*report.Result, error) {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	if cfg.duration > 0 {
		ctx, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}
	sink := &tlsscope.LiveSink{}
	format := streamOutput(cfg)
	if format != "" {
		out, err := report.NewStream(stdout, format, reportOptions(cfg))
		if err != nil {
			return nil, usagef("%v", err)
		}
		sink.Out = out
	}
	if hasFileOutputs(cfg) || cfg.ladder != "" {
		sink.Keep = &tlsscope.Collector{}
	}
	c, err := an.Run(ctx, src, sink)
	if err != nil {
		return nil, runError(src.Name(), err)
	}
	if sink.Keep != nil {
		sink.Keep.Fill(c)
	}
	r := an.NewResult()
	r.Captures = []*report.Capture{c}
	warnExpired(an, cfg, stderr)
	if format != "" {
		out, _ := report.NewStream(stdout, format, report.Options{Width: tableWidth(cfg)})
		if err := out.Summary(r); err != nil {
			return nil, err
		}
	}
	return r, nil
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

// teeSource writes every packet read to a capture file.
type teeSource struct {
	*live.Handle
	w *capture.PcapngWriter
}

func (t *teeSource) Next() (capture.Packet, error) {
	p, err := t.Handle.Next()
	if err == nil {
		if werr := t.w.Write(p); werr != nil {
			return p, werr
		}
	}
	return p, err
}

func liveError(iface string, err error) error {
	ue := usagef("capturing on %s: %v", iface, err)
	switch {
	case errors.Is(err, live.ErrPermission):
		ue.hint = "run as root, or: sudo setcap cap_net_raw,cap_net_admin=eip $(which tlsscope)"
	case errors.Is(err, live.ErrNoInterface):
		ue.hint = "tlsscope -D lists the interfaces"
	}
	return ue
}

// listInterfaces prints -D: index, name, state and addresses, like
// tcpdump -D.
func listInterfaces(w io.Writer) error {
	ifs, err := live.Interfaces()
	if err != nil {
		return usagef("listing interfaces: %v", err)
	}
	for _, i := range ifs {
		var flags []string
		if i.Up {
			flags = append(flags, "Up")
		}
		if i.Running {
			flags = append(flags, "Running")
		}
		if i.Loopback {
			flags = append(flags, "Loopback")
		}
		var addrs []string
		for _, a := range i.Addrs {
			addrs = append(addrs, a.String())
		}
		fmt.Fprintf(w, "%d.%s [%s]", i.Index, i.Name, strings.Join(flags, ", "))
		if len(addrs) > 0 {
			fmt.Fprintf(w, " %s", strings.Join(addrs, " "))
		}
		fmt.Fprintln(w)
	}
	return nil
}
